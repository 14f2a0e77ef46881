//go:build darwin || freebsd

// Who is at the other end of a unix socket on macOS and FreeBSD:
// getsockopt(0, LOCAL_PEERCRED) fills a struct xucred with the peer's uid
// as it was at connect time (the syscall package has no wrapper, so it is
// called through Syscall6). A loopback TCP peer cannot be looked up here
// (no sock_diag, no /proc/net/tcp): it is refused, and README says to use
// unix:// or tls:// on these systems.
package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"runtime"
	"syscall"
	"unsafe"
)

const (
	solLocal       = 0 // SOL_LOCAL
	localPeerCred  = 1 // LOCAL_PEERCRED
	localPeerPID   = 2 // LOCAL_PEERPID, macOS only
	xucredMaxBytes = 128
)

// unixPeerUID reads the credentials of a unix socket's peer. The pid is
// LOCAL_PEERPID on macOS and xucred's cr_pid on FreeBSD (0 when unknown).
func unixPeerUID(c *net.UnixConn) (uid, pid int, err error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return -1, 0, err
	}
	var cred [xucredMaxBytes]byte
	var n uint32
	var serr error
	err = raw.Control(func(fd uintptr) {
		n, serr = getsockopt(fd, localPeerCred, cred[:])
		if serr == nil && runtime.GOOS == "darwin" {
			var p [4]byte
			if m, perr := getsockopt(fd, localPeerPID, p[:]); perr == nil && m == 4 {
				pid = int(int32(binary.NativeEndian.Uint32(p[:])))
			}
		}
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return -1, 0, fmt.Errorf("LOCAL_PEERCRED: %v", err)
	}
	return parseXucred(cred[:n], pid, runtime.GOOS == "freebsd")
}

// getsockopt reads one option of level SOL_LOCAL into buf.
func getsockopt(fd uintptr, opt int, buf []byte) (uint32, error) {
	n := uint32(len(buf))
	_, _, errno := syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, solLocal, uintptr(opt),
		uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&n)), 0)
	if errno != 0 {
		return 0, errno
	}
	return n, nil
}

// loopbackPeerUID cannot know a loopback TCP peer's user on these systems,
// so such a peer is refused unless the listener is tls:// (client
// certificates) or the web frontend has a password.
func loopbackPeerUID(conn *net.TCPConn) (int, error) {
	return -1, errors.New("the owner of a loopback tcp connection cannot be looked up on " + runtime.GOOS + "; use a unix:// or tls:// consoleuri")
}
