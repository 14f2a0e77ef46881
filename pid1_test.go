//go:build linux

// Tests of init duty: the server as PID 1 of a new PID namespace (unshare
// --pid --fork --mount-proc, as root) reaps every orphan, stops everything
// on SIGTERM and exits 0, passes an essential program's exit code on, and
// leaves nothing behind in the namespace.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startAsPid1 runs the server as PID 1 of a new PID namespace; it returns
// the unshare process (whose exit status is the server's) and the server's
// pid as this namespace sees it.
func startAsPid1(t *testing.T, r *testRamona) (*testServer, int) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a new PID namespace needs root (CI runs as root)")
	}
	unshare := needPeer(t, "unshare", "util-linux")
	if out, err := exec.Command(unshare, "--pid", "--fork", "--mount-proc", "true").CombinedOutput(); err != nil {
		t.Skipf("the kernel refuses a new PID namespace here: %v %s", err, out)
	}
	logf, err := os.OpenFile(filepath.Join(r.dir, "server.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(unshare, "--pid", "--fork", "--mount-proc", "--kill-child=SIGKILL",
		testBinary(t), "ramona-test-main", "-c", r.conf, "daemon")
	cmd.Env = append(os.Environ(), "RAMONA_TEST_ID="+r.id)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	srv := newTestServer(t, cmd, filepath.Join(r.dir, "server.log"))
	r.server = srv
	var pid int
	waitFor(t, "the server to run as PID 1", 20*time.Second, func() bool {
		pid = childOf(cmd.Process.Pid)
		return pid > 0 && r.answers()
	})
	if !strings.Contains(r.serverLog(), "pid 1,") {
		t.Fatalf("the server does not see itself as PID 1:\n%s", r.serverLog())
	}
	return srv, pid
}

// childOf returns a child pid of parent, or 0.
func childOf(parent int) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := procStatFields(pid); err == nil && st.ppid == parent {
			return pid
		}
	}
	return 0
}

// zombieChildren counts the zombies whose parent is pid.
func zombieChildren(pid int) int {
	n := 0
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(data)
		i := strings.LastIndexByte(s, ')')
		f := strings.Fields(s[i+1:])
		if len(f) > 1 && f[0] == "Z" {
			if st, err := procStatFields(child); err == nil && st.ppid == pid {
				n++
			}
		}
	}
	return n
}

func TestPid1ReapsOrphansAndStopsOnSIGTERM(t *testing.T) {
	t.Parallel()
	sleep := strings.ReplaceAll(helperCommand(t, "sleep", "1h"), "'", "")
	r := newTestRamona(t, fmt.Sprintf(`
[program:orphans]
starttimeout=0.1
# a subshell starts a short sleep and exits at once: the sleep is orphaned
# and PID 1 must reap it when it ends
command=sh -c 'i=0; while [ $i -lt 20 ]; do (sleep 0.01 &); i=$((i+1)); done; echo $i > count; exec %s'

[program:steady]
starttimeout=0.1
command=%s
`, sleep, helperCommand(t, "sleep", "1h")))
	srv, pid := startAsPid1(t, r)
	r.waitState("steady", "RUNNING", 20*time.Second)
	waitFor(t, "20 orphans to have been made", 30*time.Second, func() bool {
		data, _ := os.ReadFile(filepath.Join(r.dir, "count"))
		return strings.TrimSpace(string(data)) == "20"
	})
	// Every orphan has ended by now or is about to; none may stay a zombie.
	waitFor(t, "no zombie left under PID 1", 10*time.Second, func() bool { return zombieChildren(pid) == 0 })
	// unshare does not forward signals: send SIGTERM to the server itself, as
	// a container runtime does to its PID 1.
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code, err := srv.wait(30 * time.Second)
	if err != nil || code != 0 {
		t.Fatalf("server as PID 1 after SIGTERM: exit %d, %v; want 0", code, err)
	}
	log := r.serverLog()
	for _, want := range []string{"got SIGTERM", "steady: RUNNING -> STOPPING", "exiting with status 0"} {
		if !strings.Contains(log, want) {
			t.Errorf("server log lacks %q", want)
		}
	}
}

func TestPid1EssentialExitCode(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:job]
essential=yes
starttimeout=0.1
command=%s

[program:helper]
starttimeout=0.1
command=%s
`, helperCommand(t, "exit", "7", "0.5s"), helperCommand(t, "sleep", "1h")))
	srv, _ := startAsPid1(t, r)
	code, err := srv.wait(30 * time.Second)
	if err != nil || code != 7 {
		t.Fatalf("container exit: %d, %v; want the essential program's 7", code, err)
	}
	if !strings.Contains(r.serverLog(), "helper: RUNNING -> STOPPING") {
		t.Errorf("the other program was not stopped in order:\n%s", r.serverLog())
	}
}

func TestServerExitStatusWhenProgramFatal(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:broken]
starttimeout=0.1
command=%s
`, helperCommand(t, "exit", "3")))
	srv := r.start()
	r.waitState("broken", "FATAL", 20*time.Second)
	srv.signal(syscall.SIGTERM)
	if code, err := srv.wait(30 * time.Second); err != nil || code != 1 {
		t.Errorf("server exit %d, %v; want 1 when a program was FATAL", code, err)
	}
}
