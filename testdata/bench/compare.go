//go:build ignore

// Compare runs Ramona and supervisord on the same configuration shapes in the
// same run and prints one markdown table: metric | N | ramona | supervisord |
// ratio (ramona / supervisord). bench/compare.sh builds what it needs and
// runs it (go run testdata/bench/compare.go -h lists the flags).
//
// For each size N, both servers run N programs `/bin/sleep 100000` (one log
// file per program, starttimeout/startsecs 1 s, autorestart on) and this
// program measures, from outside and without help from either server:
//   - the time from launching the server to every program RUNNING (what the
//     server itself logs: Ramona's "start sequence finished", supervisord's
//     "entered RUNNING state" lines), which includes the 1 s start time;
//   - RSS and PSS of the server process (/proc/PID/smaps_rollup) once all run;
//   - idle cost over a quiet window: context switches of every server thread
//     (/proc/PID/task/*/status) per second, and CPU time (/proc/PID/stat);
//   - the wall time of a complete `ramona status` / `supervisorctl status`
//     (process start included), median of -samples;
//   - the status payload alone: one request over the control socket from an
//     open connection (Ramona's frames, supervisord's XML-RPC
//     getAllProcessInfo), median of -samples;
//   - the time from SIGTERM to the server's exit, every program stopped.
//
// Floors, measured in the same run (the ratios to them are printed too):
// the whole-process time of /bin/true and of a static Go hello world
// (-hello, testdata/bench/hello.go) beside the status command, and for
// each N the time a bare Go program takes to start N `/bin/sleep 100000`
// (-forkfloor, testdata/bench/forkfloor.go: serially, each with clone3
// into a cgroup of its own, as Ramona starts them) beside the start.
//
// Restart latency runs on its own configuration of -samples programs that
// are the stamp helper (testdata/bench/stamp.go): each is killed once with SIGKILL
// while RUNNING, and the latency is the replacement's own first clock reading
// minus the time just before the kill. The floor of that number (this program
// starting the stamp itself) is printed below the table.
//
// -servers ramona,ramona-nocgroup compares Ramona with itself: the same
// binary with cgroups (one per program, as it runs by default where cgroup v2
// is writable) and with [ramona:server] cgroup=no, i.e. what containment costs.
//
// -servers ramona,ramona-before -before BIN compares this build with another
// (compare.sh -before REF builds BIN from a git revision, e.g. main).
//
// -servers ramona,ramona-health measures what health checks cost: the same
// programs, each with healthcheck=tcp:// to a port this program listens on
// and healthinterval=1s (so N programs make N checks a second).
//
// Every child a server leaves behind is reported and killed by pid.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

var (
	ramonaBin   = flag.String("ramona", "", "the ramona binary (required)")
	stampBin    = flag.String("stamp", "", "the stamp helper binary (required for restart latency)")
	sizesFlag   = flag.String("sizes", "10,100,1000", "program counts, comma-separated")
	serversFlag = flag.String("servers", "ramona,supervisord", "servers to measure")
	idleTime    = flag.Duration("idle", 30*time.Second, "quiet window for the idle cost")
	samples     = flag.Int("samples", 20, "samples for medians (status, payload, restart)")
	runTimeout  = flag.Duration("run-timeout", 120*time.Second, "give up waiting for all RUNNING after this")
	stopTimeout = flag.Duration("stop-timeout", 180*time.Second, "give up waiting for a stop after this (then SIGKILL)")
	workFlag    = flag.String("work", "", "work directory (default: a new one under /tmp, removed at the end)")
	skipRestart = flag.Bool("no-restart", false, "skip the restart-latency phase")
	helloBin    = flag.String("hello", "", "a static Go hello world, for the process-start floor (optional)")
	forkBin     = flag.String("forkfloor", "", "the forkfloor program, for the start floor (optional)")
	beforeBin   = flag.String("before", "", "another ramona binary (say, of main), measured as server ramona-before")
)

