//go:build linux

// End-to-end tests of readiness probes, health checks and dependencies
// (health.go, depends.go, sequence.go) with real servers: helpers that open
// their port late (the order of starts proven by their own timestamps), an
// HTTP server that turns unhealthy (restarted, shown by status, the web
// page and /metrics, notified by webhook), an exec probe that hangs, a
// chain of three dependencies, a dependency that ends FATAL, and a cycle.
package main

import (
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

// serviceStamps reads late-server stamps: "NAME WHAT" -> times, in order.
func serviceStamps(t *testing.T, path string) map[string][]time.Time {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]time.Time{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(line)
		if len(f) != 4 {
			t.Fatalf("stamp line %q", line)
		}
		ns, err := strconv.ParseInt(f[3], 10, 64)
		if err != nil {
			t.Fatalf("stamp line %q: %v", line, err)
		}
		out[f[0]+" "+f[1]] = append(out[f[0]+" "+f[1]], time.Unix(0, ns))
	}
	return out
}

// TestDependsChainStartsWhenReady: app needs cache, cache needs db; each
// opens its port late, and each is probed another way (tcp, http, exec in
// its directory with its environment). The next starts only once the one
// before accepts connections; a stop of db stops app and cache first, and
// says so; a start of app starts db and cache first.
func TestDependsChainStartsWhenReady(t *testing.T) {
	t.Parallel()
	needShell(t)
	dir := t.TempDir()
	stamps := filepath.Join(dir, "stamps")
	dbPort, cachePort, appPort := freePort(t), freePort(t), freePort(t)
	// Written in the reverse of the start order, all of one priority.
	r := newTestRamona(t, fmt.Sprintf(`
[program:app]
command=%[1]s
directory=%[2]s
environment=APP_PROBE=yes
ready=exec:sh -c 'test "$APP_PROBE" = yes && test -e app.listening'
depends=cache

[program:cache]
command=%[3]s
directory=%[2]s
ready=http://127.0.0.1:%[4]d/healthz
depends=db

[program:db]
command=%[5]s
directory=%[2]s
ready=tcp://127.0.0.1:%[6]d
`, helperCommand(t, "late-server", "app", "100ms", strconv.Itoa(appPort), stamps), dir,
		helperCommand(t, "late-server", "cache", "150ms", strconv.Itoa(cachePort), stamps), cachePort,
		helperCommand(t, "late-server", "db", "300ms", strconv.Itoa(dbPort), stamps), dbPort))
	r.start()
	for _, n := range []string{"db", "cache", "app"} {
		r.waitState(n, "RUNNING", lcWait)
	}
	st := serviceStamps(t, stamps)
	log := r.serverLog()
	for _, pair := range [][2]string{{"db", "cache"}, {"cache", "app"}} {
		dep, next := pair[0], pair[1]
		listening, started := st[dep+" listening"], st[next+" started"]
		if len(listening) != 1 || len(started) != 1 {
			t.Fatalf("stamps %v", st)
		}
		if started[0].Before(listening[0]) {
			t.Errorf("%s started at %s, before %s listened at %s", next, started[0].Format("15:04:05.000000"), dep, listening[0].Format("15:04:05.000000"))
		}
		// RUNNING only once it listened (the log's milliseconds are cut).
		if running := logTime(t, log, dep+": STARTING -> RUNNING"); running.Before(listening[0].Truncate(time.Millisecond)) {
			t.Errorf("%s RUNNING at %s, before it listened at %s", dep, running.Format("15:04:05.000"), listening[0].Format("15:04:05.000000"))
		}
		inOrder(t, "server log", log, dep+": ready: ", dep+": STARTING -> RUNNING", next+": STOPPED -> STARTING")
	}
	for _, want := range []string{
		fmt.Sprintf("db: ready: tcp://127.0.0.1:%d succeeded", dbPort),
		fmt.Sprintf("cache: ready: http://127.0.0.1:%d/healthz succeeded", cachePort),
		"app: ready: exec:sh succeeded",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the server log lacks %q", want)
		}
	}

	code, out, stderr := r.cli("stop", "db")
	if code != 0 {
		t.Fatalf("stop db: exit %d\n%s%s", code, out, stderr)
	}
	for _, want := range []string{"app: stopping it first: it depends on cache", "cache: stopping it first: it depends on db"} {
		if !strings.Contains(out+stderr, want) {
			t.Errorf("stop db does not say %q:\n%s%s", want, out, stderr)
		}
	}
	inOrder(t, "server log (stop db)", r.serverLog(), "app: RUNNING -> STOPPING", "app: STOPPING -> STOPPED",
		"cache: RUNNING -> STOPPING", "cache: STOPPING -> STOPPED", "db: RUNNING -> STOPPING", "db: STOPPING -> STOPPED")

	os.Remove(filepath.Join(dir, "app.listening")) // the next app must create it again
	code, out, stderr = r.cli("start", "app")
	if code != 0 {
		t.Fatalf("start app: exit %d\n%s%s", code, out, stderr)
	}
	for _, want := range []string{"cache: STOPPED, starting it first: app depends on it", "db: STOPPED, starting it first: cache depends on it"} {
		if !strings.Contains(out+stderr, want) {
			t.Errorf("start app does not say %q:\n%s%s", want, out, stderr)
		}
	}
	for n, s := range r.status() {
		if s.State != "RUNNING" {
			t.Errorf("after start app, %s is %s", n, s.State)
		}
	}
	st = serviceStamps(t, stamps)
	if len(st["cache started"]) != 2 || len(st["app started"]) != 2 || st["cache started"][1].Before(st["db listening"][1]) || st["app started"][1].Before(st["cache listening"][1]) {
		t.Errorf("the second start is out of order: %v", st)
	}
	r.stopAll()
	inOrder(t, "server log (stop all)", r.serverLog(), "server: stop (all) requested", "app: STOPPING -> STOPPED", "cache: STOPPING -> STOPPED", "db: RUNNING -> STOPPING")
}

