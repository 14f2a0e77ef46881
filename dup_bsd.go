//go:build darwin || freebsd

// Descriptor duplication on macOS and FreeBSD, which have dup2 (macOS has
// no dup3): the background server moves its stderr to the server log, as
// dup_linux.go does on Linux.
package main

import (
	"os"
	"syscall"
)

// dupOnto makes descriptor fd refer to f's open file.
func dupOnto(f *os.File, fd int) error {
	return syscall.Dup2(int(f.Fd()), fd)
}