// workDir holds every run's configuration, logs and sockets.
var workDir string

// result cells: metric -> N -> server -> value
type cell struct {
	v    float64
	text string // when set, shown instead of v (e.g. "timeout")
}

var results = map[string]map[int]map[string]cell{}

func record(metric string, n int, server string, v float64) {
	recordCell(metric, n, server, cell{v: v})
}

func recordText(metric string, n int, server, text string) {
	recordCell(metric, n, server, cell{text: text})
}

func recordCell(metric string, n int, server string, c cell) {
	if results[metric] == nil {
		results[metric] = map[int]map[string]cell{}
	}
	if results[metric][n] == nil {
		results[metric][n] = map[string]cell{}
	}
	results[metric][n][server] = c
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func main() {
	flag.Parse()
	if *ramonaBin == "" {
		fmt.Fprintln(os.Stderr, "compare: -ramona is required")
		os.Exit(2)
	}
	var sizes []int
	for _, f := range strings.Split(*sizesFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "compare: bad size %q\n", f)
			os.Exit(2)
		}
		sizes = append(sizes, n)
	}
	servers := strings.Split(*serversFlag, ",")
	work := *workFlag
	if work == "" {
		var err error
		if work, err = os.MkdirTemp("/tmp", "rcmp."); err != nil {
			fmt.Fprintln(os.Stderr, "compare:", err)
			os.Exit(1)
		}
		defer os.RemoveAll(work)
	}
	workDir = work
	began := time.Now()
	measureProcessFloor(servers[0])
	for _, n := range sizes {
		for _, name := range servers {
			measureSize(newServer(name), n)
		}
		// After the servers: the kernel's cleanup of its N cgroups, which
		// goes on after it exits, would slow down the server measured next.
		measureSpawnFloor(servers[0], n)
	}
	if !*skipRestart && *stampBin != "" {
		for _, name := range servers {
			measureRestart(newServer(name), *samples)
		}
		floor := stampFloor(work, *samples)
		recordText("restart floor", 0, "", fmt.Sprintf("%.2f", floor))
	}
	printTable(sizes, servers, time.Since(began))
}

// ---------------------------------------------------------------------------
// servers

type server interface {
	name() string
	// writeConfig writes a configuration for progs into dir and returns its path.
	writeConfig(dir string, progs []prog) string
	// command runs the server in the foreground.
	command(conf string) *exec.Cmd
	// running reports how many programs the server says are RUNNING and
	// whether the start is over (all RUNNING or some failed), from its log.
	progress(dir string, st *logScan) (running int, failed string)
	// statusCmd is the complete status command line.
	statusCmd(conf string) []string
	// payload returns a function that sends one status request over an open
	// connection and returns the reply's size, and a closer.
	payload(dir string) (func() (int, error), func(), error)
}

type prog struct{ name, command string }

func newServer(name string) server {
	switch name {
	case "ramona":
		return &ramonaServer{bin: *ramonaBin, label: name}
	case "ramona-before":
		return &ramonaServer{bin: *beforeBin, label: name}
	case "ramona-nocgroup":
		return &ramonaServer{bin: *ramonaBin, label: name, extra: "cgroup=no\n"}
	case "ramona-health":
		return &ramonaServer{bin: *ramonaBin, label: name, progExtra: "healthcheck=tcp://" + healthTarget() + "\nhealthinterval=1s\n"}
	case "supervisord":
		return &supervisordServer{}
	}
	fmt.Fprintf(os.Stderr, "compare: unknown server %q\n", name)
	os.Exit(2)
	return nil
}

// logScan reads a growing log file incrementally.
type logScan struct {
	path    string
	off     int64
	partial []byte
	count   int
}

