//go:build unix

// End-to-end tests of the program life cycle (SPEC section 3) and of the
// server's own duties (section 9): every state transition, backoff and
// retries, the stop sequence and its signals, priority groups, what a
// program starts with (directory, umask, environment, user, core limit),
// spawn failures, and how the server stops, dies, reaps and exits. Real
// processes and real signals, through a foreground test server.
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// lcWait bounds every wait of these tests: generous, since CI machines are
// slow; a passing test never waits this long.
const lcWait = 20 * time.Second

// waitProgramLog waits until the program's log contains every one of subs.
func (r *testRamona) waitProgramLog(name string, subs ...string) string {
	r.t.Helper()
	var text string
	waitFor(r.t, fmt.Sprintf("%s's log to contain %q", name, subs), lcWait, func() bool {
		text = r.programLog(name)
		for _, s := range subs {
			if !strings.Contains(text, s) {
				return false
			}
		}
		return true
	})
	return text
}

// waitServerLog waits until the server log contains sub.
func (r *testRamona) waitServerLog(sub string) string {
	r.t.Helper()
	var text string
	waitFor(r.t, fmt.Sprintf("the server log to contain %q", sub), lcWait, func() bool {
		text = r.serverLog()
		return strings.Contains(text, sub)
	})
	return text
}

// waitStatus waits until cond holds for the program's status.
func (r *testRamona) waitStatus(name, what string, cond func(programStatus) bool) programStatus {
	r.t.Helper()
	var st programStatus
	waitFor(r.t, name+": "+what, lcWait, func() bool {
		st = r.status()[name]
		return cond(st)
	})
	return st
}

// startIn runs the test binary as "ramona ARGS" in dir with extra
// environment variables, and waits until it answers, as r.start does.
func (r *testRamona) startIn(dir string, extraEnv []string, args ...string) *testServer {
	r.t.Helper()
	logPath := filepath.Join(r.dir, "server.log")
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		r.t.Fatalf("server log: %v", err)
	}
	defer logf.Close() // the child has its own copy once started
	cmd := exec.Command(testBinary(r.t), append([]string{"ramona-test-main"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append([]string{"RAMONA_TEST_ID=" + r.id, "PWD=" + dir}, extraEnv...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	r.server = newTestServer(r.t, cmd, logPath)
	waitFor(r.t, "the server to answer", lcWait, r.answers)
	return r.server
}

// gone reports whether pid has ended (no such process, or a zombie).
func gone(pid int) bool {
	st, err := readProcStat(pid)
	return err != nil || st.state == 'Z'
}

// reaped reports whether pid no longer exists at all (not even as a zombie).
func reaped(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return err != nil
}

// inOrder fails the test unless each of subs occurs in text after the
// previous one.
func inOrder(t *testing.T, what, text string, subs ...string) {
	t.Helper()
	pos := 0
	for _, s := range subs {
		i := strings.Index(text[pos:], s)
		if i < 0 {
			t.Errorf("%s: %q does not follow %q; want this order: %q", what, s, text[max(0, pos-80):pos], subs)
			return
		}
		pos += i + len(s)
	}
}

// logTime is the timestamp of the first server log line containing sub.
func logTime(t *testing.T, log, sub string) time.Time {
	t.Helper()
	const layout = "2006-01-02 15:04:05.000"
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, sub) && len(line) > len(layout) {
			ts, err := time.ParseInLocation(layout, line[:len(layout)], time.Local)
			if err != nil {
				t.Fatalf("log line %q: %v", line, err)
			}
			return ts
		}
	}
	t.Fatalf("no server log line contains %q", sub)
	return time.Time{}
}

// reportedPidIn finds "PREFIX: pid=N" in text.
func reportedPidIn(t *testing.T, text, prefix string) int {
	t.Helper()
	m := regexp.MustCompile(regexp.QuoteMeta(prefix) + `: pid=(\d+)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no %q in %q", prefix+": pid=N", text)
	}
	pid, _ := strconv.Atoi(m[1])
	return pid
}

func exitText(st programStatus) string { return fmt.Sprint(st.Exit) }

func TestSuperviseStartingThenRunning(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:app]
command=%s
autostart=no
starttimeout=2
`, helperCommand(t, "sleep", "1h")))
	r.start()
	if code, _, _ := r.cli("start", "-i", "app"); code != 0 {
		t.Fatalf("start -i app: exit %d, want 0", code)
	}
	st := r.status()["app"]
	if st.State != "STARTING" || st.PID == 0 || st.Launches != 1 {
		t.Fatalf("right after start -i: %+v; want STARTING with a pid and launches=1", st)
	}
	run := r.waitState("app", "RUNNING", lcWait)
	if run.PID != st.PID {
		t.Errorf("pid changed from %d to %d on the way to RUNNING", st.PID, run.PID)
	}
	log := r.serverLog()
	inOrder(t, "server log", log, "app: STOPPED -> STARTING: pid "+strconv.Itoa(st.PID), "app: STARTING -> RUNNING: pid "+strconv.Itoa(st.PID))
	// RUNNING comes from a starttimeout timer armed after the STARTING line:
	// never sooner (the log's timestamps are cut to the millisecond).
	if d := logTime(t, log, "app: STARTING -> RUNNING").Sub(logTime(t, log, "app: STOPPED -> STARTING")); d < 2*time.Second-time.Millisecond {
		t.Errorf("RUNNING %v after STARTING, before starttimeout=2s", d)
	}
	r.stopAll()
}

