// Tests of the line editor's terminal calls on a real pseudo-terminal
// (/dev/ptmx): raw mode while a line is read and the settings put back
// afterwards, also when the read panics; the width; and which files count
// as a terminal.
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// openPty opens a pseudo-terminal pair; t.Cleanup closes both ends.
func openPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	var unlock int32
	var n uint32
	if err := ioctl(master.Fd(), syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	if err := ioctl(master.Fd(), syscall.TIOCGPTN, unsafe.Pointer(&n)); err != nil {
		t.Fatalf("pty number: %v", err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open the pty's terminal: %v", err)
	}
	drained := make(chan struct{})
	go func() { // ends when the slave side is closed (EIO)
		io.Copy(io.Discard, master)
		close(drained)
	}()
	t.Cleanup(func() {
		slave.Close()
		<-drained
		master.Close()
	})
	return master, slave
}

func TestTerminalRawModeAndRestore(t *testing.T) {
	t.Parallel()
	master, slave := openPty(t)
	before, err := getTermios(slave.Fd())
	if err != nil {
		t.Fatal(err)
	}
	if before.Lflag&syscall.ICANON == 0 || before.Lflag&syscall.ECHO == 0 {
		t.Fatalf("a new pty is not in cooked mode: lflag %#x", before.Lflag)
	}
	term := openTerminal(slave, slave)
	if term == nil {
		t.Fatal("openTerminal: a pty is not a terminal")
	}
	var during syscall.Termios
	term.ed.complete = func(string) []string {
		during, _ = getTermios(slave.Fd())
		return []string{"status"}
	}
	master.Write([]byte("st\t\r"))
	line, err := term.readLine("> ")
	if line != "status " || err != nil {
		t.Errorf("readLine = %q, %v; want %q", line, err, "status ")
	}
	if during.Lflag&(syscall.ICANON|syscall.ECHO|syscall.ISIG) != 0 || during.Iflag&syscall.ICRNL != 0 || during.Cc[syscall.VMIN] != 1 {
		t.Errorf("while reading: lflag %#x iflag %#x vmin %d; want raw mode", during.Lflag, during.Iflag, during.Cc[syscall.VMIN])
	}
	if after, _ := getTermios(slave.Fd()); after != before {
		t.Errorf("the terminal settings after readLine differ from before:\n%+v\n%+v", after, before)
	}

	// A panic while the line is read leaves the terminal as it was too.
	term.ed.complete = func(string) []string { panic("completion failed") }
	master.Write([]byte("x\t"))
	func() {
		defer func() {
			if r := recover(); r != "completion failed" {
				t.Errorf("recover() = %v; want the completer's panic", r)
			}
		}()
		term.readLine("> ")
	}()
	if after, _ := getTermios(slave.Fd()); after != before {
		t.Errorf("the terminal settings after a panic differ from before:\n%+v\n%+v", after, before)
	}
}

func TestTerminalWidth(t *testing.T) {
	t.Parallel()
	_, slave := openPty(t)
	ws := struct{ rows, cols, xpixel, ypixel uint16 }{rows: 24, cols: 33}
	if err := ioctl(slave.Fd(), syscall.TIOCSWINSZ, unsafe.Pointer(&ws)); err != nil {
		t.Fatal(err)
	}
	if w := terminalWidth(slave.Fd()); w != 33 {
		t.Errorf("terminalWidth = %d; want 33", w)
	}
	if w := terminalWidth(^uintptr(0)); w != 0 {
		t.Errorf("terminalWidth of no file = %d; want 0", w)
	}
}

func TestOpenTerminalNeedsTwoTerminals(t *testing.T) {
	t.Parallel()
	_, slave := openPty(t)
	pipeR, pipeW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pipeR.Close()
	defer pipeW.Close()
	for _, tc := range []struct {
		name string
		in   io.Reader
		out  io.Writer
	}{
		{"stdout a pipe", slave, pipeW},
		{"stdin a pipe", pipeR, slave},
		{"stdout a buffer", slave, &bytes.Buffer{}},
		{"stdin a reader", strings.NewReader(""), slave},
	} {
		if openTerminal(tc.in, tc.out) != nil {
			t.Errorf("%s: openTerminal gave a terminal; want nil (lines as they come)", tc.name)
		}
	}
}
