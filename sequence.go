// Start and stop sequences: programs in priority groups (highest first to
// start, the reverse to stop); each group waits until its members settled
// (RUNNING or failed; stopped) before the next begins. Dependencies
// (depends.go) add to that: a start brings in the dependencies that do not
// run, a stop the dependents that do; within a group a program starts once
// its dependencies run, and stops once its dependents stopped. A sequence
// reports every state change of its programs as progress lines and ends
// with an exit code: 0, or 1 when any program failed. Runs on the
// supervisor's loop.
package main

import (
	"fmt"
	"slices"
	"strings"
)

type seqOptions struct {
	force bool // start FATAL programs too
	core  bool // stop with SIGQUIT first where coredump is on
}

type phase struct {
	stop   bool
	groups [][]*Program
	set    map[*Program]bool // every program of the phase
}

type sequence struct {
	phases    []phase
	opts      seqOptions
	phaseIdx  int
	groupIdx  int
	pending   map[*Program]bool // started (or stopped) and not settled yet
	blocked   []*Program        // of the current group: waiting for dependencies (start) or dependents (stop)
	settled   map[*Program]bool // of the current phase: done with, whatever the outcome
	failures  []string
	advancing bool
	done      bool
	sink      *replySink // progress lines and the final reply; nil for none
	finished  func(exit int, failures []string)
	report    string // non-empty: what to call the sequence when notifying its failures
	requester string // who asked for it, for that notification
}

// newSequence prepares kind "start", "stop" or "restart" over progs, with
// the dependencies a start needs and the dependents a stop must stop first.
func newSequence(s *Supervisor, kind string, progs []*Program, opts seqOptions, sink *replySink) *sequence {
	q := &sequence{opts: opts, sink: sink, pending: map[*Program]bool{}, settled: map[*Program]bool{}}
	switch kind {
	case "start":
		q.phases = []phase{s.newPhase(false, q.withDependencies(s, progs))}
	case "stop":
		q.phases = []phase{s.newPhase(true, q.withDependents(s, progs))}
	case "restart":
		stop := q.withDependents(s, progs)
		q.phases = []phase{s.newPhase(true, stop), s.newPhase(false, q.withDependencies(s, stop))}
	}
	return q
}

func (s *Supervisor) newPhase(stop bool, progs []*Program) phase {
	ph := phase{stop: stop, groups: s.byStartOrder(progs), set: map[*Program]bool{}}
	if stop {
		slices.Reverse(ph.groups)
	}
	for _, p := range progs {
		ph.set[p] = true
	}
	return ph
}

// withDependencies is progs and, transitively, the dependencies they need
// started first: those not RUNNING that could be started.
func (q *sequence) withDependencies(s *Supervisor, progs []*Program) []*Program {
	return closure(progs, func(p *Program) []*Program {
		var need []*Program
		for _, d := range s.dependencies(p) {
			if d.state != StateRunning && d.state != StateDisabled && d.state != StateCfgError {
				need = append(need, d)
			}
		}
		return need
	}, func(d, by *Program) {
		q.say(s, "%s: %s, starting it first: %s depends on it", d.cfg.Name, d.state, by.cfg.Name)
	})
}

// withDependents is progs and, transitively, the running programs that
// depend on them, which stop first.
func (q *sequence) withDependents(s *Supervisor, progs []*Program) []*Program {
	return closure(progs, func(p *Program) []*Program {
		var need []*Program
		for _, d := range s.dependents(p) {
			if d.state.running() {
				need = append(need, d)
			}
		}
		return need
	}, func(d, by *Program) {
		q.say(s, "%s: stopping it first: it depends on %s", d.cfg.Name, by.cfg.Name)
	})
}

// runSequence starts q on the loop.
func (s *Supervisor) runSequence(q *sequence) {
	s.seqs = append(s.seqs, q)
	q.advance(s)
}

func (q *sequence) progress(format string, args ...any) {
	if q.sink != nil {
		q.sink.progress(fmt.Sprintf(format, args...))
	}
}

// say is progress that also goes to the server log.
func (q *sequence) say(s *Supervisor, format string, args ...any) {
	s.log.Infof(format, args...)
	q.progress(format, args...)
}

// advance starts (stops) what can be started (stopped) until it has to wait
// for a state change, or ends q. A call while it runs (a state change that
// a start caused at once) returns at once: the running call sees the change.
func (q *sequence) advance(s *Supervisor) {
	if q.advancing || q.done {
		return
	}
	q.advancing = true
	defer func() { q.advancing = false }()
	for {
		if q.unblock(s) {
			continue
		}
		if len(q.pending) > 0 || len(q.blocked) > 0 {
			return
		}
		if q.phaseIdx >= len(q.phases) {
			q.finish(s)
			return
		}
		ph := q.phases[q.phaseIdx]
		if q.groupIdx >= len(ph.groups) {
			q.phaseIdx++
			q.groupIdx = 0
			q.settled = map[*Program]bool{}
			continue
		}
		q.blocked = slices.Clone(ph.groups[q.groupIdx])
		q.groupIdx++
	}
}