func TestSuperviseExitWhileStartingIsFatal(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:quick]
command=%s
starttimeout=10
autorestart=no
`, helperCommand(t, "exit", "3")))
	r.start()
	st := r.waitState("quick", "FATAL", lcWait)
	if !strings.Contains(st.Error, "exited too quickly: exit status 3") || st.Launches != 1 || st.Restarts != 0 || exitText(st) != "3" || st.PID != 0 {
		t.Errorf("status: %+v; want the error \"exited too quickly: exit status 3\", launches=1, exit 3", st)
	}
	code, out, _ := r.cli("status", "quick")
	if code != exitNotAll || !strings.Contains(out, "FATAL") || !strings.Contains(out, "exited too quickly") {
		t.Errorf("status quick: exit %d, output %q; want 3 with the state and the error", code, out)
	}
	if strings.Contains(r.serverLog(), "quick: STARTING -> BACKOFF") {
		t.Errorf("autorestart=no retried the start")
	}
	// FATAL stays FATAL for start; start -f tries again.
	code, _, errOut := r.cli("start", "quick")
	if code != exitFailed || !strings.Contains(errOut, "start -f") {
		t.Errorf("start quick (FATAL): exit %d, stderr %q; want 1 and a hint at start -f", code, errOut)
	}
	if code, _, _ := r.cli("start", "-f", "quick"); code != exitFailed {
		t.Errorf("start -f quick: exit %d; want 1 (it fails again)", code)
	}
	if st := r.status()["quick"]; st.State != "FATAL" || st.Launches != 2 {
		t.Errorf("after start -f: %+v; want FATAL after a second launch", st)
	}
	r.stopAll()
}

func TestSuperviseStartRetriesBackOffThenFatal(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:flaky]
command=%s
starttimeout=10
autorestart=yes
startretries=2
`, helperCommand(t, "exit", "3")))
	r.start()
	st := r.waitState("flaky", "FATAL", lcWait)
	if st.Launches != 3 || !strings.Contains(st.Error, "gave up after 2 retries") {
		t.Errorf("status: %+v; want launches=3 (startretries+1) and \"gave up after 2 retries\"", st)
	}
	inOrder(t, "server log", r.serverLog(),
		"flaky: STOPPED -> STARTING", "flaky: STARTING -> BACKOFF: exited too quickly: exit status 3", "retry 1/2 in 10ms",
		"flaky: BACKOFF -> STARTING", "flaky: STARTING -> BACKOFF", "retry 2/2 in 20ms",
		"flaky: BACKOFF -> STARTING", "flaky: STARTING -> FATAL")
	r.stopAll()
}

func TestSuperviseAutorestartUnexpected(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:expected]
command=%s
starttimeout=0.2
autorestart=unexpected
exitcodes=0,3

[program:unexpected]
command=%s
starttimeout=0.2
autorestart=unexpected
exitcodes=0,3
`, helperCommand(t, "exit", "3", "1s"), helperCommand(t, "exit", "4", "2s")))
	r.start()
	first := r.waitState("unexpected", "RUNNING", lcWait)
	again := r.waitStatus("unexpected", "restarted with a new pid", func(st programStatus) bool {
		return st.Restarts >= 1 && st.PID != 0 && st.PID != first.PID
	})
	if again.Restarts != 1 || again.Launches != 2 {
		t.Errorf("after one unexpected exit: %+v; want restarts=1, launches=2", again)
	}
	st := r.waitState("expected", "STOPPED", lcWait)
	if exitText(st) != "3" || st.Launches != 1 || st.Restarts != 0 {
		t.Errorf("expected exit code: %+v; want STOPPED with exit 3, launches=1, restarts=0", st)
	}
	log := r.serverLog()
	inOrder(t, "server log", log, "expected: STARTING -> RUNNING", "expected: RUNNING -> STOPPED: exited: exit status 3")
	inOrder(t, "server log", log, "unexpected: STARTING -> RUNNING", "unexpected: exited (exit status 4 after", "); restarting",
		"unexpected: RUNNING -> STARTING: pid "+strconv.Itoa(again.PID))
	r.stopAll()
}

func TestSuperviseRestartAtOnceThenBackOff(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:victim]
command=%s
starttimeout=0.2
autorestart=yes
`, helperCommand(t, "sleep", "1h")))
	r.realBackoff() // it waits for BACKOFF to act on it
	r.start()
	pids := []int{r.waitState("victim", "RUNNING", lcWait).PID}
	// kill kills the program's process and waits for its successor,
	// checking on the way that a quick death backs off and shows why.
	kill := func(backoff bool) programStatus {
		t.Helper()
		last := pids[len(pids)-1]
		if err := syscall.Kill(last, syscall.SIGKILL); err != nil {
			t.Fatalf("kill %d: %v", last, err)
		}
		if backoff {
			if st := r.waitState("victim", "BACKOFF", lcWait); !strings.Contains(st.Error, "killed by SIGKILL") {
				t.Errorf("BACKOFF status error %q; want why it backs off (killed by SIGKILL)", st.Error)
			}
		}
		st := r.waitStatus("victim", "RUNNING with a new pid", func(st programStatus) bool {
			return st.State == "RUNNING" && st.PID != 0 && st.PID != last
		})
		pids = append(pids, st.PID)
		return st
	}

	st := kill(false)
	if st.Restarts != 1 || st.Launches != 2 {
		t.Errorf("after the first kill: %+v; want restarts=1, launches=2", st)
	}
	log := r.serverLog()
	inOrder(t, "server log", log, "victim: exited (killed by SIGKILL after", "); restarting", "victim: RUNNING -> STARTING: pid "+strconv.Itoa(st.PID))
	if strings.Contains(log, "BACKOFF") {
		t.Errorf("the first death backed off instead of restarting at once")
	}

	kill(true)
	kill(true)
	st = r.status()["victim"]
	if st.Restarts != 3 || st.Launches != 4 {
		t.Errorf("after three kills: %+v; want restarts=3, launches=4", st)
	}
	inOrder(t, "server log", r.serverLog(),
		"victim: RUNNING -> BACKOFF: exited: killed by SIGKILL", "died quickly 2 times in a row, restart in 1s",
		"victim: BACKOFF -> STARTING",
		"victim: RUNNING -> BACKOFF: exited: killed by SIGKILL", "died quickly 3 times in a row, restart in 2s",
		"victim: BACKOFF -> STARTING")
	r.stopAll()
}

