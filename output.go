// Output capture: where each program's stdout and stderr go (a rotating
// LogFile, the server's console with a "NAME | " prefix, or nowhere but an
// in-memory tail), the STARTING/EXITED banners, what the pipe readers
// (outpipe_linux.go) pass each chunk through, and the server's own log
// (control characters of its lines escaped).
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

const ringSize = 64 << 10 // recent output kept for tail of <null> and <console> streams

// outputStream is one destination of program output.
type outputStream struct {
	file    *LogFile       // OutFile
	ring    *Ring          // OutNull, OutConsole: the recent output, for tail
	console *consoleWriter // OutConsole
}

func (o *outputStream) Write(p []byte) (int, error) {
	if o.file != nil {
		o.file.Write(p)
	}
	if o.ring != nil {
		o.ring.Write(p)
	}
	if o.console != nil {
		o.console.Write(p)
	}
	return len(p), nil
}

func (o *outputStream) tail(n int) []byte {
	if o.file != nil {
		return o.file.Tail(n)
	}
	return o.ring.Tail(n)
}

// tailReader is the last n lines of the stream; cut: bounded by tailMaxBytes.
func (o *outputStream) tailReader(n int) (io.ReadCloser, bool) {
	if o.file != nil {
		return o.file.TailReader(n)
	}
	return o.ring.TailReader(n)
}

func (o *outputStream) follow(maxBytes int) *Follower {
	if o.file != nil {
		return o.file.Follow(maxBytes)
	}
	return o.ring.Follow(maxBytes)
}

func (o *outputStream) lost() int64 {
	if o.file != nil {
		return o.file.Lost()
	}
	return 0
}

func (o *outputStream) problem() string {
	if o.file != nil {
		return o.file.Problem()
	}
	return ""
}

// readBufferSize is the chunk size of the pipe readers, and pipeSize the
// capacity asked for each program's pipes: large chunks mean few system calls
// and wake-ups when a program writes fast.
const (
	readBufferSize = 256 << 10
	pipeSize       = 1 << 20
)

// readBuffers are the chunk buffers of every pipe reader; a reader only
// holds one while data is ready, so idle programs hold none.
var readBuffers = sync.Pool{New: func() any { b := make([]byte, readBufferSize); return &b }}

// devNull is every program's stdin, opened once for the server's lifetime
// (close-on-exec: each child gets it only as its descriptor 0).
var devNull = sync.OnceValues(func() (*os.File, error) { return os.Open(os.DevNull) })

// readOutput copies one pipe into its stream until EOF, in chunks as large
// as the pipe offers (with logtimestamp, each line gets a timestamp first;
// with log scan rules, scan looks at each chunk after it was passed on),
// from when ready has come: the log files are open and the STARTING banner
// is written. It returns at once; at EOF or on a read error it tells the
// loop.
func (s *Supervisor) readOutput(inst *instance, pipe *outPipe, ready <-chan struct{}, dst io.Writer, timestamps bool, scan *logScanner) {
	if timestamps {
		dst = &timestampWriter{w: dst, lineStart: true, now: time.Now}
	}
	if scan != nil {
		scan.dst = dst
		dst = scan
	}
	start := func() {
		pipe.read(func(p []byte) { dst.Write(p) }, func(err error) {
			if err != io.EOF {
				s.log.Errorf("%s: cannot read output: %v", inst.prog.cfg.Name, err)
			}
			s.post(func() { s.readerDone(inst) })
		})
	}
	select {
	case <-ready:
		start()
	default:
		go func() { // ends once the files are open and the pipe is in the poller
			<-ready
			start()
		}()
	}
}

// timestampWriter prefixes every line of one pipe with an ISO-8601 time
// (logtimestamp=yes); it belongs to one reader goroutine.
type timestampWriter struct {
	w         io.Writer
	lineStart bool
	now       func() time.Time
	buf       []byte
}

func (tw *timestampWriter) Write(p []byte) (int, error) {
	n := len(p)
	stamp := tw.now().Format("2006-01-02T15:04:05.000Z07:00 ")
	out := tw.buf[:0]
	for len(p) > 0 {
		if tw.lineStart {
			out = append(out, stamp...)
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			out = append(out, p...)
			tw.lineStart = false
			break
		}
		out = append(out, p[:i+1]...)
		p = p[i+1:]
		tw.lineStart = true
	}
	tw.buf = out
	tw.w.Write(out)
	return n, nil
}

// serverOutput writes what the server itself prints, its log lines and
// the output of <console> programs, to its stdout and stderr (in the
// background: its log file) from one goroutine, in the order it was handed
// over: no one who prints waits for a terminal, a pipe or a disk. A log
// line never waits: with serverOutputMax bytes queued it is dropped and
// counted, and the count is written once there is room again. A program's
// console output waits for room instead, as a full pipe would make it.
// A client's replies wait (sync) until what was logged before them is
// written: what a client sees is already in the log.
type serverOutput struct {
	mu      sync.Mutex
	changed *sync.Cond // broadcast when the writer took the queue, and when it wrote it
	queue   []queuedWrite
	queued  int       // bytes in queue
	puts    uint64    // writes queued so far
	written uint64    // of those, written
	dropped int       // log lines dropped since the queue was last written
	logTo   io.Writer // where the dropped lines were to go
	closed  bool
	wake    chan struct{} // a token when queue has something
	done    chan struct{} // closed when the writer has written the last of it
}

// serverOutputMax is how much the server's own output may queue.
const serverOutputMax = 8 << 20

// queuedWrite is one piece of output for one destination.
type queuedWrite struct {
	w    io.Writer
	data []byte
}

