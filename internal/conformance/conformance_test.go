package conformance_test

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/conformance"
)

type harness struct {
	label string
	skip  map[string]string
}

func TestRun(t *testing.T) {
	var ran, built []string
	record := func(t *testing.T, e string) { ran = append(ran, t.Name()+" "+e) }
	groups := []conformance.Group[string]{
		{Name: "A", Cases: []conformance.Case[string]{{Name: "One", Run: record}, {Name: "Two", Run: record}}},
		{Name: "B", Cases: []conformance.Case[string]{{Name: "One", Run: record}}},
	}
	newEnv := func(t *testing.T, h *harness) string {
		built = append(built, t.Name())
		return h.label
	}
	skips := func(h *harness) map[string]string { return h.skip }
	n := 0
	t.Run("suite", func(t *testing.T) {
		conformance.Run(t, groups, func(t *testing.T) *harness {
			n++
			return &harness{label: fmt.Sprint("h", n), skip: map[string]string{"A/Two": "not supported"}}
		}, newEnv, skips)
	})
	assert.Equal(t, []string{"TestRun/suite/A/One h1", "TestRun/suite/B/One h3"}, ran,
		"each case gets a fresh harness, and a skipped case does not run")
	assert.Equal(t, []string{"TestRun/suite/A/One", "TestRun/suite/A/Two", "TestRun/suite/B/One"}, built,
		"the environment of a skipped case is built too, so its cleanups run")
}

func TestImplements(t *testing.T) {
	var s fmt.Stringer
	t.Run("has", func(t *testing.T) { s = conformance.Implements[fmt.Stringer](t, time.Second) })
	require.NotNil(t, s)
	assert.Equal(t, "1s", s.String())

	after := false
	t.Run("lacks", func(t *testing.T) {
		defer func() { assert.True(t, t.Skipped(), "a value without the interface skips the case") }()
		conformance.Implements[io.Reader](t, 42)
		after = true
	})
	assert.False(t, after, "the case stops at the skip")
}
