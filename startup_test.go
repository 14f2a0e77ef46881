//go:build unix

// Tests of how the server fails to start: `ramona start` reports every
// startup failure of the background server (the server log is a directory,
// a symlink or unwritable, the pidfile or socket cannot be made, a port is
// taken) with the reason and exit 1, promptly, leaving nothing running; and
// `daemon` in the foreground exits with the same reasons.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// startupWait bounds a command that must not hang; a passing one returns in
// well under a second, this is for a loaded machine.
const startupWait = 20 * time.Second

// runBounded runs the command line in this process as cli does, but fails
// the test when it has not returned within startupWait.
func runBounded(t *testing.T, conf string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	type result struct {
		code     int
		out, err string
	}
	done := make(chan result, 1)
	argv := append([]string{"-c", conf}, args...)
	go func() { // ends when run returns; a hung one is killed with the test's processes
		var out, errb bytes.Buffer
		code := run(argv, strings.NewReader(""), &out, &errb)
		done <- result{code, out.String(), errb.String()}
	}()
	select {
	case r := <-done:
		t.Logf("ramona %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(argv, " "), r.code, r.out, r.err)
		return r.code, r.out, r.err
	case <-time.After(startupWait):
		t.Fatalf("ramona %s has not returned after %v", strings.Join(argv, " "), startupWait)
		return 0, "", ""
	}
}

// startupFailure is one way the server cannot start. setup prepares the
// test directory and returns the consoleuri ("" for unix://r.sock) and the
// configuration sections that provoke it.
type startupFailure struct {
	name       string
	setup      func(t *testing.T, r *testRamona) (uri, sections string)
	want       string // in the error message
	foreground bool   // `daemon` meets it too (it logs to stderr, not to [ramona:server] log)
}

var startupFailures = []startupFailure{
	{name: "log is a directory", want: "is a directory", setup: func(t *testing.T, r *testRamona) (string, string) {
		mkdir(t, filepath.Join(r.dir, "logs.d"))
		return "", "[ramona:server]\nlog=logs.d\n"
	}},
	{name: "log is a symlink", want: "refused: it is a symbolic link", setup: func(t *testing.T, r *testRamona) (string, string) {
		writeFile(t, filepath.Join(r.dir, "elsewhere.log"), "")
		if err := os.Symlink(filepath.Join(r.dir, "elsewhere.log"), filepath.Join(r.dir, "server.log")); err != nil {
			t.Fatal(err)
		}
		return "", "[ramona:server]\nlog=server.log\n"
	}},
	{name: "log is unwritable", want: "server.log", setup: func(t *testing.T, r *testRamona) (string, string) {
		makeUnwritable(t, filepath.Join(r.dir, "server.log"))
		return "", "[ramona:server]\nlog=server.log\n"
	}},
	{name: "log directory cannot be made", want: "not a directory", setup: func(t *testing.T, r *testRamona) (string, string) {
		writeFile(t, filepath.Join(r.dir, "plain"), "")
		return "", "[ramona:server]\nlog=plain/ramona.log\n"
	}},
	{name: "pidfile directory cannot be made", want: "not a directory", foreground: true, setup: func(t *testing.T, r *testRamona) (string, string) {
		writeFile(t, filepath.Join(r.dir, "plain"), "")
		return "", "[ramona:server]\npidfile=plain/ramona.pid\n"
	}},
	{name: "socket directory missing", want: "no such file or directory", foreground: true, setup: func(t *testing.T, r *testRamona) (string, string) {
		return "unix://missing/r.sock", ""
	}},
	{name: "socket path too long", want: "unix sockets allow 107", foreground: true, setup: func(t *testing.T, r *testRamona) (string, string) {
		return "unix://" + strings.Repeat("s", 110) + ".sock", ""
	}},
	{name: "port in use", want: "address already in use", foreground: true, setup: func(t *testing.T, r *testRamona) (string, string) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return "unix://r.sock,tcp://" + l.Addr().String(), ""
	}},
}

// provoke prepares the failure in r's directory and writes r's
// configuration, with one program.
func (f startupFailure) provoke(t *testing.T, r *testRamona) {
	t.Helper()
	uri, sections := f.setup(t, r)
	if uri == "" {
		uri = "unix://r.sock"
	}
	r.writeWithURI(uri, sections+progSection("one", helperCommand(t, "sleep", "1h")))
}

