//go:build unix

// Tests of what the supervisor notifies, without processes: targets, flood
// keys and texts of FATAL, watchdog and sequence notifications, the log tail
// they leave to the mailer, `ramona notify` answers, and the server log
// line that replaces mail when no delivery is configured.
package main

import (
	"strings"
	"testing"
	"time"
)

// notifySupervisor is a supervisor whose mailer is not running: what is
// submitted stays in its queue.
func notifySupervisor(t *testing.T, withDelivery bool) (*Supervisor, *syncBuffer) {
	log := &syncBuffer{}
	cfg := testNotifyConfig()
	cfg.Notify.NotifyFatal = NotifyTarget{When: "daily", To: []string{"boss@example.com"}}
	if !withDelivery {
		cfg.Notify.Delivery = nil
	}
	s := &Supervisor{cfg: cfg, log: &serverLog{w: log, level: LevelDebug}}
	s.mailer = newMailer(cfg, s.log)
	return s, log
}

func queued(t *testing.T, m *Mailer) *notification {
	t.Helper()
	select {
	case n := <-m.queue:
		return n
	default:
		t.Fatal("nothing was submitted")
		return nil
	}
}

func TestNotifyFatalAndWatchdog(t *testing.T) {
	t.Parallel()
	s, _ := notifySupervisor(t, true)
	pc := &ProgramConfig{Name: "web", NotifyFatal: NotifyTarget{When: "now"}, NotifyWatchdog: NotifyTarget{When: "daily"},
		Stdout: OutputTarget{Kind: OutMerged}, Stderr: OutputTarget{Kind: OutNull}}
	p := &Program{cfg: pc, restarts: 2, launches: 5, lastExit: &exitStatus{code: 3, uptime: 1500 * time.Millisecond}}
	p.logs = s.openProgramLogs(pc)
	p.logs.stderr.Write([]byte("line a\nline b\n"))

	s.setState(p, StateFatal, "exited: exit status 3 after 1.5s")
	n := queued(t, s.mailer)
	if n.target.When != "now" || n.key != "fatal\x00web" || n.subject != "web FATAL" || n.event != "fatal" || n.program != "web" {
		t.Errorf("FATAL: target %+v key %q subject %q event %q program %q", n.target, n.key, n.subject, n.event, n.program)
	}
	for _, want := range []string{"web went from STOPPED to FATAL at", "Reason:      exited: exit status 3 after 1.5s",
		"Exit status: none, it could not be started", "Restarts:    2 (launches: 5)"} {
		if !strings.Contains(n.body, want) {
			t.Errorf("FATAL body lacks %q:\n%s", want, n.body)
		}
	}
	if tail := n.tail(); !strings.Contains(tail, "The last 20 lines of its output:\n\n    line a\n    line b") {
		t.Errorf("tail %q", tail)
	}
	// From STARTING the exit status is the one that made it FATAL.
	p.state = StateStarting
	s.setState(p, StateFatal, "exited too quickly")
	if n := queued(t, s.mailer); !strings.Contains(n.body, "Exit status: exit status 3 after 1.5s") {
		t.Errorf("FATAL from STARTING:\n%s", n.body)
	}
	// FATAL -> FATAL (start -f that fails again at spawn) is no new notification.
	s.setState(p, StateFatal, "again")
	if len(s.mailer.queue) != 0 {
		t.Error("FATAL to FATAL was notified")
	}

	s.reportWatchdog(p, "no WATCHDOG=1 for 2s")
	n = queued(t, s.mailer)
	if n.target.When != "daily" || n.key != "watchdog\x00web" || n.subject != "web watchdog miss" || n.event != "watchdog" || n.program != "web" ||
		!strings.Contains(n.body, "web missed its watchdog at") || !strings.Contains(n.body, "no WATCHDOG=1 for 2s") || n.tail == nil {
		t.Errorf("watchdog: %+v", n)
	}
	// <none> targets notify nothing.
	pc.NotifyWatchdog = NotifyTarget{}
	s.reportWatchdog(p, "again")
	if len(s.mailer.queue) != 0 {
		t.Error("a <none> target was notified")
	}
}

