//go:build unix

// End-to-end tests of the command line: the exit codes of every command
// (usage and configuration errors, no server, unknown programs, failures),
// CFGERROR isolation as status and start show it, the server `start` runs in
// the background (and its failures), restart and the stop variants, tools,
// and the shipped examples/demo.conf, which keeps the README quick start honest.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cliCase is one command line and what it must do.
type cliCase struct {
	args []string
	code int
	want string // in stdout or stderr
}

func runCases(t *testing.T, conf string, cases []cliCase) {
	t.Helper()
	for _, tc := range cases {
		code, out, errOut := cli(t, conf, tc.args...)
		if code != tc.code || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("ramona %s: exit %d, stdout %q, stderr %q; want exit %d and %q",
				strings.Join(tc.args, " "), code, out, errOut, tc.code, tc.want)
		}
	}
}

func TestCLIWithoutServer(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, progSection("one", helperCommand(t, "sleep", "1h")))
	notRunning := "the server is not running or cannot be reached at unix://" + r.sock()
	runCases(t, r.conf, []cliCase{
		{[]string{"help"}, 0, "usage: ramona"},
		{[]string{"-h"}, 0, "usage: ramona"},
		{[]string{"version"}, 0, "ramona " + version},
		{nil, exitUsage, "no command given"},
		{[]string{"-x", "status"}, exitUsage, "ramona: -x: unknown option\nusage: ramona [-c FILE]... [-d|-s] COMMAND [ARGS]\n`ramona help` lists the commands\n"},
		{[]string{"status", "--bogus"}, exitUsage, "ramona: status --bogus: unknown option\nusage: ramona status [--json] [PROG...]\n`ramona help status` explains it\n"},
		{[]string{"stop", "-x", "one"}, exitUsage, "ramona: stop -x: unknown option\nusage: ramona stop [-i] [-c] [-E|-S] [PROG...]\n"},
		{[]string{"stop", "-E", "one"}, exitUsage, "stop -E stops every program and the server: no program names with it"},
		{[]string{"stop", "-ES"}, exitUsage, "stop -E and -S"},
		{[]string{"bogus"}, exitUsage, `unknown command "bogus"`},
		{[]string{"tail"}, exitUsage, "tail needs exactly one program name"},
		{[]string{"tail", "-l", "bogus", "one"}, exitUsage, "tail -l bogus: use stdout or stderr"},
		{[]string{"tail", "--log-stream=bogus", "one"}, exitUsage, "tail --log-stream bogus: use stdout or stderr"},
		{[]string{"tail", "-n", "x", "one"}, exitUsage, "tail -n x: not a number of lines"},
		{[]string{"tail", "--lines"}, exitUsage, "tail --lines: needs a value (N)"},
		{[]string{"who", "x"}, exitUsage, "who takes no arguments"},
		{[]string{"reload", "x"}, exitUsage, "reload takes no arguments"},
		{[]string{"status"}, exitNoServer, notRunning},
		{[]string{"status", "one"}, exitNoServer, notRunning},
		{[]string{"stop"}, 0, "ramona: the server is not running (nothing listens at unix://" + r.sock() + "); nothing to stop"},
		{[]string{"stop", "one"}, 0, "the server is not running"},
		{[]string{"stop", "nosuch"}, exitUsage, "unknown program nosuch"},
		{[]string{"who"}, exitNoServer, notRunning},
		{[]string{"tail", "one"}, exitNoServer, notRunning},
		{[]string{"reload"}, exitNoServer, notRunning},
		{[]string{"notify", "hi"}, exitNoServer, notRunning},
		{[]string{"start", "-n"}, exitNoServer, notRunning},
		{[]string{"restart", "-n", "one"}, exitNoServer, notRunning},
	})
	code, _, errOut := cli(t, filepath.Join(r.dir, "missing.conf"), "status")
	if code != exitUsage || !strings.Contains(errOut, "missing.conf: cannot read the configuration file") {
		t.Errorf("status with a missing file: exit %d, %q; want %d", code, errOut, exitUsage)
	}
}

