// The server as child subreaper on Linux (prctl PR_SET_CHILD_SUBREAPER):
// orphans of its programs are reparented to it and reaped by its wait4 loop.
// Also the value of RLIM_INFINITY, which differs on FreeBSD.
package main

import "syscall"

const prSetChildSubreaper = 36

// rlimInfinity is RLIM_INFINITY.
const rlimInfinity = 1<<64 - 1

func becomeSubreaper() error {
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		return errno
	}
	return nil
}