// TestDependsOnFatal: a dependency whose ready probe never succeeds ends
// FATAL, and its dependent is not started, with the reason; `start -f` of
// both tries them again in order.
func TestDependsOnFatal(t *testing.T) {
	t.Parallel()
	closed := closedPort(t)
	r := newTestRamona(t, fmt.Sprintf(`
[program:app]
command=%[1]s
depends=db

[program:db]
command=%[1]s
ready=tcp://%[2]s
readytimeout=1s
`, helperCommand(t, "sleep", "1h"), closed))
	r.start()
	db := r.waitState("db", "FATAL", lcWait)
	reason := fmt.Sprintf("not ready within 1s: tcp://%s: connection refused", closed)
	if db.Error != reason {
		t.Errorf("db's error %q, want %q", db.Error, reason)
	}
	r.waitServerLog("app: not started: it depends on db, which is FATAL (" + reason + ")")
	if app := r.status()["app"]; app.State != "STOPPED" || app.Launches != 0 {
		t.Errorf("app: %+v", app)
	}
	code, out, stderr := r.cli("start", "app")
	if code != exitFailed || !strings.Contains(out+stderr, "db: FATAL ("+reason+"); `start -f` starts it anyway") ||
		!strings.Contains(out+stderr, "app: not started: it depends on db, which is FATAL") {
		t.Errorf("start app: exit %d\n%s%s", code, out, stderr)
	}
	r.stopAll()
}

