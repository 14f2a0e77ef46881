// Test helpers that only Linux has: a peer process and a test's server that
// die with the test binary (Pdeathsig), leaving the cgroup the helper runs
// in, and the harness's own check of resident memory through /proc.
package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// peerSysProcAttr: a peer program in its own process group that is killed
// when the test binary dies.
func peerSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// serverSysProcAttr: a server a test starts, in its own process group; it
// gets SIGTERM (and stops its programs) when the test binary dies without
// its cleanups, as a panicking or timed-out test run does.
func serverSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// leaveCgroup moves this process to the root of the cgroup2 mount that
// holds self (the content of /proc/self/cgroup).
func leaveCgroup(self string) error {
	mount, _ := parseCgroup2(readFileText("/proc/self/mountinfo"), self)
	return os.WriteFile(filepath.Join(mount, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0)
}

func TestHelperHog(t *testing.T) {
	t.Parallel()
	id := newLeftoverCheck(t)
	h := startHelper(t, newHelperCmd(t, id, "hog", "16"))
	child := reportedPid(t, h, "hog")
	t.Cleanup(func() { syscall.Kill(child, syscall.SIGKILL) })
	waitFor(t, "hog-child: ready", 10*time.Second, func() bool { return strings.Contains(h.stdout.String(), "hog-child: ready\n") })
	st, err := readProcStat(child)
	if err != nil || st.pgrp != child || st.ppid != h.cmd.Process.Pid {
		t.Errorf("hog-child %d: %+v %v; want a child of the hog leading its own group", child, st, err)
	}
	if rss := new(kernelFiles).residentBytes(child, int64(os.Getpagesize())); rss < 16<<20 {
		t.Errorf("hog-child resident set %d bytes; want at least the 16 MiB it wrote", rss)
	}
}
