// Cgroup v2 on Linux: where the hierarchy is mounted and where the server
// sits in it, claiming the base cgroup that holds every program's cgroup
// (`[ramona:server] cgroup`), enabling controllers (moving the server into a
// leaf when the no-internal-processes rule asks for it), program and
// instance cgroups with their limits, cgroup.kill, watching cgroup.events
// through inotify and the runtime poller, and reading a cgroup's CPU and memory.
package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// cgroupTree is the server's base cgroup. The loop uses it; the watcher
// has its own lock.
type cgroupTree struct {
	base        string          // absolute directory of the base cgroup
	lock        *os.File        // the base directory, flocked while the server runs
	ownDir      string          // the server's own cgroup when base is its child, else ""
	controllers map[string]bool // enabled in the base's cgroup.subtree_control
	triedCPU    bool            // cpu was asked for once (cpuweight), whatever came of it
	noClone3    bool            // clone3 is missing: processes are moved in right after they start
	watch       *cgroupWatcher
	log         *serverLog
}

// supervisorLeaf is the cgroup, beside the base, that the server moves
// itself into when its own cgroup must hand controllers down (the name
// systemd's documentation suggests for a delegated manager).
const supervisorLeaf = "supervisor"

// cgroupEmptyWait bounds the wait for a killed cgroup to empty (at exit,
// at start for an earlier server's leftovers, in the guard).
const cgroupEmptyWait = 10 * time.Second

// openCgroups claims the programs' base cgroup as `[ramona:server] cgroup`
// asks. nil and the reason when cgroups are off; an error only for an
// explicit path that cannot be used (the server then does not start).
func openCgroups(cfg *Config, log *serverLog) (t *cgroupTree, off string, err error) {
	if cfg.Server.Cgroup == "no" {
		return nil, "[ramona:server] cgroup=no", nil
	}
	mountinfo, err1 := os.ReadFile("/proc/self/mountinfo")
	self, err2 := os.ReadFile("/proc/self/cgroup")
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Sprintf("cannot read where this process is: %v", err), nil
	}
	mount, own := parseCgroup2(string(mountinfo), string(self))
	if mount == "" {
		if cfg.Server.Cgroup != "auto" {
			return nil, "", fmt.Errorf("cgroup=%s: no cgroup2 file system is mounted here; mount one, or set cgroup=auto or no", cfg.Server.Cgroup)
		}
		return nil, "no cgroup2 file system is mounted", nil
	}
	var candidates []string
	if cfg.Server.Cgroup == "auto" {
		name := "ramona-" + cfg.AppName
		if own != "" {
			candidates = append(candidates, filepath.Join(own, name))
		}
		if root := filepath.Join(mount, name); !slices.Contains(candidates, root) {
			candidates = append(candidates, root)
		}
	} else {
		if !strings.HasPrefix(cfg.Server.Cgroup, mount+"/") {
			return nil, "", fmt.Errorf("cgroup=%s is not below the cgroup2 file system mounted at %s; name a directory there, or set cgroup=auto or no", cfg.Server.Cgroup, mount)
		}
		if err := os.MkdirAll(filepath.Dir(cfg.Server.Cgroup), 0o755); err != nil {
			return nil, "", fmt.Errorf("cgroup=%s: %v", cfg.Server.Cgroup, err)
		}
		candidates = []string{cfg.Server.Cgroup}
	}
	var tried []string
	for _, dir := range candidates {
		base, lock, err := claimCgroup(dir)
		if err != nil {
			tried = append(tried, err.Error())
			continue
		}
		if why := foreignContent(base); why != "" {
			lock.Close()
			tried = append(tried, fmt.Sprintf("cannot use cgroup %s: %s; name a new directory", base, why))
			continue
		}
		if base != dir {
			log.Warnf("server: cgroup %s belongs to another Ramona server (running, or killed and its guard still clearing it); using %s", dir, base)
		}
		t = &cgroupTree{base: base, lock: lock, log: log, controllers: map[string]bool{}}
		if filepath.Dir(base) == own {
			t.ownDir = own
		}
		break
	}
	if t == nil {
		if cfg.Server.Cgroup != "auto" {
			return nil, "", fmt.Errorf("cgroup=%s: %s", cfg.Server.Cgroup, strings.Join(tried, "; "))
		}
		return nil, strings.Join(tried, "; "), nil
	}
	t.clearLeftovers()
	want := []string{"memory", "pids"}
	for _, pc := range cfg.Programs {
		if pc.CPUWeight > 0 {
			want, t.triedCPU = append(want, "cpu"), true
			break
		}
	}
	t.enable(want...)
	if t.watch, err = newCgroupWatcher(); err != nil {
		removeCgroupTree(t.base)
		t.lock.Close()
		return nil, fmt.Sprintf("cannot watch cgroup.events: %v", err), nil
	}
	go t.watch.run() // ends when close closes the inotify descriptor
	return t, "", nil
}

