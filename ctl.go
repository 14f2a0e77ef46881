// Both ends of the control channel: the server's listeners (unix sockets
// with a mode, stale-socket recovery, loopback tcp, tls; admission and the
// peer's identity in admit.go), one goroutine per connection that checks the
// peer, reads requests and writes replies under deadlines, the request
// handlers that run on the supervisor's loop, and the client the command
// line uses. Frames and the handshake are in ctlwire.go.
package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

const (
	handshakeTimeout = 10 * time.Second
	dialTimeout      = 5 * time.Second
	sinkMaxItems     = 10000 // progress lines kept for a client that does not read
	// refusalTimeout is how long a refused peer's hello is awaited, so that
	// the refusal reaches it (closing with its hello unread would reset).
	refusalTimeout = time.Second
	// replyWriteTimeout bounds every write to a client: one that does not
	// read its replies or its tail -f stream is dropped.
	replyWriteTimeout = 30 * time.Second
	// idleTimeout bounds the wait for a client's next request.
	idleTimeout = 5 * time.Minute
	// tailFrameBytes is the most output one tail frame carries.
	tailFrameBytes = 64 << 10
)

// listenControl opens one control listener; its connections are admitted
// (identified, counted, refused beyond the limits) by an admitListener.
func listenControl(u SocketURI, streaks *logStreaks) (net.Listener, error) {
	var l net.Listener
	var err error
	switch u.Scheme {
	case "unix":
		l, err = listenUnix(u)
	case "tcp":
		l, err = net.Listen("tcp", u.Addr)
	case "tls":
		cfg, cerr := serverTLSConfig(u)
		if cerr != nil {
			return nil, cerr
		}
		if l, err = net.Listen("tcp", u.Addr); err != nil {
			return nil, err
		}
		// Below TLS a refusal can only close: the client expects a handshake.
		return tls.NewListener(newAdmitListener(l, u.String(), streaks, nil), cfg), nil
	default:
		return nil, fmt.Errorf("%s: unknown scheme", u)
	}
	if err != nil {
		return nil, err
	}
	return newAdmitListener(l, u.String(), streaks, refuseWithHello), nil
}

// refuseWithHello tells a client why it is refused, in the hello it waits for.
func refuseWithHello(conn net.Conn, why string) {
	refuseClient(conn, hello{Magic: helloMagic, Version: protocolVersion}, errors.New("the server refused this connection: "+why))
}

// listenUnix binds a unix socket, replacing the file of a crashed server
// but refusing to take over a live one.
func listenUnix(u SocketURI) (net.Listener, error) {
	path := u.Path
	if !strings.HasPrefix(path, "@") {
		if len(path) > 107 {
			return nil, fmt.Errorf("%s: the socket path is %d bytes long and unix sockets allow 107; set a shorter consoleuri (e.g. unix:///run/APP.sock)", u, len(path))
		}
		if fi, err := os.Lstat(path); err == nil {
			if fi.Mode()&os.ModeSocket == 0 {
				return nil, fmt.Errorf("%s: %s exists and is not a socket; remove it or choose another consoleuri", u, path)
			}
			if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
				c.SetDeadline(time.Now().Add(2 * time.Second))
				h, herr := clientHandshake(c)
				c.Close()
				if herr == nil {
					return nil, fmt.Errorf("%s: another Ramona server (pid %d) is already running on this socket; stop it first (ramona stop) or use another consoleuri", u, h.PID)
				}
				return nil, fmt.Errorf("%s: something else is listening on this socket; stop it or use another consoleuri", u)
			}
			if err := os.Remove(path); err != nil {
				return nil, fmt.Errorf("%s: cannot remove the stale socket of a crashed server: %v", u, err)
			}
		}
	}
	// Listeners are made before any other goroutine of the server creates
	// files, as listenUnixMode needs.
	l, err := listenUnixMode(path, u.Mode)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", u, err)
	}
	return l, nil
}

// clientConn is one connected client, as `who` shows it.
type clientConn struct {
	id        int
	transport string
	peer      string
	since     time.Time
}

