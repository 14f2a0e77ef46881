//go:build unix

// Tests of admission on a scripted listener: the limits per peer and per
// listener (root and the server's uid pass the latter), places given back on
// Close, accept errors ridden out with a doubling backoff and logged once
// per streak, and the streak logger's summaries.
package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// scriptedListener hands out what its script says, then reports closed.
type scriptedListener struct {
	mu     sync.Mutex
	script []any // net.Conn or error
}

func (s *scriptedListener) Accept() (net.Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.script) == 0 {
		return nil, net.ErrClosed
	}
	next := s.script[0]
	s.script = s.script[1:]
	if err, ok := next.(error); ok {
		return nil, err
	}
	return next.(net.Conn), nil
}

func (s *scriptedListener) Close() error   { return nil }
func (s *scriptedListener) Addr() net.Addr { return &net.TCPAddr{} }

// peerConn is a connection whose peer the test decides.
type peerConn struct {
	net.Conn
	peer   peerIdentity
	closed bool
}

func (c *peerConn) Close() error { c.closed = true; return nil }

func newPeerConn(peer peerIdentity) *peerConn {
	end, _ := net.Pipe() // deadlines work on it; nothing is written
	return &peerConn{Conn: end, peer: peer}
}

// recordedLog collects log lines.
type recordedLog struct {
	mu    sync.Mutex
	lines []string
}

func (r *recordedLog) logf(level LogLevel, format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, fmt.Sprintf("%s %s", level, fmt.Sprintf(format, args...)))
}

func (r *recordedLog) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines...)
}

func uidPeer(uid int) peerIdentity {
	return peerIdentity{uid: uid, where: "test", key: fmt.Sprintf("uid %d", uid)}
}

func newScriptedAdmit(script ...any) (*admitListener, *recordedLog, *[]string) {
	log := &recordedLog{}
	var refusals []string
	l := newAdmitListener(&scriptedListener{script: script}, "tcp://test", newLogStreaks(log.logf), func(c net.Conn, why string) {
		refusals = append(refusals, why)
	})
	l.identify = func(c net.Conn) peerIdentity { return c.(*peerConn).peer }
	return l, log, &refusals
}

func TestAdmitPerPeerLimit(t *testing.T) {
	t.Parallel()
	var script []any
	for range maxConnsPerPeer + 3 {
		script = append(script, newPeerConn(uidPeer(1001)))
	}
	owner := newPeerConn(uidPeer(os.Geteuid()))
	script = append(script, owner)
	l, log, refusals := newScriptedAdmit(script...)
	var admitted []net.Conn
	for range maxConnsPerPeer {
		c, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		admitted = append(admitted, c)
	}
	// The next three of uid 1001 are refused (closed, told why); the owner's gets in.
	c, err := l.Accept()
	if err != nil || c.(*admittedConn).Conn != owner {
		t.Fatalf("after %d of uid 1001: %v, %v; want the owner's connection", maxConnsPerPeer, c, err)
	}
	for i, s := range script[maxConnsPerPeer : maxConnsPerPeer+3] {
		if !s.(*peerConn).closed {
			t.Errorf("connection %d of uid 1001 over the limit is open", maxConnsPerPeer+i)
		}
	}
	want := fmt.Sprintf("too many connections: uid 1001 has %d open, the limit per peer; close some and try again", maxConnsPerPeer)
	if len(*refusals) != 3 || (*refusals)[0] != want {
		t.Errorf("refusals: %q; want 3 of %q", *refusals, want)
	}
	if lines := log.all(); len(lines) != 1 || !strings.Contains(lines[0], "refused a connection on tcp://test from test uid 1001") {
		t.Errorf("log: %q; want one line for the streak of refusals", lines)
	}
	// A place given back is taken again; closing twice gives back one.
	admitted[0].Close()
	admitted[0].Close()
	if got := l.admit(uidPeer(1001)); got != "" {
		t.Errorf("after a close: %q; want admitted", got)
	}
	if got := l.admit(uidPeer(1001)); got == "" {
		t.Errorf("a second admission after one close: admitted")
	}
}

