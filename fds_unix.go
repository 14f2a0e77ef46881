//go:build unix

// Descriptor hygiene of the server on Unix: descriptors it inherited from
// whoever started it are closed (background server) or kept from its
// programs (close-on-exec), found in /proc/self/fd on Linux and /dev/fd on
// the BSDs and macOS.
package main

import (
	"os"
	"runtime"
	"strconv"
	"syscall"
)

// openFDsDir lists this process's open descriptors.
func openFDsDir() string {
	if runtime.GOOS == "linux" {
		return "/proc/self/fd"
	}
	return "/dev/fd"
}

// inheritedFDs lists open descriptors above 2 without close-on-exec: those
// this process inherited (Go opens its own with close-on-exec).
func inheritedFDs() []int {
	entries, err := os.ReadDir(openFDsDir())
	if err != nil {
		return nil
	}
	var fds []int
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd <= 2 {
			continue
		}
		flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
		if errno == 0 && flags&syscall.FD_CLOEXEC == 0 {
			fds = append(fds, fd)
		}
	}
	return fds
}

// closeInheritedFDs: a daemon holds nothing of the shell that started it.
func closeInheritedFDs() {
	for _, fd := range inheritedFDs() {
		syscall.Close(fd)
	}
}

// markInheritedFDsCloseOnExec keeps inherited descriptors from leaking
// into programs.
func markInheritedFDsCloseOnExec() {
	for _, fd := range inheritedFDs() {
		syscall.CloseOnExec(fd)
	}
}
