//go:build unix

// Tests of the web frontend against a real Ramona server: the API, the
// same-origin and method rules, Basic auth, /metrics, /healthz, and the page
// in a real headless Chromium.
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// webResponse is one HTTP exchange's outcome.
type webResponse struct {
	code   int
	header http.Header
	body   string
}

// webDo sends one request with the given headers ("Key: value") and returns
// the response; a transport error fails the test.
func webDo(t *testing.T, client *http.Client, method, url, body string, headers ...string) webResponse {
	t.Helper()
	resp, err := webTry(client, method, url, body, headers...)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return resp
}

func webTry(client *http.Client, method, url, body string, headers ...string) (webResponse, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return webResponse{}, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		if k == "Host" { // net/http takes the Host header from here only
			req.Host = v
			continue
		}
		if k == "Authorization" {
			user, pass, _ := strings.Cut(v, ":")
			req.SetBasicAuth(user, pass)
			continue
		}
		req.Header.Set(k, v)
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return webResponse{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return webResponse{code: resp.StatusCode, header: resp.Header, body: string(data)}, err
}

// waitHealthz waits until GET /healthz answers want.
func waitHealthz(t *testing.T, base string, want int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%s/healthz to answer %d", base, want), 20*time.Second, func() bool {
		r, err := webTry(nil, "GET", base+"/healthz", "")
		return err == nil && r.code == want
	})
}

func TestWebFrontend(t *testing.T) {
	t.Parallel()
	// A second program "two", in a section of its own after the frontend's.
	r, base, port := webRamona(t, "\n"+progSection("two", helperCommand(t, "sleep", "1h")))
	r.waitState("two", "RUNNING", 10*time.Second)
	origin := "Origin: " + base

	// The status API and the security headers.
	resp := webDo(t, nil, "GET", base+"/api/status", "")
	var list []programStatus
	if err := json.Unmarshal([]byte(resp.body), &list); resp.code != 200 || err != nil || len(list) != 3 {
		t.Fatalf("/api/status: %d %v %q", resp.code, err, resp.body)
	}
	for i, name := range []string{"web", "two", "one"} {
		if list[i].Name != name || list[i].State != "RUNNING" || list[i].PID == 0 {
			t.Errorf("/api/status[%d] = %+v, want %s RUNNING", i, list[i], name)
		}
	}
	for k, v := range map[string]string{"Content-Security-Policy": "default-src 'self'", "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"} {
		if !strings.Contains(resp.header.Get(k), v) {
			t.Errorf("header %s = %q, want %q in it", k, resp.header.Get(k), v)
		}
	}

	// State changes: POST only, and never cross-origin from a browser.
	for _, headers := range [][]string{
		{"Origin: http://evil.example"},
		{"Origin: http://evil.example", "Sec-Fetch-Site: cross-site"},
		{"Sec-Fetch-Site: cross-site"},
		{"Sec-Fetch-Site: same-site"},
		{"Origin: " + fmt.Sprintf("http://127.0.0.1:%d", port+1)},
	} {
		if resp := webDo(t, nil, "POST", base+"/api/stop", "name=one", headers...); resp.code != 403 {
			t.Errorf("POST /api/stop with %q: %d, want 403", headers, resp.code)
		}
	}
	// A multipart body (curl -F name=one) is not read: refused, never "no
	// names, so all".
	multipart := "--b\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\none\r\n--b--\r\n"
	if resp := webDo(t, nil, "POST", base+"/api/stop", multipart, origin, "Content-Type: multipart/form-data; boundary=b"); resp.code != 415 || !strings.Contains(resp.body, "curl -d") {
		t.Errorf("POST /api/stop multipart: %d %q; want 415 and what to send instead", resp.code, resp.body)
	}
	if st := r.status(); st["one"].State != "RUNNING" || st["two"].State != "RUNNING" {
		t.Fatalf("one is %s and two %s after refused requests, want RUNNING", st["one"].State, st["two"].State)
	}
	resp = webDo(t, nil, "POST", base+"/api/stop", "name=one", origin)
	var res controlResult
	if err := json.Unmarshal([]byte(resp.body), &res); resp.code != 200 || err != nil || res.Exit != 0 {
		t.Fatalf("POST /api/stop: %d %q", resp.code, resp.body)
	}
	r.waitState("one", "STOPPED", 10*time.Second)
	resp = webDo(t, nil, "POST", base+"/api/start", `{"name":"one"}`, "Content-Type: application/json", "Referer: "+base+"/")
	if err := json.Unmarshal([]byte(resp.body), &res); resp.code != 200 || err != nil || res.Exit != 0 {
		t.Fatalf("POST /api/start JSON: %d %q", resp.code, resp.body)
	}
	r.waitState("one", "RUNNING", 10*time.Second)
	resp = webDo(t, nil, "POST", base+"/api/start", "", "Content-Type: application/json", "Referer: "+base+"/")
	if resp.code != 200 {
		t.Fatalf("POST /api/start (all, JSON without body): %d %q", resp.code, resp.body)
	}
	resp = webDo(t, nil, "POST", base+"/api/start", "name=nosuch", origin)
	if err := json.Unmarshal([]byte(resp.body), &res); err != nil || res.Exit != exitUsage || !strings.Contains(res.Error, "unknown program nosuch") {
		t.Errorf("POST /api/start name=nosuch: %d %q", resp.code, resp.body)
	}

	// The log: tail and follow (Server-Sent Events).
	resp = webDo(t, nil, "GET", base+"/api/tail?name=two&n=10", "")
	if resp.code != 200 || !strings.Contains(resp.body, "sleep: started pid=") {
		t.Errorf("/api/tail: %d %q", resp.code, resp.body)
	}
	checkFollow(t, base+"/api/follow?name=one", "sleep: started pid=")

	checkMetrics(t, base)

	// The page, its script and style: their types; the routes' methods.
	for path, ctype := range map[string]string{"/": "text/html; charset=utf-8", "/rows": "text/html; charset=utf-8",
		"/app.js": "text/javascript; charset=utf-8", "/app.css": "text/css; charset=utf-8", "/favicon.svg": "image/svg+xml"} {
		resp := webDo(t, nil, "GET", base+path, "")
		if resp.code != 200 || resp.header.Get("Content-Type") != ctype || resp.body == "" {
			t.Errorf("GET %s: %d %q (%d bytes), want 200 %q", path, resp.code, resp.header.Get("Content-Type"), len(resp.body), ctype)
		}
		if resp := webDo(t, nil, "HEAD", base+path, ""); resp.code != 200 || resp.header.Get("Content-Type") != ctype || resp.body != "" {
			t.Errorf("HEAD %s: %d %q %q", path, resp.code, resp.header.Get("Content-Type"), resp.body)
		}
	}
	for _, c := range []struct{ method, path, allow string }{
		{"GET", "/api/stop", "POST"},
		{"DELETE", "/api/status", "GET, HEAD"},
		{"POST", "/", "GET, HEAD"},
		{"POST", "/metrics", "GET, HEAD"},
		{"PUT", "/healthz", "GET, HEAD"},
	} {
		if resp := webDo(t, nil, c.method, base+c.path, "", origin); resp.code != 405 || resp.header.Get("Allow") != c.allow {
			t.Errorf("%s %s: %d, Allow %q; want 405 and %q", c.method, c.path, resp.code, resp.header.Get("Allow"), c.allow)
		}
	}
	if resp := webDo(t, nil, "GET", base+"/nosuch", ""); resp.code != 404 {
		t.Errorf("GET /nosuch: %d, want 404", resp.code)
	}
	if st := r.status()["one"]; st.State != "RUNNING" {
		t.Errorf("one is %s after requests with wrong methods, want RUNNING", st.State)
	}

	// Stop all from the page keeps the server and the frontend running.
	resp = webDo(t, nil, "POST", base+"/api/stop", "name=", origin)
	if err := json.Unmarshal([]byte(resp.body), &res); resp.code != 200 || err != nil || res.Exit != 0 {
		t.Fatalf("POST /api/stop (all): %d %q", resp.code, resp.body)
	}
	st := r.status()
	if st["one"].State != "STOPPED" || st["two"].State != "STOPPED" || st["web"].State != "RUNNING" {
		t.Errorf("after stop all from the web: %+v", st)
	}
	r.stopAll()
}