func TestSuperviseStopEscalatesKillBy(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:stubborn]
command=%s
starttimeout=0.2
killby=TERM,INT
stoptimeout=0.3
`, helperCommand(t, "ignore-term", "1h")))
	r.start()
	run := r.waitState("stubborn", "RUNNING", lcWait)
	r.waitProgramLog("stubborn", "ignore-term: ready")
	if code, _, _ := r.cli("stop", "stubborn"); code != 0 {
		t.Errorf("stop stubborn: exit %d, want 0", code)
	}
	st := r.status()["stubborn"]
	if st.State != "STOPPED" || exitText(st) != "SIGKILL" {
		t.Errorf("after stop: %+v; want STOPPED, exit SIGKILL", st)
	}
	group := fmt.Sprintf("to process group %d", run.PID)
	inOrder(t, "server log", r.serverLog(),
		"stubborn: RUNNING -> STOPPING",
		"stubborn: sending SIGTERM "+group,
		"stubborn: still running 300ms after SIGTERM",
		"stubborn: sending SIGINT "+group,
		"stubborn: still running 300ms after SIGINT",
		"stubborn: sending SIGKILL "+group,
		"stubborn: STOPPING -> STOPPED")
	if !gone(run.PID) {
		t.Errorf("pid %d still alive", run.PID)
	}
	r.stopAll()
}

func TestSuperviseStopWaitsForProcessGroup(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:family]
command=%s
starttimeout=0.2
killby=TERM,INT
stoptimeout=0.3
`, helperCommand(t, "grandchild", "1h")))
	r.start()
	run := r.waitState("family", "RUNNING", lcWait)
	gpid := reportedPidIn(t, r.waitProgramLog("family", "grandchild: pid=", "ignore-term: ready"), "grandchild")
	if st, err := readProcStat(gpid); err != nil || st.pgrp != run.PID {
		t.Fatalf("grandchild %d: %+v, %v; want it in the program's group %d", gpid, st, err, run.PID)
	}
	if code, _, _ := r.cli("stop", "family"); code != 0 {
		t.Errorf("stop family: exit %d, want 0", code)
	}
	// stop returned once STOPPED: by then the grandchild must be gone.
	if !reaped(gpid) {
		t.Errorf("grandchild %d still exists when the program is STOPPED", gpid)
	}
	if st := r.status()["family"]; st.State != "STOPPED" {
		t.Errorf("after stop: %+v; want STOPPED", st)
	}
	inOrder(t, "server log", r.serverLog(),
		"family: RUNNING -> STOPPING",
		"family: sending SIGTERM to process group",
		"family: sending SIGINT to process group",
		"family: sending SIGKILL to process group",
		"family: STOPPING -> STOPPED")
	r.stopAll()
}

func TestSuperviseNoProcessGroupSignalsPid(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:solo]
command=%s
starttimeout=0.2
processgroup=no
`, helperCommand(t, "sleep", "1h")))
	r.start()
	run := r.waitState("solo", "RUNNING", lcWait)
	if st, err := readProcStat(run.PID); err != nil || st.pgrp == run.PID {
		t.Errorf("pid %d: %+v, %v; want it in the server's process group, not its own", run.PID, st, err)
	}
	if code, _, _ := r.cli("stop", "solo"); code != 0 {
		t.Errorf("stop solo: exit %d, want 0", code)
	}
	log := r.serverLog()
	inOrder(t, "server log", log, "solo: RUNNING -> STOPPING", fmt.Sprintf("solo: sending SIGTERM to pid %d", run.PID), "solo: STOPPING -> STOPPED")
	if strings.Contains(log, "solo: sending SIGTERM to process group") {
		t.Errorf("processgroup=no signalled a process group")
	}
	r.stopAll()
}

// priorityStartTimeout is the starttimeout of TestSupervisePriorityOrder's
// programs (0.4 in its config): each priority group waits this long for the
// one before it.
const priorityStartTimeout = 400 * time.Millisecond

func TestSupervisePriorityOrder(t *testing.T) {
	t.Parallel()
	stamps := filepath.Join(t.TempDir(), "stamps")
	stamp := helperCommand(t, "stamp", stamps)
	// Written in neither start nor stop order.
	r := newTestRamona(t, fmt.Sprintf(`
[program:middle]
command=%[1]s
priority=200
starttimeout=0.4

[program:last]
command=%[1]s
priority=100
starttimeout=0.4

