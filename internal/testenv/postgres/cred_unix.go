//go:build unix

package postgres

import (
	"os/exec"
	"syscall"
)

// credential is the user the server's processes run as.
type credential struct{ uid, gid uint32 }

// runAs makes cmd run as c (when c is not nil), in a process group of
// its own, so that a signal to the test's group does not reach it before
// Stop does.
func runAs(cmd *exec.Cmd, c *credential) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if c != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: c.uid, Gid: c.gid, NoSetGroups: true}
	}
}
