// Descriptor duplication on Linux: dup2 does not exist on arm64, riscv64
// and other newer architectures, dup3 exists on every one. The background
// server uses it to move its stderr to the server log.
package main

import (
	"os"
	"syscall"
)

// dupOnto makes descriptor fd refer to f's open file.
func dupOnto(f *os.File, fd int) error {
	return syscall.Dup3(int(f.Fd()), fd, 0)
}
