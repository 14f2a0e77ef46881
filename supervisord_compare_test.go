//go:build unix

// The same supervisord configuration run by Debian's real supervisord
// (supervisord -n -c, observed with supervisorctl and its log) and by
// Ramona (ramona -c ... daemon), with the test helpers as programs, and
// what matters compared: the names (supervisorctl's GROUP:NAME), which
// programs run, the order of starts and stops, each program's environment,
// working directory and umask, the contents of the log files, and the
// signals a stop delivers (to the whole process group with stopasgroup).
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// compareConfig is the configuration both supervisors run; %[1]s is the
// command of a helper prefix (the test binary).
const compareConfig = `[unix_http_server]
file=%%(here)s/s.sock

[supervisord]
logfile=%%(here)s/out/supervisord.log
pidfile=%%(here)s/out/supervisord.pid
childlogdir=%%(here)s/out
environment=GLOBAL="from [supervisord]",SHARED="global"

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%%(here)s/s.sock

[program:first]
command=%[1]s sleep 1h
priority=10

[program:second]
command=%[1]s sleep 1h
priority=20

[group:grp]
programs=third,envdump
priority=30

[program:third]
command=%[1]s sleep 1h

[program:envdump]
command=%[1]s env
environment=SHARED="program's",SPACED="a b, c",FROM_ENV="%%(ENV_COMPARE_VAR)s",NAMES="%%(program_name)s %%(group_name)s"
stdout_logfile=%%(here)s/out/env.log

[program:worker]
command=%[1]s env
numprocs=2
process_name=worker_%%(process_num)d
environment=PORT="80%%(process_num)02d"
priority=40
stdout_logfile=%%(here)s/out/worker_%%(process_num)d.log

[program:cwd]
command=%[1]s pwd-umask
directory=%%(here)s/work
umask=027
stdout_logfile=%%(here)s/out/cwd.log

[program:both]
command=/bin/sh -c "echo to stdout; echo to stderr >&2; exec %[1]s sleep 1h"
redirect_stderr=true
stdout_logfile=%%(here)s/out/both.log

[program:split]
command=/bin/sh -c 'echo to stdout; echo to stderr >&2; exec %[1]s sleep 1h'
stdout_logfile=%%(here)s/out/split.out
stderr_logfile=%%(here)s/out/split.err

[program:oneshot]
command=/bin/sh -c "echo done '$HOME' $0"
autorestart=false
startsecs=0
stdout_logfile=%%(here)s/out/oneshot.log

[program:manual]
command=%[1]s sleep 1h
autostart=false

[program:stopper]
command=%[1]s signals %%(here)s/out/signals parent child
stopsignal=USR1
stopasgroup=true
stdout_logfile=%%(here)s/out/stopper.log
`

// supervisorRun is what one supervisor did with compareConfig.
type supervisorRun struct {
	names   []string          // GROUP:NAME as supervisorctl writes them, sorted
	running []string          // the names of the running ones, sorted
	starts  []string          // processes in the order they were started
	stops   []string          // processes in the order they stopped
	files   map[string]string // out/FILE -> contents, after the stop
}

// comparedFiles are the log files (and the signal record) both runs write.
var comparedFiles = []string{"env.log", "worker_0.log", "worker_1.log", "cwd.log", "both.log", "split.out", "split.err",
	"oneshot.log", "stopper.log", "signals"}

// pidNumbers differ from run to run.
var pidNumbers = regexp.MustCompile(`pid=\d+`)

// notComparedEnv are the variables each supervisor adds for itself.
var notComparedEnv = regexp.MustCompile(`(?m)^(SUPERVISOR_(ENABLED|SERVER_URL|PROCESS_NAME|GROUP_NAME)|RAMONA_CONFIG|RAMONA_SECTION|RAMONA_SERVER_ID|NOTIFY_SOCKET)=.*\n`)

// expectedRunning is what both must run once started.
var expectedRunning = []string{"both", "cwd", "first", "grp:envdump", "grp:third", "second", "split", "stopper", "worker:worker_0", "worker:worker_1"}

