//go:build unix

// End-to-end tests of the control channel, with a real server process and
// real sockets: the socket file (mode, stale file of a crashed server, a live
// server or a regular file in the way, the peer uid check), the protocol
// (garbage, oversized frames, a wrong version), who, tail (banners, <null>
// streams, -f), and reload (by command and by SIGHUP, and a broken file).
package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// prog is a [program:NAME] section with the given command (helperCommand),
// extra key=value lines, and starttimeout 0.2s unless extra sets it.
func progSection(name, command string, extra ...string) string {
	keys := strings.Join(extra, "\n")
	if !strings.Contains(keys, "starttimeout=") {
		keys = "starttimeout=0.2\n" + keys
	}
	return fmt.Sprintf("[program:%s]\ncommand=%s\n%s\n\n", name, command, keys)
}

// writeWithURI writes the configuration as write does, with consoleuri set
// to uri instead of unix://r.sock.
func (r *testRamona) writeWithURI(uri, sections string) {
	r.t.Helper()
	text := fmt.Sprintf("[general]\nlogdir=./log\n\n[env]\nRAMONA_TEST_ID=%s\n\n[ramona:server]\nconsoleuri=%s\n\n%s\n", r.id, uri, sections)
	if err := os.WriteFile(r.conf, []byte(text), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// in is r for use in subtest t: its failures and logs go to t.
func (r *testRamona) in(t *testing.T) *testRamona {
	c := *r
	c.t = t
	return &c
}

// statusOf asks for the status over cl, a connection that needs no
// readable configuration.
func statusOf(t *testing.T, cl *ctlClient) map[string]programStatus {
	t.Helper()
	rep, err := cl.call(request{Cmd: "status"}, nil)
	var list []programStatus
	if err == nil {
		err = json.Unmarshal(rep.Result, &list)
	}
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	m := map[string]programStatus{}
	for _, st := range list {
		m[st.Name] = st
	}
	return m
}

// sock is the path of the server's socket.
func (r *testRamona) sock() string { return filepath.Join(r.dir, "r.sock") }

// dial connects to the server and shakes hands; the connection is closed at
// the end of the test.
func (r *testRamona) dial() *ctlClient {
	r.t.Helper()
	cl, err := dialServer(SocketURI{Scheme: "unix", Path: r.sock()})
	if err != nil {
		r.t.Fatalf("dial %s: %v", r.sock(), err)
	}
	r.t.Cleanup(cl.close)
	return cl
}

// rawDial connects to the server's socket without a handshake.
func (r *testRamona) rawDial() net.Conn {
	r.t.Helper()
	conn, err := net.Dial("unix", r.sock())
	if err != nil {
		r.t.Fatalf("dial %s: %v", r.sock(), err)
	}
	r.t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	return conn
}

// startFailing runs a server that must refuse to start, and returns its
// exit code and output.
func (r *testRamona) startFailing(logName string) (int, string) {
	r.t.Helper()
	logPath := filepath.Join(r.dir, logName)
	s := startRamonaProcess(r.t, logPath, []string{"RAMONA_TEST_ID=" + r.id}, "-c", r.conf, "daemon")
	code, err := s.wait(30 * time.Second)
	if err != nil {
		r.t.Fatalf("the server should have refused to start: %v", err)
	}
	out, _ := os.ReadFile(logPath)
	return code, string(out)
}

// pids maps every program to its pid.
func (r *testRamona) pids() map[string]int {
	r.t.Helper()
	m := map[string]int{}
	for name, st := range r.status() {
		m[name] = st.PID
	}
	return m
}

// lineOf is the line number of the first line of file that contains s.
func lineOf(t *testing.T, file, s string) int {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, s) {
			return i + 1
		}
	}
	t.Fatalf("%s has no line with %q", file, s)
	return 0
}

