// Admission of connections on every listener Ramona serves (the control
// channel and the web frontend). Each peer is identified when its
// connection is accepted, before anything is read from it (peer_linux.go);
// limits per listener and per peer bound what one client can hold; an
// accept error (EMFILE, ENFILE, ...) is retried with a backoff and never
// ends a listener; refusals and errors are logged once per streak.
package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"
)

const (
	// maxConnsPerListener bounds the connections of one listener whose
	// peer is not root or the server's uid (those are admitted beyond it, so
	// that others cannot lock the operator out).
	maxConnsPerListener = 256
	// maxConnsPerPeer bounds the connections of one uid (or, for a peer
	// whose uid cannot be known, one remote address).
	maxConnsPerPeer = 64
	// After a failed accept the listener pauses acceptBackoffMin, doubling
	// up to acceptBackoffMax while accept keeps failing.
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
	// streakWindow is how long a streak of refusals or errors is summed up
	// before one line reports how many more there were.
	streakWindow = time.Minute
	// maxStreakKeys bounds the kinds of streaks tracked at once.
	maxStreakKeys = 1024
)

// peerIdentity is who is at the other end of a connection, as far as the
// kernel said when it was accepted.
type peerIdentity struct {
	uid   int    // -1 when unknown
	where string // "pid 12" for a unix peer, else its address "127.0.0.1:4711"
	err   error  // why uid is unknown where it must be known (unix, loopback tcp)
	key   string // the budget it counts against: "uid N", "address IP" or "unverified"
}

// desc describes the peer for messages and `who`: "pid 12 uid 0",
// "127.0.0.1:4711 uid 0", "10.0.0.2:4711".
func (p peerIdentity) desc() string {
	if p.uid < 0 {
		return p.where
	}
	return fmt.Sprintf("%s uid %d", p.where, p.uid)
}

// trusted: the peer is root or runs as the same uid as this process.
func (p peerIdentity) trusted() bool {
	return p.err == nil && (p.uid == 0 || (p.uid > 0 && p.uid == os.Geteuid()))
}

// identifyPeer asks the kernel who is at the other end of conn: the
// credentials of a unix socket's peer, the owner of a loopback TCP peer's
// socket. A TCP peer elsewhere has no uid; it counts by its address.
func identifyPeer(conn net.Conn) peerIdentity {
	switch c := conn.(type) {
	case *net.UnixConn:
		uid, pid, err := unixPeerUID(c)
		if err != nil {
			return peerIdentity{uid: -1, where: "unix peer", err: err, key: "unverified"}
		}
		return peerIdentity{uid: uid, where: fmt.Sprintf("pid %d", pid), key: fmt.Sprintf("uid %d", uid)}
	case *net.TCPConn:
		remote, _ := c.RemoteAddr().(*net.TCPAddr)
		if remote == nil || !remote.IP.IsLoopback() {
			return peerIdentity{uid: -1, where: c.RemoteAddr().String(), err: errors.New("not a loopback peer"), key: "address " + hostOf(c.RemoteAddr())}
		}
		uid, err := loopbackPeerUID(c)
		if err != nil {
			return peerIdentity{uid: -1, where: remote.String(), err: err, key: "unverified"}
		}
		return peerIdentity{uid: uid, where: remote.String(), key: fmt.Sprintf("uid %d", uid)}
	}
	return peerIdentity{uid: -1, where: conn.RemoteAddr().String(), err: fmt.Errorf("unexpected connection type %T", conn), key: "unverified"}
}

func hostOf(a net.Addr) string {
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// admitListener wraps a listener: its Accept identifies each peer, refuses
// connections beyond the limits (refuse tells the peer why, best effort),
// and rides out accept errors. It returns only admitted connections, or an
// error once the listener is closed.
type admitListener struct {
	net.Listener
	name      string                    // the listen URI, for messages
	logPrefix string                    // who speaks in the log: "server", or the web frontend's name
	refuse    func(net.Conn, string)    // writes a short refusal; nil: just close
	streaks   *logStreaks               // shared by the listeners of one server
	sleep     func(time.Duration) error // pauses after an accept error; an error ends Accept (tests)
	identify  func(net.Conn) peerIdentity

	mu        sync.Mutex // guards the counts
	perPeer   map[string]int
	untrusted int
}

func newAdmitListener(l net.Listener, name string, streaks *logStreaks, refuse func(net.Conn, string)) *admitListener {
	return &admitListener{Listener: l, name: name, logPrefix: "server", refuse: refuse, streaks: streaks, perPeer: map[string]int{},
		sleep: func(d time.Duration) error { time.Sleep(d); return nil }, identify: identifyPeer}
}

// Accept returns the next admitted connection.
func (l *admitListener) Accept() (net.Conn, error) {
	backoff := time.Duration(0)
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil, err
			}
			// EMFILE, ENFILE, ENOBUFS, ENOMEM, ECONNABORTED ...: the listener
			// itself is fine; wait a little and take the next one.
			backoff = min(max(2*backoff, acceptBackoffMin), acceptBackoffMax)
			l.streaks.event("accept "+l.name, LevelError, fmt.Sprintf("%s: accept on %s: %v; retrying", l.logPrefix, l.name, acceptErrorText(err)))
			if err := l.sleep(backoff); err != nil {
				return nil, err
			}
			continue
		}
		backoff = 0
		peer := l.identify(conn)
		if why := l.admit(peer); why != "" {
			l.streaks.event("limit "+l.name+" "+peer.key, LevelWarning, fmt.Sprintf("%s: refused a connection on %s from %s: %s", l.logPrefix, l.name, peer.desc(), why))
			if l.refuse != nil {
				drainReadable(conn)
				conn.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
				l.refuse(conn, "too many connections: "+why+"; close some and try again")
			}
			conn.Close()
			continue
		}
		return &admittedConn{Conn: conn, peer: peer, l: l}, nil
	}
}