// unblock takes the first program of the current group that need not wait
// any more and starts or stops it (or fails it: a dependency failed); true
// when it took one.
func (q *sequence) unblock(s *Supervisor) bool {
	if q.phaseIdx >= len(q.phases) {
		return false
	}
	ph := q.phases[q.phaseIdx]
	for i, p := range q.blocked {
		var wait bool
		why := ""
		if ph.stop {
			wait = q.dependentsRun(s, ph, p)
		} else {
			wait, why = q.dependenciesDown(s, ph, p)
		}
		if wait {
			continue
		}
		q.blocked = slices.Delete(q.blocked, i, i+1)
		switch {
		case why != "":
			q.fail("%s: not started: %s", p.cfg.Name, why)
		case ph.stop:
			q.stopOne(s, p)
		default:
			q.startOne(s, p)
		}
		if !q.pending[p] {
			q.settled[p] = true
		}
		return true
	}
	return false
}

// dependenciesDown tells whether p must wait for its dependencies before it
// is started, or why it cannot start at all (a dependency failed). Only a
// program that would be spawned waits.
func (q *sequence) dependenciesDown(s *Supervisor, ph phase, p *Program) (wait bool, why string) {
	if p.state != StateStopped && !(p.state == StateFatal && q.opts.force) {
		return false, ""
	}
	for _, d := range s.dependencies(p) {
		switch {
		case d.state == StateRunning:
		case ph.set[d] && !q.settled[d], d.state == StateStarting, d.state == StateBackoff:
			wait = true
		default:
			why = fmt.Sprintf("it depends on %s, which is %s", d.cfg.Name, d.state)
			if d.lastError != "" && (d.state == StateFatal || d.state == StateCfgError) {
				why += " (" + firstLine(d.lastError) + ")"
			}
			return false, why
		}
	}
	return wait, ""
}

// dependentsRun tells whether p must wait for dependents of this phase that
// have not stopped yet.
func (q *sequence) dependentsRun(s *Supervisor, ph phase, p *Program) bool {
	for _, d := range s.dependents(p) {
		if ph.set[d] && !q.settled[d] {
			return true
		}
	}
	return false
}

func (q *sequence) startOne(s *Supervisor, p *Program) {
	name := p.cfg.Name
	if s.quitting {
		q.fail("%s: not started, the server is stopping", name)
		return
	}
	switch p.state {
	case StateRunning:
		q.progress("%s: already RUNNING (pid %d)", name, p.pid())
	case StateStarting, StateBackoff:
		q.pending[p] = true
		q.progress("%s: %s, waiting", name, p.state)
	case StateStopped:
		q.pending[p] = true
		p.retries, p.quick = 0, 0 // a start on request counts afresh
		p.probe.afresh()
		s.startProgram(p)
	case StateFatal:
		if !q.opts.force {
			q.fail("%s: FATAL (%s); `start -f` starts it anyway", name, p.lastError)
			return
		}
		q.pending[p] = true
		p.retries, p.quick = 0, 0
		p.probe.afresh()
		s.startProgram(p)
	case StateStopping:
		q.fail("%s: is STOPPING; start it again once it stopped", name)
	case StateDisabled:
		q.fail("%s: is disabled in the configuration", name)
	case StateCfgError:
		q.fail("%s: CFGERROR:\n%s", name, indent(p.lastError))
	}
}

func (q *sequence) stopOne(s *Supervisor, p *Program) {
	if !p.state.running() {
		if p.state == StateStopped {
			q.progress("%s: already STOPPED", p.cfg.Name)
		} else {
			q.progress("%s: not running (%s); nothing to stop", p.cfg.Name, p.state)
		}
		return
	}
	q.pending[p] = true
	if !s.quitting { // at shutdown, a failed start still ends FATAL
		p.stopAsked()
	}
	if p.state != StateStopping {
		s.stopProgram(p, q.opts.core)
	} else {
		q.progress("%s: STOPPING, waiting", p.cfg.Name)
	}
}

func (q *sequence) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	q.failures = append(q.failures, msg)
	q.progress("%s", msg)
}

// changed is told of every state change; it reports the ones of programs
// this sequence waits for and moves on when they settled, or when a
// program it holds back may go.
func (q *sequence) changed(s *Supervisor, p *Program, detail string) {
	if q.done {
		return
	}
	if q.pending[p] {
		stopping := q.phaseIdx < len(q.phases) && q.phases[q.phaseIdx].stop
		line := fmt.Sprintf("%s: %s", p.cfg.Name, p.state)
		if detail != "" {
			line += " (" + detail + ")"
		}
		settled, failed := false, false
		switch {
		case stopping:
			settled = !p.state.running()
		case p.state == StateRunning:
			settled = true
		case p.state == StateFatal, p.state == StateStopped, p.state == StateCfgError, p.state == StateDisabled:
			settled, failed = true, true
		}
		if failed {
			q.failures = append(q.failures, line)
		}
		q.progress("%s", line)
		if !settled {
			return
		}
		delete(q.pending, p)
		q.settled[p] = true
	} else if len(q.blocked) == 0 {
		return
	}
	q.advance(s)
}