[program:first]
command=%[1]s
priority=300
starttimeout=0.4
`, stamp))
	r.start()
	names := []string{"first", "middle", "last"}
	pidName := map[int]string{}
	for _, n := range names {
		pidName[r.waitState(n, "RUNNING", lcWait).PID] = n
	}
	// RUNNING says a helper lived for starttimeout, not that it has stamped
	// yet: on a loaded machine its start-up may take longer.
	var data []byte
	waitFor(t, "every helper to stamp", lcWait, func() bool {
		data, _ = os.ReadFile(stamps)
		return bytes.Count(data, []byte("\n")) >= len(names)
	})
	var order []string
	var times []time.Time
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var pid int
		var ns int64
		if _, err := fmt.Sscanf(line, "%d %d", &pid, &ns); err != nil {
			t.Fatalf("stamp line %q: %v", line, err)
		}
		order = append(order, pidName[pid])
		times = append(times, time.Unix(0, ns))
	}
	if strings.Join(order, " ") != "first middle last" {
		t.Errorf("start order by stamp file: %q; want first middle last", order)
	}
	log := r.serverLog()
	for i := 1; i < len(names) && i < len(times); i++ {
		prev, next := names[i-1], names[i]
		// The next group starts only once the previous one is RUNNING, which
		// takes starttimeout from its spawn: next's stamp is at least
		// starttimeout after prev was spawned (the server logs STARTING
		// right after the fork; its timestamps are cut to the millisecond).
		// Two stamps need not be: each is taken after its helper's own
		// start-up, whose length varies.
		inOrder(t, "server log", log, prev+": STARTING -> RUNNING", next+": STOPPED -> STARTING")
		starting := logTime(t, log, prev+": STOPPED -> STARTING")
		running := logTime(t, log, prev+": STARTING -> RUNNING")
		if d := running.Sub(starting); d < priorityStartTimeout-time.Millisecond {
			t.Errorf("%s RUNNING %v after STARTING, before starttimeout", prev, d)
		}
		if times[i].Before(running) {
			t.Errorf("%s stamped %s, before %s was RUNNING at %s", next, times[i].Format("15:04:05.000000"), prev, running.Format("15:04:05.000"))
		}
		if d := times[i].Sub(starting); d < priorityStartTimeout-time.Millisecond {
			t.Errorf("%s stamped %v after %s was spawned; want at least starttimeout (%v)", next, d, prev, priorityStartTimeout)
		}
	}
	r.stopAll()
	inOrder(t, "server log (stop)", r.serverLog(),
		"last: RUNNING -> STOPPING", "last: STOPPING -> STOPPED",
		"middle: RUNNING -> STOPPING", "middle: STOPPING -> STOPPED",
		"first: RUNNING -> STOPPING", "first: STOPPING -> STOPPED")
}

func TestSupervisePriorityFailureDoesNotBlockLaterGroups(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:broken]
command=%s
priority=300
starttimeout=10

[program:later]
command=%s
priority=200
starttimeout=0.2

[program:last]
command=%s
priority=100
starttimeout=0.2
`, helperCommand(t, "exit", "1"), helperCommand(t, "sleep", "1h"), helperCommand(t, "sleep", "1h")))
	r.start("-S")
	code, out, errOut := r.cli("start")
	if code != exitFailed {
		t.Errorf("start: exit %d, want 1 (a program failed)", code)
	}
	if !strings.Contains(out+errOut, "broken: FATAL") || !strings.Contains(errOut, "1 program(s) failed") {
		t.Errorf("start did not report the failure of broken:\nstdout: %s\nstderr: %s", out, errOut)
	}
	all := r.status()
	if all["broken"].State != "FATAL" || all["later"].State != "RUNNING" || all["last"].State != "RUNNING" {
		t.Errorf("states: broken %s, later %s, last %s; want FATAL, RUNNING, RUNNING", all["broken"].State, all["later"].State, all["last"].State)
	}
	inOrder(t, "server log", r.serverLog(), "broken: STARTING -> FATAL", "later: STOPPED -> STARTING", "later: STARTING -> RUNNING", "last: STOPPED -> STARTING")
	r.stopAll()
}

func TestSuperviseDisabledAndAutostart(t *testing.T) {
	t.Parallel()
	sleep := helperCommand(t, "sleep", "1h")
	r := newTestRamona(t, fmt.Sprintf(`
[program:off]
command=%[1]s
disabled=yes
starttimeout=0.2

[program:manual]
command=%[1]s
autostart=no
starttimeout=0.2

[program:auto]
command=%[1]s
starttimeout=0.2
`, sleep))
	r.start()
	r.waitServerLog("server: start sequence finished")
	all := r.status()
	if st := all["off"]; st.State != "DISABLED" || st.PID != 0 || st.Launches != 0 {
		t.Errorf("off: %+v; want DISABLED, never launched", st)
	}
	if st := all["manual"]; st.State != "STOPPED" || st.Launches != 0 {
		t.Errorf("manual: %+v; want STOPPED, never launched", st)
	}
	if st := all["auto"]; st.State != "RUNNING" {
		t.Errorf("auto: %+v; want RUNNING", st)
	}
	if code, _, _ := r.cli("status"); code != 0 {
		t.Errorf("status: exit %d; want 0 (disabled and autostart=no programs need not run)", code)
	}
	code, _, errOut := r.cli("start", "off")
	if code != exitFailed || !strings.Contains(errOut, "off: is disabled in the configuration") {
		t.Errorf("start off: exit %d, stderr %q; want 1 and \"off: is disabled in the configuration\"", code, errOut)
	}
	if code, _, _ := r.cli("start", "manual"); code != 0 {
		t.Errorf("start manual: exit %d, want 0", code)
	}
	if st := r.status()["manual"]; st.State != "RUNNING" || st.Launches != 1 {
		t.Errorf("manual after start: %+v; want RUNNING", st)
	}
	if st := r.status()["off"]; st.State != "DISABLED" || st.Launches != 0 {
		t.Errorf("off: %+v; want still DISABLED, never launched", st)
	}
	r.stopAll()
}

func TestSuperviseDirectoryAndUmask(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:where]
command=%s
directory=work
umask=027
starttimeout=0.1
`, helperCommand(t, "pwd-umask", "once")))
	work := filepath.Join(r.dir, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	r.start()
	text := r.waitProgramLog("where", "where EXITED")
	m := regexp.MustCompile(`cwd=(\S+) umask=(\d+)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no cwd/umask line in the program's log:\n%s", text)
	}
	want, _ := filepath.EvalSymlinks(work)
	got, _ := filepath.EvalSymlinks(m[1])
	if got != want || m[2] != "0027" {
		t.Errorf("cwd=%s umask=%s; want cwd=%s (directory= relative to the config file) umask=0027", m[1], m[2], work)
	}
	r.stopAll()
}

