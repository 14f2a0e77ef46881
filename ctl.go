// Both ends of the control channel: the server's listeners (unix sockets
// with a mode, stale-socket recovery, loopback tcp, tls; admission and the
// peer's identity in admit.go), one goroutine per connection that checks the
// peer, reads requests and writes replies under deadlines, the dispatch of
// each request to its handler through the command table (verbs.go: on the
// loop, or on the connection's goroutine), and the client the command line
// uses. Frames and the handshake are in ctlwire.go; the handlers live beside
// the state they read or change.
package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
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
	s.log.queue.sync() // what a client sees is in the log already: the server's start, here
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

// handle runs one request and writes its replies; false ends the
// connection. The command table says where: on this goroutine, or on the
// loop.
func (cs *ctlServer) handle(conn net.Conn, c *clientConn, req request) bool {
	if v := verbNamed(req.Cmd); v != nil && v.offLoop != nil {
		return v.offLoop(cs, conn, c, req)
	}
	sink := newReplySink()
	cs.s.post(func() { cs.s.handle(c, req, sink) })
	return cs.writeReplies(conn, req.ID, sink)
}

// writeReplies copies a request's replies to the client until the final one.
func (cs *ctlServer) writeReplies(conn net.Conn, id int64, sink *replySink) bool {
	for {
		items, ok := sink.wait(cs.s.done)
		cs.s.log.queue.sync() // what the client is told is in the log already
		if !ok {
			writeFrame(conn, reply{ID: id, Done: true, Exit: exitFailed, Error: "the server is shutting down"}, maxReplyFrame)
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
