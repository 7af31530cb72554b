//go:build linux

package dovecot

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is the unit of the times in /proc/<pid>/stat (USER_HZ, 100
// on Linux).
const clockTick = 10 * time.Millisecond

// CPUUsed returns the CPU time (user and system) used so far by the
// calling process and by the server's Dovecot: its master process, its
// live children (imap, imap-login, auth...) and the children it has
// reaped. A benchmark reads it before and after what it measures.
func (s *Server) CPUUsed() (self, dovecot time.Duration) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	pidFile, err := os.ReadFile(filepath.Join(s.Dir, "run", "master.pid"))
	if err != nil {
		return self, 0
	}
	master := strings.TrimSpace(string(pidFile))
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		stat := string(b)
		rp := strings.LastIndexByte(stat, ')')
		if rp < 0 {
			continue
		}
		// Fields after the command: state ppid ... utime(14) stime(15)
		// cutime(16) cstime(17), numbered from pid = 1.
		f := strings.Fields(stat[rp+1:])
		if len(f) < 15 {
			continue
		}
		pid := filepath.Base(filepath.Dir(p))
		tick := func(i int) time.Duration {
			n, _ := strconv.ParseInt(f[i-3], 10, 64)
			return time.Duration(n) * clockTick
		}
		switch {
		case pid == master:
			dovecot += tick(14) + tick(15) + tick(16) + tick(17)
		case f[1] == master:
			dovecot += tick(14) + tick(15)
		}
	}
	return self, dovecot
}
