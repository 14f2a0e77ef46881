//go:build unix

// Signals to programs on Unix: kill(2) to a process group or a pid, and
// kill(-pgid, 0) to ask whether a group still has members. Without cgroups
// a program's tree is its process group (kill_windows.go: its job).
package main

import "syscall"

// signalGroup sends sig to every process of the group pgid.
func signalGroup(pgid int, sig syscall.Signal) error { return syscall.Kill(-pgid, sig) }

// signalProcess sends sig to one process.
func signalProcess(pid int, sig syscall.Signal) error { return syscall.Kill(pid, sig) }

// groupAlive reports whether any process of the group still exists.
func groupAlive(pgid int) bool {
	return pgid > 0 && syscall.Kill(-pgid, 0) == nil
}

// containmentWithoutCgroups: without cgroups a program's tree on Unix is
// its process group, which processes can leave (server.go warns).
const containmentWithoutCgroups = ""
