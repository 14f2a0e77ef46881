//go:build unix

// Tests of the program output pipes (outpipe_linux.go, outpipe_unix.go):
// every byte arrives once and in order, from many pipes at once, whether
// the writer pours it out or trickles it byte by byte, and each pipe
// reports its end exactly once.
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"
	"time"
)

// pipeSink collects what one pipe delivers.
type pipeSink struct {
	mu    sync.Mutex
	data  bytes.Buffer
	ends  int
	err   error
	ended chan struct{}
	got   chan int // the total so far, after each chunk (buffered, may drop)
}

func readPipe(t *testing.T, r *outPipe) *pipeSink {
	t.Helper()
	ps := &pipeSink{ended: make(chan struct{}), got: make(chan int, 1)}
	r.read(func(p []byte) {
		ps.mu.Lock()
		ps.data.Write(p)
		n := ps.data.Len()
		ps.mu.Unlock()
		select {
		case <-ps.got:
		default:
		}
		ps.got <- n
	}, func(err error) {
		ps.mu.Lock()
		ps.ends++
		ps.err = err
		ps.mu.Unlock()
		close(ps.ended)
	})
	return ps
}

// waitTotal waits until the sink holds n bytes.
func (ps *pipeSink) waitTotal(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		ps.mu.Lock()
		have := ps.data.Len()
		ps.mu.Unlock()
		if have >= n {
			return
		}
		select {
		case <-ps.got:
		case <-deadline:
			t.Fatalf("the pipe delivered %d of %d bytes", have, n)
		}
	}
}

// waitEnd waits for the pipe's end (any goroutine may call it).
func (ps *pipeSink) waitEnd(t *testing.T) bool {
	t.Helper()
	select {
	case <-ps.ended:
		return true
	case <-time.After(30 * time.Second):
		t.Error("the pipe never reported its end")
		return false
	}
}

func TestOutputPipesDeliverEveryByteInOrder(t *testing.T) {
	t.Parallel()
	const pipes = 40
	var wg sync.WaitGroup
	for i := range pipes {
		r, w, err := outputPipe()
		if err != nil {
			t.Fatal(err)
		}
		ps := readPipe(t, r)
		wf := os.NewFile(uintptr(w), "w")
		// Lines of growing length, written in pieces of every size from one
		// byte to more than the read buffer: the writer pours, the reader
		// pauses and catches up.
		var want bytes.Buffer
		for j := 0; want.Len() < 3*readBufferSize+i*1000; j++ {
			fmt.Fprintf(&want, "pipe %d line %d %s\n", i, j, bytes.Repeat([]byte{'x'}, j%300))
		}
		wg.Go(func() {
			defer wf.Close()
			data := want.Bytes()
			for k := 1; len(data) > 0; k = k*3 + 1 {
				n := min(len(data), k%(readBufferSize+7)+1)
				if _, err := wf.Write(data[:n]); err != nil {
					t.Error(err)
					return
				}
				data = data[n:]
			}
			wf.Close()
			if !ps.waitEnd(t) {
				return
			}
			ps.mu.Lock()
			defer ps.mu.Unlock()
			if ps.ends != 1 || ps.err != io.EOF {
				t.Errorf("pipe %d: %d ends, last %v; want one, io.EOF", i, ps.ends, ps.err)
			}
			if !bytes.Equal(ps.data.Bytes(), want.Bytes()) {
				t.Errorf("pipe %d: delivered %d bytes that differ from the %d written", i, ps.data.Len(), want.Len())
			}
		})
	}
	wg.Wait()
}

// A writer that waits for each byte to arrive before it writes the next
// makes the poller report the pipe again and again just as its drain ends:
// no report may be lost.
func TestOutputPipeTrickleNeverStalls(t *testing.T) {
	t.Parallel()
	r, w, err := outputPipe()
	if err != nil {
		t.Fatal(err)
	}
	ps := readPipe(t, r)
	wf := os.NewFile(uintptr(w), "w")
	for i := 1; i <= 2000; i++ {
		if _, err := wf.Write([]byte{byte('a' + i%26)}); err != nil {
			t.Fatal(err)
		}
		ps.waitTotal(t, i)
	}
	wf.Close()
	if !ps.waitEnd(t) {
		return
	}
	if ps.data.Len() != 2000 || ps.ends != 1 {
		t.Fatalf("%d bytes, %d ends; want 2000 and one", ps.data.Len(), ps.ends)
	}
}

// A pipe that was never read can be closed.
func TestOutputPipeCloseUnread(t *testing.T) {
	t.Parallel()
	r, w, err := outputPipe()
	if err != nil {
		t.Fatal(err)
	}
	os.NewFile(uintptr(w), "w").Close()
	r.Close()
}
