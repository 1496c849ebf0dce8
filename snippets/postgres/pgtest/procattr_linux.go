package pgtest

import "syscall"

// sysProcAttr runs a server binary as cred (nil: as ourselves) in its own
// process group, so a Ctrl-C meant for go test reaches it only through
// us, and with a parent-death signal, so a test binary that dies without
// cleaning up does not leave a server behind. SIGQUIT is PostgreSQL's
// immediate shutdown, which also ends the server's children.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGQUIT}
}
