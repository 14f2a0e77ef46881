//go:build unix

// Tests of the notify protocol against the real /usr/bin/systemd-notify:
// readiness from a shell script, STATUS= in status, the barrier, watchdog
// heartbeats and misses, a sender outside the program ignored, and the
// server's own READY=1 / STOPPING=1 to the NOTIFY_SOCKET it was given.
package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func needSystemdNotify(t *testing.T) {
	t.Helper()
	needPeer(t, "systemd-notify", "systemd")
	needShell(t) // the programs are sh -c scripts around systemd-notify
}

func TestNotifyReadyFromShellScript(t *testing.T) {
	t.Parallel()
	needSystemdNotify(t)
	sleep := helperCommand(t, "sleep", "1h")
	r := newTestRamona(t, fmt.Sprintf(`
[program:db]
ready=notify
starttimeout=0.1
readytimeout=60s
command=sh -c 'echo waiting; while [ ! -e go ]; do sleep 0.02; done; systemd-notify --ready --status="serving 3 clients" || echo BARRIER-FAILED; echo notified; exec %s'
stdout=<stderr>
`, strings.ReplaceAll(sleep, "'", "")))
	r.start()
	waitFor(t, "the script to run", 10*time.Second, func() bool { return strings.Contains(r.programLog("db"), "waiting") })
	if st := r.status()["db"]; st.State != "STARTING" {
		t.Fatalf("before READY=1 the program is %s, want STARTING (starttimeout must not apply with ready=notify)", st.State)
	}
	if err := os.WriteFile(filepath.Join(r.dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	st := r.waitState("db", "RUNNING", 20*time.Second)
	if st.StatusText != "serving 3 clients" {
		t.Errorf("status_text = %q, want the STATUS= text", st.StatusText)
	}
	waitFor(t, "systemd-notify to return", 20*time.Second, func() bool { return strings.Contains(r.programLog("db"), "notified") })
	if strings.Contains(r.programLog("db"), "BARRIER-FAILED") {
		t.Errorf("systemd-notify failed: the barrier descriptor was not closed\n%s", r.programLog("db"))
	}
	code, out, _ := r.cli("status", "db")
	if code != 0 || !strings.Contains(out, "serving 3 clients") {
		t.Errorf("status: exit %d, output %q; want the STATUS= text", code, out)
	}
	r.stopAll()
}

func TestPriorityGroupWaitsForReadiness(t *testing.T) {
	t.Parallel()
	needSystemdNotify(t)
	sleep := strings.ReplaceAll(helperCommand(t, "sleep", "1h"), "'", "")
	r := newTestRamona(t, fmt.Sprintf(`
[program:db]
priority=200
ready=notify
command=sh -c 'while [ ! -e go ]; do sleep 0.02; done; systemd-notify --ready; exec %s'

[program:app]
priority=100
starttimeout=0.1
command=%s
`, sleep, helperCommand(t, "sleep", "1h")))
	r.start()
	r.waitState("db", "STARTING", 10*time.Second)
	if st := r.status()["app"]; st.Launches != 0 {
		t.Fatalf("app started (%s) before db was ready", st.State)
	}
	os.WriteFile(filepath.Join(r.dir, "go"), nil, 0o644)
	r.waitState("app", "RUNNING", 20*time.Second)
	if st := r.status()["db"]; st.State != "RUNNING" {
		t.Errorf("db is %s", st.State)
	}
	r.stopAll()
}

func TestWatchdogHeartbeatsKeepProgramRunning(t *testing.T) {
	needSystemdNotify(t)
	t.Parallel()
	// Ten heartbeats per period: a loaded machine that delays a few
	// systemd-notify runs still keeps the program inside its watchdog.
	r := newTestRamona(t, `
[program:beat]
watchdog=2s
starttimeout=0.1
command=sh -c 'while true; do systemd-notify WATCHDOG=1; sleep 0.2; done'
`)
	r.start()
	var st programStatus
	waitFor(t, "beat to run for 2 watchdog periods", 60*time.Second, func() bool {
		st = r.status()["beat"]
		return st.State == "RUNNING" && st.Uptime >= 4
	})
	if st.Launches != 1 || st.Restarts != 0 {
		t.Errorf("a program sending heartbeats was restarted: %+v\n%s", st, r.serverLog())
	}
	r.stopAll()
}

func TestWatchdogMissRestartsProgram(t *testing.T) {
	t.Parallel()
	needSystemdNotify(t)
	r := newTestRamona(t, fmt.Sprintf(`
[program:miss]
watchdog=0.3s
starttimeout=0.1
stoptimeout=0.5
command=sh -c 'systemd-notify WATCHDOG=1; exec %s'
`, strings.ReplaceAll(helperCommand(t, "sleep", "1h"), "'", "")))
	r.start()
	var st programStatus
	waitFor(t, "the watchdog to restart miss", 30*time.Second, func() bool {
		st = r.status()["miss"]
		return st.Restarts >= 1 && st.State == "RUNNING"
	})
	if st.Launches < 2 {
		t.Errorf("launches = %d after a watchdog restart", st.Launches)
	}
	log := r.serverLog()
	if !strings.Contains(log, "miss: watchdog: no WATCHDOG=1") || !strings.Contains(log, "watchdog miss") {
		t.Errorf("the server log does not report the watchdog miss:\n%s", log)
	}
	r.stopAll()
}

func TestWatchdogEnvironment(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:env]
watchdog=2s
starttimeout=0.1
command=%s
stdout=<stderr>
`, helperCommand(t, "env")))
	r.start()
	st := r.waitState("env", "RUNNING", 10*time.Second)
	waitFor(t, "the env helper's output", 10*time.Second, func() bool { return strings.Contains(r.programLog("env"), "WATCHDOG_USEC=") })
	log := r.programLog("env")
	for _, want := range []string{"WATCHDOG_USEC=2000000\n", fmt.Sprintf("WATCHDOG_PID=%d\n", st.PID), "NOTIFY_SOCKET=@ramona-notify-"} {
		if !strings.Contains(log, want) {
			t.Errorf("environment lacks %q:\n%s", want, log)
		}
	}
	r.stopAll()
}

func TestNotifyFromOutsiderIgnored(t *testing.T) {
	t.Parallel()
	needSystemdNotify(t)
	r := newTestRamona(t, fmt.Sprintf(`
[ramona:server]
loglevel=DEBUG

[program:waiter]
ready=notify
readytimeout=60s
command=%s
stdout=<stderr>
`, helperCommand(t, "env")))
	r.start()
	var sock string
	waitFor(t, "the program's NOTIFY_SOCKET", 10*time.Second, func() bool {
		for _, line := range strings.Split(r.programLog("waiter"), "\n") {
			if v, ok := strings.CutPrefix(line, "NOTIFY_SOCKET="); ok {
				sock = v
				return true
			}
		}
		return false
	})
	// This test process is not part of the program: its READY=1 must not count.
	cmd := exec.Command("systemd-notify", "--ready", "--status=forged")
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("systemd-notify from outside: %v\n%s (the barrier descriptor must be closed for ignored senders too)", err, out)
	}
	waitFor(t, "the server to log the ignored message", 10*time.Second, func() bool {
		return strings.Contains(r.serverLog(), "belongs to no running program")
	})
	st := r.status()["waiter"]
	if st.State != "STARTING" || st.StatusText != "" {
		t.Errorf("a message from outside the program changed it: %+v", st)
	}
	r.stopAll()
}

func TestServerTellsItsServiceManager(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:one]
starttimeout=0.1
command=%s
`, helperCommand(t, "sleep", "1h")))
	sockPath := filepath.Join(r.dir, "systemd.sock")
	sock, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sockPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	r.server = startRamonaProcess(t, filepath.Join(r.dir, "server.log"),
		[]string{"RAMONA_TEST_ID=" + r.id, "NOTIFY_SOCKET=" + sockPath, "WATCHDOG_USEC=400000"}, "-c", r.conf, "daemon")
	read := func(want string) string {
		t.Helper()
		buf := make([]byte, 4096)
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
			sock.SetReadDeadline(deadline)
			n, err := sock.Read(buf)
			if err != nil {
				break
			}
			if msg := string(buf[:n]); strings.Contains(msg, want) {
				return msg
			}
		}
		t.Fatalf("no %q from the server on its NOTIFY_SOCKET", want)
		return ""
	}
	msg := read("READY=1")
	if !strings.Contains(msg, "STATUS=1 programs: 1 running") {
		t.Errorf("READY=1 came without the expected STATUS=: %q", msg)
	}
	if st := r.status()["one"]; st.State != "RUNNING" {
		t.Errorf("READY=1 sent before the start sequence settled: one is %s", st.State)
	}
	read("WATCHDOG=1")
	code, _, _ := r.cli("stop")
	if code != 0 {
		t.Errorf("stop: exit %d", code)
	}
	read("STOPPING=1")
	if code, err := r.server.wait(30 * time.Second); code != 0 || err != nil {
		t.Errorf("server exit %d, %v", code, err)
	}
}

// TestSelfNotifierKeepsOrder: what the loop queues for the service manager
// arrives in the order it was queued, each message whole, and close sends
// what is still queued before it returns.
func TestSelfNotifierKeepsOrder(t *testing.T) {
	t.Parallel()
	sockPath := filepath.Join(t.TempDir(), "notify.sock")
	sock, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sockPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	const count = 200
	got := make(chan []string, 1)
	go func() { // ends after count messages or a read error
		var msgs []string
		buf := make([]byte, 4096)
		for len(msgs) < count {
			sock.SetReadDeadline(time.Now().Add(20 * time.Second))
			k, err := sock.Read(buf)
			if err != nil {
				break
			}
			msgs = append(msgs, string(buf[:k]))
		}
		got <- msgs
	}()
	n := newSelfNotifier([]string{"NOTIFY_SOCKET=" + sockPath})
	var want []string
	for i := range count {
		msg := fmt.Sprintf("STATUS=message %d", i)
		want = append(want, msg)
		n.send(msg)
	}
	n.close()
	if msgs := <-got; !slices.Equal(msgs, want) {
		t.Errorf("the service manager got %d messages, in this order:\n%s\nwant the %d in the order sent", len(msgs), strings.Join(msgs, "\n"), count)
	}
}
