//go:build linux

// Tests of containment (SPEC section 10, "A program is its whole process
// tree"): a setsid+double-fork escapee, a processgroup=no program's child
// and a SIGKILLed server, each with real cgroups and in the fallback mode
// (cgroup=no); CPU and memory of a program that burns and allocates; the
// cgroup layout, limits and their warnings; an unprivileged program that
// tries to leave its cgroup; and the pure parts (mountinfo, units, config).
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// cgroupMount is this machine's cgroup2 mount, or "" with the reason.
func cgroupMount() (string, error) {
	mount, _ := parseCgroup2(readFileText("/proc/self/mountinfo"), readFileText("/proc/self/cgroup"))
	if mount == "" {
		return "", errors.New("no cgroup2 file system in /proc/self/mountinfo")
	}
	probe := filepath.Join(mount, fmt.Sprintf("ramona-probe-%d", os.Getpid()))
	if err := os.Mkdir(probe, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("cannot create a cgroup (run the tests as root): %v", err)
	}
	syscall.Rmdir(probe)
	return mount, nil
}

// needCgroups skips (fails under CI) when no writable cgroup v2 hierarchy
// is mounted, and returns its mount point.
func needCgroups(t *testing.T) string {
	t.Helper()
	var mount string
	needPeerCheck(t, "a writable cgroup v2 hierarchy", "a kernel with cgroup2 mounted, tests run as root", func() (err error) {
		mount, err = cgroupMount()
		return err
	})
	return mount
}

// containmentMode is one way the server holds a program's tree.
type containmentMode struct {
	name   string
	server string // the [ramona:server] line
	base   string // the programs' base cgroup, "" in the fallback
}

// containmentModes runs f once with a unique cgroup base of its own
// (cgroup=PATH) and once with cgroup=no, each as a subtest.
func containmentModes(t *testing.T, f func(t *testing.T, m containmentMode)) {
	t.Run("cgroup", func(t *testing.T) {
		t.Parallel()
		mount := needCgroups(t)
		base := filepath.Join(mount, fmt.Sprintf("ramona-test-%s", newTestID()))
		t.Cleanup(func() {
			if _, err := os.Stat(base); err == nil {
				t.Errorf("the server left its cgroup %s behind", base)
				killCgroup(base)
				waitCgroupEmpty(base, cgroupEmptyWait)
				removeCgroupTree(base)
			}
		})
		f(t, containmentMode{name: "cgroup", server: "cgroup=" + base, base: base})
	})
	t.Run("fallback", func(t *testing.T) {
		t.Parallel()
		f(t, containmentMode{name: "fallback", server: "cgroup=no"})
	})
}

// newContainedRamona is newTestRamona with the mode's [ramona:server] line.
func newContainedRamona(t *testing.T, m containmentMode, sections string) *testRamona {
	return newTestRamona(t, fmt.Sprintf("[ramona:server]\n%s\n\n%s", m.server, sections))
}

// pidOf waits for "PREFIX: pid=N" in the program's log and returns N.
func (r *testRamona) pidOf(program, prefix string, more ...string) int {
	r.t.Helper()
	return reportedPidIn(r.t, r.waitProgramLog(program, append([]string{prefix + ": pid="}, more...)...), prefix)
}

// TestContainmentEscapee: a program's child that calls setsid and
// double-forks (a daemon) leaves the program's process group. With
// cgroups `stop PROG` still stops it, and the program is STOPPED only once
// it has gone; without, the server stops it when it exits.
func TestContainmentEscapee(t *testing.T) {
	t.Parallel()
	containmentModes(t, func(t *testing.T, m containmentMode) {
		r := newContainedRamona(t, m, fmt.Sprintf(`
[program:daemon]
command=%s
starttimeout=0.2
killby=TERM
stoptimeout=0.5
`, helperCommand(t, "escape", "1h")))
		srv := r.start()
		main := r.waitState("daemon", "RUNNING", lcWait).PID
		escapee := r.pidOf("daemon", "escape", "ignore-term: ready")
		if st, err := readProcStat(escapee); err != nil || st.pgrp == main || st.ppid != srv.cmd.Process.Pid {
			t.Fatalf("escapee %d: %+v %v; want it outside group %d, reparented to the server", escapee, st, err, main)
		}
		stopOutsider(t, m, r, "daemon", escapee, "daemon: sending SIGTERM to process group")
	})
}