func TestStartReportsServerStartupFailures(t *testing.T) {
	for _, tc := range startupFailures {
		t.Run(tc.name, func(t *testing.T) {
			r := backgroundRamona(t, "")
			tc.provoke(t, r)
			code, out, errOut := runBounded(t, r.conf, "start")
			if code != exitFailed || !strings.Contains(errOut, tc.want) || strings.Contains(out, "server started") {
				t.Errorf("start: exit %d, stdout %q, stderr %q; want %d and %q", code, out, errOut, exitFailed, tc.want)
			}
			// start returns once the server has exited: nothing may be left.
			if pids := leftoverProcesses(r.id); len(pids) > 0 {
				t.Errorf("processes still running after the failed start: %v", pids)
			}
			if _, err := os.Lstat(r.sock()); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("socket %s after the failed start: %v; want it gone", r.sock(), err)
			}
			if code, _, _ := r.cli("status"); code != exitNoServer {
				t.Errorf("status after the failed start: exit %d; want %d", code, exitNoServer)
			}
		})
	}
}

func TestDaemonReportsStartupFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range startupFailures {
		if !tc.foreground {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			r := newTestRamona(t, "")
			tc.provoke(t, r)
			s := startRamonaProcess(t, filepath.Join(r.dir, "daemon.log"), []string{"RAMONA_TEST_ID=" + r.id}, "-c", r.conf, "daemon")
			code, err := s.wait(startupWait)
			out, _ := os.ReadFile(s.logPath)
			if err != nil || code != exitFailed || !strings.Contains(string(out), tc.want) {
				t.Errorf("daemon: exit %d (%v), output %q; want %d and %q", code, err, out, exitFailed, tc.want)
			}
			if !strings.Contains(string(out), "ERROR   server: cannot start: ") {
				t.Errorf("daemon output %q lacks the log line \"ERROR server: cannot start: ...\"", out)
			}
		})
	}
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// makeUnwritable creates path as a file this process cannot open for
// writing: read-only for an ordinary user, immutable (chattr +i) for root,
// whom permissions do not stop.
func makeUnwritable(t *testing.T, path string) {
	t.Helper()
	writeFile(t, path, "")
	if os.Geteuid() != 0 {
		if err := os.Chmod(path, 0o444); err != nil {
			t.Fatal(err)
		}
		return
	}
	chattr := needPeer(t, "chattr", "e2fsprogs")
	if out, err := exec.Command(chattr, "+i", path).CombinedOutput(); err != nil {
		t.Skipf("the file system of %s does not take chattr +i, so root can write any file here: %v %s", path, err, out)
	}
	t.Cleanup(func() { // before t.TempDir's removal, which was registered earlier
		if out, err := exec.Command(chattr, "-i", path).CombinedOutput(); err != nil {
			t.Errorf("chattr -i %s: %v %s", path, err, out)
		}
	})
	if f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0); err == nil {
		f.Close()
		t.Fatalf("%s is still writable after chattr +i", path)
	}
}

// TestLaunchBackgroundServer runs the parent's side of the start pipe
// against helpers standing in for a server that fails in each way.
func TestLaunchBackgroundServer(t *testing.T) {
	id := newLeftoverCheck(t)
	t.Setenv("RAMONA_TEST_ID", id)
	defer func(old time.Duration) { serverExitWait = old }(serverExitWait)
	serverExitWait = time.Second
	for _, tc := range []struct {
		name    string
		helper  []string
		timeout time.Duration
		code    int
		want    string
	}{
		{"rejects the configuration", []string{"exit", "2"}, startupWait, exitUsage, "exit: 2\n"},
		{"fails with a message", []string{"exit", "1"}, startupWait, exitFailed, "exit: 1\n"},
		{"exits silently", []string{"sleep", "1ms"}, startupWait, exitFailed, "ramona: the server exited before it listened (exit status 0)\n"},
		{"never reports", []string{"sleep", "1h"}, 100 * time.Millisecond, exitFailed, "did not report that it listens within 100ms; it was stopped ("},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			argv := helperArgv(t, tc.helper[0], tc.helper[1:]...)
			code := launchBackgroundServer(argv[0], argv, tc.timeout, &stderr)
			if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), tc.code, tc.want)
			}
			if pids := leftoverProcesses(id); len(pids) > 0 {
				t.Errorf("left running: %v", pids)
			}
		})
	}
}

// TestLaunchBackgroundServerKillsWhatIgnoresSIGTERM: a server that neither
// reports nor obeys SIGTERM is killed. It is /bin/sleep started with SIGTERM
// ignored (a disposition exec keeps), so it ignores it from its first
// instruction on.
func TestLaunchBackgroundServerKillsWhatIgnoresSIGTERM(t *testing.T) {
	id := newLeftoverCheck(t)
	t.Setenv("RAMONA_TEST_ID", id)
	defer func(old time.Duration) { serverExitWait = old }(serverExitWait)
	serverExitWait = 200 * time.Millisecond
	sleep := needPeer(t, "sleep", "coreutils")
	signal.Ignore(syscall.SIGTERM)
	var stderr bytes.Buffer
	code := launchBackgroundServer(sleep, []string{"sleep", "3600"}, 100*time.Millisecond, &stderr)
	// Reset alone leaves an ignored signal ignored (the runtime puts its
	// handler back only for a Notify): Notify, then Reset, restores the
	// runtime's own handling, which exec turns into the default.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGTERM)
	signal.Reset(syscall.SIGTERM)
	if ignored := sigtermIgnored(t); ignored {
		t.Errorf("the test process still ignores SIGTERM, and so would every child the tests after this one start")
	}
	want := "did not report that it listens within 100ms; it was killed (SIGTERM did not stop it within 200ms)"
	if code != exitFailed || !strings.Contains(stderr.String(), want) {
		t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), exitFailed, want)
	}
	if pids := leftoverProcesses(id); len(pids) > 0 {
		t.Errorf("left running: %v", pids)
	}
}

