// Who is at the other end of a local connection, asked of the kernel at
// accept time: a unix socket's peer by SO_PEERCRED, a loopback TCP peer by
// looking its socket up by the exact 4-tuple with netlink sock_diag
// (inet_diag_req_v2, one request, no scan of every socket). The request
// encoder and the reply decoder are pure functions, table-tested.
package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"syscall"
)

// unixPeerUID reads the credentials of a unix socket's peer (as they were
// when it connected).
func unixPeerUID(c *net.UnixConn) (uid, pid int, err error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return -1, 0, err
	}
	var cred *syscall.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return -1, 0, err
	}
	if cerr != nil {
		return -1, 0, fmt.Errorf("SO_PEERCRED: %v", cerr)
	}
	return int(cred.Uid), int(cred.Pid), nil
}

// The netlink sock_diag protocol (linux/sock_diag.h, linux/inet_diag.h).
const (
	netlinkSockDiag   = 4  // NETLINK_SOCK_DIAG
	sockDiagByFamily  = 20 // SOCK_DIAG_BY_FAMILY
	nlmsgHeaderLen    = 16 // struct nlmsghdr
	inetDiagReqV2Len  = 56 // struct inet_diag_req_v2
	inetDiagMsgLen    = 72 // struct inet_diag_msg
	inetDiagNoCookie  = ^uint32(0)
	tcpStateEstablish = 1 // TCP_ESTABLISHED
)

// tcpStateNames are the kernel's TCP states, for messages.
var tcpStateNames = [...]string{1: "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
	"CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV"}

func tcpStateName(state uint8) string {
	if int(state) < len(tcpStateNames) && tcpStateNames[state] != "" {
		return tcpStateNames[state]
	}
	return fmt.Sprintf("state %d", state)
}

// inetDiagSocket is what the kernel says of one socket.
type inetDiagSocket struct {
	family     uint8
	state      uint8
	localAddr  net.IP // the socket's own address ("src")
	localPort  int
	remoteAddr net.IP
	remotePort int
	uid        uint32
	inode      uint32
}

// inetDiagRequest encodes a request for the one TCP socket whose own address
// is local and whose peer is remote: the peer socket of a connection we
// accepted has our remote address as its local one. An IPv4 pair is asked
// as AF_INET, which the kernel also matches against IPv6 sockets that use
// v4-mapped addresses (they live in the same hash table).
func inetDiagRequest(local, remote *net.TCPAddr, seq uint32) ([]byte, error) {
	family := uint8(syscall.AF_INET6)
	l, r := local.IP.To16(), remote.IP.To16()
	if l4, r4 := local.IP.To4(), remote.IP.To4(); l4 != nil && r4 != nil {
		family, l, r = syscall.AF_INET, l4, r4
	}
	if l == nil || r == nil {
		return nil, fmt.Errorf("not an IP address pair: %v, %v", local, remote)
	}
	b := make([]byte, nlmsgHeaderLen+inetDiagReqV2Len)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(len(b)))
	ne.PutUint16(b[4:], sockDiagByFamily)
	ne.PutUint16(b[6:], syscall.NLM_F_REQUEST) // no NLM_F_DUMP: the kernel looks up exactly this socket
	ne.PutUint32(b[8:], seq)
	q := b[nlmsgHeaderLen:]
	q[0] = family
	q[1] = syscall.IPPROTO_TCP
	ne.PutUint32(q[4:], ^uint32(0)) // every state: the reply says which one it is in
	id := q[8:]
	binary.BigEndian.PutUint16(id[0:], uint16(local.Port))
	binary.BigEndian.PutUint16(id[2:], uint16(remote.Port))
	copy(id[4:20], l)
	copy(id[20:36], r)
	ne.PutUint32(id[40:], inetDiagNoCookie)
	ne.PutUint32(id[44:], inetDiagNoCookie)
	return b, nil
}

// errNoSuchSocket: the kernel has no socket with that 4-tuple (any more).
var errNoSuchSocket = errors.New("no such socket")

