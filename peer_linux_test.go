// Tests of the kernel's answers about a connection's peer: the sock_diag
// request and reply codecs on fixed bytes, the checks on a reported socket,
// and real lookups of loopback peers over IPv4, IPv6 and v4-mapped IPv6.
package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestInetDiagRequest(t *testing.T) {
	t.Parallel()
	local := &net.TCPAddr{IP: net.ParseIP("127.0.0.2"), Port: 40000}
	remote := &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 5555}
	b, err := inetDiagRequest(local, remote, 7)
	if err != nil {
		t.Fatal(err)
	}
	ne := binary.NativeEndian
	if len(b) != 72 || ne.Uint32(b[0:]) != 72 || ne.Uint16(b[4:]) != 20 || ne.Uint16(b[6:]) != syscall.NLM_F_REQUEST || ne.Uint32(b[8:]) != 7 {
		t.Fatalf("header: % x", b[:16])
	}
	q := b[16:]
	if q[0] != syscall.AF_INET || q[1] != syscall.IPPROTO_TCP || ne.Uint32(q[4:]) != ^uint32(0) {
		t.Errorf("request: % x", q[:8])
	}
	id := q[8:]
	if binary.BigEndian.Uint16(id[0:]) != 40000 || binary.BigEndian.Uint16(id[2:]) != 5555 {
		t.Errorf("ports: % x", id[:4])
	}
	if string(id[4:8]) != "\x7f\x00\x00\x02" || string(id[20:24]) != "\x7f\x00\x00\x01" {
		t.Errorf("addresses: % x", id[4:36])
	}
	if ne.Uint32(id[40:]) != ^uint32(0) || ne.Uint32(id[44:]) != ^uint32(0) {
		t.Errorf("cookie: % x; want INET_DIAG_NOCOOKIE", id[40:48])
	}

	b, err = inetDiagRequest(&net.TCPAddr{IP: net.IPv6loopback, Port: 1}, &net.TCPAddr{IP: net.IPv6loopback, Port: 2}, 8)
	if err != nil || b[16] != syscall.AF_INET6 || net.IP(b[16+8+4:16+8+20]).String() != "::1" || net.IP(b[16+8+20:16+8+36]).String() != "::1" {
		t.Errorf("IPv6 request: % x, %v", b, err)
	}
	if _, err := inetDiagRequest(&net.TCPAddr{Port: 1}, remote, 9); err == nil {
		t.Errorf("a request without a local address: no error")
	}
}