// parseCgroup2 finds the cgroup2 mount (preferring /sys/fs/cgroup, then
// the hybrid layout's /sys/fs/cgroup/unified) and the directory of this
// process's own cgroup in it ("" when it lies outside what is mounted).
func parseCgroup2(mountinfo, selfCgroup string) (mount, own string) {
	type m struct{ root, point string }
	var found []m
	for _, line := range strings.Split(mountinfo, "\n") {
		left, right, ok := strings.Cut(line, " - ")
		f, g := strings.Fields(left), strings.Fields(right)
		if !ok || len(f) < 5 || len(g) < 1 || g[0] != "cgroup2" {
			continue
		}
		found = append(found, m{root: unescapeMount(f[3]), point: unescapeMount(f[4])})
	}
	if len(found) == 0 {
		return "", ""
	}
	pick := found[0]
	for _, pref := range []string{"/sys/fs/cgroup/unified", "/sys/fs/cgroup"} {
		for _, x := range found {
			if x.point == pref {
				pick = x
			}
		}
	}
	for _, line := range strings.Split(selfCgroup, "\n") {
		path, ok := strings.CutPrefix(line, "0::")
		if !ok || !strings.HasPrefix(path, "/") || strings.Contains(path, "/..") {
			continue
		}
		rel, ok := strings.CutPrefix(path, pick.root)
		if pick.root == "/" {
			rel, ok = path, true
		}
		if ok && (rel == "" || strings.HasPrefix(rel, "/")) {
			own = filepath.Join(pick.point, rel)
		}
	}
	return pick.point, own
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

var errCgroupBusy = errors.New("in use by another Ramona server")

// claimCgroup creates dir (or takes it) and holds an exclusive flock on it
// for the server's life. When another live server holds it, a sibling
// named after this server's pid is claimed instead.
func claimCgroup(dir string) (string, *os.File, error) {
	for i := 0; i < 8; i++ {
		try := dir
		switch {
		case i == 1:
			try = fmt.Sprintf("%s-%d", dir, os.Getpid())
		case i > 1:
			try = fmt.Sprintf("%s-%d-%d", dir, os.Getpid(), i)
		}
		f, err := lockCgroupDir(try)
		if errors.Is(err, errCgroupBusy) {
			continue
		}
		return try, f, err
	}
	return "", nil, fmt.Errorf("%s: %v (and its pid-named siblings)", dir, errCgroupBusy)
}

func lockCgroupDir(dir string) (*os.File, error) {
	for range 3 { // a server leaving may remove the directory between mkdir and open
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("cannot create %s: %s", dir, pathErrText(err))
		}
		f, err := os.OpenFile(dir, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW, 0)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("cannot open %s: %s", dir, pathErrText(err))
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			if err == syscall.EWOULDBLOCK {
				return nil, errCgroupBusy
			}
			return nil, fmt.Errorf("cannot lock %s: %v", dir, err)
		}
		held, err1 := f.Stat()
		now, err2 := os.Lstat(dir)
		if err1 != nil || err2 != nil || !os.SameFile(held, now) {
			f.Close()
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "cgroup.procs")); err != nil {
			f.Close()
			return nil, fmt.Errorf("%s is not a cgroup (no cgroup.procs)", dir)
		}
		return f, nil
	}
	return nil, fmt.Errorf("%s keeps disappearing", dir)
}

