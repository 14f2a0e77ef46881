// The terminal calls of the console's line editor on Linux: whether a file
// is a terminal, raw mode on and off with the TCGETS/TCSETS ioctls, the
// width (TIOCGWINSZ), and the signals that must not leave the terminal raw.
// A port to another system gives the same small set of functions.
package main

import (
	"os"
	"os/signal"
	"syscall"
	"time"
	"unsafe"
)

// termState is a terminal's settings, to put them back.
type termState struct{ termios syscall.Termios }

func ioctl(fd, req uintptr, arg unsafe.Pointer) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, req, uintptr(arg)); errno != 0 {
		return errno
	}
	return nil
}

func getTermios(fd uintptr) (syscall.Termios, error) {
	var t syscall.Termios
	err := ioctl(fd, syscall.TCGETS, unsafe.Pointer(&t))
	return t, err
}

func isTerminal(fd uintptr) bool {
	_, err := getTermios(fd)
	return err == nil
}

// makeRaw turns off line buffering, echo, the signal keys (Ctrl-C, Ctrl-Z,
// Ctrl-\ reach the editor as bytes) and input translations, as cfmakeraw
// does but leaving output processing on; it returns the settings before.
func makeRaw(fd uintptr) (*termState, error) {
	old, err := getTermios(fd)
	if err != nil {
		return nil, err
	}
	raw := old
	raw.Iflag &^= syscall.IGNBRK | syscall.BRKINT | syscall.PARMRK | syscall.ISTRIP | syscall.INLCR |
		syscall.IGNCR | syscall.ICRNL | syscall.IXON
	raw.Lflag &^= syscall.ECHO | syscall.ECHONL | syscall.ICANON | syscall.ISIG | syscall.IEXTEN
	raw.Cflag = raw.Cflag&^(syscall.CSIZE|syscall.PARENB) | syscall.CS8
	raw.Cc[syscall.VMIN] = 1
	raw.Cc[syscall.VTIME] = 0
	if err := ioctl(fd, syscall.TCSETS, unsafe.Pointer(&raw)); err != nil {
		return nil, err
	}
	return &termState{termios: old}, nil
}

func restoreTerminal(fd uintptr, st *termState) error {
	return ioctl(fd, syscall.TCSETS, unsafe.Pointer(&st.termios))
}

// terminalWidth is the terminal's number of columns, 0 when unknown.
func terminalWidth(fd uintptr) int {
	var ws struct{ rows, cols, xpixel, ypixel uint16 }
	if err := ioctl(fd, syscall.TIOCGWINSZ, unsafe.Pointer(&ws)); err != nil {
		return 0
	}
	return int(ws.cols)
}

// terminalStopSignals end the console while a line is read in raw mode;
// the editor restores the terminal first, then raises the signal again.
var terminalStopSignals = []os.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT}

// raiseSignal delivers sig to this process with its default action.
func raiseSignal(sig os.Signal) {
	signal.Reset(sig)
	syscall.Kill(os.Getpid(), sig.(syscall.Signal))
}

// suspendWait bounds how long suspendSelf waits to be stopped; where no
// shell does job control (an orphaned process group) the kernel drops the
// signal and nothing stops the console.
const suspendWait = 200 * time.Millisecond

// suspendSelf stops the console's process group as Ctrl-Z does in cooked
// mode, and returns once the shell has continued it (SIGCONT), or after
// suspendWait when the stop did not happen. Another thread may take the
// signal, so the stop need not land before kill returns; waiting for
// SIGCONT keeps the line from being redrawn before the stop.
func suspendSelf() {
	cont := make(chan os.Signal, 1)
	signal.Notify(cont, syscall.SIGCONT)
	defer signal.Stop(cont)
	syscall.Kill(0, syscall.SIGTSTP)
	select {
	case <-cont:
	case <-time.After(suspendWait):
	}
}
