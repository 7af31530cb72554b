//go:build windows

package journal

import (
	"errors"
	"os"
	"syscall"
)

// errorSharingViolation is ERROR_SHARING_VIOLATION: the file is open
// elsewhere with a share mode that excludes this open.
const errorSharingViolation syscall.Errno = 32

// lockFile opens the lock file at path, creating it, with no sharing: no
// other handle, of this process or another, can open it until this one is
// closed, which Windows also does when the process ends. It returns
// errLocked when another handle has it open.
func lockFile(path string) (*os.File, error) {
	p, err := syscall.UTF16PtrFromString(path)
	if err != nil {
		return nil, err
	}
	h, err := syscall.CreateFile(p, syscall.GENERIC_READ|syscall.GENERIC_WRITE, 0, nil,
		syscall.OPEN_ALWAYS, syscall.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		if errors.Is(err, errorSharingViolation) {
			return nil, errLocked
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}

// journalLocking says whether two opens of one journal exclude each other
// on this platform.
const journalLocking = true