// stopOutsider stops program, one of whose processes, pid, is outside its
// process group. With cgroups pid is gone once the stop returns, after
// first (a log line) and the signals to the cgroup; without, it outlives
// the stop (README: what the fallback cannot reach) and the server stops
// it when it exits.
func stopOutsider(t *testing.T, m containmentMode, r *testRamona, program string, pid int, first string) {
	t.Helper()
	if code, _, _ := r.cli("stop", program); code != 0 {
		t.Fatalf("stop %s: exit %d", program, code)
	}
	if m.base != "" {
		if !gone(pid) {
			t.Errorf("pid %d outlived `stop %s`", pid, program)
		}
		dir := filepath.Join(m.base, program)
		inOrder(t, "server log", r.serverLog(), first,
			program+": sending SIGTERM to the processes left in cgroup "+dir,
			program+": killing every process in cgroup "+dir, program+": STOPPING -> STOPPED")
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("the program's cgroup is still there after it STOPPED")
		}
		r.stopAll()
		return
	}
	if gone(pid) {
		t.Fatalf("pid %d gone after `stop %s` without cgroups: the test does not test the fallback", pid, program)
	}
	r.stopAll()
	if !gone(pid) {
		t.Errorf("pid %d outlived the server", pid)
	}
	inOrder(t, "server log", r.serverLog(), program+": STOPPING -> STOPPED",
		fmt.Sprintf("server: sending SIGTERM to 1 process(es) that programs left behind (reparented to the server): %d (", pid),
		fmt.Sprintf("server: sending SIGKILL to 1 process(es) that programs left behind (reparented to the server): %d (", pid),
		"server: all programs stopped; exiting with status 0")
}

// TestContainmentProcessGroupNoChild: with processgroup=no the kill
// signals go to the main process only, so its child stays. With cgroups the
// child gets them too once the main process is gone; without, the server
// stops it when it exits.
func TestContainmentProcessGroupNoChild(t *testing.T) {
	t.Parallel()
	containmentModes(t, func(t *testing.T, m containmentMode) {
		r := newContainedRamona(t, m, fmt.Sprintf(`
[program:loose]
command=%s
processgroup=no
starttimeout=0.2
killby=TERM
stoptimeout=0.5
`, helperCommand(t, "grandchild", "1h")))
		r.start()
		r.waitState("loose", "RUNNING", lcWait)
		child := r.pidOf("loose", "grandchild", "ignore-term: ready")
		stopOutsider(t, m, r, "loose", child, "loose: sending SIGTERM to pid")
	})
}

// TestContainmentServerKilled: SIGKILL to the server takes every process
// of every program along, the escapees too: the guard kills the base cgroup
// (and removes it), or without cgroups every process carrying the server's
// RAMONA_SERVER_ID.
func TestContainmentServerKilled(t *testing.T) {
	t.Parallel()
	containmentModes(t, func(t *testing.T, m containmentMode) {
		r := newContainedRamona(t, m, fmt.Sprintf(`
[program:daemon]
command=%s
starttimeout=0.2

[program:loose]
command=%s
processgroup=no
starttimeout=0.2
`, helperCommand(t, "escape", "1h"), helperCommand(t, "grandchild", "1h")))
		srv := r.start()
		pids := []int{r.waitState("daemon", "RUNNING", lcWait).PID, r.waitState("loose", "RUNNING", lcWait).PID}
		pids = append(pids, r.pidOf("daemon", "escape", "ignore-term: ready"), r.pidOf("loose", "grandchild", "ignore-term: ready"))
		srv.signal(syscall.SIGKILL)
		if _, err := srv.wait(lcWait); err == nil || !strings.Contains(err.Error(), "killed") {
			t.Fatalf("server after SIGKILL: %v; want killed", err)
		}
		for _, pid := range pids {
			waitFor(t, fmt.Sprintf("pid %d to die with the server", pid), lcWait, func() bool { return gone(pid) })
		}
		if m.base != "" {
			waitFor(t, "the guard to remove "+m.base, lcWait, func() bool { _, err := os.Stat(m.base); return err != nil })
		}
	})
}