// diagMessage builds a netlink message as the kernel sends it.
func diagMessage(typ uint16, seq uint32, body []byte) []byte {
	b := make([]byte, 16, 16+len(body)+3)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(16+len(body)))
	ne.PutUint16(b[4:], typ)
	ne.PutUint32(b[8:], seq)
	b = append(b, body...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// diagSocket is an inet_diag_msg body.
func diagSocket(family, state uint8, local, remote net.IP, lport, rport int, uid uint32) []byte {
	b := make([]byte, 72)
	b[0], b[1] = family, state
	binary.BigEndian.PutUint16(b[4:], uint16(lport))
	binary.BigEndian.PutUint16(b[6:], uint16(rport))
	if family == syscall.AF_INET {
		copy(b[8:], local.To4())
		copy(b[24:], remote.To4())
	} else {
		copy(b[8:], local.To16())
		copy(b[24:], remote.To16())
	}
	binary.NativeEndian.PutUint32(b[64:], uid)
	binary.NativeEndian.PutUint32(b[68:], 4242)
	return b
}

func diagError(errno syscall.Errno) []byte {
	b := make([]byte, 20) // the error and the request's header
	binary.NativeEndian.PutUint32(b, uint32(-int32(errno)))
	return b
}

func TestParseInetDiagReply(t *testing.T) {
	t.Parallel()
	lo, lo6 := net.ParseIP("127.0.0.1"), net.IPv6loopback
	mapped := net.ParseIP("::ffff:127.0.0.1")
	established := diagSocket(syscall.AF_INET, 1, lo, lo, 40000, 5555, 1000)
	for _, c := range []struct {
		name  string
		reply []byte
		want  inetDiagSocket
		err   string
	}{
		{"established IPv4", diagMessage(20, 5, established),
			inetDiagSocket{family: syscall.AF_INET, state: 1, localAddr: lo.To4(), localPort: 40000, remoteAddr: lo.To4(), remotePort: 5555, uid: 1000, inode: 4242}, ""},
		{"IPv6", diagMessage(20, 5, diagSocket(syscall.AF_INET6, 6, lo6, lo6, 1, 2, 0)),
			inetDiagSocket{family: syscall.AF_INET6, state: 6, localAddr: lo6, localPort: 1, remoteAddr: lo6, remotePort: 2, uid: 0, inode: 4242}, ""},
		{"v4-mapped IPv6", diagMessage(20, 5, diagSocket(syscall.AF_INET6, 1, mapped, mapped, 1, 2, 7)),
			inetDiagSocket{family: syscall.AF_INET6, state: 1, localAddr: mapped, localPort: 1, remoteAddr: mapped, remotePort: 2, uid: 7, inode: 4242}, ""},
		{"another request's answer first", append(diagMessage(20, 4, diagSocket(syscall.AF_INET, 1, lo, lo, 9, 9, 9)), diagMessage(20, 5, established)...),
			inetDiagSocket{family: syscall.AF_INET, state: 1, localAddr: lo.To4(), localPort: 40000, remoteAddr: lo.To4(), remotePort: 5555, uid: 1000, inode: 4242}, ""},
		{"no such socket", diagMessage(syscall.NLMSG_ERROR, 5, diagError(syscall.ENOENT)), inetDiagSocket{}, "no such socket"},
		{"permission", diagMessage(syscall.NLMSG_ERROR, 5, diagError(syscall.EPERM)), inetDiagSocket{}, "sock_diag: operation not permitted"},
		{"short error", diagMessage(syscall.NLMSG_ERROR, 5, []byte{1}), inetDiagSocket{}, "short error message"},
		{"short socket", diagMessage(20, 5, established[:40]), inetDiagSocket{}, "short socket message of 40 bytes"},
		{"unknown family", diagMessage(20, 5, diagSocket(99, 1, lo, lo, 1, 2, 3)), inetDiagSocket{}, "a socket of family 99"},
		{"bad length", append([]byte{200, 0, 0, 0}, make([]byte, 20)...), inetDiagSocket{}, "bad netlink message length 200 of 24 bytes"},
		{"only another answer", diagMessage(20, 6, established), inetDiagSocket{}, "no answer in the reply"},
		{"empty", nil, inetDiagSocket{}, "no answer in the reply"},
	} {
		got, err := parseInetDiagReply(c.reply, 5)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: %+v, %v; want an error with %q", c.name, got, err, c.err)
			}
			continue
		}
		if err != nil || got.family != c.want.family || got.state != c.want.state || !got.localAddr.Equal(c.want.localAddr) ||
			got.localPort != c.want.localPort || !got.remoteAddr.Equal(c.want.remoteAddr) || got.remotePort != c.want.remotePort ||
			got.uid != c.want.uid || got.inode != c.want.inode {
			t.Errorf("%s: %+v, %v; want %+v", c.name, got, err, c.want)
		}
	}
}

func TestPeerSocketUID(t *testing.T) {
	t.Parallel()
	theirs := &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 40000}
	ours := &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 5555}
	lo := net.ParseIP("127.0.0.1")
	mapped := net.ParseIP("::ffff:127.0.0.1")
	for _, c := range []struct {
		name string
		s    inetDiagSocket
		uid  int
		err  string
	}{
		{"established", inetDiagSocket{state: 1, localAddr: lo, localPort: 40000, remoteAddr: lo, remotePort: 5555, uid: 1000}, 1000, ""},
		{"established v4-mapped", inetDiagSocket{state: 1, localAddr: mapped, localPort: 40000, remoteAddr: mapped, remotePort: 5555, uid: 0}, 0, ""},
		{"time-wait", inetDiagSocket{state: 6, localAddr: lo, localPort: 40000, remoteAddr: lo, remotePort: 5555}, -1, "is in TIME_WAIT, not ESTABLISHED"},
		{"fin-wait2", inetDiagSocket{state: 5, localAddr: lo, localPort: 40000, remoteAddr: lo, remotePort: 5555}, -1, "is in FIN_WAIT2"},
		{"listener on that port", inetDiagSocket{state: 10, localAddr: lo, localPort: 40000, remoteAddr: net.IPv4zero, remotePort: 0, uid: 0}, -1, "answered for another socket"},
		{"other port", inetDiagSocket{state: 1, localAddr: lo, localPort: 40001, remoteAddr: lo, remotePort: 5555}, -1, "answered for another socket"},
		{"odd state", inetDiagSocket{state: 42, localAddr: lo, localPort: 40000, remoteAddr: lo, remotePort: 5555}, -1, "is in state 42"},
	} {
		uid, err := peerSocketUID(c.s, theirs, ours)
		if (c.err == "" && (err != nil || uid != c.uid)) || (c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err) || uid != -1)) {
			t.Errorf("%s: %d, %v; want %d, %q", c.name, uid, err, c.uid, c.err)
		}
	}
}

