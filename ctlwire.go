// Ctlwire owns the wire format of the control channel between the command line
// and the server: length-prefixed JSON frames, their size bounds, the message
// types (hello, request, reply) and the hello handshake. It knows nothing about
// sockets or deadlines: it works on any io.Reader/io.Writer, and the caller
// owns the connection.
package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
)

// protocolVersion is the version both ends announce in their hello; a
// mismatch ends the connection.
const protocolVersion = 1

// helloMagic is the value of the "hello" field in every hello frame.
const helloMagic = "ramona"

// Frame size bounds: what the server accepts from a client, and what a client
// accepts from the server (status of many programs, long tails).
const (
	maxRequestFrame = 64 << 10
	maxReplyFrame   = 16 << 20
)

// frameHeaderSize is the 4-byte big-endian body length in front of each frame.
const frameHeaderSize = 4

// hello is the first frame in each direction.
type hello struct {
	Magic   string `json:"hello"`            // always "ramona"
	Version int    `json:"version"`          // protocolVersion
	Server  string `json:"server,omitempty"` // server's version string (reply only)
	PID     int    `json:"pid,omitempty"`    // server pid (reply only)
	Error   string `json:"error,omitempty"`  // reply only: why the server refuses
}

// request is one command from a client; Cmd is a name of the command table
// (verbs.go).
type request struct {
	ID      int64        `json:"id"`
	Cmd     string       `json:"cmd"`
	Names   []string     `json:"names,omitempty"`
	Flags   requestFlags `json:"flags,omitzero"`
	N       int          `json:"n,omitempty"`      // tail -n
	Stream  string       `json:"stream,omitempty"` // tail -l stdout|stderr
	Text    string       `json:"text,omitempty"`   // notify text
	Subject string       `json:"subject,omitempty"`
	Target  string       `json:"target,omitempty"`
}

// requestFlags are a request's switches. On the wire they are the object
// of true values that clients sent as a map before ({"force":true}), so a
// client and a server of either kind understand each other.
type requestFlags struct {
	Force      bool `json:"force,omitempty"`  // start, restart -f: FATAL programs too
	NoWait     bool `json:"nowait,omitempty"` // -i: answer once the first group was started
	Core       bool `json:"core,omitempty"`   // stop -c: SIGQUIT first for a core dump
	KeepServer bool `json:"server,omitempty"` // stop -S: without names, the server stays
	Follow     bool `json:"follow,omitempty"` // tail -f
}

// Exit codes: of the command line, and what a reply tells it to return.
const (
	exitOK       = 0 // success; for status, every program in scope that should run is RUNNING
	exitFailed   = 1 // the operation failed
	exitUsage    = 2 // a configuration or usage error
	exitNotAll   = 3 // status: a program in scope is not running
	exitNoServer = 4 // the server is not running or cannot be reached
)

// reply is one answer frame; a request gets zero or more progress frames then
// exactly one with Done=true.
type reply struct {
	ID       int64           `json:"id"`
	Progress string          `json:"progress,omitempty"` // one human line, e.g. "web: RUNNING"
	Data     string          `json:"data,omitempty"`     // raw output chunk (tail)
	Done     bool            `json:"done,omitempty"`
	Exit     int             `json:"exit,omitempty"` // the exit code the command line returns (exitOK ...)
	Error    string          `json:"error,omitempty"`
	Result   json.RawMessage `json:"result,omitempty"` // command-specific payload
}

// frameFormatError is a frame that breaks the format (bad length, bad JSON),
// as opposed to an I/O error of the transport. The peer is probably not a
// ramona peer, or not one of this protocol.
type frameFormatError struct{ msg string }

func (e *frameFormatError) Error() string { return e.msg }

func frameFormatErrorf(format string, args ...any) error {
	return &frameFormatError{msg: fmt.Sprintf(format, args...)}
}

// isFrameFormatError reports whether err says the bytes broke the format.
func isFrameFormatError(err error) bool {
	var fe *frameFormatError
	return errors.As(err, &fe)
}

// writeFrame marshals v as JSON and writes one frame; error if the encoding
// exceeds limit. Header and body go out in a single Write so that writers
// serialised by a mutex never interleave partial frames.
func writeFrame(w io.Writer, v any, limit int) error {
	// A reply's Result is JSON that json.Marshal made (the status of every
	// program can be 150 KB): it goes in as it is, after the other fields,
	// where encoding/json would copy and re-validate it byte by byte. Result
	// is the last field of reply, so the bytes are the same either way.
	var result json.RawMessage
	switch r := v.(type) {
	case reply:
		result, r.Result = r.Result, nil
		v = r
	case *reply:
		if r != nil {
			c := *r
			result, c.Result = c.Result, nil
			v = &c
		}
	}
	var buf bytes.Buffer
	buf.Grow(frameHeaderSize + 256 + len(result))
	buf.Write(make([]byte, frameHeaderSize))
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // log lines keep their <, > and & readable
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode frame: %w", err)
	}
	frame := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	body := frame[frameHeaderSize:]
	if len(body) == 0 || body[0] != '{' {
		return fmt.Errorf("frame body must be a JSON object, not %T", v)
	}
	if len(result) > 0 {
		frame = append(frame[:len(frame)-1], `,"result":`...)
		frame = append(append(frame, result...), '}')
		body = frame[frameHeaderSize:]
	}
	if int64(len(body)) > int64(limit) || int64(len(body)) > math.MaxUint32 {
		return frameFormatErrorf("frame of %d bytes exceeds the limit of %d", len(body), limit)
	}
	binary.BigEndian.PutUint32(frame, uint32(len(body)))
	_, err := w.Write(frame)
	return err
}