func (q *sequence) finish(s *Supervisor) {
	q.done = true
	if i := slices.Index(s.seqs, q); i >= 0 {
		s.seqs = slices.Delete(s.seqs, i, i+1)
	}
	q.phaseIdx = len(q.phases)
	exit := 0
	if len(q.failures) > 0 {
		exit = 1
	}
	if q.finished != nil {
		q.finished(exit, q.failures)
	}
	if exit != 0 && q.report != "" {
		s.notifySequence(q.report, q.requester, q.failures)
	}
	if q.sink != nil {
		errText := ""
		if exit != 0 {
			errText = fmt.Sprintf("%d program(s) failed:\n%s", len(q.failures), indent(strings.Join(q.failures, "\n")))
		}
		q.sink.done(reply{Exit: exit, Error: errText})
	}
}

// dropFromSequences drops p from every waiting sequence (it was removed).
func (s *Supervisor) dropFromSequences(p *Program) {
	for _, q := range slices.Clone(s.seqs) {
		if i := slices.Index(q.blocked, p); i >= 0 {
			q.blocked = slices.Delete(q.blocked, i, i+1)
		}
		if q.pending[p] || q.phaseIdx < len(q.phases) && q.phases[q.phaseIdx].set[p] {
			delete(q.pending, p)
			q.settled[p] = true
			q.advance(s)
		}
	}
}

// runRequested runs a sequence a client asked for. With nowait (-i) the
// client gets its answer as soon as the first group has been started: what
// failed at once (CFGERROR, disabled, FATAL without -f, a spawn failure) is
// in it; later changes go only to the server log.
func (s *Supervisor) runRequested(q *sequence, sink *replySink, nowait bool) {
	s.runSequence(q)
	if !nowait || q.done {
		return
	}
	q.sink = nil
	if len(q.failures) == 0 {
		sink.done(reply{})
		return
	}
	sink.done(reply{Exit: exitFailed, Error: fmt.Sprintf("%d program(s) failed at once:\n%s", len(q.failures), indent(strings.Join(q.failures, "\n")))})
}

func describeScope(names []string) string {
	if len(names) == 0 {
		return "(all)"
	}
	return strings.Join(names, " ")
}

// serveSequence answers start, restart and stop on the loop: the programs
// named, or those the command means without names, in a sequence whose
// progress lines go to the client. stop without names (and without -S)
// stops the server too.
func (s *Supervisor) serveSequence(c *clientConn, req request, sink *replySink) {
	progs, err := s.resolveNames(req.Names)
	if err != nil {
		sink.done(reply{Exit: exitUsage, Error: err.Error()})
		return
	}
	scope, requester := describeScope(req.Names), fmt.Sprintf("%s (%s)", c.transport, c.peer)
	s.log.Infof("server: %s %s requested by %s", req.Cmd, scope, requester)
	opts := seqOptions{force: req.Flags.Force, core: req.Flags.Core}
	if len(req.Names) == 0 {
		if req.Cmd == "stop" && !req.Flags.KeepServer {
			s.quitting = true
			s.tellServiceManager("STOPPING=1")
			s.runRequested(newSequence(s, "stop", s.order, opts, sink), sink, req.Flags.NoWait)
			return
		}
		progs = s.scopeOf(req.Cmd)
		if len(progs) == 0 {
			sink.progress(nothingToDo[req.Cmd])
		}
	}
	q := newSequence(s, req.Cmd, progs, opts, sink)
	q.report, q.requester = req.Cmd+" "+scope, requester
	s.runRequested(q, sink, req.Flags.NoWait)
}

// scopeOf is what start, restart or stop means without names: for start
// every enabled autostart program, for restart every enabled program that
// runs or has autostart, for stop (with -S) all.
func (s *Supervisor) scopeOf(cmd string) []*Program {
	var progs []*Program
	for _, p := range s.order {
		switch {
		case cmd == "stop":
		case p.state == StateDisabled:
			continue
		case cmd == "start" && !p.cfg.AutoStart:
			continue
		case cmd == "restart" && !p.cfg.AutoStart && !p.state.running():
			continue
		}
		progs = append(progs, p)
	}
	return progs
}

// nothingToDo is what a sequence without names says when its scope is empty.
var nothingToDo = map[string]string{
	"start":   "nothing to start: no enabled program has autostart (name the programs to start)",
	"restart": "nothing to restart: no enabled program runs or has autostart",
	"stop":    "nothing to stop: the configuration has no programs",
}
