//go:build unix

// `ramona exec-ctrlc` exists only on Windows (kill_windows.go).
package main

import (
	"fmt"
	"os"
)

func runExecCtrlC(args []string) int {
	fmt.Fprintln(os.Stderr, "ramona exec-ctrlc: only used on Windows")
	return 2
}