// lines returns the complete lines added since the last call.
func (l *logScan) lines() []string {
	f, err := os.Open(l.path)
	if err != nil {
		return nil
	}
	defer f.Close()
	f.Seek(l.off, io.SeekStart)
	data, _ := io.ReadAll(f)
	l.off += int64(len(data))
	data = append(l.partial, data...)
	i := bytes.LastIndexByte(data, '\n')
	if i < 0 {
		l.partial = data
		return nil
	}
	l.partial = append([]byte(nil), data[i+1:]...)
	return strings.Split(string(data[:i]), "\n")
}

// ramonaServer is Ramona, with extra [ramona:server] lines and extra lines
// in every program.
type ramonaServer struct{ bin, label, extra, progExtra string }

var healthListener net.Listener

// healthTarget is the address of a listener that accepts health checks and
// closes them, opened on first use; it lives as long as this program.
func healthTarget() string {
	if healthListener == nil {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		must(err)
		healthListener = l
		go func() { // ends with this program
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
	}
	return healthListener.Addr().String()
}

func (r *ramonaServer) name() string { return r.label }

func (r *ramonaServer) writeConfig(dir string, progs []prog) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[general]\nlogdir=%s/log\n[ramona:server]\nconsoleuri=unix://%s/r.sock\n%s", dir, dir, r.extra)
	for _, p := range progs {
		fmt.Fprintf(&b, "[program:%s]\ncommand=%s\nstarttimeout=1\nautorestart=yes\n%s", p.name, p.command, r.progExtra)
	}
	path := filepath.Join(dir, "ramona.conf")
	must(os.WriteFile(path, []byte(b.String()), 0o644))
	return path
}

func (r *ramonaServer) command(conf string) *exec.Cmd {
	return exec.Command(r.bin, "-c", conf, "daemon")
}

func (r *ramonaServer) progress(dir string, st *logScan) (int, string) {
	for _, line := range st.lines() {
		switch {
		case strings.Contains(line, "start sequence finished, all programs RUNNING"):
			st.count = -1
		case strings.Contains(line, "start sequence finished;"):
			return 0, line
		}
	}
	return st.count, ""
}

func (r *ramonaServer) statusCmd(conf string) []string {
	return []string{r.bin, "-c", conf, "status"}
}

func (r *ramonaServer) payload(dir string) (func() (int, error), func(), error) {
	conn, err := net.Dial("unix", filepath.Join(dir, "r.sock"))
	if err != nil {
		return nil, nil, err
	}
	frame := func(v any) []byte {
		body, _ := json.Marshal(v)
		out := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
		return append(out, body...)
	}
	read := func() ([]byte, error) {
		var h [4]byte
		if _, err := io.ReadFull(conn, h[:]); err != nil {
			return nil, err
		}
		body := make([]byte, binary.BigEndian.Uint32(h[:]))
		_, err := io.ReadFull(conn, body)
		return body, err
	}
	if _, err := conn.Write(frame(map[string]any{"hello": "ramona", "version": 1})); err != nil {
		conn.Close()
		return nil, nil, err
	}
	if _, err := read(); err != nil {
		conn.Close()
		return nil, nil, err
	}
	id := 0
	call := func() (int, error) {
		id++
		if _, err := conn.Write(frame(map[string]any{"id": id, "cmd": "status"})); err != nil {
			return 0, err
		}
		for {
			body, err := read()
			if err != nil {
				return 0, err
			}
			var rep struct {
				Done bool `json:"done"`
			}
			json.Unmarshal(body, &rep)
			if rep.Done {
				return len(body), nil
			}
		}
	}
	return call, func() { conn.Close() }, nil
}

type supervisordServer struct{}

func (s *supervisordServer) name() string { return "supervisord" }