// foreignContent says why an existing base cannot be one a Ramona server
// left: processes of its own, or a child that is not a program's cgroup
// (one with processes of its own, or with a child not named by a number).
// "" when it can be. Nothing in a foreign cgroup is ever killed.
func foreignContent(base string) string {
	if pids := strings.Fields(readFileText(filepath.Join(base, "cgroup.procs"))); len(pids) > 0 {
		return fmt.Sprintf("it holds processes of its own (pid %s), which Ramona never puts there", pids[0])
	}
	programs, _ := os.ReadDir(base)
	for _, p := range programs {
		if !p.IsDir() {
			continue
		}
		dir := filepath.Join(base, p.Name())
		if pids := strings.Fields(readFileText(filepath.Join(dir, "cgroup.procs"))); len(pids) > 0 {
			return fmt.Sprintf("%s holds processes of its own (pid %s), which Ramona never puts there", dir, pids[0])
		}
		spawns, _ := os.ReadDir(dir)
		for _, sp := range spawns {
			if _, err := strconv.Atoi(sp.Name()); sp.IsDir() && err != nil {
				return fmt.Sprintf("%s is no cgroup Ramona makes", filepath.Join(dir, sp.Name()))
			}
		}
	}
	return ""
}

func readFileText(path string) string {
	data, _ := os.ReadFile(path)
	return string(data)
}

// clearLeftovers kills what an earlier server of this base left (it was
// killed and its guard could not finish) and removes its cgroups.
func (t *cgroupTree) clearLeftovers() {
	programs, _ := os.ReadDir(t.base)
	for _, p := range programs {
		if !p.IsDir() {
			continue
		}
		dir := filepath.Join(t.base, p.Name())
		if populated, _ := cgroupPopulated(dir); populated {
			t.log.Warnf("server: cgroup %s still holds processes of an earlier server; killing them", dir)
			killCgroup(dir)
			if !waitCgroupEmpty(dir, cgroupEmptyWait) {
				t.log.Errorf("server: cgroup %s is not empty %s after cgroup.kill", dir, cgroupEmptyWait)
			}
		}
		removeCgroupTree(dir)
	}
}

