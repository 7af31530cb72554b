package servertest

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

// TreeCPU returns the CPU time (user and system) used by the process root
// and its running children, each with the children it has waited for
// (the ended ones). It reads /proc; benchmarks report a server's CPU time
// beside their own, a figure that a machine busy with other work does not
// skew as it does wall time.
func TreeCPU(root int) (time.Duration, error) {
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
		// utime, stime, cutime, cstime: fields 14 to 17 of stat.
		for k := 11; k <= 14; k++ {
			n, err := strconv.ParseInt(string(f[k]), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("servertest: %s: %w", path, err)
			}
			ticks += n
		}
	}
	return time.Duration(ticks) * clockTick, nil
}
