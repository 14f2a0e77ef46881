// Tests of the control channel wire format: frames round trip over a pipe and
// a buffer, every malformed or truncated frame is an error, an oversized
// length is refused before the body is read, and the hello handshake fails
// clearly on both ends. FuzzReadFrame keeps readFrame from panicking or
// accepting more than its limit.
package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// frameBytes builds a raw frame: the 4-byte length of body, then body.
func frameBytes(body string) []byte {
	return withLength(uint32(len(body)), body)
}

// withLength builds a raw frame whose header claims size, whatever body is.
func withLength(size uint32, body string) []byte {
	out := binary.BigEndian.AppendUint32(nil, size)
	return append(out, body...)
}

// sampleMessages is one well-filled value of each message type.
func sampleMessages() []any {
	return []any{
		&hello{Magic: "ramona", Version: protocolVersion, Server: "1.2.3", PID: 4242, Error: "go away"},
		&request{
			ID: 7, Cmd: "tail", Names: []string{"web", "worker:*"},
			Flags: requestFlags{Force: true, KeepServer: true},
			N:     50, Stream: "stderr", Text: "hi <there> & co", Subject: "s", Target: "t",
		},
		&reply{ID: 7, Progress: "web: RUNNING", Data: "line 1\nline 2\n\x00é", Exit: 3},
		&reply{ID: 8, Done: true, Error: "no such program", Result: json.RawMessage(`{"programs":[{"name":"web","pid":12}]}`)},
	}
}

// freshLike returns a new zero value of the same type as v, a pointer.
func freshLike(v any) any {
	return reflect.New(reflect.TypeOf(v).Elem()).Interface()
}