func TestSuperviseEnvironment(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[env]
RAMONA_TEST_EXTRA=hello world
RAMONA_TEST_REMOVE=
RAMONA_TEST_MODE=once

[program:envy]
command=%s ${RAMONA_TEST_MODE}
starttimeout=0.1
`, helperCommand(t, "env")))
	// A relative -c from the config's directory: RAMONA_CONFIG must be absolute.
	r.startIn(r.dir, []string{"RAMONA_TEST_REMOVE=from-the-server", "RAMONA_TEST_KEEP=kept"}, "-c", "ramona.conf", "daemon")
	// The helper exits only when ${RAMONA_TEST_MODE} became "once".
	text := r.waitProgramLog("envy", "envy EXITED")
	env := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(k, "-=[") {
			env[k] = v
		}
	}
	want := map[string]string{
		"RAMONA_CONFIG":     r.conf,
		"RAMONA_SECTION":    "program:envy",
		"RAMONA_TEST_EXTRA": "hello world",
		"RAMONA_TEST_KEEP":  "kept",
		"RAMONA_TEST_ID":    r.id,
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s=%q in the program's environment; want %q", k, env[k], v)
		}
	}
	if v, ok := env["RAMONA_TEST_REMOVE"]; ok {
		t.Errorf("RAMONA_TEST_REMOVE=%q is in the program's environment; [env] RAMONA_TEST_REMOVE= should remove it", v)
	}
	if st := r.status()["envy"]; st.Launches != 1 || exitText(st) != "0" {
		t.Errorf("status: %+v; want one launch that exited 0", st)
	}
	r.stopAll()
}

// sharedTestBinary puts this test binary into a new directory that every
// user can enter, for programs and attackers that run as another user (go
// test's own directory is root's alone): a hard link, or where the
// directories are on different file systems a copy (17 MB).
func sharedTestBinary(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ramona-user-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "ramona.test")
	if os.Link(testBinary(t), path) == nil {
		return path
	}
	src, err := os.Open(testBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSuperviseUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("user= needs root")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody: %v", err)
	}
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:nob]
command=%s
user=nobody
directory=/
starttimeout=0.2
`, helperCommand(t, "sleep", "1h")))
	r.start()
	st := r.waitState("nob", "RUNNING", lcWait)
	r.waitProgramLog("nob", "sleep: started pid=")
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", st.PID))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)`).FindStringSubmatch(string(status))
	if m == nil || m[1] != nobody.Uid || m[2] != nobody.Uid || m[3] != nobody.Uid {
		t.Errorf("pid %d runs with %q; want uid %s (nobody)", st.PID, m, nobody.Uid)
	}
	m = regexp.MustCompile(`(?m)^Gid:\s+(\d+)`).FindStringSubmatch(string(status))
	if m == nil || m[1] != nobody.Gid {
		t.Errorf("pid %d runs with gid %q; want %s (nobody's group)", st.PID, m, nobody.Gid)
	}
	environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", st.PID))
	if err != nil {
		t.Fatal(err)
	}
	vars := strings.Split(string(environ), "\x00")
	for _, want := range []string{"USER=nobody", "LOGNAME=nobody", "HOME=" + nobody.HomeDir} {
		if !contains(vars, want) {
			t.Errorf("%s is not in the program's environment", want)
		}
	}
	r.stopAll()
}

func TestSuperviseCoreDump(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:core]
command=%s
coredump=yes
starttimeout=0.2

[program:nocore]
command=%s
starttimeout=0.2
`, helperCommand(t, "rlimit-core"), helperCommand(t, "sleep", "1h")))
	want := "core=unlimited"
	if os.Geteuid() != 0 {
		var lim syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_CORE, &lim); err != nil {
			t.Fatal(err)
		}
		want = "core=" + rlimitString(lim.Max) // the most a non-root server can give
	}
	r.start()
	r.waitState("core", "RUNNING", lcWait)
	r.waitState("nocore", "RUNNING", lcWait)
	if text := r.waitProgramLog("core", "core="); !strings.Contains(text, want+"\n") {
		t.Errorf("coredump=yes program's log: %q; want %q", text, want)
	}
	if code, _, _ := r.cli("stop", "-c", "core", "nocore"); code != 0 {
		t.Errorf("stop -c core nocore: exit %d, want 0", code)
	}
	log := r.serverLog()
	inOrder(t, "server log", log, "core: RUNNING -> STOPPING", "core: sending SIGQUIT to process group", "core: STOPPING -> STOPPED")
	if i, j := strings.Index(log, "core: sending SIGQUIT"), strings.Index(log, "core: sending SIGTERM"); j >= 0 && j < i {
		t.Errorf("SIGTERM before SIGQUIT")
	}
	inOrder(t, "server log", log, "nocore: RUNNING -> STOPPING", "nocore: sending SIGTERM", "nocore: STOPPING -> STOPPED")
	if strings.Contains(log, "nocore: sending SIGQUIT") {
		t.Errorf("stop -c sent SIGQUIT to a program with coredump=no")
	}
	r.stopAll()
}

func TestSuperviseSpawnFailuresAreFatal(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:nobin]
command=/nonexistent/ramona-no-such-binary
autostart=no

[program:nodir]
command=%s
directory=/nonexistent/ramona-no-such-dir
autostart=no
`, helperCommand(t, "sleep", "1h")))
	r.start()
	for name, want := range map[string]string{
		"nobin": "/nonexistent/ramona-no-such-binary: no such file or directory",
		"nodir": "directory /nonexistent/ramona-no-such-dir: no such file or directory",
	} {
		code, out, errOut := r.cli("start", name)
		if code != exitFailed || !strings.Contains(out+errOut, want) {
			t.Errorf("start %s: exit %d, output %q %q; want 1 and %q", name, code, out, errOut, want)
		}
		st := r.status()[name]
		if st.State != "FATAL" || !strings.Contains(st.Error, want) || st.PID != 0 || st.Launches != 0 {
			t.Errorf("%s: %+v; want FATAL with the error %q and no launch", name, st, want)
		}
	}
	r.stopAll()
}

func TestSuperviseServerSIGTERMStopsInOrder(t *testing.T) {
	t.Parallel()
	sleep := helperCommand(t, "sleep", "1h")
	r := newTestRamona(t, fmt.Sprintf(`
[program:low]
command=%[1]s
priority=100
starttimeout=0.2

[program:high]
command=%[1]s
priority=200
starttimeout=0.2
`, sleep))
	srv := r.start()
	high := r.waitState("high", "RUNNING", lcWait)
	low := r.waitState("low", "RUNNING", lcWait)
	srv.signal(syscall.SIGTERM)
	if code, err := srv.wait(lcWait); err != nil || code != 0 {
		t.Errorf("server after SIGTERM: exit %d, %v; want 0", code, err)
	}
	inOrder(t, "server log", r.serverLog(), "server: got SIGTERM",
		"low: RUNNING -> STOPPING", "low: STOPPING -> STOPPED",
		"high: RUNNING -> STOPPING", "high: STOPPING -> STOPPED",
		"server: all programs stopped; exiting with status 0")
	for _, pid := range []int{high.PID, low.PID} {
		if !gone(pid) {
			t.Errorf("pid %d outlived the server", pid)
		}
	}
}

