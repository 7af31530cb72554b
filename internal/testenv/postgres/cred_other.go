//go:build !unix

package postgres

import "os/exec"

// credential is the user the server's processes run as; never set where
// the test cannot run as root.
type credential struct{ uid, gid uint32 }

func runAs(*exec.Cmd, *credential) {}
