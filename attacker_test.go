//go:build unix

// The hostile local user of issue 19: a throwaway account created for one
// test (useradd, userdel after), the test binary run as that user as the
// attacking client (the ctl-burst, ctl-flood and http-req helpers of
// main_test.go), and what the attacks measure on the server: its peak
// memory and its open descriptors, read from /proc.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// localUser is a throwaway account that owns nothing of the server's.
type localUser struct {
	name     string
	uid, gid int
	bin      string // a copy of the test binary that this user may run
}

// newThrowawayUser creates a user that owns nothing of the server's
// (newUnprivilegedUser) and gives it the test binary to execute
// (sharedTestBinary); both are removed at the end of the test (after the
// test's processes, whose cleanups run first when they are registered
// later). Without root the test is skipped.
func newThrowawayUser(t *testing.T) localUser {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the test creates a throwaway user with useradd and attacks as that user")
	}
	uid, gid := newUnprivilegedUser(t, "rmn")
	u, err := user.LookupId(strconv.Itoa(int(uid)))
	if err != nil {
		t.Fatal(err)
	}
	return localUser{name: u.Username, uid: int(uid), gid: int(gid), bin: sharedTestBinary(t)}
}

// command is the test binary as helper name, run as u with RAMONA_TEST_ID=id,
// in its own process group, with no supplementary groups.
func (u localUser) command(id, helper string, args ...string) *exec.Cmd {
	return u.exec(id, append([]string{"ramona-test-helper", useHelper(helper)}, args...)...)
}

// exec is the test binary with args, run as command says.
func (u localUser) exec(id string, args ...string) *exec.Cmd {
	cmd := exec.Command(u.bin, args...)
	cmd.Env = append(os.Environ(), "RAMONA_TEST_ID="+id)
	cmd.Dir = filepath.Dir(u.bin)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: &syscall.Credential{Uid: uint32(u.uid), Gid: uint32(u.gid)},
		Setpgid:    true,
	}
	return cmd
}

// run runs helper as u to its end and returns its combined output.
func (u localUser) run(t *testing.T, id, helper string, args ...string) string {
	t.Helper()
	cmd := u.command(id, helper, args...)
	out, err := cmd.CombinedOutput()
	t.Logf("%s %s as %s: %v\n%s", helper, strings.Join(args, " "), u.name, err, out)
	if err != nil {
		t.Fatalf("%s as %s: %v", helper, u.name, err)
	}
	return string(out)
}

// ramona runs the command line as u against r's configuration (r's
// directory becomes readable for it) and returns its exit code and output.
func (u localUser) ramona(t *testing.T, r *testRamona, args ...string) (int, string) {
	t.Helper()
	for _, d := range []string{filepath.Dir(r.dir), r.dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := u.exec(r.id, append([]string{"ramona-test-main", "-c", r.conf}, args...)...)
	cmd.Dir = r.dir
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("ramona %s as %s: %v", strings.Join(args, " "), u.name, err)
	}
	code := cmd.ProcessState.ExitCode()
	t.Logf("ramona %s as uid %d: exit %d\n%s", strings.Join(args, " "), u.uid, code, out)
	return code, string(out)
}

// attackerProc is a helper running as the throwaway user until its stdin closes.
type attackerProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
}

// start starts helper as u; it ends when finish closes its stdin (the helpers
// that hold resources wait for that) or at the end of the test.
func (u localUser) start(t *testing.T, id, helper string, args ...string) *attackerProc {
	t.Helper()
	cmd := u.command(id, helper, args...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s as %s: %v", helper, u.name, err)
	}
	a := &attackerProc{cmd: cmd, stdin: stdin, lines: make(chan string, 100)}
	go func() { // ends when the helper closes its stdout (it exits)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			a.lines <- sc.Text()
		}
		close(a.lines)
	}()
	t.Cleanup(func() {
		stdin.Close()
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	return a
}

// line waits for the helper's next line of output.
func (a *attackerProc) line(t *testing.T, timeout time.Duration) string {
	t.Helper()
	select {
	case l, ok := <-a.lines:
		if !ok {
			t.Fatalf("the attacker exited before saying anything (%v)", a.cmd.ProcessState)
		}
		return l
	case <-time.After(timeout):
		t.Fatalf("the attacker said nothing for %v", timeout)
	}
	return ""
}

// finish closes the helper's stdin and waits for it to exit.
func (a *attackerProc) finish(t *testing.T) {
	t.Helper()
	a.stdin.Close()
	if err := a.cmd.Wait(); err != nil {
		t.Errorf("attacker: %v", err)
	}
}

// procStatusKB is a "Key:   N kB" field of /proc/PID/status, in KiB.
func procStatusKB(t *testing.T, pid int, key string) int {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				t.Fatalf("/proc/%d/status %s: %q", pid, key, line)
			}
			return n
		}
	}
	t.Fatalf("/proc/%d/status has no %s", pid, key)
	return 0
}