// TestHealthUnhealthyIsRestarted: an HTTP service that turns sick is
// restarted after healthretries failed checks, counted in restarts;
// status, status --json, the web page and /metrics show it, a webhook
// gets event "health"; once the service answers again it is healthy.
func TestHealthUnhealthyIsRestarted(t *testing.T) {
	t.Parallel()
	hook := newHookEndpoint(t, false)
	dir := t.TempDir()
	port, webPort := freePort(t), freePort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d/healthz", port)
	r := newTestRamona(t, fmt.Sprintf(`
[ramona:notify]
webhook=%s/hook
logscan=<none>

[program:svc]
command=%s
directory=%s
ready=%s
healthcheck=%s
healthinterval=200ms
healthtimeout=2s
healthretries=2

[program:plain]
command=%s

[program:web]
command=<httpfend>
listen=tcp://127.0.0.1:%d
`, hook.URL, helperCommand(t, "late-server", "svc", "0s", strconv.Itoa(port), filepath.Join(dir, "stamps")), dir, url, url,
		helperCommand(t, "sleep", "1h"), webPort))
	r.start()
	first := r.waitStatus("svc", "healthy", func(st programStatus) bool { return st.Health != nil && *st.Health == "healthy" })
	if plain := r.status()["plain"]; plain.Health != nil {
		t.Errorf("a program without healthcheck has health %q", *plain.Health)
	}
	web := fmt.Sprintf("http://127.0.0.1:%d", webPort)
	waitFor(t, "/metrics to say svc is healthy", lcWait, func() bool {
		return strings.Contains(httpGetBody(t, web+"/metrics"), `ramona_program_healthy{name="svc"} 1`)
	})

	if err := os.WriteFile(filepath.Join(dir, "svc.sick"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	restarted := r.waitStatus("svc", "restarted", func(st programStatus) bool {
		return st.Restarts >= 1 && st.PID != 0 && st.PID != first.PID
	})
	reason := url + ": answered 503 Service Unavailable (2 checks in a row)"
	if restarted.Health == nil || *restarted.Health != "unhealthy" || restarted.HealthReason != reason {
		t.Errorf("after the restart: health %v, reason %q; want unhealthy, %q", restarted.Health, restarted.HealthReason, reason)
	}
	if _, out, _ := r.cli("status", "svc"); !strings.Contains(out, "unhealthy: "+reason) {
		t.Errorf("status does not show unhealthy: %s\n%s", reason, out)
	}
	if _, out, _ := r.cli("status", "--json", "svc"); !strings.Contains(out, `"health": "unhealthy"`) {
		t.Errorf("status --json:\n%s", out)
	}
	if page := httpGetBody(t, web+"/"); !strings.Contains(page, "unhealthy: "+reason) {
		t.Errorf("the web page does not show unhealthy: %s", reason)
	}
	if m := httpGetBody(t, web+"/metrics"); !strings.Contains(m, `ramona_program_healthy{name="svc"} 0`) || strings.Contains(m, `ramona_program_healthy{name="plain"}`) {
		t.Errorf("/metrics:\n%s", m)
	}
	var posted *webhookPayload
	for _, req := range hook.wait(1) {
		if req.payload.Event == "health" {
			posted = &req.payload
		}
	}
	if posted == nil || posted.Program != "svc" || posted.Subject != "svc unhealthy" || !strings.Contains(posted.Body, reason) {
		t.Errorf("webhook: %+v", hook.requests())
	}
	log := r.serverLog()
	inOrder(t, "server log", log, "svc: health check failed (1 of 2 in a row): "+url+": answered 503",
		"svc: unhealthy: "+reason+"; restarting it", "svc: RUNNING -> STOPPING", "svc: stopped for being unhealthy (", "svc: STOPPING -> STARTING")

	os.Remove(filepath.Join(dir, "svc.sick"))
	healthy := r.waitStatus("svc", "healthy again", func(st programStatus) bool {
		return st.State == "RUNNING" && st.Health != nil && *st.Health == "healthy"
	})
	if healthy.HealthReason != "" {
		t.Errorf("healthy with a reason: %q", healthy.HealthReason)
	}
	r.waitServerLog("svc: healthy again: " + url + " succeeded")
	r.stopAll()
}

func httpGetBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return string(data)
}

// TestHealthExecProbeHangs: an exec health check that never ends is killed
// at healthtimeout each time (the leftover check proves no probe process
// outlives the test), and the program is restarted as unhealthy.
func TestHealthExecProbeHangs(t *testing.T) {
	t.Parallel()
	needShell(t)
	r := newTestRamona(t, fmt.Sprintf(`
[program:hung]
command=%s
healthcheck=exec:sleep 300
healthinterval=100ms
healthtimeout=300ms
healthretries=2
`, helperCommand(t, "sleep", "1h")))
	r.start()
	first := r.waitState("hung", "RUNNING", lcWait)
	st := r.waitStatus("hung", "restarted", func(st programStatus) bool { return st.Restarts >= 1 && st.PID != 0 && st.PID != first.PID })
	if want := "exec:sleep: killed after 300ms without an answer (2 checks in a row)"; st.HealthReason != want {
		t.Errorf("reason %q, want %q", st.HealthReason, want)
	}
	r.stopAll()
}

// TestDependsCycleIsAConfigError: `ramona check` names the cycle with
// file:line and exits 2; the server runs the others and shows the cycle's
// programs as CFGERROR.
func TestDependsCycleIsAConfigError(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:a]
command=%[1]s
depends=b

[program:b]
command=%[1]s
depends=a

[program:c]
command=%[1]s
`, helperCommand(t, "sleep", "1h")))
	text, _ := os.ReadFile(r.conf)
	line := strings.Count(string(text[:strings.Index(string(text), "depends=b")]), "\n") + 1
	code, out, stderr := r.cli("check")
	if code != exitUsage || !strings.Contains(out+stderr, fmt.Sprintf("%s:%d: [program:a] depends: a dependency cycle: a -> b -> a; remove one of these dependencies", r.conf, line)) {
		t.Errorf("check: exit %d\n%s%s", code, out, stderr)
	}
	r.start()
	r.waitState("c", "RUNNING", lcWait)
	for _, n := range []string{"a", "b"} {
		if st := r.status()[n]; st.State != "CFGERROR" || !strings.Contains(st.Error, "a dependency cycle") {
			t.Errorf("%s: %s %q", n, st.State, st.Error)
		}
	}
	r.stopAll()
}

// TestReadmeHealthExample: the stack of README's "Readiness and health
// checks" loads with its probes and dependencies as written (its users,
// which this machine need not have, left out).
func TestReadmeHealthExample(t *testing.T) {
	needPeer(t, "pg_isready", "postgresql-client")
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	text = text[strings.Index(text, "## Readiness and health checks"):]
	start := strings.Index(text, "```ini\n") + len("```ini\n")
	example := strings.ReplaceAll(text[start:start+strings.Index(text[start:], "```")], "\nuser=", "\n;user=")
	cfg, _ := mustLoad(t, "[env]\nPATH="+os.Getenv("PATH")+"\n"+example)
	want := map[string]string{
		"postgres": "ready=2 exec:pg_isready -h 127.0.0.1 health=exec:pg_isready -h 127.0.0.1 depends=[]",
		"redis":    "ready=2 tcp://127.0.0.1:6379 health=tcp://127.0.0.1:6379 depends=[]",
		"app":      "ready=2 http://127.0.0.1:8080/ready health=http://127.0.0.1:8080/healthz depends=[postgres redis]",
		"nginx":    "ready=2 tcp://127.0.0.1:80 health=http://127.0.0.1/healthz depends=[app]",
	}
	if len(cfg.Programs) != len(want) {
		t.Errorf("the example has %d programs, want %d", len(cfg.Programs), len(want))
	}
	for _, p := range cfg.Programs {
		got := fmt.Sprintf("ready=%d %s health=%s depends=%v", p.Ready, p.ReadyProbe, p.HealthCheck, p.Depends)
		if p.Err != nil {
			got = p.Err.Error()
		}
		if got != want[p.Name] {
			t.Errorf("%s:\n got %s\nwant %s", p.Name, got, want[p.Name])
		}
	}
}