// acceptErrorText is an accept error without Go's wrapping ("accept4: too
// many open files").
func acceptErrorText(err error) string {
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Error()
	}
	return err.Error()
}

// admit counts the connection in, or says why it is over a limit.
func (l *admitListener) admit(peer peerIdentity) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := l.perPeer[peer.key]; n >= maxConnsPerPeer {
		return fmt.Sprintf("%s has %d open, the limit per peer", peer.key, n)
	}
	if !peer.trusted() {
		if l.untrusted >= maxConnsPerListener {
			return fmt.Sprintf("%d connections of other peers are open, the limit of this listener", l.untrusted)
		}
		l.untrusted++
	}
	l.perPeer[peer.key]++
	return ""
}

func (l *admitListener) release(peer peerIdentity) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !peer.trusted() {
		l.untrusted--
	}
	if l.perPeer[peer.key]--; l.perPeer[peer.key] <= 0 {
		delete(l.perPeer, peer.key)
	}
}

// admittedConn is a connection admitted by an admitListener, with its peer;
// Close gives its place back.
type admittedConn struct {
	net.Conn
	peer peerIdentity
	l    *admitListener
	once sync.Once
}

func (c *admittedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.peer) })
	return err
}

// connPeer is the identity of an admitted connection, also under TLS.
func connPeer(conn net.Conn) (peerIdentity, bool) {
	if tc, ok := conn.(interface{ NetConn() net.Conn }); ok {
		conn = tc.NetConn()
	}
	ac, ok := conn.(*admittedConn)
	if !ok {
		return peerIdentity{}, false
	}
	return ac.peer, true
}

// logStreaks logs the first event of each kind at once; further events of
// that kind are counted, and while they go on one line per streakWindow says
// how many there were. A flood of refusals or accept errors costs the log a
// few lines, not one per event, and none is lost from the count.
type logStreaks struct {
	logf   func(level LogLevel, format string, args ...any)
	window time.Duration

	mu   sync.Mutex // guards open
	open map[string]*logStreak
}

type logStreak struct {
	level LogLevel
	count int    // events since the last line
	last  string // the latest event's message
}

func newLogStreaks(logf func(level LogLevel, format string, args ...any)) *logStreaks {
	return &logStreaks{logf: logf, window: streakWindow, open: map[string]*logStreak{}}
}

// event reports one event of kind key; msg is its complete log line.
func (ls *logStreaks) event(key string, level LogLevel, msg string) {
	ls.mu.Lock()
	if _, ok := ls.open[key]; !ok && len(ls.open) >= maxStreakKeys {
		key = "other" // beyond the bound, every new kind shares one streak
	}
	if st := ls.open[key]; st != nil {
		st.count++
		st.last = msg
		ls.mu.Unlock()
		return
	}
	ls.open[key] = &logStreak{level: level}
	ls.mu.Unlock()
	ls.logf(level, "%s (repeats are counted: at most one line a minute)", msg)
	time.AfterFunc(ls.window, func() { ls.summarize(key) }) // ends after one summary
}

// summarize ends a streak that saw no event during the last window, or
// logs how many there were and watches the next window.
func (ls *logStreaks) summarize(key string) {
	ls.mu.Lock()
	st := ls.open[key]
	if st.count == 0 {
		delete(ls.open, key)
		ls.mu.Unlock()
		return
	}
	n, last, level := st.count, st.last, st.level
	st.count = 0
	ls.mu.Unlock()
	ls.logf(level, "%d more like this in the last %v; the latest: %s", n, ls.window, last)
	time.AfterFunc(ls.window, func() { ls.summarize(key) }) // ends after one summary
}
