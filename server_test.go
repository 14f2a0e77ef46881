//go:build unix

// Tests of the server's signal handling: stop signals that arrive within
// stopSignalWindow of the first count as one request (coreutils timeout and
// process-group signals deliver the same signal twice), a later one sends
// SIGKILL to every program; both with real signals to a real server.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stubbornProgram is a program that ignores SIGTERM and SIGINT, with a
// stoptimeout far beyond any test: only SIGKILL ends it early.
func stubbornProgram(t *testing.T) string {
	return fmt.Sprintf("[program:stubborn]\ncommand=%s\nstarttimeout=0.2\nstoptimeout=60\nkillby=TERM\n", helperCommand(t, "ignore-term", "1h"))
}

// waitStopSignalWindow waits until the window of a first stop signal that
// the server had handled by seen has surely passed.
func waitStopSignalWindow(t *testing.T, seen time.Time) {
	t.Helper()
	waitFor(t, "the stop signal window to pass", lcWait, func() bool {
		return time.Since(seen) > stopSignalWindow+100*time.Millisecond
	})
}

// TestServerCountsStopSignalsWithinOneSecondOnce: SIGINT, SIGQUIT and SIGTERM
// sent at once are one request to stop (no SIGKILL); one more after the
// window sends SIGKILL to the program that ignores the others.
func TestServerCountsStopSignalsWithinOneSecondOnce(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, stubbornProgram(t))
	srv := r.start()
	st := r.waitState("stubborn", "RUNNING", lcWait)
	r.waitProgramLog("stubborn", "ignore-term: ready")
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM} {
		srv.signal(sig)
	}
	var log string
	waitFor(t, "the server to have handled the three signals", lcWait, func() bool {
		log = r.serverLog()
		return strings.Count(log, "after the first stop signal; counted as the same request") == 2
	})
	seen := time.Now()
	for _, sig := range []string{"SIGINT", "SIGQUIT", "SIGTERM"} {
		if !strings.Contains(log, "server: got "+sig) {
			t.Errorf("the server log does not say it got %s:\n%s", sig, log)
		}
	}
	if strings.Contains(log, "sending SIGKILL") || !alive(st.PID) {
		t.Fatalf("stop signals within %v of the first escalated to SIGKILL (stubborn alive: %v):\n%s", stopSignalWindow, alive(st.PID), log)
	}
	if got := r.status()["stubborn"].State; got != "STOPPING" {
		t.Errorf("stubborn is %s; want STOPPING, its SIGTERM ignored and its stoptimeout far away", got)
	}

	waitStopSignalWindow(t, seen)
	srv.signal(syscall.SIGTERM)
	if code, err := srv.wait(lcWait); err != nil {
		t.Errorf("server after a later SIGTERM: exit %d, %v", code, err)
	}
	inOrder(t, "server log", r.serverLog(), "counted as the same request", "server: got SIGTERM\n",
		"server: asked again to stop; sending SIGKILL to every program", "stubborn: sending SIGKILL to process group",
		"stubborn: STOPPING -> STOPPED")
	if !gone(st.PID) {
		t.Errorf("pid %d outlived the server", st.PID)
	}
}

// TestServerUnderCoreutilsTimeout: `timeout 10m ramona daemon`. When its
// time is up, or when it is told to stop itself (SIGTERM to timeout, as
// here, so that the test waits for no clock: timeout handles both the same
// way), timeout sends SIGTERM to ramona and then to its own process group,
// ramona included: the same signal twice within microseconds, one request
// to stop. (When the second arrives while the first is still pending, the
// kernel merges them and the server sees one; the test above sends distinct
// signals, which never merge.) The program that ignores SIGTERM is then
// still stopping, not killed; a SIGTERM after the window ends it with SIGKILL.
func TestServerUnderCoreutilsTimeout(t *testing.T) {
	t.Parallel()
	timeout := needPeer(t, "timeout", "coreutils")
	r := newTestRamona(t, stubbornProgram(t))
	logPath := filepath.Join(r.dir, "server.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close() // the child has its own copy once started
	cmd := exec.Command(timeout, "10m", testBinary(t), "ramona-test-main", "-c", r.conf, "daemon")
	cmd.Env = append(os.Environ(), "RAMONA_TEST_ID="+r.id)
	cmd.Stdout, cmd.Stderr = logf, logf
	r.server = newTestServer(t, cmd, logPath)
	waitFor(t, "the server to answer", lcWait, r.answers)
	st := r.waitState("stubborn", "RUNNING", lcWait)
	r.waitProgramLog("stubborn", "ignore-term: ready") // RUNNING is starttimeout, not the helper's start-up
	cl := r.dial()
	ramona := cl.server.PID
	cl.close()

	// timeout passes its SIGTERM on. Its two kill calls follow each other at
	// once: once the window has passed, the second has been handled too.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r.waitServerLog("server: got SIGTERM")
	waitStopSignalWindow(t, time.Now())
	log := r.serverLog()
	got, same := strings.Count(log, "server: got SIGTERM"), strings.Count(log, "after the first stop signal; counted as the same request")
	t.Logf("timeout's two SIGTERMs reached the server as %d signal(s)", got)
	if got < 1 || got > 2 || same != got-1 {
		t.Errorf("the server got SIGTERM %d times, %d of them counted as the first; want 1 or 2 (timeout: to ramona, then to its process group), the second counted as the first", got, same)
	}
	if strings.Contains(log, "sending SIGKILL") || !alive(st.PID) {
		t.Fatalf("timeout's double SIGTERM escalated to SIGKILL:\n%s", log)
	}
	if got := r.status()["stubborn"].State; got != "STOPPING" {
		t.Errorf("stubborn is %s; want STOPPING", got)
	}
	if err := syscall.Kill(ramona, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if _, err := r.server.wait(lcWait); err != nil {
		t.Errorf("timeout and the server after a later SIGTERM: %v", err)
	}
	r.waitServerLog("server: asked again to stop; sending SIGKILL to every program")
	if !gone(st.PID) {
		t.Errorf("pid %d outlived the server", st.PID)
	}
}