// readFrame reads one frame of at most limit bytes and unmarshals its JSON
// object into v. A clean end of stream before the first header byte returns
// io.EOF itself; a stream that ends inside a frame returns an error wrapping
// io.ErrUnexpectedEOF. A length above limit is refused before the body is
// read or allocated, which leaves the stream out of step: close it. A body
// that is not one JSON object has been consumed, so the next frame is intact.
// Unknown fields are ignored; v should be a fresh value.
func readFrame(r io.Reader, v any, limit int) error {
	var header [frameHeaderSize]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		if err == io.EOF {
			return io.EOF
		}
		return fmt.Errorf("read frame header: %w", err)
	}
	size := binary.BigEndian.Uint32(header[:])
	if size == 0 {
		return frameFormatErrorf("zero-length frame")
	}
	if int64(size) > int64(limit) {
		return frameFormatErrorf("frame of %d bytes exceeds the limit of %d", size, limit)
	}
	body := make([]byte, size)
	if got, err := io.ReadFull(r, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("truncated frame: got %d of %d bytes: %w", got, size, err)
	}
	return decodeFrameBody(body, v)
}

// decodeFrameBody unmarshals body, which must hold exactly one JSON object
// and nothing else but whitespace, into v.
func decodeFrameBody(body []byte, v any) error {
	if start := bytes.TrimLeft(body, jsonSpace); len(start) == 0 || start[0] != '{' {
		return frameFormatErrorf("frame body is not a JSON object")
	}
	// json.Unmarshal reads the body where it lies (a Decoder would copy it
	// into a buffer of its own, growing it as it goes: a status reply of
	// 1000 programs is 200 KB) and accepts exactly one value with only
	// whitespace around it. A body it refuses is read again by the Decoder
	// below, which says what is wrong in the frame's own terms.
	if json.Unmarshal(body, v) == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			// The body is whole; only its JSON is cut short. Do not
			// report it as a broken stream.
			return frameFormatErrorf("bad frame body: incomplete JSON object")
		}
		return frameFormatErrorf("bad frame body: %v", err)
	}
	if rest := bytes.TrimLeft(body[dec.InputOffset():], jsonSpace); len(rest) > 0 {
		return frameFormatErrorf("bad frame body: %d bytes of trailing data after the JSON object", len(rest))
	}
	return nil
}

// jsonSpace is the whitespace JSON allows around a value.
const jsonSpace = " \t\r\n"

// clientHandshake sends hello and reads the server's hello; returns it, or an
// error that says what is wrong.
func clientHandshake(rw io.ReadWriter) (hello, error) {
	if err := writeFrame(rw, hello{Magic: helloMagic, Version: protocolVersion}, maxRequestFrame); err != nil {
		return hello{}, fmt.Errorf("send hello: %w", err)
	}
	var theirs hello
	if err := readFrame(rw, &theirs, maxReplyFrame); err != nil {
		switch {
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return hello{}, fmt.Errorf("server closed the connection during the handshake: %w", err)
		case isFrameFormatError(err):
			return hello{}, fmt.Errorf("not a ramona server: %w", err)
		default:
			return hello{}, fmt.Errorf("read server hello: %w", err)
		}
	}
	switch {
	case theirs.Magic != helloMagic:
		return theirs, errors.New("not a ramona server")
	case theirs.Version != protocolVersion:
		return theirs, fmt.Errorf("server speaks protocol version %d, this client speaks %d", theirs.Version, protocolVersion)
	case theirs.Error != "":
		return theirs, errors.New(theirs.Error)
	}
	return theirs, nil
}

// serverHandshake reads the client's hello (bounded by maxRequestFrame) and
// answers with ours. On a malformed hello, a wrong magic or a wrong version
// it still answers, with Error set, then returns that error; on an I/O error
// it does not answer.
func serverHandshake(rw io.ReadWriter, version string, pid int) error {
	ours := hello{Magic: helloMagic, Version: protocolVersion, Server: version, PID: pid}
	var theirs hello
	err := readFrame(rw, &theirs, maxRequestFrame)
	switch {
	case err == nil:
	case isFrameFormatError(err):
		return refuseClient(rw, ours, fmt.Errorf("not a ramona client: %w", err))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("client closed the connection during the handshake: %w", err)
	default:
		return fmt.Errorf("read client hello: %w", err)
	}
	if theirs.Magic != helloMagic {
		return refuseClient(rw, ours, errors.New("not a ramona client"))
	}
	if theirs.Version != protocolVersion {
		return refuseClient(rw, ours, fmt.Errorf("client speaks protocol version %d, this server speaks %d", theirs.Version, protocolVersion))
	}
	if err := writeFrame(rw, ours, maxReplyFrame); err != nil {
		return fmt.Errorf("send hello: %w", err)
	}
	return nil
}

// refuseClient answers with ours carrying why, best effort, and returns why.
func refuseClient(w io.Writer, ours hello, why error) error {
	ours.Error = why.Error()
	_ = writeFrame(w, ours, maxReplyFrame) // the refusal is the error that matters
	return why
}