func TestFrameRoundTripBuffer(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	msgs := sampleMessages()
	for _, m := range msgs {
		if err := writeFrame(&buf, m, maxRequestFrame); err != nil {
			t.Fatalf("writeFrame(%T): %v", m, err)
		}
	}
	for _, want := range msgs {
		got := freshLike(want)
		if err := readFrame(&buf, got, maxRequestFrame); err != nil {
			t.Fatalf("readFrame(%T): %v", want, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip of %T:\n got %+v\nwant %+v", want, got, want)
		}
	}
	if err := readFrame(&buf, &request{}, maxRequestFrame); err != io.EOF {
		t.Errorf("readFrame at end of buffer = %v, want io.EOF", err)
	}
}

func TestFrameRoundTripPipe(t *testing.T) {
	t.Parallel()
	client, server := net.Pipe()
	defer server.Close()
	msgs := sampleMessages()
	writeDone := make(chan error, 1)
	go func() {
		defer client.Close()
		for _, m := range msgs {
			if err := writeFrame(client, m, maxReplyFrame); err != nil {
				writeDone <- err
				return
			}
		}
		writeDone <- nil
	}()
	for _, want := range msgs {
		got := freshLike(want)
		if err := readFrame(server, got, maxReplyFrame); err != nil {
			t.Fatalf("readFrame(%T): %v", want, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip of %T:\n got %+v\nwant %+v", want, got, want)
		}
	}
	if err := readFrame(server, &reply{}, maxReplyFrame); err != io.EOF {
		t.Errorf("readFrame after the writer closed = %v, want io.EOF", err)
	}
	if err := <-writeDone; err != nil {
		t.Fatalf("writer: %v", err)
	}
}

func TestWriteFrameSingleWrite(t *testing.T) {
	t.Parallel()
	var w countingWriter
	if err := writeFrame(&w, sampleMessages()[1], maxRequestFrame); err != nil {
		t.Fatal(err)
	}
	if w.writes != 1 {
		t.Errorf("writeFrame made %d Write calls, want 1", w.writes)
	}
	size := binary.BigEndian.Uint32(w.data[:4])
	if int(size) != len(w.data)-4 {
		t.Errorf("header says %d bytes, body has %d", size, len(w.data)-4)
	}
	if body := w.data[4:]; bytes.HasSuffix(body, []byte("\n")) || !bytes.Contains(body, []byte("<there> & co")) {
		t.Errorf("body %q: want no trailing newline and no HTML escaping", body)
	}
}

type countingWriter struct {
	writes int
	data   []byte
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	w.data = append(w.data, p...)
	return len(p), nil
}

// headerOnlyReader serves a 4-byte header and fails the test if anything
// beyond it is read.
type headerOnlyReader struct {
	t      *testing.T
	header []byte
}

func (r *headerOnlyReader) Read(p []byte) (int, error) {
	if len(r.header) == 0 {
		r.t.Errorf("readFrame read past the header of an oversized frame")
		return 0, io.ErrUnexpectedEOF
	}
	n := copy(p, r.header)
	r.header = r.header[n:]
	return n, nil
}

func TestReadFrameOversizedLength(t *testing.T) {
	for _, tc := range []struct {
		size  uint32
		limit int
		want  string
	}{
		{maxRequestFrame + 1, maxRequestFrame, "frame of 65537 bytes exceeds the limit of 65536"},
		{maxReplyFrame + 1, maxReplyFrame, "frame of 16777217 bytes exceeds the limit of 16777216"},
		{0xFFFFFFFF, maxReplyFrame, "frame of 4294967295 bytes exceeds the limit of 16777216"},
	} {
		r := &headerOnlyReader{t: t, header: withLength(tc.size, "")}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		err := readFrame(r, &request{}, tc.limit)
		runtime.ReadMemStats(&after)
		if err == nil || err.Error() != tc.want {
			t.Errorf("size %d: err = %v, want %q", tc.size, err, tc.want)
		}
		if !isFrameFormatError(err) {
			t.Errorf("size %d: %v is not a frame format error", tc.size, err)
		}
		if grown := after.TotalAlloc - before.TotalAlloc; grown > 1<<20 {
			t.Errorf("size %d: readFrame allocated %d bytes for a refused frame", tc.size, grown)
		}
	}
}

func TestReadFrameAtLimit(t *testing.T) {
	t.Parallel()
	const limit = 100
	prefix, suffix := `{"cmd":"`, `"}`
	body := prefix + strings.Repeat("x", limit-len(prefix)-len(suffix)) + suffix
	var got request
	if err := readFrame(bytes.NewReader(frameBytes(body)), &got, limit); err != nil {
		t.Fatalf("frame of exactly the limit: %v", err)
	}
	if len(got.Cmd) != limit-len(prefix)-len(suffix) {
		t.Errorf("cmd has %d bytes", len(got.Cmd))
	}
	body = prefix + "x" + body[len(prefix):]
	if err := readFrame(bytes.NewReader(frameBytes(body)), &got, limit); err == nil {
		t.Errorf("frame of limit+1 bytes accepted")
	}
}

func TestReadFrameMalformed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		raw  []byte
		want string
	}{
		{"zero length", withLength(0, `{"id":1}`), "zero-length frame"},
		{"garbage", frameBytes(`hello there`), "not a JSON object"},
		{"cut JSON", frameBytes(`{"id":1,"cmd":`), "incomplete JSON object"},
		{"bad JSON", frameBytes(`{"id":1,,}`), "bad frame body"},
		{"wrong field type", frameBytes(`{"id":"one"}`), "bad frame body"},
		{"array", frameBytes(`[1,2]`), "not a JSON object"},
		{"null", frameBytes(`null`), "not a JSON object"},
		{"string", frameBytes(`"x"`), "not a JSON object"},
		{"whitespace only", frameBytes(" \n"), "not a JSON object"},
		{"trailing garbage", frameBytes(`{"id":1}x`), "trailing data"},
		{"two objects", frameBytes(`{"id":1}{"id":2}`), "trailing data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := readFrame(bytes.NewReader(tc.raw), &request{}, maxRequestFrame)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			if !isFrameFormatError(err) {
				t.Errorf("%v is not a frame format error", err)
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("%v claims the stream ended", err)
			}
		})
	}
}

func TestReadFrameStaysInStepAfterBadBody(t *testing.T) {
	t.Parallel()
	stream := append(frameBytes(`{"id":1}junk`), frameBytes(`{"id":2,"cmd":"status"}`)...)
	r := bytes.NewReader(stream)
	if err := readFrame(r, &request{}, maxRequestFrame); err == nil {
		t.Fatal("bad body accepted")
	}
	var next request
	if err := readFrame(r, &next, maxRequestFrame); err != nil || next.ID != 2 || next.Cmd != "status" {
		t.Errorf("next frame = %+v, %v; want id 2 status", next, err)
	}
}

func TestReadFrameWhitespaceAroundObject(t *testing.T) {
	t.Parallel()
	var got request
	if err := readFrame(bytes.NewReader(frameBytes(" \t{\"id\":5}\r\n")), &got, maxRequestFrame); err != nil || got.ID != 5 {
		t.Errorf("got %+v, %v; want id 5", got, err)
	}
}