// peakRSSMiB is the highest resident memory the process ever had (VmHWM).
func peakRSSMiB(t *testing.T, pid int) int { return procStatusKB(t, pid, "VmHWM") / 1024 }

// openFDs counts the descriptors the process has open.
func openFDs(t *testing.T, pid int) int {
	t.Helper()
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// ctlBurst is the ctl-burst helper: n connections to the tcp control
// listener at addr, each sending hello and `stop prog` in one write and
// closing at once without reading an answer.
func ctlBurst(addr string, n int, prog string) int {
	var frames bytes.Buffer
	writeFrame(&frames, hello{Magic: helloMagic, Version: protocolVersion}, maxRequestFrame)
	writeFrame(&frames, request{ID: 1, Cmd: "stop", Names: []string{prog}}, maxRequestFrame)
	sent := 0
	for i := 0; i < n; i++ {
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			fmt.Fprintln(os.Stderr, "ctl-burst:", err)
			continue
		}
		if _, err := conn.Write(frames.Bytes()); err == nil {
			sent++
		}
		conn.Close()
	}
	fmt.Printf("burst: %d sent\n", sent)
	return 0
}

// ctlFlood is the ctl-flood helper: n connections to the tcp control
// listener at addr, each sending its hello unless silent; it reports how
// many are open and holds them until its stdin ends.
func ctlFlood(addr string, n int, silent bool) int {
	var frame bytes.Buffer
	writeFrame(&frame, hello{Magic: helloMagic, Version: protocolVersion}, maxRequestFrame)
	var conns []net.Conn
	failed := 0
	for i := 0; i < n; i++ {
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			failed++
			continue
		}
		if !silent {
			conn.Write(frame.Bytes())
		}
		conns = append(conns, conn)
	}
	fmt.Printf("flood: %d open, %d failed\n", len(conns), failed)
	io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
	return 0
}

// httpRequest is the http-req helper: one request with "Key: value" headers
// (Host sets the Host header); stdout "HTTP CODE" and the body.
func httpRequest(method, url string, headers []string) int {
	body := ""
	if method == "POST" {
		body = "name=one"
	}
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		fmt.Fprintln(os.Stderr, "http-req:", err)
		return 1
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{}}
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, "http-req:", err)
		return 1
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	fmt.Printf("HTTP %d\n%s", resp.StatusCode, data)
	return 0
}

// tcpRamona is a test Ramona whose control channel is loopback tcp (the
// command line uses it) and a unix socket (for r.answers); the program
// section is one sleeping program "one".
func tcpRamona(t *testing.T, host string) (r *testRamona, addr string) {
	t.Helper()
	r = newTestRamona(t, "")
	addr = net.JoinHostPort(host, strconv.Itoa(freePort(t)))
	r.writeWithURI("tcp://"+addr+", unix://r.sock", progSection("one", helperCommand(t, "sleep", "1h")))
	r.start()
	r.waitState("one", "RUNNING", 10*time.Second)
	return r, addr
}

// TestAttackTimeWaitBurst: connections that send hello and a request and
// close at once are gone (TIME_WAIT, FIN_WAIT2) by the time a lookup by
// address table would run; such a peer must be refused, never taken for
// root. Main accepted some of them as uid 0 and ran `stop`.
func TestAttackTimeWaitBurst(t *testing.T) {
	t.Parallel()
	for _, host := range []string{"127.0.0.1", "::1"} {
		t.Run(host, func(t *testing.T) {
			u := newThrowawayUser(t)
			r, addr := tcpRamona(t, host)
			before := r.status()["one"]
			pid := r.server.cmd.Process.Pid
			fds := openFDs(t, pid)
			for round := 0; round < 3; round++ {
				u.run(t, r.id, "ctl-burst", addr, "50", "one")
			}
			waitFor(t, "the server to close every connection of the burst", 30*time.Second, func() bool {
				return openFDs(t, pid) <= fds
			})
			if after := r.status()["one"]; after.State != "RUNNING" || after.PID != before.PID {
				t.Errorf("one after the burst: %s pid %d; want RUNNING pid %d", after.State, after.PID, before.PID)
			}
			if log := r.serverLog(); strings.Contains(log, "requested by tcp") {
				t.Errorf("a request of the burst ran:\n%s", log)
			}
			r.stopAll()
		})
	}
}