func TestSocketMode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		uri  string
		mode os.FileMode
	}{
		{"unix://r.sock", 0o600},
		{"unix://r.sock?mode=0660", 0o660},
	} {
		t.Run(fmt.Sprintf("%04o", tc.mode), func(t *testing.T) {
			r := newTestRamona(t, "")
			r.writeWithURI(tc.uri, "")
			r.start()
			fi, err := os.Lstat(r.sock())
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != tc.mode {
				t.Errorf("%s: mode %v; want a socket with %04o", tc.uri, fi.Mode(), tc.mode)
			}
			r.stopAll()
			if _, err := os.Lstat(r.sock()); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("socket file after the server exited: %v; want it removed", err)
			}
		})
	}
}

// TestStaleSocket: the socket file of a crashed server (nobody listens) is
// replaced.
func TestStaleSocket(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, progSection("one", helperCommand(t, "sleep", "1h")))
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: r.sock(), Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()
	if fi, err := os.Lstat(r.sock()); err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("stale socket file: %v %v", fi, err)
	}
	r.start()
	r.waitState("one", "RUNNING", 10*time.Second)
	r.stopAll()
}

// TestSecondServerRefused: a second server on the socket of a live one
// names the other's pid and exits 1; the first one is unaffected.
func TestSecondServerRefused(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, progSection("one", helperCommand(t, "sleep", "1h")))
	first := r.start()
	before := r.waitState("one", "RUNNING", 10*time.Second)
	code, out := r.startFailing("second.log")
	want := fmt.Sprintf("another Ramona server (pid %d) is already running", first.cmd.Process.Pid)
	if code != 1 || !strings.Contains(out, want) {
		t.Errorf("second server: exit %d, output:\n%s\nwant exit 1 and %q", code, out, want)
	}
	if after := r.waitState("one", "RUNNING", 10*time.Second); after.PID != before.PID {
		t.Errorf("one: pid %d after the second server; want %d", after.PID, before.PID)
	}
	r.stopAll()
}

// TestSocketPathIsRegularFile: a file that is not a socket is refused, and
// kept.
func TestSocketPathIsRegularFile(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, "")
	if err := os.WriteFile(r.sock(), []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := r.startFailing("server.log")
	if code != 1 || !strings.Contains(out, "exists and is not a socket") {
		t.Errorf("server: exit %d, output:\n%s\nwant exit 1 and \"exists and is not a socket\"", code, out)
	}
	if data, err := os.ReadFile(r.sock()); err != nil || string(data) != "precious" {
		t.Errorf("the file in the way: %q, %v; want it kept", data, err)
	}
}

// TestPeerCheck: with a socket everyone may open, a client of another uid
// is refused, and told so.
func TestPeerCheck(t *testing.T) {
	t.Parallel()
	u := newThrowawayUser(t)
	r := newTestRamona(t, "")
	r.writeWithURI("unix://r.sock?mode=0666", progSection("one", helperCommand(t, "sleep", "1h")))
	r.start()
	r.waitState("one", "RUNNING", 10*time.Second)
	code, out := u.ramona(t, r, "status")
	if code != exitNoServer || !strings.Contains(out, fmt.Sprintf("uid %d", u.uid)) || !strings.Contains(out, "refused") {
		t.Errorf("status as uid %d: exit %d, output %q; want exit %d and a message that the server refused uid %d",
			u.uid, code, out, exitNoServer, u.uid)
	}
	if log := r.serverLog(); !strings.Contains(log, "refused") || !strings.Contains(log, fmt.Sprintf("uid %d", u.uid)) {
		t.Errorf("server log has no refusal of uid %d:\n%s", u.uid, log)
	}
	if code, _, _ := r.cli("status"); code != 0 {
		t.Errorf("status as root after the refusal: exit %d, want 0", code)
	}
	r.stopAll()
}

// readUntilClosed reads what the server sends until it closes the
// connection; an error when it does not within the connection's deadline.
func readUntilClosed(conn net.Conn) ([]byte, error) {
	data, err := io.ReadAll(conn)
	if err != nil && errors.Is(err, syscall.ECONNRESET) {
		err = nil // the server closed with our unread bytes in its queue
	}
	return data, err
}

