// Process attributes of a program on Linux: its own session when it has
// its own process group, and SIGKILL when the server dies (Pdeathsig), so a
// killed server leaves no program behind even without the guard.
package main

import "syscall"

func programSysProcAttr(ownGroup bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setsid: ownGroup, Pdeathsig: syscall.SIGKILL}
}
