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
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
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
	if resp := webDo(t, nil, "GET", base+"/api/stop?name=one", ""); resp.code != 405 {
		t.Errorf("GET /api/stop: %d, want 405", resp.code)
	}
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

	// The page in a real browser, after its script ran.
	dom := runChromium(t, "--dump-dom", base+"/")
	if !strings.Contains(dom, `data-live="yes"`) {
		t.Errorf("the page's script did not refresh the table:\n%s", dom)
	}
	for _, name := range []string{"web", "one", "two"} {
		row := regexp.MustCompile(`<tr data-name="` + name + `"><td class="name">` + name + `</td><td class="state state-RUNNING">RUNNING</td>` +
			`<td>\d+</td><td>[0-9:d]+</td><td class="cpu">\d+\.\d\ds</td><td class="mem">\d+(\.\d)?[KMG]</td>`)
		if !row.MatchString(dom) {
			t.Errorf("the page has no RUNNING row with CPU and MEM for %s:\n%s", name, dom)
		}
	}
	png := filepath.Join(t.TempDir(), "page.png")
	runChromium(t, "--screenshot="+png, "--window-size=1200,800", base+"/")
	if fi, err := os.Stat(png); err != nil || fi.Size() < 5000 {
		t.Errorf("screenshot %s: %v, %v", png, fi, err)
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

// runChromium runs the real headless Chromium on a page and returns its
// stdout; its whole process group is killed when it returns.
func runChromium(t *testing.T, args ...string) string {
	t.Helper()
	bin := needPeer(t, "chromium", "chromium")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	argv := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--virtual-time-budget=5000"}, args...)
	cmd := exec.CommandContext(ctx, bin, argv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // helpers of Chromium that outlive it
	}
	if err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
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
