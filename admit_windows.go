// Refusing a connection cleanly on Windows: what the peer sent already is
// read with a short deadline before the close, so the refusal written
// before it is not lost to a reset.
package main

import (
	"io"
	"net"
	"time"
)

// drainReadable reads, for at most a few milliseconds, what the peer has
// sent already.
func drainReadable(conn net.Conn) {
	conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	io.Copy(io.Discard, io.LimitReader(conn, 64<<10))
	conn.SetReadDeadline(time.Time{})
}