// TestContainmentRestartAfterServerKilled: a server started right after
// the one before it was killed (as systemd restarts it) must not lose its
// programs to the killed server's guard, which clears that server's cgroup
// base. The guard here is stopped (SIGSTOP) until the new server runs its
// programs: on a loaded machine a guard can be that late. Before the fix the
// new server took the same base, which the late guard then killed.
func TestContainmentRestartAfterServerKilled(t *testing.T) {
	t.Parallel()
	mount := needCgroups(t)
	base := filepath.Join(mount, fmt.Sprintf("ramona-test-%s", newTestID()))
	t.Cleanup(func() { killCgroup(base); waitCgroupEmpty(base, cgroupEmptyWait); removeCgroupTree(base) })
	sleep := helperCommand(t, "sleep", "1h")
	old := newTestRamona(t, fmt.Sprintf(`
[ramona:server]
cgroup=%s

[program:family]
command=%s
starttimeout=0.2
`, base, helperCommand(t, "grandchild", "1h")))
	next := newTestRamona(t, fmt.Sprintf(`
[ramona:server]
cgroup=%s

[program:first]
command=%[2]s
priority=200
starttimeout=0.2

[program:second]
command=%[2]s
priority=100
starttimeout=0.2
`, base, sleep))
	srv := old.start()
	grandchild := old.pidOf("family", "grandchild", "ignore-term: ready")
	guard := 0
	for _, pid := range leftoverProcesses(old.id) {
		if strings.HasSuffix(procCmdline(pid), " exec-guard") {
			guard = pid
		}
	}
	if guard == 0 {
		t.Fatalf("no exec-guard among the old server's processes %v", leftoverProcesses(old.id))
	}
	if err := syscall.Kill(guard, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(guard, syscall.SIGCONT) })
	srv.signal(syscall.SIGKILL)
	if _, err := srv.wait(lcWait); err == nil {
		t.Fatal("the server survived SIGKILL")
	}
	next.start()
	pids := map[string]int{}
	for _, n := range []string{"first", "second"} {
		pids[n] = next.waitState(n, "RUNNING", lcWait).PID
	}
	if !strings.Contains(next.serverLog(), fmt.Sprintf("server: cgroup %s belongs to another Ramona server (running, or killed and its guard still clearing it); using %s-", base, base)) {
		t.Errorf("the new server does not say it took a base of its own beside %s", base)
	}
	if err := syscall.Kill(guard, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	// The guard carries the old test's marker; once it has ended, what the
	// old server left (the grandchild) must be gone and the new programs
	// must still run.
	waitFor(t, "the killed server's guard and grandchild to end", lcWait, func() bool { return len(leftoverProcesses(old.id)) == 0 })
	if !gone(grandchild) {
		t.Errorf("the old server's grandchild %d outlived its guard", grandchild)
	}
	for n, st := range next.status() {
		if st.State != "RUNNING" || st.PID != pids[n] || st.Launches != 1 {
			t.Errorf("%s after the old guard ended: %+v; want RUNNING as pid %d, launched once\n%s", n, st, pids[n], next.serverLog())
		}
	}
	next.stopAll()
}

// TestContainmentUsage: status shows what a program's tree costs. The
// program's child (its own session) writes 64 MiB and burns CPU; an idle
// program beside it shows little of either.
func TestContainmentUsage(t *testing.T) {
	t.Parallel()
	containmentModes(t, func(t *testing.T, m containmentMode) {
		r := newContainedRamona(t, m, fmt.Sprintf(`
[program:hog]
command=%s
starttimeout=0.2

[program:idle]
command=%s
starttimeout=0.2
`, helperCommand(t, "hog", "64"), helperCommand(t, "sleep", "1h")))
		r.start()
		r.waitState("idle", "RUNNING", lcWait)
		r.waitState("hog", "RUNNING", lcWait)
		r.waitProgramLog("hog", "hog-child: ready")
		const mib = 1 << 20
		// 0.6 s of CPU: more than the idle program's bound below, and more
		// than both hog processes' own start (tens of ms): the spinning
		// grandchild is counted.
		hog := r.waitStatus("hog", "CPU past 0.6 s", func(st programStatus) bool { return st.CPUSeconds >= 0.6 })
		// Both processes are Go programs of some MiB each besides the 64 MiB.
		if hog.MemoryBytes < 64*mib || hog.MemoryBytes > 64*mib+160*mib {
			t.Errorf("hog: memory_bytes %d (%.0f MiB); want 64 MiB and the two processes' own", hog.MemoryBytes, float64(hog.MemoryBytes)/mib)
		}
		idle := r.status()["idle"]
		if idle.CPUSeconds > 0.5 || idle.MemoryBytes <= 0 || idle.MemoryBytes > 48*mib {
			t.Errorf("idle: cpu_seconds %.3f, memory_bytes %d; want under 0.5 s and a few MiB", idle.CPUSeconds, idle.MemoryBytes)
		}
		if m.base != "" && hog.Cgroup != m.base+"/hog" {
			t.Errorf("hog: cgroup %q; want %s/hog", hog.Cgroup, m.base)
		}
		code, out, _ := r.cli("status")
		row := regexp.MustCompile(`(?m)^hog\s+RUNNING\s+\d+\s+\S+\s+(\d+(\.\d+)?s|\d+m\d\ds)\s+(\d+(\.\d)?M)\s+1\s+0`)
		if code != 0 || !strings.Contains(out, "CPU") || !strings.Contains(out, "MEM") || !row.MatchString(out) {
			t.Errorf("status table: exit %d; want CPU and MEM columns with the hog's seconds and MiB:\n%s", code, out)
		}
		r.stopAll()
		if _, out, _ := r.cli("status"); out != "" {
			t.Errorf("status after the server stopped: %q", out)
		}
	})
}