// TestCLIBrokenGlobalSection: a configuration whose global sections are
// broken starts no server: the commands that need it refuse with exit 2 and
// file:line; status, stop, who and tail still look for a running server
// (there is none here), with the errors as a warning. stop says the server
// is not running (exit 0) where the file still says where it would listen,
// and exit 4 where the errors may hide that.
func TestCLIBrokenGlobalSection(t *testing.T) {
	t.Parallel()
	for _, broken := range []struct {
		text, key    string
		addressKnown bool
	}{
		{"[general]\nlogmaxsize=lots\n", "[general] logmaxsize:", true},
		{"[ramona:server]\nloglevel=chatty\n", "[ramona:server] loglevel:", false},
		{"[ramona:console]\nserveruri=ftp://host\n", "[ramona:console] serveruri:", false},
	} {
		dir := t.TempDir()
		conf := filepath.Join(dir, "ramona.conf")
		text := "[general]\nlogdir=./log\n\n[ramona:server]\nconsoleuri=unix://r.sock\n\n" +
			progSection("one", helperCommand(t, "sleep", "1h")) + "[tool:greet]\ncommand=" + helperCommand(t, "exit", "0") + "\n\n" + broken.text
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("%s:%d: %s", conf, lineOf(t, conf, strings.Split(broken.text, "\n")[1]), broken.key)
		var cases []cliCase
		for _, args := range [][]string{{"start"}, {"start", "-n", "one"}, {"restart", "one"},
			{"reload"}, {"notify", "hi"}, {"daemon"}, {"server", "-S"}, {"greet"}, {"bogus"}} {
			cases = append(cases, cliCase{args, exitUsage, want})
		}
		for _, args := range [][]string{{"status"}, {"status", "--json", "one"}, {"tail", "one"}, {"who"}} {
			cases = append(cases, cliCase{args, exitNoServer, want})
		}
		stopCode := exitNoServer
		if broken.addressKnown {
			stopCode = exitOK
		}
		cases = append(cases, cliCase{[]string{"stop"}, stopCode, want}, cliCase{[]string{"stop", "one"}, stopCode, want})
		runCases(t, conf, cases)
		for _, args := range [][]string{{"start"}, {"reload"}, {"greet"}} {
			if _, out, errOut := cli(t, conf, args...); strings.Contains(out+errOut, "warning") {
				t.Errorf("%s: %q %q; the errors of a command that refuses are errors, not a warning", args, out, errOut)
			}
		}
		_, out, errOut := cli(t, conf, "status")
		if !strings.HasPrefix(errOut, "ramona: warning: the configuration has errors") || !strings.Contains(errOut, want) ||
			!strings.Contains(errOut, "the server is not running or cannot be reached") || out != "" {
			t.Errorf("status: stdout %q, stderr %q; want the errors as a warning first, then that no server answers", out, errOut)
		}
		if _, err := os.Lstat(filepath.Join(dir, "r.sock")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a server was started with a broken configuration: %v", err)
		}
	}
}

func TestCLIExitCodes(t *testing.T) {
	t.Parallel()
	sleep := helperCommand(t, "sleep", "1h")
	r := newTestRamona(t, progSection("one", sleep)+progSection("two", sleep)+progSection("manual", sleep, "autostart=no")+
		progSection("broken", "/nonexistent/prog", "autostart=no"))
	r.start()
	r.waitState("one", "RUNNING", 10*time.Second)
	r.waitState("two", "RUNNING", 10*time.Second)
	unknown := "unknown program nosuch; the configuration has: one, two, manual, broken"
	runCases(t, r.conf, []cliCase{
		{[]string{"status"}, 0, "RUNNING"},
		{[]string{"status", "one"}, 0, "one"},
		{[]string{"status", "--json"}, 0, `"state": "RUNNING"`},
		{[]string{"status", "manual"}, exitNotAll, "STOPPED"},
		{[]string{"status", "one", "manual"}, exitNotAll, "STOPPED"},
		{[]string{"status", "nosuch"}, exitUsage, unknown},
		{[]string{"status", "one", "nosuch"}, exitUsage, unknown},
		{[]string{"start", "nosuch"}, exitUsage, unknown},
		{[]string{"stop", "nosuch"}, exitUsage, unknown},
		{[]string{"restart", "nosuch"}, exitUsage, unknown},
		{[]string{"tail", "nosuch"}, exitUsage, unknown},
		{[]string{"start"}, 0, "one: already RUNNING"},
		{[]string{"start", "broken"}, exitFailed, "/nonexistent/prog"},
		{[]string{"status"}, exitNotAll, "FATAL"},
		{[]string{"status", "one", "two"}, 0, "RUNNING"},
		{[]string{"who"}, 0, "*"},
		{[]string{"tail", "one"}, 0, "one STARTING"},
		{[]string{"reload"}, 0, "reloaded: 0 added, 0 removed, 0 changed"},
		{[]string{"notify", "hi"}, exitFailed, "no mail delivery is configured"},
		{[]string{"tail", "manual"}, 0, "manual: nothing logged yet: it has not run since the server started (STOPPED)"},
		{[]string{"stop", "manual"}, 0, "manual: already STOPPED"},
		{[]string{"stop", "broken"}, 0, "broken: not running (FATAL); nothing to stop"},
		{[]string{"stop", "one"}, 0, "one: STOPPED"},
		{[]string{"stop", "one"}, 0, "one: already STOPPED"},
		{[]string{"status", "one"}, exitNotAll, "STOPPED"},
		{[]string{"status", "two"}, 0, "RUNNING"},
	})
	r.stopAll()
}

