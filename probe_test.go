//go:build linux

// Tests of the probes on their own (probe.go): parsing every form and its
// errors at load, and each runner against a real listener, a real HTTP
// server and real commands: success, the failure reasons, timeouts that
// bound a probe that hangs, and an exec probe's environment, directory and
// leftovers.
package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseProbe(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want, shown string // want: the probe's String, or "error: TEXT"
	}{
		{"tcp://127.0.0.1:6379", "tcp://127.0.0.1:6379", "tcp://127.0.0.1:6379"},
		{"tcp://[::1]:80", "tcp://[::1]:80", "tcp://[::1]:80"},
		{"TCP://db.local:5432", "tcp://db.local:5432", "tcp://db.local:5432"},
		{"http://127.0.0.1/healthz", "http://127.0.0.1/healthz", "http://127.0.0.1/healthz"},
		{"http://127.0.0.1:8080/ready?token=s3cret", "http://127.0.0.1:8080/ready?token=s3cret", "http://127.0.0.1:8080/ready"},
		{"exec:pg_isready -h 127.0.0.1", "exec:pg_isready -h 127.0.0.1", "exec:pg_isready"},
		{"exec: mysqladmin -pS3cret ping", "exec:mysqladmin -pS3cret ping", "exec:mysqladmin"},
		{"tcp://127.0.0.1", `error: "tcp://127.0.0.1": no HOST:PORT; write tcp://HOST:PORT, e.g. tcp://127.0.0.1:6379`, ""},
		{"tcp://:6379", `error: "tcp://:6379": no host; write tcp://HOST:PORT, e.g. tcp://127.0.0.1:6379`, ""},
		{"tcp://h:70000", `error: "tcp://h:70000": port "70000" is not a number from 1 to 65535; write tcp://HOST:PORT, e.g. tcp://127.0.0.1:6379`, ""},
		{"tcp://h:redis", `error: "tcp://h:redis": port "redis" is not a number from 1 to 65535; write tcp://HOST:PORT, e.g. tcp://127.0.0.1:6379`, ""},
		{"tcp://h:1/x", `error: "tcp://h:1/x": a tcp probe is tcp://HOST:PORT, without a path`, ""},
		{"http:///healthz", `error: "http:///healthz": no host; write http://HOST:PORT/PATH, e.g. http://127.0.0.1:8080/healthz`, ""},
		{"http://h:0/", `error: "http://h:0/": port "0" is not a number from 1 to 65535`, ""},
		{"http://u:pw@h/x", `error: "http://h/***": a probe sends no credentials, and a password here would show in status and logs; let the program answer its health URL without one`, ""},
		{"http://h/x#top", `error: "http://h/x#top": a URL fragment (#...) is never sent; remove it`, ""},
		{"https://h/x?k=v", `error: "https://h/***": https is not probed (the certificates of local services are rarely verifiable); probe the plain port with http:// or tcp://, or run a client: exec:curl -fsS https://HOST/PATH`, ""},
		{"exec:", "error: exec: needs a command, e.g. exec:pg_isready -h 127.0.0.1", ""},
		{"exec:check 'open", `error: unterminated ' quote in "check 'open"`, ""},
		{"redis:6379", `error: "redis:6379" is not a probe; use tcp://HOST:PORT, http://HOST:PORT/PATH or exec:COMMAND`, ""},
	} {
		p, err := parseProbe(tc.in)
		got := p.String()
		if err != nil {
			got = "error: " + err.Error()
		}
		if got != tc.want {
			t.Errorf("parseProbe(%q):\n got %s\nwant %s", tc.in, got, tc.want)
		}
		if err == nil && p.shown() != tc.shown {
			t.Errorf("parseProbe(%q).shown() = %q, want %q", tc.in, p.shown(), tc.shown)
		}
	}
}

// probeOnce runs p with timeout and returns "ok" or the failure.
func probeOnce(p Probe, timeout time.Duration, ex *execProbe) string {
	if err := runProbe(context.Background(), p, timeout, ex); err != nil {
		return err.Error()
	}
	return "ok"
}

func TestProbeTCP(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if got := probeOnce(Probe{Kind: probeTCP, Target: addr}, 5*time.Second, nil); got != "ok" {
		t.Errorf("probe of a listening port: %s", got)
	}
	l.Close()
	if got := probeOnce(Probe{Kind: probeTCP, Target: closedPort(t)}, 5*time.Second, nil); got != "connection refused" {
		t.Errorf("probe of a closed port: %q, want connection refused", got)
	}
	if got := probeOnce(Probe{Kind: probeTCP, Target: "no-such-host.invalid:80"}, 5*time.Second, nil); !strings.HasPrefix(got, "cannot resolve no-such-host.invalid: ") {
		t.Errorf("probe of an unknown host: %q", got)
	}
}

// closedPort is 127.0.0.1:PORT of a socket that is bound but does not
// listen: a connection is refused, and no one else can take the port
// meanwhile.
func closedPort(t *testing.T) string {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return "127.0.0.1:" + strconv.Itoa(sa.(*syscall.SockaddrInet4).Port)
}

