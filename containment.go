// Containment: a program is its whole process tree. With cgroups each
// program has a cgroup (BASE/NAME) and each spawn one below it
// (BASE/NAME/N); the kill sequence signals the process group as before,
// reaches processes that left it through the cgroup, ends with cgroup.kill,
// and a stop is over when the cgroup is empty. Without cgroups the server,
// as subreaper, stops what was reparented to it before it exits. Also the
// CPU and memory of each program's tree for status. Runs on the loop; the
// platform files (cgroup_linux.go, proctree_linux.go) touch the kernel.
package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// programCgroup is BASE/NAME: every process of one program, all spawns.
type programCgroup struct {
	dir  string
	live []*instanceCgroup // the spawns' cgroups that still have processes
}

// instanceCgroup is BASE/NAME/N: the processes of one spawn.
type instanceCgroup struct {
	dir       string
	prog      *Program
	pcg       *programCgroup
	populated bool
}

// killTarget is what one kill step signals: the process group (or the main
// pid), and with cgroups the cgroup around them, whose processes get the
// signal when the group is gone and cgroup.kill with SIGKILL.
type killTarget struct {
	name   string
	group  bool
	pid    int
	pgid   int
	cgroup string   // "" without cgroups
	spawns []string // the cgroups below it that still have processes
}

// stopTarget is the target of p's stop: its group or pid, and its whole
// program cgroup (earlier spawns' leftovers included).
func (s *Supervisor) stopTarget(p *Program) killTarget {
	t := killTarget{name: p.cfg.Name, group: p.cfg.ProcessGroup, pid: p.pid(), pgid: p.pgid}
	if p.cg != nil {
		t.cgroup = p.cg.dir
		for _, ic := range p.cg.live {
			t.spawns = append(t.spawns, ic.dir)
		}
	}
	return t
}

// leftovers is what an exited main process left running: its process
// group, or with cgroups the rest of its spawn's cgroup. They get the
// program's kill sequence while the program goes on (as systemd does).
type leftovers struct {
	name string
	pgid int             // 0 when the program has no group of its own
	cg   *instanceCgroup // nil without cgroups
	kill *killSequence
}

func (lo *leftovers) alive() bool {
	if lo.cg != nil {
		return lo.cg.populated
	}
	return groupAlive(lo.pgid)
}

func (lo *leftovers) target() killTarget {
	t := killTarget{name: lo.name, group: lo.pgid > 0, pgid: lo.pgid}
	if lo.cg != nil {
		t.cgroup = lo.cg.dir
		if lo.cg.populated {
			t.spawns = []string{lo.cg.dir}
		}
	}
	return t
}

// treeAlive: something of p's may still run after its main process: its
// cgroup has processes, or its process group has members (zombies too: a
// stopped program's group has been reaped).
func (s *Supervisor) treeAlive(p *Program) bool {
	if p.cg != nil && len(p.cg.live) > 0 {
		return true
	}
	return p.cfg.ProcessGroup && groupAlive(p.pgid)
}

// signal sends sig to the target's process group (or its pid), and logs
// it. With a cgroup: a SIGKILL also kills the whole cgroup; another signal
// that found no group or pid goes to the processes left in the cgroup.
func (s *Supervisor) signal(t killTarget, sig syscall.Signal) {
	var err error
	reached := false
	switch {
	case t.group && t.pgid > 0:
		if err = signalGroup(t.pgid, sig); err != syscall.ESRCH || t.cgroup == "" {
			s.log.Infof("%s: sending %s to process group %d", t.name, signalName(sig), t.pgid)
		}
		reached = err == nil
	case t.pid > 0:
		s.log.Infof("%s: sending %s to pid %d", t.name, signalName(sig), t.pid)
		err = signalProcess(t.pid, sig)
		reached = err == nil
	}
	if err != nil && err != syscall.ESRCH {
		s.log.Errorf("%s: cannot send %s: %v", t.name, signalName(sig), err)
	}
	switch {
	case len(t.spawns) == 0:
	case sig == syscall.SIGKILL:
		s.log.Infof("%s: killing every process in cgroup %s", t.name, t.cgroup)
		if err := killCgroup(t.cgroup); err != nil {
			s.log.Errorf("%s: cannot kill cgroup %s: %v", t.name, t.cgroup, err)
		}
	case !reached:
		s.log.Infof("%s: sending %s to the processes left in cgroup %s", t.name, signalName(sig), t.cgroup)
		go func() { // reads cgroup.procs off the loop; ends after one pass
			for _, dir := range t.spawns { // only these: a later spawn of the program is not theirs
				signalCgroup(dir, sig)
			}
		}()
	}
}

