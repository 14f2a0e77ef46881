// The notify protocol's socket on Linux: an abstract datagram socket with
// SO_PASSCRED, so every message carries its sender's pid as the kernel saw
// it, and the sender's ancestry read from /proc. Other systems have no such
// socket (notify_other.go): ready=notify and watchdog cannot work there.
package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// openNotifySocket binds an abstract datagram socket with SO_PASSCRED, so
// every message carries its sender's pid as the kernel saw it.
func openNotifySocket() (*notifySocket, error) {
	var nonce [8]byte
	rand.Read(nonce[:])
	addr := fmt.Sprintf("@ramona-notify-%d-%s", os.Getpid(), hex.EncodeToString(nonce[:]))
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("notify socket: %v", err)
	}
	raw, err := conn.SyscallConn()
	if err == nil {
		var serr error
		err = raw.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_PASSCRED, 1)
		})
		if err == nil {
			err = serr
		}
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("notify socket: SO_PASSCRED: %v", err)
	}
	return &notifySocket{conn: conn, addr: addr}, nil
}

// readNotify receives datagrams until the socket is closed. Each message is
// handed to the loop with its sender; received descriptors are closed on the
// loop after the messages before them, which is what a barrier needs.
func (s *Supervisor) readNotify(ns *notifySocket) {
	buf := make([]byte, notifyMaxDatagram+1)
	oob := make([]byte, syscall.CmsgSpace(syscall.SizeofUcred)+syscall.CmsgSpace(4*253))
	for {
		n, oobn, flags, _, err := ns.conn.ReadMsgUnix(buf, oob)
		if err != nil {
			return // closed at server exit
		}
		var cred *syscall.Ucred
		var fds []int
		if msgs, err := syscall.ParseSocketControlMessage(oob[:oobn]); err == nil {
			for i := range msgs {
				if c, err := syscall.ParseUnixCredentials(&msgs[i]); err == nil {
					cred = c
				} else if rights, err := syscall.ParseUnixRights(&msgs[i]); err == nil {
					fds = append(fds, rights...)
				}
			}
		}
		if flags&syscall.MSG_TRUNC != 0 || n > notifyMaxDatagram {
			s.log.Debugf("notify: ignored a datagram over %d bytes", notifyMaxDatagram)
		} else if cred == nil {
			s.log.Debugf("notify: ignored a datagram without sender credentials")
		} else {
			msg := readNotifyMessage(int(cred.Pid), string(buf[:n]))
			s.post(func() { s.notifyMessage(msg) })
		}
		if len(fds) > 0 {
			s.post(func() { // after the messages before it: systemd-notify's barrier
				for _, fd := range fds {
					syscall.Close(fd)
				}
			})
		}
	}
}

// readSender reads a pid's ancestry, process group and session.
func readSender(pid int) senderInfo {
	info := senderInfo{pid: pid}
	for p, i := pid, 0; p > 1 && i < 64; i++ {
		st, err := procStatFields(p)
		if err != nil {
			break
		}
		if p == pid {
			info.pgid, info.sid = st.pgid, st.sid
		}
		info.ancestors = append(info.ancestors, p)
		p = st.ppid
	}
	return info
}

type procFields struct{ ppid, pgid, sid int }

// procStatFields parses /proc/PID/stat (the command name may hold spaces
// and parentheses, so fields are counted after the last ')').
func procStatFields(pid int) (procFields, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procFields{}, err
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procFields{}, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 4 {
		return procFields{}, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	ppid, _ := strconv.Atoi(f[1])
	pgid, _ := strconv.Atoi(f[2])
	sid, _ := strconv.Atoi(f[3])
	return procFields{ppid: ppid, pgid: pgid, sid: sid}, nil
}
