//go:build unix

// Signals and the reaper of the server on Unix: one wait4(-1) loop woken by
// SIGCHLD collects every child's exit, and TERM/INT/QUIT/HUP/USR1/USR2
// become loop events. signals_windows.go is the same function set there.
package main

import (
	"os"
	"os/signal"
	"syscall"
	"time"
)

// startReaper collects every child's exit with wait4(-1) on SIGCHLD and
// hands it to the loop. The returned function stops it.
func startReaper(s *Supervisor) func() {
	sigchld := make(chan os.Signal, 1)
	signal.Notify(sigchld, syscall.SIGCHLD)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // ends when stop is closed
		defer close(done)
		for {
			reapAll(s)
			select {
			case <-sigchld:
			case <-stop:
				signal.Stop(sigchld)
				return
			}
		}
	}()
	return func() { close(stop); <-done }
}

func reapAll(s *Supervisor) {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if pid <= 0 {
			return
		}
		if s.children.deliver(pid, ws) { // an exec probe's
			continue
		}
		s.post(func() { s.reaped(pid, ws) })
	}
}

// handleSignals turns the server's signals into loop events.
func handleSignals(s *Supervisor) func() {
	ch := make(chan os.Signal, 8)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGPIPE)
	stop := make(chan struct{})
	go func() { // ends when stop is closed
		var firstStop time.Time // when the first stop signal came
		for {
			select {
			case <-stop:
				signal.Stop(ch)
				return
			case sig := <-ch:
				switch sig {
				case syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT:
					s.stopSignal(signalName(sig.(syscall.Signal)), &firstStop)
				case syscall.SIGHUP:
					s.log.Infof("server: got SIGHUP; reloading the configuration and reopening logs")
					s.requestReload(reloadRequest{})
				case syscall.SIGUSR1:
					s.post(func() { s.reopenLogs() })
				case syscall.SIGUSR2:
					s.post(func() { s.logStatus() })
				}
			}
		}
	}()
	return func() { close(stop) }
}