// stopEscapees: p's main process has exited while stopping. When its group
// has gone too, what is left in its cgroup (processes that left the group,
// or a processgroup=no program's children) gets the signal the group got,
// now rather than at the next step.
func (s *Supervisor) stopEscapees(p *Program) {
	if p.cg == nil || len(p.cg.live) == 0 || p.kill == nil || p.kill.last == 0 || (p.cfg.ProcessGroup && groupAlive(p.pgid)) {
		return
	}
	t := s.stopTarget(p)
	t.pid = 0 // reaped: the number may be someone else's soon
	s.signal(t, p.kill.last)
}

// newInstanceCgroup makes the cgroup p's next spawn starts in, and the
// program's own cgroup first when it has none; fd is for clone3.
func (s *Supervisor) newInstanceCgroup(p *Program) (*instanceCgroup, int, error) {
	if p.cg == nil {
		pcg, warnings, err := s.cg.makeProgram(p.cfg)
		if err != nil {
			return nil, -1, err
		}
		p.cg = pcg
		if p.limitsWarned != p.cfg {
			p.limitsWarned = p.cfg
			for _, w := range warnings {
				s.log.Warnf("%s: %s", p.cfg.Name, w)
			}
		}
	}
	ic := &instanceCgroup{prog: p, pcg: p.cg}
	s.spawns++ // numbers no cgroup of this server had: a late signal to an old one cannot reach a new one
	dir, fd, err := s.cg.makeInstance(p.cg, s.spawns, func() {
		s.post(func() { s.cgroupEmptied(ic) })
	})
	if err != nil {
		return nil, -1, err
	}
	ic.dir = dir
	return ic, fd, nil
}

// cgroupLimit is one [program:x] key that becomes a cgroup interface file.
type cgroupLimit struct {
	key, controller, file, value string
}

func limitsOf(pc *ProgramConfig) []cgroupLimit {
	var out []cgroupLimit
	if pc.MemoryMax > 0 {
		out = append(out, cgroupLimit{"memorymax", "memory", "memory.max", strconv.FormatInt(pc.MemoryMax, 10)})
	}
	if pc.CPUWeight > 0 {
		out = append(out, cgroupLimit{"cpuweight", "cpu", "cpu.weight", strconv.Itoa(pc.CPUWeight)})
	}
	if pc.PidsMax > 0 {
		out = append(out, cgroupLimit{"pidsmax", "pids", "pids.max", strconv.Itoa(pc.PidsMax)})
	}
	return out
}

// warnLimitsOff: without cgroups, a program's limits cannot apply; said
// once per configuration (cgroup=no already warned at load).
func (s *Supervisor) warnLimitsOff(p *Program) {
	if len(p.cfg.LimitsAt) == 0 || p.limitsWarned == p.cfg || s.cfg.Server.Cgroup == "no" {
		return
	}
	p.limitsWarned = p.cfg
	for _, l := range limitsOf(p.cfg) {
		if at := p.cfg.LimitsAt[l.key]; at != "" {
			s.log.Warnf("%s: %s (%s) not applied: cgroups are off (%s)", p.cfg.Name, l.key, at, s.cgOff)
		}
	}
}

// enterCgroup moves a process that started outside its spawn's cgroup
// (no clone3) into it; nil, and the cgroup removed, when it cannot: the
// program then runs as without cgroups.
func (s *Supervisor) enterCgroup(p *Program, ic *instanceCgroup, pid int) *instanceCgroup {
	if err := moveIntoCgroup(ic.dir, pid); err != nil {
		s.log.Errorf("%s: cannot move pid %d into cgroup %s: %v; it runs outside", p.cfg.Name, pid, ic.dir, err)
		ic.abandon()
		return nil
	}
	return ic
}

// spawned: the process runs inside ic.
func (ic *instanceCgroup) spawned() {
	ic.populated = true
	ic.pcg.live = append(ic.pcg.live, ic)
}

