//go:build linux

// Tests of exec probes (probe_unix.go), on Linux: the environment,
// directory and user they run with, the reasons of a failure, and a probe
// that hangs, killed at its timeout with what it started.
package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testExecProbe is an exec probe with the test's environment in dir; its
// children are waited for by pid (no server reaper here).
func testExecProbe(t *testing.T, dir string, extraEnv ...string) *execProbe {
	w := newChildWaiter()
	w.reapEach = true
	return &execProbe{env: append(os.Environ(), extraEnv...), baseDir: dir, waiter: w}
}

func TestProbeExec(t *testing.T) {
	t.Parallel()
	needShell(t)
	id := newLeftoverCheck(t)
	dir := t.TempDir()
	ex := testExecProbe(t, dir, "RAMONA_TEST_ID="+id, "PROBE_WORD=hello")
	exec := func(cmd string) Probe { return Probe{Kind: probeExec, Target: cmd} }
	for _, tc := range []struct{ cmd, want string }{
		{"true", "ok"},
		{`sh -c 'test "$PROBE_WORD" = hello'`, "ok"},
		{`sh -c 'test "$(pwd)" = "$1"' sh ` + shellQuote(dir), "ok"},
		{`sh -c 'echo "  127.0.0.1:5432 -
 no response"; exit 2'`, "exit status 2: 127.0.0.1:5432 - no response"},
		{`sh -c 'kill -TERM $$'`, "killed by SIGTERM"},
		{"no-such-probe-command", "command no-such-probe-command: not found in PATH=" + os.Getenv("PATH")},
		{"./missing", "command ./missing: no such file or directory"},
	} {
		if got := probeOnce(exec(tc.cmd), 10*time.Second, ex); got != tc.want {
			t.Errorf("exec:%s:\n got %q\nwant %q", tc.cmd, got, tc.want)
		}
	}
	long := strings.Repeat("x", 300)
	if got := probeOnce(exec("sh -c 'echo "+long+"; exit 1'"), 10*time.Second, ex); got != "exit status 1: "+long[:probeReasonMax]+"..." {
		t.Errorf("long output: %q", got)
	}
}

// TestProbeExecHangsIsKilled: a probe that never ends is killed at its
// timeout, and so is what it started in the background.
func TestProbeExecHangsIsKilled(t *testing.T) {
	t.Parallel()
	needShell(t)
	id := newLeftoverCheck(t)
	dir := t.TempDir()
	pids := filepath.Join(dir, "pids")
	ex := testExecProbe(t, dir, "RAMONA_TEST_ID="+id)
	cmd := "sh -c 'sleep 300 & echo $$ $! > " + pids + "; wait'"
	started := time.Now()
	got := probeOnce(Probe{Kind: probeExec, Target: cmd}, 500*time.Millisecond, ex)
	if got != "killed after 500ms without an answer" {
		t.Errorf("hanging exec probe: %q", got)
	}
	if d := time.Since(started); d > 10*time.Second {
		t.Errorf("the hanging probe took %v", d)
	}
	data, err := os.ReadFile(pids)
	if err != nil {
		t.Fatalf("the probe did not run: %v", err)
	}
	for _, f := range strings.Fields(string(data)) {
		pid, _ := strconv.Atoi(f)
		waitFor(t, "probe process "+f+" to be gone", 10*time.Second, func() bool { return gone(pid) })
	}
	// A cancelled probe (its program stopped) is killed too.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runProbe(ctx, Probe{Kind: probeExec, Target: "sleep 300"}, time.Hour, ex) }()
	time.AfterFunc(100*time.Millisecond, cancel)
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "abandoned") {
			t.Errorf("cancelled probe: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a cancelled probe did not end")
	}
}

// TestProbeExecAsUser: the probe runs as the program's user.
func TestProbeExecAsUser(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root to switch users")
	}
	needShell(t)
	id := newLeftoverCheck(t)
	ex := testExecProbe(t, "/", "RAMONA_TEST_ID="+id)
	ex.asUser, ex.uid, ex.gid = true, 65534, 65534
	if got := probeOnce(Probe{Kind: probeExec, Target: `sh -c 'test "$(id -u)" = 65534'`}, 10*time.Second, ex); got != "ok" {
		t.Errorf("probe as nobody: %s", got)
	}
}