// checkFollow reads the SSE stream at url until an event's data holds want.
func checkFollow(t *testing.T, url, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("follow: %v", err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("follow: %d %s", resp.StatusCode, ct)
	}
	sc := bufio.NewScanner(resp.Body)
	var got strings.Builder
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var chunk string
		if err := json.Unmarshal([]byte(data), &chunk); err != nil {
			t.Fatalf("follow: event data %q is not a JSON string: %v", data, err)
		}
		got.WriteString(chunk)
		if strings.Contains(got.String(), want) {
			return
		}
	}
	t.Fatalf("follow: stream ended (%v) without %q:\n%s", sc.Err(), want, got.String())
}

// checkMetrics parses /metrics line by line: comments are # HELP or # TYPE,
// every other line is `name{labels} value`, every family has both.
func checkMetrics(t *testing.T, base string) {
	t.Helper()
	resp := webDo(t, nil, "GET", base+"/metrics", "")
	if resp.code != 200 || !strings.HasPrefix(resp.header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("/metrics: %d %s", resp.code, resp.header.Get("Content-Type"))
	}
	sample := regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? (-?[0-9.]+(e[+-]?[0-9]+)?|NaN|[+-]Inf)$`)
	help, typ := map[string]bool{}, map[string]bool{}
	values := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(resp.body, "\n"), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == "#" {
			switch f[1] {
			case "HELP":
				help[f[2]] = true
			case "TYPE":
				typ[f[2]] = true
				if len(f) != 4 || (f[3] != "gauge" && f[3] != "counter") {
					t.Errorf("/metrics: bad TYPE line %q", line)
				}
			default:
				t.Errorf("/metrics: unexpected comment %q", line)
			}
			continue
		}
		m := sample.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("/metrics: %q is not a sample line", line)
			continue
		}
		if !help[m[1]] || !typ[m[1]] {
			t.Errorf("/metrics: %s has no HELP or TYPE before it", m[1])
		}
		values[strings.TrimSuffix(line, " "+m[5])] = m[5]
	}
	for series, want := range map[string]string{
		`ramona_server_up`:                                  "1",
		`ramona_program_up{name="one"}`:                     "1",
		`ramona_program_state{name="one",state="RUNNING"}`:  "1",
		`ramona_program_state{name="one",state="STOPPED"}`:  "0",
		`ramona_program_launches_total{name="one"}`:         "2",
		`ramona_program_restarts_total{name="one"}`:         "0",
		`ramona_log_lost_bytes_total{name="two"}`:           "0",
		`ramona_program_launches_total{name="web"}`:         "1",
		`ramona_program_state{name="web",state="CFGERROR"}`: "0",
	} {
		if got, ok := values[series]; !ok || got != want {
			t.Errorf("/metrics: %s = %q (present %v), want %s\n%s", series, got, ok, want, resp.body)
		}
	}
	if _, ok := values[`ramona_program_uptime_seconds{name="two"}`]; !ok {
		t.Errorf("/metrics: no uptime for two")
	}
	// A running program's tree has memory; its CPU time is a counter.
	if v, err := strconv.ParseInt(values[`ramona_program_memory_bytes{name="two"}`], 10, 64); err != nil || v <= 0 {
		t.Errorf("/metrics: ramona_program_memory_bytes of two = %q; want a positive number", values[`ramona_program_memory_bytes{name="two"}`])
	}
	if _, err := strconv.ParseFloat(values[`ramona_program_cpu_seconds_total{name="two"}`], 64); err != nil {
		t.Errorf("/metrics: ramona_program_cpu_seconds_total of two = %q", values[`ramona_program_cpu_seconds_total{name="two"}`])
	}
}

func TestWebAuth(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	sum := sha256.Sum256([]byte("s3cret"))
	r := newTestRamona(t, fmt.Sprintf(`
[program:web]
command=<httpfend>
listen=tcp://127.0.0.1:%d, unix://w.sock
username=admin
password={SHA256}%s
starttimeout=0.2
`, port, hex.EncodeToString(sum[:])))
	r.start()
	r.waitState("web", "RUNNING", 10*time.Second)
	waitHealthz(t, base, 200) // no auth on /healthz
	for _, path := range []string{"/", "/rows", "/api/status", "/metrics", "/app.js", "/favicon.svg"} {
		resp := webDo(t, nil, "GET", base+path, "")
		if resp.code != 401 || !strings.HasPrefix(resp.header.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("GET %s without auth: %d %q, want 401 with a Basic challenge", path, resp.code, resp.header.Get("WWW-Authenticate"))
		}
		if resp := webDo(t, nil, "GET", base+path, "", "Authorization: admin:wrong"); resp.code != 401 {
			t.Errorf("GET %s with a wrong password: %d, want 401", path, resp.code)
		}
		if resp := webDo(t, nil, "GET", base+path, "", "Authorization: root:s3cret"); resp.code != 401 {
			t.Errorf("GET %s with a wrong user: %d, want 401", path, resp.code)
		}
		if resp := webDo(t, nil, "GET", base+path, "", "Authorization: admin:s3cret"); resp.code != 200 {
			t.Errorf("GET %s with auth: %d, want 200", path, resp.code)
		}
	}
	// Who may ask comes before which paths and methods exist.
	for _, c := range [][2]string{{"GET", "/nosuch"}, {"DELETE", "/api/status"}, {"GET", "/api/stop"}, {"POST", "/healthz"}} {
		if resp := webDo(t, nil, c[0], base+c[1], ""); resp.code != 401 {
			t.Errorf("%s %s without auth: %d, want 401", c[0], c[1], resp.code)
		}
	}
	// The unix:// address serves the same, with the same rules.
	unixClient := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", filepath.Join(r.dir, "w.sock"))
	}}}
	defer unixClient.CloseIdleConnections()
	if resp := webDo(t, unixClient, "GET", "http://ramona/api/status", "", "Authorization: admin:s3cret"); resp.code != 200 || !strings.Contains(resp.body, `"name":"web"`) {
		t.Errorf("unix socket /api/status: %d %q", resp.code, resp.body)
	}
	if resp := webDo(t, unixClient, "GET", "http://ramona/api/status", ""); resp.code != 401 {
		t.Errorf("unix socket without auth: %d, want 401", resp.code)
	}
	if log := r.programLog("web"); strings.Contains(log, "s3cret") || strings.Contains(log, hex.EncodeToString(sum[:])) {
		t.Errorf("the frontend's log shows the password:\n%s", log)
	}
	r.stopAll()
}

func TestCheckPassword(t *testing.T) {
	t.Parallel()
	sha1hex := "e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4" // sha1("secret")
	sha256hex := "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"
	for _, c := range []struct {
		configured, given string
		want              bool
	}{
		{"secret", "secret", true},
		{"secret", "Secret", false},
		{"secret", "", false},
		{"{SHA}" + sha1hex, "secret", true},
		{"{SHA}" + strings.ToUpper(sha1hex), "secret", true},
		{"{SHA}" + sha1hex, "secrets", false},
		{"{SHA256}" + sha256hex, "secret", true},
		{"{SHA256}" + sha256hex, sha256hex, false},
		{"{SHA256}nothex", "secret", false},
		{"{SHA256}", "", false},
	} {
		if got := checkPassword(c.configured, c.given); got != c.want {
			t.Errorf("checkPassword(%q, %q) = %v, want %v", c.configured, c.given, got, c.want)
		}
	}
}

// TestWebPublicListen: a listen address reachable from elsewhere needs
// username and password (a config error at the listen line); with them, or
// on loopback or a unix socket, the configuration loads.
func TestWebPublicListen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conf := filepath.Join(dir, "app.conf")
	load := func(section string) error {
		if err := os.WriteFile(conf, []byte("[general]\nlogdir=.\n\n"+section), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := loadConfig([]string{conf}, nil)
		if err == nil {
			for _, p := range cfg.Programs {
				if p.Err != nil {
					return p.Err
				}
			}
		}
		return err
	}
	err := load("[program:web]\ncommand=<httpfend>\nlisten=tcp://127.0.0.1:5588,tcp://0.0.0.0:5588\n")
	want := conf + ":6: [program:web] listen: tcp://0.0.0.0:5588 is not a loopback address: the web frontend there needs username= and password="
	if err == nil || err.Error() != want {
		t.Errorf("public listen without username: %v\nwant %s", err, want)
	}
	for _, ok := range []string{
		"[program:web]\ncommand=<httpfend>\nlisten=tcp://0.0.0.0:5588\nusername=admin\npassword=x\n",
		"[program:web]\ncommand=<httpfend>\nlisten=tcp://[::1]:5588, tcp://localhost:5589, unix://w.sock\n",
	} {
		if err := load(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}

// TestWebHealthz: a frontend started by the test (not by the server) answers
// /healthz 200 while the server runs and 503 once it has stopped, and exits
// 0 on SIGTERM.
func TestWebHealthz(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	r := newTestRamona(t, fmt.Sprintf(`
[program:web]
command=<httpfend>
listen=tcp://127.0.0.1:%d
autostart=no
`, port))
	r.start()
	fe := startRamonaProcess(t, filepath.Join(r.dir, "web.log"), []string{"RAMONA_TEST_ID=" + r.id}, "-c", r.conf, "httpfend", "web")
	waitHealthz(t, base, 200)
	// Its log lines are the server log's.
	logged, _ := os.ReadFile(filepath.Join(r.dir, "web.log"))
	if !regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} INFO    web: web frontend listening on tcp://127\.0\.0\.1:\d+ \(server unix://`).Match(logged) {
		t.Errorf("the frontend's log does not have the server log's lines:\n%s", logged)
	}
	if resp := webDo(t, nil, "GET", base+"/healthz", ""); resp.body != "ok\n" {
		t.Errorf("/healthz: %q, want ok", resp.body)
	}
	r.stopAll()
	waitHealthz(t, base, 503)
	if resp := webDo(t, nil, "GET", base+"/healthz", ""); resp.body != "unavailable\n" {
		t.Errorf("/healthz without a server: %q; want only unavailable (the reason is in the frontend's log)", resp.body)
	}
	resp := webDo(t, nil, "GET", base+"/metrics", "")
	if resp.code != 200 || !strings.Contains(resp.body, "\nramona_server_up 0\n") {
		t.Errorf("/metrics without a server: %d %q", resp.code, resp.body)
	}
	if resp := webDo(t, nil, "GET", base+"/api/status", ""); resp.code != 502 {
		t.Errorf("/api/status without a server: %d, want 502", resp.code)
	}
	fe.signal(syscall.SIGTERM)
	if code, err := fe.wait(10 * time.Second); code != 0 || err != nil {
		t.Errorf("frontend after SIGTERM: exit %d, %v", code, err)
	}
}

