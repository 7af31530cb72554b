package postgres

import (
	"time"

	"github.com/eradicate-dev/eradicate/internal/testenv/servertest"
)

// CPUTime returns the CPU time (user and system) the server's processes
// have used: the postmaster, its running children (backends, writers)
// and the children that have ended. It reads /proc; benchmarks report it
// beside their own CPU time, a figure that a machine busy with other work
// does not skew as it does wall time.
func (s *Server) CPUTime() (time.Duration, error) {
	return servertest.TreeCPU(s.run.Pid())
}