// TestCgroupLayout: BASE/PROGRAM/N, one cgroup per spawn, the process in it
// from its first instruction; an emptied spawn's cgroup goes, a stopped
// program's goes, and the base goes when the server exits.
func TestCgroupLayout(t *testing.T) {
	t.Parallel()
	mount := needCgroups(t)
	base := filepath.Join(mount, "ramona-test-"+newTestID())
	r := newTestRamona(t, fmt.Sprintf(`
[ramona:server]
cgroup=%s

[program:web.1]
command=%s
starttimeout=0.2
`, base, helperCommand(t, "cgroup-escape", "stay")))
	r.start()
	st := r.waitState("web.1", "RUNNING", lcWait)
	dir := filepath.Join(base, "_web.1") // a name with a dot is escaped: interface files have one
	rel := strings.TrimPrefix(dir, mount)
	r.waitProgramLog("web.1", "cgroup-escape: in "+rel+"/1\n")
	if st.Cgroup != dir {
		t.Errorf("status cgroup %q; want %s", st.Cgroup, dir)
	}
	if procs := readFileText(filepath.Join(dir, "1", "cgroup.procs")); procs != fmt.Sprintf("%d\n", st.PID) {
		t.Errorf("%s/1/cgroup.procs = %q; want the main pid %d", dir, procs, st.PID)
	}
	if !strings.Contains(r.serverLog(), "server: each program runs in its own cgroup below "+base) {
		t.Errorf("the server log does not say where the cgroups are")
	}
	if code, _, _ := r.cli("restart", "web.1"); code != 0 {
		t.Fatalf("restart: exit %d", code)
	}
	r.waitProgramLog("web.1", "cgroup-escape: in "+rel+"/2\n")
	waitFor(t, "the first spawn's cgroup to go", lcWait, func() bool { _, err := os.Stat(filepath.Join(dir, "1")); return err != nil })
	if code, _, _ := r.cli("stop", "web.1"); code != 0 {
		t.Fatalf("stop: exit %d", code)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("%s is still there after the program STOPPED", dir)
	}
	r.stopAll()
	if _, err := os.Stat(base); err == nil {
		t.Errorf("%s is still there after the server exited", base)
		removeCgroupTree(base)
	}
}

