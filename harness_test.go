//go:build unix

// Self-tests of the test harness: every helper child program behaves as
// main_test.go documents, and the leftover-process checks, quoting and
// server utilities do what the end-to-end tests rely on.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// helperProc is a helper started by a self-test, its output captured.
type helperProc struct {
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	done           chan struct{} // closed when cmd.Wait has returned
}

// newHelperCmd is an exec.Cmd for helper name in its own process group with
// RAMONA_TEST_ID=id in its environment.
func newHelperCmd(t testing.TB, id, name string, args ...string) *exec.Cmd {
	argv := helperArgv(t, name, args...)
	cmd := exec.Command(argv[0], argv[1:]...)
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
	t.Parallel()
	id := newLeftoverCheck(t)
	cmd := newHelperCmd(t, id, "sleep", "10ms")
	code, out, _ := runHelper(t, cmd)
	if want := fmt.Sprintf("sleep: started pid=%d\n", cmd.Process.Pid); code != 0 || out != want {
		t.Errorf("sleep 10ms: exit %d, stdout %q; want 0, %q", code, out, want)
	}
}

func TestHelperExit(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
	id := newLeftoverCheck(t)
	exe, prog := testBinary(t), helperProgram(t)
	for _, tc := range []struct {
		bin  string
		args []string
		code int
	}{
		{exe, []string{"no-such-helper"}, helperUnknown},
		{exe, nil, helperUnknown},
		{exe, []string{"sleep", "1s"}, helperUnknown}, // the helper program's
		{exe, []string{"spam"}, helperUsage},
		{exe, []string{"rlimit-core", "twice"}, helperUsage},
		{prog, []string{"no-such-helper"}, helperUnknown},
		{prog, nil, helperUnknown},
		{prog, []string{"spam", "10"}, helperUnknown}, // the test binary's
		{prog, []string{"exit"}, helperUsage},
		{prog, []string{"exit", "x"}, helperUsage},
		{prog, []string{"sleep", "5"}, helperUsage},
		{prog, []string{"env", "twice"}, helperUsage},
		{prog, []string{"orphan-maker", "1s", "3", "nosetsid"}, helperUsage},
	} {
		cmd := newHelperCmd(t, id, "")
		cmd.Path = tc.bin
		cmd.Args = append([]string{tc.bin, "ramona-test-helper"}, tc.args...)
		code, _, errOut := runHelper(t, cmd)
		if code != tc.code || errOut == "" {
			t.Errorf("%s %q: exit %d, stderr %q; want %d and a message", filepath.Base(tc.bin), tc.args, code, errOut, tc.code)
		}
	}
	// Every registered helper is known to the binary helperBinary picks:
	// 101 arguments are too many for each, a usage error, not an unknown name.
	tooMany := slices.Repeat([]string{"x"}, 101)
	for name := range testHelpers {
		code, _, errOut := runHelper(t, newHelperCmd(t, id, name, tooMany...))
		if code != helperUsage {
			t.Errorf("%s with 101 arguments: exit %d, stderr %q; want %d (the helper's usage error)", name, code, errOut, helperUsage)
		}
	}
}

func TestHelperIgnoreTerm(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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

// TestHelperDoubleFork: double-fork's orphan stays in the helper's group;
// escape's leads a session of its own.
func TestHelperDoubleFork(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"double-fork", "escape"} {
		id := newLeftoverCheck(t)
		h := startHelper(t, newHelperCmd(t, id, name, "1h"))
		pid := h.cmd.Process.Pid
		opid := reportedPid(t, h, name)
		// The helper's cleanup kills its group, which an escapee has left.
		t.Cleanup(func() { syscall.Kill(opid, syscall.SIGKILL) })
		waitFor(t, "the orphan's ignore-term: ready", 10*time.Second, func() bool {
			return strings.Contains(h.stdout.String(), "ignore-term: ready\n")
		})
		st, err := readProcStat(opid)
		if err != nil {
			t.Fatal(err)
		}
		group := map[string]int{"double-fork": pid, "escape": opid}[name]
		if st.state == 'Z' || st.ppid == pid || st.pgrp != group {
			t.Errorf("%s: orphan %d: %+v; want alive, not a child of %d, pgrp %d", name, opid, st, pid, group)
		}
		if got := leftoverProcesses(id); !slices.Contains(got, opid) || !slices.Contains(got, pid) || len(got) != 2 {
			t.Errorf("%s: leftoverProcesses = %v; want exactly the helper %d and the orphan %d (orphan-maker gone)", name, got, pid, opid)
		}
	}
}

func TestSpamContent(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
	id := newLeftoverCheck(t)
	const n = 1000000
	code, out, _ := runHelper(t, newHelperCmd(t, id, "spam", strconv.Itoa(n)))
	if code != 0 || out != string(spamContent(n)) {
		t.Errorf("spam %d: exit %d, %d bytes of stdout, equal to spamContent: %v", n, code, len(out), out == string(spamContent(n)))
	}
}