// TestProtocolBadClients: garbage, oversized frames and a wrong protocol
// version close that connection only; the server answers the next client.
func TestProtocolBadClients(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, progSection("one", helperCommand(t, "sleep", "1h")))
	r.start()
	r.waitState("one", "RUNNING", 10*time.Second)
	oversized := make([]byte, frameHeaderSize)
	binary.BigEndian.PutUint32(oversized, maxRequestFrame+1)

	t.Run("garbage", func(t *testing.T) {
		r := r.in(t)
		conn := r.rawDial()
		io.WriteString(conn, "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
		data, err := readUntilClosed(conn)
		if err != nil {
			t.Errorf("after garbage: %v (%q); want the server to close the connection", err, data)
		}
	})
	t.Run("oversized hello", func(t *testing.T) {
		r := r.in(t)
		conn := r.rawDial()
		conn.Write(append(oversized, bytes.Repeat([]byte("x"), 1000)...))
		var h hello
		if err := readFrame(conn, &h, maxReplyFrame); err != nil || !strings.Contains(h.Error, "exceeds the limit") {
			t.Errorf("after an oversized hello: %+v, %v; want a refusal naming the limit", h, err)
		}
		if data, err := readUntilClosed(conn); err != nil {
			t.Errorf("after an oversized hello: %v (%q); want the server to close the connection", err, data)
		}
	})
	t.Run("oversized request", func(t *testing.T) {
		r := r.in(t)
		cl := r.dial()
		cl.conn.SetDeadline(time.Now().Add(20 * time.Second))
		cl.conn.Write(append(oversized, bytes.Repeat([]byte("x"), 1000)...))
		if data, err := readUntilClosed(cl.conn); err != nil || len(data) != 0 {
			t.Errorf("after an oversized request: %v (%q); want the server to close the connection", err, data)
		}
		waitFor(t, "the server log to report the bad request", 10*time.Second, func() bool {
			return strings.Contains(r.serverLog(), "bad request") && strings.Contains(r.serverLog(), "exceeds the limit")
		})
	})
	t.Run("wrong version", func(t *testing.T) {
		r := r.in(t)
		conn := r.rawDial()
		if err := writeFrame(conn, hello{Magic: helloMagic, Version: protocolVersion + 1}, maxRequestFrame); err != nil {
			t.Fatal(err)
		}
		var h hello
		if err := readFrame(conn, &h, maxReplyFrame); err != nil {
			t.Fatalf("no answer to a hello of version %d: %v", protocolVersion+1, err)
		}
		want := fmt.Sprintf("client speaks protocol version %d, this server speaks %d", protocolVersion+1, protocolVersion)
		if h.Error != want || h.Version != protocolVersion {
			t.Errorf("hello of version %d: answer %+v; want error %q", protocolVersion+1, h, want)
		}
		if data, err := readUntilClosed(conn); err != nil || len(data) != 0 {
			t.Errorf("after the refusal: %v (%q); want the connection closed", err, data)
		}
	})
	if code, out, _ := r.cli("status"); code != 0 || !strings.Contains(out, "RUNNING") {
		t.Errorf("status after the bad clients: exit %d, %q; want 0", code, out)
	}
	r.stopAll()
}

func TestWho(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, "")
	r.start()
	other := r.dial()
	var lines []string
	waitFor(t, "who to list two clients", 10*time.Second, func() bool {
		code, out, _ := r.cli("who")
		lines = strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		return code == 0 && len(lines) == 2
	})
	self := fmt.Sprintf("uid %d", os.Geteuid())
	marked := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "*") {
			marked++
		}
		if !strings.Contains(l, "unix") || !strings.Contains(l, self) || !strings.Contains(l, "connected") {
			t.Errorf("who line %q: want transport, peer (%s) and connect time", l, self)
		}
	}
	if marked != 1 || !strings.HasPrefix(lines[1], "*") {
		t.Errorf("who:\n%s\nwant the caller (the newer connection) marked with *, the other not", strings.Join(lines, "\n"))
	}
	other.close()
	waitFor(t, "who to list only the caller", 10*time.Second, func() bool {
		_, out, _ := r.cli("who")
		return strings.Count(out, "\n") == 1 && strings.HasPrefix(out, "*")
	})
	r.stopAll()
}