// cgroupWriteFile writes one value to a cgroup interface file; tests
// replace it to play a kernel that refuses.
var cgroupWriteFile = func(path, value string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// enable asks for controllers in the base's subtree_control, so that the
// program cgroups get them. The base's parent must offer them: when it is
// the server's own cgroup and refuses because the server lives in it (a
// cgroup with processes cannot hand controllers down), the server moves
// into a leaf beside the base and tries again.
func (t *cgroupTree) enable(names ...string) {
	parent := filepath.Dir(t.base)
	offered := readWords(filepath.Join(t.base, "cgroup.controllers"))
	var missing []string
	for _, n := range names {
		if !offered[n] && readWords(filepath.Join(parent, "cgroup.controllers"))[n] {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		err := writeSubtreeControl(parent, missing)
		if errors.Is(err, syscall.EBUSY) && parent == t.ownDir && onlySelf(parent) {
			if merr := t.moveSelfToLeaf(); merr != nil {
				t.log.Warnf("server: cannot move into a leaf cgroup beside %s: %v", t.base, merr)
			} else {
				err = writeSubtreeControl(parent, missing)
			}
		}
		if err != nil {
			t.log.Warnf("server: cannot enable %s in %s: %v", strings.Join(missing, ", "), parent, err)
		}
		offered = readWords(filepath.Join(t.base, "cgroup.controllers"))
	}
	var enable []string
	for _, n := range names {
		if offered[n] {
			enable = append(enable, n)
		}
	}
	if err := writeSubtreeControl(t.base, enable); err != nil {
		t.log.Warnf("server: cannot enable %s in %s: %v", strings.Join(enable, ", "), t.base, err)
	}
	t.controllers = readWords(filepath.Join(t.base, "cgroup.subtree_control"))
}

func writeSubtreeControl(dir string, names []string) error {
	for _, n := range names {
		if err := cgroupWriteFile(filepath.Join(dir, "cgroup.subtree_control"), "+"+n); err != nil {
			return fmt.Errorf("+%s: %w", n, err)
		}
	}
	return nil
}

// onlySelf: the server is the only process of cgroup dir, so that moving
// it out leaves dir without processes (else moving would gain nothing).
func onlySelf(dir string) bool {
	return slices.Equal(strings.Fields(readFileText(filepath.Join(dir, "cgroup.procs"))), []string{strconv.Itoa(os.Getpid())})
}

// moveSelfToLeaf moves the server (all its threads) into ownDir/supervisor.
func (t *cgroupTree) moveSelfToLeaf() error {
	leaf := filepath.Join(t.ownDir, supervisorLeaf)
	if err := os.Mkdir(leaf, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	if err := cgroupWriteFile(filepath.Join(leaf, "cgroup.procs"), strconv.Itoa(os.Getpid())); err != nil {
		return err
	}
	t.log.Infof("server: moved into cgroup %s: a cgroup with processes cannot hand controllers to %s", leaf, t.base)
	return nil
}

// readWords returns the space-separated words of a file as a set.
func readWords(path string) map[string]bool {
	data, _ := os.ReadFile(path)
	set := map[string]bool{}
	for _, w := range strings.Fields(string(data)) {
		set[w] = true
	}
	return set
}

// cgroupName is a program's cgroup directory name: its name, with a '_' in
// front when it could collide with an interface file (which all have a
// '.') or with an escaped name.
func cgroupName(program string) string {
	if strings.ContainsRune(program, '.') || strings.HasPrefix(program, "_") {
		return "_" + program
	}
	return program
}

// makeProgram creates BASE/NAME with the program's limits. The warnings
// name each limit that could not be applied and why.
func (t *cgroupTree) makeProgram(pc *ProgramConfig) (*programCgroup, []string, error) {
	dir := filepath.Join(t.base, cgroupName(pc.Name))
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, nil, fmt.Errorf("cannot create cgroup %s: %s", dir, pathErrText(err))
	}
	var warnings []string
	for _, l := range limitsOf(pc) {
		if l.controller == "cpu" && !t.controllers["cpu"] && !t.triedCPU {
			t.triedCPU = true
			t.enable(append(sortedKeys(t.controllers), "cpu")...)
		}
		at := pc.LimitsAt[l.key]
		if !t.controllers[l.controller] {
			warnings = append(warnings, fmt.Sprintf("%s (%s) not applied: the %s controller is not available in cgroup %s", l.key, at, l.controller, t.base))
			continue
		}
		if err := cgroupWriteFile(filepath.Join(dir, l.file), l.value); err != nil {
			warnings = append(warnings, fmt.Sprintf("%s (%s) not applied: %s: %v", l.key, at, l.file, err))
		}
	}
	return &programCgroup{dir: dir}, warnings, nil
}

// makeInstance creates PROGRAM/N for one spawn, watches its cgroup.events
// (emptied is called, from the watcher's goroutine, when it has no process
// left) and returns a descriptor of it for clone3's CLONE_INTO_CGROUP.
func (t *cgroupTree) makeInstance(pcg *programCgroup, n int, emptied func()) (string, int, error) {
	dir := filepath.Join(pcg.dir, strconv.Itoa(n))
	if err := os.Mkdir(dir, 0o755); err != nil {
		if populated, perr := cgroupPopulated(dir); !errors.Is(err, fs.ErrExist) || perr != nil || populated {
			return "", -1, fmt.Errorf("cannot create cgroup %s: %s", dir, pathErrText(err))
		}
	}
	if err := t.watch.add(dir, emptied); err != nil {
		syscall.Rmdir(dir)
		return "", -1, fmt.Errorf("cannot watch cgroup %s: %v", dir, err)
	}
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		syscall.Rmdir(dir)
		return "", -1, fmt.Errorf("cannot open cgroup %s: %v", dir, err)
	}
	return dir, fd, nil
}

// intoCgroup makes a spawn start inside the cgroup fd refers to.
func intoCgroup(sys *syscall.SysProcAttr, fd int) {
	sys.UseCgroupFD, sys.CgroupFD = true, fd
}

// spawnsIntoCgroup reports whether sys starts the process inside a cgroup
// (intoCgroup); notIntoCgroup undoes that for a retry without clone3.
func spawnsIntoCgroup(sys *syscall.SysProcAttr) bool { return sys.UseCgroupFD }
func notIntoCgroup(sys *syscall.SysProcAttr)         { sys.UseCgroupFD = false }

// clone3Missing: a spawn into a cgroup failed with ENOSYS (a kernel before
// 5.7, or an emulator such as qemu-user). From now on processes start as
// before and move into their cgroup at once: what they fork in between
// stays outside.
func (t *cgroupTree) clone3Missing() {
	t.noClone3 = true
	t.log.Warnf("server: clone3 is not available (ENOSYS), so processes cannot start inside their cgroup; each moves into it right after it starts, and what it forks before that stays outside")
}

// moveIntoCgroup moves the process pid into the cgroup dir.
func moveIntoCgroup(dir string, pid int) error {
	return cgroupWriteFile(filepath.Join(dir, "cgroup.procs"), strconv.Itoa(pid))
}

// killAll kills every process below the base (the server's exit).
func (t *cgroupTree) killAll() error { return killCgroup(t.base) }

// lockFile is the base directory the server holds flocked (nil without
// cgroups); the guard holds it too (guard.go).
func (t *cgroupTree) lockFile() *os.File {
	if t == nil {
		return nil
	}
	return t.lock
}

// close waits (bounded) until the base has no process left, removes every
// cgroup below it and the base itself, and releases it.
func (t *cgroupTree) close() {
	if !waitCgroupEmpty(t.base, cgroupEmptyWait) {
		t.log.Errorf("server: cgroup %s still has processes %s after cgroup.kill", t.base, cgroupEmptyWait)
	}
	if err := removeCgroupTree(t.base); err != nil {
		t.log.Warnf("server: %v", err)
	}
	t.watch.close()
	t.lock.Close()
}

// killCgroup sends SIGKILL to every process of dir and its descendants at
// once (cgroup.kill, Linux 5.14); on an older kernel, to each member found.
func killCgroup(dir string) error {
	err := cgroupWriteFile(filepath.Join(dir, "cgroup.kill"), "1")
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Stat(dir); serr != nil {
			return nil // the cgroup itself is gone
		}
		signalCgroup(dir, syscall.SIGKILL)
		return nil
	}
	return err
}