func TestNotifySequence(t *testing.T) {
	t.Parallel()
	s, _ := notifySupervisor(t, true)
	s.notifySequence("start web db", "unix (pid 7 uid 0)", []string{"web: FATAL (exited)", "db: CFGERROR"})
	n := queued(t, s.mailer)
	if n.target.When != "daily" || n.target.To[0] != "boss@example.com" || n.subject != "start web db: 2 program(s) failed" || n.event != "sequence" || n.program != "" ||
		!strings.Contains(n.body, `The sequence "start web db", requested by unix (pid 7 uid 0), finished at`) ||
		!strings.Contains(n.body, "    web: FATAL (exited)\n    db: CFGERROR") {
		t.Errorf("sequence: %+v", n)
	}
}

func TestNotifyRequest(t *testing.T) {
	t.Parallel()
	s, log := notifySupervisor(t, true)
	c := &clientConn{transport: "unix", peer: "pid 7 uid 0"}
	ask := func(req request) reply {
		sink := newReplySink()
		s.serveNotify(c, req, sink)
		items, _ := sink.wait(nil)
		return items[len(items)-1]
	}
	if r := ask(request{Text: "deploy done", Subject: "Deploy"}); r.Exit != 0 {
		t.Errorf("notify: %+v", r)
	}
	n := queued(t, s.mailer)
	if n.target.When != "now" || n.subject != "Deploy" || n.body != "deploy done\n" || n.key != "" {
		t.Errorf("notify: %+v", n)
	}
	ask(request{Text: "later", Target: "daily:dev@example.com"})
	if n := queued(t, s.mailer); n.target.When != "daily" || n.target.To[0] != "dev@example.com" || n.subject != "notification" {
		t.Errorf("notify -t daily:ADDR: %+v", n)
	}
	ask(request{Text: "  "})
	if n := queued(t, s.mailer); !n.flush {
		t.Errorf("an empty text does not flush: %+v", n)
	}
	if r := ask(request{Text: "x", Target: "weekly"}); r.Exit != exitUsage || !strings.Contains(r.Error, "notify -t weekly") {
		t.Errorf("a bad target: %+v", r)
	}
	for i := 0; i < mailQueueSize; i++ {
		s.mailer.submit(&notification{})
	}
	if r := ask(request{Text: "x"}); r.Exit != exitFailed || !strings.Contains(r.Error, "the notification queue is full") {
		t.Errorf("a full queue: %+v", r)
	}
	if !strings.Contains(log.String(), `server: notification "Deploy" (now) requested by unix (pid 7 uid 0)`) {
		t.Errorf("log:\n%s", log)
	}

	s, log = notifySupervisor(t, false)
	if r := ask(request{Text: "x"}); r.Exit != exitFailed || !strings.Contains(r.Error, "no mail delivery is configured and no webhook would take this") {
		t.Errorf("without delivery: %+v", r)
	}
	s.notifySequence("server start", "the server itself", []string{"web: FATAL"})
	if !strings.Contains(log.String(), "notification (daily; neither mail delivery nor a webhook is configured for it): server start: 1 program(s) failed") {
		t.Errorf("without delivery, the notification is not logged:\n%s", log)
	}
	if len(s.mailer.queue) != 0 {
		t.Errorf("without delivery, %d notification(s) went to the mailer", len(s.mailer.queue))
	}
	// A webhook works without delivery: as a target, and among the receivers.
	const hook = "https://hooks.example.com/services/T0/B0/secret"
	if r := ask(request{Text: "x", Target: "now:" + hook}); r.Exit != 0 {
		t.Errorf("notify -t now:URL without delivery: %+v", r)
	}
	if n := queued(t, s.mailer); n.target.To[0] != hook || n.event != eventNotify {
		t.Errorf("notify -t now:URL: %+v", n)
	}
	s.cfg.Notify.Receivers = []string{"ops@example.com", hook}
	if r := ask(request{Text: "x"}); r.Exit != 0 {
		t.Errorf("notify without delivery, a webhook among the receivers: %+v", r)
	}
	queued(t, s.mailer)
	// A bad URL on the command line is refused, and not shown whole.
	for _, target := range []string{"now:http://hooks.example.com/services/secret", "https://hooks.example.com/services/secret"} {
		r := ask(request{Text: "x", Target: target})
		if r.Exit != exitUsage || strings.Contains(r.Error, "secret") || !strings.Contains(r.Error, "hooks.example.com/***") {
			t.Errorf("notify -t %s: %+v", target, r)
		}
	}
}
