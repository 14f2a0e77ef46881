//go:build unix && !linux

// Program output pipes where there is no epoll: the read ends wait in Go's
// poller, and a reader takes a buffer only once its pipe is readable.
package main

import (
	"io"
	"os"
	"syscall"
)

// outPipe is the server's end of one program output pipe.
type outPipe struct {
	f   *os.File
	raw syscall.RawConn
}

// outputPipe makes the pipe of one program stream: the read end is the
// server's (non-blocking, in the poller), the write end a plain blocking
// descriptor for the child that the caller closes once it has forked.
func outputPipe() (r *outPipe, w int, err error) {
	var fds [2]int
	syscall.ForkLock.RLock()
	err = syscall.Pipe(fds[:])
	if err == nil {
		syscall.CloseOnExec(fds[0])
		syscall.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, -1, os.NewSyscallError("pipe", err)
	}
	if err := syscall.SetNonblock(fds[0], true); err != nil {
		syscall.Close(fds[0])
		syscall.Close(fds[1])
		return nil, -1, os.NewSyscallError("fcntl", err)
	}
	f := os.NewFile(uintptr(fds[0]), "|0")
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		syscall.Close(fds[1])
		return nil, -1, err
	}
	return &outPipe{f: f, raw: raw}, fds[1], nil
}

// read hands the pipe's output to consume, chunk by chunk, until EOF or a
// read error, and then calls done; it returns at once.
func (p *outPipe) read(consume func([]byte), done func(error)) {
	go func() { // ends at EOF or on a read error
		for {
			buf, n, err := p.readChunk()
			if n > 0 {
				consume((*buf)[:n])
				readBuffers.Put(buf)
			}
			if err != nil {
				p.f.Close()
				done(err)
				return
			}
		}
	}()
}

// readChunk returns the next piece of output in a buffer of readBuffers
// (the caller puts it back), waiting until there is one; io.EOF once every
// writer closed the pipe. A reader holds no buffer while it waits.
func (p *outPipe) readChunk() (*[]byte, int, error) {
	for {
		var buf *[]byte
		var n int
		var rerr error
		err := p.raw.Read(func(fd uintptr) bool {
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
			return buf, n, nil
		}
		if buf != nil {
			readBuffers.Put(buf)
		}
		switch {
		case err != nil:
			return nil, 0, err
		case rerr == syscall.EINTR:
			continue
		case rerr == nil:
			return nil, 0, io.EOF
		}
		return nil, 0, os.NewSyscallError("read", rerr)
	}
}

// Close closes a pipe that was never read.
func (p *outPipe) Close() { p.f.Close() }