// TestAttackConnectionFlood: a flood of connections from another uid costs
// the server little memory, is logged in a few lines (not one per
// connection), and the owner's `status` over the same listener is answered.
func TestAttackConnectionFlood(t *testing.T) {
	skipInShort(t, "the attacker RSS measurement (a connection flood against the server)")
	t.Parallel()
	u := newThrowawayUser(t)
	r, addr := tcpRamona(t, "127.0.0.1")
	pid := r.server.cmd.Process.Pid
	baseline := peakRSSMiB(t, pid)
	flood := u.start(t, r.id, "ctl-flood", addr, "1500")
	t.Logf("attacker: %s", flood.line(t, 120*time.Second))
	if code, out, _ := r.cli("status"); code != 0 || !strings.Contains(out, "RUNNING") {
		t.Errorf("status over tcp during the flood: exit %d, %q; want it answered", code, out)
	}
	t.Logf("server peak RSS: %d MiB before the flood, %d MiB during it", baseline, peakRSSMiB(t, pid))
	// Measured: +4 MiB, +23 MiB under -race. Main: +261 MiB under -race.
	if peak := peakRSSMiB(t, pid); peak > baseline+64 {
		t.Errorf("the server's peak RSS went from %d to %d MiB during the flood; want at most 64 MiB more", baseline, peak)
	}
	flood.finish(t)
	refusals := strings.Count(r.serverLog(), fmt.Sprintf("uid %d", u.uid))
	if refusals == 0 || refusals > 5 {
		t.Errorf("the server log names uid %d in %d lines; want the refusals logged, in a few lines", u.uid, refusals)
	}
	if code, _, _ := r.cli("status"); code != 0 {
		t.Errorf("status after the flood: exit %d", code)
	}
	r.stopAll()
}

// TestAttackAcceptEMFILE: with the server's descriptors limited (prlimit), a
// flood makes accept fail with EMFILE; the listener must answer again once
// the flood ends (main's accept loop ended for good).
func TestAttackAcceptEMFILE(t *testing.T) {
	t.Parallel()
	prlimit := needPeer(t, "prlimit", "util-linux")
	u := newThrowawayUser(t)
	r, addr := tcpRamona(t, "127.0.0.1")
	pid := r.server.cmd.Process.Pid
	limit := openFDs(t, pid) + 8
	if out, err := exec.Command(prlimit, "--pid", strconv.Itoa(pid), fmt.Sprintf("--nofile=%d:%d", limit, limit)).CombinedOutput(); err != nil {
		t.Fatalf("prlimit: %v\n%s", err, out)
	}
	// Silent connections: each refused one waits for its hello a while, so
	// the server's few free descriptors run out.
	flood := u.start(t, r.id, "ctl-flood", addr, "300", "silent")
	t.Logf("attacker: %s", flood.line(t, 120*time.Second))
	waitFor(t, "the server to report the accept error", 30*time.Second, func() bool {
		return strings.Contains(r.serverLog(), "accept4: too many open files")
	})
	flood.finish(t)
	waitFor(t, "status over tcp to be answered again", 60*time.Second, func() bool {
		code, _, _ := r.cli("-s", "status")
		return code == 0
	})
	// Once per streak: the first error, then at most a summary a minute.
	if n := strings.Count(r.serverLog(), "accept4: too many open files"); n > 3 {
		t.Errorf("the server log has %d lines about the accept errors; want them logged once per streak", n)
	}
	r.stopAll()
}