// TestCLIBrokenConfigReachesTheServer: halfway through an edit, the file
// on disk is broken; status, who, tail, stop, start and restart still reach
// the server that runs (they work from its configuration, not the file's)
// and show the errors as a warning first. reload, which would apply the
// file, refuses with exit 2.
func TestCLIBrokenConfigReachesTheServer(t *testing.T) {
	t.Parallel()
	sleep := helperCommand(t, "sleep", "1h")
	programs := progSection("one", sleep) + progSection("manual", sleep, "autostart=no")
	r := newTestRamona(t, programs)
	r.start()
	r.waitState("one", "RUNNING", 20*time.Second)

	r.write(programs + "[general]\nlogmaxsize=lots\n")
	want := fmt.Sprintf("%s:%d: [general] logmaxsize:", r.conf, lineOf(t, r.conf, "logmaxsize=lots"))
	warning := "ramona: warning: the configuration has errors; asking the server at unix://" + r.sock() + " all the same:\n    " + want
	for _, tc := range []cliCase{
		{[]string{"status"}, 0, "RUNNING"},
		{[]string{"status", "one"}, 0, "RUNNING"},
		{[]string{"who"}, 0, "*"},
		{[]string{"tail", "one"}, 0, "one STARTING"},
		{[]string{"start", "manual"}, 0, "manual: RUNNING"},
		{[]string{"restart", "manual"}, 0, "manual: RUNNING"},
		{[]string{"stop", "manual"}, 0, "manual: STOPPED"},
		{[]string{"stop", "manual"}, 0, "manual: already STOPPED"},
		{[]string{"start", "nosuch"}, exitUsage, "unknown program nosuch"},
	} {
		code, out, errOut := r.cli(tc.args...)
		if code != tc.code || !strings.Contains(out+errOut, tc.want) || !strings.HasPrefix(errOut, warning) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d, %q, and first the warning %q", tc.args, code, out, errOut, tc.code, tc.want, warning)
		}
	}
	for _, args := range [][]string{{"reload"}, {"notify", "hi"}} {
		if code, _, errOut := r.cli(args...); code != exitUsage || !strings.Contains(errOut, want) || strings.Contains(errOut, "warning") {
			t.Errorf("%s: exit %d, %q; want %d and the errors", args, code, errOut, exitUsage)
		}
	}
	if st := r.status()["one"]; st.State != "RUNNING" || st.Launches != 1 {
		t.Errorf("one: %+v; want it untouched", st)
	}

	// Broken where the address is: the default address is tried, and a
	// stop that finds nothing there cannot say that no server runs.
	r.write(programs + "[ramona:console]\nserveruri=ftp://host\n")
	code, _, errOut := r.cli("stop")
	defaultSock := filepath.Join(r.dir, ".ramona.sock")
	if code != exitNoServer || !strings.Contains(errOut, "asking the server at the default address unix://"+defaultSock) {
		t.Errorf("stop with a broken serveruri: exit %d, %q; want %d and the default address", code, errOut, exitNoServer)
	}
	if !r.answers() {
		t.Fatal("the server went away")
	}
	// A broken header may hide keys under it: the address the file gives
	// is used, and the warning says it may not be the whole story.
	r.write(programs + "[program:new\n")
	code, out, errOut := r.cli("status", "one")
	if code != 0 || !strings.Contains(out, "RUNNING") || !strings.Contains(errOut, "asking the server at unix://"+r.sock()+" all the same (the errors may hide another address)") {
		t.Errorf("status with a broken header: exit %d, %q %q; want 0, RUNNING and the warning", code, out, errOut)
	}
	r.write(programs)
	r.stopAll()
}