// TestCgroupAutoAndBusy: cgroup=auto is ramona-APPNAME beside (or below)
// the server; a second server of the same name, while the first holds it,
// takes a sibling named after its pid. Whatever an earlier server left in
// its base is killed first.
func TestCgroupAutoAndBusy(t *testing.T) {
	t.Parallel()
	mount := needCgroups(t)
	app := "t" + strings.ReplaceAll(newTestID(), "-", "x")
	_, own := parseCgroup2(readFileText("/proc/self/mountinfo"), readFileText("/proc/self/cgroup"))
	if own == "" {
		own = mount
	}
	auto := filepath.Join(own, "ramona-"+app)
	// An earlier server's leftover: a process in auto/old/1.
	if err := os.MkdirAll(filepath.Join(auto, "old", "1"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { killCgroup(auto); waitCgroupEmpty(auto, cgroupEmptyWait); removeCgroupTree(auto) })
	id := newLeftoverCheck(t)
	argv := helperArgv(t, "sleep", "1h")
	stale := exec.Command(argv[0], argv[1:]...)
	stale.Env = append(os.Environ(), "RAMONA_TEST_ID="+id)
	fd, err := syscall.Open(filepath.Join(auto, "old", "1"), syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	stale.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	err = stale.Start()
	syscall.Close(fd)
	if err != nil {
		t.Fatal(err)
	}
	go stale.Wait() // ends when the server kills it
	sections := fmt.Sprintf("[general]\nappname=%s\n\n[program:one]\ncommand=%s\nstarttimeout=0.2\n", app, helperCommand(t, "sleep", "1h"))
	first := newTestRamona(t, sections)
	first.start()
	first.waitServerLog("still holds processes of an earlier server; killing them")
	waitFor(t, "the stale process to die", lcWait, func() bool { return gone(stale.Process.Pid) })
	if st := first.waitState("one", "RUNNING", lcWait); st.Cgroup != filepath.Join(auto, "one") {
		t.Errorf("first server: cgroup %q; want %s/one", st.Cgroup, auto)
	}
	if _, err := os.Stat(filepath.Join(auto, "old")); err == nil {
		t.Errorf("the earlier server's cgroup %s/old is still there", auto)
	}
	second := newTestRamona(t, sections)
	srv2 := second.start()
	sibling := fmt.Sprintf("%s-%d", auto, srv2.cmd.Process.Pid)
	second.waitServerLog(fmt.Sprintf("server: cgroup %s belongs to another Ramona server (running, or killed and its guard still clearing it); using %s", auto, sibling))
	if st := second.waitState("one", "RUNNING", lcWait); st.Cgroup != filepath.Join(sibling, "one") {
		t.Errorf("second server: cgroup %q; want %s/one", st.Cgroup, sibling)
	}
	second.stopAll()
	first.stopAll()
	for _, dir := range []string{auto, sibling} {
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("%s is still there after its server exited", dir)
		}
	}
}

// TestCgroupLimitsWithoutController: a limit whose controller the
// hierarchy does not offer is a warning naming the key and file:line, once
// per configuration, and the program runs.
func TestCgroupLimitsWithoutController(t *testing.T) {
	t.Parallel()
	mount := needCgroups(t)
	base := filepath.Join(mount, "ramona-test-"+newTestID())
	if readWords(filepath.Join(mount, "cgroup.controllers"))["memory"] {
		t.Skip("this hierarchy offers the memory controller; the warning cannot happen here")
	}
	r := newTestRamona(t, fmt.Sprintf(`
[ramona:server]
cgroup=%s

[program:capped]
command=%s
starttimeout=0.2
memorymax=256MiB
autorestart=yes
`, base, helperCommand(t, "exit", "1", "0.3s")))
	r.start()
	r.waitStatus("capped", "a second launch", func(st programStatus) bool { return st.Launches >= 2 })
	line := slices.Index(strings.Split(readFileText(r.conf), "\n"), "memorymax=256MiB") + 1
	want := fmt.Sprintf("capped: memorymax (%s:%d) not applied: the memory controller is not available in cgroup %s", r.conf, line, base)
	if n := strings.Count(r.serverLog(), want); n != 1 {
		t.Errorf("server log has %d times %q; want once", n, want)
	}
	r.stopAll()
}

// TestCgroupUnprivilegedProgramStaysContained: a program running as an
// unprivileged user can neither move itself out of its cgroup nor outlive
// its stop by escaping its process group (setsid and a double fork). Before
// cgroups, the escapee survived `ramona stop PROG`.
func TestCgroupUnprivilegedProgramStaysContained(t *testing.T) {
	t.Parallel()
	mount := needCgroups(t)
	name := testUser(t)
	bin := sharedTestBinary(t)
	base := filepath.Join(mount, "ramona-test-"+newTestID())
	useHelper("cgroup-escape")
	r := newTestRamona(t, fmt.Sprintf(`
[ramona:server]
cgroup=%[1]s

[program:mover]
command=%[2]s ramona-test-helper cgroup-escape
user=%[3]s
directory=/
starttimeout=0.2

[program:daemon]
command=%[4]s
user=%[3]s
directory=/
starttimeout=0.2
killby=TERM
stoptimeout=0.5
`, base, shellQuote(bin), name, helperCommand(t, "escape", "1h")))
	r.start()
	mover := r.waitState("mover", "RUNNING", lcWait).PID
	r.waitState("daemon", "RUNNING", lcWait)
	r.waitProgramLog("mover", "cgroup-escape: refused: ")
	escapee := r.pidOf("daemon", "escape", "ignore-term: ready")
	if !slices.Contains(cgroupPids(base), mover) || !slices.Contains(cgroupPids(base), escapee) {
		t.Errorf("mover %d or escapee %d is not in %s: %v", mover, escapee, base, cgroupPids(base))
	}
	if code, _, _ := r.cli("stop", "mover", "daemon"); code != 0 {
		t.Fatalf("stop: exit %d", code)
	}
	for _, pid := range []int{mover, escapee} {
		if !gone(pid) {
			t.Errorf("pid %d of user %s outlived its program's stop", pid, name)
		}
	}
	r.stopAll()
}

// testUser creates a user with a unique name for this test and removes it
// afterwards.
func testUser(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("creating a user needs root")
	}
	useradd := needPeer(t, "useradd", "passwd")
	name := fmt.Sprintf("rcg%d%d", os.Getpid()%100000, testIDCounter.Add(1))
	if out, err := exec.Command(useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name).CombinedOutput(); err != nil {
		t.Fatalf("useradd %s: %v %s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command(needPeer(t, "userdel", "passwd"), name).CombinedOutput(); err != nil {
			t.Errorf("userdel %s: %v %s", name, err, out)
		}
	})
	return name
}

