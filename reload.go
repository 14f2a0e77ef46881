// Reload's one path: SIGHUP and `ramona reload` both ask the reloader,
// which reads the configuration off the loop, one load at a time, and has
// the loop apply each load before the next begins. Requests that arrive
// while a load is under way are served together by the next load, which
// starts after they came: the configuration applied last is always the
// newest on disk, whatever the order in which loads finish.
package main

import (
	"fmt"
	"net"
	"reflect"
	"strings"
	"sync"
)

// reloadRequest is one ask for a reload: a client's (its replies go to
// sink) or SIGHUP's (sink nil: only the server log hears the outcome).
type reloadRequest struct {
	sink *replySink
}

// reloader serializes reloads; any goroutine may ask.
type reloader struct {
	mu      sync.Mutex // guards the fields below
	pending []reloadRequest
	busy    bool // a goroutine runs reloads
}

// requestReload queues a reload; it never blocks.
func (s *Supervisor) requestReload(req reloadRequest) {
	r := &s.reloads
	r.mu.Lock()
	r.pending = append(r.pending, req)
	start := !r.busy
	r.busy = true
	r.mu.Unlock()
	if start {
		go s.runReloads() // ends when no request waits, or when the server has stopped
	}
}

// runReloads loads and applies until no request waits: each load serves
// every request queued before it began, and the loop has applied it before
// the next load begins.
func (s *Supervisor) runReloads() {
	r := &s.reloads
	for {
		r.mu.Lock()
		batch := r.pending
		r.pending = nil
		if len(batch) == 0 {
			r.busy = false
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
		cfg, err := s.loadFiles()
		applied := make(chan struct{})
		s.post(func() {
			s.applyReload(cfg, err, batch)
			close(applied)
		})
		select {
		case <-applied:
		case <-s.done: // the clients hear that the server stopped
			return
		}
	}
}

// applyReload answers one load's requests on the loop: the configuration
// errors, or what reload did.
func (s *Supervisor) applyReload(cfg *Config, err error, batch []reloadRequest) {
	sinks := make(replySinks, 0, len(batch))
	for _, req := range batch {
		if req.sink != nil {
			sinks = append(sinks, req.sink)
		}
	}
	if err != nil {
		s.log.Errorf("server: reload: the configuration has errors; nothing was changed:\n%s", indent(err.Error()))
		sinks.done(reply{Exit: exitUsage, Error: "the configuration has errors; nothing was changed:\n" + err.Error()})
		return
	}
	s.reload(cfg, sinks)
}

// replyTo is where a handler's replies go: one client's sink, or several.
type replyTo interface {
	progress(line string)
	done(rep reply)
}

// replySinks answers several requests alike: reloads served by one load.
type replySinks []*replySink

func (rs replySinks) progress(line string) {
	for _, r := range rs {
		r.progress(line)
	}
}

func (rs replySinks) done(rep reply) {
	for _, r := range rs {
		r.done(rep)
	}
}

// reload applies a freshly loaded configuration: new programs are added
// (and started when autostart), removed ones stopped and forgotten, changed
// ones stopped and started with their new configuration. Its phases: what
// changed (diff) and the server log, the programs changed (applyPrograms),
// what the client is told (reportReload), then the added programs' start.
func (s *Supervisor) reload(cfg *Config, sink replyTo) {
	if s.quitting {
		s.log.Warnf("server: reload ignored: the server is stopping every program to exit")
		sink.done(reply{Exit: exitFailed, Error: "the server is stopping every program to exit; nothing was reloaded"})
		return
	}
	cfg.Origin = s.cfg.Origin
	added, removed, changed := diff(s.cfg, cfg)
	logConfigSources(s.log, cfg)
	if !sameServerSettings(s.cfg, cfg) {
		s.log.Warnf("server: [ramona:server] changes (consoleuri, pidfile, log, cgroup) take effect at the next server start")
	}
	for _, w := range cfg.Warnings {
		s.log.Warnf("config: %s", w)
	}
	s.log.Infof("server: reload: added %v, removed %v, changed %v", added, removed, changed)
	if s.mailer != nil && !reflect.DeepEqual(s.cfg.Notify, cfg.Notify) {
		s.mailer.reconfigure(cfg.Notify)
	}
	newByName := map[string]*ProgramConfig{}
	for _, pc := range cfg.Programs {
		newByName[pc.Name] = pc
	}
	s.cfg = cfg
	toStart := s.applyPrograms(added, removed, changed, newByName)
	s.reportReload(sink, added, removed, changed, newByName, toStart)
}

// applyPrograms forgets the removed programs (once stopped), replaces the
// changed ones' configuration (once stopped), adds the new ones, and keeps
// the configuration's order; it returns the added programs to start.
func (s *Supervisor) applyPrograms(added, removed, changed []string, newByName map[string]*ProgramConfig) (toStart []*Program) {
	for _, name := range removed {
		p := s.progs[name]
		p.intend(forget, nil)
		s.dropFromSequences(p)
		if p.state.running() {
			s.stopProgram(p, false)
		} else {
			s.forget(p)
		}
	}
	for _, name := range changed {
		p := s.progs[name]
		if p.state.running() {
			p.intend(replace, newByName[name])
			s.stopProgram(p, false)
			continue
		}
		s.replaceConfig(p, newByName[name])
	}
	for _, name := range added {
		p := s.addProgram(newByName[name])
		if p.state == StateStopped && p.cfg.AutoStart {
			toStart = append(toStart, p)
		}
	}
	// keep the configuration's order for the programs that stay
	order := make([]*Program, 0, len(s.order))
	for _, pc := range s.cfg.Programs {
		if p := s.progs[pc.Name]; p != nil {
			order = append(order, p)
		}
	}
	for _, p := range s.order {
		if p.intent.then == forget {
			order = append(order, p)
		}
	}
	s.order = order
	for _, p := range s.order {
		p.logs.reopen()
	}
	return toStart
}

// reportReload tells the client what the reload changed, starts the added
// autostart programs, and answers: exit 2 when a program it added or
// changed is in CFGERROR (the rest was applied).
func (s *Supervisor) reportReload(sink replyTo, added, removed, changed []string, newByName map[string]*ProgramConfig, toStart []*Program) {
	for _, w := range s.cfg.Warnings {
		sink.progress("warning: " + w.Error())
	}
	sink.progress(fmt.Sprintf("reloaded: %d added, %d removed, %d changed", len(added), len(removed), len(changed)))
	for _, n := range added {
		sink.progress("  added: " + n)
	}
	for _, n := range removed {
		sink.progress("  removed: " + n)
	}
	for _, n := range changed {
		sink.progress("  changed: " + n)
	}
	if len(toStart) > 0 {
		s.runSequence(newSequence(s, "start", toStart, seqOptions{}, nil))
	}
	// What this reload added or changed into CFGERROR (the rest applies).
	var broken, errs []string
	for _, name := range append(added, changed...) {
		if err := newByName[name].Err; err != nil {
			broken, errs = append(broken, name), append(errs, err.Error())
		}
	}
	if len(broken) > 0 {
		verb := "ends"
		if len(broken) > 1 {
			verb = "end"
		}
		sink.done(reply{Exit: exitUsage, Error: fmt.Sprintf("reload applied, but %s %s in CFGERROR:\n%s",
			strings.Join(broken, ", "), verb, indent(strings.Join(errs, "\n")))})
		return
	}
	sink.done(reply{})
}

func sameServerSettings(a, b *Config) bool {
	return fmt.Sprint(a.Server) == fmt.Sprint(b.Server)
}

// serveReload answers `reload` on the connection's goroutine: the request
// goes to the reloader, the replies come when its load was applied.
func (cs *ctlServer) serveReload(conn net.Conn, c *clientConn, req request) bool {
	cs.s.log.Infof("server: reload requested by %s (%s)", c.transport, c.peer)
	sink := newReplySink()
	cs.s.requestReload(reloadRequest{sink: sink})
	return cs.writeReplies(conn, req.ID, sink)
}