func TestHelperEnv(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
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
	// A stamp file that is a symlink is refused: the helper may run as
	// root, and its file must not be redirected.
	target := filepath.Join(t.TempDir(), "target")
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	h := startHelper(t, newHelperCmd(t, id, "stamp", link)) // one that stamped would sleep: exited fails
	if ps := h.exited(t); ps.ExitCode() != 1 || !strings.Contains(h.stderr.String(), "stamp:") {
		t.Errorf("stamp through a symlink: %v, stderr %q; want exit 1 and the error", ps, h.stderr.String())
	}
	if _, err := os.Lstat(target); err == nil {
		t.Errorf("stamp wrote through the symlink to %s", target)
	}
}

func TestHelperSignals(t *testing.T) {
	t.Parallel()
	id := newLeftoverCheck(t)
	file := filepath.Join(t.TempDir(), "signals")
	h := startHelper(t, newHelperCmd(t, id, "signals", file, "parent", "child"))
	waitFor(t, "both ready", 10*time.Second, func() bool {
		out := h.stdout.String()
		return strings.Contains(out, "signals: parent ready\n") && strings.Contains(out, "signals: child ready\n")
	})
	if err := syscall.Kill(-h.cmd.Process.Pid, syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	if ps := h.exited(t); !ps.Success() {
		t.Errorf("signals exited with %v; want 0", ps)
	}
	waitFor(t, "two lines in "+file, 10*time.Second, func() bool {
		data, _ := os.ReadFile(file)
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		sort.Strings(lines)
		return strings.Join(lines, ",") == "child SIGUSR1,parent SIGUSR1"
	})
}

func TestHelperEchoLines(t *testing.T) {
	t.Parallel()
	id := newLeftoverCheck(t)
	h := startHelper(t, newHelperCmd(t, id, "echo-lines", "3", "5ms"))
	waitFor(t, "three lines", 10*time.Second, func() bool {
		return h.stdout.String() == "line 1\nline 2\nline 3\n"
	})
}

func TestHelperCommand(t *testing.T) {
	t.Parallel()
	exe, prog := testBinary(t), helperProgram(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sleep", "1s"}, prog + " ramona-test-helper sleep 1s"},
		{[]string{"exit", "3", "5%"}, prog + " ramona-test-helper exit 3 5%%"},
		{[]string{"stamp", "/a dir/f"}, prog + ` ramona-test-helper stamp "/a dir/f"`},
		{[]string{"spam", "10"}, exe + " ramona-test-helper spam 10"},
		{[]string{"x", `say "$HOME" \ it's`, ""}, exe + ` ramona-test-helper x "say \"\$HOME\" \\ it's" ""`},
	} {
		if got := helperCommand(t, tc.args[0], tc.args[1:]...); got != tc.want {
			t.Errorf("helperCommand(%q) = %s; want %s", tc.args, got, tc.want)
		}
	}
}

// TestShellQuote checks shellQuote against the real /bin/sh word splitting.
func TestShellQuote(t *testing.T) {
	t.Parallel()
	words := []string{"plain", "", "two words", "tab\there", `dq"`, "sq'", `back\slash`, "$HOME", "${HOME}",
		"`id`", "semi;colon", "a*b?", "~user", "#hash", "x&y|z", "<in>", "(p)", "%s", "über"}
	var quoted []string
	for _, w := range words {
		quoted = append(quoted, shellQuote(w))
	}
	out, err := exec.Command(needPeer(t, "sh", "dash"), "-c", `printf '[%s]\n' `+strings.Join(quoted, " ")).Output()
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
	t.Parallel()
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
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], fmt.Sprintf("pid %d: %s ramona-test-helper sleep 1h", pid, helperProgram(t))) {
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
	t.Parallel()
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
	t.Parallel()
	st, err := readProcStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st.ppid != os.Getppid() || st.pgrp != syscall.Getpgrp() || st.state == 'Z' {
		t.Errorf("readProcStat(self) = %+v; want ppid %d pgrp %d", st, os.Getppid(), syscall.Getpgrp())
	}
}

func TestWaitFor(t *testing.T) {
	t.Parallel()
	n := 0
	waitFor(t, "three polls", 10*time.Second, func() bool { n++; return n == 3 })
	if n != 3 {
		t.Errorf("waitFor polled %d times; want 3", n)
	}
}

func TestNewTestID(t *testing.T) {
	t.Parallel()
	a, b := newTestID(), newTestID()
	if a == b || !strings.HasPrefix(a, fmt.Sprintf("t%d-", os.Getpid())) {
		t.Errorf("newTestID: %q, %q; want distinct ids starting with t<pid>-", a, b)
	}
}

// TestReexecAsRamona: the test binary run as ramona-test-main behaves as the
// in-process run with the same command line, and cleans up after itself.
func TestReexecAsRamona(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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
