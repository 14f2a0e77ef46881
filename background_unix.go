//go:build unix

// The background start's Unix side: the server in its own session, killed
// by session, the start pipe inherited as fd 3, and the server's stderr
// moved onto the server log by dup.
package main

import (
	"io"
	"os"
	"syscall"
)

// backgroundUnsupported: Unix can always start a background server.
func backgroundUnsupported() error { return nil }

// backgroundSysProcAttr puts the background server in its own session.
func backgroundSysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }

// killSession sends sig to the session of the background server proc.
func killSession(proc *os.Process, sig syscall.Signal) { syscall.Kill(-proc.Pid, sig) }

// takeStartPipe claims the start pipe of a server that `ramona start`
// launched: fd 3 when it is a pipe, made close-on-exec so that no program
// inherits it; nil otherwise.
func takeStartPipe() *os.File {
	var st syscall.Stat_t
	if err := syscall.Fstat(startPipeFD, &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFIFO {
		return nil
	}
	syscall.CloseOnExec(startPipeFD)
	return os.NewFile(startPipeFD, "start pipe")
}

// reportStarted is the server's side once it listens: fd 2 moves to
// stderrTo (the server log, or /dev/null when nil), which ends the stderr
// pipe `ramona start` reads, then "ready" goes on the start pipe. It
// closes both files.
func reportStarted(pipe, stderrTo *os.File) error {
	if stderrTo == nil {
		var err error
		if stderrTo, err = os.OpenFile(os.DevNull, os.O_WRONLY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0); err != nil { // a device node, never a link
			pipe.Close()
			return err
		}
	}
	err := dupOnto(stderrTo, 2)
	stderrTo.Close()
	if _, werr := io.WriteString(pipe, readyWord); err == nil {
		err = werr
	}
	pipe.Close()
	return err
}
