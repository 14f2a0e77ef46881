//go:build ignore

// Gocat is the floor of a log reader written in Go: `cat > FILE` as the
// plainest Go program does it, blocking reads of 256 KiB (Ramona's chunk)
// from stdin written to FILE, no rotation, no line handling. logbench.sh
// times it beside cat and Ramona in the same run (built as ramona is:
// CGO_ENABLED=0, -ldflags='-s -w'), which shows what of Ramona's distance
// to cat is the Go runtime's way into a system call and out.
package main

import (
	"fmt"
	"os"
	"syscall"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gocat FILE < input")
		os.Exit(2)
	}
	// A new file only, never through a symlink: logbench runs as root and
	// removes the file before each run.
	out, err := os.OpenFile(os.Args[1], os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buf := make([]byte, 256<<10)
	for {
		n, err := syscall.Read(0, buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "read:", err)
			os.Exit(1)
		}
		if n == 0 {
			break
		}
		if _, err := out.Write(buf[:n]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	if err := out.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
