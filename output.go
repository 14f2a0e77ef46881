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
	"strings"
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

func (o *outputStream) close() {
	if o.file != nil {
		o.file.Close()
	}
	if o.console != nil {
		o.console.flush()
	}
}

// programLogs is a program's two streams; when one is merged into the
// other both fields point at the same stream. Banners go to stderr's.
type programLogs struct {
	stdout, stderr *outputStream
}

func (s *Supervisor) openProgramLogs(pc *ProgramConfig) *programLogs {
	open := func(t OutputTarget, consoleErr bool) *outputStream {
		switch t.Kind {
		case OutFile:
			path := t.Path
			return &outputStream{file: openLogFile(path, pc.Log, programOwners(pc), func(err error) {
				s.log.Errorf("%s: log file %s: %v", pc.Name, path, err)
			})}
		case OutConsole:
			return &outputStream{ring: newRing(ringSize), console: s.console.writer(pc.Name, consoleErr)}
		}
		return &outputStream{ring: newRing(ringSize)}
	}
	l := &programLogs{}
	switch {
	case pc.Stdout.Kind == OutMerged:
		l.stderr = open(pc.Stderr, true)
		l.stdout = l.stderr
	case pc.Stderr.Kind == OutMerged:
		l.stdout = open(pc.Stdout, false)
		l.stderr = l.stdout
	default:
		l.stdout = open(pc.Stdout, false)
		l.stderr = open(pc.Stderr, true)
	}
	return l
}

// programOwners is who besides root and the server may own the program's
// log files: its user=, who may have created them before.
func programOwners(pc *ProgramConfig) []int {
	if pc.User == "" {
		return nil
	}
	return []int{int(pc.UID)}
}

func (l *programLogs) banner(text string) {
	if l != nil {
		l.stderr.Write([]byte(text))
	}
}

func (l *programLogs) merged() bool { return l.stdout == l.stderr }

func (l *programLogs) stream(name string) *outputStream {
	if name == "stdout" {
		return l.stdout
	}
	return l.stderr
}

func (l *programLogs) lost() int64 {
	if l == nil {
		return 0
	}
	n := l.stderr.lost()
	if !l.merged() {
		n += l.stdout.lost()
	}
	return n
}

// problem describes what keeps the program's log files from working, one
// line per file, or returns "".
func (l *programLogs) problem() string {
	if l == nil {
		return ""
	}
	text := l.stderr.problem()
	if !l.merged() {
		text = joinLines(l.stdout.problem(), text)
	}
	return text
}

// joinLines joins the non-empty texts with newlines.
func joinLines(texts ...string) string {
	var lines []string
	for _, t := range texts {
		if t != "" {
			lines = append(lines, t)
		}
	}
	return strings.Join(lines, "\n")
}

func (l *programLogs) reopen() {
	if l == nil {
		return
	}
	for _, o := range []*outputStream{l.stdout, l.stderr} {
		if o.file != nil {
			o.file.Reopen()
		}
	}
}

func (l *programLogs) close() {
	if l == nil {
		return
	}
	l.stderr.close()
	if !l.merged() {
		l.stdout.close()
	}
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
// with log scan rules, scan looks at each chunk after it was passed on).
// It returns at once; at EOF or on a read error it tells the loop.
func (s *Supervisor) readOutput(inst *instance, pipe *outPipe, dst io.Writer, timestamps bool, scan *logScanner) {
	if timestamps {
		dst = &timestampWriter{w: dst, lineStart: true, now: time.Now}
	}
	if scan != nil {
		scan.dst = dst
		dst = scan
	}
	pipe.read(func(p []byte) { dst.Write(p) }, func(err error) {
		if err != io.EOF {
			s.log.Errorf("%s: cannot read output: %v", inst.prog.cfg.Name, err)
		}
		s.post(func() { s.readerDone(inst) })
	})
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

// consoleOutput is the server's own stdout and stderr, shared by every
// program with stdout/stderr=<console>; whole lines are written under one
// lock so programs never interleave inside a line.
type consoleOutput struct {
	mu       sync.Mutex
	out, err io.Writer
}

func (c *consoleOutput) writer(name string, toStderr bool) *consoleWriter {
	w := c.out
	if toStderr {
		w = c.err
	}
	return &consoleWriter{c: c, w: w, prefix: []byte(name + " | ")}
}

// consoleWriter prefixes each line of one stream with "NAME | ".
type consoleWriter struct {
	c       *consoleOutput
	w       io.Writer
	prefix  []byte
	partial []byte // an unfinished line, waiting for its end
}

const consolePartialMax = 16 << 10

func (cw *consoleWriter) Write(p []byte) (int, error) {
	cw.c.mu.Lock()
	defer cw.c.mu.Unlock()
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
		cw.w.Write(out)
	}
	return len(p), nil
}

func (cw *consoleWriter) flush() {
	cw.c.mu.Lock()
	defer cw.c.mu.Unlock()
	if len(cw.partial) > 0 {
		cw.w.Write(append(append(append([]byte(nil), cw.prefix...), cw.partial...), '\n'))
		cw.partial = nil
	}
}

// serverLog is the operator's record: every state change, signal and
// reload, one timestamped line each.
type serverLog struct {
	mu    sync.Mutex
	w     io.Writer
	level LogLevel
}

func (l *serverLog) logf(level LogLevel, format string, args ...any) {
	if l == nil || level < l.level {
		return
	}
	msg := escapeControls(fmt.Sprintf(format, args...), true) // names and texts of programs: no terminal escapes
	line := fmt.Sprintf("%s %-7s %s\n", time.Now().Format("2006-01-02 15:04:05.000"), level, msg)
	l.mu.Lock()
	defer l.mu.Unlock()
	io.WriteString(l.w, line)
}

func (l *serverLog) Debugf(format string, args ...any) { l.logf(LevelDebug, format, args...) }
func (l *serverLog) Infof(format string, args ...any)  { l.logf(LevelInfo, format, args...) }
func (l *serverLog) Warnf(format string, args ...any)  { l.logf(LevelWarning, format, args...) }
func (l *serverLog) Errorf(format string, args ...any) { l.logf(LevelError, format, args...) }