// acceptedPair accepts the connection dial makes to a listener at addr; it
// returns the accepted end and what closes the client's.
func acceptedPair(t *testing.T, network, addr string, dial func(port int) (closeClient func(), err error)) (*net.TCPConn, func()) {
	t.Helper()
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Skipf("no %s listener on %s here: %v", network, addr, err)
	}
	defer l.Close()
	closeClient, err := dial(l.Addr().(*net.TCPAddr).Port)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeClient) // closing twice must be harmless
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn), closeClient
}

// TestLoopbackPeerUIDReal: the kernel names this process's uid for a live
// loopback peer over IPv4, IPv6 and an IPv6 socket with v4-mapped
// addresses; once the peer has closed, the lookup refuses to name anyone.
func TestLoopbackPeerUIDReal(t *testing.T) {
	t.Parallel()
	goDial := func(network, host string) func(int) (func(), error) {
		return func(port int) (func(), error) {
			c, err := net.Dial(network, net.JoinHostPort(host, strconv.Itoa(port)))
			if err != nil {
				return nil, err
			}
			return func() { c.Close() }, nil
		}
	}
	mappedDial := func(port int) (func(), error) {
		fd, err := syscall.Socket(syscall.AF_INET6, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			return nil, err
		}
		sa := &syscall.SockaddrInet6{Port: port, Addr: [16]byte{10: 0xff, 11: 0xff, 12: 127, 15: 1}}
		if err := syscall.Connect(fd, sa); err != nil {
			syscall.Close(fd)
			return nil, err
		}
		return sync.OnceFunc(func() { syscall.Close(fd) }), nil
	}
	for _, c := range []struct {
		name, network, addr string
		dial                func(int) (func(), error)
	}{
		{"IPv4", "tcp4", "127.0.0.1:0", goDial("tcp4", "127.0.0.1")},
		{"IPv6", "tcp6", "[::1]:0", goDial("tcp6", "::1")},
		{"v4-mapped IPv6 client", "tcp4", "127.0.0.1:0", mappedDial},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn, closeClient := acceptedPair(t, c.network, c.addr, c.dial)
			uid, err := loopbackPeerUID(conn)
			if err != nil || uid != os.Geteuid() {
				t.Fatalf("loopbackPeerUID: %d, %v; want %d", uid, err, os.Geteuid())
			}
			if peer := identifyPeer(conn); !peer.trusted() || peer.key != "uid "+strconv.Itoa(os.Geteuid()) {
				t.Errorf("identifyPeer: %+v; want trusted, counted as uid %d", peer, os.Geteuid())
			}
			closeClient()
			// A child that a parallel test forks at that moment holds the
			// client's descriptor until its exec: the FIN may come later.
			waitFor(t, "the lookup to refuse the closed peer", 10*time.Second, func() bool {
				uid, err = loopbackPeerUID(conn)
				return err != nil
			})
			if uid != -1 {
				t.Fatalf("after the peer closed: %d, %v; want -1 with the refusal", uid, err)
			}
			if !strings.Contains(err.Error(), "not ESTABLISHED") && !strings.Contains(err.Error(), "no open socket") {
				t.Errorf("after the peer closed: %v", err)
			}
			t.Logf("after the peer closed: %v", err)
		})
	}
}

func TestLookupTCPSocketGone(t *testing.T) {
	t.Parallel()
	_, err := lookupTCPSocket(&net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 1}, &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 2})
	if !errors.Is(err, errNoSuchSocket) {
		t.Errorf("lookup of a 4-tuple nobody uses: %v; want errNoSuchSocket", err)
	}
}

// BenchmarkLoopbackPeerUID: one lookup of a peer's owner, with few and with
// thousands of other TCP sockets open: the cost does not grow with them
// (main read and split all of /proc/net/tcp{,6} per connection).
func BenchmarkLoopbackPeerUID(b *testing.B) {
	for _, others := range []int{10, 3000} {
		b.Run(fmt.Sprintf("sockets=%d", 2*others), func(b *testing.B) {
			l, err := net.Listen("tcp4", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			accepted := make(chan net.Conn, others+1)
			go func() { // ends when l is closed
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					accepted <- c
				}
			}()
			var conns []net.Conn
			defer func() {
				for _, c := range conns {
					c.Close()
				}
			}()
			for range others + 1 {
				c, err := net.Dial("tcp4", l.Addr().String())
				if err != nil {
					b.Fatal(err)
				}
				conns = append(conns, c, <-accepted)
			}
			conn := conns[len(conns)-1].(*net.TCPConn)
			for b.Loop() {
				if _, err := loopbackPeerUID(conn); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
