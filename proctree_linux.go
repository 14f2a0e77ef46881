// Process trees from /proc on Linux, for when cgroups do not hold them (or
// lack a controller): the CPU time and resident memory of a program's known
// processes, the processes reparented to the server (its subreaper duty at
// exit), and the processes that carry a server's marker in their
// environment (what the guard kills when the server was killed). Everything
// here reads /proc and runs off the supervisor's loop.
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat times: 100 on every
// Linux architecture's user interface.
const clockTicks = 100

// procInfo is what /proc/PID/stat says of one process.
type procInfo struct {
	pid, ppid, pgrp int
	state           byte
	cpuTicks        int64 // utime+stime+cutime+cstime: its own and its reaped children's
	rssPages        int64
}

// kernelFiles reads small files of /proc and the cgroup file system into
// one buffer it reuses: status reads thousands of them, and os.ReadFile's
// extra stat call and allocation per file double their cost. Paths under
// one of its dirs open relative to that directory's descriptor: the
// kernel's path walk, most of an open's cost in these file systems, then
// covers two components instead of five or six. Not for concurrent use;
// what read returns is valid until the next read.
type kernelFiles struct {
	buf  []byte
	dirs *openDirs
}

// openDirs are directories held open for the reads of one request, shared
// by its workers: /proc and the directory of the program cgroups.
type openDirs struct {
	paths []string // each ending in "/"
	fds   []int
}

