// The test harness: TestMain lets the test binary act as the supervised child
// programs ("ramona-test-helper NAME ARGS", see runTestHelper) and as the ramona
// binary itself ("ramona-test-main ARGS"), so end-to-end tests need no go build.
// It also owns the utilities those tests share (server start/stop, in-process
// cli, waitFor, leftover-process checks) and the self-tests of all of them.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestMain dispatches on os.Args[1] before the testing package sees any flag.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "ramona-test-helper":
			if len(os.Args) < 3 {
				fmt.Fprintln(os.Stderr, "ramona-test-helper: missing helper name")
				os.Exit(helperUnknown)
			}
			os.Exit(runTestHelper(os.Args[2], os.Args[3:]))
		case "ramona-test-main":
			// The server started by a test must re-execute itself (exec shim,
			// nested daemon) as the test binary too.
			reexecPrefix = []string{"ramona-test-main"}
			os.Exit(run(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
		}
	}
	reexecPrefix = []string{"ramona-test-main"}
	// Under -race every exiting process sleeps 1 s (atexit_sleep_ms) unless
	// told otherwise; the helpers and servers inherit this environment.
	if g := os.Getenv("GORACE"); !strings.Contains(g, "atexit_sleep_ms") {
		os.Setenv("GORACE", strings.TrimSpace(g+" atexit_sleep_ms=0"))
	}
	os.Exit(m.Run())
}

// Helper exit codes other than the ones a helper is asked to return.
const (
	helperUsage   = 98 // a known helper with bad arguments
	helperUnknown = 99 // no such helper
)

// helperLongSleep is "forever" for helpers that must stay up until killed.
const helperLongSleep = time.Hour

// runTestHelper runs the child program name (os.Args[2] of a re-executed test
// binary) and returns its exit code. Every helper is small and deterministic:
//
//	sleep D           stdout "sleep: started pid=N\n", sleeps D, exits 0 (dies on SIGTERM)
//	exit N [D]        sleeps D (default 0), stderr "exit: N\n", exits N
//	ignore-term D     ignores SIGTERM and SIGINT, then stdout "ignore-term: ready\n", sleeps D
//	spam BYTES        writes spamContent(BYTES) to stdout in 64 KiB writes, exits 0
//	grandchild D      starts "ignore-term D" in its own process group without waiting for it,
//	                  stdout "grandchild: pid=N" (N: the grandchild), sleeps D
//	double-fork D     runs "orphan-maker D 3", which starts "ignore-term D" and exits at once;
//	                  stdout "double-fork: pid=N" (N: the orphan), sleeps D
//	orphan-maker D [FD]  starts "ignore-term D" (stdout: this stdout), reports
//	                  "orphan-maker: pid=N\n" on fd FD (default 1), exits 0 without waiting
//	env [once]        stdout: the environment sorted, one VAR=value a line; sleeps 1h unless once
//	pwd-umask [once]  stdout "cwd=DIR umask=0022\n"; sleeps 1h unless once
//	stamp FILE        appends "PID UNIXNANO\n" (its start time) to FILE, sleeps 1h
//	echo-lines N D    stdout "line 1\n" ... "line N\n", D between lines, then sleeps 1h
//	rlimit-core [once] stdout "core=SOFTLIMIT\n" (a number or "unlimited"); sleeps 1h unless once
//	fds [once]        stdout "fd N TARGET\n" for each open descriptor but the Go runtime's own
//	                  cgroup files, in order; sleeps 1h unless once
//
// The ignore-term processes started by grandchild and orphan-maker inherit the
// environment, stdout and stderr, and the process group.
func runTestHelper(name string, args []string) int {
	start := time.Now()
	a := helperArgs{name: name, args: args}
	switch name {
	case "sleep":
		d := a.duration(0)
		if !a.ok(1, 1) {
			return helperUsage
		}
		fmt.Printf("sleep: started pid=%d\n", os.Getpid())
		time.Sleep(d)
		return 0

	case "exit":
		code := a.int(0)
		d := a.optDuration(1)
		if !a.ok(1, 2) {
			return helperUsage
		}
		time.Sleep(d)
		fmt.Fprintf(os.Stderr, "exit: %d\n", code)
		return code

	case "ignore-term":
		d := a.duration(0)
		if !a.ok(1, 1) {
			return helperUsage
		}
		signal.Ignore(syscall.SIGTERM, syscall.SIGINT)
		fmt.Println("ignore-term: ready")
		time.Sleep(d)
		return 0

	case "spam":
		n := a.int(0)
		if !a.ok(1, 1) {
			return helperUsage
		}
		if err := writeSpam(os.Stdout, n); err != nil {
			fmt.Fprintln(os.Stderr, "spam:", err)
			return 1
		}
		return 0

	case "grandchild":
		d := a.duration(0)
		if !a.ok(1, 1) {
			return helperUsage
		}
		p, err := startIgnoreTerm(a.args[0], os.Stdout)
		if err != nil {
			fmt.Fprintln(os.Stderr, "grandchild:", err)
			return 1
		}
		fmt.Printf("grandchild: pid=%d\n", p.Pid)
		p.Release() // never waited for: orphaned when this process dies
		time.Sleep(d)
		return 0

	case "orphan-maker":
		a.duration(0)
		fd := 1
		if len(a.args) > 1 {
			fd = a.int(1)
		}
		if !a.ok(1, 2) {
			return helperUsage
		}
		if fd > 2 {
			// Inherited without close-on-exec: the orphan must not hold it, or
			// the reader never sees EOF.
			syscall.CloseOnExec(fd)
		}
		p, err := startIgnoreTerm(a.args[0], os.Stdout)
		if err != nil {
			fmt.Fprintln(os.Stderr, "orphan-maker:", err)
			return 1
		}
		report := os.NewFile(uintptr(fd), "report")
		fmt.Fprintf(report, "orphan-maker: pid=%d\n", p.Pid)
		p.Release()
		return 0

	case "double-fork":
		d := a.duration(0)
		if !a.ok(1, 1) {
			return helperUsage
		}
		pid, err := doubleFork(a.args[0])
		if err != nil {
			fmt.Fprintln(os.Stderr, "double-fork:", err)
			return 1
		}
		fmt.Printf("double-fork: pid=%d\n", pid)
		time.Sleep(d)
		return 0

	case "env":
		once := a.once()
		if !a.ok(0, 1) {
			return helperUsage
		}
		env := os.Environ()
		sort.Strings(env)
		os.Stdout.WriteString(strings.Join(append(env, ""), "\n"))
		return sleepUnless(once)

	case "pwd-umask":
		once := a.once()
		if !a.ok(0, 1) {
			return helperUsage
		}
		wd, err := os.Getwd()
		if err != nil {
			fmt.Fprintln(os.Stderr, "pwd-umask:", err)
			return 1
		}
		mask := syscall.Umask(0)
		syscall.Umask(mask)
		fmt.Printf("cwd=%s umask=%04o\n", wd, mask)
		return sleepUnless(once)

	case "stamp":
		if !a.ok(1, 1) {
			return helperUsage
		}
		f, err := os.OpenFile(a.args[0], os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err == nil {
			_, err = fmt.Fprintf(f, "%d %d\n", os.Getpid(), start.UnixNano())
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "stamp:", err)
			return 1
		}
		time.Sleep(helperLongSleep)
		return 0

	case "echo-lines":
		n := a.int(0)
		d := a.duration(1)
		if !a.ok(2, 2) {
			return helperUsage
		}
		for i := 1; i <= n; i++ {
			if i > 1 {
				time.Sleep(d)
			}
			fmt.Printf("line %d\n", i)
		}
		time.Sleep(helperLongSleep)
		return 0

	case "fds":
		once := a.once()
		if !a.ok(0, 1) {
			return helperUsage
		}
		// Raw system calls: an os.File for the directory would start the
		// runtime's poller, whose descriptors would show up in the list.
		dir, err := syscall.Open("/proc/self/fd", syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fds:", err)
			return 1
		}
		buf := make([]byte, 8192)
		n, err := syscall.ReadDirent(dir, buf)
		syscall.Close(dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fds:", err)
			return 1
		}
		_, _, names := syscall.ParseDirent(buf[:n], -1, nil)
		var fds []int
		for _, name := range names {
			if fd, err := strconv.Atoi(name); err == nil && fd != dir {
				fds = append(fds, fd)
			}
		}
		sort.Ints(fds)
		var out strings.Builder
		for _, fd := range fds {
			target, _ := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
			if strings.HasPrefix(target, "/sys/fs/cgroup/") {
				continue // the helper's own Go runtime follows its CPU limit there
			}
			fmt.Fprintf(&out, "fd %d %s\n", fd, target)
		}
		os.Stdout.WriteString(out.String())
		return sleepUnless(once)

	case "rlimit-core":
		once := a.once()
		if !a.ok(0, 1) {
			return helperUsage
		}
		var lim syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_CORE, &lim); err != nil {
			fmt.Fprintln(os.Stderr, "rlimit-core:", err)
			return 1
		}
		fmt.Printf("core=%s\n", rlimitString(lim.Cur))
		return sleepUnless(once)
	}
	fmt.Fprintf(os.Stderr, "ramona-test-helper: unknown helper %q\n", name)
	return helperUnknown
}

