//go:build !linux

package imapstore_test

import (
	"time"

	"github.com/eradicate-dev/eradicate/internal/testenv/dovecot"
)

// cpuUsed is not measured on this platform.
func cpuUsed(*dovecot.Server) (self, dovecot time.Duration) { return 0, 0 }