func TestReadFrameUnknownFieldsIgnored(t *testing.T) {
	t.Parallel()
	var got request
	if err := readFrame(bytes.NewReader(frameBytes(`{"id":5,"future":[1,{"a":2}]}`)), &got, maxRequestFrame); err != nil || got.ID != 5 {
		t.Errorf("got %+v, %v; want id 5", got, err)
	}
}

func TestReadFrameTruncated(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		raw  []byte
	}{
		{"header of 1 byte", []byte{0}},
		{"header of 3 bytes", []byte{0, 0, 0}},
		{"header without body", withLength(10, "")},
		{"short body", withLength(20, `{"id":1}`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := readFrame(bytes.NewReader(tc.raw), &request{}, maxRequestFrame)
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("err = %v, want one wrapping io.ErrUnexpectedEOF", err)
			}
			if err == io.EOF {
				t.Errorf("truncated frame reported as a clean io.EOF")
			}
		})
	}
}

func TestReadFrameCleanEOF(t *testing.T) {
	t.Parallel()
	err := readFrame(bytes.NewReader(nil), &request{}, maxRequestFrame)
	if err != io.EOF || !errors.Is(err, io.EOF) {
		t.Errorf("err = %v, want io.EOF itself", err)
	}
}

func TestReadFrameTransportError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	err := readFrame(io.MultiReader(bytes.NewReader([]byte{0, 0}), errReader{boom}), &request{}, maxRequestFrame)
	if !errors.Is(err, boom) || isFrameFormatError(err) {
		t.Errorf("err = %v, want a transport error wrapping boom", err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestWriteFrameOverLimit(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	big := request{ID: 1, Cmd: "notify", Text: strings.Repeat("x", maxRequestFrame)}
	err := writeFrame(&buf, big, maxRequestFrame)
	if err == nil || !strings.Contains(err.Error(), "exceeds the limit of 65536") {
		t.Errorf("err = %v, want a limit error", err)
	}
	if buf.Len() != 0 {
		t.Errorf("writeFrame wrote %d bytes of a refused frame", buf.Len())
	}
	if err := writeFrame(&buf, big, maxReplyFrame); err != nil {
		t.Errorf("same value under the reply limit: %v", err)
	}
}

func TestWriteFrameRefusesNonObject(t *testing.T) {
	t.Parallel()
	var nilMap map[string]int
	for _, v := range []any{42, "x", []int{1}, nil, nilMap, (*request)(nil)} {
		var buf bytes.Buffer
		if err := writeFrame(&buf, v, maxRequestFrame); err == nil || buf.Len() != 0 {
			t.Errorf("writeFrame(%#v) = %v, wrote %d bytes; want a refusal", v, err, buf.Len())
		}
	}
	if err := writeFrame(io.Discard, func() {}, maxRequestFrame); err == nil {
		t.Errorf("writeFrame of a func succeeded")
	}
}

// handshakeOverPipe runs serverHandshake on one end of a pipe and
// clientHandshake on the other, and waits for both.
func handshakeOverPipe(t *testing.T) (hello, error, error) {
	t.Helper()
	client, server := net.Pipe()
	defer server.Close()
	serverDone := make(chan error, 1)
	go func() { serverDone <- serverHandshake(server, "9.9.9", 4242) }()
	got, clientErr := clientHandshake(client)
	client.Close() // unblocks the server if the client gave up mid-way
	return got, clientErr, <-serverDone
}

func TestHandshakeSuccess(t *testing.T) {
	t.Parallel()
	got, clientErr, serverErr := handshakeOverPipe(t)
	if clientErr != nil || serverErr != nil {
		t.Fatalf("client: %v, server: %v", clientErr, serverErr)
	}
	want := hello{Magic: "ramona", Version: protocolVersion, Server: "9.9.9", PID: 4242}
	if got != want {
		t.Errorf("server hello = %+v, want %+v", got, want)
	}
}

// fakeServer answers the client's hello with answer, raw bytes: what the
// client got, what the server read, and the client's error.
func fakeServer(t *testing.T, answer []byte) (hello, hello, error) {
	t.Helper()
	client, server := net.Pipe()
	defer client.Close()
	serverDone := make(chan hello, 1)
	go func() {
		defer server.Close()
		var theirs hello
		if err := readFrame(server, &theirs, maxRequestFrame); err != nil {
			t.Errorf("fake server read: %v", err)
		}
		if len(answer) > 0 {
			server.Write(answer) // the client may hang up early; its error says why
		}
		serverDone <- theirs
	}()
	got, err := clientHandshake(client)
	client.Close()
	return got, <-serverDone, err
}

// fakeClient sends hello bytes raw to serverHandshake and reads its answer.
func fakeClient(t *testing.T, greeting []byte) (hello, error, error) {
	t.Helper()
	client, server := net.Pipe()
	defer server.Close()
	serverDone := make(chan error, 1)
	go func() { serverDone <- serverHandshake(server, "9.9.9", 4242) }()
	var answer hello
	writeErr := make(chan error, 1)
	go func() { _, err := client.Write(greeting); writeErr <- err }()
	readErr := readFrame(client, &answer, maxReplyFrame)
	client.Close()
	<-writeErr // an oversized greeting is not read whole; Close ends the Write
	return answer, readErr, <-serverDone
}

func encodeHello(t *testing.T, h hello) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := writeFrame(&buf, h, maxRequestFrame); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestHandshakeClientSeesWrongMagic(t *testing.T) {
	t.Parallel()
	_, sent, err := fakeServer(t, encodeHello(t, hello{Magic: "nginx", Version: protocolVersion}))
	if err == nil || err.Error() != "not a ramona server" {
		t.Errorf("client error = %v, want not a ramona server", err)
	}
	if sent != (hello{Magic: "ramona", Version: protocolVersion}) {
		t.Errorf("client sent %+v", sent)
	}
}

func TestHandshakeClientSeesNonRamonaBytes(t *testing.T) {
	t.Parallel()
	_, _, err := fakeServer(t, []byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "not a ramona server: ") {
		t.Errorf("client error = %v, want not a ramona server: ...", err)
	}
}

func TestHandshakeClientSeesWrongVersion(t *testing.T) {
	t.Parallel()
	answer := hello{Magic: "ramona", Version: 2, Error: "client speaks protocol version 1, this server speaks 2"}
	got, _, err := fakeServer(t, encodeHello(t, answer))
	want := "server speaks protocol version 2, this client speaks 1"
	if err == nil || err.Error() != want {
		t.Errorf("client error = %v, want %q", err, want)
	}
	if got.Version != 2 {
		t.Errorf("client returned %+v, want the server's hello", got)
	}
}

func TestHandshakeClientSeesRefusal(t *testing.T) {
	t.Parallel()
	answer := hello{Magic: "ramona", Version: protocolVersion, Error: "too many clients"}
	_, _, err := fakeServer(t, encodeHello(t, answer))
	if err == nil || err.Error() != "too many clients" {
		t.Errorf("client error = %v, want too many clients", err)
	}
}

func TestHandshakeClientSeesHangUp(t *testing.T) {
	t.Parallel()
	_, _, err := fakeServer(t, nil)
	if !errors.Is(err, io.EOF) || !strings.Contains(err.Error(), "server closed the connection") {
		t.Errorf("client error = %v, want a closed-connection error", err)
	}
}

func TestHandshakeServerSeesWrongMagic(t *testing.T) {
	t.Parallel()
	answer, readErr, serverErr := fakeClient(t, encodeHello(t, hello{Magic: "other", Version: protocolVersion}))
	if serverErr == nil || serverErr.Error() != "not a ramona client" {
		t.Errorf("server error = %v, want not a ramona client", serverErr)
	}
	if readErr != nil {
		t.Fatalf("fake client read: %v", readErr)
	}
	want := hello{Magic: "ramona", Version: protocolVersion, Server: "9.9.9", PID: 4242, Error: "not a ramona client"}
	if answer != want {
		t.Errorf("server answered %+v, want %+v", answer, want)
	}
}

func TestHandshakeServerSeesWrongVersion(t *testing.T) {
	t.Parallel()
	answer, readErr, serverErr := fakeClient(t, encodeHello(t, hello{Magic: "ramona", Version: 7}))
	want := "client speaks protocol version 7, this server speaks 1"
	if serverErr == nil || serverErr.Error() != want {
		t.Errorf("server error = %v, want %q", serverErr, want)
	}
	if readErr != nil || answer.Error != want || answer.Version != protocolVersion {
		t.Errorf("server answered %+v, %v; want Error %q", answer, readErr, want)
	}
}

func TestHandshakeServerSeesMalformedHello(t *testing.T) {
	t.Parallel()
	answer, readErr, serverErr := fakeClient(t, []byte("GET / HTTP/1.1\r\n\r\n"))
	if serverErr == nil || !strings.HasPrefix(serverErr.Error(), "not a ramona client: frame of ") {
		t.Errorf("server error = %v, want not a ramona client: frame of ...", serverErr)
	}
	if readErr != nil || answer.Error != serverErr.Error() {
		t.Errorf("server answered %+v, %v", answer, readErr)
	}
}

func TestHandshakeServerSeesHangUp(t *testing.T) {
	t.Parallel()
	client, server := net.Pipe()
	defer server.Close()
	serverDone := make(chan error, 1)
	go func() { serverDone <- serverHandshake(server, "9.9.9", 4242) }()
	client.Close()
	if serverErr := <-serverDone; !errors.Is(serverErr, io.EOF) {
		t.Errorf("server error = %v, want one wrapping io.EOF", serverErr)
	}
}

func FuzzReadFrame(f *testing.F) {
	const limit = maxRequestFrame
	f.Fuzz(func(t *testing.T, data []byte) {
		var req request
		err := readFrame(bytes.NewReader(data), &req, limit)
		if len(data) == 0 {
			if err != io.EOF {
				t.Fatalf("empty input: err = %v, want io.EOF", err)
			}
			return
		}
		if len(data) < 4 {
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("short header: err = %v, want io.ErrUnexpectedEOF", err)
			}
			return
		}
		size := binary.BigEndian.Uint32(data)
		switch {
		case size > limit:
			if err == nil || !strings.Contains(err.Error(), "exceeds the limit") {
				t.Fatalf("length %d over the limit: err = %v", size, err)
			}
			return
		case size == 0:
			if err == nil {
				t.Fatal("zero-length frame accepted")
			}
			return
		case int(size) > len(data)-4:
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("truncated body: err = %v, want io.ErrUnexpectedEOF", err)
			}
			return
		}
		if err != nil {
			return
		}
		// Whatever was accepted must encode and decode to the same encoding.
		var first, second bytes.Buffer
		if err := writeFrame(&first, req, 1<<30); err != nil {
			t.Fatalf("re-encoding accepted %+v: %v", req, err)
		}
		var again request
		if err := readFrame(bytes.NewReader(first.Bytes()), &again, 1<<30); err != nil {
			t.Fatalf("reading back %q: %v", first.Bytes(), err)
		}
		if err := writeFrame(&second, again, 1<<30); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first.Bytes(), second.Bytes()) {
			t.Fatalf("encoding not stable:\n%q\n%q", first.Bytes(), second.Bytes())
		}
	})
}