// TestReloadReportsCFGERROR: a reload that adds or changes a program into
// CFGERROR applies the rest, prints that program's error and exits 2; a
// reload that changes nothing of it does not report it again.
func TestReloadReportsCFGERROR(t *testing.T) {
	t.Parallel()
	sleep := helperCommand(t, "sleep", "1h")
	r := newTestRamona(t, progSection("one", sleep))
	r.start()
	r.waitState("one", "RUNNING", 20*time.Second)

	r.write(progSection("one", sleep) + progSection("two", sleep) + progSection("bad", sleep, "starttimeout=5x"))
	want := fmt.Sprintf(`%s:%d: [program:bad] starttimeout: "5x" is not a duration`, r.conf, lineOf(t, r.conf, "starttimeout=5x"))
	code, out, errOut := r.cli("reload")
	if code != exitUsage || !strings.Contains(out, "reloaded: 2 added, 0 removed, 0 changed") ||
		!strings.Contains(errOut, "reload applied, but bad ends in CFGERROR") || !strings.Contains(errOut, want) {
		t.Errorf("reload adding bad: exit %d, %q %q; want %d, the summary and bad's error", code, out, errOut, exitUsage)
	}
	r.waitState("two", "RUNNING", 20*time.Second)
	if st := r.status()["bad"]; st.State != "CFGERROR" {
		t.Errorf("bad: %+v; want CFGERROR", st)
	}

	if code, _, errOut := r.cli("reload"); code != 0 || strings.Contains(errOut, "bad") {
		t.Errorf("reload that changes nothing: exit %d, %q; want 0, bad not reported again", code, errOut)
	}

	r.write(progSection("one", sleep) + progSection("two", sleep, "umask=cc220") + progSection("bad", sleep, "starttimeout=5x"))
	code, out, errOut = r.cli("reload")
	if code != exitUsage || !strings.Contains(out, "changed: two") || !strings.Contains(errOut, "but two ends in CFGERROR") || strings.Contains(errOut, "bad") {
		t.Errorf("reload breaking two: exit %d, %q %q; want %d and two's error only", code, out, errOut, exitUsage)
	}
	r.waitState("two", "CFGERROR", 20*time.Second)
	if st := r.status()["one"]; st.State != "RUNNING" || st.Launches != 1 {
		t.Errorf("one: %+v; want it untouched", st)
	}
	r.stopAll()
}

// TestCFGErrorIsolation: a broken [program:bad] is CFGERROR with its
// file:line error, and the program beside it runs.
func TestCFGErrorIsolation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		section string // the bad program's keys
		badLine string // a unique part of the line the error names; "" for the section header
		key     string
		msg     string
	}{
		{"duration", "command=/bin/true\nstarttimeout=5x", "starttimeout=5x", "starttimeout", `"5x" is not a duration`},
		{"umask", "command=/bin/true\numask=cc220", "umask=cc220", "umask", `"cc220"`},
		{"no command", "autorestart=yes", "", "command", "missing"},
		{"env", "command=/bin/true\nenv=NOSUCH", "env=NOSUCH", "env", "there is no [env:NOSUCH] section"},
		{"quote", "command=/bin/echo \"unterminated", "unterminated", "command", "quote"},
		{"percent", "command=/bin/echo 100%", "100%", "command", "a lone %"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newTestRamona(t, progSection("good", helperCommand(t, "sleep", "1h"))+"[program:bad]\n"+tc.section+"\n")
			line := lineOf(t, r.conf, "[program:bad]")
			if tc.badLine != "" {
				line = lineOf(t, r.conf, tc.badLine)
			}
			want := fmt.Sprintf("%s:%d: [program:bad] %s: ", r.conf, line, tc.key)
			r.start()
			r.waitState("good", "RUNNING", 10*time.Second)
			bad := r.status()["bad"]
			if bad.State != "CFGERROR" || !strings.Contains(bad.Error, want) || !strings.Contains(bad.Error, tc.msg) {
				t.Errorf("status --json of bad: %+v; want CFGERROR and an error with %q and %q", bad, want, tc.msg)
			}
			code, out, _ := r.cli("status")
			if code != exitNotAll || !strings.Contains(out, "CFGERROR") || !strings.Contains(out, want) {
				t.Errorf("status: exit %d, %q; want %d, CFGERROR and %q", code, out, exitNotAll, want)
			}
			code, out, errOut := r.cli("start", "bad")
			if code != exitFailed || !strings.Contains(out+errOut, want) || !strings.Contains(out+errOut, tc.msg) {
				t.Errorf("start bad: exit %d, %q %q; want %d and the error", code, out, errOut, exitFailed)
			}
			r.stopAll()
		})
	}
}

