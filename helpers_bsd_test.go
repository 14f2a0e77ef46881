//go:build darwin || freebsd

// Test helpers of helpers_linux_test.go where Linux's features are
// missing: a peer process and a test's server without a parent-death
// signal, and no cgroups to leave.
package main

import (
	"errors"
	"syscall"
)

func peerSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

func serverSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

func leaveCgroup(self string) error { return errors.New("no cgroups on this system") }