// helperArgs parses a helper's positional arguments, remembering the first error.
type helperArgs struct {
	name string
	args []string
	err  error
}

func (a *helperArgs) fail(err error) {
	if a.err == nil {
		a.err = err
	}
}

func (a *helperArgs) int(i int) int {
	if i >= len(a.args) {
		a.fail(fmt.Errorf("missing argument %d", i+1))
		return 0
	}
	n, err := strconv.Atoi(a.args[i])
	if err != nil {
		a.fail(err)
	}
	return n
}

func (a *helperArgs) duration(i int) time.Duration {
	if i >= len(a.args) {
		a.fail(fmt.Errorf("missing argument %d", i+1))
		return 0
	}
	d, err := time.ParseDuration(a.args[i])
	if err != nil {
		a.fail(err)
	}
	return d
}

func (a *helperArgs) optDuration(i int) time.Duration {
	if i >= len(a.args) {
		return 0
	}
	return a.duration(i)
}

// once reports whether the optional first argument is "once".
func (a *helperArgs) once() bool {
	if len(a.args) == 0 {
		return false
	}
	if a.args[0] != "once" {
		a.fail(fmt.Errorf("unknown argument %q", a.args[0]))
	}
	return true
}

// ok checks the argument count and reports any parse error to stderr.
func (a *helperArgs) ok(minArgs, maxArgs int) bool {
	if len(a.args) < minArgs || len(a.args) > maxArgs {
		a.fail(fmt.Errorf("want %d to %d arguments, got %d", minArgs, maxArgs, len(a.args)))
	}
	if a.err != nil {
		fmt.Fprintf(os.Stderr, "ramona-test-helper %s %q: %v\n", a.name, a.args, a.err)
		return false
	}
	return true
}

func sleepUnless(once bool) int {
	if !once {
		time.Sleep(helperLongSleep)
	}
	return 0
}