func (s *supervisordServer) writeConfig(dir string, progs []prog) string {
	var b strings.Builder
	minfds := max(1024, 8*len(progs)+256)
	fmt.Fprintf(&b, `[unix_http_server]
file=%[1]s/s.sock
[supervisord]
logfile=%[1]s/supervisord.log
pidfile=%[1]s/supervisord.pid
childlogdir=%[1]s/log
nodaemon=true
user=root
minfds=%[2]d
minprocs=%[3]d
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl=unix://%[1]s/s.sock
`, dir, minfds, len(progs)+256)
	for _, p := range progs {
		fmt.Fprintf(&b, "[program:%s]\ncommand=%s\nstartsecs=1\nautorestart=true\nredirect_stderr=true\nstdout_logfile=%s/log/%s.log\n",
			p.name, p.command, dir, p.name)
	}
	path := filepath.Join(dir, "supervisord.conf")
	must(os.WriteFile(path, []byte(b.String()), 0o644))
	return path
}

func (s *supervisordServer) command(conf string) *exec.Cmd {
	return exec.Command("supervisord", "-n", "-c", conf)
}

func (s *supervisordServer) progress(dir string, st *logScan) (int, string) {
	for _, line := range st.lines() {
		switch {
		case strings.Contains(line, "entered RUNNING state"):
			st.count++
		case strings.Contains(line, "entered FATAL state"):
			return st.count, line
		}
	}
	return st.count, ""
}

func (s *supervisordServer) statusCmd(conf string) []string {
	return []string{"supervisorctl", "-c", conf, "status"}
}

func (s *supervisordServer) payload(dir string) (func() (int, error), func(), error) {
	sock := filepath.Join(dir, "s.sock")
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}
	client := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	body := `<?xml version="1.0"?><methodCall><methodName>supervisor.getAllProcessInfo</methodName><params></params></methodCall>`
	call := func() (int, error) {
		resp, err := client.Post("http://localhost/RPC2", "text/xml", strings.NewReader(body))
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != 200 {
			err = fmt.Errorf("HTTP %s", resp.Status)
		}
		return len(data), err
	}
	return call, tr.CloseIdleConnections, nil
}

// ---------------------------------------------------------------------------
// one run

type running struct {
	srv   server
	dir   string
	conf  string
	cmd   *exec.Cmd
	pid   int
	exit  chan error
	start time.Time
}

// launch starts srv on progs in a fresh directory and waits until every
// program is RUNNING; it returns the run and the time that took (0 and a
// note when it did not get there).
func launch(srv server, tag string, progs []prog, work string) (*running, time.Duration, string) {
	dir := filepath.Join(work, srv.name()+"-"+tag)
	os.RemoveAll(dir)
	must(os.MkdirAll(filepath.Join(dir, "log"), 0o755))
	conf := srv.writeConfig(dir, progs)
	cmd := srv.command(conf)
	out, err := os.Create(filepath.Join(dir, "server.out"))
	must(err)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Dir = dir
	r := &running{srv: srv, dir: dir, conf: conf, cmd: cmd, exit: make(chan error, 1)}
	scanPath := filepath.Join(dir, "server.out")
	if srv.name() == "supervisord" {
		scanPath = filepath.Join(dir, "supervisord.log")
	}
	scan := &logScan{path: scanPath}
	r.start = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, 0, "cannot start: " + err.Error()
	}
	out.Close()
	r.pid = cmd.Process.Pid
	go func() { r.exit <- cmd.Wait() }()
	deadline := r.start.Add(*runTimeout)
	for {
		n, failed := srv.progress(dir, scan)
		if n == -1 || n == len(progs) {
			return r, time.Since(r.start), ""
		}
		if failed != "" {
			logf("%s: %s", srv.name(), failed)
			return r, 0, "failed"
		}
		select {
		case err := <-r.exit:
			r.exit <- err
			return r, 0, fmt.Sprintf("server exited: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return r, 0, fmt.Sprintf("timeout after %s (%d/%d RUNNING)", *runTimeout, max(n, 0), len(progs))
		}
	}
}

