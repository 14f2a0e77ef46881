// The signal names killby accepts on Windows: the ones Go's syscall package
// defines there. Only KILL (TerminateJobObject) and the stop signals TERM,
// INT, QUIT and HUP (a CTRL_C event to the program's console, see
// kill_windows.go) do something; the others are accepted so that one
// ramona.conf parses everywhere, and act like TERM.
package main

import "syscall"

// signalNames maps the names killby accepts to signals.
var signalNames = map[string]syscall.Signal{
	"HUP": syscall.SIGHUP, "INT": syscall.SIGINT, "QUIT": syscall.SIGQUIT, "ILL": syscall.SIGILL,
	"TRAP": syscall.SIGTRAP, "ABRT": syscall.SIGABRT, "BUS": syscall.SIGBUS, "FPE": syscall.SIGFPE,
	"KILL": syscall.SIGKILL, "SEGV": syscall.SIGSEGV, "PIPE": syscall.SIGPIPE, "ALRM": syscall.SIGALRM,
	"TERM": syscall.SIGTERM,
}