// TestWebFrontendUsage: httpfend refuses a program that is not a frontend.
func TestWebFrontendUsage(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf("[program:one]\ncommand=%s\n", helperCommand(t, "sleep", "1h")))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"httpfend"}, "usage: ramona httpfend PROGRAM"},
		{[]string{"httpfend", "nosuch"}, "the configuration has no [program:nosuch]"},
		{[]string{"httpfend", "one"}, "[program:one] is not command=<httpfend>"},
	} {
		code, _, stderr := r.cli(c.args...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, stderr, exitUsage, c.want)
		}
	}
}

// TestTimedWriter: each write of an answer has its own deadline: a handler
// that answers after longer than the deadline is still heard, and writes to
// a client that does not read fail after about the deadline.
func TestTimedWriter(t *testing.T) {
	t.Parallel()
	const timeout = 200 * time.Millisecond
	writeErr := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		tw := timedWriter{ResponseWriter: rw, rc: http.NewResponseController(rw), timeout: timeout}
		if r.URL.Path == "/late" {
			time.Sleep(3 * timeout) // a start that waits for its program
			io.WriteString(tw, "late answer")
			return
		}
		chunk := strings.Repeat("x", 64<<10)
		for { // to a client that never reads: the socket buffers fill up
			if _, err := io.WriteString(tw, chunk); err != nil {
				writeErr <- err
				return
			}
		}
	}))
	defer srv.Close()
	resp := webDo(t, nil, "GET", srv.URL+"/late", "")
	if resp.code != 200 || resp.body != "late answer" {
		t.Errorf("an answer written after %v: %d %q", 3*timeout, resp.code, resp.body)
	}
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /flood HTTP/1.1\r\nHost: x\r\n\r\n")
	select {
	case err := <-writeErr:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("writing to a client that does not read: %v; want the deadline", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("writing to a client that does not read did not fail")
	}
}

