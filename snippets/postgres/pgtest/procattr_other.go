//go:build !linux

package pgtest

import "syscall"

// sysProcAttr runs a server binary as cred (nil: as ourselves) in its own
// process group, so a Ctrl-C meant for go test reaches it only through us.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Setpgid: true}
}