// TestCgroupPathErrors: an explicit cgroup that is not in the cgroup2 file
// system, or one that holds processes no Ramona server put there, stops the
// server from starting, with a message that says what to do; the foreign
// process is left alone.
func TestCgroupPathErrors(t *testing.T) {
	t.Parallel()
	mount := needCgroups(t)
	foreign := filepath.Join(mount, "ramona-test-"+newTestID())
	if err := os.MkdirAll(filepath.Join(foreign, "someone"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { killCgroup(foreign); waitCgroupEmpty(foreign, cgroupEmptyWait); removeCgroupTree(foreign) })
	id := newLeftoverCheck(t)
	other := newHelperCmd(t, id, "sleep", "1h")
	fd, err := syscall.Open(filepath.Join(foreign, "someone"), syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	other.SysProcAttr.UseCgroupFD, other.SysProcAttr.CgroupFD = true, fd
	h := startHelper(t, other)
	syscall.Close(fd)
	for path, want := range map[string]string{
		"/tmp/not-a-cgroup": fmt.Sprintf("cgroup=/tmp/not-a-cgroup is not below the cgroup2 file system mounted at %s; name a directory there, or set cgroup=auto or no", mount),
		foreign: fmt.Sprintf("cgroup=%[1]s: cannot use cgroup %[1]s: %[1]s/someone holds processes of its own (pid %[2]d), which Ramona never puts there; name a new directory",
			foreign, h.cmd.Process.Pid),
	} {
		r := newTestRamona(t, "[ramona:server]\ncgroup="+path+"\n")
		srv := startRamonaProcess(t, filepath.Join(r.dir, "server.log"), []string{"RAMONA_TEST_ID=" + r.id}, "-c", r.conf, "daemon")
		if code, err := srv.wait(lcWait); err != nil || code != 1 {
			t.Errorf("cgroup=%s: server exit %d, %v; want 1", path, code, err)
		}
		if !strings.Contains(r.serverLog(), want) {
			t.Errorf("cgroup=%s: server log lacks %q:\n%s", path, want, r.serverLog())
		}
	}
	if gone(h.cmd.Process.Pid) {
		t.Errorf("the process in the foreign cgroup was killed")
	}
}

func TestParseCgroup2(t *testing.T) {
	t.Parallel()
	hybrid := `30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`
	unified := `25 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate
`
	bound := `87 79 0:46 /system.slice/x.service /sys/fs/cgroup ro,nosuid - cgroup2 cgroup2 rw
`
	for _, c := range []struct {
		name, mountinfo, self, mount, own string
	}{
		{"hybrid at the root", hybrid, "4:memory:/x\n0::/\n", "/sys/fs/cgroup/unified", "/sys/fs/cgroup/unified"},
		{"unified under systemd", unified, "0::/system.slice/ramona.service\n", "/sys/fs/cgroup", "/sys/fs/cgroup/system.slice/ramona.service"},
		{"container with a cgroup namespace", unified, "0::/\n", "/sys/fs/cgroup", "/sys/fs/cgroup"},
		{"a bind mount of part of the tree", bound, "0::/system.slice/x.service/sub\n", "/sys/fs/cgroup", "/sys/fs/cgroup/sub"},
		{"outside the mounted part", bound, "0::/other\n", "/sys/fs/cgroup", ""},
		{"outside the namespace", unified, "0::/../../x\n", "/sys/fs/cgroup", ""},
		{"cgroup v1 only", "34 30 0:31 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n", "4:memory:/\n", "", ""},
		{"escaped mount point", `40 30 0:37 / /mnt/c\040g rw - cgroup2 cgroup2 rw`, "0::/a\n", "/mnt/c g", "/mnt/c g/a"},
	} {
		mount, own := parseCgroup2(c.mountinfo, c.self)
		if mount != c.mount || own != c.own {
			t.Errorf("%s: parseCgroup2 = %q, %q; want %q, %q", c.name, mount, own, c.mount, c.own)
		}
	}
}

func TestCgroupName(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{"web": "web", "cgroup.procs": "_cgroup.procs", "_x": "__x", "a.b": "_a.b", "job:1": "job:1"} {
		if got := cgroupName(name); got != want {
			t.Errorf("cgroupName(%q) = %q; want %q", name, got, want)
		}
	}
}

func TestUsageUnits(t *testing.T) {
	t.Parallel()
	for sec, want := range map[float64]string{0: "0.00s", 0.424: "0.42s", 9.999: "10.00s", 12.34: "12.3s", 245: "4m05s", 7830: "2h10m"} {
		if got := formatCPU(sec); got != want {
			t.Errorf("formatCPU(%v) = %q; want %q", sec, got, want)
		}
	}
	for n, want := range map[int64]string{0: "0B", 1000: "1000B", 1024: "1.0K", 812 << 10: "812K", 1536 << 10: "1.5M", 23 << 20: "23M", 2 << 30: "2.0G"} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q; want %q", n, got, want)
		}
	}
}