func rlimitString(v uint64) string {
	if v == ^uint64(0) { // RLIM_INFINITY
		return "unlimited"
	}
	return strconv.FormatUint(v, 10)
}

// startIgnoreTerm starts "ramona-test-helper ignore-term d" with stdin
// /dev/null, the given stdout, this stderr, this environment and this process
// group. The caller owns the returned process (Release or Wait).
func startIgnoreTerm(d string, stdout *os.File) (*os.Process, error) {
	return startSelf([]*os.File{nil, stdout, os.Stderr}, "ignore-term", d)
}

// startSelf starts this binary as a helper; a nil files[0] becomes /dev/null.
func startSelf(files []*os.File, name string, args ...string) (*os.Process, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, err
	}
	defer devnull.Close()
	files = slices.Clone(files)
	if files[0] == nil {
		files[0] = devnull
	}
	argv := append([]string{exe, "ramona-test-helper", name}, args...)
	return os.StartProcess(exe, argv, &os.ProcAttr{Files: files})
}

// doubleFork runs "orphan-maker d 3" with a pipe as its fd 3, waits for it
// (it exits at once) and returns the pid of the orphan it reported.
func doubleFork(d string) (int, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	p, err := startSelf([]*os.File{nil, os.Stdout, os.Stderr, w}, "orphan-maker", d, "3")
	w.Close()
	if err != nil {
		return 0, err
	}
	report, rerr := io.ReadAll(r) // EOF when orphan-maker exits: the orphan lacks fd 3
	state, werr := p.Wait()
	if err := errors.Join(rerr, werr); err != nil {
		return 0, err
	}
	if !state.Success() {
		return 0, fmt.Errorf("orphan-maker: %v", state)
	}
	var pid int
	if _, err := fmt.Sscanf(string(report), "orphan-maker: pid=%d\n", &pid); err != nil {
		return 0, fmt.Errorf("orphan-maker reported %q: %v", report, err)
	}
	return pid, nil
}

// spamLineLen is the length of every line of spamContent (while the line
// number has at most 8 digits, i.e. for the first 6.4 GB).
const spamLineLen = 64

// spamFill pads a spam line "line NNNNNNNN " to spamLineLen bytes.
const spamFill = "abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOPQRSTUV"

// spamContent is exactly what "spam n" writes: n bytes of the lines
// "line 00000000 <fill>\n", "line 00000001 <fill>\n", ..., each spamLineLen
// bytes long; the last line is cut short when n is not a multiple of it.
func spamContent(n int) []byte {
	var b bytes.Buffer
	b.Grow(n)
	writeSpam(&b, n) // a bytes.Buffer write never fails
	return b.Bytes()
}

// writeSpam writes spamContent(n) to w in writes of at most 64 KiB (whole lines
// but the last).
func writeSpam(w io.Writer, n int) error {
	const chunk = 64 << 10
	buf := make([]byte, 0, chunk+spamLineLen)
	for i := 0; n > 0; i++ {
		buf = fmt.Appendf(buf, "line %08d %s\n", i, spamFill)
		if len(buf) >= chunk || len(buf) >= n {
			k := min(len(buf), n, chunk)
			if _, err := w.Write(buf[:k]); err != nil {
				return err
			}
			n -= k
			buf = append(buf[:0], buf[k:]...)
		}
	}
	return nil
}

// ---- Utilities for end-to-end tests ----

// testBinary is the path of this test binary, which re-executes as helpers and as ramona.
func testBinary(t testing.TB) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("os.Executable: %v", err)
	}
	return exe
}

// helperCommand is a config value for command= that runs helper name with args:
// words quoted as in POSIX sh (shellQuote) and % doubled for the INI
// interpolation. An argument the INI format cannot carry (a newline, a ';'
// after white space, which starts an inline comment) fails the test.
func helperCommand(t testing.TB, name string, args ...string) string {
	t.Helper()
	words := append([]string{testBinary(t), "ramona-test-helper", name}, args...)
	quoted := make([]string, len(words))
	for i, w := range words {
		if strings.ContainsAny(w, "\r\n") || strings.Contains(w, " ;") || strings.Contains(w, "\t;") {
			t.Fatalf("helperCommand: argument %q cannot be written in a config value", w)
		}
		quoted[i] = shellQuote(w)
	}
	return strings.ReplaceAll(strings.Join(quoted, " "), "%", "%%")
}

