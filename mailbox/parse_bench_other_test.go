//go:build !unix

package mailbox_test

import "time"

// processCPU is not measured on this system; the CPU metric is omitted.
func processCPU() time.Duration { return 0 }
