// Tail, both ends: the server sends the last lines of a program's stream
// (from its log file or in-memory ring), then with -f its live output, in
// frames cut at line or character boundaries, on the connection's own
// goroutine; the command line writes the data to stdout and notes to
// stderr.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
	"unicode/utf8"
)

// tailedStream is what a tail reads, as the loop found it.
type tailedStream struct {
	out     *outputStream
	written <-chan struct{} // closed once what the loop queued for the logs (a banner) is written
	err     error
	note    string // said when nothing was logged
}

// serveTail answers `tail` on the connection's goroutine: the last lines of
// a stream, then with -f its live output until the client hangs up or the
// server exits.
func (cs *ctlServer) serveTail(conn net.Conn, c *clientConn, req request) bool {
	src, ok := cs.s.tailStream(req)
	if !ok {
		return false // the server has stopped
	}
	if src.err != nil {
		return writeFrame(conn, reply{ID: req.ID, Done: true, Exit: exitUsage, Error: src.err.Error()}, maxReplyFrame) == nil
	}
	n := req.N
	if n <= 0 {
		n = 40
	}
	<-src.written
	var follower *Follower
	if req.Flags.Follow {
		follower = src.out.follow(followerMaxBytes) // attached before reading the tail: nothing falls between
		defer follower.Close()
	}
	buf := make([]byte, tailFrameBytes) // one for the whole session
	if !sendLastLines(conn, req.ID, src, n, buf) {
		return false
	}
	if follower == nil {
		return writeFrame(conn, reply{ID: req.ID, Done: true}, maxReplyFrame) == nil
	}
	return cs.follow(conn, req.ID, follower, buf)
}

// tailStream finds, on the loop, the stream a tail reads; false when the
// server has stopped.
func (s *Supervisor) tailStream(req request) (tailedStream, bool) {
	ch := make(chan tailedStream, 1)
	s.post(func() {
		if len(req.Names) != 1 {
			ch <- tailedStream{err: errors.New("tail needs exactly one program name")}
			return
		}
		progs, err := s.resolveNames(req.Names)
		if err == nil && len(progs) > 1 {
			err = fmt.Errorf("%s matches %d programs (%s); tail shows one", req.Names[0], len(progs), strings.Join(namesOf(progs), ", "))
		}
		if err != nil {
			ch <- tailedStream{err: err}
			return
		}
		p := progs[0]
		logs := s.logsOf(p)
		stream := req.Stream
		if stream != "stdout" {
			stream = "stderr"
		}
		note := fmt.Sprintf("%s: nothing logged yet on %s", p.cfg.Name, stream)
		if p.launches == 0 {
			note = fmt.Sprintf("%s: nothing logged yet: it has not run since the server started (%s)", p.cfg.Name, p.state)
		}
		ch <- tailedStream{out: logs.stream(stream), written: logs.jobs.idle(), note: note}
	})
	select {
	case src := <-ch:
		return src, true
	case <-s.done:
		return tailedStream{}, false
	}
}

// sendLastLines sends the last n lines of src, with a note first when they
// were cut at tailMaxBytes and a note instead when there are none.
func sendLastLines(conn net.Conn, id int64, src tailedStream, n int, buf []byte) bool {
	text, cut := src.out.tailReader(n)
	defer text.Close()
	if cut {
		note := fmt.Sprintf("tail: the last %d lines reach further back than %d MiB: this shows the last %d MiB, from a line start", n, tailMaxBytes>>20, tailMaxBytes>>20)
		if src.out.file != nil {
			note += "; the whole log is " + src.out.file.Path()
		}
		if err := writeFrame(conn, reply{ID: id, Progress: note}, maxReplyFrame); err != nil {
			return false
		}
	}
	sent := &readCounter{r: text}
	err := sendData(conn, id, sent, buf)
	if err == nil && sent.n == 0 {
		err = writeFrame(conn, reply{ID: id, Progress: src.note}, maxReplyFrame)
	}
	return err == nil
}