// postgresBin is the directory of PostgreSQL's server programs (postgres,
// initdb), the newest installed.
func postgresBin(t *testing.T) string {
	t.Helper()
	var dir string
	needPeerCheck(t, "PostgreSQL's server (postgres, initdb)", "postgresql", func() error {
		found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
		if len(found) == 0 {
			return fmt.Errorf("no /usr/lib/postgresql/*/bin/initdb")
		}
		dir = filepath.Dir(found[len(found)-1])
		return nil
	})
	needPeer(t, "pg_isready", "postgresql-client")
	return dir
}

// TestHealthRealPostgres: a real PostgreSQL, run as a user of its own,
// with README's probes: the application that depends on it starts only
// once it accepts connections (its command fails otherwise: pg_isready
// fails at once when nothing listens), and a
// postmaster that hangs (SIGSTOP: the port still takes connections into
// its backlog, nothing answers) is found unhealthy by its exec probe,
// killed with its kill sequence and started again, healthy.
func TestHealthRealPostgres(t *testing.T) {
	skipInShort(t, "PostgreSQL (initdb and a real server)")
	bin := postgresBin(t)
	needShell(t)
	t.Parallel()
	owner := testUser(t)
	u, err := user.Lookup(owner)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	// Short (its unix socket goes there) and reachable by the user.
	dir, err := os.MkdirTemp("", "rpg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	port := freePort(t)
	isready := fmt.Sprintf("pg_isready -q -h 127.0.0.1 -p %d", port)
	r := newTestRamona(t, fmt.Sprintf(`
[program:app]
command=sh -c '%[1]s -t 60 || exit 3; echo connected; exec %[2]s'
depends=postgres
startretries=0

[program:postgres]
command=%[3]s/postgres -D %[4]s -k %[5]s -p %[6]d -c listen_addresses=127.0.0.1 -c fsync=off
user=%[7]s
directory=%[5]s
ready=exec:%[1]s
healthcheck=exec:%[1]s -t 0
healthinterval=300ms
healthtimeout=1s
healthretries=2
killby=INT
stoptimeout=1s
`, isready, helperCommand(t, "sleep", "1h"), bin, data, dir, port, owner))
	r.start()
	app := r.waitState("app", "RUNNING", lcWait)
	r.waitProgramLog("app", "connected") // its pg_isready is over before postgres hangs
	if app.Launches != 1 {
		t.Errorf("app launched %d times, want once: it started before PostgreSQL accepted connections", app.Launches)
	}
	inOrder(t, "server log", r.serverLog(), "postgres: ready: exec:pg_isready succeeded", "postgres: STARTING -> RUNNING", "app: STOPPED -> STARTING")
	first := r.waitStatus("postgres", "healthy", func(st programStatus) bool { return st.Health != nil && *st.Health == "healthy" })

	if err := syscall.Kill(first.PID, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	restarted := r.waitStatus("postgres", "restarted", func(st programStatus) bool {
		return st.Restarts >= 1 && st.State == "RUNNING" && st.PID != first.PID
	})
	// The reason stays in status until the next check succeeds, which may
	// come before this poll on a loaded machine; the log keeps it.
	want := "exec:pg_isready: killed after 1s without an answer (2 checks in a row)"
	if restarted.Health != nil && *restarted.Health == "unhealthy" && restarted.HealthReason != want {
		t.Errorf("reason %q, want %q", restarted.HealthReason, want)
	}
	if !strings.Contains(r.serverLog(), "postgres: unhealthy: "+want+"; restarting it") {
		t.Errorf("the server log does not say why postgres was restarted (%s)", want)
	}
	r.waitStatus("postgres", "healthy again", func(st programStatus) bool { return st.Health != nil && *st.Health == "healthy" })
	if st := r.status()["app"]; st.State != "RUNNING" || st.PID != app.PID {
		t.Errorf("app after its dependency's automatic restart: %s pid %d, want RUNNING pid %d (left alone)", st.State, st.PID, app.PID)
	}
	code, out, stderr := r.cli("stop", "postgres")
	if code != 0 || !strings.Contains(out+stderr, "app: stopping it first: it depends on postgres") {
		t.Errorf("stop postgres: exit %d\n%s%s", code, out, stderr)
	}
	r.stopAll()
}

// TestHealthWakeups: the loop wakes once per health check of a program
// that has one (the try runs in its timer's goroutine; only the result is
// an event), never for a program without, and a program's checks come no
// closer than healthinterval (one timer, re-armed after each try). The
// programs are RUNNING without a process: a check reads only the
// configuration.
func TestHealthWakeups(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan time.Time, 1000)
	go func() { // ends when the test closes the listener
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- time.Now()
			c.Close()
		}
	}()
	t.Cleanup(func() { l.Close() })
	const interval = 100 * time.Millisecond
	cfg, _ := mustLoad(t, fmt.Sprintf(`
[program:checked]
command=x
healthcheck=tcp://%s
healthinterval=%s
healthtimeout=10s

[program:plain]
command=x
`, l.Addr(), interval))
	s := newSupervisor(cfg, testEnviron, &serverLog{w: io.Discard, level: LevelInfo}, nil, "")
	go s.loop() // ends once quitting is set and nothing runs
	onLoop := func(f func()) {
		done := make(chan struct{})
		s.post(func() { f(); close(done) })
		<-done
	}
	checked, plain := s.progs["checked"], s.progs["plain"]
	t.Cleanup(func() {
		onLoop(func() {
			for _, p := range s.order {
				s.stopProbes(p)
				p.state = StateStopped
			}
			s.quitting = true
		})
		<-s.done
	})

	var before, after int
	onLoop(func() {
		for _, p := range s.order {
			p.state = StateRunning
			s.armHealth(p)
		}
		before = s.handled
	})
	if plain.probe.timer.armed() {
		t.Errorf("a program without healthcheck has a probe timer")
	}
	const checks = 6
	var times []time.Time
	for len(times) < checks {
		select {
		case at := <-accepted:
			times = append(times, at)
		case <-time.After(lcWait):
			t.Fatalf("%d health checks in %s, want %d", len(times), lcWait, checks)
		}
	}
	onLoop(func() {
		after = s.handled
		s.stopProbes(checked)
	})
	// Between the two reads: the results of the checks, of which the last
	// may still be on its way, and the second read itself.
	if events := after - before - 1; events < checks-1 || events > checks {
		t.Errorf("%d events on the loop for %d health checks, want one per check", events, checks)
	}
	// The times are when this test's goroutine accepted, which a loaded
	// machine delays by a little for one check and not the next: a gap
	// well below the interval (two timers) is the failure, not 99.9 ms.
	for i := 1; i < len(times); i++ {
		if gap := times[i].Sub(times[i-1]); gap < interval*3/4 {
			t.Errorf("checks %d and %d %s apart, less than healthinterval %s", i, i+1, gap, interval)
		}
	}
	if plain.probe.timer.armed() || plain.probe.cancel != nil {
		t.Errorf("a program without healthcheck was probed")
	}
	if checked.probe.health != healthHealthy {
		t.Errorf("checked is %s, want healthy", checked.probe.health)
	}
}