func TestTailCommand(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, progSection("quiet", helperCommand(t, "echo-lines", "0", "1ms"))+
		progSection("fails", helperCommand(t, "exit", "3"))+
		progSection("nullout", helperCommand(t, "echo-lines", "3", "1ms"), "stdout=<null>")+
		progSection("lines", helperCommand(t, "echo-lines", "3", "1ms")))
	r.start()
	for _, name := range []string{"quiet", "nullout", "lines"} {
		r.waitState(name, "RUNNING", 10*time.Second)
	}
	r.waitState("fails", "FATAL", 10*time.Second)

	t.Run("exit banner", func(t *testing.T) {
		r := r.in(t)
		code, out, _ := r.cli("tail", "-n", "2", "fails")
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if code != 0 || len(lines) != 2 || lines[0] != "exit: 3" ||
			!strings.HasPrefix(lines[1], "-=[ fails EXITED on ") || !strings.Contains(lines[1], "with status 3") {
			t.Errorf("tail -n 2 fails: exit %d, %q; want \"exit: 3\" and the EXITED banner", code, out)
		}
	})
	t.Run("restart banners", func(t *testing.T) {
		r := r.in(t)
		old := r.status()["quiet"].PID
		if code, _, _ := r.cli("restart", "quiet"); code != 0 {
			t.Fatalf("restart quiet: exit %d", code)
		}
		code, out, _ := r.cli("tail", "-n", "2", "quiet")
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if code != 0 || len(lines) != 2 ||
			!strings.HasPrefix(lines[0], "-=[ quiet EXITED on ") || !strings.Contains(lines[0], fmt.Sprintf("SIGTERM, pid: %d ]=-", old)) ||
			!strings.HasPrefix(lines[1], "-=[ quiet STARTING by Ramona on ") {
			t.Errorf("tail -n 2 quiet: exit %d, %q; want the EXITED banner of pid %d and a STARTING banner", code, out, old)
		}
	})
	t.Run("null stdout", func(t *testing.T) {
		r := r.in(t)
		var out string
		waitFor(t, "tail -l stdout nullout to show three lines", 10*time.Second, func() bool {
			_, out, _ = r.cli("-s", "tail", "-l", "stdout", "nullout")
			return out == "line 1\nline 2\nline 3\n"
		})
		if code, out, _ := r.cli("tail", "nullout"); code != 0 || !strings.Contains(out, "nullout STARTING") || strings.Contains(out, "line 1") {
			t.Errorf("tail nullout (stderr): exit %d, %q; want the STARTING banner and no stdout line", code, out)
		}
	})
	t.Run("follow", func(t *testing.T) {
		r := r.in(t)
		r.waitProgramLog("lines", "line 3\n") // RUNNING may come before a loaded machine ran the helper's writes
		cl := r.dial()
		cl.conn.SetDeadline(time.Now().Add(30 * time.Second))
		if err := writeFrame(cl.conn, request{ID: 1, Cmd: "tail", Names: []string{"lines"}, N: 10, Stream: "stderr", Flags: requestFlags{Follow: true}}, maxRequestFrame); err != nil {
			t.Fatal(err)
		}
		var first reply
		if err := readFrame(cl.conn, &first, maxReplyFrame); err != nil || !strings.Contains(first.Data, "line 3\n") {
			t.Fatalf("tail -f lines: first reply %+v, %v; want the last lines", first, err)
		}
		// Everything the restart writes arrives: the banners and the new
		// instance's lines.
		if code, _, _ := r.cli("restart", "lines"); code != 0 {
			t.Fatalf("restart lines: exit %d", code)
		}
		var got strings.Builder
		for {
			var rep reply
			if err := readFrame(cl.conn, &rep, maxReplyFrame); err != nil {
				t.Fatalf("tail -f lines: %v after %q", err, got.String())
			}
			if rep.Done {
				t.Fatalf("tail -f lines ended: %+v after %q", rep, got.String())
			}
			got.WriteString(rep.Data)
			s := got.String()
			if i := strings.Index(s, "lines STARTING"); i >= 0 && strings.Contains(s[i:], "line 3\n") {
				if !strings.Contains(s[:i], "lines EXITED") {
					t.Errorf("tail -f lines: %q; want the EXITED banner before STARTING", s)
				}
				break
			}
		}
		// The server ends the follow when the client goes away.
		waitFor(t, "who to list the follower", 10*time.Second, func() bool {
			_, out, _ := r.cli("who")
			return strings.Count(out, "\n") == 2
		})
		cl.close()
		waitFor(t, "the follower to be gone", 10*time.Second, func() bool {
			_, out, _ := r.cli("who")
			return strings.Count(out, "\n") == 1
		})
	})
	r.stopAll()
}

