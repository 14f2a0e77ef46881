//go:build unix

// End-to-end scaffolding: a test Ramona (config file in a temp dir, a
// foreground server that is the test binary, the in-process command line)
// whose every child carries RAMONA_TEST_ID so that nothing may outlive the
// test, plus the first end-to-end test: start, status, stop.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testRamona is one test's configuration and server.
type testRamona struct {
	t         *testing.T
	id        string
	dir       string
	conf      string
	server    *testServer
	serverEnv []string // more environment for the server
	backoff   string   // the server's first backoff (testBackoffEnv); "" for the real 1s
}

// testFirstBackoff is the first backoff of a test's server (then twice
// that, ...), so that restarts after quick deaths take milliseconds.
const testFirstBackoff = "10ms"

// realBackoff gives the server the backoff operators get (1s, 2s, ...), for
// a test that must see BACKOFF last; call it before start.
func (r *testRamona) realBackoff() { r.backoff = "" }

// newTestRamona writes a config with the given program sections (and any
// other sections) below a header that sets logdir, the socket and the test
// marker in [env]. It does not start a server.
func newTestRamona(t *testing.T, sections string) *testRamona {
	t.Helper()
	id := newTestID()
	t.Cleanup(func() { checkNoLeftovers(t, id) }) // registered first: runs after the server's cleanup
	dir := t.TempDir()
	r := &testRamona{t: t, id: id, dir: dir, conf: filepath.Join(dir, "ramona.conf"), backoff: testFirstBackoff}
	r.write(sections)
	return r
}