// peerCheck accepts a unix or loopback tcp peer only with the server's uid
// or root, as the kernel identified it when the connection was accepted (a
// peer it could not identify is refused), and a TLS peer only with a client
// certificate the CA signed; it describes the peer for `who`.
func peerCheck(conn net.Conn) (string, error) {
	if c, ok := conn.(*tls.Conn); ok {
		return tlsPeer(c)
	}
	peer, ok := connPeer(conn)
	switch {
	case !ok:
		return "", fmt.Errorf("unexpected connection type %T", conn)
	case peer.err != nil:
		return "", peer.err
	case !peer.trusted():
		return "", fmt.Errorf("peer %s has uid %d, neither root nor the server's uid %d", peer.where, peer.uid, os.Geteuid())
	}
	return peer.desc(), nil
}

// ctlServer accepts and serves control connections.
type ctlServer struct {
	s            *Supervisor
	version      string
	listeners    []net.Listener
	streaks      *logStreaks   // refusals and accept errors, logged once per streak
	writeTimeout time.Duration // replyWriteTimeout; tests shorten it
	idleTimeout  time.Duration // idleTimeout; tests shorten it
	closing      atomic.Bool   // set by close before it wakes the connections
	mu           sync.Mutex    // guards conns and nextID
	conns        map[net.Conn]bool
	nextID       int
	wg           sync.WaitGroup
}

func newCtlServer(version string, log *serverLog) *ctlServer {
	return &ctlServer{version: version, conns: map[net.Conn]bool{}, streaks: newLogStreaks(log.logf),
		writeTimeout: replyWriteTimeout, idleTimeout: idleTimeout}
}

// serve accepts connections on l (an admitting listener, which rides out
// accept errors itself) until l is closed.
func (cs *ctlServer) serve(l net.Listener, transport string) {
	for {
		conn, err := l.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				cs.s.log.Errorf("server: accept on %s: %v; this listener stops", l.Addr(), err)
			}
			return
		}
		cs.mu.Lock()
		cs.conns[conn] = true
		cs.nextID++
		id := cs.nextID
		cs.mu.Unlock()
		cs.wg.Add(1)
		go cs.serveConn(conn, transport, id) // ends when the client hangs up or the server exits
	}
}

// close stops accepting, wakes connections waiting for a request, and
// waits (bounded) for the others to deliver their last replies.
func (cs *ctlServer) close() {
	cs.closing.Store(true)
	for _, l := range cs.listeners {
		l.Close()
	}
	cs.mu.Lock()
	for c := range cs.conns {
		c.SetReadDeadline(time.Now())
	}
	cs.mu.Unlock()
	done := make(chan struct{})
	go func() { cs.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
	}
}

func (cs *ctlServer) serveConn(conn net.Conn, transport string, id int) {
	defer cs.wg.Done()
	defer func() {
		cs.mu.Lock()
		delete(cs.conns, conn)
		cs.mu.Unlock()
		conn.Close()
	}()
	s := cs.s
	peer, err := peerCheck(conn)
	if err != nil {
		key, _ := connPeer(conn)
		cs.streaks.event("refuse "+transport+" "+key.key, LevelWarning, fmt.Sprintf("server: refused a %s connection: %v", transport, err))
		// Tell the client why, in the hello it waits for; read its own
		// hello first so that closing does not reset the connection.
		conn.SetDeadline(time.Now().Add(refusalTimeout))
		var theirs hello
		readFrame(conn, &theirs, maxRequestFrame)
		refuseClient(conn, hello{Magic: helloMagic, Version: protocolVersion, Server: cs.version}, fmt.Errorf("the server refused this connection: %v", err))
		return
	}
	conn.SetDeadline(time.Now().Add(handshakeTimeout))
	if err := serverHandshake(conn, cs.version, os.Getpid()); err != nil {
		s.log.Debugf("server: handshake with %s (%s) failed: %v", transport, peer, err)
		return
	}
	conn.SetDeadline(time.Time{})
	client := deadlineConn{Conn: conn, timeout: cs.writeTimeout}
	c := &clientConn{id: id, transport: transport, peer: peer, since: time.Now()}
	s.post(func() { s.clients[c] = true })
	defer s.post(func() { delete(s.clients, c) })
	for {
		var req request
		client.SetReadDeadline(time.Now().Add(cs.idleTimeout))
		if cs.closing.Load() { // close set its deadline before ours
			return
		}
		if err := readFrame(client, &req, maxRequestFrame); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && !cs.closing.Load() {
				s.log.Debugf("server: %s (%s) sent no request for %v, closing", transport, peer, cs.idleTimeout)
			}
			if isFrameFormatError(err) {
				s.log.Warnf("server: bad request from %s (%s), closing: %v", transport, peer, err)
			}
			return
		}
		client.SetReadDeadline(time.Time{})
		if !cs.handle(client, c, req) {
			return
		}
	}
}

