// Program output pipes on Windows: anonymous pipes cannot be waited on by
// Go's poller, so each pipe's reader goroutine blocks in ReadFile with its
// own buffer (smaller than the Unix readers' pooled chunks, since it is
// held while the program is quiet).
package main

import (
	"errors"
	"io"
	"os"
	"syscall"
)

const windowsReadBufferSize = 32 << 10

// outPipe is the server's end of one program output pipe.
type outPipe struct{ f *os.File }

// read hands the pipe's output to consume, chunk by chunk, until every
// write end is closed (io.EOF) or a read error, and then calls done; it
// returns at once.
func (p *outPipe) read(consume func([]byte), done func(error)) {
	go func() { // ends at EOF or on a read error
		buf := make([]byte, windowsReadBufferSize)
		for {
			n, err := p.f.Read(buf)
			if n > 0 {
				consume(buf[:n])
			}
			if err != nil {
				p.f.Close()
				if errors.Is(err, syscall.ERROR_BROKEN_PIPE) {
					err = io.EOF
				}
				done(err)
				return
			}
		}
	}()
}

// Close closes a pipe that was never read.
func (p *outPipe) Close() { p.f.Close() }