// parseInetDiagReply decodes the kernel's answer to inetDiagRequest with
// sequence number seq: one inet_diag_msg, or an error message.
func parseInetDiagReply(b []byte, seq uint32) (inetDiagSocket, error) {
	ne := binary.NativeEndian
	for len(b) >= nlmsgHeaderLen {
		size := int(ne.Uint32(b[0:]))
		typ := ne.Uint16(b[4:])
		msgSeq := ne.Uint32(b[8:])
		if size < nlmsgHeaderLen || size > len(b) {
			return inetDiagSocket{}, fmt.Errorf("sock_diag: bad netlink message length %d of %d bytes", size, len(b))
		}
		body := b[nlmsgHeaderLen:size]
		b = b[min((size+3)&^3, len(b)):]
		if msgSeq != seq {
			continue // not the answer to this request
		}
		switch typ {
		case syscall.NLMSG_ERROR:
			if len(body) < 4 {
				return inetDiagSocket{}, errors.New("sock_diag: short error message")
			}
			errno := -int32(ne.Uint32(body))
			if errno == 0 {
				continue // an acknowledgement
			}
			if syscall.Errno(errno) == syscall.ENOENT {
				return inetDiagSocket{}, errNoSuchSocket
			}
			return inetDiagSocket{}, fmt.Errorf("sock_diag: %w", syscall.Errno(errno))
		case sockDiagByFamily:
			if len(body) < inetDiagMsgLen {
				return inetDiagSocket{}, fmt.Errorf("sock_diag: short socket message of %d bytes", len(body))
			}
			s := inetDiagSocket{family: body[0], state: body[1]}
			id := body[4:52]
			s.localPort = int(binary.BigEndian.Uint16(id[0:]))
			s.remotePort = int(binary.BigEndian.Uint16(id[2:]))
			switch s.family {
			case syscall.AF_INET:
				s.localAddr, s.remoteAddr = net.IP(append([]byte(nil), id[4:8]...)), net.IP(append([]byte(nil), id[20:24]...))
			case syscall.AF_INET6:
				s.localAddr, s.remoteAddr = net.IP(append([]byte(nil), id[4:20]...)), net.IP(append([]byte(nil), id[20:36]...))
			default:
				return inetDiagSocket{}, fmt.Errorf("sock_diag: a socket of family %d", s.family)
			}
			s.uid = ne.Uint32(body[64:])
			s.inode = ne.Uint32(body[68:])
			return s, nil
		}
	}
	return inetDiagSocket{}, errors.New("sock_diag: no answer in the reply")
}

// loopbackPeerUID looks up the socket at the other end of an accepted
// loopback TCP connection and returns its owner's uid. The peer socket must
// be ESTABLISHED: a socket that has already closed (FIN_WAIT, TIME_WAIT) or
// is gone is reported by the kernel without its owner (uid 0), so it is
// refused, never taken for root.
func loopbackPeerUID(conn *net.TCPConn) (int, error) {
	ours, ok1 := conn.LocalAddr().(*net.TCPAddr)
	theirs, ok2 := conn.RemoteAddr().(*net.TCPAddr)
	if !ok1 || !ok2 {
		return -1, errors.New("not a TCP connection")
	}
	s, err := lookupTCPSocket(theirs, ours)
	if errors.Is(err, errNoSuchSocket) {
		return -1, fmt.Errorf("the peer %s has no open socket any more, so its owner is unknown", theirs)
	}
	if err != nil {
		return -1, fmt.Errorf("cannot identify the peer %s: %v", theirs, err)
	}
	return peerSocketUID(s, theirs, ours)
}

// peerSocketUID checks that the socket the kernel reported is the peer of
// ours (the same 4-tuple) and ESTABLISHED, and returns its owner's uid.
func peerSocketUID(s inetDiagSocket, theirs, ours *net.TCPAddr) (int, error) {
	if !s.localAddr.Equal(theirs.IP) || s.localPort != theirs.Port || !s.remoteAddr.Equal(ours.IP) || s.remotePort != ours.Port {
		return -1, fmt.Errorf("the kernel answered for another socket (%s:%d -> %s:%d), not the peer %s",
			s.localAddr, s.localPort, s.remoteAddr, s.remotePort, theirs)
	}
	if s.state != tcpStateEstablish {
		return -1, fmt.Errorf("the peer %s is in %s, not ESTABLISHED, so its owner is unknown", theirs, tcpStateName(s.state))
	}
	return int(s.uid), nil
}

// sockDiagSeq numbers the requests (each also has a netlink socket of its own).
var sockDiagSeq atomic.Uint32

// lookupTCPSocket asks the kernel for the TCP socket whose own address is
// local and whose peer is remote, on a netlink socket of its own (one
// request and one answer: safe from any goroutine).
func lookupTCPSocket(local, remote *net.TCPAddr) (inetDiagSocket, error) {
	seq := sockDiagSeq.Add(1)
	req, err := inetDiagRequest(local, remote, seq)
	if err != nil {
		return inetDiagSocket{}, err
	}
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, netlinkSockDiag)
	if err != nil {
		return inetDiagSocket{}, fmt.Errorf("netlink socket: %w", err)
	}
	defer syscall.Close(fd)
	tv := syscall.Timeval{Sec: 2}
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		return inetDiagSocket{}, fmt.Errorf("netlink socket: %w", err)
	}
	if err := syscall.Sendto(fd, req, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return inetDiagSocket{}, fmt.Errorf("netlink send: %w", err)
	}
	buf := make([]byte, 8192)
	for {
		n, from, err := syscall.Recvfrom(fd, buf, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return inetDiagSocket{}, fmt.Errorf("netlink receive: %w", err)
		}
		if nl, ok := from.(*syscall.SockaddrNetlink); !ok || nl.Pid != 0 {
			continue // only the kernel answers
		}
		return parseInetDiagReply(buf[:n], seq)
	}
}