// signalCgroup sends sig to every process of dir and its descendants. It
// reads cgroup.procs: never on the loop.
func signalCgroup(dir string, sig syscall.Signal) {
	for _, pid := range cgroupPids(dir) {
		syscall.Kill(pid, sig)
	}
}

// cgroupPids lists the processes of dir and its descendants.
func cgroupPids(dir string) []int {
	var pids []int
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		data, _ := os.ReadFile(filepath.Join(path, "cgroup.procs"))
		for _, f := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
		return nil
	})
	return pids
}

// removeCgroupTree removes dir and every cgroup below it, deepest first;
// only empty cgroups can go.
func removeCgroupTree(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	for _, e := range entries {
		if e.IsDir() {
			removeCgroupTree(filepath.Join(dir, e.Name()))
		}
	}
	if err := syscall.Rmdir(dir); err != nil && err != syscall.ENOENT {
		return fmt.Errorf("cannot remove cgroup %s: %v", dir, err)
	}
	return nil
}

// cgroupPopulated reads "populated" from dir/cgroup.events.
func cgroupPopulated(dir string) (bool, error) {
	data, err := os.ReadFile(filepath.Join(dir, "cgroup.events"))
	if err != nil {
		return false, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "populated "); ok {
			return v == "1", nil
		}
	}
	return false, fmt.Errorf("%s/cgroup.events has no populated line", dir)
}

// waitCgroupEmpty waits until dir has no process (or is gone), woken by
// inotify on cgroup.events; false when timeout passed first.
func waitCgroupEmpty(dir string, timeout time.Duration) bool {
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		return false
	}
	f := os.NewFile(uintptr(fd), "inotify")
	defer f.Close()
	if _, err := syscall.InotifyAddWatch(fd, filepath.Join(dir, "cgroup.events"), syscall.IN_MODIFY); err != nil {
		return errors.Is(err, syscall.ENOENT)
	}
	f.SetReadDeadline(time.Now().Add(timeout))
	buf := make([]byte, 4096)
	for {
		if populated, err := cgroupPopulated(dir); err != nil || !populated {
			return true
		}
		if _, err := f.Read(buf); err != nil {
			return false
		}
	}
}