// webRamona runs a no-password web frontend on loopback tcp beside the
// sleeping program "one"; extra goes into the frontend's section.
func webRamona(t *testing.T, extra string) (r *testRamona, base string, port int) {
	t.Helper()
	port = freePort(t)
	base = fmt.Sprintf("http://127.0.0.1:%d", port)
	r = newTestRamona(t, fmt.Sprintf(`
[program:web]
command=<httpfend>
listen=tcp://127.0.0.1:%d
starttimeout=0.2
%s

%s`, port, extra, progSection("one", helperCommand(t, "sleep", "1h"))))
	r.start()
	r.waitState("web", "RUNNING", 10*time.Second)
	r.waitState("one", "RUNNING", 10*time.Second)
	waitHealthz(t, base, 200)
	return r, base, port
}

// TestAttackWebHostRebinding: a page of attacker.example that rebinds its
// name to 127.0.0.1 sends Host: attacker.example and a matching Origin; the
// frontend answers only names it serves. Main stopped the program.
func TestAttackWebHostRebinding(t *testing.T) {
	t.Parallel()
	r, base, port := webRamona(t, "hostname=ramona.example, Ops.Example.")
	evil := fmt.Sprintf("attacker.example:%d", port)
	for _, c := range []struct {
		method, path string
		headers      []string
	}{
		{"POST", "/api/stop", []string{"Host: " + evil, "Origin: http://" + evil}},
		{"POST", "/api/stop", []string{"Host: " + evil, "Origin: http://" + evil, "Sec-Fetch-Site: same-origin"}},
		{"GET", "/api/status", []string{"Host: " + evil}},
		{"GET", "/api/tail?name=one", []string{"Host: " + evil}},
		{"GET", "/", []string{"Host: " + evil}},
	} {
		resp := webDo(t, nil, c.method, base+c.path, "name=one", c.headers...)
		if resp.code != http.StatusForbidden || strings.Contains(resp.body, "RUNNING") || strings.Contains(resp.body, "sleep: started") {
			t.Errorf("%s %s with Host %s: %d %q; want 403 and nothing of the server's", c.method, c.path, evil, resp.code, resp.body)
		}
	}
	if st := r.status()["one"]; st.State != "RUNNING" {
		t.Fatalf("one is %s after the rebinding attack; want RUNNING", st.State)
	}
	// The names it serves: the listen address, loopback names, hostname=.
	for _, host := range []string{fmt.Sprintf("127.0.0.1:%d", port), fmt.Sprintf("localhost:%d", port), "LOCALHOST",
		"ramona.example", fmt.Sprintf("ramona.example:%d", port), "ops.example"} {
		if resp := webDo(t, nil, "GET", base+"/api/status", "", "Host: "+host); resp.code != 200 {
			t.Errorf("GET /api/status with Host %s: %d %q; want 200", host, resp.code, resp.body)
		}
	}
	origin := fmt.Sprintf("http://ramona.example:%d", port)
	resp := webDo(t, nil, "POST", base+"/api/stop", "name=one", "Host: "+fmt.Sprintf("ramona.example:%d", port), "Origin: "+origin)
	var res controlResult
	if err := json.Unmarshal([]byte(resp.body), &res); resp.code != 200 || err != nil || res.Exit != 0 {
		t.Errorf("POST /api/stop from a hostname= origin: %d %q", resp.code, resp.body)
	}
	r.waitState("one", "STOPPED", 10*time.Second)
	r.stopAll()
}

// TestAttackWebOtherUser: without a password on loopback the frontend
// serves only its own uid and root, as the control channel does; another
// local user gets 403 and cannot stop programs or read their logs. /healthz
// answers anyone, with nothing but ok.
func TestAttackWebOtherUser(t *testing.T) {
	t.Parallel()
	u := newThrowawayUser(t)
	r, base, _ := webRamona(t, "")
	origin := "Origin: " + base
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/status"},
		{"GET", "/api/tail?name=one"},
		{"GET", "/metrics"},
		{"GET", "/"},
		{"POST", "/api/stop"},
	} {
		out := u.run(t, r.id, "http-req", c.method, base+c.path, origin)
		if !strings.HasPrefix(out, "HTTP 403\n") || strings.Contains(out, "RUNNING") || strings.Contains(out, "sleep: started") {
			t.Errorf("%s %s as uid %d: %q; want 403 and nothing of the server's", c.method, c.path, u.uid, out)
		}
	}
	if st := r.status()["one"]; st.State != "RUNNING" {
		t.Fatalf("one is %s after another user's POST /api/stop; want RUNNING", st.State)
	}
	if out := u.run(t, r.id, "http-req", "GET", base+"/healthz"); out != "HTTP 200\nok\n" {
		t.Errorf("GET /healthz as uid %d: %q; want 200 ok", u.uid, out)
	}
	// The owner (root here) is served.
	resp := webDo(t, nil, "POST", base+"/api/stop", "name=one", origin)
	if resp.code != 200 {
		t.Errorf("POST /api/stop as root: %d %q", resp.code, resp.body)
	}
	r.waitState("one", "STOPPED", 10*time.Second)
	r.stopAll()
}

