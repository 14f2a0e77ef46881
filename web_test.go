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
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
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
	port := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	origin := "Origin: " + base
	r := newTestRamona(t, fmt.Sprintf(`
[program:web]
command=<httpfend>
listen=tcp://127.0.0.1:%d
starttimeout=0.2

[program:one]
command=%s
starttimeout=0.2

[program:two]
command=%s
starttimeout=0.2
`, port, helperCommand(t, "sleep", "1h"), helperCommand(t, "sleep", "1h")))
	r.start()
	r.waitState("web", "RUNNING", 10*time.Second)
	r.waitState("one", "RUNNING", 10*time.Second)
	r.waitState("two", "RUNNING", 10*time.Second)
	waitHealthz(t, base, 200)

	// The status API and the security headers.
	resp := webDo(t, nil, "GET", base+"/api/status", "")
	var list []programStatus
	if err := json.Unmarshal([]byte(resp.body), &list); resp.code != 200 || err != nil || len(list) != 3 {
		t.Fatalf("/api/status: %d %v %q", resp.code, err, resp.body)
	}
	for i, name := range []string{"web", "one", "two"} {
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
	if st := r.status()["one"]; st.State != "RUNNING" {
		t.Fatalf("one is %s after refused requests, want RUNNING", st.State)
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
	for _, path := range []string{"/", "/api/status", "/metrics", "/app.js"} {
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

// TestWebPageMarkup renders the page with a row in every state, a
// confirmation and an outcome, and checks it: well-formed (it parses as
// XML, which its polyglot markup is), APPNAME @ HOST as its title and
// heading, no inline script, style or handler (the CSP forbids them), every
// element the script looks up present, every form and link aimed at a
// route that takes its method, and the status texts escaped.
func TestWebPageMarkup(t *testing.T) {
	w := newWebUI(&ProgramConfig{Name: "web"}, SocketURI{}, "demo @ host1", func(LogLevel, string, ...any) {})
	var list []programStatus
	for _, s := range stateNames {
		list = append(list, programStatus{Name: strings.ToLower(s), State: s})
	}
	list = append(list, programStatus{Name: "web", State: "RUNNING", PID: 42, Uptime: 90, StatusText: `<script>alert("x")</script> & more`})
	d := pageData{Title: w.title, Time: "10:00:00", Rows: w.pageRows(list), Result: "stop one: one: STOPPED",
		Confirm: &pageConfirm{Cmd: "stop", Names: []string{"web"}, Scope: "web", Question: w.selfQuestion("stop", "web")}}
	var b strings.Builder
	if err := pageTemplate.Execute(&b, d); err != nil {
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
	if err := pageTemplate.ExecuteTemplate(&b, "rows", d.Rows); err != nil {
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

// TestWebFormsWithoutScript posts the page's forms as a browser without
// JavaScript does (form fields, back=1, its Origin): the state changes and
// the answer is a 303 back to the page, which shows the outcome once. A
// form from another origin changes nothing. A stop of the frontend itself
// is first a question; confirmed, it is answered before the frontend
// stops, as a restart of it over the API is.
func TestWebFormsWithoutScript(t *testing.T) {
	port := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	origin := "Origin: " + base
	r := newTestRamona(t, fmt.Sprintf(`
[program:web]
command=<httpfend>
listen=tcp://127.0.0.1:%d
starttimeout=0.2

[program:one]
command=%s
starttimeout=0.2
`, port, helperCommand(t, "sleep", "1h")))
	r.start()
	r.waitState("web", "RUNNING", 10*time.Second)
	r.waitState("one", "RUNNING", 10*time.Second)
	waitHealthz(t, base, 200)
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