// browser is a real headless Chromium driven over the DevTools protocol on a
// pipe (--remote-debugging-pipe: it reads commands on fd 3 and writes
// answers and events on fd 4, each a JSON message ended by a NUL byte).
// It answers every dialog (confirm, alert) with acceptDialogs and records
// its text, and records what went wrong in a page: uncaught exceptions,
// console errors, Content-Security-Policy violations.
type browser struct {
	t     *testing.T
	cmd   *exec.Cmd
	out   *os.File // its fd 3
	write sync.Mutex

	mu            sync.Mutex // guards the fields below
	nextID        int
	waiting       map[int]chan cdpMessage
	loads         map[string]int // load events per session
	dialogs       []string
	problems      []string
	acceptDialogs bool
	gone          chan struct{} // closed when its pipe ends
}

// cdpMessage is a DevTools message: a command's answer (ID) or an event
// (Method).
type cdpMessage struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *cdpError       `json:"error,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
}

type cdpError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// newBrowser starts Chromium (RAMONA_TEST_ID=id in its environment, so
// the leftover check sees it); its whole process group is killed when the
// test ends.
func newBrowser(t *testing.T, id string) *browser {
	t.Helper()
	bin := needPeer(t, "chromium", "chromium")
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	evR, evW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
		"--remote-debugging-pipe", "--user-data-dir="+t.TempDir(), "about:blank")
	cmd.Env = append(os.Environ(), "RAMONA_TEST_ID="+id)
	cmd.ExtraFiles = []*os.File{cmdR, evW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cmdR.Close()
	evW.Close()
	b := &browser{t: t, cmd: cmd, out: cmdW, waiting: map[int]chan cdpMessage{}, loads: map[string]int{}, gone: make(chan struct{})}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // its helpers too
		cmd.Wait()
		cmdW.Close()
		evR.Close()
		if t.Failed() {
			t.Logf("errors in pages not reported yet:\n%s", strings.Join(b.takeProblems(), "\n"))
			t.Logf("chromium's stderr:\n%s", stderr.String())
		}
	})
	go b.read(evR) // ends when Chromium is gone
	return b
}

// read takes Chromium's messages: answers go to their callers, events are
// recorded.
func (b *browser) read(r io.Reader) {
	defer close(b.gone)
	br := bufio.NewReader(r)
	for {
		frame, err := br.ReadBytes(0)
		if err != nil {
			return
		}
		var m cdpMessage
		if json.Unmarshal(frame[:len(frame)-1], &m) != nil {
			continue
		}
		b.mu.Lock()
		if ch := b.waiting[m.ID]; m.ID != 0 && ch != nil {
			delete(b.waiting, m.ID)
			ch <- m
		}
		switch m.Method {
		case "Page.loadEventFired":
			b.loads[m.SessionID]++
		case "Page.javascriptDialogOpening":
			var p struct{ Message string }
			json.Unmarshal(m.Params, &p)
			b.dialogs = append(b.dialogs, p.Message)
			// Answered without waiting: the click that opened it waits for it.
			go b.send(m.SessionID, "Page.handleJavaScriptDialog", map[string]any{"accept": b.acceptDialogs})
		case "Runtime.exceptionThrown":
			b.problems = append(b.problems, "exception: "+string(m.Params))
		case "Log.entryAdded":
			var p struct {
				Entry struct{ Level, Source, Text, URL string }
			}
			json.Unmarshal(m.Params, &p)
			if p.Entry.Level == "error" {
				b.problems = append(b.problems, fmt.Sprintf("%s error: %s (%s)", p.Entry.Source, p.Entry.Text, p.Entry.URL))
			}
		case "Runtime.consoleAPICalled":
			var p struct{ Type string }
			json.Unmarshal(m.Params, &p)
			if p.Type == "error" || p.Type == "warning" {
				b.problems = append(b.problems, "console: "+string(m.Params))
			}
		}
		b.mu.Unlock()
	}
}

// send posts a command and returns the channel its answer comes on.
func (b *browser) send(session, method string, params any) chan cdpMessage {
	ch := make(chan cdpMessage, 1)
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	b.waiting[id] = ch
	b.mu.Unlock()
	m := map[string]any{"id": id, "method": method, "params": params}
	if session != "" {
		m["sessionId"] = session
	}
	msg, _ := json.Marshal(m)
	b.write.Lock()
	defer b.write.Unlock()
	b.out.Write(append(msg, 0))
	return ch
}

// call runs a command and decodes its result into out (if not nil).
func (b *browser) call(session, method string, params any, out any) {
	b.t.Helper()
	if msg := b.tryCall(session, method, params, out); msg != "" {
		b.t.Fatalf("chromium %s: %s", method, msg)
	}
}

// tryCall is call that returns the error message chromium answers with
// instead of failing the test; every other failure still does.
func (b *browser) tryCall(session, method string, params any, out any) string {
	b.t.Helper()
	select {
	case m := <-b.send(session, method, params):
		if m.Error != nil {
			return m.Error.Message
		}
		if out != nil {
			if err := json.Unmarshal(m.Result, out); err != nil {
				b.t.Fatalf("chromium %s: %v in %s", method, err, m.Result)
			}
		}
	case <-b.gone:
		b.t.Fatalf("chromium %s: chromium is gone", method)
	case <-time.After(60 * time.Second):
		b.t.Fatalf("chromium %s: no answer in 60 s", method)
	}
	return ""
}

// takeProblems returns what went wrong in pages since the last call.
func (b *browser) takeProblems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.problems
	b.problems = nil
	return p
}

func (b *browser) takeDialogs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	d := b.dialogs
	b.dialogs = nil
	return d
}

// browserTab is one page of the browser with a viewport of its own.
type browserTab struct {
	b       *browser
	session string
}

// newTab opens a page width x height CSS pixels wide; mobile emulates a
// phone (the viewport meta tag counts); without scripts the page's own
// script does not run (the test's evaluations still do).
func (b *browser) newTab(width, height int, mobile, scripts bool) *browserTab {
	b.t.Helper()
	var target struct{ TargetID string }
	b.call("", "Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var att struct{ SessionID string }
	b.call("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att)
	tb := &browserTab{b: b, session: att.SessionID}
	for _, domain := range []string{"Page.enable", "Runtime.enable", "Log.enable", "DOM.enable"} {
		b.call(tb.session, domain, map[string]any{}, nil)
	}
	b.call(tb.session, "Emulation.setDeviceMetricsOverride", map[string]any{"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}, nil)
	if !scripts {
		b.call(tb.session, "Emulation.setScriptExecutionDisabled", map[string]any{"value": true}, nil)
	}
	return tb
}

func (tb *browserTab) loads() int {
	tb.b.mu.Lock()
	defer tb.b.mu.Unlock()
	return tb.b.loads[tb.session]
}

// navigate loads url and waits for its load event.
func (tb *browserTab) navigate(url string) {
	tb.b.t.Helper()
	before := tb.loads()
	tb.b.call(tb.session, "Page.navigate", map[string]any{"url": url}, nil)
	waitFor(tb.b.t, "the page "+url+" to load", 30*time.Second, func() bool { return tb.loads() > before })
}

// eval evaluates a JavaScript expression in the page (a promise is
// awaited) and decodes its value into out.
func (tb *browserTab) eval(expr string, out any) {
	tb.b.t.Helper()
	var res struct {
		Result           struct{ Value json.RawMessage }
		ExceptionDetails json.RawMessage
	}
	tb.b.call(tb.session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &res)
	if res.ExceptionDetails != nil {
		tb.b.t.Fatalf("evaluating %s: %s", expr, res.ExceptionDetails)
	}
	if out != nil {
		if err := json.Unmarshal(res.Result.Value, out); err != nil {
			tb.b.t.Fatalf("evaluating %s: %v in %s", expr, err, res.Result.Value)
		}
	}
}

// waitTrue waits until a JavaScript expression is true in the page.
func (tb *browserTab) waitTrue(what, expr string) {
	tb.b.t.Helper()
	waitFor(tb.b.t, what, 30*time.Second, func() bool {
		var res struct {
			Result           struct{ Value bool }
			ExceptionDetails json.RawMessage
		}
		msg := tb.b.tryCall(tb.session, "Runtime.evaluate", map[string]any{"expression": "Boolean(" + expr + ")", "returnByValue": true, "awaitPromise": true}, &res)
		if msg != "" && !pageIsChanging(msg) {
			tb.b.t.Fatalf("chromium Runtime.evaluate: %s", msg)
		}
		if res.ExceptionDetails != nil {
			tb.b.t.Fatalf("evaluating %s: %s", expr, res.ExceptionDetails)
		}
		return msg == "" && res.Result.Value
	})
}

// pageIsChanging reports whether chromium refused an evaluation because
// the page is being replaced (a click that navigates, on a loaded machine
// still under way): the next poll asks the new page.
func pageIsChanging(msg string) bool {
	return strings.Contains(msg, "Inspected target navigated or closed") || strings.Contains(msg, "Cannot find context with specified id")
}

// click clicks the middle of the element selector names with the mouse,
// as a person does (it works without the page's script too).
func (tb *browserTab) click(selector string) {
	tb.b.t.Helper()
	var doc struct{ Root struct{ NodeID int } }
	tb.b.call(tb.session, "DOM.getDocument", map[string]any{}, &doc)
	var node struct{ NodeID int }
	tb.b.call(tb.session, "DOM.querySelector", map[string]any{"nodeId": doc.Root.NodeID, "selector": selector}, &node)
	if node.NodeID == 0 {
		tb.b.t.Fatalf("click: no element %s in the page", selector)
	}
	tb.b.call(tb.session, "DOM.scrollIntoViewIfNeeded", map[string]any{"nodeId": node.NodeID}, nil)
	var box struct{ Model struct{ Content []float64 } }
	tb.b.call(tb.session, "DOM.getBoxModel", map[string]any{"nodeId": node.NodeID}, &box)
	q := box.Model.Content // x1,y1 .. x4,y4
	x, y := (q[0]+q[4])/2, (q[1]+q[5])/2
	for _, typ := range []string{"mousePressed", "mouseReleased"} {
		tb.b.call(tb.session, "Input.dispatchMouseEvent", map[string]any{"type": typ, "x": x, "y": y, "button": "left", "clickCount": 1}, nil)
	}
}

// screenshot saves what the viewport shows as a PNG file.
func (tb *browserTab) screenshot(path string) {
	tb.b.t.Helper()
	var shot struct{ Data []byte } // base64 in JSON
	tb.b.call(tb.session, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot)
	if err := os.WriteFile(path, shot.Data, 0o644); err != nil {
		tb.b.t.Fatal(err)
	}
}

// TestWebPageMarkup renders the page with a row in every state, a
// confirmation and an outcome, and checks it: well-formed (it parses as
// XML, which its polyglot markup is), APPNAME @ HOST as its title and
// heading, no inline script, style or handler (the CSP forbids them), every
// element the script looks up present, every form and link aimed at a
// route that takes its method, and the status texts escaped.
func TestWebPageMarkup(t *testing.T) {
	t.Parallel()
	w := newWebUI(&ProgramConfig{Name: "web"}, SocketURI{}, "demo @ host1", func(LogLevel, string, ...any) {})
	var list []programStatus
	for _, s := range stateNames {
		list = append(list, programStatus{Name: strings.ToLower(s), State: s})
	}
	list = append(list, programStatus{Name: "web", State: "RUNNING", PID: 42, Uptime: 90, StatusText: `<script>alert("x")</script> & more`})
	d := pageData{Title: w.title, Time: "10:00:00", Rows: w.pageRows(list), Result: "stop one: one: STOPPED",
		Confirm: &pageConfirm{Cmd: "stop", Names: []string{"web"}, Scope: "web", Question: w.selfQuestion("stop", "web")}}
	var b strings.Builder
	if err := renderPage(&b, d); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if !strings.HasPrefix(page, "<!DOCTYPE html>\n") {
		t.Errorf("the page does not start with its doctype: %.80q", page)
	}
	dec := xml.NewDecoder(strings.NewReader(page))
	dec.Strict = true
	ids := map[string]bool{}
	texts := map[string]string{} // the text of title and h1
	var open []string
	scripts := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the page is not well-formed: %v\n%s", err, page)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			open = append(open, tok.Name.Local)
			attrs := map[string]string{}
			for _, a := range tok.Attr {
				attrs[a.Name.Local] = a.Value
				if a.Name.Local == "style" || strings.HasPrefix(a.Name.Local, "on") {
					t.Errorf("<%s %s=...>: inline style and handlers break the CSP", tok.Name.Local, a.Name.Local)
				}
			}
			if id := attrs["id"]; id != "" {
				if ids[id] {
					t.Errorf("id %q twice", id)
				}
				ids[id] = true
			}
			switch tok.Name.Local {
			case "script":
				scripts++
				if attrs["src"] != "/app.js" {
					t.Errorf("a <script> other than /app.js: %v", attrs)
				}
			case "form":
				if attrs["method"] != "post" {
					t.Errorf("a form that does not POST: %v", attrs)
				}
				checkRoute(t, w, "POST", attrs["action"])
			case "button":
				if attrs["type"] != "submit" {
					t.Errorf("a button that is not a form's: %v", attrs)
				}
				if a := attrs["formaction"]; a != "" {
					checkRoute(t, w, "POST", a)
				}
			case "a", "link":
				checkRoute(t, w, "GET", attrs["href"])
			}
		case xml.EndElement:
			open = open[:len(open)-1]
		case xml.CharData:
			if n := len(open); n > 0 && (open[n-1] == "title" || open[n-1] == "h1") {
				texts[open[n-1]] += string(tok)
			}
		}
	}
	if scripts != 1 {
		t.Errorf("%d scripts, want only /app.js", scripts)
	}
	if texts["title"] != "demo @ host1" || texts["h1"] != "demo @ host1" {
		t.Errorf("title %q, heading %q; want both %q", texts["title"], texts["h1"], "demo @ host1")
	}
	js, err := webFiles.ReadFile("web/app.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`getElementById\("([^"]+)"\)|querySelector\("#([\w-]+)`).FindAllStringSubmatch(string(js), -1) {
		if id := m[1] + m[2]; !ids[id] {
			t.Errorf("app.js looks up #%s, which the page does not have", id)
		}
	}
	if !strings.Contains(page, `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more`) {
		t.Errorf("the status text is not escaped:\n%s", page)
	}
	// The rows alone, as /rows serves them, are well-formed too.
	b.Reset()
	if err := renderRows(&b, d.Rows); err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal([]byte("<tbody>"+b.String()+"</tbody>"), new(struct{})); err != nil {
		t.Errorf("the rows are not well-formed: %v\n%s", err, b.String())
	}
}

