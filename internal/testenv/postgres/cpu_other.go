//go:build !linux

package postgres

import (
	"errors"
	"time"
)

// CPUTime returns the CPU time the server's processes have used; it is
// known on Linux only.
func (s *Server) CPUTime() (time.Duration, error) {
	return 0, errors.New("postgres: the server's CPU time is read from /proc, on Linux only")
}