// TestTreeUsage: without cgroups a program's tree is its main process, its
// group and their descendants; zombies add CPU but no memory.
func TestTreeUsage(t *testing.T) {
	t.Parallel()
	procs := []procInfo{
		{pid: 10, ppid: 1, pgrp: 10, cpuTicks: 100, rssPages: 10}, // main
		{pid: 11, ppid: 10, pgrp: 10, cpuTicks: 50, rssPages: 5},  // child in the group
		{pid: 12, ppid: 1, pgrp: 10, cpuTicks: 25, rssPages: 1},   // orphaned, still in the group
		{pid: 13, ppid: 11, pgrp: 13, cpuTicks: 10, rssPages: 2},  // grandchild that left the group
		{pid: 14, ppid: 13, pgrp: 13, state: 'Z', cpuTicks: 5, rssPages: 0},
		{pid: 20, ppid: 1, pgrp: 20, cpuTicks: 1000, rssPages: 1000}, // someone else
	}
	tree := newProcTree(procs)
	u := tree.usage(10, 10, 4096)
	if u.cpuSeconds != 1.9 || u.memoryBytes != 18*4096 {
		t.Errorf("group program: %+v; want 1.9 s and 18 pages", u)
	}
	u = tree.usage(11, 0, 4096)
	if u.cpuSeconds != 0.65 || u.memoryBytes != 7*4096 {
		t.Errorf("processgroup=no program: %+v; want 0.65 s and 7 pages", u)
	}
}

// TestCgroupEnableMovesServerIntoLeaf: on a hierarchy that hands out
// controllers (a fake one here: this machine's has none), a server living in
// the base's parent cannot enable them there (EBUSY, the no-internal-
// processes rule) until it has moved into a leaf beside the base.
func TestCgroupEnableMovesServerIntoLeaf(t *testing.T) {
	own := t.TempDir()
	base := filepath.Join(own, "ramona-app")
	for dir, files := range map[string]map[string]string{
		own:  {"cgroup.controllers": "cpu memory pids io\n", "cgroup.subtree_control": "", "cgroup.procs": strconv.Itoa(os.Getpid()) + "\n"},
		base: {"cgroup.controllers": "", "cgroup.subtree_control": "", "cgroup.procs": ""},
	} {
		os.MkdirAll(dir, 0o755)
		for name, content := range files {
			os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
		}
	}
	moved := false
	var writes []string
	old := cgroupWriteFile
	t.Cleanup(func() { cgroupWriteFile = old })
	cgroupWriteFile = func(path, value string) error {
		rel, _ := filepath.Rel(own, path)
		writes = append(writes, rel+" "+value)
		switch rel {
		case "cgroup.subtree_control":
			if !moved {
				return syscall.EBUSY
			}
			os.WriteFile(filepath.Join(base, "cgroup.controllers"), []byte(strings.TrimSpace(readFileText(filepath.Join(base, "cgroup.controllers"))+" "+value[1:])), 0o644)
		case "supervisor/cgroup.procs":
			moved = value == strconv.Itoa(os.Getpid())
		case "ramona-app/cgroup.subtree_control":
			os.WriteFile(path, []byte(strings.TrimSpace(readFileText(path)+" "+value[1:])), 0o644)
		}
		return nil
	}
	var logged strings.Builder
	tree := &cgroupTree{base: base, ownDir: own, log: &serverLog{w: &logged, level: LevelInfo}}
	tree.enable("memory", "pids")
	want := []string{
		"cgroup.subtree_control +memory",
		"supervisor/cgroup.procs " + strconv.Itoa(os.Getpid()),
		"cgroup.subtree_control +memory", "cgroup.subtree_control +pids",
		"ramona-app/cgroup.subtree_control +memory", "ramona-app/cgroup.subtree_control +pids",
	}
	if !slices.Equal(writes, want) {
		t.Errorf("writes:\n%s\nwant:\n%s", strings.Join(writes, "\n"), strings.Join(want, "\n"))
	}
	if !tree.controllers["memory"] || !tree.controllers["pids"] || tree.controllers["cpu"] {
		t.Errorf("controllers %v; want memory and pids", tree.controllers)
	}
	if !strings.Contains(logged.String(), "server: moved into cgroup "+own+"/supervisor") {
		t.Errorf("log: %q", logged.String())
	}
	// Another process lives in the server's cgroup: moving would not empty it.
	moved, writes = false, nil
	os.WriteFile(filepath.Join(own, "cgroup.procs"), []byte(fmt.Sprintf("%d\n1\n", os.Getpid())), 0o644)
	os.WriteFile(filepath.Join(base, "cgroup.controllers"), nil, 0o644)
	os.WriteFile(filepath.Join(base, "cgroup.subtree_control"), nil, 0o644)
	tree = &cgroupTree{base: base, ownDir: own, log: &serverLog{w: &logged, level: LevelInfo}}
	tree.enable("memory")
	if len(tree.controllers) != 0 || !slices.Equal(writes, []string{"cgroup.subtree_control +memory"}) {
		t.Errorf("with another process beside the server: controllers %v, writes %q; want none and no move", tree.controllers, writes)
	}
	// The server is elsewhere: the base's parent is not its to empty.
	moved, writes = false, nil
	os.WriteFile(filepath.Join(base, "cgroup.controllers"), nil, 0o644)
	os.WriteFile(filepath.Join(base, "cgroup.subtree_control"), nil, 0o644)
	tree = &cgroupTree{base: base, log: &serverLog{w: &logged, level: LevelInfo}}
	tree.enable("memory")
	if len(tree.controllers) != 0 || slices.Contains(writes, "supervisor/cgroup.procs "+strconv.Itoa(os.Getpid())) {
		t.Errorf("without its own cgroup as parent: controllers %v, writes %q; want none and no move", tree.controllers, writes)
	}
}

func TestCgroupConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conf := filepath.Join(dir, "app.conf")
	load := func(text string) (*Config, error) {
		t.Helper()
		if err := os.WriteFile(conf, []byte("[general]\nlogdir=.\n"+text), 0o644); err != nil {
			t.Fatal(err)
		}
		return loadConfig([]string{conf}, nil)
	}
	for value, want := range map[string]string{"": "auto", "auto": "auto", "no": "no", "off": "no", "/sys/fs/cgroup/x/": "/sys/fs/cgroup/x"} {
		text := "[ramona:server]\ncgroup=" + value + "\n"
		if value == "" {
			text = ""
		}
		cfg, err := load(text)
		if err != nil || cfg.Server.Cgroup != want {
			t.Errorf("cgroup=%s: %v, %v; want %s", value, cfg, err, want)
		}
	}
	_, err := load("[ramona:server]\ncgroup=ramona\n")
	if want := conf + `:4: [ramona:server] cgroup: "ramona" is neither auto, no, nor an absolute directory in the cgroup2 file system (e.g. /sys/fs/cgroup/ramona)`; err == nil || err.Error() != want {
		t.Errorf("cgroup=ramona: %v\nwant %s", err, want)
	}
	for _, c := range []struct{ key, value, want string }{
		{"memorymax", "1x", `memorymax: "1x" is not a size; use e.g. 1048576, 512KiB, 10MB or 1GB`},
		{"memorymax", "100", `memorymax: "100" is less than a page; give the most memory the program's processes may use together, e.g. 512MiB`},
		{"cpuweight", "0", `cpuweight: "0" is not a whole number between 1 and 10000 (the cgroup's share of CPU time against the others; 100 is the default)`},
		{"pidsmax", "-1", `pidsmax: "-1" is not a whole number between 1 and 4194304 (the most processes and threads the program may have at once)`},
	} {
		cfg, err := load(fmt.Sprintf("[program:p]\ncommand=/bin/true\n%s=%s\n", c.key, c.value))
		if err != nil {
			t.Fatal(err)
		}
		if want := conf + ":5: [program:p] " + c.want; cfg.Programs[0].Err == nil || cfg.Programs[0].Err.Error() != want {
			t.Errorf("%s=%s: %v\nwant %s", c.key, c.value, cfg.Programs[0].Err, want)
		}
	}
	cfg, err := load("[ramona:server]\ncgroup=no\n[program:p]\ncommand=/bin/true\nmemorymax=1GiB\ncpuweight=50\npidsmax=64\n")
	if err != nil || cfg.Programs[0].Err != nil {
		t.Fatalf("limits: %v %v", err, cfg.Programs[0].Err)
	}
	p := cfg.Programs[0]
	if p.MemoryMax != 1<<30 || p.CPUWeight != 50 || p.PidsMax != 64 || p.LimitsAt["cpuweight"] != conf+":8" {
		t.Errorf("limits: %d %d %d %v", p.MemoryMax, p.CPUWeight, p.PidsMax, p.LimitsAt)
	}
	var warnings []string
	for _, w := range cfg.Warnings {
		warnings = append(warnings, w.Error())
	}
	wantWarnings := []string{
		conf + ":7: [program:p] memorymax: not applied: [ramona:server] cgroup=no turns cgroups off",
		conf + ":8: [program:p] cpuweight: not applied: [ramona:server] cgroup=no turns cgroups off",
		conf + ":9: [program:p] pidsmax: not applied: [ramona:server] cgroup=no turns cgroups off",
	}
	if !slices.Equal(warnings, wantWarnings) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(warnings, "\n"), strings.Join(wantWarnings, "\n"))
	}
	// A limit moved to another line is not a change for reload.
	moved, err := load("[ramona:server]\ncgroup=no\n[program:p]\ncommand=/bin/true\n\nmemorymax=1GiB\ncpuweight=50\npidsmax=64\n")
	if err != nil || !moved.Programs[0].sameAs(p) {
		t.Errorf("limits on other lines: %v, same %v; want the same program", err, err == nil && moved.Programs[0].sameAs(p))
	}
}