// backgroundRamona is a test Ramona whose server the command line starts in
// the background; it inherits RAMONA_TEST_ID from this process.
func backgroundRamona(t *testing.T, sections string) *testRamona {
	r := newTestRamona(t, sections)
	t.Setenv("RAMONA_TEST_ID", r.id)
	t.Cleanup(func() {
		if t.Failed() {
			data, _ := os.ReadFile(filepath.Join(r.dir, "log", "ramona.log"))
			t.Logf("background server log:\n%s", data)
		}
		if cl, err := dialServer(SocketURI{Scheme: "unix", Path: r.sock()}); err == nil {
			cl.close()
			r.cli("stop")
		}
	})
	return r
}

func TestCLIBackgroundServer(t *testing.T) {
	sleep := helperCommand(t, "sleep", "1h")
	r := backgroundRamona(t, "[ramona:server]\npidfile=run/ramona.pid\n\n"+progSection("one", sleep)+progSection("two", sleep, "priority=200"))
	pidfile := filepath.Join(r.dir, "run", "ramona.pid")
	code, out, _ := r.cli("start")
	for _, want := range []string{"ramona: server started (unix://" + r.sock() + ")", "two: RUNNING", "one: RUNNING"} {
		if !strings.Contains(out, want) {
			t.Errorf("start: output %q lacks %q", out, want)
		}
	}
	if code != 0 || strings.Index(out, "two: RUNNING") > strings.Index(out, "one: STARTING") {
		t.Errorf("start: exit %d, %q; want 0, two (priority 200) RUNNING before one starts", code, out)
	}
	st := r.status()
	if st["one"].State != "RUNNING" || st["two"].State != "RUNNING" {
		t.Errorf("status after start: %+v", st)
	}
	if code, _, _ := r.cli("status"); code != 0 {
		t.Errorf("status: exit %d, want 0", code)
	}
	cl := r.dial()
	data, err := os.ReadFile(pidfile)
	if err != nil || strings.TrimSpace(string(data)) != fmt.Sprint(cl.server.PID) {
		t.Errorf("pidfile: %q, %v; want the server's pid %d", data, err, cl.server.PID)
	}
	cl.close()

	code, out, _ = r.cli("stop")
	if code != 0 || !strings.Contains(out, "ramona: server stopped") {
		t.Errorf("stop: exit %d, %q; want 0 and \"server stopped\"", code, out)
	}
	for _, f := range []string{r.sock(), pidfile} {
		if _, err := os.Lstat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after stop: %v; want it gone", f, err)
		}
	}
	if alive(st["one"].PID) || alive(st["two"].PID) {
		t.Errorf("programs alive after stop")
	}
	if code, _, _ := r.cli("status"); code != exitNoServer {
		t.Errorf("status after stop: exit %d, want %d", code, exitNoServer)
	}
}

