// Who is at the other end of a local connection on Windows, at accept
// time: the process owning a loopback TCP peer's socket (GetExtendedTcpTable
// by the exact 4-tuple) or a unix socket peer (SIO_AF_UNIX_GETPEERPID), then
// its token's user SID. The server's own SID and LocalSystem count as uid 0
// (trusted); another SID as its RID (refused); an unknown process is refused.
package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

var (
	iphlpapi                = syscall.NewLazyDLL("iphlpapi.dll")
	procGetExtendedTcpTable = iphlpapi.NewProc("GetExtendedTcpTable")
)

const (
	tcpTableOwnerPIDAll   = 5
	afInet6               = 23
	sioAFUnixGetPeerPID   = 0x58000100
	localSystemSID        = "S-1-5-18"
	untrustedUnparsedUser = 1 << 30
)

// unixPeerUID identifies a unix socket's peer by its pid.
func unixPeerUID(c *net.UnixConn) (uid, pid int, err error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return -1, 0, err
	}
	var peer uint32
	var ierr error
	err = raw.Control(func(fd uintptr) {
		var n uint32
		ierr = syscall.WSAIoctl(syscall.Handle(fd), sioAFUnixGetPeerPID, nil, 0, (*byte)(unsafe.Pointer(&peer)), 4, &n, nil, 0)
	})
	if err == nil {
		err = ierr
	}
	if err != nil {
		return -1, 0, fmt.Errorf("SIO_AF_UNIX_GETPEERPID: %v", err)
	}
	uid, err = processUID(int(peer))
	return uid, int(peer), err
}

// loopbackPeerUID identifies the user of the process that owns the other
// end of a loopback TCP connection.
func loopbackPeerUID(conn *net.TCPConn) (int, error) {
	ours, _ := conn.LocalAddr().(*net.TCPAddr)
	theirs, _ := conn.RemoteAddr().(*net.TCPAddr)
	if ours == nil || theirs == nil {
		return -1, errors.New("not a tcp connection")
	}
	pid, err := tcpOwnerPID(theirs, ours)
	if err != nil {
		return -1, err
	}
	return processUID(pid)
}

// tcpOwnerPID finds the pid owning the socket whose local end is local and
// remote end remote. Under Wine the owner of a socket that has just
// connected can read as none for a moment, so a miss is asked again twice,
// 20 ms apart, before the peer is refused.
func tcpOwnerPID(local, remote *net.TCPAddr) (int, error) {
	var pid int
	var err error
	for try := range 3 {
		if try > 0 {
			time.Sleep(20 * time.Millisecond)
		}
		if pid, err = tcpOwnerPIDOnce(local, remote); err == nil {
			return pid, nil
		}
	}
	return 0, err
}

func tcpOwnerPIDOnce(local, remote *net.TCPAddr) (int, error) {
	family, rowSize := uint32(syscall.AF_INET), 24
	if local.IP.To4() == nil {
		family, rowSize = afInet6, 56
	}
	size := uint32(16 << 10)
	var table []byte
	for range 8 {
		table = make([]byte, size)
		r, _, _ := procGetExtendedTcpTable.Call(uintptr(unsafe.Pointer(&table[0])), uintptr(unsafe.Pointer(&size)), 0, uintptr(family), tcpTableOwnerPIDAll, 0)
		if r == 0 {
			break
		}
		if syscall.Errno(r) != syscall.ERROR_INSUFFICIENT_BUFFER {
			return 0, fmt.Errorf("GetExtendedTcpTable: %v", syscall.Errno(r))
		}
		size += 4 << 10 // connections came meanwhile
	}
	pid, ok := findTCPOwner(table, family == afInet6, rowSize, local, remote)
	if !ok {
		return 0, fmt.Errorf("no tcp socket %v -> %v in the system's table (a peer outside Windows, such as a Linux process under Wine, is not identified)", local, remote)
	}
	if pid == 0 {
		return 0, fmt.Errorf("the tcp socket %v -> %v has no owning process", local, remote)
	}
	return pid, nil
}

// findTCPOwner scans a MIB_TCPTABLE_OWNER_PID (24-byte rows) or
// MIB_TCP6TABLE_OWNER_PID (56-byte rows) for the 4-tuple. Ports are in
// network order in the low 16 bits of their DWORD.
func findTCPOwner(table []byte, v6 bool, rowSize int, local, remote *net.TCPAddr) (int, bool) {
	if len(table) < 4 {
		return 0, false
	}
	n := int(binary.LittleEndian.Uint32(table))
	port := func(b []byte) int { return int(b[0])<<8 | int(b[1]) }
	for i := 0; i < n && 4+(i+1)*rowSize <= len(table); i++ {
		row := table[4+i*rowSize : 4+(i+1)*rowSize]
		var la, ra net.IP
		var lp, rp, pid int
		if v6 {
			la, lp = net.IP(row[0:16]), port(row[20:24])
			ra, rp = net.IP(row[24:40]), port(row[44:48])
			pid = int(binary.LittleEndian.Uint32(row[52:56]))
		} else {
			la, lp = net.IP(row[4:8]), port(row[8:12])
			ra, rp = net.IP(row[12:16]), port(row[16:20])
			pid = int(binary.LittleEndian.Uint32(row[20:24]))
		}
		if lp == local.Port && rp == remote.Port && la.Equal(local.IP) && ra.Equal(remote.IP) {
			return pid, true
		}
	}
	return 0, false
}

// serverSID is the user SID of the server's own token.
var serverSID = sync.OnceValues(func() (string, error) {
	t, err := syscall.OpenCurrentProcessToken()
	if err != nil {
		return "", err
	}
	defer t.Close()
	return tokenSID(t)
})

func tokenSID(t syscall.Token) (string, error) {
	u, err := t.GetTokenUser()
	if err != nil {
		return "", err
	}
	return u.User.Sid.String()
}

// processUID maps the user of process pid to a uid (see the file comment).
func processUID(pid int) (int, error) {
	h, err := syscall.OpenProcess(processQueryLimitedInfomation, false, uint32(pid))
	if err != nil {
		return -1, fmt.Errorf("cannot open the peer process %d: %v", pid, err)
	}
	defer syscall.CloseHandle(h)
	var t syscall.Token
	if err := syscall.OpenProcessToken(h, syscall.TOKEN_QUERY, &t); err != nil {
		return -1, fmt.Errorf("cannot read the token of the peer process %d: %v", pid, err)
	}
	defer t.Close()
	sid, err := tokenSID(t)
	if err != nil {
		return -1, fmt.Errorf("cannot read the user of the peer process %d: %v", pid, err)
	}
	own, err := serverSID()
	if err != nil {
		return -1, fmt.Errorf("cannot read the server's own user: %v", err)
	}
	return sidUID(sid, own), nil
}

// sidUID is 0 for the server's own SID and LocalSystem, else the RID.
func sidUID(sid, own string) int {
	if sid == own || sid == localSystemSID {
		return 0
	}
	rid, err := strconv.Atoi(sid[strings.LastIndexByte(sid, '-')+1:])
	if err != nil || rid <= 0 {
		return untrustedUnparsedUser
	}
	return rid
}
