//go:build darwin || freebsd

// Test helpers of helpers_linux_test.go where Linux's features are missing:
// no parent-death signal and no cgroups.
package main

import (
	"errors"
	"syscall"
)

func peerSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

func leaveCgroup(self string) error { return errors.New("no cgroups on this system") }