// checkRoute: the frontend has a route for method and the path of target.
func checkRoute(t *testing.T, w *webUI, method, target string) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil || u.Host != "" || !strings.HasPrefix(u.Path, "/") {
		t.Errorf("%s %q: not a path of this frontend", method, target)
		return
	}
	if _, pattern := w.mux.Handler(httptest.NewRequest(method, target, nil)); pattern == "" {
		t.Errorf("%s %s: no such route", method, target)
	}
}

// TestPageButtons: the buttons of a row fit its state.
func TestPageButtons(t *testing.T) {
	t.Parallel()
	for state, want := range map[string]string{
		"STOPPED":  "start",
		"STARTING": "stop restart",
		"RUNNING":  "stop restart",
		"BACKOFF":  "start stop",
		"STOPPING": "",
		"FATAL":    "start(force start,force)",
		"DISABLED": "",
		"CFGERROR": "",
	} {
		var got []string
		for _, b := range pageButtons(state) {
			s := b.Cmd
			if b.Label != b.Cmd || b.Force {
				s = fmt.Sprintf("%s(%s,force)", b.Cmd, b.Label)
			}
			got = append(got, s)
		}
		if strings.Join(got, " ") != want {
			t.Errorf("%s: buttons %q, want %q", state, got, want)
		}
	}
	if len(pageButtons("NOSUCH")) != 0 {
		t.Errorf("an unknown state has buttons")
	}
	// The frontend's own stop and restart ask first; nobody else's do.
	w := newWebUI(&ProgramConfig{Name: "web"}, SocketURI{}, "", func(LogLevel, string, ...any) {})
	for _, row := range w.pageRows([]programStatus{{Name: "web", State: "RUNNING"}, {Name: "one", State: "RUNNING"}}) {
		for _, b := range row.Buttons {
			if (b.Confirm != "") != (row.Name == "web") {
				t.Errorf("%s's %s: confirmation %q", row.Name, b.Cmd, b.Confirm)
			}
			if row.Name == "web" && !strings.Contains(b.Confirm, "web is the web frontend that serves this page") {
				t.Errorf("web's %s asks %q", b.Cmd, b.Confirm)
			}
		}
	}
}