// TestTailCommandFollowServerStops: the command line's tail -f returns when the
// server goes away.
func TestTailCommandFollowServerStops(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, progSection("lines", helperCommand(t, "echo-lines", "3", "1ms")))
	r.start()
	r.waitState("lines", "RUNNING", 10*time.Second)
	out, errOut := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() { // ends when tail -f returns
		done <- run([]string{"-c", r.conf, "tail", "-f", "lines"}, strings.NewReader(""), out, errOut)
	}()
	waitFor(t, "tail -f to show the lines", 10*time.Second, func() bool { return strings.Contains(out.String(), "line 3\n") })
	r.stopAll()
	select {
	case code := <-done:
		if code != exitNoServer || !strings.Contains(out.String(), "lines EXITED") || !strings.Contains(errOut.String(), "the server stopped") {
			t.Errorf("tail -f when the server stopped: exit %d, output %q, stderr %q; want %d and \"the server stopped\" after the EXITED banner",
				code, out.String(), errOut.String(), exitNoServer)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("tail -f did not return after the server stopped; output %q", out.String())
	}
}

// TestTailFollowSlowClientDropped: a tail -f client that falls more than
// followerMaxBytes behind is dropped, and when it reads again it gets the
// output up to then and a notice that says why the stream ended.
func TestTailFollowSlowClientDropped(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, spamSection(t, 32<<20))
	r.start()
	conn := r.startFollow("spam")
	if code, _, _ := r.cli("start", "-i", "spam"); code != 0 {
		t.Fatalf("start spam: exit %d", code)
	}
	waitFor(t, "16 MB in spam's log", 60*time.Second, func() bool {
		fi, err := os.Stat(filepath.Join(r.dir, "log", "spam.log"))
		return err == nil && fi.Size() >= 16<<20
	})
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	received := 0
	for {
		var rep reply
		if err := readFrame(conn, &rep, maxReplyFrame); err != nil {
			t.Fatalf("after %d bytes: %v", received, err)
		}
		received += len(rep.Data)
		if rep.Done {
			want := fmt.Sprintf("tail -f: dropped: this client fell more than %d MiB behind the output", followerMaxBytes>>20)
			if rep.Error != want || rep.Exit != 1 {
				t.Errorf("the last frame: exit %d, %q; want exit 1, %q", rep.Exit, rep.Error, want)
			}
			break
		}
	}
	if received >= 16<<20 {
		t.Errorf("the dropped client received %d bytes; want less than the 16 MB written before it read", received)
	}
	r.waitSpamDone()
	r.stopAll()
}

