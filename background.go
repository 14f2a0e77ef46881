// The background start, both ends: `ramona start` re-executes this binary
// as `daemon -S -background` in its own session with two pipes, the
// server's stderr and the start pipe (fd 3). The server reports "ready" on
// the start pipe once it listens, after moving its stderr to the server
// log; before that, every word it writes to stderr reaches the caller, and
// a server that exits, or neither reports nor exits in time, fails the start.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"
)

const (
	startPipeFD = 3       // the start pipe's descriptor in the background server
	readyWord   = "ready" // what the server writes on it once it listens

	// serverStartTimeout bounds how long `ramona start` waits for a new
	// server to report; a healthy one needs milliseconds.
	serverStartTimeout = 30 * time.Second
	// serverStderrKept is how much of the server's startup stderr is shown.
	serverStderrKept = 64 << 10
)

// serverExitWait bounds the wait for a server that closed its start pipe
// without reporting (it is exiting) or was told to stop; tests shorten it.
var serverExitWait = 10 * time.Second

// launchBackgroundServer starts the server (argv[0] is exe) in its own
// session and waits until it reports that it listens, exits, or timeout
// passes (then it is stopped, its whole session with it). What the server
// wrote to stderr meanwhile is copied to stderr. It returns exitOK, exitUsage
// when the server rejected the configuration, or exitFailed.
func launchBackgroundServer(exe string, argv []string, timeout time.Duration, stderr io.Writer) int {
	fail := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "ramona: "+format+"\n", args...)
		return exitFailed
	}
	if err := backgroundUnsupported(); err != nil {
		return fail("%v", err)
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return fail("cannot start the server: %v", err)
	}
	defer devnull.Close()
	errR, errW, err := os.Pipe()
	if err != nil {
		return fail("cannot start the server: %v", err)
	}
	defer errR.Close()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		errW.Close()
		return fail("cannot start the server: %v", err)
	}
	defer readyR.Close()
	proc, err := os.StartProcess(exe, argv, &os.ProcAttr{
		Dir:   "/",
		Env:   os.Environ(),
		Files: []*os.File{devnull, devnull, errW, readyW},
		Sys:   backgroundSysProcAttr(),
	})
	errW.Close()
	readyW.Close()
	if err != nil {
		return fail("cannot start the server: %v", err)
	}

	said := &headBuffer{max: serverStderrKept}
	copied := make(chan struct{})
	go func() { // ends at EOF: the server moved its stderr away, or exited
		io.Copy(said, errR)
		close(copied)
	}()
	showSaid := func(wait time.Duration) {
		select {
		case <-copied:
		case <-time.After(wait): // a process the server started holds the pipe: show what came
		}
		io.WriteString(stderr, said.String())
	}

	readyR.SetReadDeadline(time.Now().Add(timeout))
	word, err := io.ReadAll(io.LimitReader(readyR, int64(len(readyWord))))
	switch {
	case string(word) == readyWord:
		proc.Release()
		showSaid(time.Second) // fd 2 moved before the report: EOF is there or about to be
		return exitOK
	case errors.Is(err, os.ErrDeadlineExceeded):
		how := stopServerSession(proc)
		showSaid(time.Second)
		return fail("the server did not report that it listens within %v; it was %s (see the messages above and the server log)", timeout, how)
	}
	// The start pipe closed without a report: the server is exiting.
	st, _ := waitOrKill(proc)
	showSaid(serverExitWait)
	code := st.ExitCode()
	if said.Len() == 0 {
		fail("the server exited before it listened (%v)", st)
	}
	if code == exitUsage {
		return exitUsage
	}
	return exitFailed
}

// waitOrKill waits (bounded) for a server that is exiting; one that does
// not gets SIGKILL, its whole session with it (killed is then true).
func waitOrKill(proc *os.Process) (st *os.ProcessState, killed bool) {
	exited := make(chan *os.ProcessState, 1)
	go func() { // ends when the server has exited: killed below if need be
		st, _ := proc.Wait()
		exited <- st
	}()
	select {
	case st := <-exited:
		return st, false
	case <-time.After(serverExitWait):
	}
	killSession(proc, syscall.SIGKILL)
	return <-exited, true
}

// stopServerSession stops a server that does not report: SIGTERM to its
// session (a server that got as far as its signal handlers stops cleanly),
// SIGKILL after serverExitWait. It says which it took.
func stopServerSession(proc *os.Process) string {
	killSession(proc, syscall.SIGTERM)
	if _, killed := waitOrKill(proc); killed {
		return fmt.Sprintf("killed (SIGTERM did not stop it within %v)", serverExitWait)
	}
	return "stopped"
}

// headBuffer keeps the first max bytes written to it and counts the rest;
// one goroutine may write while another reads.
type headBuffer struct {
	max     int
	mu      sync.Mutex
	buf     bytes.Buffer
	dropped int
}

func (h *headBuffer) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	keep := min(len(p), h.max-h.buf.Len())
	h.buf.Write(p[:keep])
	h.dropped += len(p) - keep
	return len(p), nil
}

func (h *headBuffer) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.buf.Len() + h.dropped
}

func (h *headBuffer) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.dropped > 0 {
		return fmt.Sprintf("%s\n... (%d more bytes)\n", h.buf.String(), h.dropped)
	}
	return h.buf.String()
}

// openServerStderr opens the server log for the background server's fd 2,
// where a Go panic would go, by safefile's rules: the server runs as root,
// and a link or file planted there would make it append to any file.
func openServerStderr(path string, mode os.FileMode) (*os.File, error) {
	f, err := openSafe(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, mode)
	if err != nil {
		return nil, fmt.Errorf("cannot write the server log %s: %s", path, pathErrText(err))
	}
	return f, nil
}
