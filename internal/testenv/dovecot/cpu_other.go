//go:build !linux

package dovecot

import "time"

// CPUUsed is not measured on this platform: it returns zeros.
func (s *Server) CPUUsed() (self, dovecot time.Duration) { return 0, 0 }