func TestCLIStartServerOnly(t *testing.T) {
	r := backgroundRamona(t, progSection("slow", helperCommand(t, "sleep", "1h"), "starttimeout=1h"))
	if code, _, _ := r.cli("start", "-n"); code != exitNoServer {
		t.Errorf("start -n without a server: exit %d, want %d", code, exitNoServer)
	}
	if code, out, _ := r.cli("start", "-S"); code != 0 || !strings.Contains(out, "server started") {
		t.Errorf("start -S: exit %d, %q; want 0 and \"server started\"", code, out)
	}
	if st := r.status()["slow"]; st.State != "STOPPED" || st.Launches != 0 {
		t.Errorf("after start -S: %+v; want slow STOPPED, never launched", st)
	}
	if code, _, _ := r.cli("status"); code != exitNotAll {
		t.Errorf("status after start -S: exit %d, want %d", code, exitNotAll)
	}
	// starttimeout=1h: start -i must not wait for RUNNING.
	if code, _, _ := r.cli("start", "-i"); code != 0 {
		t.Errorf("start -i: exit %d, want 0", code)
	}
	if st := r.status()["slow"]; st.State != "STARTING" || st.PID == 0 {
		t.Errorf("after start -i: %+v; want slow STARTING", st)
	}
	if code, out, _ := r.cli("stop"); code != 0 || !strings.Contains(out, "server stopped") {
		t.Errorf("stop: exit %d, %q", code, out)
	}
}

func TestCLIRestartAndStop(t *testing.T) {
	t.Parallel()
	sleep := helperCommand(t, "sleep", "1h")
	r := newTestRamona(t, progSection("a", sleep)+progSection("b", sleep)+progSection("late", sleep, "directory=./later"))
	r.start()
	r.waitState("a", "RUNNING", 10*time.Second)
	r.waitState("b", "RUNNING", 10*time.Second)
	late := r.waitState("late", "FATAL", 10*time.Second)
	if !strings.Contains(late.Error, "later") {
		t.Errorf("late: %+v; want an error naming its directory", late)
	}
	before := r.pids()

	if code, _, _ := r.cli("restart", "a"); code != 0 {
		t.Errorf("restart a: exit %d", code)
	}
	st := r.status()
	if st["a"].State != "RUNNING" || st["a"].PID == before["a"] || st["b"].PID != before["b"] {
		t.Errorf("after restart a: %+v; want a RUNNING with a new pid, b untouched (pid %d)", st, before["b"])
	}
	if alive(before["a"]) {
		waitFor(t, "a's old process to be gone", 10*time.Second, func() bool { return !alive(before["a"]) })
	}
	if code, out, errOut := r.cli("restart", "late"); code != exitFailed || !strings.Contains(out+errOut, "start -f") {
		t.Errorf("restart late (FATAL): exit %d, %q %q; want %d and a hint at -f", code, out, errOut, exitFailed)
	}
	if err := os.Mkdir(filepath.Join(r.dir, "later"), 0o755); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := r.cli("restart", "-f", "late"); code != 0 {
		t.Errorf("restart -f late: exit %d, want 0", code)
	}
	if st := r.status()["late"]; st.State != "RUNNING" {
		t.Errorf("late after restart -f: %+v", st)
	}
	before = r.pids()

	if code, _, _ := r.cli("stop", "a"); code != 0 {
		t.Errorf("stop a: exit %d", code)
	}
	st = r.status()
	if st["a"].State != "STOPPED" || st["b"].PID != before["b"] || st["late"].PID != before["late"] {
		t.Errorf("after stop a: %+v; want a STOPPED, the others untouched", st)
	}
	if code, out, _ := r.cli("stop", "-S"); code != 0 || strings.Contains(out, "server stopped") {
		t.Errorf("stop -S: exit %d, %q; want 0, the server kept", code, out)
	}
	for name, s := range r.status() {
		if s.State != "STOPPED" {
			t.Errorf("after stop -S: %s is %s; want STOPPED", name, s.State)
		}
	}
	if code, _, _ := r.cli("start", "b"); code != 0 {
		t.Errorf("start b after stop -S: exit %d", code)
	}
	r.stopAll()
}