// shellQuote returns s as one shell word: unchanged when it holds only
// characters that need no quoting, else in double quotes with \ " $ and `
// escaped by a backslash (POSIX sh double-quote rules).
func shellQuote(s string) string {
	safe := func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			strings.ContainsRune("-_./:=,+@%", r)
	}
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool { return !safe(r) }) {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if strings.ContainsRune("\\\"$`", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

var testIDCounter atomic.Int64

// newTestID is a marker unique to this test run, for RAMONA_TEST_ID=<id> in the
// environment of everything a test starts (see leftoverProcesses).
func newTestID() string {
	return fmt.Sprintf("t%d-%d", os.Getpid(), testIDCounter.Add(1))
}

// leftoverProcesses lists the live (non-zombie) processes, other than this
// one, whose initial environment holds exactly RAMONA_TEST_ID=<id>. Processes
// that vanish or cannot be read are skipped.
func leftoverProcesses(id string) []int {
	want := []byte("RAMONA_TEST_ID=" + id)
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err != nil || !slices.ContainsFunc(bytes.Split(env, []byte{0}), func(e []byte) bool { return bytes.Equal(e, want) }) {
			continue
		}
		if st, err := readProcStat(pid); err != nil || st.state == 'Z' {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

// procStat holds the fields of /proc/PID/stat the tests use.
type procStat struct {
	state byte // R, S, D, Z, T, ...
	ppid  int
	pgrp  int
}

func readProcStat(pid int) (procStat, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	// "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: no ')' in %q", pid, data)
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 3 || len(f[0]) != 1 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: bad fields %q", pid, data)
	}
	var st procStat
	st.state = f[0][0]
	if st.ppid, err = strconv.Atoi(f[1]); err == nil {
		st.pgrp, err = strconv.Atoi(f[2])
	}
	return st, err
}

// procCmdline is the command line of pid with spaces between arguments.
func procCmdline(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return strings.TrimSpace(string(bytes.ReplaceAll(data, []byte{0}, []byte{' '})))
}

// checkNoLeftovers fails the test if processes carrying RAMONA_TEST_ID=<id> are
// still alive 5 s after it is called, and SIGKILLs them. Call it from
// t.Cleanup, registered BEFORE the server or helpers are started so that it
// runs after their own cleanups (cleanups run last-registered first).
func checkNoLeftovers(t testing.TB, id string) {
	t.Helper()
	checkNoLeftoversWithin(t, id, 5*time.Second)
}

func checkNoLeftoversWithin(t testing.TB, id string, grace time.Duration) {
	t.Helper()
	deadline := time.Now().Add(grace)
	pids := leftoverProcesses(id)
	for len(pids) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		pids = leftoverProcesses(id)
	}
	if len(pids) == 0 {
		return
	}
	var b strings.Builder
	for _, pid := range pids {
		fmt.Fprintf(&b, "\n\tpid %d: %s", pid, procCmdline(pid))
		syscall.Kill(pid, syscall.SIGKILL)
	}
	t.Errorf("processes of test %s still alive %v after the test (now killed):%s", id, grace, &b)
	for deadline = time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if len(leftoverProcesses(id)) == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("processes of test %s survived SIGKILL: %v", id, leftoverProcesses(id))
}

// waitFor polls cond every 10 ms until it is true, or fails the test (Fatal)
// once timeout has passed.
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for: %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testServer is the test binary running as ramona in its own process group.
type testServer struct {
	t       testing.TB
	cmd     *exec.Cmd
	logPath string        // its stdout and stderr
	done    chan struct{} // closed when cmd.Wait has returned
	waitErr error         // cmd.Wait's error; read after done
}

// startTestServer runs "ramona -c confPath daemon" (the test binary as
// ramona-test-main) with os.Environ() plus extraEnv, its output appended to
// server.log beside confPath. t.Cleanup stops it: SIGTERM, up to 10 s, then
// SIGKILL to its process group; the log goes to the test log if the test failed.
func startTestServer(t testing.TB, confPath string, extraEnv ...string) *testServer {
	t.Helper()
	return startRamonaProcess(t, filepath.Join(filepath.Dir(confPath), "server.log"), extraEnv,
		"-c", confPath, "daemon")
}

// startRamonaProcess runs the test binary as "ramona ARGS" in its own process
// group, its stdout and stderr appended to logPath; see startTestServer.
func startRamonaProcess(t testing.TB, logPath string, extraEnv []string, args ...string) *testServer {
	t.Helper()
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatalf("server log: %v", err)
	}
	defer logf.Close() // the child has its own copy once started
	cmd := exec.Command(testBinary(t), append([]string{"ramona-test-main"}, args...)...)
	cmd.Env = append(os.Environ(), extraEnv...)
	cmd.Stdin = nil
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return newTestServer(t, cmd, logPath)
}

// newTestServer starts cmd (in its own process group) and registers the
// cleanup described at startTestServer.
func newTestServer(t testing.TB, cmd *exec.Cmd, logPath string) *testServer {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %q: %v", cmd.Args, err)
	}
	s := &testServer{t: t, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() { // ends when the server exits
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	t.Logf("started %s: pid %d, log %s", strings.Join(cmd.Args[1:], " "), cmd.Process.Pid, logPath)
	t.Cleanup(s.cleanup)
	return s
}

func (s *testServer) cleanup() {
	t := s.t
	t.Helper()
	pid := s.cmd.Process.Pid
	select {
	case <-s.done:
	default:
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			t.Errorf("ramona pid %d still running 10s after SIGTERM; killing its process group", pid)
			syscall.Kill(-pid, syscall.SIGKILL)
			select {
			case <-s.done:
			case <-time.After(10 * time.Second):
				t.Errorf("ramona pid %d survived SIGKILL", pid)
			}
		}
	}
	if t.Failed() {
		data, err := os.ReadFile(s.logPath)
		if err != nil {
			t.Logf("server log: %v", err)
		} else {
			t.Logf("server log %s:\n%s", s.logPath, data)
		}
	}
}

// wait waits up to timeout for the server to exit and returns its exit code;
// an error when it is still running or was killed by a signal (code -1).
func (s *testServer) wait(timeout time.Duration) (exitCode int, err error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-s.done:
	case <-timer.C:
		select {
		case <-s.done:
		default:
			return -1, fmt.Errorf("ramona pid %d still running after %v", s.cmd.Process.Pid, timeout)
		}
	}
	ps := s.cmd.ProcessState
	if ps == nil {
		return -1, s.waitErr
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -1, fmt.Errorf("ramona pid %d killed by %v", s.cmd.Process.Pid, ws.Signal())
	}
	return ps.ExitCode(), nil
}

// signal sends sig to the server process (not its group); a failure fails the test.
func (s *testServer) signal(sig os.Signal) {
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Errorf("signal %v to ramona pid %d: %v", sig, s.cmd.Process.Pid, err)
	}
}