// sigtermIgnored tells whether this process ignores SIGTERM (SigIgn in
// /proc/self/status), a disposition every child it starts inherits.
func sigtermIgnored(t *testing.T) bool {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "SigIgn:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return mask&(1<<(syscall.SIGTERM-1)) != 0
		}
	}
	t.Fatal("no SigIgn in /proc/self/status")
	return false
}

func TestHeadBuffer(t *testing.T) {
	t.Parallel()
	h := &headBuffer{max: 5}
	for _, w := range []string{"abc", "defg", "", "hi"} {
		if n, err := h.Write([]byte(w)); n != len(w) || err != nil {
			t.Fatalf("Write(%q) = %d, %v; want %d, nil", w, n, err, len(w))
		}
	}
	if got, want := h.String(), "abcde\n... (4 more bytes)\n"; got != want || h.Len() != 9 {
		t.Errorf("String() = %q, Len() = %d; want %q, 9", got, h.Len(), want)
	}
}

// TestStartRefusesAServerLogLinkPlantedByAUser: the server runs as root and
// its log lives in a directory other users may write (as /tmp or a shared
// log directory is). A user plants ramona.log as a link to a file of
// root's; `start` must refuse it instead of appending to that file.
func TestStartRefusesAServerLogLinkPlantedByAUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the server runs as root here and the attacker as a user the test creates: needs root")
	}
	uid, gid := newUnprivilegedUser(t, "rst")
	r := backgroundRamona(t, "")
	shared := filepath.Join(r.dir, "shared")
	mkdir(t, shared)
	for dir, mode := range map[string]os.FileMode{filepath.Dir(r.dir): 0o711, r.dir: 0o711, shared: 0o1777} {
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
	}
	victim := filepath.Join(r.dir, "victim")
	writeFile(t, victim, "root's own data\n")
	ln := exec.Command(needPeer(t, "ln", "coreutils"), "-s", victim, filepath.Join(shared, "ramona.log"))
	ln.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}}
	if out, err := ln.CombinedOutput(); err != nil {
		t.Fatalf("the user's ln -s: %v %s", err, out)
	}
	r.writeWithURI("unix://r.sock", "[ramona:server]\nlog=shared/ramona.log\n"+progSection("one", helperCommand(t, "sleep", "1h")))
	code, out, errOut := runBounded(t, r.conf, "start")
	if code != exitFailed || !strings.Contains(errOut, "refused: it is a symbolic link") || strings.Contains(out, "server started") {
		t.Errorf("start: exit %d, stdout %q, stderr %q; want %d and the link refused", code, out, errOut, exitFailed)
	}
	if data, _ := os.ReadFile(victim); string(data) != "root's own data\n" {
		t.Errorf("the server wrote through the user's link into %s: %q", victim, data)
	}
}

// newUnprivilegedUser creates a user for this test only (prefix, this
// process's pid and a counter, so tests running at once never share one),
// removed at the end, and returns its uid and gid. useradd and userdel fail
// while another process holds the lock of /etc/passwd (other tests on the
// machine add users too): they are tried again.
func newUnprivilegedUser(t *testing.T, prefix string) (uid, gid uint32) {
	t.Helper()
	useradd := needPeer(t, "useradd", "passwd")
	userdel := needPeer(t, "userdel", "passwd")
	name := fmt.Sprintf("%s%d-%d", prefix, os.Getpid(), unprivilegedUsers.Add(1))
	retry := func(args ...string) ([]byte, error) {
		var out []byte
		var err error
		for try := 0; try < 50; try++ {
			if out, err = exec.Command(args[0], args[1:]...).CombinedOutput(); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		return out, err
	}
	if out, err := retry(useradd, "--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group", name); err != nil {
		t.Fatalf("useradd %s: %v %s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := retry(userdel, name); err != nil {
			t.Errorf("userdel %s: %v %s", name, err, out)
		}
	})
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Sscan(u.Uid, &uid)
	fmt.Sscan(u.Gid, &gid)
	return uid, gid
}

var unprivilegedUsers atomic.Int64
