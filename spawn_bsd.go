//go:build darwin || freebsd

// Process attributes of a program on macOS and FreeBSD: its own session
// when it has its own process group. There is no parent-death signal: the
// group guard (guard.go) kills the groups when the server dies.
package main

import "syscall"

func programSysProcAttr(ownGroup bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setsid: ownGroup}
}
