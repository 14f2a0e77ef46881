//go:build unix

// `ramona exec-ctrlc` is the CTRL_C helper of the Windows kill sequence
// (kill_windows.go); on Unix, where signals reach programs directly, it
// only says so.
package main

import (
	"fmt"
	"os"
)

func runExecCtrlC(args []string) int {
	fmt.Fprintln(os.Stderr, "ramona exec-ctrlc: only used on Windows")
	return 2
}