// abandon removes the cgroup of a spawn that failed.
func (ic *instanceCgroup) abandon() {
	removeCgroupTree(ic.dir)
}

// cgroupEmptied: the watcher saw a spawn's cgroup empty. It is removed,
// and a stop or leftovers waiting for it may be over.
func (s *Supervisor) cgroupEmptied(ic *instanceCgroup) {
	if !ic.populated {
		return
	}
	ic.populated = false
	ic.pcg.live = slices.DeleteFunc(ic.pcg.live, func(x *instanceCgroup) bool { return x == ic })
	if err := removeCgroupTree(ic.dir); err != nil {
		s.log.Debugf("%s: %v", ic.prog.cfg.Name, err)
	}
	s.checkTrees()
}

// releaseCgroup removes p's program cgroup once nothing of p runs and
// nothing is about to: the next start makes a fresh one.
func (s *Supervisor) releaseCgroup(p *Program) {
	if p.cg == nil || len(p.cg.live) > 0 || p.inst != nil || p.state.running() {
		return
	}
	if err := removeCgroupTree(p.cg.dir); err != nil {
		s.log.Debugf("%s: %v", p.cfg.Name, err)
	}
	p.cg = nil
}

// checkTrees finishes stop sequences and leftovers whose last process has
// gone, and removes program cgroups no longer needed; called when an orphan
// was reaped, a cgroup emptied, or a kill step's time was up.
func (s *Supervisor) checkTrees() {
	for _, p := range s.order {
		if p.state == StateStopping && p.inst == nil && !s.treeAlive(p) {
			s.guard.remove(p.pgid)
			desc := "process group gone"
			if p.cg != nil {
				desc = "cgroup empty"
			}
			s.stopped(p, desc)
		}
		s.releaseCgroup(p)
	}
	kept := s.left[:0]
	for _, lo := range s.left {
		if lo.alive() {
			kept = append(kept, lo)
			continue
		}
		s.guard.remove(lo.pgid)
		lo.kill.next.stop()
	}
	s.left = kept
	if s.sweep != nil {
		s.sweep.relist(s)
	}
}

// handleLeftovers: the main process of inst is gone but processes of its
// group (or, with cgroups, of its spawn's cgroup) still run; they get the
// program's kill sequence.
func (s *Supervisor) handleLeftovers(p *Program, inst *instance) {
	lo := &leftovers{name: p.cfg.Name, pgid: inst.pgid, cg: inst.cg}
	if !lo.alive() {
		return
	}
	where := fmt.Sprintf("its group %d", inst.pgid)
	if inst.cg != nil {
		where = "cgroup " + inst.cg.dir
	}
	s.log.Warnf("%s: processes in %s outlived the main process; stopping them", p.cfg.Name, where)
	lo.kill = &killSequence{signals: append([]syscall.Signal(nil), p.cfg.KillBy...), step: p.cfg.StopTimeout, target: lo.target, still: lo.alive}
	s.left = append(s.left, lo)
	s.killStep(lo.kill)
}

// usageQuery says where to read one program's CPU and memory.
type usageQuery struct {
	cgroup    string   // its program cgroup; "" without one
	spawns    []string // the cgroups of its spawns that have processes
	memoryCur bool     // the cgroup has memory.current
	pid       int      // its main process, 0 when none
	pgid      int      // its process group, 0 when none
}

// usage is a program tree's CPU seconds (cumulative) and memory (now).
type usage struct {
	cpuSeconds  float64
	memoryBytes int64
}

// usageQuery says where p's processes are, gathered on the loop so that
// the reading happens off it.
func (s *Supervisor) usageQuery(p *Program) usageQuery {
	q := usageQuery{pid: p.pid()}
	if p.cg != nil {
		q.cgroup, q.memoryCur = p.cg.dir, s.cg.controllers["memory"]
		for _, ic := range p.cg.live {
			q.spawns = append(q.spawns, ic.dir)
		}
	} else if p.cfg.ProcessGroup && p.state.running() {
		q.pgid = p.pgid
	}
	return q
}