// inProcessServer runs a Supervisor and a control server of this test
// process on a unix socket in a temporary directory, for tests that need
// shorter deadlines than a real server has; tune sets them. The programs
// of sections are not started. Its log is returned. Its test stays serial:
// binding the socket sets the process's umask for a moment (listenUnixMode),
// which would change the modes of files a parallel test creates meanwhile;
// the t.Setenv below makes go test refuse a parallel caller.
func inProcessServer(t *testing.T, sections string, tune func(*ctlServer)) (*ctlServer, SocketURI, *syncBuffer) {
	t.Helper()
	t.Setenv("RAMONA_TEST_IN_PROCESS_SERVER", t.Name())
	dir := t.TempDir()
	conf := filepath.Join(dir, "r.conf")
	if err := os.WriteFile(conf, []byte("[general]\nlogdir=./log\n\n"+sections), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig([]string{conf}, testEnviron)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(cfg.LogDir, 0o755); err != nil {
		t.Fatal(err)
	}
	logBuf := &syncBuffer{}
	log := &serverLog{w: logBuf, level: LevelDebug}
	cs := newCtlServer("test", log)
	cs.s = newSupervisor(cfg, testEnviron, log, nil, "")
	tune(cs)
	u := SocketURI{Scheme: "unix", Path: filepath.Join(dir, "r.sock"), Mode: 0o600}
	l, err := listenControl(u, cs.streaks)
	if err != nil {
		t.Fatal(err)
	}
	cs.listeners = []net.Listener{l}
	go cs.s.loop()         // ends once quitting is set (there is nothing to stop)
	go cs.serve(l, "unix") // ends when cs.close closes the listener
	t.Cleanup(func() {
		cs.s.post(func() { cs.s.quitting = true })
		<-cs.s.done
		cs.close()
	})
	return cs, u, logBuf
}

// openConns is how many connections the control server has open.
func (cs *ctlServer) openConns() int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return len(cs.conns)
}

// TestIdleClientIsClosed: a client that sends no request within the idle
// limit is disconnected; one that does is answered.
func TestIdleClientIsClosed(t *testing.T) {
	cs, u, log := inProcessServer(t, "", func(cs *ctlServer) { cs.idleTimeout = 300 * time.Millisecond })
	cl, err := dialServer(u)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.close()
	if rep, err := cl.call(request{Cmd: "who"}, nil); err != nil || rep.Exit != 0 {
		t.Fatalf("who: %+v, %v", rep, err)
	}
	cl.conn.SetDeadline(time.Now().Add(20 * time.Second))
	if data, err := readUntilClosed(cl.conn); err != nil || len(data) != 0 {
		t.Fatalf("an idle client: %v, %q; want the server to close the connection", err, data)
	}
	waitFor(t, "the server to forget the idle client", 10*time.Second, func() bool { return cs.openConns() == 0 })
	if !strings.Contains(log.String(), "sent no request for 300ms, closing") {
		t.Errorf("the server log does not say why it closed:\n%s", log)
	}
}

// TestReplyWriteDeadline: a client that asks for a big tail and does not
// read it is dropped after the write deadline; its connection does not
// stay open.
func TestReplyWriteDeadline(t *testing.T) {
	cs, u, _ := inProcessServer(t, "[program:big]\ncommand=/bin/true\nautostart=no\n", func(cs *ctlServer) {
		cs.writeTimeout = 300 * time.Millisecond
	})
	content := spamContent(8 << 20)
	if err := os.WriteFile(filepath.Join(filepath.Dir(u.Path), "log", "big.log"), content, 0o644); err != nil {
		t.Fatal(err)
	}
	cl, err := dialServer(u)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.close()
	if err := writeFrame(cl.conn, request{ID: 1, Cmd: "tail", Names: []string{"big"}, N: 1 << 30}, maxRequestFrame); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the server to drop the client that does not read", 20*time.Second, func() bool { return cs.openConns() == 0 })
	cl.conn.SetDeadline(time.Now().Add(20 * time.Second))
	data, _ := io.ReadAll(cl.conn)
	if len(data) >= len(content) {
		t.Errorf("the dropped client still got %d bytes; want less than the %d of the tail", len(data), len(content))
	}
}

