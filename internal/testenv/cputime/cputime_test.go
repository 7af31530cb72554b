package cputime_test

import (
	"testing"

	"github.com/eradicate-dev/eradicate/internal/testenv/cputime"
)

func TestProcessGrows(t *testing.T) {
	t0, ok := cputime.Process()
	if !ok {
		t.Skip("CPU time is not reported on this platform")
	}
	x := 0
	for i := range 50_000_000 {
		x ^= i * i
	}
	t1, _ := cputime.Process()
	if t1 <= t0 {
		t.Fatalf("CPU time %v then %v after a busy loop (%d)", t0, t1, x)
	}
}