func TestSuperviseServerKilledTakesProgramsAlong(t *testing.T) {
	t.Parallel()
	sleep := helperCommand(t, "sleep", "1h")
	r := newTestRamona(t, fmt.Sprintf(`
[program:grouped]
command=%[1]s
starttimeout=0.2

[program:ungrouped]
command=%[1]s
starttimeout=0.2
processgroup=no

[program:shimmed]
command=%[1]s
starttimeout=0.2
umask=022

[program:family]
command=%[2]s
starttimeout=0.2
`, sleep, helperCommand(t, "grandchild", "1h")))
	srv := r.start()
	var pids []int
	for _, n := range []string{"grouped", "ungrouped", "shimmed", "family"} {
		pids = append(pids, r.waitState(n, "RUNNING", lcWait).PID)
	}
	// The grandchild gets no parent-death signal from the kernel: the
	// group guard must kill it.
	pids = append(pids, reportedPidIn(t, r.waitProgramLog("family", "grandchild: pid=", "ignore-term: ready"), "grandchild"))
	srv.signal(syscall.SIGKILL)
	if _, err := srv.wait(lcWait); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("server after SIGKILL: %v; want killed", err)
	}
	for _, pid := range pids {
		waitFor(t, fmt.Sprintf("pid %d to die with the server", pid), lcWait, func() bool { return gone(pid) })
	}
}

func TestSuperviseOrphansAreReapedAndKilled(t *testing.T) {
	t.Parallel()
	df := helperCommand(t, "double-fork", "1h")
	r := newTestRamona(t, fmt.Sprintf(`
[program:parent]
command=%[1]s
starttimeout=0.2
killby=TERM,INT
stoptimeout=0.3

[program:other]
command=%[1]s
starttimeout=0.2
`, df))
	srv := r.start()
	server := srv.cmd.Process.Pid
	run := r.waitState("parent", "RUNNING", lcWait)
	orphan := reportedPidIn(t, r.waitProgramLog("parent", "double-fork: pid=", "ignore-term: ready"), "double-fork")
	if st, err := readProcStat(orphan); err != nil || st.ppid != server || st.pgrp != run.PID {
		t.Fatalf("orphan %d: %+v, %v; want parent %d (the server, a subreaper) and group %d", orphan, st, err, server, run.PID)
	}

	// An orphan that dies while its program runs is reaped by the server.
	r.waitState("other", "RUNNING", lcWait)
	other := reportedPidIn(t, r.waitProgramLog("other", "double-fork: pid=", "ignore-term: ready"), "double-fork")
	if err := syscall.Kill(other, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, fmt.Sprintf("the server to reap orphan %d", other), lcWait, func() bool { return reaped(other) })

	// Stopping the program kills its orphan with the group, and waits for it.
	if code, _, _ := r.cli("stop", "parent"); code != 0 {
		t.Errorf("stop parent: exit %d, want 0", code)
	}
	if !reaped(orphan) {
		t.Errorf("orphan %d still exists when parent is STOPPED", orphan)
	}
	inOrder(t, "server log", r.serverLog(), "parent: RUNNING -> STOPPING", "parent: sending SIGTERM to process group",
		"parent: sending SIGINT to process group", "parent: sending SIGKILL to process group", "parent: STOPPING -> STOPPED")
	r.stopAll()
}

func TestSuperviseEssentialExitStopsServer(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:bystander]
command=%s
priority=200
starttimeout=0.2

[program:vital]
command=%s
priority=100
starttimeout=0.2
essential=yes
autorestart=no
`, helperCommand(t, "sleep", "1h"), helperCommand(t, "exit", "7", "1s")))
	srv := r.start()
	if code, err := srv.wait(lcWait); err != nil || code != 7 {
		t.Errorf("server: exit %d, %v; want 7 (the essential program's code)", code, err)
	}
	log := r.serverLog()
	inOrder(t, "server log", log, "vital: STARTING -> RUNNING", "vital: RUNNING -> FATAL: exited: exit status 7",
		"vital: essential program ended", "bystander: RUNNING -> STOPPING", "bystander: STOPPING -> STOPPED",
		"server: all programs stopped; exiting with status 7")
	if m := regexp.MustCompile(`bystander: STOPPED -> STARTING: pid (\d+)`).FindStringSubmatch(log); m == nil {
		t.Errorf("bystander never started")
	} else if pid, _ := strconv.Atoi(m[1]); !gone(pid) {
		t.Errorf("bystander pid %d outlived the server", pid)
	}
}

func TestSuperviseReadyNotifyTimeout(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:silent]
command=%s
ready=notify
readytimeout=0.5
autorestart=yes
startretries=1
stoptimeout=0.3
`, helperCommand(t, "sleep", "1h")))
	r.start()
	st := r.waitState("silent", "FATAL", lcWait)
	if st.Launches != 2 || !strings.Contains(st.Error, "no READY=1 within 500ms; gave up after 1 retries") {
		t.Errorf("status: %+v; want launches=2 and the readiness error", st)
	}
	inOrder(t, "server log", r.serverLog(),
		"silent: no READY=1 within readytimeout 500ms; stopping it", "silent: STARTING -> STOPPING", "silent: STOPPING -> BACKOFF: no READY=1 within 500ms", "retry 1/1 in 10ms",
		"silent: no READY=1 within readytimeout 500ms; stopping it", "silent: STARTING -> STOPPING", "silent: STOPPING -> FATAL")
	if strings.Contains(r.serverLog(), "silent: STARTING -> RUNNING") {
		t.Errorf("ready=notify program became RUNNING without READY=1")
	}
	r.stopAll()
}

