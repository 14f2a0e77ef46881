// Reading a program's output pipe on Windows: anonymous pipes cannot be
// waited on by Go's poller, so each reader goroutine blocks in ReadFile
// with its own buffer (smaller than the Unix readers' pooled chunks, since
// it is held while the program is quiet).
package main

import (
	"errors"
	"io"
	"os"
	"syscall"
)

const windowsReadBufferSize = 32 << 10

// copyPipe copies pipe into dst until the write ends are all closed.
func copyPipe(pipe *os.File, dst io.Writer) error {
	buf := make([]byte, windowsReadBufferSize)
	for {
		n, err := pipe.Read(buf)
		if n > 0 {
			dst.Write(buf[:n])
		}
		if err != nil {
			if err == io.EOF || errors.Is(err, syscall.ERROR_BROKEN_PIPE) {
				return nil
			}
			return err
		}
	}
}