func TestCLITool(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, "[env]\nTOOLVAR=from the env section\n\n"+
		"[tool:greet]\ncommand="+helperCommand(t, "exit")+"\n\n"+
		"[tool:showenv]\ncommand="+helperCommand(t, "env", "once")+"\n\n"+
		"[tool:broken]\ncommand=/bin/echo \"unterminated\n\n"+
		"[tool:nowhere]\ncommand="+helperCommand(t, "exit")+"\ndirectory=no/such/dir\n\n"+
		"[tool:selfkill]\ncommand=sh -c 'kill -TERM $$'\n")
	for _, n := range []int{0, 7} {
		if code, _, errOut := r.cli("greet", fmt.Sprint(n)); code != n || errOut != fmt.Sprintf("exit: %d\n", n) {
			t.Errorf("greet %d: exit %d, stderr %q; want %d", n, code, errOut, n)
		}
	}
	if code, _, _ := r.cli("selfkill"); code != 128+int(syscall.SIGTERM) {
		t.Errorf("selfkill: exit %d; want %d (128 + SIGTERM)", code, 128+int(syscall.SIGTERM))
	}
	// The ramona process passes its own standard streams, files, to the tool.
	stderrFile, err := os.Create(filepath.Join(r.dir, "greet.stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderrFile.Close()
	greet := exec.Command(testBinary(t), "ramona-test-main", "-c", r.conf, "greet", "5")
	greet.Env = append(os.Environ(), "RAMONA_TEST_ID="+r.id)
	greet.Stderr = stderrFile
	err = greet.Run()
	if got, _ := os.ReadFile(stderrFile.Name()); greet.ProcessState == nil || greet.ProcessState.ExitCode() != 5 || string(got) != "exit: 5\n" {
		t.Errorf("ramona greet 5 as a process: %v, stderr %q; want exit 5 and \"exit: 5\\n\"", err, got)
	}
	code, out, _ := r.cli("showenv")
	for _, want := range []string{"TOOLVAR=from the env section\n", "RAMONA_TEST_ID=" + r.id + "\n", "RAMONA_SECTION=tool:showenv\n", "RAMONA_CONFIG=" + r.conf + "\n"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("showenv: exit %d, environment lacks %q:\n%s", code, want, out)
		}
	}
	want := fmt.Sprintf("%s:%d: [tool:broken] command:", r.conf, lineOf(t, r.conf, "unterminated"))
	if code, _, errOut := r.cli("broken"); code != exitUsage || !strings.Contains(errOut, want) {
		t.Errorf("broken: exit %d, %q; want %d and %q", code, errOut, exitUsage, want)
	}
	// A tool's directory is resolved as a program's is (resolveCommand).
	wantDir := "tool nowhere: directory " + filepath.Join(r.dir, "no/such/dir") + ": no such file or directory"
	if code, _, errOut := r.cli("nowhere"); code != exitFailed || !strings.Contains(errOut, wantDir) {
		t.Errorf("nowhere: exit %d, %q; want %d and %q", code, errOut, exitFailed, wantDir)
	}
	if code, _, errOut := r.cli("bogus"); code != exitUsage || !strings.Contains(errOut, "tools in the configuration: greet, showenv, broken, nowhere") {
		t.Errorf("bogus: exit %d, %q; want %d and the list of tools", code, errOut, exitUsage)
	}
}

// quickStartCommand is the first line of README's quick start: the command
// a new operator runs first.
func quickStartCommand(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(data), "\n## Quick start\n")
	_, block, ok := strings.Cut(section, "\n```sh\n")
	if !ok {
		t.Fatal("README's quick start has no sh block")
	}
	line, _, _ := strings.Cut(block, "\n")
	return line
}

