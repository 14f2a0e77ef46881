// Signals and exits of the server on Windows. CTRL_C, CTRL_BREAK (both
// os.Interrupt) and a console close or system shutdown (SIGTERM in Go) stop
// the server, by the same rule as TERM on Unix; the service manager's STOP
// and SHUTDOWN come through the same channel (service_windows.go). Reload
// and log reopening are control commands only. There is no SIGCHLD: each
// spawn has a goroutine that waits on its process handle (waitExit).
package main

import (
	"os"
	"os/signal"
	"syscall"
	"time"
)

// serverStopRequests receives stop requests from sources other than
// signals (the service control handler).
var serverStopRequests = make(chan string, 4)

// startReaper has nothing to start on Windows (see waitExit); what it
// returns, called as the server exits, ends CTRL_C helpers still running.
func startReaper(s *Supervisor) func() {
	return func() { runningHelpers.endHelpers(3 * time.Second) }
}

// handleSignals turns the server's console events into loop events.
func handleSignals(s *Supervisor) func() {
	ch := make(chan os.Signal, 8)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	stop := make(chan struct{})
	go func() { // ends when stop is closed
		var firstStop time.Time // when the first stop request came
		for {
			select {
			case <-stop:
				signal.Stop(ch)
				return
			case sig := <-ch:
				name := "CTRL_C or CTRL_BREAK"
				if sig == syscall.SIGTERM {
					name = "a console close or system shutdown"
				}
				s.stopSignal(name, &firstStop)
			case name := <-serverStopRequests:
				s.stopSignal(name, &firstStop)
			}
		}
	}()
	return func() { close(stop) }
}

// waitExit waits for the main process of a spawn to end, then hands its
// exit code to the loop like the Unix reaper does; it closes the job when
// nothing of the tree is left.
func (s *Supervisor) waitExit(pid int, process syscall.Handle) {
	syscall.WaitForSingleObject(process, syscall.INFINITE)
	var code uint32
	if err := syscall.GetExitCodeProcess(process, &code); err != nil {
		code = 255
	}
	syscall.CloseHandle(process)
	jobOf(pid) // closes an emptied job
	ws := syscall.WaitStatus{ExitCode: code}
	s.post(func() { s.reaped(pid, ws) })
}