// write replaces the configuration (for reload tests).
func (r *testRamona) write(sections string) {
	r.t.Helper()
	text := fmt.Sprintf("[general]\nlogdir=./log\n\n[env]\nRAMONA_TEST_ID=%s\n\n[ramona:server]\nconsoleuri=unix://r.sock\n\n%s\n", r.id, sections)
	if err := os.WriteFile(r.conf, []byte(text), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// start runs the server in the foreground (daemon) with extra arguments,
// and waits until it answers.
func (r *testRamona) start(daemonArgs ...string) *testServer {
	r.t.Helper()
	env := append([]string{"RAMONA_TEST_ID=" + r.id}, r.serverEnv...)
	if r.backoff != "" {
		env = append(env, testBackoffEnv+"="+r.backoff)
	}
	r.server = startRamonaProcess(r.t, filepath.Join(r.dir, "server.log"), env,
		append([]string{"-c", r.conf, "daemon"}, daemonArgs...)...)
	waitFor(r.t, "the server to answer", 20*time.Second, r.answers)
	return r.server
}

// answers reports whether the server's socket takes a connection.
func (r *testRamona) answers() bool {
	cl, err := dialServer(SocketURI{Scheme: "unix", Path: filepath.Join(r.dir, "r.sock")})
	if err != nil {
		return false
	}
	cl.close()
	return true
}

// cli runs the command line against this configuration.
func (r *testRamona) cli(args ...string) (int, string, string) {
	r.t.Helper()
	return cli(r.t, r.conf, args...)
}

// status returns the server's view of every program, by name. Tests poll
// it, so unlike cli it logs nothing unless it fails.
func (r *testRamona) status() map[string]programStatus {
	r.t.Helper()
	var outBuf, errBuf bytes.Buffer
	code := run([]string{"-c", r.conf, "-s", "status", "--json"}, strings.NewReader(""), &outBuf, &errBuf)
	out := outBuf.String()
	if code == exitNoServer || code == exitUsage {
		r.t.Fatalf("status failed with exit %d: %s", code, &errBuf)
	}
	var list []programStatus
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		r.t.Fatalf("status --json: %v\n%s", err, out)
	}
	m := map[string]programStatus{}
	for _, st := range list {
		m[st.Name] = st
	}
	return m
}

// waitState waits until program name is in state.
func (r *testRamona) waitState(name, state string, timeout time.Duration) programStatus {
	r.t.Helper()
	var st programStatus
	waitFor(r.t, name+" to be "+state, timeout, func() bool {
		st = r.status()[name]
		return st.State == state
	})
	return st
}

// programLog is the content of a program's merged log (<logdir>/NAME.log).
func (r *testRamona) programLog(name string) string {
	data, _ := os.ReadFile(filepath.Join(r.dir, "log", name+".log"))
	return string(data)
}

// serverLog is what the foreground server wrote so far.
func (r *testRamona) serverLog() string {
	data, _ := os.ReadFile(filepath.Join(r.dir, "server.log"))
	return string(data)
}

// stopAll stops everything through the command line and checks that the
// server exits with status 0, or 1 when a program is FATAL.
func (r *testRamona) stopAll() {
	r.t.Helper()
	want := 0
	for _, st := range r.status() {
		if st.State == "FATAL" {
			want = 1
		}
	}
	if code, _, _ := r.cli("stop"); code != 0 {
		r.t.Errorf("stop: exit %d, want 0", code)
	}
	if code, err := r.server.wait(30 * time.Second); err != nil || code != want {
		r.t.Errorf("server exit: code %d, err %v; want %d", code, err, want)
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func alive(pid int) bool { return pid > 0 && syscall.Kill(pid, 0) == nil }

func TestStartStatusStop(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:one]
command=%s
starttimeout=0.2

[program:two]
command=%s
starttimeout=0.2
`, helperCommand(t, "sleep", "1h"), helperCommand(t, "sleep", "1h")))
	r.start()
	one := r.waitState("one", "RUNNING", 10*time.Second)
	two := r.waitState("two", "RUNNING", 10*time.Second)
	if one.PID == 0 || two.PID == 0 || one.Launches != 1 {
		t.Fatalf("status: %+v %+v", one, two)
	}
	code, out, _ := r.cli("status")
	if code != 0 || !strings.Contains(out, "one") || !strings.Contains(out, "RUNNING") {
		t.Errorf("status: exit %d, output %q", code, out)
	}
	r.stopAll()
	if alive(one.PID) || alive(two.PID) {
		t.Errorf("programs still alive after stop")
	}
	if code, _, _ := r.cli("status"); code != exitNoServer {
		t.Errorf("status after stop: exit %d, want %d", code, exitNoServer)
	}
}

// TestProgramsGetOnlyStdio: a program's descriptors are /dev/null and its
// output pipes (one for both streams when merged, two otherwise), nothing
// of the server's.
func TestProgramsGetOnlyStdio(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:merged]
command=%s
starttimeout=0.1

[program:split]
command=%s
starttimeout=0.1
stdout=<logdir>
stderr=<logdir>
`, helperCommand(t, "fds"), helperCommand(t, "fds")))
	r.start()
	r.waitState("merged", "RUNNING", 10*time.Second)
	r.waitState("split", "RUNNING", 10*time.Second)
	read := func(name string) string {
		data, _ := os.ReadFile(filepath.Join(r.dir, "log", name))
		return string(data)
	}
	pipes := regexp.MustCompile(`(?m)^fd (\d+) (.*)$`)
	check := func(log string, merged bool) {
		t.Helper()
		var lines [][]string
		waitFor(t, "the fds helper's output", 10*time.Second, func() bool {
			lines = pipes.FindAllStringSubmatch(read(log), -1)
			return len(lines) >= 3
		})
		if len(lines) != 3 || lines[0][1] != "0" || lines[1][1] != "1" || lines[2][1] != "2" {
			t.Fatalf("%s: want exactly descriptors 0, 1 and 2:\n%s", log, read(log))
		}
		if lines[0][2] != "/dev/null" || !strings.HasPrefix(lines[1][2], "pipe:") || !strings.HasPrefix(lines[2][2], "pipe:") {
			t.Errorf("%s: want /dev/null and two pipes:\n%s", log, read(log))
		}
		if same := lines[1][2] == lines[2][2]; same != merged {
			t.Errorf("%s: stdout and stderr the same pipe: %v, want %v:\n%s", log, same, merged, read(log))
		}
	}
	check("merged.log", true)
	check("split-out.log", false)
	r.stopAll()
}
