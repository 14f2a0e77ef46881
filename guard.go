//go:build unix

// The group guard: programs get SIGKILL as their parent-death signal, but
// the kernel sends it only to the server's direct children. So the server
// starts `ramona exec-guard`, a small process in its own session that learns
// every program's process group, and the programs' base cgroup (or without
// cgroups the marker in their environment), through a pipe; if the pipe
// closes without "exit" (the server was killed), it kills them all.
//
// The guard also holds the server's lock on the base cgroup (its fd 3, the
// same open file, so the same flock) until it exits: a server started
// after this one was killed cannot take the base while the guard is still
// clearing it, which would kill the new server's programs. At a normal exit
// the server waits for the guard to end (awaitExit), so that the base is
// free again once the server has gone.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// groupGuard is the server's end of the guard's pipe. It is used only on the
// supervisor's loop, but for awaitExit (after the loop).
type groupGuard struct {
	w      *os.File
	known  map[int]bool
	procID int      // the guard process
	ended  *os.File // the read end of the guard's stdout: EOF once the guard has exited
}

// startGroupGuard starts the guard process, handing it lock (the base
// cgroup's flocked directory; nil without cgroups); nil and an error when
// it cannot.
func startGroupGuard(selfExe string, lock *os.File) (*groupGuard, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	ended, endedW, err := os.Pipe()
	if err != nil {
		w.Close()
		return nil, err
	}
	defer endedW.Close()
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		w.Close()
		ended.Close()
		return nil, err
	}
	defer devnull.Close()
	files := []uintptr{r.Fd(), endedW.Fd(), devnull.Fd()}
	if lock != nil {
		files = append(files, lock.Fd())
	}
	argv := append(append([]string{selfExe}, reexecPrefix...), "exec-guard")
	pid, err := syscall.ForkExec(selfExe, argv, &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: files,
		Sys:   &syscall.SysProcAttr{Setsid: true}, // survives a kill of the server's process group
	})
	if err != nil {
		w.Close()
		ended.Close()
		return nil, fmt.Errorf("group guard: %v", err)
	}
	return &groupGuard{w: w, known: map[int]bool{}, procID: pid, ended: ended}, nil
}

func (g *groupGuard) add(pgid int) {
	if g == nil || pgid <= 0 || g.known[pgid] {
		return
	}
	g.known[pgid] = true
	fmt.Fprintf(g.w, "+%d\n", pgid)
}

// pid is the guard process's pid; 0 without a guard.
func (g *groupGuard) pid() int {
	if g == nil {
		return 0
	}
	return g.procID
}

// remove forgets a group that has gone, so that a later process reusing
// its number is never killed.
func (g *groupGuard) remove(pgid int) {
	if g == nil || !g.known[pgid] {
		return
	}
	delete(g.known, pgid)
	fmt.Fprintf(g.w, "-%d\n", pgid)
}

// watchCgroup tells the guard the programs' base cgroup: all of it dies
// with the server.
func (g *groupGuard) watchCgroup(dir string) {
	if g != nil {
		fmt.Fprintf(g.w, "c%s\n", dir)
	}
}

// watchMarker tells the guard the NAME=VALUE every program's environment
// holds: without cgroups, how it finds processes that left their group.
func (g *groupGuard) watchMarker(marker string) {
	if g != nil {
		fmt.Fprintf(g.w, "e%s\n", marker)
	}
}

// close lets the guard go without killing anything: the server stopped
// every program itself.
func (g *groupGuard) close() {
	if g == nil {
		return
	}
	fmt.Fprintln(g.w, "exit")
	g.w.Close()
}

// awaitExit waits, at most timeout, for the guard to end after close, and
// with it its hold on the base cgroup's lock; it reports whether it ended.
// Called off the loop, once the loop has ended.
func (g *groupGuard) awaitExit(timeout time.Duration) bool {
	if g == nil {
		return true
	}
	defer g.ended.Close()
	g.ended.SetReadDeadline(time.Now().Add(timeout))
	_, err := io.Copy(io.Discard, g.ended) // the guard writes nothing: EOF when it has exited
	return err == nil
}

// runExecGuard is `ramona exec-guard`: it reads +PGID / -PGID / cDIR /
// eNAME=VALUE / exit lines on stdin; at end of input without "exit" it
// kills every group it holds, every process of the cgroup (then removes
// it), and every process whose environment holds the marker. Its stdout is
// a pipe the server reads to learn that it has ended, and its fd 3, when
// there is one, the server's lock on the cgroup: both close when it exits.
func runExecGuard() int {
	signal.Ignore(syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT, syscall.SIGPIPE)
	groups := map[int]bool{}
	var cgroup, marker string
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 4096), 64<<10)
	for in.Scan() {
		line := strings.TrimSpace(in.Text())
		if line == "exit" {
			return 0
		}
		if len(line) < 2 {
			continue
		}
		switch line[0] {
		case 'c':
			cgroup = line[1:]
			continue
		case 'e':
			marker = line[1:]
			continue
		}
		n, err := strconv.Atoi(line[1:])
		if err != nil || n <= 0 {
			continue
		}
		if line[0] == '+' {
			groups[n] = true
		} else {
			delete(groups, n)
		}
	}
	for pgid := range groups {
		syscall.Kill(-pgid, syscall.SIGKILL)
	}
	if cgroup != "" {
		killCgroup(cgroup)
		waitCgroupEmpty(cgroup, cgroupEmptyWait)
		removeCgroupTree(cgroup)
	}
	if marker != "" {
		killMarked(marker)
	}
	return 0
}