// startFollow opens a control connection that asks for `tail -f name` and
// then never reads: the stalled reader.
func (r *testRamona) startFollow(name string) net.Conn {
	r.t.Helper()
	conn := r.rawDial()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := clientHandshake(conn); err != nil {
		r.t.Fatal(err)
	}
	if err := writeFrame(conn, request{ID: 1, Cmd: "tail", Names: []string{name}, N: 1, Flags: requestFlags{Follow: true}}, maxRequestFrame); err != nil {
		r.t.Fatal(err)
	}
	conn.SetDeadline(time.Time{})
	return conn
}

// spamSection is a program that writes n bytes of log lines and exits, with
// a log that rotates so the disk holds at most about 128 MB of it.
func spamSection(t *testing.T, n int) string {
	return progSection("spam", helperCommand(t, "spam", strconv.Itoa(n)), "autostart=no", "starttimeout=0",
		"logmaxsize=64MB", "logbackups=1", "logcompress=no")
}

// runSpam starts the spam program and waits until it has exited.
func (r *testRamona) runSpam() {
	r.t.Helper()
	if code, _, _ := r.cli("start", "-i", "spam"); code != 0 {
		r.t.Fatalf("start spam: exit %d", code)
	}
	r.waitSpamDone()
}

// waitSpamDone waits until the spam program has written everything and exited.
func (r *testRamona) waitSpamDone() {
	r.t.Helper()
	waitFor(r.t, "spam to write everything and exit", 120*time.Second, func() bool {
		st := r.status()["spam"]
		return st.Launches == 1 && st.State == "STOPPED"
	})
}

// TestAttackStalledTailFollower: a `tail -f` client that never reads while
// the program writes 200 MB costs the server a few MB, not the output; its
// connection then ends (with the drop notice, or closed by the write
// deadline when the program took longer than that). Main kept up to 1024
// chunks of up to 256 KiB, and its connection forever.
func TestAttackStalledTailFollower(t *testing.T) {
	skipInShort(t, "the attacker RSS measurement (200 MB to a stalled tail -f)")
	t.Parallel()
	r := newTestRamona(t, spamSection(t, 200<<20))
	r.start()
	pid := r.server.cmd.Process.Pid
	baseline := peakRSSMiB(t, pid)
	conn := r.startFollow("spam")
	r.runSpam()
	t.Logf("server peak RSS: %d MiB before, %d MiB after 200 MB to a stalled tail -f", baseline, peakRSSMiB(t, pid))
	// The follower holds at most 4 MiB; the GC's headroom and, under -race,
	// the race detector's shadow memory multiply what RSS shows (measured:
	// +7 MiB, +28 MiB under -race). Main: +480 MiB.
	if peak := peakRSSMiB(t, pid); peak > baseline+64 {
		t.Errorf("the server's peak RSS went from %d to %d MiB with a stalled tail -f; want at most 64 MiB more", baseline, peak)
	}
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	var last reply
	for {
		var rep reply
		err := readFrame(conn, &rep, maxReplyFrame)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("the stalled follower's connection is still open; last frame %+v", last)
		}
		if err != nil {
			t.Logf("the server closed the stalled follower's connection: %v", err)
			break
		}
		if last = rep; rep.Done {
			if !strings.Contains(rep.Error, "dropped") {
				t.Errorf("the stalled follower's last frame: %+v; want a notice that it was dropped", rep)
			}
			break
		}
	}
	r.stopAll()
}