func TestSuperviseStopWhileStartSequenceWaits(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:flaky]
command=%s
starttimeout=10
autorestart=yes
startretries=3
`, helperCommand(t, "exit", "3")))
	r.realBackoff() // it waits for BACKOFF to act on it
	r.start()
	// The server's start sequence waits for flaky while it is in BACKOFF;
	// a stop ends both the program's wait and that sequence.
	r.waitState("flaky", "BACKOFF", lcWait)
	if code, _, _ := r.cli("stop", "flaky"); code != 0 {
		t.Errorf("stop flaky: exit %d, want 0", code)
	}
	if st := r.status()["flaky"]; st.State != "STOPPED" {
		t.Errorf("flaky after stop in BACKOFF: %+v; want STOPPED", st)
	}
	r.stopAll()
}

func TestSuperviseStopEssentialKeepsServer(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:vital]
command=%s
starttimeout=0.2
essential=yes
`, helperCommand(t, "sleep", "1h")))
	srv := r.start()
	r.waitState("vital", "RUNNING", lcWait)
	// Stopping an essential program on request is no failure: the server stays.
	if code, _, _ := r.cli("stop", "vital"); code != 0 {
		t.Errorf("stop vital: exit %d, want 0", code)
	}
	if code, err := srv.wait(500 * time.Millisecond); err == nil {
		t.Fatalf("the server exited with %d when an essential program was stopped on request", code)
	}
	if code, _, _ := r.cli("restart", "vital"); code != 0 {
		t.Errorf("restart vital: exit %d, want 0", code)
	}
	if st := r.status()["vital"]; st.State != "RUNNING" || st.Launches != 2 {
		t.Errorf("vital: %+v; want RUNNING, launched twice", st)
	}
	if strings.Contains(r.serverLog(), "essential program ended") {
		t.Errorf("the server took a requested stop for an essential program's failure")
	}
	r.stopAll()
}

func TestSuperviseEssentialExpectedExitStopsServer(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:job]
command=%s
starttimeout=0.2
essential=yes
`, helperCommand(t, "exit", "0", "0.5s")))
	srv := r.start()
	// Its work done (an expected exit, no restart), the server's is too.
	if code, err := srv.wait(lcWait); err != nil || code != 0 {
		t.Errorf("server: exit %d, %v; want 0 (the essential program's code)", code, err)
	}
	inOrder(t, "server log", r.serverLog(), "job: RUNNING -> STOPPED: exited: exit status 0",
		"job: essential program ended", "server: all programs stopped; exiting with status 0")
}

func TestSuperviseStartAfterStopGetsFullRetries(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:flaky]
command=%s
starttimeout=10
autorestart=yes
startretries=1
`, helperCommand(t, "exit", "3")))
	r.realBackoff() // it waits for BACKOFF to act on it
	r.start()
	r.waitState("flaky", "BACKOFF", lcWait)
	if code, _, _ := r.cli("stop", "flaky"); code != 0 {
		t.Errorf("stop flaky: exit %d, want 0", code)
	}
	if st := r.status()["flaky"]; st.State != "STOPPED" {
		t.Fatalf("flaky after stop in BACKOFF: %+v; want STOPPED", st)
	}
	// A new start is a new attempt: it gets its retries again.
	r.cli("start", "-i", "flaky")
	st := r.waitState("flaky", "FATAL", lcWait)
	if st.Launches != 3 {
		t.Errorf("flaky: %+v; want 3 launches (1 before the stop, 1 + 1 retry after the start)", st)
	}
	log := r.serverLog()
	if n := strings.Count(log, "retry 1/1 in 1s"); n != 2 {
		t.Errorf("\"retry 1/1 in 1s\" %d times in the server log; want 2 (once per start)", n)
	}
	r.stopAll()
}

func TestSuperviseStartAfterStopRestartsAtOnce(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:victim]
command=%s
starttimeout=0.2
autorestart=yes
`, helperCommand(t, "sleep", "1h")))
	r.realBackoff() // it waits for BACKOFF to act on it
	r.start()
	st := r.waitState("victim", "RUNNING", lcWait)
	syscall.Kill(st.PID, syscall.SIGKILL) // restarted at once
	st = r.waitStatus("victim", "RUNNING with a new pid", func(n programStatus) bool {
		return n.State == "RUNNING" && n.PID != 0 && n.PID != st.PID
	})
	syscall.Kill(st.PID, syscall.SIGKILL) // a quick death: backs off
	r.waitState("victim", "BACKOFF", lcWait)
	if code, _, _ := r.cli("stop", "victim"); code != 0 {
		t.Errorf("stop victim: exit %d, want 0", code)
	}
	// A new start is a new run: its first death restarts at once again.
	if code, _, _ := r.cli("start", "victim"); code != 0 {
		t.Errorf("start victim: exit %d, want 0", code)
	}
	st = r.status()["victim"]
	syscall.Kill(st.PID, syscall.SIGKILL)
	r.waitStatus("victim", "RUNNING with a new pid", func(n programStatus) bool {
		return n.State == "RUNNING" && n.PID != 0 && n.PID != st.PID
	})
	if n := strings.Count(r.serverLog(), "victim: RUNNING -> BACKOFF"); n != 1 {
		t.Errorf("%d backoffs in the server log; want 1 (the first death after a start restarts at once)", n)
	}
	r.stopAll()
}

func TestSuperviseSIGTERMDuringStartSequence(t *testing.T) {
	t.Parallel()
	sleep := helperCommand(t, "sleep", "1h")
	r := newTestRamona(t, fmt.Sprintf(`
[program:slow]
command=%s
priority=200
starttimeout=60