// TestDemoConfig runs the README's quick start: its first command exactly
// as written (go build, then the real binary's start of examples/demo.conf,
// in a copy of the source tree) must exit 0; then the demo's programs are
// where README says, `start flaky` shows a program failing for good, and
// stop leaves nothing behind.
func TestDemoConfig(t *testing.T) {
	skipInShort(t, "go build of the binary the quick start builds")
	t.Parallel()
	needShell(t) // the demo's programs are sh -c scripts
	goTool := needPeer(t, "go", "golang-go")
	id := newLeftoverCheck(t)
	first := quickStartCommand(t)
	if !strings.HasPrefix(first, "go build -o ramona . && ./ramona -c examples/demo.conf start") {
		t.Fatalf("README's first command is %q; this test knows how to run the go build and start of examples/demo.conf", first)
	}
	dir := t.TempDir()
	var sources []string
	for _, pattern := range []string{"go.mod", "*.go", "web/*", "examples/*"} { // web/: the frontend's embedded files
		m, _ := filepath.Glob(pattern)
		sources = append(sources, m...)
	}
	for _, f := range sources {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		if fi, err := os.Stat(f); err == nil && !fi.Mode().IsRegular() {
			continue // examples/log/ of a quick start run in the checkout: output, not a source
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		writeFiles(t, dir, map[string]string{f: string(data)})
	}
	conf := filepath.Join(dir, "examples", "demo.conf")
	sock := filepath.Join(dir, "examples", ".ramona.sock")
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "examples", "log", "ramona.log"))
			t.Logf("server log:\n%s", log)
		}
		if cl, err := dialServer(SocketURI{Scheme: "unix", Path: sock}); err == nil {
			cl.close()
			cli(t, conf, "stop")
		}
	})

	sh := exec.Command("sh", "-c", first)
	sh.Dir = dir
	// The server it starts, and the demo's programs, carry the test's id.
	// -trimpath lets the build cache serve every copy of the tree.
	sh.Env = append(os.Environ(), "RAMONA_TEST_ID="+id, "GOFLAGS=-trimpath "+os.Getenv("GOFLAGS"), "PATH="+filepath.Dir(goTool)+":"+os.Getenv("PATH"))
	out, err := sh.CombinedOutput()
	t.Logf("%s\n%s", first, out)
	if err != nil || !strings.Contains(string(out), "database: RUNNING") || !strings.Contains(string(out), "web: RUNNING") {
		t.Fatalf("the quick start's first command: %v; want exit 0 with database and web RUNNING", err)
	}

	status := func() map[string]programStatus {
		_, out, _ := cli(t, conf, "-s", "status", "--json")
		var list []programStatus
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			t.Fatalf("status --json: %v\n%s", err, out)
		}
		m := map[string]programStatus{}
		for _, st := range list {
			m[st.Name] = st
		}
		return m
	}
	var st map[string]programStatus
	waitFor(t, "worker to finish its job", 20*time.Second, func() bool {
		st = status()
		return st["worker"].State == "STOPPED"
	})
	want := map[string]string{"database": "RUNNING", "web": "RUNNING", "worker": "STOPPED", "flaky": "STOPPED", "manual": "STOPPED"}
	for name, state := range want {
		if st[name].State != state {
			t.Errorf("%s: %+v; want %s", name, st[name], state)
		}
	}
	if st["worker"].Exit != float64(0) || st["flaky"].Launches != 0 || st["manual"].Launches != 0 {
		t.Errorf("worker exit %v, flaky launches %d, manual launches %d; want 0, 0, 0", st["worker"].Exit, st["flaky"].Launches, st["manual"].Launches)
	}
	if code, _, _ := cli(t, conf, "status"); code != 0 {
		t.Errorf("status after the quick start: exit %d; want 0", code)
	}
	waitFor(t, "web's greeting in its log", 20*time.Second, func() bool {
		_, out, _ := cli(t, conf, "tail", "web")
		return strings.Contains(out, "hello from Ramona: serving at")
	})

	// flaky, on request: backs off, ends FATAL, start says so with exit 1.
	code, out2, _ := cli(t, conf, "start", "flaky")
	if code != exitFailed || !strings.Contains(out2, "flaky: BACKOFF") || !strings.Contains(out2, "flaky: FATAL") {
		t.Errorf("start flaky: exit %d, %q; want 1, BACKOFF and FATAL", code, out2)
	}
	if st := status()["flaky"]; st.State != "FATAL" || st.Exit != float64(3) {
		t.Errorf("flaky: %+v; want FATAL, exit 3", st)
	}
	if code, _, _ := cli(t, conf, "status"); code != exitNotAll {
		t.Errorf("status with flaky FATAL: exit %d; want %d", code, exitNotAll)
	}
	if code, out, _ := cli(t, conf, "stop"); code != 0 || !strings.Contains(out, "server stopped") {
		t.Errorf("stop: exit %d, %q", code, out)
	}
	for _, f := range []string{sock, filepath.Join(dir, "examples", "log", "ramona.pid")} {
		if _, err := os.Lstat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after stop: %v; want it gone", f, err)
		}
	}
}

func TestStartNowaitReportsImmediateFailures(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:good]
command=%s

[program:bad]
command=%s
starttimeout=5x
`, helperCommand(t, "sleep", "1h"), helperCommand(t, "sleep", "1h")))
	r.start("-S")
	code, _, errOut := r.cli("start", "-i")
	if code != exitFailed || !strings.Contains(errOut, "bad: CFGERROR") || !strings.Contains(errOut, "failed at once") {
		t.Errorf("start -i with a CFGERROR program: exit %d, %q; want 1 naming it", code, errOut)
	}
	r.waitState("good", "RUNNING", 20*time.Second)
	r.stopAll()
}