func TestAdmitListenerLimitSparesTrustedPeers(t *testing.T) {
	t.Parallel()
	l, _, _ := newScriptedAdmit()
	for uid := 2000; uid < 2000+maxConnsPerListener; uid++ {
		if why := l.admit(uidPeer(uid)); why != "" {
			t.Fatalf("uid %d: %s", uid, why)
		}
	}
	if why := l.admit(uidPeer(9999)); !strings.Contains(why, fmt.Sprintf("%d connections of other peers are open", maxConnsPerListener)) {
		t.Errorf("one more of another uid: %q; want the listener's limit", why)
	}
	if why := l.admit(peerIdentity{uid: -1, err: errors.New("gone"), key: "unverified"}); why == "" {
		t.Errorf("an unverified peer beyond the listener's limit: admitted")
	}
	for _, uid := range []int{0, os.Geteuid()} {
		if why := l.admit(uidPeer(uid)); why != "" {
			t.Errorf("uid %d beyond the listener's limit: %q; want admitted", uid, why)
		}
	}
	l.release(uidPeer(2000))
	if why := l.admit(uidPeer(9999)); why != "" {
		t.Errorf("after one left: %q; want admitted", why)
	}
}

// TestAdmitAcceptErrorsAreNotFatal: EMFILE and friends pause the listener
// with a doubling backoff (bounded), are logged once, and the next
// connection is served.
func TestAdmitAcceptErrorsAreNotFatal(t *testing.T) {
	t.Parallel()
	emfile := &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	script := []any{}
	for range 12 {
		script = append(script, emfile)
	}
	conn := newPeerConn(uidPeer(os.Geteuid()))
	script = append(script, &net.OpError{Op: "accept", Err: os.NewSyscallError("accept4", syscall.ECONNABORTED)}, conn)
	l, log, _ := newScriptedAdmit(script...)
	var pauses []time.Duration
	l.sleep = func(d time.Duration) error { pauses = append(pauses, d); return nil }
	c, err := l.Accept()
	if err != nil || c.(*admittedConn).Conn != conn {
		t.Fatalf("Accept after errors: %v, %v; want the connection", c, err)
	}
	want := []time.Duration{5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000, 1000}
	if len(pauses) != 13 {
		t.Fatalf("pauses %v; want one per error", pauses)
	}
	for i, ms := range want {
		if pauses[i] != ms*time.Millisecond {
			t.Errorf("pause %d: %v; want %v", i, pauses[i], ms*time.Millisecond)
		}
	}
	lines := log.all()
	if len(lines) != 1 || !strings.Contains(lines[0], "accept on tcp://test: accept4: too many open files; retrying") {
		t.Errorf("log: %q; want one line for the streak", lines)
	}
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept on a closed listener: %v; want net.ErrClosed", err)
	}
	// A pause that fails (the listener is being closed) ends Accept.
	l, _, _ = newScriptedAdmit(emfile, conn)
	l.sleep = func(time.Duration) error { return net.ErrClosed }
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept whose pause failed: %v", err)
	}
}

func TestLogStreaks(t *testing.T) {
	t.Parallel()
	log := &recordedLog{}
	ls := newLogStreaks(log.logf)
	ls.window = 50 * time.Millisecond
	for i := range 5 {
		ls.event("a", LevelWarning, fmt.Sprintf("event a%d", i))
	}
	ls.event("b", LevelError, "event b0")
	if got := log.all(); len(got) != 2 || !strings.HasPrefix(got[0], "WARNING event a0 (") || !strings.HasPrefix(got[1], "ERROR event b0") {
		t.Fatalf("first lines: %q; want the first of each kind at once", got)
	}
	waitFor(t, "the summary of streak a", 10*time.Second, func() bool { return len(log.all()) >= 3 })
	if got := log.all()[2]; got != "WARNING 4 more like this in the last 50ms; the latest: event a4" {
		t.Errorf("summary: %q", got)
	}
	waitFor(t, "both streaks to end", 10*time.Second, func() bool {
		ls.mu.Lock()
		defer ls.mu.Unlock()
		return len(ls.open) == 0
	})
	if got := log.all(); len(got) != 3 {
		t.Errorf("lines: %q; want no summary for a streak without repeats", got)
	}
	ls.event("a", LevelWarning, "event a again")
	if got := log.all(); len(got) != 4 || !strings.HasPrefix(got[3], "WARNING event a again") {
		t.Errorf("after the streak ended: %q; want the next event logged at once", got)
	}
	// Beyond maxStreakKeys kinds, new kinds share one streak.
	many := &recordedLog{}
	ls = newLogStreaks(many.logf)
	ls.window = time.Hour
	for i := range maxStreakKeys + 10 {
		ls.event(fmt.Sprintf("k%d", i), LevelInfo, "many")
	}
	if n := len(many.all()); n != maxStreakKeys+1 {
		t.Errorf("%d lines for %d kinds; want one per tracked kind and one for the rest", n, maxStreakKeys+10)
	}
}