// TestWebResults: an outcome kept for the page is shown once, only by its
// token, for webResultTTL, and no more than webResultsKept are kept.
func TestWebResults(t *testing.T) {
	t.Parallel()
	var rs webResults
	token := rs.put("stop one: done", false)
	if len(token) < 20 {
		t.Errorf("token %q is too short to be unguessable", token)
	}
	if _, ok := rs.take("nosuch"); ok {
		t.Errorf("an unknown token found an outcome")
	}
	if res, ok := rs.take(token); !ok || res.text != "stop one: done" || res.failed {
		t.Errorf("take = %+v, %v", res, ok)
	}
	if _, ok := rs.take(token); ok {
		t.Errorf("an outcome was shown twice")
	}
	old := rs.put("old", true)
	rs.kept[0].at = time.Now().Add(-webResultTTL - time.Second)
	if _, ok := rs.take(old); ok {
		t.Errorf("an expired outcome was shown")
	}
	first := rs.put("first", false)
	for i := 0; i < webResultsKept; i++ {
		rs.put("more", false)
	}
	if len(rs.kept) != webResultsKept {
		t.Errorf("%d outcomes kept, want at most %d", len(rs.kept), webResultsKept)
	}
	if _, ok := rs.take(first); ok {
		t.Errorf("the oldest outcome was not dropped")
	}
}

// webPageConfig has a program in nearly every state, a long status text
// (CFGERROR) and a frontend of its own at port.
func webPageConfig(t *testing.T, port int) string {
	sleep, exit1 := helperCommand(t, "sleep", "1h"), helperCommand(t, "exit", "1")
	return fmt.Sprintf("[general]\nappname=demo-web\n\n[program:web]\ncommand=<httpfend>\nlisten=tcp://127.0.0.1:%d\nstarttimeout=0.2\n\n", port) +
		progSection("one", sleep) +
		progSection("manual", sleep, "autostart=no") +
		progSection("slow", sleep, "starttimeout=1h") +
		progSection("crashing", exit1, "autorestart=yes", "startretries=1000", "starttimeout=1") +
		progSection("broken", exit1, "autorestart=no") +
		progSection("off", sleep, "disabled=yes") +
		progSection("misconfigured_with_a_long_name", sleep, "starttimeout=5x")
}

// pageRowFacts is what the page's script-free DOM says of one row, as
// measured in the browser.
type pageRowFacts struct {
	Name, State string
	Buttons     []string // labels, in order, "log" last
	Height      float64
	Left, Right float64 // the leftmost and rightmost edge of its cells' content
}

// pageFacts is measured in the page by one script: the title, the heading,
// the rows, the header row's height and the page's widths.
type pageFacts struct {
	Title, Heading  string
	Rows            []pageRowFacts
	HeaderHeight    float64
	ScrollWidth     int
	ViewportWidth   int
	Live            string
	Message, Errors string
}

