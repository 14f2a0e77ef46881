// What the supervisor tells the operator: a program entering FATAL, a
// watchdog miss, a program turning unhealthy, a failed start or stop
// sequence, and `ramona notify`. The texts are put together on the loop
// from its state; the log tails they quote are read later by the mailer
// (mail.go). A notification that no mail delivery or webhook can take only
// becomes a line in the server log.
package main

import (
	"fmt"
	"strings"
	"time"
)

// sendNotification hands n to the mailer; when neither mail nor a webhook
// can take it, it only goes to the server log.
func (s *Supervisor) sendNotification(n *notification) {
	if n.target.When == "" {
		return
	}
	if s.mailer == nil || !s.cfg.Notify.reaches(n.target) {
		s.log.Infof("notification (%s; neither mail delivery nor a webhook is configured for it): %s", n.target.When, n.subject)
		return
	}
	s.mailer.submit(n)
}

// notifyFatal: p entered FATAL (notify_fatal). The output tail is read by
// the mailer.
func (s *Supervisor) notifyFatal(p *Program, old State, detail string) {
	name, now := p.cfg.Name, time.Now()
	var b strings.Builder
	fmt.Fprintf(&b, "%s went from %s to FATAL at %s.\n\n", name, old, now.Format("2006-01-02 15:04:05"))
	fmt.Fprintf(&b, "Reason:      %s\n", detail)
	if e := p.lastExit; e != nil && (old == StateStarting || old == StateRunning || old == StateStopping) {
		fmt.Fprintf(&b, "Exit status: %s after %s\n", e, roundDuration(e.uptime))
	} else {
		fmt.Fprintf(&b, "Exit status: none, it could not be started\n")
	}
	fmt.Fprintf(&b, "Restarts:    %d (launches: %d)\n", p.restarts, p.launches)
	s.sendNotification(&notification{
		key: "fatal\x00" + name, target: p.cfg.NotifyFatal, event: eventFatal, program: name,
		subject: name + " FATAL", body: b.String(), at: now, tail: p.logs.tailLater(mailTailLines),
	})
}

// notifyWatchdog: p missed its watchdog (notify_watchdog).
func (s *Supervisor) notifyWatchdog(p *Program, why string) {
	s.notifyRestarted(p, eventWatchdog, p.cfg.NotifyWatchdog, "watchdog miss", "missed its watchdog", why)
}

// notifyHealth: p turned unhealthy (notify_health).
func (s *Supervisor) notifyHealth(p *Program, why string) {
	s.notifyRestarted(p, eventHealth, p.cfg.NotifyHealth, "unhealthy", "failed its health check", why)
}

// notifyRestarted: p is being stopped and started again by the supervisor
// (event watchdog or health), with the tail of its output.
func (s *Supervisor) notifyRestarted(p *Program, event string, target NotifyTarget, subject, what, why string) {
	name, now := p.cfg.Name, time.Now()
	body := fmt.Sprintf("%s %s at %s: %s.\nIt is stopped and started again (automatic restarts so far: %d).\n",
		name, what, now.Format("2006-01-02 15:04:05"), why, p.restarts)
	s.sendNotification(&notification{
		key: event + "\x00" + name, target: target, event: event, program: name,
		subject: name + " " + subject, body: body, at: now, tail: p.logs.tailLater(mailTailLines),
	})
}

// notifySequence: a start or stop sequence an operator asked for (or the
// server's first start) finished with failures ([ramona:notify] notify_fatal).
func (s *Supervisor) notifySequence(what, requester string, failures []string) {
	now := time.Now()
	body := fmt.Sprintf("The sequence %q, requested by %s, finished at %s with %d failure(s):\n\n%s\n",
		what, requester, now.Format("2006-01-02 15:04:05"), len(failures), indent(strings.Join(failures, "\n")))
	s.sendNotification(&notification{
		key: "sequence", target: s.cfg.Notify.NotifyFatal, event: eventSequence, subject: fmt.Sprintf("%s: %d program(s) failed", what, len(failures)), body: body, at: now,
	})
}

// serveNotify answers `ramona notify` on the loop: TEXT is sent now or kept
// for the digest; an empty TEXT sends the daily digests now. It says which.
func (s *Supervisor) serveNotify(c *clientConn, req request, sink *replySink) {
	if s.mailer == nil {
		sink.done(reply{Exit: exitFailed, Error: "the server has no mailer"})
		return
	}
	text := strings.TrimSpace(req.Text)
	if text == "" {
		if !s.mailer.submit(&notification{flush: true}) {
			sink.done(reply{Exit: exitFailed, Error: "the notification queue is full; try again later"})
			return
		}
		s.log.Infof("server: daily digest flush requested by %s (%s)", c.transport, c.peer)
		sink.progress("notify: the daily digests go out now (the server log says when they were sent)")
		sink.done(reply{})
		return
	}
	when := req.Target
	if when == "" {
		when = "now"
	}
	t, err := parseNotifyTarget(when)
	if err != nil || t.When == "" {
		why := "use now, daily, now:ADDR or daily:ADDR (ADDR: a mail address or a webhook URL)"
		if err != nil && looksLikeURL(when) {
			why = err.Error()
		}
		sink.done(reply{Exit: exitUsage, Error: fmt.Sprintf("notify -t %s: %s", redactURLs(when), why)})
		return
	}
	if !s.cfg.Notify.reaches(t) {
		sink.done(reply{Exit: exitFailed, Error: "no mail delivery is configured and no webhook would take this; set delivery and receiver, or webhook, in [ramona:notify]"})
		return
	}
	subject := strings.TrimSpace(req.Subject)
	if subject == "" {
		subject = "notification"
	}
	n := &notification{target: t, event: eventNotify, subject: subject, body: req.Text + "\n", at: time.Now()}
	if !s.mailer.submit(n) {
		sink.done(reply{Exit: exitFailed, Error: "the notification queue is full; try again later"})
		return
	}
	s.log.Infof("server: notification %q (%s) requested by %s (%s)", subject, t.When, c.transport, c.peer)
	said := "notify: queued to go out now (the server log says when it was sent)"
	if t.When == "daily" {
		said = "notify: kept for the daily digest"
	}
	sink.progress(said)
	sink.done(reply{})
}

// tailLater is, for the mailer, the end of the program's output as it is
// once what the loop queued for the logs so far (the EXITED banner) is
// written; asked on the loop, read off it.
func (l *programLogs) tailLater(n int) func() string {
	if l == nil {
		return func() string { return "" }
	}
	written := l.jobs.idle()
	return func() string {
		<-written
		return l.tailText(n)
	}
}

// tailText is the end of a program's output for a mail, read off the loop.
func (l *programLogs) tailText(n int) string {
	if l == nil {
		return ""
	}
	clip := func(b []byte) string {
		if len(b) > mailTailMax {
			b = b[len(b)-mailTailMax:]
		}
		return indent(strings.TrimRight(string(b), "\n"))
	}
	if l.merged() {
		return fmt.Sprintf("The last %d lines of its output:\n\n%s\n", n, clip(l.stderr.tail(n)))
	}
	return fmt.Sprintf("The last %d lines of its stderr:\n\n%s\n\nThe last %d lines of its stdout:\n\n%s\n",
		n, clip(l.stderr.tail(n)), n, clip(l.stdout.tail(n)))
}
