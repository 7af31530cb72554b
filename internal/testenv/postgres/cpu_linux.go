package postgres

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// clockTick is the unit of the CPU times of /proc/PID/stat (USER_HZ,
// 100 on Linux).
const clockTick = 10 * time.Millisecond

// CPUTime returns the CPU time (user and system) the server's processes
// have used: the postmaster, its running children (backends, writers)
// and the children that have ended. It reads /proc; benchmarks report it
// beside their own CPU time, a figure that a machine busy with other work
// does not skew as it does wall time.
func (s *Server) CPUTime() (time.Duration, error) {
	root := s.cmd.Process.Pid
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return 0, err
	}
	var ticks int64
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // ended meanwhile
		}
		// pid (comm) state ppid ... : comm may hold spaces and ')'.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := bytes.Fields(b[i+1:])
		if len(f) < 15 {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		ppid, _ := strconv.Atoi(string(f[1]))
		if pid != root && ppid != root {
			continue
		}
		last := 13 // utime, stime (fields 14 and 15 of stat)
		if pid == root {
			last = 15 // and the ended children's cutime, cstime
		}
		for k := 11; k <= last; k++ {
			n, err := strconv.ParseInt(string(f[k]), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("postgres: %s: %w", path, err)
			}
			ticks += n
		}
	}
	return time.Duration(ticks) * clockTick, nil
}