// deadlineConn gives every write to a client a deadline: a client that stops
// reading is dropped after timeout instead of holding its connection's
// goroutine, and what it was to be sent, forever.
type deadlineConn struct {
	net.Conn
	timeout time.Duration
}

func (c deadlineConn) Write(p []byte) (int, error) {
	c.SetWriteDeadline(time.Now().Add(c.timeout))
	return c.Conn.Write(p)
}

// handle runs one request and writes its replies; false ends the connection.
func (cs *ctlServer) handle(conn net.Conn, c *clientConn, req request) bool {
	s := cs.s
	sink := newReplySink()
	switch req.Cmd {
	case "tail":
		return cs.tail(conn, req)
	case "reload":
		s.log.Infof("server: reload requested by %s (%s)", c.transport, c.peer)
		cfg, err := loadConfig(s.files, s.environ)
		if err != nil {
			sink.done(reply{Exit: 2, Error: "the configuration has errors; nothing was changed:\n" + err.Error()})
		} else {
			s.post(func() { s.reload(cfg, sink) })
		}
	case "check": // what reload would do, from the files it would read
		cfg, err := loadConfigReport(s.files, s.environ)
		s.post(func() { s.previewReload(cfg, err, sink) })
	default:
		s.post(func() { s.handle(c, req, sink) })
	}
	return cs.writeReplies(conn, req.ID, sink)
}

// writeReplies copies a request's replies to the client until the final one.
func (cs *ctlServer) writeReplies(conn net.Conn, id int64, sink *replySink) bool {
	for {
		items, ok := sink.wait(cs.s.done)
		if !ok {
			writeFrame(conn, reply{ID: id, Done: true, Exit: 1, Error: "the server is shutting down"}, maxReplyFrame)
			return false
		}
		for _, r := range items {
			r.ID = id
			if err := writeFrame(conn, r, maxReplyFrame); err != nil {
				return false
			}
			if r.Done {
				return true
			}
		}
	}
}

// replySink carries a request's replies from the loop to the connection
// without ever blocking the loop.
type replySink struct {
	mu      sync.Mutex
	items   []reply
	dropped int
	wake    chan struct{}
}

func newReplySink() *replySink { return &replySink{wake: make(chan struct{}, 1)} }

func (r *replySink) push(rep reply) {
	r.mu.Lock()
	if !rep.Done && len(r.items) >= sinkMaxItems {
		r.dropped++
	} else {
		r.items = append(r.items, rep)
	}
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *replySink) progress(line string) { r.push(reply{Progress: line}) }

func (r *replySink) done(rep reply) {
	rep.Done = true
	r.push(rep)
}

// wait returns the replies queued so far; false when the server ended first.
func (r *replySink) wait(serverDone <-chan struct{}) ([]reply, bool) {
	for {
		r.mu.Lock()
		items := r.items
		r.items = nil
		r.mu.Unlock()
		if len(items) > 0 {
			return items, true
		}
		select {
		case <-r.wake:
		case <-serverDone:
			r.mu.Lock()
			n := len(r.items)
			r.mu.Unlock()
			if n == 0 {
				return nil, false
			}
		}
	}
}