// stop sends SIGTERM and waits for the exit; every descendant left behind
// is killed by pid and counted.
func (r *running) stop() (time.Duration, string) {
	kids := descendants(r.pid)
	t0 := time.Now()
	r.cmd.Process.Signal(syscall.SIGTERM)
	note := ""
	var took time.Duration
	select {
	case <-r.exit:
		took = time.Since(t0)
	case <-time.After(*stopTimeout):
		note = fmt.Sprintf("> %s (killed)", *stopTimeout)
		kids = append(kids, descendants(r.pid)...)
		r.cmd.Process.Kill()
		<-r.exit
	}
	left := 0
	for _, pid := range kids {
		if syscall.Kill(pid, 0) == nil && !isZombieOrGone(pid) {
			left++
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if left > 0 {
		logf("%s: %d processes were left running after the server exited; killed them", r.srv.name(), left)
		if note == "" {
			note = fmt.Sprintf("%.2f (left %d)", took.Seconds(), left)
		}
	}
	return took, note
}

func measureSize(srv server, n int) {
	name := srv.name()
	progs := make([]prog, n)
	for i := range progs {
		progs[i] = prog{name: fmt.Sprintf("p%04d", i), command: "/bin/sleep 100000"}
	}
	logf("%s, %d programs: starting", name, n)
	r, up, note := launch(srv, strconv.Itoa(n), progs, workDir)
	if r == nil {
		recordText("up", n, name, note)
		return
	}
	if note != "" {
		logf("%s, %d programs: %s", name, n, note)
		recordText("up", n, name, note)
		took, snote := r.stop()
		logf("%s: stopped in %s %s", name, took, snote)
		return
	}
	record("up", n, name, up.Seconds())
	logf("%s, %d programs: all RUNNING after %s", name, n, up.Round(time.Millisecond))

	time.Sleep(time.Second) // let the start's garbage be collected, as a server at rest would
	rss, pss := smapsRollup(r.pid)
	record("rss", n, name, rss/1024)
	record("pss", n, name, pss/1024)
	logf("%s, %d programs: RSS %.1f MB, PSS %.1f MB", name, n, rss/1024, pss/1024)

	cs0, cpu0, thr := ctxSwitches(r.pid), cpuTime(r.pid), threads(r.pid)
	t0 := time.Now()
	time.Sleep(*idleTime)
	cs1, cpu1 := ctxSwitches(r.pid), cpuTime(r.pid)
	secs := time.Since(t0).Seconds()
	record("wakeups", n, name, float64(cs1-cs0)/secs)
	record("idlecpu", n, name, (cpu1-cpu0).Seconds()*1000*60/secs)
	logf("%s, %d programs: idle %.2f context switches/s over %d threads, CPU %s in %.0f s",
		name, n, float64(cs1-cs0)/secs, thr, cpu1-cpu0, secs)

	argv := srv.statusCmd(r.conf)
	var walls []float64
	var bad string
	for range *samples {
		t := time.Now()
		cmd := exec.Command(argv[0], argv[1:]...)
		outb, err := cmd.Output()
		walls = append(walls, ms(time.Since(t)))
		if err != nil && bad == "" {
			bad = fmt.Sprintf("%v (%d bytes of output)", err, len(outb))
		}
	}
	if bad != "" {
		logf("%s: status command: %s", name, bad)
	}
	record("status", n, name, median(walls))
	logf("%s, %d programs: status command %.1f ms (median of %d)", name, n, median(walls), len(walls))

	call, closeFn, err := srv.payload(r.dir)
	if err != nil {
		recordText("rtt", n, name, "error")
		logf("%s: payload: %v", name, err)
	} else {
		var rtts []float64
		size := 0
		for range *samples {
			t := time.Now()
			sz, err := call()
			if err != nil {
				logf("%s: payload: %v", name, err)
				break
			}
			rtts = append(rtts, ms(time.Since(t)))
			size = sz
		}
		closeFn()
		if len(rtts) > 0 {
			record("rtt", n, name, median(rtts))
			record("payload", n, name, float64(size)/1024)
			logf("%s, %d programs: status payload %d bytes, %.2f ms (median of %d)", name, n, size, median(rtts), len(rtts))
		}
	}

	took, snote := r.stop()
	if snote != "" {
		recordText("stop", n, name, snote)
	} else {
		record("stop", n, name, took.Seconds())
	}
	logf("%s, %d programs: stopped and exited after %s %s", name, n, took.Round(time.Millisecond), snote)
}

// measureProcessFloor times whole processes that do nothing, the floor
// under any command line: /bin/true and a static Go hello world (medians
// of -samples), recorded in the column of the first server.
func measureProcessFloor(column string) {
	for _, f := range []struct{ key, bin string }{{"floor-true", "/bin/true"}, {"floor-hello", *helloBin}} {
		if f.bin == "" {
			continue
		}
		var walls []float64
		for range *samples {
			t := time.Now()
			if err := exec.Command(f.bin).Run(); err != nil {
				logf("floor: %s: %v", f.bin, err)
				return
			}
			walls = append(walls, ms(time.Since(t)))
		}
		record(f.key, 0, column, median(walls))
		logf("floor: %s takes %.1f ms (median of %d)", f.bin, median(walls), len(walls))
	}
}

// measureSpawnFloor runs forkfloor for n processes started serially with
// clone3 into a cgroup each (bare fork+exec where there is no cgroup v2).
func measureSpawnFloor(column string, n int) {
	if *forkBin == "" {
		return
	}
	out, err := exec.Command(*forkBin, "-n", strconv.Itoa(n), "-workers", "1", "-lines").Output()
	if err != nil {
		logf("floor: forkfloor: %v", err)
		return
	}
	got := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			got[f[0]], _ = strconv.ParseFloat(f[1], 64)
		}
	}
	secs, ok := got["cgroup-1"]
	if !ok {
		secs = got["bare-1"]
	}
	record("floor-spawn", n, column, secs)
	logf("floor: a bare Go program starts %d sleeps in %.2f s (bare fork+exec %.2f s)", n, secs, got["bare-1"])
}