// TestRequestFlagsOnTheWire: the typed flags are the same JSON object the
// clients sent as a map before, so a client and a server of either kind
// understand each other: a map's true values decode, false ones and
// unknown keys ("json", which was documented but never sent) are ignored,
// and the typed flags encode only their true values under the old keys.
func TestRequestFlagsOnTheWire(t *testing.T) {
	t.Parallel()
	var req request
	old := `{"id":3,"cmd":"stop","flags":{"nowait":true,"core":false,"server":true,"json":true}}`
	if err := json.Unmarshal([]byte(old), &req); err != nil {
		t.Fatal(err)
	}
	if want := (requestFlags{NoWait: true, KeepServer: true}); req.Flags != want {
		t.Errorf("an old client's flags decode to %+v, want %+v", req.Flags, want)
	}
	for _, tc := range []struct {
		flags requestFlags
		want  string
	}{
		{requestFlags{}, `{"id":0,"cmd":"stop"}`},
		{requestFlags{Force: true, Follow: true}, `{"id":0,"cmd":"stop","flags":{"force":true,"follow":true}}`},
		{requestFlags{Core: true, KeepServer: true, NoWait: true}, `{"id":0,"cmd":"stop","flags":{"nowait":true,"core":true,"server":true}}`},
	} {
		data, err := json.Marshal(request{Cmd: "stop", Flags: tc.flags})
		if err != nil || string(data) != tc.want {
			t.Errorf("%+v encodes as %s (%v), want %s", tc.flags, data, err, tc.want)
		}
		var asMap struct {
			Flags map[string]bool `json:"flags"`
		}
		if err := json.Unmarshal(data, &asMap); err != nil {
			t.Errorf("an old server cannot read %s: %v", data, err)
		}
	}
}