func TestProbeHTTP(t *testing.T) {
	t.Parallel()
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			w.Write([]byte("fine"))
		case "/moved":
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		case "/down":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/hang":
			<-hang
		case "/agent":
			if !strings.HasPrefix(r.UserAgent(), "ramona-probe/") {
				w.WriteHeader(http.StatusBadRequest)
			}
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	defer close(hang) // before the server closes: it waits for its handlers
	for _, tc := range []struct{ path, want string }{
		{"/ok", "ok"},
		{"/moved", "ok"},
		{"/agent", "ok"},
		{"/down", "answered 503 Service Unavailable"},
		{"/nothing", "answered 404 Not Found"},
	} {
		if got := probeOnce(Probe{Kind: probeHTTP, Target: srv.URL + tc.path}, 5*time.Second, nil); got != tc.want {
			t.Errorf("GET %s: %q, want %q", tc.path, got, tc.want)
		}
	}
	started := time.Now()
	if got := probeOnce(Probe{Kind: probeHTTP, Target: srv.URL + "/hang"}, 300*time.Millisecond, nil); got != "no answer within 300ms" {
		t.Errorf("GET /hang: %q, want no answer within 300ms", got)
	}
	if d := time.Since(started); d > 10*time.Second {
		t.Errorf("the hanging probe took %v", d)
	}
}

var probeErrorCases = []errCase{
	{name: "ready probe without port", prog: "a", conf: "[program:a]\ncommand=x\nready=tcp://127.0.0.1\n",
		want: `$DIR/app.conf:3: [program:a] ready: "tcp://127.0.0.1": no HOST:PORT; write tcp://HOST:PORT, e.g. tcp://127.0.0.1:6379`},
	{name: "healthcheck not a probe", prog: "a", conf: "[program:a]\ncommand=x\nhealthcheck=curl localhost\n",
		want: `$DIR/app.conf:3: [program:a] healthcheck: "curl localhost" is not a probe; use tcp://HOST:PORT, http://HOST:PORT/PATH or exec:COMMAND`},
	{name: "exec probe not installed", prog: "a", conf: "[program:a]\ncommand=x\nenvironment=PATH=/nonexistent\nhealthcheck=exec:no-such-check --quiet\n",
		want: `$DIR/app.conf:4: [program:a] healthcheck: exec: command no-such-check: not found in PATH=/nonexistent; install it or give its full path`},
	{name: "exec probe relative to the directory", prog: "a", conf: "[program:a]\ncommand=x\ndirectory=/\nready=exec:./no-such-script\n",
		want: `$DIR/app.conf:4: [program:a] ready: exec: command ./no-such-script: no such file or directory; install it or give its full path`},
	{name: "healthinterval 0", prog: "a", conf: "[program:a]\ncommand=x\nhealthinterval=0\n",
		want: `$DIR/app.conf:3: [program:a] healthinterval: must be more than 0 (the time between two health checks)`},
	{name: "healthtimeout not a duration", prog: "a", conf: "[program:a]\ncommand=x\nhealthtimeout=soon\n",
		want: `$DIR/app.conf:3: [program:a] healthtimeout: "soon" is not a duration; use e.g. 500ms, 2s, 1m or a number of seconds`},
	{name: "healthretries 0", prog: "a", conf: "[program:a]\ncommand=x\nhealthretries=0\n",
		want: `$DIR/app.conf:3: [program:a] healthretries: "0" is not a whole number between 1 and 1000`},
	{name: "notify_health", prog: "a", conf: "[program:a]\ncommand=x\nnotify_health=sometimes\n",
		want: `$DIR/app.conf:3: [program:a] notify_health: "sometimes" is not a notification target; use now, daily, now:ADDR, daily:ADDR, <none> or <global> (the setting of [ramona:notify])`},
}

func TestProbeConfigErrors(t *testing.T) {
	for _, tc := range probeErrorCases {
		t.Run(tc.name, func(t *testing.T) { checkErrCase(t, tc) })
	}
}

func TestProbeConfigDefaults(t *testing.T) {
	cfg, _ := mustLoad(t, `
[ramona:notify]
notify_fatal=daily

[program:plain]
command=x

[program:web]
command=x
ready=http://127.0.0.1:8080/ready
healthcheck=exec:/bin/true
healthinterval=2s
notify_health=now

[program:cache]
command=x
ready=tcp://127.0.0.1:6379
healthcheck=off
`)
	plain, web, cache := findProgram(t, cfg, "plain"), findProgram(t, cfg, "web"), findProgram(t, cfg, "cache")
	for _, p := range []*ProgramConfig{plain, web, cache} {
		if p.Err != nil {
			t.Fatalf("%s: %v", p.Name, p.Err)
		}
	}
	got := func(p *ProgramConfig) string {
		return fmt.Sprintf("ready=%d %q health=%q every %s timeout %s retries %d notify %v",
			p.Ready, p.ReadyProbe.String(), p.HealthCheck.String(), p.HealthInterval, p.HealthTimeout, p.HealthRetries, p.NotifyHealth)
	}
	for p, want := range map[*ProgramConfig]string{
		plain: `ready=0 "" health="" every 10s timeout 5s retries 3 notify {daily []}`,
		web:   `ready=2 "http://127.0.0.1:8080/ready" health="exec:/bin/true" every 2s timeout 5s retries 3 notify {now []}`,
		cache: `ready=2 "tcp://127.0.0.1:6379" health="" every 10s timeout 5s retries 3 notify {daily []}`,
	} {
		if g := got(p); g != want {
			t.Errorf("%s:\n got %s\nwant %s", p.Name, g, want)
		}
	}
}