// cgroupWatcher tells when watched cgroups become empty: one inotify
// descriptor, read through the runtime poller by one goroutine, so an idle
// server has nothing to wake it.
type cgroupWatcher struct {
	file    *os.File
	mu      sync.Mutex // guards watches
	watches map[int32]*cgroupWatch
}

type cgroupWatch struct {
	dir     string
	emptied func()
	done    bool // emptied was called
}

func newCgroupWatcher() (*cgroupWatcher, error) {
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		return nil, err
	}
	return &cgroupWatcher{file: os.NewFile(uintptr(fd), "inotify"), watches: map[int32]*cgroupWatch{}}, nil
}

// add watches dir/cgroup.events; emptied runs once, on the watcher's
// goroutine, after dir was populated and is not any more.
func (w *cgroupWatcher) add(dir string, emptied func()) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var wd int
	var err error
	cerr := w.rawControl(func(fd int) {
		wd, err = syscall.InotifyAddWatch(fd, filepath.Join(dir, "cgroup.events"), syscall.IN_MODIFY)
	})
	if err = errors.Join(cerr, err); err != nil {
		return err
	}
	w.watches[int32(wd)] = &cgroupWatch{dir: dir, emptied: emptied}
	return nil
}

func (w *cgroupWatcher) rawControl(f func(fd int)) error {
	raw, err := w.file.SyscallConn()
	if err != nil {
		return err
	}
	return raw.Control(func(fd uintptr) { f(int(fd)) })
}

// run reads inotify events until close; after each batch it reads the
// cgroup.events of every watch that changed.
func (w *cgroupWatcher) run() {
	buf := make([]byte, 64<<10)
	for {
		n, err := w.file.Read(buf)
		if err != nil {
			return
		}
		var changed []int32
		for off := 0; off+syscall.SizeofInotifyEvent <= n; {
			wd := int32(binary.NativeEndian.Uint32(buf[off:]))
			mask := binary.NativeEndian.Uint32(buf[off+4:])
			nameLen := int(binary.NativeEndian.Uint32(buf[off+12:]))
			off += syscall.SizeofInotifyEvent + nameLen
			if mask&syscall.IN_IGNORED != 0 {
				w.mu.Lock()
				delete(w.watches, wd)
				w.mu.Unlock()
				continue
			}
			if !slices.Contains(changed, wd) {
				changed = append(changed, wd)
			}
		}
		for _, wd := range changed {
			w.mu.Lock()
			cw := w.watches[wd]
			w.mu.Unlock()
			if cw == nil || cw.done {
				continue
			}
			if populated, err := cgroupPopulated(cw.dir); err == nil && !populated {
				cw.done = true
				cw.emptied()
			}
		}
	}
}

func (w *cgroupWatcher) close() {
	if w != nil {
		w.file.Close()
	}
}

// cgroupUsage reads a program cgroup's CPU time (cpu.stat usage_usec,
// there without any controller) and memory: memory.current where the
// memory controller is on, else the sum of the resident sets of the
// processes in its spawns' cgroups.
func (k *kernelFiles) cgroupUsage(q usageQuery, pageSize int64) usage {
	var u usage
	if data, err := k.read(q.cgroup + "/cpu.stat"); err == nil {
		if _, v, ok := bytes.Cut(data, []byte("usage_usec ")); ok { // its first line
			u.cpuSeconds = float64(leadingNumber(v)) / 1e6
		}
	}
	if q.memoryCur {
		if data, err := k.read(q.cgroup + "/memory.current"); err == nil {
			u.memoryBytes = leadingNumber(data)
			return u
		}
	}
	var pids []int
	for _, dir := range q.spawns {
		data, _ := k.read(dir + "/cgroup.procs")
		pids = pids[:0]
		for line := range bytes.Lines(data) { // read all before data is reused
			if pid := int(leadingNumber(line)); pid > 0 {
				pids = append(pids, pid)
			}
		}
		for _, pid := range pids {
			u.memoryBytes += k.residentBytes(pid, pageSize)
		}
	}
	return u
}