func TestReload(t *testing.T) {
	t.Parallel()
	sleep := helperCommand(t, "sleep", "1h")
	r := newTestRamona(t, progSection("keep", sleep)+progSection("change", sleep)+progSection("drop", sleep))
	r.start()
	for _, name := range []string{"keep", "change", "drop"} {
		r.waitState(name, "RUNNING", 10*time.Second)
	}
	before := r.pids()

	v2 := progSection("keep", sleep) + progSection("change", helperCommand(t, "sleep", "2h")) + progSection("add", sleep)
	r.write(v2)
	code, out, _ := r.cli("reload")
	if code != 0 || !strings.Contains(out, "reloaded: 1 added, 1 removed, 1 changed") {
		t.Errorf("reload: exit %d, %q; want 0 and 1 added, 1 removed, 1 changed", code, out)
	}
	var after map[string]programStatus
	waitFor(t, "add and change RUNNING, drop gone", 10*time.Second, func() bool {
		after = r.status()
		_, dropped := after["drop"]
		return !dropped && after["add"].State == "RUNNING" && after["change"].State == "RUNNING" && after["change"].PID != before["change"]
	})
	if after["keep"].PID != before["keep"] || after["keep"].Launches != 1 {
		t.Errorf("keep: pid %d, launches %d after the reload; want pid %d untouched", after["keep"].PID, after["keep"].Launches, before["keep"])
	}
	waitFor(t, "the old processes of drop and change to be gone", 10*time.Second, func() bool {
		return !alive(before["drop"]) && !alive(before["change"])
	})
	pids := r.pids()

	t.Run("broken file", func(t *testing.T) {
		r := r.in(t)
		r.write(v2 + "[general]\nlogmaxsize=lots\n")
		want := fmt.Sprintf("%s:%d: [general] logmaxsize:", r.conf, lineOf(t, r.conf, "logmaxsize=lots"))
		code, _, errOut := r.cli("reload")
		if code != exitUsage || !strings.Contains(errOut, want) {
			t.Errorf("reload of a broken file: exit %d, stderr %q; want %d and %q", code, errOut, exitUsage, want)
		}
		// A client that loaded the configuration before it broke (the
		// console) gets the server's answer.
		cl := r.dial()
		rep, err := cl.call(request{Cmd: "reload"}, nil)
		if err != nil || rep.Exit != exitUsage || !strings.Contains(rep.Error, want) || !strings.Contains(rep.Error, "nothing was changed") {
			t.Errorf("reload request with a broken file: %+v, %v; want exit %d, %q and \"nothing was changed\"", rep, err, exitUsage, want)
		}
		got := map[string]int{}
		for name, st := range statusOf(t, cl) {
			got[name] = st.PID
		}
		if fmt.Sprint(got) != fmt.Sprint(pids) {
			t.Errorf("pids after a broken reload: %v; want %v", got, pids)
		}
	})
	t.Run("SIGHUP", func(t *testing.T) {
		r := r.in(t)
		r.write(v2 + progSection("hup", sleep))
		r.server.signal(syscall.SIGHUP)
		r.waitState("hup", "RUNNING", 10*time.Second)
		got := r.pids()
		delete(got, "hup")
		if fmt.Sprint(got) != fmt.Sprint(pids) {
			t.Errorf("pids after SIGHUP: %v; want %v", got, pids)
		}
	})
	r.stopAll()
}

// TestReloadBackoffProgram: a program waiting in BACKOFF is forgotten when
// removed, and restarted with its new configuration when changed.
func TestReloadBackoffProgram(t *testing.T) {
	t.Parallel()
	flap := helperCommand(t, "exit", "1")
	r := newTestRamona(t, progSection("gone", flap, "autorestart=yes", "startretries=100")+
		progSection("fixed", flap, "autorestart=yes", "startretries=100"))
	r.realBackoff() // it waits for BACKOFF to act on it
	r.start()
	r.waitState("gone", "BACKOFF", 10*time.Second)
	r.waitState("fixed", "BACKOFF", 10*time.Second)
	r.write(progSection("fixed", helperCommand(t, "sleep", "1h"), "autorestart=yes", "startretries=100"))
	if code, _, _ := r.cli("reload"); code != 0 {
		t.Errorf("reload: exit %d", code)
	}
	r.waitState("fixed", "RUNNING", 10*time.Second)
	if st, ok := r.status()["gone"]; ok {
		t.Errorf("gone is still known after the reload removed it: %+v", st)
	}
	r.stopAll()
}

