// Supervisor owns the program table and every program's state. One
// goroutine, (*Supervisor).loop, runs every handler below; everything else
// (the reaper, timers, output readers, control connections) sends it a
// closure on s.events and never touches program state itself. This file holds
// the state machine of SPEC section 3: start, RUNNING after starttimeout,
// backoff and FATAL, autorestart, the kill sequence, and the server's exit.
package main

import (
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// State is a program's life-cycle state (SPEC section 3).
type State int

const (
	StateStopped State = iota
	StateStarting
	StateRunning
	StateBackoff
	StateStopping
	StateFatal
	StateDisabled
	StateCfgError
)

var stateNames = [...]string{"STOPPED", "STARTING", "RUNNING", "BACKOFF", "STOPPING", "FATAL", "DISABLED", "CFGERROR"}

func (s State) String() string { return stateNames[s] }

// running is true while the program has (or is about to have) a process.
func (s State) running() bool {
	return s == StateStarting || s == StateRunning || s == StateBackoff || s == StateStopping
}

// The backoff before a restart doubles from backoffFirst up to backoffMax.
// They are variables only so that the test binary, run as a server, can
// make them milliseconds (TestMain); nothing else sets them.
var (
	backoffFirst = time.Second
	backoffMax   = 60 * time.Second
)

const (
	quickDeathTime = 10 * time.Second // a RUNNING program that dies sooner backs off before its next restart
	outputDrainMax = time.Second      // how long the EXITED banner waits for a pipe a grandchild keeps open
)

// Program is one supervised program: its configuration and its state.
type Program struct {
	cfg        *ProgramConfig
	state      State
	since      time.Time // when state was entered
	inst       *instance // the current process, nil when none
	pgid       int       // process group of the last instance (signals and leftovers)
	launches   int
	restarts   int // automatic restarts after an exit
	retries    int // consecutive failed starts
	quick      int // consecutive quick deaths after RUNNING
	lastExit   *exitStatus
	lastError  string // why it is FATAL or CFGERROR
	statusText string
	deadline   loopTimer     // the state's deadline: start timeout, readytimeout, backoff
	kill       *killSequence // while STOPPING
	intent     stopIntent    // what comes once the stop is over (stopped)
	// the watchdog (watchdog.go)
	watchdogPeriod time.Duration
	watchdog       loopTimer
	lastPing       time.Time
	probe          probeState // readiness and health probes (health.go)
	logs           *programLogs
	cg             *programCgroup // its cgroup while it has one (containment.go); nil without cgroups
	limitsWarned   *ProgramConfig // the configuration whose unusable limits were logged
}

// afterStop is what a program does once its stop is over. Whoever begins or
// joins a stop says it (intend); stopped reads it, and nothing else does.
type afterStop int

const (
	settle  afterStop = iota // STOPPED, and it stays so: a stop on request, or at shutdown
	retry                    // a failed start (no READY=1 in time): BACKOFF and again, or FATAL
	restart                  // the watchdog expired: start again at once
	heal                     // it turned unhealthy: start again as after a crash (backoff after quick deaths)
	replace                  // reload changed it: take the next configuration, then start
	forget                   // reload removed it: drop it from the program table
)

// stopIntent is the after-stop intent: what, and for replace the
// configuration to take.
type stopIntent struct {
	then afterStop
	next *ProgramConfig
}

// intend records what p does after its stop; a stronger intent (later in
// the list above) is never weakened by a weaker one: a program reload
// removed is not restarted by its watchdog.
func (p *Program) intend(then afterStop, next *ProgramConfig) {
	if then >= p.intent.then {
		p.intent = stopIntent{then: then, next: next}
	}
}

// stopAsked: an operator asked for the stop that is under way, so it ends
// STOPPED rather than in the retry or restart the program would have made
// on its own; what reload decided (replace, forget) still comes.
func (p *Program) stopAsked() {
	if p.intent.then == retry || p.intent.then == restart || p.intent.then == heal {
		p.intent = stopIntent{}
	}
}

// exitStatus is how a process ended.
type exitStatus struct {
	code   int            // exit code, when signal is 0
	signal syscall.Signal // the signal that killed it
	core   bool
	uptime time.Duration
}

func (e *exitStatus) String() string {
	if e.signal != 0 {
		s := "killed by " + signalName(e.signal)
		if e.core {
			s += " (core dumped)"
		}
		return s
	}
	return fmt.Sprintf("exit status %d", e.code)
}

// essentialCode is the server's exit code when an essential program failed:
// its exit code, or 128+signal.
func (e *exitStatus) essentialCode() int {
	if e.signal != 0 {
		return 128 + int(e.signal)
	}
	return e.code
}

// instance is one process of a program, from spawn to the EXITED banner.
type instance struct {
	prog      *Program
	pid       int
	pgid      int
	started   time.Time
	logs      *programLogs // what its output readers write
	readers   int          // output readers still reading
	status    *exitStatus  // set when the reaper collected it
	finished  bool
	drainWait loopTimer       // after the exit: how long the EXITED banner waits for the pipes
	cg        *instanceCgroup // the cgroup it was spawned into; nil without cgroups
}

// killSequence sends a program's (or its leftovers') kill signals, one
// every stoptimeout, then SIGKILL until it is gone. It asks for its target
// at every step: MAINPID= may have moved the main process meanwhile.
type killSequence struct {
	signals []syscall.Signal
	step    time.Duration
	next    loopTimer      // the next step
	last    syscall.Signal // the signal sent last
	target  func() killTarget
	still   func() bool // the sequence is still wanted: its processes are not all gone
}

// Supervisor is the server's state: configuration, programs, clients.
type Supervisor struct {
	events   chan func()
	cfg      *Config
	files    []string // the configuration files; never changes, so any goroutine may read it
	environ  []string
	progs    map[string]*Program
	order    []*Program // configuration order
	byPid    map[int]*instance
	seqs     []*sequence
	left     []*leftovers
	clients  map[*clientConn]bool
	log      *serverLog
	console  *consoleOutput
	selfExe  string
	started  time.Time
	quitting bool                   // the server is stopping everything to exit
	forced   bool                   // a second SIGTERM: straight to SIGKILL
	exitCode int                    // the server's exit code once it is done
	done     chan struct{}          // closed when the loop has finished
	notify   *notifySocket          // NOTIFY_SOCKET of the programs; nil in unit tests
	guard    *groupGuard            // kills the programs' groups if the server is killed; nil-safe
	cg       *cgroupTree            // the programs' base cgroup; nil when cgroups are off
	cgOff    string                 // why cgroups are off
	sweep    *orphanSweep           // without cgroups, the last stop of reparented processes
	adopts   bool                   // orphans are reparented to the server: it is their subreaper, or PID 1
	serverID string                 // RAMONA_SERVER_ID of every program: PID-NONCE of this server
	spawns   int                    // spawns into cgroups so far: each one's cgroup number
	mailer   *Mailer                // mail and webhooks; nil in tests that notify nothing
	self     *selfNotifier          // the service manager that started us, if any
	children *childWaiter           // exec probes, whose exits the reaper hands over (probe.go)
	handled  int                    // events the loop has run: its wake-ups (health_test.go counts them)
	reloads  reloader               // SIGHUP and `ramona reload`, one load at a time (reload.go)
	logFiles map[string]*logFileRef // the programs' open log files by path (logfiles.go)
	logJobs  sync.WaitGroup         // log jobs and closes under way off the loop
	// loadFiles reads s.files as a reload does; any goroutine may call it
	// (tests replace it).
	loadFiles func() (*Config, error)
}

func newSupervisor(cfg *Config, environ []string, log *serverLog, console *consoleOutput, selfExe string) *Supervisor {
	s := &Supervisor{
		events:   make(chan func(), 1024),
		cfg:      cfg,
		files:    cfg.Files,
		environ:  environ,
		progs:    map[string]*Program{},
		byPid:    map[int]*instance{},
		logFiles: map[string]*logFileRef{},
		clients:  map[*clientConn]bool{},
		log:      log,
		console:  console,
		selfExe:  selfExe,
		started:  time.Now(),
		done:     make(chan struct{}),
	}
	s.loadFiles = func() (*Config, error) { return loadConfig(s.files, s.environ) }
	s.children = newChildWaiter()
	for _, pc := range cfg.Programs {
		s.addProgram(pc)
	}
	return s
}

func (s *Supervisor) addProgram(pc *ProgramConfig) *Program {
	p := &Program{cfg: pc, since: time.Now()}
	switch {
	case pc.Err != nil:
		p.state, p.lastError = StateCfgError, pc.Err.Error()
		s.log.Errorf("%s: configuration error, the program cannot run:\n%s", pc.Name, indent(pc.Err.Error()))
	case pc.Disabled:
		p.state = StateDisabled
	default:
		p.state = StateStopped
	}
	s.progs[pc.Name] = p
	s.order = append(s.order, p)
	return p
}

// loop runs every handler; it ends when the server has stopped everything
// and closes s.done.
//
// What the loop may touch. It never waits for another goroutine and never
// touches a disk: log files are opened, written, reopened and closed by
// ordered jobs (logfiles.go), the server's own output by its writer
// (serverOutput), configuration files are read by the reloader (reload.go),
// /proc by the status readers, the notify reader and the orphan sweep; each
// posts its result back. What the loop does itself are system calls on the
// kernel's process state, which never wait for storage: fork and exec of a
// spawn (with the stat of its directory and command just before; exec reads
// the same inodes), kill, and its programs' cgroup v2 pseudo-files (mkdir,
// rmdir, writes to cgroup.kill and cgroup.procs, inotify watches), which
// the kernel answers from memory and which are part of making and ending a
// process as fork and kill are. Off the loop a spawn would be two events,
// between which the reaper could report an exit the loop cannot match.
//
// The OS thread stays locked: children get SIGKILL as their parent-death
// signal, which the kernel ties to the forking thread.
func (s *Supervisor) loop() {
	runtime.LockOSThread()
	defer close(s.done)
	for ev := range s.events {
		s.handled++
		ev()
		if s.quitting && s.allQuiet() && s.sweepOrphans() {
			s.finishShutdown()
			return
		}
	}
}

// post hands a function to the loop; safe from any goroutine. After the
// loop has ended the function is dropped.
func (s *Supervisor) post(f func()) {
	select {
	case s.events <- f:
	case <-s.done:
	}
}

// setState moves p to st and tells the log and every waiting sequence.
func (s *Supervisor) setState(p *Program, st State, detail string) {
	old := p.state
	p.state, p.since = st, time.Now()
	if old != st {
		s.stopProbes(p) // what the new state probes, its caller arms
	}
	line := fmt.Sprintf("%s: %s -> %s", p.cfg.Name, old, st)
	if detail != "" {
		line += ": " + detail
	}
	switch st {
	case StateFatal, StateCfgError:
		s.log.Errorf("%s", line)
	case StateBackoff:
		s.log.Warnf("%s", line)
	default:
		s.log.Infof("%s", line)
	}
	if st == StateFatal && old != StateFatal {
		s.notifyFatal(p, old, detail)
	}
	if !st.running() {
		s.releaseCgroup(p)
	}
	for _, q := range slices.Clone(s.seqs) { // a sequence that finishes removes itself from s.seqs
		q.changed(s, p, detail)
	}
}

// startProgram spawns p (STOPPED, FATAL or BACKOFF -> STARTING), or makes
// it FATAL when the process cannot be started at all.
func (s *Supervisor) startProgram(p *Program) {
	p.deadline.stop()
	p.lastError = ""
	s.logsOf(p)
	inst, err := s.spawn(p)
	if err != nil {
		p.lastError = err.Error()
		p.retries = 0
		s.setState(p, StateFatal, err.Error())
		s.endedForGood(p)
		return
	}
	p.launches++
	p.inst, p.pgid = inst, inst.pgid
	detail := fmt.Sprintf("pid %d", inst.pid)
	s.setState(p, StateStarting, detail)
	if p.cfg.Ready == ReadyNotify || p.cfg.Ready == ReadyProbe {
		s.arm(&p.deadline, p.cfg.ReadyTimeout, func() { s.startTimedOut(p) })
		if p.cfg.Ready == ReadyProbe {
			s.startReadyProbes(p)
		}
		return
	}
	if p.cfg.StartTimeout == 0 {
		s.becameRunning(p) // RUNNING at once, before any exit can be seen
		return
	}
	s.arm(&p.deadline, p.cfg.StartTimeout, func() { s.becameRunning(p) })
}

// becameRunning: the program stayed up for starttimeout (or said READY=1).
// A process that already exited did not, even while its output drains:
// finishInstance then reports a failed start.
func (s *Supervisor) becameRunning(p *Program) {
	if p.state != StateStarting || p.inst == nil || p.inst.status != nil {
		return
	}
	p.retries = 0
	s.setState(p, StateRunning, fmt.Sprintf("pid %d", p.inst.pid))
	s.armWatchdog(p)
	s.armHealth(p)
}

// startTimedOut: a ready=notify program sent no READY=1 in readytimeout; it
// is a failed start: stopped, then retried or FATAL.
func (s *Supervisor) startTimedOut(p *Program) {
	if p.state != StateStarting {
		return
	}
	p.lastError = s.notReadyText(p)
	if p.cfg.Ready == ReadyProbe {
		s.log.Warnf("%s: %s (readytimeout); stopping it", p.cfg.Name, p.lastError)
	} else {
		s.log.Warnf("%s: no READY=1 within readytimeout %s; stopping it", p.cfg.Name, p.cfg.ReadyTimeout)
	}
	p.intend(retry, nil)
	s.beginKill(p, false)
}

// stopProgram begins the stop sequence (STARTING/RUNNING -> STOPPING,
// BACKOFF -> STOPPED). core asks for SIGQUIT first where coredump is on.
func (s *Supervisor) stopProgram(p *Program, core bool) {
	switch p.state {
	case StateBackoff:
		if s.treeAlive(p) { // the last spawn's leftovers: stopped is when they are gone
			s.beginKill(p, core)
			return
		}
		s.stopped(p, "stopped while waiting to retry")
	case StateStarting, StateRunning:
		s.beginKill(p, core)
	}
}

func (s *Supervisor) beginKill(p *Program, core bool) {
	p.deadline.stop()
	s.disarmWatchdog(p)
	sigs := append([]syscall.Signal(nil), p.cfg.KillBy...)
	if core && p.cfg.CoreDump {
		sigs = append([]syscall.Signal{syscall.SIGQUIT}, sigs...)
	}
	if s.forced {
		sigs = nil
	}
	k := &killSequence{signals: sigs, step: p.cfg.StopTimeout, target: func() killTarget { return s.stopTarget(p) }}
	k.still = func() bool { return p.state == StateStopping && p.kill == k }
	p.kill = k
	s.setState(p, StateStopping, "")
	s.killStep(k)
}

// killStep sends the next signal of k to its target as it is now, and
// arms the step after.
func (s *Supervisor) killStep(k *killSequence) {
	sig := syscall.SIGKILL
	if len(k.signals) > 0 {
		sig, k.signals = k.signals[0], k.signals[1:]
	}
	k.last = sig
	s.signal(k.target(), sig)
	s.nextKillStep(k, k.step)
}

// nextKillStep arms k's next step d from now (a step, or the delay an
// EXTEND_TIMEOUT_USEC asked for); it comes only while k is still wanted.
func (s *Supervisor) nextKillStep(k *killSequence, d time.Duration) {
	s.arm(&k.next, d, func() {
		s.checkTrees() // a group may have emptied without a reap of ours
		if k.still() {
			s.log.Warnf("%s: still running %s after %s", k.target().name, d, signalName(k.last))
			s.killStep(k)
		}
	})
}

func (p *Program) pid() int {
	if p.inst != nil && p.inst.status == nil {
		return p.inst.pid
	}
	return 0
}

// reaped is the reaper's report of one child's end.
func (s *Supervisor) reaped(pid int, ws syscall.WaitStatus) {
	inst := s.byPid[pid]
	if inst == nil {
		s.log.Debugf("reaped pid %d (%s), not a program's main process", pid, describeWait(ws))
		s.checkTrees()
		return
	}
	delete(s.byPid, pid)
	st := &exitStatus{uptime: time.Since(inst.started)}
	if ws.Signaled() {
		st.signal, st.core = ws.Signal(), ws.CoreDump()
	} else {
		st.code = ws.ExitStatus()
	}
	inst.status = st
	if p := inst.prog; p.inst == inst && p.state == StateStopping {
		s.stopEscapees(p)
	}
	if inst.readers == 0 {
		s.finishInstance(inst)
		return
	}
	s.arm(&inst.drainWait, outputDrainMax, func() {
		if !inst.finished {
			s.log.Warnf("%s: pid %d exited but its output stays open (a process it started keeps the pipe); going on without waiting, later output still reaches the log", inst.prog.cfg.Name, inst.pid)
			s.finishInstance(inst)
		}
	})
}

// readerDone is called when one of an instance's output pipes reached EOF.
func (s *Supervisor) readerDone(inst *instance) {
	inst.readers--
	if inst.readers > 0 {
		return
	}
	if inst.status != nil && !inst.finished {
		s.finishInstance(inst)
	}
	s.dropLogs(inst.logs)
}

// finishInstance writes the EXITED banner (after every byte of output) and
// moves the program on.
func (s *Supervisor) finishInstance(inst *instance) {
	inst.finished = true
	inst.drainWait.stop()
	p, st := inst.prog, inst.status
	if p.cfg.LogBanners {
		inst.logs.banner(fmt.Sprintf("-=[ %s EXITED on %s with status %s, pid: %d ]=-\n",
			p.cfg.Name, time.Now().Format("2006-01-02 15:04:05"), bannerStatus(st), inst.pid))
	}
	if p.inst != inst {
		return
	}
	p.inst = nil
	p.lastExit = st
	s.afterExit(p, inst, st)
}

func bannerStatus(st *exitStatus) string {
	if st.signal != 0 {
		return signalName(st.signal)
	}
	return fmt.Sprint(st.code)
}

// afterExit is the state machine's answer to the exit of inst, p's main process.
func (s *Supervisor) afterExit(p *Program, inst *instance, st *exitStatus) {
	name := p.cfg.Name
	s.disarmWatchdog(p)
	if !groupAlive(p.pgid) {
		s.guard.remove(p.pgid)
	}
	desc := fmt.Sprintf("%s after %s", st, roundDuration(st.uptime))
	switch p.state {
	case StateStopping:
		if !s.treeAlive(p) {
			s.stopped(p, desc)
			return
		}
		// The kill sequence goes on; checkTrees finishes it.
		if p.cg == nil {
			s.log.Infof("%s: main process exited (%s); waiting for the rest of its process group %d", name, st, p.pgid)
			return
		}
		s.log.Infof("%s: main process exited (%s); waiting for the rest of its cgroup %s", name, st, p.cg.dir)
	case StateStarting:
		p.deadline.stop()
		s.handleLeftovers(p, inst)
		if p.lastError == "" {
			p.lastError = "exited too quickly: " + desc
		}
		s.failedStart(p)
	case StateRunning:
		p.deadline.stop()
		s.handleLeftovers(p, inst)
		expected := p.cfg.exitExpected(st)
		restart := p.cfg.AutoRestart == RestartYes || (p.cfg.AutoRestart == RestartUnexpected && !expected)
		if s.quitting {
			restart = false
		}
		if !restart {
			if expected {
				s.setState(p, StateStopped, "exited: "+desc)
			} else {
				p.lastError = "exited: " + desc
				s.setState(p, StateFatal, p.lastError)
			}
			s.endedForGood(p)
			return
		}
		s.restartSoon(p, st.uptime, fmt.Sprintf("exited (%s)", desc), "exited: "+desc)
	}
}

// restartSoon restarts p after a run of uptime ended: at once, or, when it
// keeps dying within quickDeathTime of its start, from BACKOFF after the
// exponential delay. said is what the server log says ended the run, why
// what status says.
func (s *Supervisor) restartSoon(p *Program, uptime time.Duration, said, why string) {
	if uptime >= quickDeathTime {
		p.quick = 0
	}
	p.quick++
	p.restarts++
	if p.quick == 1 {
		s.log.Infof("%s: %s; restarting", p.cfg.Name, said)
		s.startProgram(p)
		return
	}
	delay := backoffDelay(p.quick - 1)
	p.lastError = fmt.Sprintf("%s; died quickly %d times in a row, restart in %s", why, p.quick, delay)
	s.setState(p, StateBackoff, p.lastError)
	s.arm(&p.deadline, delay, func() { s.retry(p) })
}

// failedStart: the program did not reach RUNNING; retry with backoff while
// autorestart is on and retries remain, else FATAL.
func (s *Supervisor) failedStart(p *Program) {
	if p.cfg.AutoRestart == RestartNo || s.quitting {
		s.setState(p, StateFatal, p.lastError)
		s.endedForGood(p)
		return
	}
	p.retries++
	if p.retries > p.cfg.StartRetries {
		p.lastError = fmt.Sprintf("%s; gave up after %d retries", p.lastError, p.cfg.StartRetries)
		s.setState(p, StateFatal, p.lastError)
		s.endedForGood(p)
		return
	}
	delay := backoffDelay(p.retries)
	s.setState(p, StateBackoff, fmt.Sprintf("%s; retry %d/%d in %s", p.lastError, p.retries, p.cfg.StartRetries, delay))
	s.arm(&p.deadline, delay, func() { s.retry(p) })
}

// retry is the BACKOFF timer's end.
func (s *Supervisor) retry(p *Program) {
	if p.state == StateBackoff {
		s.startProgram(p)
	}
}

// stopped: p's stop is over, nothing of it runs any more. Its after-stop
// intent, read here and nowhere else, says what comes next.
func (s *Supervisor) stopped(p *Program, desc string) {
	if p.kill != nil {
		p.kill.next.stop()
		p.kill = nil
	}
	p.deadline.stop()
	in := p.intent
	p.intent = stopIntent{}
	if s.quitting && (in.then == restart || in.then == heal) {
		in.then = settle
	}
	switch in.then {
	case retry: // it never became ready
		s.failedStart(p)
		return
	case restart:
		p.restarts++
		s.log.Infof("%s: stopped after its watchdog expired (%s); starting it again", p.cfg.Name, desc)
		s.startProgram(p)
		return
	case heal:
		s.restartUnhealthy(p, desc)
		return
	}
	s.setState(p, StateStopped, desc)
	switch in.then {
	case replace:
		s.replaceConfig(p, in.next)
		if p.state == StateStopped && !s.quitting {
			s.startProgram(p)
		}
	case forget:
		s.forget(p)
	}
}

func backoffDelay(n int) time.Duration {
	d := backoffFirst
	for i := 1; i < n && d < backoffMax; i++ {
		d *= 2
	}
	return min(d, backoffMax)
}

// exitExpected: the exit code is in exitcodes (a signal never is).
func (pc *ProgramConfig) exitExpected(st *exitStatus) bool {
	if st.signal != 0 {
		return false
	}
	for _, c := range pc.ExitCodes {
		if c == st.code {
			return true
		}
	}
	return false
}

// endedForGood is called when a program ended without a restart coming:
// FATAL, or STOPPED after exiting by itself. An essential program then stops
// the server, which exits with the program's exit code (128+signal).
func (s *Supervisor) endedForGood(p *Program) {
	if !p.cfg.Essential || s.quitting {
		return
	}
	code := 1 // FATAL without an exit status: it could not be started
	if p.lastExit != nil {
		code = p.lastExit.essentialCode()
	}
	s.log.Errorf("%s: essential program ended (%s); stopping the server with exit code %d", p.cfg.Name, p.state, code)
	s.shutdown(code)
}

// shutdown stops every program in reverse priority order, then the loop
// ends. It is idempotent; a second call while stopping escalates to SIGKILL.
func (s *Supervisor) shutdown(code int) {
	if s.quitting {
		return
	}
	s.quitting = true
	s.exitCode = code
	s.tellServiceManager("STOPPING=1")
	s.log.Infof("server: stopping all programs")
	seq := newSequence(s, "stop", s.order, seqOptions{}, nil)
	s.runSequence(seq)
}

// escalate: a second SIGTERM/SIGINT while stopping sends SIGKILL to all.
func (s *Supervisor) escalate() {
	s.forced = true
	s.log.Warnf("server: asked again to stop; sending SIGKILL to every program")
	for _, p := range s.order {
		if p.state == StateStopping || p.state == StateRunning || p.state == StateStarting {
			s.signal(s.stopTarget(p), syscall.SIGKILL)
		}
		if p.state == StateBackoff {
			s.stopProgram(p, false)
		}
	}
	for _, lo := range s.left {
		s.signal(lo.target(), syscall.SIGKILL)
	}
	if s.sweep != nil && !s.sweep.late {
		s.sweep.late = true
		s.sweep.relist(s)
	}
}

// allQuiet: while quitting, nothing runs any more and no sequence waits.
func (s *Supervisor) allQuiet() bool {
	if len(s.seqs) > 0 {
		return false
	}
	for _, p := range s.order {
		if p.state.running() || (p.inst != nil && !p.inst.finished) {
			return false
		}
	}
	return true
}

// finishShutdown kills whatever is left of the programs' groups and
// cgroups (without cgroups, sweepOrphans stopped what was reparented here),
// then closes the logs.
func (s *Supervisor) finishShutdown() {
	for _, p := range s.order {
		if groupAlive(p.pgid) {
			s.signal(killTarget{name: p.cfg.Name, group: true, pgid: p.pgid}, syscall.SIGKILL)
		}
	}
	for _, lo := range s.left {
		s.signal(lo.target(), syscall.SIGKILL)
	}
	if s.cg != nil {
		if err := s.cg.killAll(); err != nil {
			s.log.Errorf("server: cannot kill what is left in cgroup %s: %v", s.cg.base, err)
		}
	}
	s.guard.close()
	for _, p := range s.order {
		s.dropLogs(p.logs) // closed off the loop; runServer waits for them (closeLogsAtExit)
	}
	if s.exitCode == 0 {
		var fatal []string
		for _, p := range s.order {
			if p.state == StateFatal {
				fatal = append(fatal, p.cfg.Name)
			}
		}
		switch {
		case len(fatal) > 0:
			s.exitCode = 1
			s.log.Warnf("server: %s FATAL when the server stopped", strings.Join(fatal, ", "))
		case s.forced:
			s.exitCode = 1
			s.log.Warnf("server: the stop was forced with SIGKILL")
		}
	}
	s.log.Infof("server: all programs stopped; exiting with status %d", s.exitCode)
}

// forget removes a program that reload took out of the configuration.
func (s *Supervisor) forget(p *Program) {
	if s.progs[p.cfg.Name] == p { // a reload may have added a program of that name meanwhile
		delete(s.progs, p.cfg.Name)
	}
	for i, q := range s.order {
		if q == p {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
	s.dropLogs(p.logs)
	p.logs = nil
	s.log.Infof("%s: removed from the configuration", p.cfg.Name)
}

// replaceConfig gives a stopped program its new configuration.
func (s *Supervisor) replaceConfig(p *Program, pc *ProgramConfig) {
	if pc.Err != nil || pc.Disabled { // it cannot run: its logs close; else the next start takes them over (logsOf)
		s.dropLogs(p.logs)
		p.logs = nil
	}
	p.cfg = pc
	p.retries, p.quick = 0, 0
	switch {
	case pc.Err != nil:
		p.lastError = pc.Err.Error()
		s.setState(p, StateCfgError, "configuration error:\n"+indent(p.lastError))
	case pc.Disabled:
		s.setState(p, StateDisabled, "")
	case p.state == StateCfgError || p.state == StateDisabled:
		s.setState(p, StateStopped, "")
	}
}

// byPriority groups programs by priority (as prio tells it), highest
// first (the start order).
func byPriority(progs []*Program, prio func(*Program) int) [][]*Program {
	sorted := append([]*Program(nil), progs...)
	sort.SliceStable(sorted, func(i, j int) bool { return prio(sorted[i]) > prio(sorted[j]) })
	var groups [][]*Program
	for i, p := range sorted {
		if i == 0 || prio(p) != prio(sorted[i-1]) {
			groups = append(groups, nil)
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], p)
	}
	return groups
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond)
	case d < time.Minute:
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}

func describeWait(ws syscall.WaitStatus) string {
	if ws.Signaled() {
		return "killed by " + signalName(ws.Signal())
	}
	return fmt.Sprintf("exit status %d", ws.ExitStatus())
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