// openDirsFor opens each of paths that it can (and ignores the others).
func openDirsFor(paths ...string) *openDirs {
	d := &openDirs{}
	for _, p := range paths {
		fd, err := syscall.Open(p, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
		if err == nil {
			d.paths, d.fds = append(d.paths, strings.TrimSuffix(p, "/")+"/"), append(d.fds, fd)
		}
	}
	return d
}

func (d *openDirs) close() {
	for _, fd := range d.fds {
		syscall.Close(fd)
	}
}

// open opens path for reading, relative to a held directory when it is
// below one.
func (d *openDirs) open(path string) (int, error) {
	if d != nil {
		for i, dir := range d.paths {
			if rel, ok := strings.CutPrefix(path, dir); ok {
				return syscall.Openat(d.fds[i], rel, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
			}
		}
	}
	return syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
}

func (k *kernelFiles) read(path string) ([]byte, error) {
	fd, err := k.dirs.open(path)
	if err != nil {
		return nil, err
	}
	defer syscall.Close(fd)
	if k.buf == nil {
		k.buf = make([]byte, 4096)
	}
	n := 0
	for {
		if n == len(k.buf) {
			k.buf = append(k.buf, make([]byte, len(k.buf))...)
		}
		m, err := syscall.Read(fd, k.buf[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if m == 0 {
			return k.buf[:n], nil
		}
		n += m
	}
}

// readProcInfo parses /proc/PID/stat ("pid (comm) state ppid pgrp ...").
func (k *kernelFiles) readProcInfo(pid int) (procInfo, bool) {
	data, err := k.read("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procInfo{}, false
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return procInfo{}, false
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 22 || len(f[0]) != 1 {
		return procInfo{}, false
	}
	num := func(k int) int64 { n, _ := strconv.ParseInt(f[k], 10, 64); return n }
	return procInfo{
		pid: pid, state: f[0][0], ppid: int(num(1)), pgrp: int(num(2)),
		cpuTicks: num(11) + num(12) + num(13) + num(14), // utime stime cutime cstime
		rssPages: num(21),
	}, true
}

// allProcesses reads every process's stat (zombies included), in
// parallel (see inParallel).
func allProcesses() []procInfo {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	infos := make([]procInfo, len(pids))
	found := make([]bool, len(pids))
	dirs := openDirsFor("/proc")
	defer dirs.close()
	inParallel(len(pids), dirs, func(k *kernelFiles, i int) { infos[i], found[i] = k.readProcInfo(pids[i]) })
	out := infos[:0]
	for i, pi := range infos {
		if found[i] {
			out = append(out, pi)
		}
	}
	return out
}

// inParallel runs f(k, i) for i in [0, n) on as many goroutines as the
// runtime has processors (each with its own kernelFiles), for the reads of
// a status request: on a busy machine of few cores they are syscall-bound.
func inParallel(n int, dirs *openDirs, f func(k *kernelFiles, i int)) {
	workers := min(runtime.GOMAXPROCS(0), 8, (n+63)/64)
	if workers <= 1 {
		k := kernelFiles{dirs: dirs}
		for i := range n {
			f(&k, i)
		}
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { // ends after its share of [0, n)
			k := kernelFiles{dirs: dirs}
			for i := w; i < n; i += workers {
				f(&k, i)
			}
		})
	}
	wg.Wait()
}

// residentBytes is a process's resident set (0 when it is gone).
func (k *kernelFiles) residentBytes(pid int, pageSize int64) int64 {
	data, err := k.read("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		return 0
	}
	_, rest, _ := bytes.Cut(data, []byte{' '}) // size, then resident
	return leadingNumber(rest) * pageSize
}

// readUsage answers each query: from the program's cgroup when it has one,
// else from /proc, where a program's known processes are its main process,
// its process group, and their descendants; /proc is read once for all.
func readUsage(qs []usageQuery) []usage {
	out := make([]usage, len(qs))
	pageSize := int64(os.Getpagesize())
	var tree *procTree
	cgroupDir := ""
	for _, q := range qs {
		if q.cgroup == "" && (q.pid > 0 || q.pgid > 0) && tree == nil {
			tree = newProcTree(allProcesses())
		}
		if q.cgroup != "" && cgroupDir == "" {
			cgroupDir = filepath.Dir(q.cgroup) // every program's is there
		}
	}
	dirs := openDirsFor("/proc", cgroupDir)
	defer dirs.close()
	inParallel(len(qs), dirs, func(k *kernelFiles, i int) {
		switch q := qs[i]; {
		case q.cgroup != "":
			out[i] = k.cgroupUsage(q, pageSize)
		case tree != nil && (q.pid > 0 || q.pgid > 0):
			out[i] = tree.usage(q.pid, q.pgid, pageSize)
		}
	})
	return out
}

// procTree indexes one reading of /proc by pid, parent and process group.
type procTree struct {
	byPid    map[int]procInfo
	children map[int][]int
	groups   map[int][]int
}

func newProcTree(procs []procInfo) *procTree {
	t := &procTree{byPid: make(map[int]procInfo, len(procs)), children: map[int][]int{}, groups: map[int][]int{}}
	for _, p := range procs {
		t.byPid[p.pid] = p
		t.children[p.ppid] = append(t.children[p.ppid], p.pid)
		t.groups[p.pgrp] = append(t.groups[p.pgrp], p.pid)
	}
	return t
}

// usage sums CPU and resident memory over pid, the members of pgid, and
// every descendant of those; zombies add CPU but no memory.
func (t *procTree) usage(pid, pgid int, pageSize int64) usage {
	var queue []int
	if _, ok := t.byPid[pid]; ok {
		queue = append(queue, pid)
	}
	if pgid > 0 {
		queue = append(queue, t.groups[pgid]...)
	}
	seen := map[int]bool{}
	var ticks, pages int64
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		pi := t.byPid[p]
		ticks += pi.cpuTicks
		if pi.state != 'Z' {
			pages += pi.rssPages
		}
		queue = append(queue, t.children[p]...)
	}
	return usage{cpuSeconds: float64(ticks) / clockTicks, memoryBytes: pages * pageSize}
}

// adoptedOrphans lists the live processes whose parent is this server,
// other than except: without cgroups, what programs left behind that was
// reparented here (the server is their subreaper, or PID 1).
func adoptedOrphans(except map[int]bool) []int {
	self := os.Getpid()
	var pids []int
	for _, p := range allProcesses() {
		if p.ppid == self && p.state != 'Z' && !except[p.pid] {
			pids = append(pids, p.pid)
		}
	}
	return pids
}

// describeProcess is "PID (command line)" for the server log.
func describeProcess(pid int) string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	cmd := strings.TrimSpace(string(bytes.ReplaceAll(data, []byte{0}, []byte{' '})))
	if err != nil || cmd == "" {
		return strconv.Itoa(pid)
	}
	if len(cmd) > 80 {
		cmd = cmd[:77] + "..."
	}
	return fmt.Sprintf("%d (%s)", pid, cmd)
}

// killMarked sends SIGKILL to every process whose initial environment
// holds marker (NAME=VALUE), until a pass finds none (bounded): the guard's
// last resort without cgroups, for processes that left their group.
func killMarked(marker string) {
	want := []byte(marker)
	self := os.Getpid()
	var k kernelFiles
	for range 20 {
		found := 0
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == self {
				continue
			}
			env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
			if err != nil || !hasEnvEntry(env, want) {
				continue
			}
			if pi, ok := k.readProcInfo(pid); ok && pi.state != 'Z' {
				syscall.Kill(pid, syscall.SIGKILL)
				found++
			}
		}
		if found == 0 {
			return
		}
	}
}

// leadingNumber is the decimal number at the start of b (0 when none).
func leadingNumber(b []byte) int64 {
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

// hasEnvEntry reports whether a NUL-separated environment holds entry exactly.
func hasEnvEntry(env, entry []byte) bool {
	for _, e := range bytes.Split(env, []byte{0}) {
		if bytes.Equal(e, entry) {
			return true
		}
	}
	return false
}
