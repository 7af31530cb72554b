// Package cputime reads the CPU time of the process, for benchmarks that
// report a rate per CPU-second: on a shared machine the wall-clock rate
// depends on the load, the rate per CPU-second much less.
package cputime

import "time"

// Process returns the user and system CPU time the process has used so
// far, and false where the platform does not report it.
func Process() (time.Duration, bool) {
	ns, ok := process()
	return time.Duration(ns), ok
}