const pageFactsJS = `(() => {
  const rect = el => el.getBoundingClientRect();
  const rows = Array.from(document.querySelectorAll("#programs tbody tr")).map(tr => {
    const boxes = Array.from(tr.querySelectorAll("td, td *")).filter(e => e.getClientRects().length > 0).map(rect);
    return {Name: tr.dataset.name, State: tr.dataset.state,
      Buttons: Array.from(tr.querySelectorAll("button, a")).map(b => b.textContent),
      Height: rect(tr).height,
      Left: Math.min(...boxes.map(b => b.left)), Right: Math.max(...boxes.map(b => b.right))};
  });
  return {Title: document.title, Heading: document.querySelector("h1").textContent, Rows: rows,
    HeaderHeight: rect(document.querySelector("#programs thead tr")).height,
    ScrollWidth: document.documentElement.scrollWidth, ViewportWidth: document.documentElement.clientWidth,
    Live: document.getElementById("updated").dataset.live,
    Message: document.getElementById("message").textContent, Errors: document.getElementById("error").textContent};
})()`

// webButtonsByState are the buttons a row shows in each state (besides
// "log", which every row has).
var webButtonsByState = map[string]string{
	"STOPPED": "start", "STARTING": "stop restart", "RUNNING": "stop restart", "BACKOFF": "start stop",
	"STOPPING": "", "FATAL": "force start", "DISABLED": "", "CFGERROR": "",
}

// checkPageFacts checks what every width must show: APPNAME @ HOST, a row
// per program in the state states has for it (one of "A|B") with the
// buttons of its state, nothing wider than the viewport.
func checkPageFacts(t *testing.T, width string, f pageFacts, states map[string]string) {
	t.Helper()
	host, _ := os.Hostname()
	if want := "demo-web @ " + host; f.Title != want || f.Heading != want {
		t.Errorf("%s: title %q, heading %q; want %q", width, f.Title, f.Heading, want)
	}
	if len(f.Rows) != len(states) {
		t.Errorf("%s: %d rows, want %d", width, len(f.Rows), len(states))
	}
	for _, row := range f.Rows {
		if want := states[row.Name]; !slices.Contains(strings.Split(want, "|"), row.State) {
			t.Errorf("%s: %s is %s on the page, want %s", width, row.Name, row.State, want)
		}
		want := strings.TrimSpace(webButtonsByState[row.State] + " log")
		if got := strings.Join(row.Buttons, " "); got != want {
			t.Errorf("%s: %s (%s) has buttons %q, want %q", width, row.Name, row.State, got, want)
		}
		if row.Left < 0 || row.Right > float64(f.ViewportWidth)+0.5 {
			t.Errorf("%s: %s's row reaches from %.0f to %.0f px, outside the viewport (%d px)", width, row.Name, row.Left, row.Right, f.ViewportWidth)
		}
	}
	if f.ScrollWidth > f.ViewportWidth {
		t.Errorf("%s: the page is %d px wide in a %d px viewport: it scrolls sideways", width, f.ScrollWidth, f.ViewportWidth)
	}
}

// TestWebPageInBrowser loads the page in a real headless Chromium at
// 1280 px and at 400 px (a phone), with and without its script, and checks
// the DOM it shows: APPNAME @ HOST, the buttons each state gets, one line
// per row at 1280 px, nothing wider than the screen at 400 px, no error in
// the page (an exception, a CSP violation, a console error); then clicks as
// a person would: the frontend's own stop asks first, stop and log with the
// script, start and the frontend's own stop (confirmed on a page of its own)
// without it. Screenshots land in the test's artifact directory (go test
// -artifacts -outputdir DIR keeps them).
func TestWebPageInBrowser(t *testing.T) {
	skipInShort(t, "headless Chromium")
	t.Parallel()
	port := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	r := newTestRamona(t, webPageConfig(t, port))
	r.realBackoff() // it waits for BACKOFF to act on it
	r.start()
	states := map[string]string{"web": "RUNNING", "one": "RUNNING", "manual": "STOPPED", "slow": "STARTING", "crashing": "BACKOFF",
		"broken": "FATAL", "off": "DISABLED", "misconfigured_with_a_long_name": "CFGERROR"}
	for name, state := range states {
		r.waitState(name, state, 20*time.Second)
	}
	states["crashing"] = "BACKOFF|STARTING" // it starts again now and then, for a moment
	waitHealthz(t, base, 200)
	b := newBrowser(t, r.id)
	shots := t.ArtifactDir()

	// 1280 px with the script: one line per row.
	wide := b.newTab(1280, 900, false, true)
	wide.navigate(base + "/")
	wide.waitTrue("the script to refresh the table", `document.getElementById("updated").dataset.live === "yes"`)
	var f pageFacts
	waitFor(t, "a page that shows crashing in BACKOFF", 30*time.Second, func() bool {
		wide.eval(pageFactsJS, &f)
		return slices.ContainsFunc(f.Rows, func(row pageRowFacts) bool { return row.Name == "crashing" && row.State == "BACKOFF" })
	})
	wide.screenshot(filepath.Join(shots, "page-1280.png"))
	checkPageFacts(t, "1280 px", f, states)
	for _, row := range f.Rows {
		if row.Height != f.Rows[0].Height || row.Height > 1.6*f.HeaderHeight {
			t.Errorf("1280 px: %s's row is %.1f px high (the first %.1f, the header %.1f): not one line", row.Name, row.Height, f.Rows[0].Height, f.HeaderHeight)
		}
	}
	if p := b.takeProblems(); len(p) > 0 {
		t.Errorf("errors in the page at 1280 px:\n%s", strings.Join(p, "\n"))
	}

	// 400 px, a phone: every row usable, nothing sideways.
	narrow := b.newTab(400, 1400, true, true)
	narrow.navigate(base + "/")
	narrow.waitTrue("the script to refresh the table", `document.getElementById("updated").dataset.live === "yes"`)
	narrow.eval(pageFactsJS, &f)
	narrow.screenshot(filepath.Join(shots, "page-400.png"))
	checkPageFacts(t, "400 px", f, states)

	// The frontend's own stop asks first; dismissed, nothing is sent.
	narrow.click(`tr[data-name="web"] button[data-cmd="stop"]`)
	if d := b.takeDialogs(); len(d) != 1 || !strings.Contains(d[0], "web is the web frontend that serves this page") {
		t.Errorf("the frontend's own stop asked %q, want one question about the frontend", d)
	}
	var msg string
	narrow.eval(`document.getElementById("message").textContent`, &msg)
	if msg != "" {
		t.Errorf("a dismissed stop of the frontend sent a request: %q", msg)
	}
	// Another program's stop does not ask, and the script follows a log.
	narrow.click(`tr[data-name="one"] button[data-cmd="stop"]`)
	narrow.waitTrue("the stop's outcome on the page", `document.getElementById("message").textContent.startsWith("stop one: ")`)
	narrow.waitTrue("one to show STOPPED", `document.querySelector('tr[data-name="one"]').dataset.state === "STOPPED"`)
	if d := b.takeDialogs(); len(d) != 0 {
		t.Errorf("stop of one asked %q", d)
	}
	if st := r.status(); st["one"].State != "STOPPED" || st["web"].State != "RUNNING" {
		t.Errorf("after stop one from the page: one %s, web %s; want STOPPED, RUNNING", st["one"].State, st["web"].State)
	}
	narrow.click(`tr[data-name="manual"] a.log`)
	narrow.waitTrue("the log of manual to show", `document.getElementById("logname").textContent === "manual"`)
	narrow.click(`tr[data-name="one"] a.log`)
	narrow.waitTrue("the log of one to follow", `document.getElementById("logtext").textContent.includes("sleep: started pid=")`)
	narrow.screenshot(filepath.Join(shots, "page-400-after-stop-and-log.png"))
	if p := b.takeProblems(); len(p) > 0 {
		t.Errorf("errors in the page at 400 px:\n%s", strings.Join(p, "\n"))
	}

	// Without the script: the server's page has the same rows and buttons,
	// and its forms work: the browser posts (with its own Origin and
	// Sec-Fetch-Site) and is sent back to the page, which says what happened.
	states["one"] = "STOPPED"
	plain := b.newTab(1280, 900, false, false)
	plain.navigate(base + "/")
	plain.eval(pageFactsJS, &f)
	if f.Live != "no" {
		t.Errorf("the page's script ran in a tab without scripts")
	}
	checkPageFacts(t, "1280 px without the script", f, states)
	plain.click(`tr[data-name="manual"] button[data-cmd="start"]`)
	plain.waitTrue("the page after start manual", `location.pathname === "/" && location.search.startsWith("?result=") && document.readyState === "complete"`)
	plain.eval(pageFactsJS, &f)
	if !strings.HasPrefix(f.Message, "start manual: ") {
		t.Errorf("the page after start manual says %q", f.Message)
	}
	plain.screenshot(filepath.Join(shots, "page-no-script.png"))
	r.waitState("manual", "RUNNING", 20*time.Second)
	plain.click(`tr[data-name="web"] button[data-cmd="stop"]`)
	plain.waitTrue("the question before the frontend stops itself", `document.getElementById("confirm") !== null`)
	plain.screenshot(filepath.Join(shots, "page-confirm.png"))
	if st := r.status()["web"]; st.State != "RUNNING" {
		t.Errorf("web is %s while its page asks whether to stop it", st.State)
	}
	plain.click(`#confirm button`)
	r.waitState("web", "STOPPED", 20*time.Second)
	r.stopAll()
}

