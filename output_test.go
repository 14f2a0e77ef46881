// Tests of output capture pieces that need no process: the timestamp and
// console line writers.
package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestTimestampWriterPrefixesEveryLine(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	at := time.Date(2026, 11, 25, 10, 0, 1, 0, time.UTC)
	tw := &timestampWriter{w: &out, lineStart: true, now: func() time.Time { return at }}
	for _, chunk := range []string{"one\ntw", "o\n", "three", "\n\n"} {
		if n, _ := tw.Write([]byte(chunk)); n != len(chunk) {
			t.Fatalf("Write(%q) = %d", chunk, n)
		}
	}
	stamp := "2026-11-25T10:00:01.000Z "
	want := stamp + "one\n" + stamp + "two\n" + stamp + "three\n" + stamp + "\n"
	if out.String() != want {
		t.Errorf("got %q\nwant %q", out.String(), want)
	}
}

func TestConsoleWriterKeepsLinesWhole(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	c := &consoleOutput{out: &out, err: &out}
	a, b := c.writer("a", false), c.writer("b", true)
	a.Write([]byte("hel"))
	b.Write([]byte("bee\nb2"))
	a.Write([]byte("lo\n"))
	b.flush()
	want := "b | bee\na | hello\nb | b2\n"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
	long := strings.Repeat("x", consolePartialMax)
	a.Write([]byte(long))
	if !strings.HasSuffix(out.String(), "a | "+long+"\n") {
		t.Errorf("a line longer than %d bytes is not shown in pieces", consolePartialMax)
	}
}
