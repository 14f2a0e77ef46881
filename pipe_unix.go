//go:build unix

// Reading a program's output pipe on Unix: the read end is non-blocking in
// Go's poller, and a pooled chunk buffer is taken only once the pipe is
// readable, so an idle program holds no buffer.
package main

import (
	"io"
	"os"
	"syscall"
)

// copyPipe copies pipe into dst until EOF or a read error; it returns an
// error only when the pipe cannot be read at all.
func copyPipe(pipe *os.File, dst io.Writer) error {
	raw, err := pipe.SyscallConn()
	if err != nil {
		return err
	}
	for {
		var buf *[]byte
		var n int
		var rerr error
		err := raw.Read(func(fd uintptr) bool {
			buf = readBuffers.Get().(*[]byte)
			n, rerr = syscall.Read(int(fd), *buf)
			if rerr == syscall.EAGAIN {
				readBuffers.Put(buf)
				buf = nil
				return false // wait until the pipe is readable, holding no buffer
			}
			return true
		})
		if n > 0 {
			dst.Write((*buf)[:n])
		}
		if buf != nil {
			readBuffers.Put(buf)
		}
		if err != nil || n <= 0 && rerr != syscall.EINTR {
			return nil
		}
	}
}
