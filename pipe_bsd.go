//go:build darwin || freebsd

// Program output pipes on macOS and FreeBSD: pipe, then close-on-exec under
// syscall.ForkLock (macOS has no pipe2), the read end non-blocking for the
// poller; the pipe keeps the system's size.
package main

import (
	"os"
	"syscall"
)

// outputPipe makes the pipe of one program stream (see pipe_linux.go).
func outputPipe() (r *os.File, w int, err error) {
	var fds [2]int
	syscall.ForkLock.RLock()
	err = syscall.Pipe(fds[:])
	if err == nil {
		syscall.CloseOnExec(fds[0])
		syscall.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, -1, os.NewSyscallError("pipe", err)
	}
	if err := syscall.SetNonblock(fds[0], true); err != nil {
		syscall.Close(fds[0])
		syscall.Close(fds[1])
		return nil, -1, os.NewSyscallError("fcntl", err)
	}
	return os.NewFile(uintptr(fds[0]), "|0"), fds[1], nil
}
