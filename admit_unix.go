//go:build unix

// Refusing a connection cleanly on Unix: what the peer sent already is read
// without waiting (MSG_DONTWAIT) before the close, so the refusal written
// before it reaches the peer instead of being lost to a reset.
package main

import (
	"net"
	"syscall"
)

// drainReadable reads (without waiting) what the peer has sent already, so
// that closing sends an orderly FIN and the refusal written before it
// reaches the peer instead of being lost to a reset.
func drainReadable(conn net.Conn) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return
	}
	var buf [4096]byte
	raw.Read(func(fd uintptr) bool {
		for i := 0; i < 16; i++ {
			n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_DONTWAIT)
			if err != nil || n <= 0 {
				break
			}
		}
		return true // never wait for more
	})
}