// follow sends the follower's chunks until the client hangs up, the
// follower is dropped, or the server exits. The server that exits writes
// its last output (the EXITED banners) and closes its logs, which ends the
// follower, before it wakes its connections: the client gets all of it,
// then why it ended.
func (cs *ctlServer) follow(conn net.Conn, id int64, follower *Follower, buf []byte) bool {
	hangup := make(chan struct{})
	go func() { // ends when the client closes the connection or the server exits
		var b [1]byte
		conn.SetReadDeadline(time.Time{})
		conn.Read(b[:])
		close(hangup)
	}()
	send := func() (open bool, ok bool) {
		chunks, open := follower.Take()
		for _, chunk := range chunks {
			if err := sendData(conn, id, bytes.NewReader(chunk), buf); err != nil {
				return open, false
			}
		}
		return open, true
	}
	for {
		select {
		case <-follower.Ready():
			open, ok := send()
			if !ok {
				return false
			}
			if !open {
				msg, exit := "tail -f: stream closed", exitFailed
				switch {
				case follower.Dropped():
					msg = fmt.Sprintf("tail -f: dropped: this client fell more than %d MiB behind the output", followerMaxBytes>>20)
				case cs.s.stopping(): // the server closes every log before it exits
					msg, exit = "the server stopped", exitNoServer
				}
				writeFrame(conn, reply{ID: id, Done: true, Exit: exit, Error: msg}, maxReplyFrame)
				return false
			}
		case <-hangup:
			if cs.closing.Load() { // not the client: the server woke its connections to exit
				if _, ok := send(); ok {
					writeFrame(conn, reply{ID: id, Done: true, Exit: exitNoServer, Error: "the server stopped"}, maxReplyFrame)
				}
			}
			return false
		}
	}
}

// utf8Cut is where to end a piece of b so that it does not end inside a
// UTF-8 sequence: len(b), or the start of an incomplete last sequence.
func utf8Cut(b []byte) int {
	for i := len(b) - 1; i > 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if utf8.FullRune(b[i:]) {
				return len(b)
			}
			return i
		}
	}
	return len(b) // not UTF-8 there: any cut will do
}

// sendData sends what r holds as Data frames of at most len(buf) bytes, each
// cut after a newline where the piece has one, else before a UTF-8
// sequence, so that no character is split between two frames (a frame's
// data is a JSON string).
func sendData(w io.Writer, id int64, r io.Reader, buf []byte) error {
	fill := 0
	for {
		n, err := io.ReadFull(r, buf[fill:])
		fill += n
		last := err != nil // EOF, or the end of what can be read
		if fill == 0 {
			return nil
		}
		cut := fill
		if !last {
			if i := bytes.LastIndexByte(buf[:fill], '\n'); i >= 0 {
				cut = i + 1
			} else {
				cut = utf8Cut(buf[:fill])
			}
		}
		if err := writeFrame(w, reply{ID: id, Data: string(buf[:cut])}, maxReplyFrame); err != nil {
			return err
		}
		fill = copy(buf, buf[cut:fill])
		if last && fill == 0 {
			return nil
		}
	}
}

// readCounter counts the bytes read through it.
type readCounter struct {
	r io.Reader
	n int64
}

func (c *readCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// stopping reports, from any goroutine, whether the server is stopping
// every program to exit, or has done so.
func (s *Supervisor) stopping() bool {
	ch := make(chan bool, 1)
	s.post(func() { ch <- s.quitting })
	select {
	case q := <-ch:
		return q
	case <-s.done:
		return true
	}
}

func (c *cmdline) tail(in *invocation) int {
	if in.req.Stream == "" {
		in.req.Stream = "stderr"
	}
	_, code := c.call(in.req, func(r reply) {
		if r.Progress != "" { // a note (the output was cut, nothing was logged): not part of the log
			c.errorf("%s", r.Progress)
		}
		io.WriteString(c.stdout, r.Data)
	})
	return code
}