// TestReadyProbeHoldsPriorityGroup: without depends, a priority group whose
// program has a ready probe is waited for: the next group starts once the
// probe succeeded, which is after the port opened (the helpers' own
// timestamps), not after starttimeout.
func TestReadyProbeHoldsPriorityGroup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stamps := filepath.Join(dir, "stamps")
	port := freePort(t)
	r := newTestRamona(t, fmt.Sprintf(`
[program:db]
priority=200
command=%s
directory=%s
starttimeout=0.1
ready=tcp://127.0.0.1:%d

[program:app]
priority=100
command=%s
directory=%s
starttimeout=0.1
`, helperCommand(t, "late-server", "db", "1500ms", strconv.Itoa(port), stamps), dir, port,
		helperCommand(t, "late-server", "app", "0s", strconv.Itoa(freePort(t)), stamps), dir))
	r.start()
	r.waitState("app", "RUNNING", lcWait)
	waitFor(t, "app to listen", lcWait, func() bool { _, err := os.Stat(filepath.Join(dir, "app.listening")); return err == nil })
	st := serviceStamps(t, stamps)
	if len(st["db listening"]) != 1 || len(st["app started"]) != 1 || st["app started"][0].Before(st["db listening"][0]) {
		t.Errorf("app started before db listened: %v", st)
	}
	inOrder(t, "server log", r.serverLog(), fmt.Sprintf("db: ready: tcp://127.0.0.1:%d succeeded", port), "db: STARTING -> RUNNING", "app: STOPPED -> STARTING")
	r.stopAll()
}