// measureRestart: count stamp programs, each killed once with SIGKILL
// while RUNNING (so no backoff applies), median latency.
func measureRestart(srv server, count int) {
	name := srv.name()
	work := workDir
	stamps := filepath.Join(work, name+"-stamps")
	os.RemoveAll(stamps)
	must(os.MkdirAll(stamps, 0o755))
	progs := make([]prog, count)
	for i := range progs {
		progs[i] = prog{name: fmt.Sprintf("s%02d", i), command: fmt.Sprintf("%s %s/s%02d", *stampBin, stamps, i)}
	}
	logf("%s, restart latency over %d programs: starting", name, count)
	r, _, note := launch(srv, "restart", progs, work)
	if r == nil || note != "" {
		recordText("restart", count, name, note)
		if r != nil {
			r.stop()
		}
		return
	}
	time.Sleep(500 * time.Millisecond)
	var lats []float64
	for i := range progs {
		file := filepath.Join(stamps, fmt.Sprintf("s%02d", i))
		pid, _ := lastStamp(file)
		if pid == 0 {
			logf("%s: %s has no stamp", name, progs[i].name)
			continue
		}
		t0 := time.Now()
		syscall.Kill(pid, syscall.SIGKILL)
		deadline := t0.Add(30 * time.Second)
		for {
			npid, ns := lastStamp(file)
			if npid != 0 && npid != pid {
				lats = append(lats, float64(ns-t0.UnixNano())/1e6)
				break
			}
			if time.Now().After(deadline) {
				logf("%s: %s did not restart within 30 s", name, progs[i].name)
				break
			}
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(lats) > 0 {
		record("restart", count, name, median(lats))
		logf("%s: restart latency median %.2f ms, min %.2f, max %.2f (%d kills)", name, median(lats), slices.Min(lats), slices.Max(lats), len(lats))
	}
	took, snote := r.stop()
	logf("%s: stopped after %s %s", name, took.Round(time.Millisecond), snote)
}

// stampFloor: this program starting the stamp itself, the part of the
// restart latency no supervisor can remove (fork, exec, Go runtime start).
func stampFloor(work string, count int) float64 {
	file := filepath.Join(work, "floor")
	var lats []float64
	for range count {
		t0 := time.Now()
		cmd := exec.Command(*stampBin, file)
		if err := cmd.Start(); err != nil {
			logf("floor: %v", err)
			return 0
		}
		for {
			pid, ns := lastStamp(file)
			if pid == cmd.Process.Pid {
				lats = append(lats, float64(ns-t0.UnixNano())/1e6)
				break
			}
			time.Sleep(time.Millisecond)
		}
		cmd.Process.Kill()
		cmd.Wait()
	}
	logf("floor: starting the stamp directly takes %.2f ms (median of %d)", median(lats), len(lats))
	return median(lats)
}

func lastStamp(file string) (int, int64) {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0, 0
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	f := strings.Fields(lines[len(lines)-1])
	if len(f) != 2 {
		return 0, 0
	}
	pid, _ := strconv.Atoi(f[0])
	ns, _ := strconv.ParseInt(f[1], 10, 64)
	return pid, ns
}

// ---------------------------------------------------------------------------
// /proc

// smapsRollup returns Rss and Pss in KiB.
func smapsRollup(pid int) (rss, pss float64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		v, _ := strconv.ParseFloat(fields[1], 64)
		switch fields[0] {
		case "Rss:":
			rss = v
		case "Pss:":
			pss = v
		}
	}
	return rss, pss
}

// ctxSwitches sums voluntary and involuntary context switches of every
// thread of pid.
func ctxSwitches(pid int) int64 {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	var total int64
	for _, t := range tasks {
		data, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "voluntary_ctxt_switches:") || strings.HasPrefix(line, "nonvoluntary_ctxt_switches:") {
				v, _ := strconv.ParseInt(strings.TrimSpace(line[strings.IndexByte(line, ':')+1:]), 10, 64)
				total += v
			}
		}
	}
	return total
}