// orphanSweep is the server's last duty before it exits without cgroups:
// every process that was reparented to it (the programs' escapees) gets
// SIGTERM, and SIGKILL after the longest stoptimeout, until none is left.
type orphanSweep struct {
	listing bool          // a listing is under way off the loop
	again   bool          // list again when it is back: something changed meanwhile
	termed  map[int]bool  // got SIGTERM
	late    bool          // the grace period is over: SIGKILL
	grace   time.Duration // the longest stoptimeout
	timer   loopTimer     // the end of the grace period
	done    bool
}

// sweepOrphans runs the sweep; it reports whether the server may exit.
func (s *Supervisor) sweepOrphans() bool {
	if s.cg != nil || !s.adopts {
		return true // every program's cgroup was emptied, or nothing escaped to us
	}
	if s.sweep == nil {
		s.sweep = &orphanSweep{termed: map[int]bool{}, grace: 3 * time.Second, late: s.forced}
		if len(s.order) > 0 {
			s.sweep.grace = 0
		}
		for _, p := range s.order {
			s.sweep.grace = max(s.sweep.grace, p.cfg.StopTimeout)
		}
		s.sweep.relist(s)
	}
	return s.sweep.done
}

// relist lists the adopted orphans off the loop, then acts on the list.
func (w *orphanSweep) relist(s *Supervisor) {
	if w.done {
		return
	}
	if w.listing {
		w.again = true
		return
	}
	w.listing, w.again = true, false
	except := map[int]bool{s.guard.pid(): true}
	go func() { // ends after one pass over /proc
		pids := adoptedOrphans(except)
		described := make(map[int]string, len(pids))
		for _, pid := range pids {
			described[pid] = describeProcess(pid)
		}
		s.post(func() { w.listed(s, pids, described) })
	}()
}

// listed acts on the adopted orphans found off the loop; described is what
// /proc said of each (its command line), for the log.
func (w *orphanSweep) listed(s *Supervisor, pids []int, described map[int]string) {
	w.listing = false
	if w.again {
		w.relist(s)
		return
	}
	if len(pids) == 0 {
		w.done = true
		w.timer.stop()
		return
	}
	var fresh []string
	sig := syscall.SIGTERM
	if w.late {
		sig = syscall.SIGKILL
	}
	for _, pid := range pids {
		if w.late || !w.termed[pid] {
			w.termed[pid] = true
			fresh = append(fresh, described[pid])
			signalProcess(pid, sig)
		}
	}
	if len(fresh) > 0 {
		s.log.Warnf("server: sending %s to %d process(es) that programs left behind (reparented to the server): %s",
			signalName(sig), len(fresh), strings.Join(fresh, ", "))
	}
	if !w.timer.armed() && !w.late {
		s.arm(&w.timer, w.grace, func() {
			w.late = true
			w.relist(s)
		})
	}
}

// formatCPU is CPU seconds in the status table: 0.42s, 12.3s, 4m05s, 2h10m.
func formatCPU(sec float64) string {
	switch {
	case sec < 10:
		return fmt.Sprintf("%.2fs", sec)
	case sec < 60:
		return fmt.Sprintf("%.1fs", sec)
	case sec < 3600:
		return fmt.Sprintf("%dm%02ds", int(sec)/60, int(sec)%60)
	}
	return fmt.Sprintf("%dh%02dm", int(sec)/3600, int(sec)/60%60)
}

// formatBytes is a size in the status table, in powers of 1024: 812K,
// 1.5M, 23M, 2.0G.
func formatBytes(n int64) string {
	units := []string{"B", "K", "M", "G", "T", "P"}
	v := float64(n)
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 || v >= 10 {
		return fmt.Sprintf("%d%s", int64(v+0.5), units[i])
	}
	return fmt.Sprintf("%.1f%s", v, units[i])
}

// usageCells are the CPU and MEM columns of a status line: "-" for a
// program with no process and nothing measured.
func (st programStatus) usageCells() (cpu, mem string) {
	if st.PID == 0 && st.CPUSeconds == 0 && st.MemoryBytes == 0 {
		return "-", "-"
	}
	return formatCPU(st.CPUSeconds), formatBytes(st.MemoryBytes)
}

// fillUsage puts read usages into status lines.
func fillUsage(list []programStatus, us []usage) {
	for i := range list {
		list[i].CPUSeconds = float64(int64(us[i].cpuSeconds*1000)) / 1000
		list[i].MemoryBytes = us[i].memoryBytes
	}
}
