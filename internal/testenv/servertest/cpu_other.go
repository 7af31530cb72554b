//go:build !linux

package servertest

import (
	"errors"
	"time"
)

// TreeCPU returns the CPU time of a process and its children; it is known
// on Linux only.
func TreeCPU(root int) (time.Duration, error) {
	return 0, errors.New("servertest: CPU times are read from /proc, on Linux only")
}