func threads(pid int) int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
	return len(tasks)
}

// cpuTime is the process's user+system time (all threads, clock ticks of 10 ms).
func cpuTime(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// descendants lists every process below pid (by parent pid in /proc).
func descendants(pid int) []int {
	parent := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(data)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		pp, _ := strconv.Atoi(f[1])
		parent[pp] = append(parent[pp], p)
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range parent[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

func isZombieOrGone(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	return f[0] == "Z" || f[0] == "X"
}

// ---------------------------------------------------------------------------
// output

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

var rows = []struct{ key, label, format string }{
	{"rss", "server RSS, MB (all RUNNING)", "%.1f"},
	{"pss", "server PSS, MB (all RUNNING)", "%.1f"},
	{"floor-spawn", "floor: a bare Go program starting N sleeps, clone3 into a cgroup each, s", "%.2f"},
	{"up", "start to all RUNNING, s (incl. 1 s start time)", "%.2f"},
	{"up/spawn", "(start to all RUNNING - 1 s start time) / that floor", "%.2f"},
	{"wakeups", "idle wake-ups/s (context switches, all threads)", "%.2f"},
	{"idlecpu", "idle CPU, ms per minute", "%.0f"},
	{"floor-true", "floor: /bin/true, whole process, ms (median)", "%.1f"},
	{"floor-hello", "floor: static Go hello world, whole process, ms (median)", "%.1f"},
	{"status", "status command, ms (whole process, median)", "%.1f"},
	{"status/hello", "status command / Go hello world floor", "%.2f"},
	{"rtt", "status payload round trip, ms (median)", "%.2f"},
	{"payload", "status payload, KiB", "%.0f"},
	{"stop", "SIGTERM to exit, all stopped, s", "%.2f"},
	{"restart", "restart after kill -9, ms (median; N programs, one kill each)", "%.2f"},
}

// floorRatios adds the ratio rows: each server's status command to the Go
// hello world, and its start (less the 1 s start time) to the spawn floor.
func floorRatios(servers []string) {
	hello, ok := results["floor-hello"][0][servers[0]]
	for n, vals := range results["status"] {
		for _, s := range servers {
			if c, found := vals[s]; found && ok && c.text == "" && hello.v > 0 {
				record("status/hello", n, s, c.v/hello.v)
			}
		}
	}
	for n, vals := range results["up"] {
		floor, ok := results["floor-spawn"][n][servers[0]]
		for _, s := range servers {
			if c, found := vals[s]; found && ok && c.text == "" && floor.v > 0 {
				record("up/spawn", n, s, (c.v-1)/floor.v)
			}
		}
	}
}

func printTable(sizes []int, servers []string, took time.Duration) {
	floorRatios(servers)
	fmt.Println()
	fmt.Printf("Ramona vs supervisord, same run: %s\n", machine())
	fmt.Printf("idle window %s, medians of %d, total bench time %s\n\n", *idleTime, *samples, took.Round(time.Second))
	cols := servers
	fmt.Printf("| metric | N | %s | ratio |\n", strings.Join(cols, " | "))
	fmt.Printf("|---|---:|%s---:|\n", strings.Repeat("---:|", len(cols)))
	for _, row := range rows {
		byN := results[row.key]
		ns := make([]int, 0, len(byN))
		for n := range byN {
			ns = append(ns, n)
		}
		sort.Ints(ns)
		for _, n := range ns {
			vals := byN[n]
			var parts []string
			for _, s := range cols {
				c, ok := vals[s]
				switch {
				case !ok:
					parts = append(parts, "-")
				case c.text != "":
					parts = append(parts, c.text)
				default:
					parts = append(parts, fmt.Sprintf(row.format, c.v))
				}
			}
			ratio := "-"
			if len(cols) == 2 {
				a, aok := vals[cols[0]]
				b, bok := vals[cols[1]]
				if aok && bok && a.text == "" && b.text == "" && b.v != 0 {
					ratio = fmt.Sprintf("%.3g", a.v/b.v)
				}
			}
			size := "-" // a floor of the whole run
			if n > 0 {
				size = strconv.Itoa(n)
			}
			fmt.Printf("| %s | %s | %s | %s |\n", row.label, size, strings.Join(parts, " | "), ratio)
		}
	}
	if fi, err := os.Stat(*ramonaBin); err == nil {
		fmt.Printf("| ramona binary, bytes (static, -trimpath -s -w) | - | %d = %.2f MiB = %.2f MB |%s -  |\n", fi.Size(), float64(fi.Size())/(1<<20), float64(fi.Size())/1e6, strings.Repeat(" - |", len(cols)-1))
	}
	if f, ok := results["restart floor"]; ok {
		fmt.Printf("\nratio = %s / %s. Restart floor (this bench starting the stamp child itself: fork, exec, Go start-up): %s ms.\n",
			cols[0], cols[len(cols)-1], f[0][""].text)
	}
}

func machine() string {
	model := ""
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "model name") {
				model = strings.TrimSpace(line[strings.IndexByte(line, ':')+1:])
				break
			}
		}
	}
	kernel := ""
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = strings.TrimSpace(string(data))
	}
	load := ""
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(data))[:3], " ")
	}
	sv := ""
	if out, err := exec.Command("supervisord", "--version").Output(); err == nil {
		sv = "supervisord " + strings.TrimSpace(string(out))
	}
	return fmt.Sprintf("%d cores (%s), Linux %s, %s, %s, load %s, %s", runtime.NumCPU(), model, kernel, runtime.Version(), sv, load, time.Now().UTC().Format("2006-01-02"))
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}
