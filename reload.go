// Reload's one path: SIGHUP and `ramona reload` both ask the reloader,
// which reads the configuration off the loop, one load at a time, and has
// the loop apply each load before the next begins. Requests that arrive
// while a load is under way are served together by the next load, which
// starts after they came: the configuration applied last is always the
// newest on disk, whatever the order in which loads finish.
package main

import "sync"

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