// cli runs "ramona -c confPath ARGS" in this process and returns its exit code
// and output. A server it starts in the background is the test binary
// (reexecPrefix) and inherits this environment: use t.Setenv("RAMONA_TEST_ID",
// id) first so that checkNoLeftovers sees it.
func cli(t testing.TB, confPath string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var outBuf, errBuf bytes.Buffer
	argv := append([]string{"-c", confPath}, args...)
	code = run(argv, strings.NewReader(""), &outBuf, &errBuf)
	t.Logf("ramona %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(argv, " "), code, &outBuf, &errBuf)
	return code, outBuf.String(), errBuf.String()
}

// ---- Self-tests of the helpers and utilities ----

// syncBuffer is a bytes.Buffer safe for one writer goroutine and readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// helperProc is a helper started by a self-test, its output captured.
type helperProc struct {
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	done           chan struct{} // closed when cmd.Wait has returned
}

// newHelperCmd is an exec.Cmd for helper name in its own process group with
// RAMONA_TEST_ID=id in its environment.
func newHelperCmd(t testing.TB, id, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(testBinary(t), append([]string{"ramona-test-helper", name}, args...)...)
	cmd.Env = append(os.Environ(), "RAMONA_TEST_ID="+id)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// startHelper starts cmd (from newHelperCmd) with pipes for stdout and stderr
// that a grandchild may keep open. t.Cleanup SIGKILLs its process group.
func startHelper(t testing.TB, cmd *exec.Cmd) *helperProc {
	t.Helper()
	h := &helperProc{cmd: cmd, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	var readers []*os.File
	var copiers sync.WaitGroup
	for _, target := range []struct {
		set func(*os.File)
		buf *syncBuffer
	}{
		{func(f *os.File) { cmd.Stdout = f }, h.stdout},
		{func(f *os.File) { cmd.Stderr = f }, h.stderr},
	} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close() // the children hold their own copies
		target.set(w)
		readers = append(readers, r)
		copiers.Go(func() { io.Copy(target.buf, r) }) // ends at EOF or when r is closed
	}
	closeReaders := func() {
		for _, r := range readers {
			r.Close()
		}
		copiers.Wait()
	}
	if err := cmd.Start(); err != nil {
		closeReaders()
		t.Fatalf("start %q: %v", cmd.Args, err)
	}
	go func() { // ends when the helper exits
		cmd.Wait()
		close(h.done)
	}()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-h.done:
		case <-time.After(10 * time.Second):
			t.Errorf("helper %q pid %d survived SIGKILL", cmd.Args, cmd.Process.Pid)
		}
		closeReaders()
	})
	return h
}

// exited waits (at most 10 s) for the helper to exit and returns its state.
func (h *helperProc) exited(t testing.TB) *os.ProcessState {
	t.Helper()
	select {
	case <-h.done:
		return h.cmd.ProcessState
	case <-time.After(10 * time.Second):
		t.Fatalf("helper %q pid %d did not exit", h.cmd.Args, h.cmd.Process.Pid)
		return nil
	}
}

// killedBy reports whether ps ended by signal sig.
func killedBy(ps *os.ProcessState, sig syscall.Signal) bool {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}

// newLeftoverCheck returns a fresh test id whose leftovers are checked at the
// end of the test; call it before starting anything.
func newLeftoverCheck(t *testing.T) string {
	id := newTestID()
	t.Cleanup(func() { checkNoLeftovers(t, id) })
	return id
}

// runHelper runs a helper to completion and returns its exit code, stdout and stderr.
func runHelper(t *testing.T, cmd *exec.Cmd) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("run %q: %v", cmd.Args, err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

var pidLine = regexp.MustCompile(`(?m)^(\S+): pid=(\d+)$`)

// reportedPid waits for "PREFIX: pid=N" on the helper's stdout and returns N.
func reportedPid(t *testing.T, h *helperProc, prefix string) int {
	t.Helper()
	var pid int
	waitFor(t, prefix+": pid=N on stdout", 10*time.Second, func() bool {
		for _, m := range pidLine.FindAllStringSubmatch(h.stdout.String(), -1) {
			if m[1] == prefix {
				pid, _ = strconv.Atoi(m[2])
				return true
			}
		}
		return false
	})
	return pid
}

func TestHelperSleep(t *testing.T) {
	id := newLeftoverCheck(t)
	cmd := newHelperCmd(t, id, "sleep", "10ms")
	code, out, _ := runHelper(t, cmd)
	if want := fmt.Sprintf("sleep: started pid=%d\n", cmd.Process.Pid); code != 0 || out != want {
		t.Errorf("sleep 10ms: exit %d, stdout %q; want 0, %q", code, out, want)
	}
}

func TestHelperExit(t *testing.T) {
	id := newLeftoverCheck(t)
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"3"}, 3},
		{[]string{"0", "20ms"}, 0},
		{[]string{"42", "1ms"}, 42},
	} {
		code, _, errOut := runHelper(t, newHelperCmd(t, id, "exit", tc.args...))
		if want := fmt.Sprintf("exit: %d\n", tc.code); code != tc.code || errOut != want {
			t.Errorf("exit %q: exit %d, stderr %q; want %d, %q", tc.args, code, errOut, tc.code, want)
		}
	}
}

func TestHelperBadUsage(t *testing.T) {
	id := newLeftoverCheck(t)
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"no-such-helper"}, helperUnknown},
		{nil, helperUnknown},
		{[]string{"exit"}, helperUsage},
		{[]string{"exit", "x"}, helperUsage},
		{[]string{"sleep", "5"}, helperUsage},
		{[]string{"env", "twice"}, helperUsage},
	} {
		cmd := newHelperCmd(t, id, "")
		cmd.Args = append([]string{cmd.Path, "ramona-test-helper"}, tc.args...)
		code, _, errOut := runHelper(t, cmd)
		if code != tc.code || errOut == "" {
			t.Errorf("helper %q: exit %d, stderr %q; want %d and a message", tc.args, code, errOut, tc.code)
		}
	}
}

