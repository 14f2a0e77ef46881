// Test utilities every platform's tests share (the Unix harness in
// main_test.go and the Windows tests in win_windows_test.go): polling for
// a condition and a buffer that a process writes while the test reads it.
package main

import (
	"bytes"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for one writer goroutine and readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitSlack stretches every waitFor deadline: the deadlines a test names
// are generous for a quiet machine, and the suite runs many tests at once
// (see raiseParallelism), under -race, beside other jobs. A deadline only
// bounds how long a failing test takes; a passing one stops waiting as soon
// as its condition holds.
const waitSlack = 3

// waitFor polls cond every 10 ms until it is true, or fails the test (Fatal)
// once timeout (times waitSlack) has passed.
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	timeout *= waitSlack
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for: %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
