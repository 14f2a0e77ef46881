// Start and stop sequences: programs in priority groups (highest first to
// start, the reverse to stop); each group waits until its members settled
// (RUNNING or failed; stopped) before the next begins. A sequence reports
// every state change of its programs as progress lines and ends with an exit
// code: 0, or 1 when any program failed. Runs on the supervisor's loop.
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
}

type sequence struct {
	phases    []phase
	opts      seqOptions
	phaseIdx  int
	groupIdx  int
	pending   map[*Program]bool
	failures  []string
	advancing bool
	done      bool
	sink      *replySink // progress lines and the final reply; nil for none
	finished  func(exit int, failures []string)
	report    string // non-empty: what to call the sequence when notifying its failures
	requester string // who asked for it, for that notification
}

// newSequence prepares kind "start", "stop" or "restart" over progs.
func newSequence(s *Supervisor, kind string, progs []*Program, opts seqOptions, sink *replySink) *sequence {
	q := &sequence{opts: opts, sink: sink, pending: map[*Program]bool{}}
	groups := byPriority(progs)
	reversed := slices.Clone(groups)
	slices.Reverse(reversed)
	switch kind {
	case "start":
		q.phases = []phase{{groups: groups}}
	case "stop":
		q.phases = []phase{{stop: true, groups: reversed}}
	case "restart":
		q.phases = []phase{{stop: true, groups: reversed}, {groups: groups}}
	}
	return q
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

// advance starts groups until one has to be waited for, or ends q.
func (q *sequence) advance(s *Supervisor) {
	q.advancing = true
	defer func() { q.advancing = false }()
	for len(q.pending) == 0 {
		if q.phaseIdx >= len(q.phases) {
			q.finish(s)
			return
		}
		ph := q.phases[q.phaseIdx]
		if q.groupIdx >= len(ph.groups) {
			q.phaseIdx++
			q.groupIdx = 0
			continue
		}
		group := ph.groups[q.groupIdx]
		q.groupIdx++
		for _, p := range group {
			if ph.stop {
				q.stopOne(s, p)
			} else {
				q.startOne(s, p)
			}
		}
	}
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
		s.startProgram(p)
	case StateFatal:
		if !q.opts.force {
			q.fail("%s: FATAL (%s); `start -f` starts it anyway", name, p.lastError)
			return
		}
		q.pending[p] = true
		p.retries, p.quick = 0, 0
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
// this sequence waits for and moves on when their group has settled.
func (q *sequence) changed(s *Supervisor, p *Program, detail string) {
	if q.done || !q.pending[p] {
		return
	}
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
	if settled {
		delete(q.pending, p)
		if len(q.pending) == 0 && !q.advancing {
			q.advance(s)
		}
	}
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

// forgetProgram drops p from every waiting sequence (it was removed).
func (s *Supervisor) dropFromSequences(p *Program) {
	for _, q := range slices.Clone(s.seqs) {
		if q.pending[p] {
			delete(q.pending, p)
			if len(q.pending) == 0 && !q.advancing {
				q.advance(s)
			}
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