// programStatus is one line of `status` and one object of `status --json`.
// Error is the program's error and what keeps its logs from working (a
// refused file), one per line; it and StatusText are capped at
// statusTextMax.
type programStatus struct {
	Name       string  `json:"name"`
	Group      string  `json:"group"`
	State      string  `json:"state"`
	PID        int     `json:"pid"`
	Launches   int     `json:"launches"`
	Restarts   int     `json:"restarts"`
	Uptime     float64 `json:"uptime"`
	Exit       any     `json:"exit"`
	StatusText string  `json:"status_text"`
	Error      string  `json:"error,omitempty"`
	// With healthcheck=: "starting" (no verdict yet), "healthy" or
	// "unhealthy" and why (health.go); null without.
	Health       *string `json:"health"`
	HealthReason string  `json:"health_reason,omitempty"`
	Priority     int     `json:"priority"`
	LostBytes    int64   `json:"lost_bytes"`
	// The program's process tree (containment.go): CPU seconds since its
	// cgroup was made (without cgroups: of the processes alive now), and
	// resident memory now.
	CPUSeconds  float64 `json:"cpu_seconds"`
	MemoryBytes int64   `json:"memory_bytes"`
	Cgroup      string  `json:"cgroup,omitempty"`
}

func (s *Supervisor) status(p *Program) programStatus {
	st := programStatus{
		Name: p.cfg.Name, Group: p.cfg.Group, State: p.state.String(), PID: p.pid(), Launches: p.launches, Restarts: p.restarts,
		StatusText: p.statusText, Priority: p.cfg.Priority, LostBytes: p.logs.lost(),
	}
	if p.inst != nil && p.inst.status == nil && (p.state == StateRunning || p.state == StateStarting || p.state == StateStopping) {
		st.Uptime = time.Since(p.inst.started).Seconds()
	}
	if e := p.lastExit; e != nil && st.PID == 0 {
		if e.signal != 0 {
			st.Exit = signalName(e.signal)
		} else {
			st.Exit = e.code
		}
	}
	if p.state == StateFatal || p.state == StateCfgError || p.state == StateBackoff {
		st.Error = p.lastError
	}
	if p.cg != nil {
		st.Cgroup = p.cg.dir
	}
	if st.Health = p.healthField(); p.probe.health == healthUnhealthy {
		st.HealthReason = capText(p.probe.reason, statusTextMax)
	}
	st.Error = capText(joinLines(st.Error, p.logs.problem()), statusTextMax)
	st.StatusText = capText(st.StatusText, statusTextMax)
	return st
}

// resolveNames maps names, globs and GROUP:NAME patterns (selectPrograms)
// to programs, in the configuration's order; a pattern that matches nothing
// is an error listing the known names.
func (s *Supervisor) resolveNames(names []string) ([]*Program, error) {
	cfgs := make([]*ProgramConfig, len(s.order))
	for i, p := range s.order {
		cfgs[i] = p.cfg
	}
	chosen, err := selectPrograms(names, cfgs)
	if err != nil {
		return nil, err
	}
	progs := make([]*Program, 0, len(chosen))
	for _, pc := range chosen {
		progs = append(progs, s.progs[pc.Name])
	}
	return progs, nil
}

func namesOf(progs []*Program) []string {
	out := make([]string, len(progs))
	for i, p := range progs {
		out[i] = p.cfg.Name
	}
	return out
}

