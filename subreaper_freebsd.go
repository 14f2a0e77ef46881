// The server as reaper on FreeBSD (procctl PROC_REAP_ACQUIRE): orphans of
// its programs are reparented to it and reaped by its wait4 loop, as with
// Linux's child subreaper. Also FreeBSD's RLIM_INFINITY (its rlimits are
// int64).
package main

import "syscall"

const (
	procctlPidType  = 0 // P_PID
	procReapAcquire = 2 // PROC_REAP_ACQUIRE
)

// rlimInfinity is RLIM_INFINITY.
const rlimInfinity = 1<<63 - 1

func becomeSubreaper() error {
	if _, _, errno := syscall.RawSyscall6(syscall.SYS_PROCCTL, procctlPidType, uintptr(syscall.Getpid()), procReapAcquire, 0, 0, 0); errno != 0 {
		return errno
	}
	return nil
}