// TestSupervisordAndRamonaRunTheSameConfiguration runs compareConfig under
// supervisord, then as an operator would with Ramona (`ramona -c
// supervisord.conf start`, then `stop`), then the output of `ramona
// convert` under `ramona daemon` (stopped by SIGTERM), and compares.
func TestSupervisordAndRamonaRunTheSameConfiguration(t *testing.T) {
	skipInShort(t, "supervisord (the same configuration run under both)")
	t.Parallel()
	supervisord := needPeer(t, "supervisord", "supervisor")
	supervisorctl := needPeer(t, "supervisorctl", "supervisor")
	needShell(t) // some programs are sh -c scripts
	id := newLeftoverCheck(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "supervisord.conf")
	helper := shellQuote(helperProgram(t)) + " ramona-test-helper"
	for _, name := range []string{"sleep", "env", "pwd-umask", "signals"} { // compareConfig's
		useHelper(name)
	}
	writeFiles(t, dir, map[string]string{"supervisord.conf": fmt.Sprintf(compareConfig, helper), "work/.keep": ""})
	env := append(os.Environ(), "RAMONA_TEST_ID="+id, "COMPARE_VAR=from the environment", "LC_ALL=C.UTF-8")

	sv := runSupervisord(t, supervisord, supervisorctl, dir, conf, env)
	ra := runRamonaStartStop(t, dir, conf, env)
	code, converted, warnings := ramonaProcess(t, dir, env, "convert", conf)
	if code != 0 || warnings != "" {
		t.Fatalf("convert: exit %d\n%s", code, warnings)
	}
	convertedConf := filepath.Join(dir, "converted", "ramona.conf")
	writeFiles(t, filepath.Dir(convertedConf), map[string]string{"ramona.conf": converted})
	rc := runRamonaDaemon(t, dir, convertedConf, env)

	for _, other := range []struct {
		name string
		r    *supervisorRun
	}{{"ramona start/stop", ra}, {"ramona daemon of the converted file", rc}} {
		compareRuns(t, other.name, sv, other.r)
	}
	// What the comparison rests on: the files say what they should.
	for f, want := range map[string]string{
		"both.log":    "to stdout\nto stderr\nsleep: started pid=N\n",
		"split.err":   "to stderr\n",
		"oneshot.log": "done $HOME /bin/sh\n", // supervisord expands no $; the shell does, but not in '...'

		"signals": "child SIGUSR1\nparent SIGUSR1\n",
		"cwd.log": "cwd=" + filepath.Join(dir, "work") + " umask=0027\n",
	} {
		if got := sv.files[f]; got != want {
			t.Errorf("supervisord's out/%s = %q, want %q", f, got, want)
		}
	}
	for _, line := range []string{"GLOBAL=from [supervisord]", "SHARED=program's", "SPACED=a b, c", "FROM_ENV=from the environment", "NAMES=envdump grp", "COMPARE_VAR=from the environment"} {
		if !strings.Contains(sv.files["env.log"], line+"\n") {
			t.Errorf("supervisord's out/env.log lacks %s:\n%s", line, sv.files["env.log"])
		}
	}
	if !strings.Contains(sv.files["worker_1.log"], "PORT=8001\n") {
		t.Errorf("supervisord's out/worker_1.log lacks PORT=8001:\n%s", sv.files["worker_1.log"])
	}
}

// compareRuns reports where a Ramona run did otherwise than supervisord.
func compareRuns(t *testing.T, name string, sv, ra *supervisorRun) {
	t.Helper()
	if !slices.Equal(sv.names, ra.names) {
		t.Errorf("%s: names\nsupervisord: %q\nramona:      %q", name, sv.names, ra.names)
	}
	if !slices.Equal(sv.running, ra.running) || !slices.Equal(ra.running, expectedRunning) {
		t.Errorf("%s: running\nsupervisord: %q\nramona:      %q\nwant:        %q", name, sv.running, ra.running, expectedRunning)
	}
	// Priorities 10, 20, 30 (the group), 40: the same order of starts, and
	// of stops the other way round.
	byPriority := []string{"first", "second", "third", "worker_0"}
	reversed := slices.Clone(byPriority)
	slices.Reverse(reversed)
	for _, run := range []struct {
		name string
		r    *supervisorRun
	}{{"supervisord", sv}, {name, ra}} {
		if got := ordered(run.r.starts, byPriority); !slices.Equal(got, byPriority) {
			t.Errorf("%s started %q (all: %q); want %q", run.name, got, run.r.starts, byPriority)
		}
		if got := ordered(run.r.stops, reversed); !slices.Equal(got, reversed) {
			t.Errorf("%s stopped %q (all: %q); want %q", run.name, got, run.r.stops, reversed)
		}
	}
	for _, f := range comparedFiles {
		if sv.files[f] != ra.files[f] {
			t.Errorf("%s: out/%s differs\nsupervisord:\n%s\nramona:\n%s", name, f, sv.files[f], ra.files[f])
		}
	}
}