// TestAttackStalledSSEFollowers: three browsers that ask /api/follow and
// never read cost neither the server nor the frontend the program's output.
func TestAttackStalledSSEFollowers(t *testing.T) {
	skipInShort(t, "the attacker RSS measurement (200 MB to stalled SSE followers)")
	t.Parallel()
	port := freePort(t)
	r := newTestRamona(t, fmt.Sprintf("[program:web]\ncommand=<httpfend>\nlisten=tcp://127.0.0.1:%d\nstarttimeout=0.2\n\n%s", port, spamSection(t, 200<<20)))
	r.start()
	web := r.waitState("web", "RUNNING", 10*time.Second)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitHealthz(t, base, 200)
	server := r.server.cmd.Process.Pid
	serverBase, webBase := peakRSSMiB(t, server), peakRSSMiB(t, web.PID)
	for i := 0; i < 3; i++ {
		conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		fmt.Fprintf(conn, "GET /api/follow?name=spam&n=1 HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", port)
	}
	waitFor(t, "three follow connections at the server", 20*time.Second, func() bool {
		code, out, _ := r.cli("-s", "who")
		return code == 0 && strings.Count(out, "\n") >= 4 // the three and this who
	})
	r.runSpam()
	t.Logf("peak RSS: server %d -> %d MiB, frontend %d -> %d MiB after 200 MB to three stalled SSE followers",
		serverBase, peakRSSMiB(t, server), webBase, peakRSSMiB(t, web.PID))
	// Three followers of at most 4 MiB each (measured: server +16 MiB,
	// +51 MiB under -race; frontend +9, +19). Main: the server +1600 MiB.
	if peak := peakRSSMiB(t, server); peak > serverBase+128 {
		t.Errorf("the server's peak RSS went from %d to %d MiB with three stalled SSE followers; want at most 128 MiB more", serverBase, peak)
	}
	if peak := peakRSSMiB(t, web.PID); peak > webBase+64 {
		t.Errorf("the frontend's peak RSS went from %d to %d MiB with three stalled SSE followers; want at most 64 MiB more", webBase, peak)
	}
	r.stopAll()
}

// TestAttackHugeTailN: `tail -n 1000000000` of a 40 MB log sends its last
// 10 MiB (from a line start), says that it cut, and costs the server far
// less than the log. Main read the whole log into memory and then dropped
// the client with EOF (the reply was over the frame limit).
func TestAttackHugeTailN(t *testing.T) {
	skipInShort(t, "the attacker RSS measurement (tail -n 1000000000 of 40 MB)")
	t.Parallel()
	r := newTestRamona(t, progSection("big", helperCommand(t, "sleep", "1h"), "autostart=no"))
	content := spamContent(40 << 20)
	if err := os.MkdirAll(filepath.Join(r.dir, "log"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.dir, "log", "big.log"), content, 0o644); err != nil {
		t.Fatal(err)
	}
	r.start()
	pid := r.server.cmd.Process.Pid
	baseline := peakRSSMiB(t, pid)
	cl := r.dial()
	var data bytes.Buffer
	var notes []string
	rep, err := cl.call(request{Cmd: "tail", Names: []string{"big"}, N: 1000000000}, func(rp reply) {
		data.WriteString(rp.Data)
		if rp.Progress != "" {
			notes = append(notes, rp.Progress)
		}
	})
	if err != nil || rep.Exit != 0 {
		t.Fatalf("tail -n 1000000000: %v, %+v", err, rep)
	}
	got := data.Bytes()
	if len(got) > 10<<20 || len(got) < 10<<20-spamLineLen || !bytes.HasSuffix(content, got) || content[len(content)-len(got)-1] != '\n' {
		t.Errorf("tail -n 1000000000 of 40 MiB: %d bytes, a suffix of the log %v; want the last 10 MiB from a line start",
			len(got), bytes.HasSuffix(content, got))
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "10 MiB") {
		t.Errorf("tail -n 1000000000: notes %q; want one that says the output was cut to 10 MiB", notes)
	}
	t.Logf("server peak RSS: %d MiB before, %d MiB after tail -n 1000000000 of 40 MB", baseline, peakRSSMiB(t, pid))
	// One 64 KiB block and frames of 64 KiB (measured: +5 MiB, +17 MiB under -race).
	if peak := peakRSSMiB(t, pid); peak > baseline+48 {
		t.Errorf("the server's peak RSS went from %d to %d MiB for a tail of a 40 MB log; want at most 48 MiB more", baseline, peak)
	}
	r.stopAll()
}
