// Program output pipes on Linux: pipe2 with O_CLOEXEC, the read end
// non-blocking for the poller, and F_SETPIPE_SZ for large chunks (the
// reader is pipe_unix.go's).
package main

import (
	"os"
	"syscall"
)

// outputPipe makes the pipe of one program stream: the read end is the
// server's (non-blocking, in the poller), the write end a plain blocking
// descriptor for the child that the caller closes once it has forked. The
// pipe asks for pipeSize; the kernel may refuse (the limit is
// /proc/sys/fs/pipe-max-size for unprivileged servers), which only costs
// speed. Raw descriptors spare each spawn the poller registration of the
// write end and switching it back to blocking mode for the child.
func outputPipe() (r *os.File, w int, err error) {
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC); err != nil {
		return nil, -1, os.NewSyscallError("pipe2", err)
	}
	if err := syscall.SetNonblock(fds[0], true); err != nil {
		syscall.Close(fds[0])
		syscall.Close(fds[1])
		return nil, -1, os.NewSyscallError("fcntl", err)
	}
	syscall.Syscall(syscall.SYS_FCNTL, uintptr(fds[0]), syscall.F_SETPIPE_SZ, pipeSize)
	return os.NewFile(uintptr(fds[0]), "|0"), fds[1], nil
}