// ordered keeps the elements of list that are in want, in list's order.
func ordered(list, want []string) []string {
	var out []string
	for _, s := range list {
		if slices.Contains(want, s) {
			out = append(out, s)
		}
	}
	return out
}

// runSupervisord runs Debian's supervisord on conf until every program is
// up, then stops it with SIGTERM and collects what it did.
func runSupervisord(t *testing.T, supervisord, supervisorctl, dir, conf string, env []string) *supervisorRun {
	t.Helper()
	resetOut(t, dir)
	s := startProcessIn(t, dir, "supervisord.stdout", env, supervisord, "-n", "-c", conf)
	run := &supervisorRun{}
	status := func() map[string]string {
		ctl := exec.Command(supervisorctl, "-c", conf, "status")
		ctl.Env = env
		out, _ := ctl.Output() // exit 3 while some are not running
		states := map[string]string{}
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) >= 2 {
				states[f[0]] = f[1]
			}
		}
		return states
	}
	var states map[string]string
	waitFor(t, "supervisord to run every program", 60*time.Second, func() bool {
		states = status()
		return allRunning(states) && states["oneshot"] == "EXITED" && outComplete(dir)
	})
	run.names, run.running = namesAndRunning(states)
	s.signal(syscall.SIGTERM)
	if code, err := s.wait(60 * time.Second); err != nil || code != 0 {
		t.Fatalf("supervisord after SIGTERM: exit %d, %v", code, err)
	}
	log := readOut(t, dir, "supervisord.log")
	run.starts = logMatches(log, `spawned: '([^']+)' with pid`)
	run.stops = logMatches(log, `stopped: (\S+) \(`)
	run.files = outFiles(t, dir)
	return run
}

// startProcessIn starts a server (argv) in dir with env, in its own process
// group, its output in dir/logName; the test's end stops it if it still runs.
func startProcessIn(t *testing.T, dir, logName string, env []string, argv ...string) *testServer {
	t.Helper()
	logPath := filepath.Join(dir, logName)
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close() // the server has its own copy once started
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env, cmd.Dir = env, dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return newTestServer(t, cmd, logPath)
}

// runRamonaStartStop runs `ramona -c conf start` (a background server),
// waits until every program is up, runs `ramona -c conf stop` and collects
// what the server did; its log is supervisord's logfile.
func runRamonaStartStop(t *testing.T, dir, conf string, env []string) *supervisorRun {
	t.Helper()
	resetOut(t, dir)
	ramona := func(args ...string) (int, string) {
		code, out, errOut := ramonaProcess(t, dir, env, append([]string{"-c", conf}, args...)...)
		return code, out + errOut
	}
	t.Cleanup(func() { // a server a failed test left running
		if cl, err := dialServer(SocketURI{Scheme: "unix", Path: filepath.Join(dir, "s.sock")}); err == nil {
			cl.close()
			ramona("stop")
		}
	})
	if code, out := ramona("start"); code != 0 {
		t.Fatalf("ramona start: exit %d\n%s", code, out)
	}
	run := waitRamonaRunning(t, dir, conf)
	if code, out := ramona("stop"); code != 0 || !strings.Contains(out, "ramona: server stopped") {
		t.Fatalf("ramona stop: exit %d\n%s", code, out)
	}
	run.collect(t, dir, readOut(t, dir, "supervisord.log"))
	return run
}