func TestHelperIgnoreTerm(t *testing.T) {
	id := newLeftoverCheck(t)
	h := startHelper(t, newHelperCmd(t, id, "ignore-term", "1h"))
	waitFor(t, "ignore-term: ready", 10*time.Second, func() bool {
		return h.stdout.String() == "ignore-term: ready\n"
	})
	pid := h.cmd.Process.Pid
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	// The one bounded wait: a process that obeyed TERM/INT exits well within it.
	select {
	case <-h.done:
		t.Fatalf("ignore-term exited on SIGTERM/SIGINT: %v", h.cmd.ProcessState)
	case <-time.After(200 * time.Millisecond):
	}
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("kill -0 after SIGTERM: %v", err)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	if ps := h.exited(t); !killedBy(ps, syscall.SIGKILL) {
		t.Errorf("ignore-term ended with %v; want killed by SIGKILL", ps)
	}
}

func TestHelperGrandchild(t *testing.T) {
	id := newLeftoverCheck(t)
	h := startHelper(t, newHelperCmd(t, id, "grandchild", "1h"))
	pid := h.cmd.Process.Pid
	gpid := reportedPid(t, h, "grandchild")
	waitFor(t, "the grandchild's ignore-term: ready", 10*time.Second, func() bool {
		return strings.Contains(h.stdout.String(), "ignore-term: ready\n")
	})
	st, err := readProcStat(gpid)
	if err != nil {
		t.Fatal(err)
	}
	if st.pgrp != pid || st.ppid != pid {
		t.Errorf("grandchild %d: ppid %d pgrp %d; want both %d (the helper)", gpid, st.ppid, st.pgrp, pid)
	}
	if !slices.Contains(leftoverProcesses(id), gpid) {
		t.Errorf("leftoverProcesses(%s) = %v; want it to include grandchild %d", id, leftoverProcesses(id), gpid)
	}

	// Killing the helper alone orphans the grandchild, which lives on.
	syscall.Kill(pid, syscall.SIGKILL)
	h.exited(t)
	st, err = readProcStat(gpid)
	if err != nil || st.state == 'Z' || st.ppid == pid || st.pgrp != pid {
		t.Errorf("orphaned grandchild %d: %+v, %v; want alive, reparented, pgrp %d", gpid, st, err, pid)
	}
	// The cleanup kills the group, so the grandchild too.
}

func TestHelperDoubleFork(t *testing.T) {
	id := newLeftoverCheck(t)
	h := startHelper(t, newHelperCmd(t, id, "double-fork", "1h"))
	pid := h.cmd.Process.Pid
	opid := reportedPid(t, h, "double-fork")
	waitFor(t, "the orphan's ignore-term: ready", 10*time.Second, func() bool {
		return strings.Contains(h.stdout.String(), "ignore-term: ready\n")
	})
	st, err := readProcStat(opid)
	if err != nil {
		t.Fatal(err)
	}
	if st.state == 'Z' || st.ppid == pid || st.pgrp != pid {
		t.Errorf("orphan %d: %+v; want alive, not a child of %d, pgrp %d", opid, st, pid, pid)
	}
	if got := leftoverProcesses(id); !slices.Contains(got, opid) || !slices.Contains(got, pid) || len(got) != 2 {
		t.Errorf("leftoverProcesses = %v; want exactly the helper %d and the orphan %d (orphan-maker gone)", got, pid, opid)
	}
}

func TestSpamContent(t *testing.T) {
	if n := len(fmt.Sprintf("line %08d %s\n", 0, spamFill)); n != spamLineLen {
		t.Fatalf("a spam line is %d bytes; want %d", n, spamLineLen)
	}
	full := spamContent(300000)
	for _, n := range []int{0, 1, 63, 64, 65, 65535, 65536, 65537, 300000} {
		got := spamContent(n)
		if len(got) != n || !bytes.Equal(got, full[:n]) {
			t.Errorf("spamContent(%d): %d bytes, prefix of spamContent(300000): %v", n, len(got), bytes.HasPrefix(full, got))
		}
	}
	for i, line := range strings.SplitAfter(string(full[:len(full)/spamLineLen*spamLineLen]), "\n") {
		if line == "" {
			continue
		}
		if want := fmt.Sprintf("line %08d %s\n", i, spamFill); line != want {
			t.Fatalf("line %d = %q; want %q", i, line, want)
		}
	}
	var w chunkRecorder
	writeSpam(&w, 200000)
	for i, n := range w.sizes {
		if n > 64<<10 || (i < len(w.sizes)-1 && n%spamLineLen != 0) {
			t.Errorf("write %d of spam: %d bytes; want at most 64 KiB of whole lines", i, n)
		}
	}
}

// chunkRecorder records the size of each write.
type chunkRecorder struct{ sizes []int }

func (c *chunkRecorder) Write(p []byte) (int, error) {
	c.sizes = append(c.sizes, len(p))
	return len(p), nil
}

func TestHelperSpam(t *testing.T) {
	id := newLeftoverCheck(t)
	const n = 1000000
	code, out, _ := runHelper(t, newHelperCmd(t, id, "spam", strconv.Itoa(n)))
	if code != 0 || out != string(spamContent(n)) {
		t.Errorf("spam %d: exit %d, %d bytes of stdout, equal to spamContent: %v", n, code, len(out), out == string(spamContent(n)))
	}
}

