//go:build linux

package dovecot

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/eradicate-dev/eradicate/internal/testenv/cputime"
	"github.com/eradicate-dev/eradicate/internal/testenv/servertest"
)

// CPUUsed returns the CPU time (user and system) used so far by the
// calling process and by the server's Dovecot: its master process, its
// live children (imap, imap-login, auth...) and the children it has
// reaped. A benchmark reads it before and after what it measures.
func (s *Server) CPUUsed() (self, dovecot time.Duration) {
	self, _ = cputime.Process()
	pidFile, err := os.ReadFile(filepath.Join(s.Dir, "run", "master.pid"))
	if err != nil {
		return self, 0
	}
	master, err := strconv.Atoi(strings.TrimSpace(string(pidFile)))
	if err != nil {
		return self, 0
	}
	dovecot, _ = servertest.TreeCPU(master)
	return self, dovecot
}