[program:next]
command=%s
priority=100
starttimeout=0.2
`, sleep, sleep))
	srv := r.start()
	r.waitState("slow", "STARTING", lcWait)
	srv.signal(syscall.SIGTERM)
	// The server stops what runs and starts nothing more: it exits at once.
	if code, err := srv.wait(lcWait); err != nil || code != 0 {
		t.Errorf("server after SIGTERM during the start sequence: exit %d, %v; want 0", code, err)
	}
	if strings.Contains(r.serverLog(), "next: STOPPED -> STARTING") {
		t.Errorf("the start sequence went on after SIGTERM")
	}
}

func TestSuperviseExitWhileStartingWithOutputHeldOpen(t *testing.T) {
	t.Parallel()
	// orphan-maker exits at once and leaves a child that holds its output
	// pipe (as a daemonizing program does): its main process died while
	// STARTING, a failed start even though its output is still open. The
	// server waits up to 1s after the exit for that output, longer than
	// starttimeout.
	r := newTestRamona(t, fmt.Sprintf(`
[program:daemonish]
command=%s
autostart=no
starttimeout=0.5
killby=TERM,INT
stoptimeout=0.3
`, helperCommand(t, "orphan-maker", "1h")))
	r.start()
	code, out, errOut := r.cli("start", "daemonish")
	orphan := reportedPidIn(t, r.waitProgramLog("daemonish", "orphan-maker: pid="), "orphan-maker")
	st := r.waitStatus("daemonish", "FATAL or STOPPED", func(st programStatus) bool { return st.State == "FATAL" || st.State == "STOPPED" })
	log := r.serverLog()
	m := regexp.MustCompile(`daemonish: .*exit status 0 after (\S+)`).FindStringSubmatch(log)
	if m == nil {
		t.Fatalf("no exit of daemonish in the server log")
	}
	uptime, err := time.ParseDuration(m[1])
	if err != nil {
		t.Fatalf("uptime %q: %v", m[1], err)
	}
	// The server measures the uptime when it handles the exit: below
	// starttimeout, it handled the exit before the timer's event.
	if uptime < 500*time.Millisecond-10*time.Millisecond {
		if code != exitFailed {
			t.Errorf("start daemonish: exit %d, want 1\nstdout: %s\nstderr: %s", code, out, errOut)
		}
		if st.State != "FATAL" || !strings.Contains(st.Error, "exited too quickly: exit status 0") {
			t.Errorf("status: %+v; want FATAL, exited too quickly", st)
		}
		if strings.Contains(log, "daemonish: STARTING -> RUNNING") {
			t.Errorf("daemonish was RUNNING although its process had exited %v after its start, while STARTING", uptime)
		}
	} else {
		t.Logf("a slow machine: orphan-maker lived %v, past starttimeout; RUNNING was right and this test checks little", uptime)
	}
	waitFor(t, fmt.Sprintf("the left-over process %d to be killed and reaped", orphan), lcWait, func() bool { return reaped(orphan) })
	r.stopAll()
}

// TestSuperviseStopRequestedWhileFailedStartStops: a program being stopped
// because it sent no READY=1 would retry (or end FATAL) once stopped; an
// operator's stop that arrives meanwhile wins, and it ends STOPPED.
func TestSuperviseStopRequestedWhileFailedStartStops(t *testing.T) {
	needShell(t)
	t.Parallel()
	// The shell ignores SIGTERM as its first act and sleep inherits that
	// (a Go helper would have to start its runtime first, which under load
	// took longer than a short readytimeout, and then die of the SIGTERM).
	r := newTestRamona(t, `
[program:deaf]
command=sh -c 'trap "" TERM; exec sleep 3600'
ready=notify
readytimeout=1
autorestart=yes
startretries=0
stoptimeout=1h
`)
	r.start()
	st := r.waitState("deaf", "STOPPING", lcWait) // SIGTERM sent, ignored: it stays STOPPING
	stopped := make(chan int, 1)
	go func() { // ends when the stop command returns
		code, _, _ := r.cli("stop", "deaf")
		stopped <- code
	}()
	r.waitServerLog("server: stop deaf requested")
	syscall.Kill(st.PID, syscall.SIGKILL)
	select {
	case code := <-stopped:
		if code != 0 {
			t.Errorf("stop deaf: exit %d, want 0", code)
		}
	case <-time.After(lcWait):
		t.Fatalf("stop deaf did not return after the process was killed")
	}
	if st := r.status()["deaf"]; st.State != "STOPPED" || st.Launches != 1 {
		t.Errorf("deaf after a stop asked while it was stopped for its failed start: %s, launches %d; want STOPPED, 1", st.State, st.Launches)
	}
	r.stopAll()
}

// TestSuperviseMainPIDMovesTheStopSignal: a processgroup=no program whose
// main process forks the service, says MAINPID= and exits (a classic
// daemon) is stopped by signalling the new main process.
func TestSuperviseMainPIDMovesTheStopSignal(t *testing.T) {
	needSystemdNotify(t)
	t.Parallel()
	signals := filepath.Join(t.TempDir(), "signals")
	service := strings.ReplaceAll(helperCommand(t, "signals", signals, "service"), "'", "")
	r := newTestRamona(t, fmt.Sprintf(`
[program:daemon]
processgroup=no
starttimeout=0
stoptimeout=1h
command=sh -c '%s & systemd-notify MAINPID=$! && echo told'
stdout=<stderr>
`, service))
	r.start()
	r.waitProgramLog("daemon", "signals: service ready", "told")
	r.waitServerLog("daemon: main pid is now")
	if code, _, _ := r.cli("stop", "daemon"); code != 0 {
		t.Errorf("stop daemon: exit %d, want 0", code)
	}
	data, _ := os.ReadFile(signals)
	if string(data) != "service SIGTERM\n" {
		t.Errorf("signals the service got: %q; want SIGTERM, sent to the pid MAINPID= named", data)
	}
	if st := r.status()["daemon"]; st.State != "STOPPED" {
		t.Errorf("daemon after stop: %s, want STOPPED", st.State)
	}
	r.stopAll()
}