func TestHelperEnv(t *testing.T) {
	id := newLeftoverCheck(t)
	cmd := newHelperCmd(t, id, "env", "once")
	cmd.Env = append(cmd.Env, "RAMONA_SELFTEST_VAR=hello world")
	code, out, _ := runHelper(t, cmd)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if code != 0 || !slices.Contains(lines, "RAMONA_SELFTEST_VAR=hello world") || !slices.Contains(lines, "RAMONA_TEST_ID="+id) {
		t.Errorf("env once: exit %d, stdout:\n%s\nwant 0 and RAMONA_SELFTEST_VAR, RAMONA_TEST_ID", code, out)
	}
	if !sort.StringsAreSorted(lines) {
		t.Errorf("env once: not sorted:\n%s", out)
	}
}

func TestHelperPwdUmask(t *testing.T) {
	id := newLeftoverCheck(t)
	dir := t.TempDir()
	cmd := newHelperCmd(t, id, "pwd-umask", "once")
	cmd.Dir = dir
	code, out, _ := runHelper(t, cmd)
	mask := syscall.Umask(0)
	syscall.Umask(mask)
	var gotDir string
	var gotMask int
	if _, err := fmt.Sscanf(out, "cwd=%s umask=%o\n", &gotDir, &gotMask); err != nil || code != 0 {
		t.Fatalf("pwd-umask once: exit %d, stdout %q: %v", code, out, err)
	}
	if want := fmt.Sprintf("umask=%04o\n", mask); !strings.HasSuffix(out, want) {
		t.Errorf("pwd-umask once: %q; want it to end with %q", out, want)
	}
	real1, err1 := filepath.EvalSymlinks(gotDir)
	real2, err2 := filepath.EvalSymlinks(dir)
	if err1 != nil || err2 != nil || real1 != real2 {
		t.Errorf("pwd-umask once: cwd %q; want %q (%v, %v)", gotDir, dir, err1, err2)
	}
}

func TestHelperRlimitCore(t *testing.T) {
	id := newLeftoverCheck(t)
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_CORE, &lim); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runHelper(t, newHelperCmd(t, id, "rlimit-core", "once"))
	if want := "core=" + rlimitString(lim.Cur) + "\n"; code != 0 || out != want {
		t.Errorf("rlimit-core once: exit %d, stdout %q; want 0, %q", code, out, want)
	}
}

func TestHelperStamp(t *testing.T) {
	id := newLeftoverCheck(t)
	file := filepath.Join(t.TempDir(), "stamps")
	before := time.Now().UnixNano()
	var pids []int
	for n := 1; n <= 2; n++ {
		h := startHelper(t, newHelperCmd(t, id, "stamp", file))
		pids = append(pids, h.cmd.Process.Pid)
		waitFor(t, fmt.Sprintf("%d lines in %s", n, file), 10*time.Second, func() bool {
			data, _ := os.ReadFile(file)
			return bytes.Count(data, []byte("\n")) == n
		})
	}
	after := time.Now().UnixNano()
	data, _ := os.ReadFile(file)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for i := 0; sc.Scan(); i++ {
		var pid int
		var ns int64
		if _, err := fmt.Sscanf(sc.Text(), "%d %d", &pid, &ns); err != nil || pid != pids[i] || ns < before || ns > after {
			t.Errorf("stamp line %d: %q (%v); want pid %d and a time in [%d, %d]", i, sc.Text(), err, pids[i], before, after)
		}
	}
}

func TestHelperEchoLines(t *testing.T) {
	id := newLeftoverCheck(t)
	h := startHelper(t, newHelperCmd(t, id, "echo-lines", "3", "5ms"))
	waitFor(t, "three lines", 10*time.Second, func() bool {
		return h.stdout.String() == "line 1\nline 2\nline 3\n"
	})
}

func TestHelperCommand(t *testing.T) {
	exe := testBinary(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sleep", "1s"}, exe + " ramona-test-helper sleep 1s"},
		{[]string{"exit", "3", "5%"}, exe + " ramona-test-helper exit 3 5%%"},
		{[]string{"stamp", "/a dir/f"}, exe + ` ramona-test-helper stamp "/a dir/f"`},
		{[]string{"x", `say "$HOME" \ it's`, ""}, exe + ` ramona-test-helper x "say \"\$HOME\" \\ it's" ""`},
	} {
		if got := helperCommand(t, tc.args[0], tc.args[1:]...); got != tc.want {
			t.Errorf("helperCommand(%q) = %s; want %s", tc.args, got, tc.want)
		}
	}
}

