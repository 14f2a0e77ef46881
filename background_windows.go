// The background start on Windows: there is none. Windows runs a
// long-lived server as a service (ramona wininstall), or in a console with
// ramona daemon; `ramona start` says so instead of half-working (Windows
// cannot hand a fourth handle, the start pipe, to a child the way Unix
// passes fd 3).
package main

import (
	"errors"
	"os"
	"syscall"
)

func backgroundUnsupported() error {
	return errors.New("ramona start cannot run a background server on Windows; install the server as a service (ramona wininstall -c FILE, then sc start ramona) or run it in a console (ramona daemon)")
}

func backgroundSysProcAttr() *syscall.SysProcAttr { return nil }

func killSession(proc *os.Process, sig syscall.Signal) { proc.Kill() }

// takeStartPipe: a Windows server is never started with a start pipe.
func takeStartPipe() *os.File { return nil }

// reportStarted is never called on Windows (no start pipe).
func reportStarted(pipe, stderrTo *os.File) error {
	return errors.New("no background start on Windows")
}