// handle runs a request on the loop; it answers through sink, at once or
// when a sequence has settled.
func (s *Supervisor) handle(c *clientConn, req request, sink *replySink) {
	progs, err := s.resolveNames(req.Names)
	if err != nil {
		sink.done(reply{Exit: 2, Error: err.Error()})
		return
	}
	all := len(req.Names) == 0
	if s.quitting && req.Cmd != "status" && req.Cmd != "who" {
		sink.done(reply{Exit: 1, Error: "the server is stopping every program to exit; try again after it started anew"})
		return
	}
	switch req.Cmd {
	case "status":
		if all {
			progs = s.order
		}
		list := make([]programStatus, 0, len(progs))
		queries := make([]usageQuery, 0, len(progs))
		exit := 0
		for _, p := range progs {
			list = append(list, s.status(p))
			queries = append(queries, s.usageQuery(p))
			if p.state != StateRunning && (!all || s.shouldRun(p)) {
				exit = 3
			}
		}
		// CPU and memory come from /proc and cgroup files: read off the loop.
		go func() { // ends once the files are read and the reply is queued
			fillUsage(list, readUsage(queries))
			data, _ := json.Marshal(list)
			sink.done(reply{Exit: exit, Result: data})
		}()
	case "start", "restart":
		if all {
			progs = nil
			for _, p := range s.order {
				if p.state == StateDisabled || (req.Cmd == "start" && !p.cfg.AutoStart) {
					continue
				}
				if req.Cmd == "restart" && !p.cfg.AutoStart && !p.state.running() {
					continue
				}
				progs = append(progs, p)
			}
		}
		s.log.Infof("server: %s %s requested by %s (%s)", req.Cmd, describeScope(req.Names), c.transport, c.peer)
		q := newSequence(s, req.Cmd, progs, seqOptions{force: req.Flags["force"]}, sink)
		q.report, q.requester = req.Cmd+" "+describeScope(req.Names), fmt.Sprintf("%s (%s)", c.transport, c.peer)
		s.runRequested(q, sink, req.Flags["nowait"])
	case "stop":
		s.log.Infof("server: stop %s requested by %s (%s)", describeScope(req.Names), c.transport, c.peer)
		opts := seqOptions{core: req.Flags["core"]}
		if all && !req.Flags["server"] {
			s.quitting = true
			s.tellServiceManager("STOPPING=1")
			s.runRequested(newSequence(s, "stop", s.order, opts, sink), sink, req.Flags["nowait"])
			return
		}
		if all {
			progs = s.order
		}
		q := newSequence(s, "stop", progs, opts, sink)
		q.report, q.requester = "stop "+describeScope(req.Names), fmt.Sprintf("%s (%s)", c.transport, c.peer)
		s.runRequested(q, sink, req.Flags["nowait"])
	case "who":
		var lines []string
		clients := make([]*clientConn, 0, len(s.clients))
		for cl := range s.clients {
			clients = append(clients, cl)
		}
		sort.Slice(clients, func(i, j int) bool { return clients[i].id < clients[j].id })
		for _, cl := range clients {
			mark := " "
			if cl == c {
				mark = "*"
			}
			lines = append(lines, fmt.Sprintf("%s %-5s %-28s connected %s (%s ago)", mark, cl.transport, cl.peer,
				cl.since.Format("2006-01-02 15:04:05"), roundDuration(time.Since(cl.since))))
		}
		data, _ := json.Marshal(lines)
		sink.done(reply{Result: data})
	case "notify":
		s.notifyRequest(c, req, sink)
	default:
		sink.done(reply{Exit: 2, Error: fmt.Sprintf("unknown command %q", req.Cmd)})
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

// shouldRun: a program that status without names expects to be RUNNING.
func (s *Supervisor) shouldRun(p *Program) bool {
	switch p.state {
	case StateDisabled:
		return false
	case StateStopped: // never started yet; stopped on request or after an expected exit is fine
		return p.cfg.AutoStart && p.launches == 0
	}
	return true
}

func describeScope(names []string) string {
	if len(names) == 0 {
		return "(all)"
	}
	return strings.Join(names, " ")
}

// reload applies a freshly loaded configuration: new programs are added
// (and started when autostart), removed ones stopped and forgotten, changed
// ones stopped and started with their new configuration.
func (s *Supervisor) reload(cfg *Config, sink *replySink) {
	if s.quitting {
		s.log.Warnf("server: reload ignored: the server is stopping every program to exit")
		sink.done(reply{Exit: 1, Error: "the server is stopping every program to exit; nothing was reloaded"})
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
	var toStart []*Program
	for _, name := range removed {
		p := s.progs[name]
		p.removed = true
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
			p.restartAs = newByName[name]
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
	for _, pc := range cfg.Programs {
		if p := s.progs[pc.Name]; p != nil {
			order = append(order, p)
		}
	}
	for _, p := range s.order {
		if p.removed {
			order = append(order, p)
		}
	}
	s.order = order
	for _, p := range s.order {
		p.logs.reopen()
	}
	var lines []string
	for _, w := range cfg.Warnings {
		lines = append(lines, "warning: "+w.Error())
	}
	summary := fmt.Sprintf("reloaded: %d added, %d removed, %d changed", len(added), len(removed), len(changed))
	lines = append(lines, summary)
	for _, l := range lines {
		sink.progress(l)
	}
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

// tail answers `tail`: the last lines of a stream, then (with -f) live
// output until the client hangs up.
func (cs *ctlServer) tail(conn net.Conn, req request) bool {
	s := cs.s
	type found struct {
		out  *outputStream
		err  error
		note string // said when nothing was logged
	}
	ch := make(chan found, 1)
	s.post(func() {
		if len(req.Names) != 1 {
			ch <- found{err: errors.New("tail needs exactly one program name")}
			return
		}
		progs, err := s.resolveNames(req.Names)
		if err == nil && len(progs) > 1 {
			err = fmt.Errorf("%s matches %d programs (%s); tail shows one", req.Names[0], len(progs), strings.Join(namesOf(progs), ", "))
		}
		if err != nil {
			ch <- found{err: err}
			return
		}
		p := progs[0]
		if p.logs == nil {
			p.logs = s.openProgramLogs(p.cfg)
		}
		note := fmt.Sprintf("%s: nothing logged yet on %s", p.cfg.Name, req.Stream)
		if p.launches == 0 {
			note = fmt.Sprintf("%s: nothing logged yet: it has not run since the server started (%s)", p.cfg.Name, p.state)
		}
		ch <- found{out: p.logs.stream(req.Stream), note: note}
	})
	var f found
	select {
	case f = <-ch:
	case <-s.done:
		return false
	}
	if f.err != nil {
		return writeFrame(conn, reply{ID: req.ID, Done: true, Exit: 2, Error: f.err.Error()}, maxReplyFrame) == nil
	}
	n := req.N
	if n <= 0 {
		n = 40
	}
	var follower *Follower
	if req.Flags["follow"] {
		follower = f.out.follow(followerMaxBytes) // attached before reading the tail: nothing falls between
		defer follower.Close()
	}
	text, cut := f.out.tailReader(n)
	if cut {
		note := fmt.Sprintf("tail: the last %d lines reach further back than %d MiB: this shows the last %d MiB, from a line start", n, tailMaxBytes>>20, tailMaxBytes>>20)
		if f.out.file != nil {
			note += "; the whole log is " + f.out.file.Path()
		}
		if err := writeFrame(conn, reply{ID: req.ID, Progress: note}, maxReplyFrame); err != nil {
			text.Close()
			return false
		}
	}
	buf := make([]byte, tailFrameBytes) // one for the whole session
	sent := &readCounter{r: text}
	err := sendData(conn, req.ID, sent, buf)
	text.Close()
	if err == nil && sent.n == 0 {
		err = writeFrame(conn, reply{ID: req.ID, Progress: f.note}, maxReplyFrame)
	}
	if err != nil {
		return false
	}
	if follower == nil {
		return writeFrame(conn, reply{ID: req.ID, Done: true}, maxReplyFrame) == nil
	}
	hangup := make(chan struct{})
	go func() { // ends when the client closes the connection or the server exits
		var b [1]byte
		conn.SetReadDeadline(time.Time{})
		conn.Read(b[:])
		close(hangup)
	}()
	for {
		select {
		case <-follower.Ready():
			chunks, open := follower.Take()
			for _, chunk := range chunks {
				if err := sendData(conn, req.ID, bytes.NewReader(chunk), buf); err != nil {
					return false
				}
			}
			if !open {
				msg, exit := "tail -f: stream closed", 1
				switch {
				case follower.Dropped():
					msg = fmt.Sprintf("tail -f: dropped: this client fell more than %d MiB behind the output", followerMaxBytes>>20)
				case s.stopping(): // the server closes every log before it exits
					msg, exit = "the server stopped", 4
				}
				writeFrame(conn, reply{ID: req.ID, Done: true, Exit: exit, Error: msg}, maxReplyFrame)
				return false
			}
		case <-hangup:
			return false
		case <-s.done:
			writeFrame(conn, reply{ID: req.ID, Done: true, Exit: 4, Error: "the server stopped"}, maxReplyFrame)
			return false
		}
	}
}

// utf8Cut is where to end a piece of b so that it does not end inside a
// UTF-8 sequence: len(b), or the start of an incomplete last sequence.
func utf8Cut(b []byte) int {
	for i := len(b) - 1; i > 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if utf8.FullRune(b[i:]) {
				return len(b)
			}
			return i
		}
	}
	return len(b) // not UTF-8 there: any cut will do
}

// sendData sends what r holds as Data frames of at most len(buf) bytes, each
// cut after a newline where the piece has one, else before a UTF-8
// sequence, so that no character is split between two frames (a frame's
// data is a JSON string).
func sendData(w io.Writer, id int64, r io.Reader, buf []byte) error {
	fill := 0
	for {
		n, err := io.ReadFull(r, buf[fill:])
		fill += n
		last := err != nil // EOF, or the end of what can be read
		if fill == 0 {
			return nil
		}
		cut := fill
		if !last {
			if i := bytes.LastIndexByte(buf[:fill], '\n'); i >= 0 {
				cut = i + 1
			} else {
				cut = utf8Cut(buf[:fill])
			}
		}
		if err := writeFrame(w, reply{ID: id, Data: string(buf[:cut])}, maxReplyFrame); err != nil {
			return err
		}
		fill = copy(buf, buf[cut:fill])
		if last && fill == 0 {
			return nil
		}
	}
}

// readCounter counts the bytes read through it.
type readCounter struct {
	r io.Reader
	n int64
}

func (c *readCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// stopping reports, from any goroutine, whether the server is stopping
// every program to exit, or has done so.
func (s *Supervisor) stopping() bool {
	ch := make(chan bool, 1)
	s.post(func() { ch <- s.quitting })
	select {
	case q := <-ch:
		return q
	case <-s.done:
		return true
	}
}

// ctlClient is the command line's end of a control connection.
type ctlClient struct {
	conn   net.Conn
	server hello
	nextID int64
}

// dialServer connects to the server and shakes hands.
func dialServer(u SocketURI) (*ctlClient, error) {
	var conn net.Conn
	var err error
	switch u.Scheme {
	case "unix":
		conn, err = net.DialTimeout("unix", u.Path, dialTimeout)
	case "tcp":
		conn, err = net.DialTimeout("tcp", u.Addr, dialTimeout)
	case "tls":
		cfg, cerr := clientTLSConfig(u)
		if cerr != nil {
			return nil, cerr
		}
		conn, err = tls.DialWithDialer(&net.Dialer{Timeout: dialTimeout}, "tcp", u.Addr, cfg)
		var unreachable *net.OpError
		if err != nil && !errors.As(err, &unreachable) {
			return nil, fmt.Errorf("%s: %v", u, err) // a TLS failure, not an absent server
		}
	default:
		return nil, fmt.Errorf("%s: unknown scheme", u)
	}
	if err != nil {
		return nil, &unreachableError{uri: u, err: err}
	}
	conn.SetDeadline(time.Now().Add(handshakeTimeout))
	h, err := clientHandshake(conn)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("%s: %v", u, err)
	}
	conn.SetDeadline(time.Time{})
	return &ctlClient{conn: conn, server: h}, nil
}

// unreachableError: nothing answers at the address (no server running).
type unreachableError struct {
	uri SocketURI
	err error
}

func (e *unreachableError) Error() string {
	return fmt.Sprintf("the server is not running or cannot be reached at %s: %v", e.uri, e.err)
}

// call sends req and passes every reply to each, returning the final one.
func (c *ctlClient) call(req request, each func(reply)) (reply, error) {
	c.nextID++
	req.ID = c.nextID
	if err := writeFrame(c.conn, req, maxRequestFrame); err != nil {
		return reply{}, err
	}
	for {
		var r reply
		if err := readFrame(c.conn, &r, maxReplyFrame); err != nil {
			return reply{}, err
		}
		if r.Done {
			return r, nil
		}
		if each != nil {
			each(r)
		}
	}
}

func (c *ctlClient) close() { c.conn.Close() }