// TestShellQuote checks shellQuote against the real /bin/sh word splitting.
func TestShellQuote(t *testing.T) {
	words := []string{"plain", "", "two words", "tab\there", `dq"`, "sq'", `back\slash`, "$HOME", "${HOME}",
		"`id`", "semi;colon", "a*b?", "~user", "#hash", "x&y|z", "<in>", "(p)", "%s", "über"}
	var quoted []string
	for _, w := range words {
		quoted = append(quoted, shellQuote(w))
	}
	out, err := exec.Command("/bin/sh", "-c", `printf '[%s]\n' `+strings.Join(quoted, " ")).Output()
	if err != nil {
		t.Fatalf("sh: %v", err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	for i, w := range words {
		if i >= len(got) || got[i] != "["+w+"]" {
			t.Errorf("shellQuote(%q) = %s: sh split it as %q", w, quoted[i], got)
			break
		}
	}
}

func TestLeftoverProcesses(t *testing.T) {
	id := newLeftoverCheck(t)
	h := startHelper(t, newHelperCmd(t, id, "sleep", "1h"))
	pid := h.cmd.Process.Pid
	waitFor(t, "the helper in leftoverProcesses", 10*time.Second, func() bool {
		return slices.Equal(leftoverProcesses(id), []int{pid})
	})
	for _, other := range []string{id + "0", id[:len(id)-1], ""} {
		if got := leftoverProcesses(other); slices.Contains(got, pid) {
			t.Errorf("leftoverProcesses(%q) = %v; must not match RAMONA_TEST_ID=%s", other, got, id)
		}
	}

	rec := &recordingTB{TB: t}
	checkNoLeftoversWithin(rec, id, 100*time.Millisecond)
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], fmt.Sprintf("pid %d: %s ramona-test-helper sleep 1h", pid, testBinary(t))) {
		t.Errorf("checkNoLeftovers reported %q; want one error naming pid %d and its command line", rec.errors, pid)
	}
	if ps := h.exited(t); !killedBy(ps, syscall.SIGKILL) {
		t.Errorf("leftover ended with %v; want killed by checkNoLeftovers' SIGKILL", ps)
	}
	if got := leftoverProcesses(id); len(got) != 0 {
		t.Errorf("leftoverProcesses after the kill = %v; want none", got)
	}
	rec.errors = nil
	checkNoLeftoversWithin(rec, id, 100*time.Millisecond)
	if len(rec.errors) != 0 {
		t.Errorf("checkNoLeftovers with nothing left reported %q", rec.errors)
	}
}

// TestLeftoverProcessesIgnoresZombies: a dead child nobody has waited for is no leftover.
func TestLeftoverProcessesIgnoresZombies(t *testing.T) {
	id := newLeftoverCheck(t)
	cmd := newHelperCmd(t, id, "sleep", "1h")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() { syscall.Kill(-pid, syscall.SIGKILL); cmd.Wait() })
	waitFor(t, "the helper in leftoverProcesses", 10*time.Second, func() bool {
		return slices.Contains(leftoverProcesses(id), pid)
	})
	syscall.Kill(pid, syscall.SIGKILL)
	waitFor(t, "the helper to be a zombie", 10*time.Second, func() bool {
		st, err := readProcStat(pid)
		return err == nil && st.state == 'Z'
	})
	if got := leftoverProcesses(id); slices.Contains(got, pid) {
		t.Errorf("leftoverProcesses = %v; must skip zombie %d", got, pid)
	}
}

// recordingTB records Errorf calls instead of failing the test.
type recordingTB struct {
	testing.TB
	errors []string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestReadProcStat(t *testing.T) {
	st, err := readProcStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st.ppid != os.Getppid() || st.pgrp != syscall.Getpgrp() || st.state == 'Z' {
		t.Errorf("readProcStat(self) = %+v; want ppid %d pgrp %d", st, os.Getppid(), syscall.Getpgrp())
	}
}

func TestWaitFor(t *testing.T) {
	n := 0
	waitFor(t, "three polls", 10*time.Second, func() bool { n++; return n == 3 })
	if n != 3 {
		t.Errorf("waitFor polled %d times; want 3", n)
	}
}

func TestNewTestID(t *testing.T) {
	a, b := newTestID(), newTestID()
	if a == b || !strings.HasPrefix(a, fmt.Sprintf("t%d-", os.Getpid())) {
		t.Errorf("newTestID: %q, %q; want distinct ids starting with t<pid>-", a, b)
	}
}

// TestReexecAsRamona: the test binary run as ramona-test-main behaves as the
// in-process run with the same command line, and cleans up after itself.
func TestReexecAsRamona(t *testing.T) {
	id := newLeftoverCheck(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "ramona.conf")
	if err := os.WriteFile(conf, []byte("[general]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wantCode, wantOut, wantErr := cli(t, conf, "version")
	s := startRamonaProcess(t, filepath.Join(dir, "server.log"), []string{"RAMONA_TEST_ID=" + id}, "-c", conf, "version")
	code, err := s.wait(30 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	log, _ := os.ReadFile(s.logPath)
	if code != wantCode || !strings.Contains(string(log), wantOut) || !strings.Contains(string(log), wantErr) {
		t.Errorf("re-executed ramona version: exit %d, output %q; in-process: exit %d, %q %q", code, log, wantCode, wantOut, wantErr)
	}
	if _, err := s.wait(0); err != nil {
		t.Errorf("second wait: %v", err)
	}
}

// TestTestServerCleanup: a server still running at the end of its test gets
// SIGTERM from the cleanup; a sleeping helper stands in for the daemon.
func TestTestServerCleanup(t *testing.T) {
	id := newLeftoverCheck(t)
	logPath := filepath.Join(t.TempDir(), "server.log")
	var s *testServer
	t.Run("server", func(t *testing.T) {
		cmd := newHelperCmd(t, id, "sleep", "1h")
		logf, err := os.Create(logPath)
		if err != nil {
			t.Fatal(err)
		}
		defer logf.Close()
		cmd.Stdout, cmd.Stderr = logf, logf
		s = newTestServer(t, cmd, logPath)
		waitFor(t, "the stand-in's first line", 10*time.Second, func() bool {
			data, _ := os.ReadFile(logPath)
			return strings.HasPrefix(string(data), "sleep: started")
		})
		if _, err := s.wait(0); err == nil {
			t.Errorf("wait(0) on a running server: no error")
		}
		s.signal(syscall.Signal(0))
	})
	if _, err := s.wait(0); err == nil || !killedBy(s.cmd.ProcessState, syscall.SIGTERM) {
		t.Errorf("after the cleanup: wait = %v, state %v; want killed by SIGTERM", err, s.cmd.ProcessState)
	}
}