// ramonaProcess runs the test binary as `ramona ARGS` in dir with env (which
// a background server it starts inherits) and returns its exit code, stdout
// and stderr.
func ramonaProcess(t *testing.T, dir string, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(testBinary(t), append([]string{"ramona-test-main"}, args...)...)
	cmd.Env, cmd.Dir = env, dir
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("ramona %s: %v", args, err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}

// runRamonaDaemon runs `ramona -c conf daemon` until every program is up,
// then stops it with SIGTERM and collects what it did.
func runRamonaDaemon(t *testing.T, dir, conf string, env []string) *supervisorRun {
	t.Helper()
	resetOut(t, dir)
	s := startProcessIn(t, dir, "ramona.stdout", env, testBinary(t), "ramona-test-main", "-c", conf, "daemon")
	run := waitRamonaRunning(t, dir, conf)
	s.signal(syscall.SIGTERM)
	if code, err := s.wait(60 * time.Second); err != nil || code != 0 {
		t.Fatalf("ramona after SIGTERM: exit %d, %v", code, err)
	}
	log, _ := os.ReadFile(s.logPath)
	run.collect(t, dir, string(log))
	return run
}

// waitRamonaRunning waits until Ramona runs every program, and returns the
// names and what runs.
func waitRamonaRunning(t *testing.T, dir, conf string) *supervisorRun {
	t.Helper()
	var states map[string]string
	waitFor(t, "ramona to run every program", 60*time.Second, func() bool {
		var out strings.Builder
		if code := run([]string{"-c", conf, "-s", "status", "--json"}, strings.NewReader(""), &out, io.Discard); code == exitNoServer || code == exitUsage {
			return false
		}
		var list []programStatus
		if err := json.Unmarshal([]byte(out.String()), &list); err != nil {
			t.Fatalf("status --json: %v\n%s", err, out.String())
		}
		states = map[string]string{}
		for _, st := range list {
			states[namespec(st)] = st.State
		}
		return allRunning(states) && states["oneshot"] == "STOPPED" && outComplete(dir)
	})
	run := &supervisorRun{}
	run.names, run.running = namesAndRunning(states)
	return run
}

// collect reads the order of starts and stops from a Ramona server log,
// and the compared files.
func (run *supervisorRun) collect(t *testing.T, dir, log string) {
	t.Helper()
	run.starts = logMatches(log, `(\S+): STOPPED -> STARTING`)
	run.stops = logMatches(log, `(\S+): STOPPING -> STOPPED`)
	run.files = outFiles(t, dir)
}

// namespec is a program's name as supervisorctl writes it: GROUP:NAME, or
// NAME when the group is named after the program.
func namespec(st programStatus) string {
	if st.Group == "" || st.Group == st.Name {
		return st.Name
	}
	return st.Group + ":" + st.Name
}

func allRunning(states map[string]string) bool {
	for _, n := range expectedRunning {
		if states[n] != "RUNNING" {
			return false
		}
	}
	return true
}

func namesAndRunning(states map[string]string) (names, running []string) {
	for n, st := range states {
		names = append(names, n)
		if st == "RUNNING" {
			running = append(running, n)
		}
	}
	sort.Strings(names)
	sort.Strings(running)
	return names, running
}

// resetOut empties the directory both supervisors write to.
func resetOut(t *testing.T, dir string) {
	t.Helper()
	if err := os.RemoveAll(filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
}

func readOut(t *testing.T, dir, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "out", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// outComplete reports whether every program has written what it writes
// at its start (RUNNING says nothing about that on a loaded machine).
func outComplete(dir string) bool {
	for name, sub := range map[string]string{"env.log": "SHARED=", "worker_0.log": "PORT=", "worker_1.log": "PORT=",
		"cwd.log": "umask=", "both.log": "sleep: started", "split.out": "sleep: started", "split.err": "to stderr",
		"oneshot.log": "done", "stopper.log": "signals: parent ready"} {
		data, _ := os.ReadFile(filepath.Join(dir, "out", name))
		if !strings.Contains(string(data), sub) {
			return false
		}
	}
	data, _ := os.ReadFile(filepath.Join(dir, "out", "stopper.log"))
	return strings.Contains(string(data), "signals: child ready")
}

// outFiles reads the compared files, with the lines whose order is not
// fixed sorted and the variables each supervisor adds removed.
func outFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	for _, f := range comparedFiles {
		text := pidNumbers.ReplaceAllString(readOut(t, dir, f), "pid=N")
		switch {
		case strings.HasSuffix(f, ".log") && (f == "env.log" || strings.HasPrefix(f, "worker_")):
			text = notComparedEnv.ReplaceAllString(text, "")
		case f == "signals" || f == "stopper.log":
			lines := strings.SplitAfter(text, "\n")
			sort.Strings(lines)
			text = strings.Join(lines, "")
		}
		files[f] = text
	}
	return files
}

// logMatches returns the first group of every match of pattern in log.
func logMatches(log, pattern string) []string {
	var out []string
	for _, m := range regexp.MustCompile(pattern).FindAllStringSubmatch(log, -1) {
		out = append(out, m[1])
	}
	return out
}
