//go:build !linux

package imapstore_test

import (
	"time"

	"github.com/eradicate-dev/eradicate/internal/dovecottest"
)

// cpuUsed is not measured on this platform.
func cpuUsed(*dovecottest.Server) (self, dovecot time.Duration) { return 0, 0 }