// TestWebFormsWithoutScript posts the page's forms as a browser without
// JavaScript does (form fields, back=1, its Origin): the state changes and
// the answer is a 303 back to the page, which shows the outcome once. A
// form from another origin changes nothing. A stop of the frontend itself
// is first a question; confirmed, it is answered before the frontend
// stops, as a restart of it over the API is.
func TestWebFormsWithoutScript(t *testing.T) {
	t.Parallel()
	r, base, _ := webRamona(t, "")
	origin := "Origin: " + base
	noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	resp := webDo(t, noRedirects, "POST", base+"/api/stop", "name=one&back=1", origin, "Sec-Fetch-Site: same-origin")
	loc := resp.header.Get("Location")
	if resp.code != http.StatusSeeOther || !strings.HasPrefix(loc, "/?result=") {
		t.Fatalf("form POST /api/stop: %d, Location %q; want 303 to /?result=...", resp.code, loc)
	}
	if st := r.status()["one"]; st.State != "STOPPED" {
		t.Errorf("one is %s after the form's stop, want STOPPED", st.State)
	}
	page := webDo(t, nil, "GET", base+loc, "")
	if !strings.Contains(page.body, `<p id="message" class="message" role="status">stop one: ok. one: STOPPING; one: STOPPED`) {
		t.Errorf("the page after the form's stop does not say what happened:\n%s", page.body)
	}
	if again := webDo(t, nil, "GET", base+loc, ""); strings.Contains(again.body, "stop one: ok") {
		t.Errorf("the outcome was shown a second time")
	}
	resp = webDo(t, noRedirects, "POST", base+"/api/start", "name=one&back=1", origin)
	if resp.code != http.StatusSeeOther {
		t.Errorf("form POST /api/start: %d, want 303", resp.code)
	}
	r.waitState("one", "RUNNING", 10*time.Second)
	resp = webDo(t, noRedirects, "POST", base+"/api/stop", "name=one&back=1", "Origin: http://evil.example", "Sec-Fetch-Site: cross-site")
	if resp.code != http.StatusForbidden {
		t.Errorf("a form of another site: %d, want 403", resp.code)
	}
	if st := r.status()["one"]; st.State != "RUNNING" {
		t.Errorf("one is %s after a form of another site, want RUNNING", st.State)
	}
	// A failure is said too, and redirects as well.
	resp = webDo(t, noRedirects, "POST", base+"/api/start", "name=nosuch&back=1", origin)
	if resp.code != http.StatusSeeOther {
		t.Fatalf("form POST /api/start name=nosuch: %d, want 303", resp.code)
	}
	if page := webDo(t, nil, "GET", base+resp.header.Get("Location"), ""); !strings.Contains(page.body, `class="message failed"`) || !strings.Contains(page.body, "start nosuch: failed (exit 2): unknown program nosuch") {
		t.Errorf("the page after a failed start:\n%s", page.body)
	}

	// The frontend's own stop: a question first, then answered before it stops.
	resp = webDo(t, noRedirects, "POST", base+"/api/stop", "name=web&back=1", origin)
	if resp.code != 200 || !strings.Contains(resp.body, `<form id="confirm"`) || !strings.Contains(resp.body, `<input type="hidden" name="confirm" value="1"/>`) {
		t.Errorf("form stop of the frontend itself: %d, want 200 and a question:\n%s", resp.code, resp.body)
	}
	if st := r.status()["web"]; st.State != "RUNNING" {
		t.Fatalf("web is %s after the unconfirmed stop of itself", st.State)
	}
	// Over the API (no form) a restart of itself needs no question, and is
	// answered before the frontend stops.
	launches := r.status()["web"].Launches
	resp = webDo(t, nil, "POST", base+"/api/restart", "name=web*", origin)
	var res controlResult
	if err := json.Unmarshal([]byte(resp.body), &res); resp.code != 200 || err != nil || res.Exit != 0 {
		t.Errorf("POST /api/restart name=web*: %d %q", resp.code, resp.body)
	}
	waitFor(t, "web to run again after its restart", 20*time.Second, func() bool {
		st := r.status()["web"]
		return st.State == "RUNNING" && st.Launches == launches+1
	})
	waitHealthz(t, base, 200)
	resp = webDo(t, noRedirects, "POST", base+"/api/stop", "name=web&back=1&confirm=1", origin)
	if resp.code != http.StatusSeeOther {
		t.Errorf("confirmed form stop of the frontend itself: %d, want 303", resp.code)
	}
	r.waitState("web", "STOPPED", 20*time.Second)
	r.stopAll()
}