func newServerOutput() *serverOutput {
	o := &serverOutput{wake: make(chan struct{}, 1), done: make(chan struct{})}
	o.changed = sync.NewCond(&o.mu)
	go o.run() // ends at close, after writing what is queued
	return o
}

// put queues data for w. wait: a program's output waits for room; a log
// line (wait false) is dropped and counted when there is none.
func (o *serverOutput) put(w io.Writer, data []byte, wait bool) {
	o.mu.Lock()
	for wait && !o.closed && o.queued > 0 && o.queued+len(data) > serverOutputMax {
		o.changed.Wait()
	}
	switch {
	case o.closed:
		o.mu.Unlock()
		w.Write(data) // after close: the writer has gone, so straight through
		return
	case !wait && o.queued > 0 && o.queued+len(data) > serverOutputMax:
		o.dropped++
		o.logTo = w
	default:
		o.queue = append(o.queue, queuedWrite{w, data})
		o.queued += len(data)
		o.puts++
	}
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// run is the writer goroutine.
func (o *serverOutput) run() {
	defer close(o.done)
	for {
		<-o.wake
		o.mu.Lock()
		queue, dropped, logTo, closed, upTo := o.queue, o.dropped, o.logTo, o.closed, o.puts
		o.queue, o.queued, o.dropped = nil, 0, 0
		o.changed.Broadcast()
		o.mu.Unlock()
		for _, q := range queue {
			q.w.Write(q.data)
		}
		if dropped > 0 {
			fmt.Fprintf(logTo, "%s %-7s server: %d log lines were dropped: the server's output could not be written fast enough\n",
				time.Now().Format(logTimeLayout), LevelError, dropped)
		}
		o.mu.Lock()
		o.written = upTo
		o.changed.Broadcast()
		o.mu.Unlock()
		if closed {
			return
		}
	}
}

// sync returns once everything queued before it was called is written.
// Safe on a nil serverOutput.
func (o *serverOutput) sync() {
	if o == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for target := o.puts; o.written < target && !o.closed; {
		o.changed.Wait()
	}
}

// close writes what is queued and ends the writer; later output is written
// straight through.
func (o *serverOutput) close() {
	o.mu.Lock()
	o.closed = true
	o.changed.Broadcast()
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
	<-o.done
}

// consoleOutput is the server's own stdout and stderr, shared by every
// program with stdout/stderr=<console>; whole lines are written at once so
// programs never interleave inside a line. With a serverOutput (the
// server has one) they are queued for its writer, else written here.
type consoleOutput struct {
	out, err io.Writer
	queue    *serverOutput
}

func (c *consoleOutput) writer(name string, toStderr bool) *consoleWriter {
	w := c.out
	if toStderr {
		w = c.err
	}
	return &consoleWriter{c: c, w: w, prefix: []byte(name + " | ")}
}

func (c *consoleOutput) write(w io.Writer, data []byte) {
	if c.queue != nil {
		c.queue.put(w, data, true)
		return
	}
	w.Write(data)
}

// consoleWriter prefixes each line of one stream with "NAME | ".
type consoleWriter struct {
	c       *consoleOutput
	w       io.Writer
	prefix  []byte
	mu      sync.Mutex // the stream's reader and the flush at its close
	partial []byte     // an unfinished line, waiting for its end
}

const consolePartialMax = 16 << 10

func (cw *consoleWriter) Write(p []byte) (int, error) {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	var out []byte
	rest := p
	for len(rest) > 0 {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			cw.partial = append(cw.partial, rest...)
			if len(cw.partial) >= consolePartialMax { // a very long line: show it in pieces
				out = append(append(append(out, cw.prefix...), cw.partial...), '\n')
				cw.partial = cw.partial[:0]
			}
			break
		}
		out = append(out, cw.prefix...)
		out = append(out, cw.partial...)
		out = append(out, rest[:i+1]...)
		cw.partial = cw.partial[:0]
		rest = rest[i+1:]
	}
	if len(out) > 0 {
		cw.c.write(cw.w, out)
	}
	return len(p), nil
}

func (cw *consoleWriter) flush() {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	if len(cw.partial) > 0 {
		cw.c.write(cw.w, append(append(append([]byte(nil), cw.prefix...), cw.partial...), '\n'))
		cw.partial = nil
	}
}

// serverLog is the operator's record: every state change, signal and
// reload, one timestamped line each. With a serverOutput (the server has
// one) lines are queued for its writer and logging never waits; else
// they are written here.
type serverLog struct {
	mu    sync.Mutex // guards writes to w without a queue
	w     io.Writer
	level LogLevel
	queue *serverOutput
}

// logTimeLayout is the time at the start of every server log line.
const logTimeLayout = "2006-01-02 15:04:05.000"

func (l *serverLog) logf(level LogLevel, format string, args ...any) {
	if l == nil || level < l.level {
		return
	}
	msg := escapeControls(fmt.Sprintf(format, args...), true) // names and texts of programs: no terminal escapes
	line := fmt.Sprintf("%s %-7s %s\n", time.Now().Format(logTimeLayout), level, msg)
	if l.queue != nil {
		l.queue.put(l.w, []byte(line), false)
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	io.WriteString(l.w, line)
}

func (l *serverLog) Debugf(format string, args ...any) { l.logf(LevelDebug, format, args...) }
func (l *serverLog) Infof(format string, args ...any)  { l.logf(LevelInfo, format, args...) }
func (l *serverLog) Warnf(format string, args ...any)  { l.logf(LevelWarning, format, args...) }
func (l *serverLog) Errorf(format string, args ...any) { l.logf(LevelError, format, args...) }