// TestReloadDuringShutdown: while the server stops everything to exit, a
// reload starts nothing.
func TestReloadDuringShutdown(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, progSection("slow", helperCommand(t, "ignore-term", "1h"), "killby=TERM", "stoptimeout=1h"))
	r.start()
	r.waitState("slow", "RUNNING", 10*time.Second)
	waitFor(t, "slow to ignore SIGTERM", 10*time.Second, func() bool {
		_, out, _ := r.cli("tail", "slow")
		return strings.Contains(out, "ignore-term: ready")
	})
	r.server.signal(syscall.SIGTERM)
	slow := r.waitState("slow", "STOPPING", 10*time.Second)

	r.write(progSection("slow", helperCommand(t, "ignore-term", "1h"), "killby=TERM", "stoptimeout=1h") + progSection("late", helperCommand(t, "sleep", "1h")))
	if code, _, errOut := r.cli("reload"); code != exitFailed || !strings.Contains(errOut, "stopping") {
		t.Errorf("reload while the server stops: exit %d, stderr %q; want %d and a message that it is stopping", code, errOut, exitFailed)
	}
	r.server.signal(syscall.SIGHUP)
	waitFor(t, "the server to log that it does not reload", 10*time.Second, func() bool {
		return strings.Count(r.serverLog(), "reload ignored") == 2
	})
	if st, ok := r.status()["late"]; ok {
		t.Errorf("late was added while the server stops: %+v", st)
	}
	syscall.Kill(slow.PID, syscall.SIGKILL)
	if code, err := r.server.wait(20 * time.Second); err != nil || code != 0 {
		t.Errorf("server: exit %d, %v; want it to exit 0 once slow is gone", code, err)
	}
}

// TestSendData: output goes out in frames of at most the buffer's size, cut
// after a newline or else between UTF-8 sequences, so that every frame's
// text is valid and the frames add up to the input.
func TestSendData(t *testing.T) {
	t.Parallel()
	inputs := []string{
		"", "a", "abc\ndef\nghijklmnopqrstuvwxyz\n", "no newline at all in this one",
		strings.Repeat("é", 20), strings.Repeat("日本語", 9), strings.Repeat("🙂x", 11),
		"line\n" + strings.Repeat("ü", 13) + "\nend", strings.Repeat("\n", 30),
	}
	for _, in := range inputs {
		for _, size := range []int{4, 5, 7, 16, 1024} {
			var wire bytes.Buffer
			if err := sendData(&wire, 9, strings.NewReader(in), make([]byte, size)); err != nil {
				t.Fatal(err)
			}
			var got strings.Builder
			for wire.Len() > 0 {
				var r reply
				if err := readFrame(&wire, &r, maxReplyFrame); err != nil {
					t.Fatal(err)
				}
				if r.ID != 9 || len(r.Data) == 0 || len(r.Data) > size || r.Data != strings.ToValidUTF8(r.Data, "?") {
					t.Fatalf("%q in frames of %d: frame %+v", in, size, r)
				}
				got.WriteString(r.Data)
			}
			if got.String() != in {
				t.Errorf("%q in frames of %d: the frames add up to %q", in, size, got.String())
			}
		}
	}
	// Bytes that are not UTF-8 still all go out (as JSON can carry them).
	var wire bytes.Buffer
	if err := sendData(&wire, 1, bytes.NewReader(bytes.Repeat([]byte{0xff, 0xfe, 'a'}, 10)), make([]byte, 4)); err != nil {
		t.Fatal(err)
	}
	frames := 0
	for wire.Len() > 0 {
		var r reply
		if err := readFrame(&wire, &r, maxReplyFrame); err != nil {
			t.Fatal(err)
		}
		frames++
	}
	if frames < 8 {
		t.Errorf("30 bytes that are not UTF-8 in frames of 4: %d frames", frames)
	}
}
