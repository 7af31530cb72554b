//go:build unix

package postfix

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup starts cmd in its own process group: master signals its
// group when it stops.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup kills cmd's process group: master and its daemons.
func killGroup(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
