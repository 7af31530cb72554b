//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly || windows)

package journal

import "os"

// lockFile creates the lock file at path but takes no lock: this platform
// has no lock of an open file that the process's end releases (POSIX
// record locks are per process and dropped by any close of the file, an
// O_EXCL file would outlive a crash and lock the journal out). Two
// FileJournals on one file are then not detected here; callers must
// ensure it themselves.
func lockFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}

// journalLocking says whether two opens of one journal exclude each other
// on this platform.
const journalLocking = false
