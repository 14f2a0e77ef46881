//go:build unix

// Tests of the Mailer. Unit tests run it with a fake clock and a fake send
// (flood limits, the digest, retries, the stash, a full queue, secrets);
// the others talk to a real SMTP server, Debian's python3-aiosmtpd, started
// on a free loopback port: plain SMTP, STARTTLS and SMTPS with a test
// certificate, AUTH PLAIN and LOGIN (testdata/smtp_auth_server.py), a dead
// server that comes back, and end to end through a Ramona server: a FATAL
// program, a log scan hit, `ramona notify`.
package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ---- a fake clock ----

type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) At(t time.Time) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if !t.After(c.now) {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, fakeWaiter{t, ch})
	return ch
}

// Advance moves the clock on and fires the timers that are due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- c.now
	}
	c.waiters = kept
}

// ---- a mailer with a fake send ----

// receivedMail is one mail as a test sees it.
type receivedMail struct {
	from    string
	to      []string
	header  mail.Header
	subject string
	body    string
}

// parseMail reads a message as composed by the mailer (or stored by aiosmtpd).
func parseMail(t testing.TB, raw []byte) receivedMail {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("not a mail: %v\n%s", err, raw)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("subject %q: %v", msg.Header.Get("Subject"), err)
	}
	var body []byte
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body, err = io.ReadAll(quotedprintable.NewReader(msg.Body))
	} else {
		body, err = io.ReadAll(msg.Body)
	}
	if err != nil {
		t.Fatalf("body: %v", err)
	}
	return receivedMail{header: msg.Header, subject: subject, body: strings.ReplaceAll(string(body), "\r\n", "\n")}
}

type unitMailer struct {
	*Mailer
	t     *testing.T
	clock *fakeClock
	log   *syncBuffer

	mu       sync.Mutex
	sent     []receivedMail
	attempts int
	fail     error // send returns it while set
}

func testNotifyConfig() *Config {
	return &Config{AppName: "shop", Notify: NotifyConfig{
		Delivery:  &SMTPDelivery{Host: "mail.example.com", Port: 25, StartTLS: "starttls"},
		Sender:    "ramona@example.com",
		Receivers: []string{"ops@example.com"},
		DailyAt:   9 * time.Hour,
	}}
}

// newUnitMailer runs a mailer whose clock starts at 08:00 and whose mails
// are recorded (or fail with um.fail); webhooks are posted for real. setup
// changes the mailer before it starts.
func newUnitMailer(t *testing.T, cfg *Config, setup ...func(*Mailer)) *unitMailer {
	t.Helper()
	log := &syncBuffer{}
	m := newMailer(cfg, &serverLog{w: log, level: LevelDebug})
	clock := &fakeClock{now: time.Date(2026, 11, 25, 8, 0, 0, 0, time.Local)}
	m.clock = clock
	um := &unitMailer{Mailer: m, t: t, clock: clock, log: log}
	m.send = func(d *SMTPDelivery, from string, to []string, msg []byte) error {
		um.mu.Lock()
		defer um.mu.Unlock()
		um.attempts++
		if um.fail != nil {
			return um.fail
		}
		rm := parseMail(t, msg)
		rm.from, rm.to = from, to
		um.sent = append(um.sent, rm)
		return nil
	}
	for _, f := range setup {
		f(m)
	}
	m.start()
	t.Cleanup(func() {
		m.close()
		if t.Failed() {
			t.Logf("mailer log:\n%s", log)
		}
	})
	return um
}

func (um *unitMailer) setFail(err error) {
	um.mu.Lock()
	defer um.mu.Unlock()
	um.fail = err
}

func (um *unitMailer) mails() []receivedMail {
	um.mu.Lock()
	defer um.mu.Unlock()
	return append([]receivedMail(nil), um.sent...)
}

func (um *unitMailer) sendAttempts() int {
	um.mu.Lock()
	defer um.mu.Unlock()
	return um.attempts
}

// waitMails waits until n mails were sent and returns them.
func (um *unitMailer) waitMails(n int) []receivedMail {
	um.t.Helper()
	waitFor(um.t, fmt.Sprintf("%d mail(s) sent", n), 10*time.Second, func() bool { return len(um.mails()) >= n })
	return um.mails()
}

// do runs f in the mailer goroutine once it has taken everything submitted
// before and no send is in progress: its state is then safe to read.
func (um *unitMailer) do(f func()) {
	um.t.Helper()
	waitFor(um.t, "the mailer to be idle", 10*time.Second, func() bool {
		idle := false
		um.inspect(func() {
			if um.inFlight() == 0 {
				f()
				idle = true
			}
		})
		return idle
	})
}

// inspect runs f in the mailer goroutine, after everything submitted before.
func (um *unitMailer) inspect(f func()) {
	barrier := make(chan struct{})
	um.queue <- &notification{barrier: barrier, inspect: f}
	<-barrier
}

// mailerSync returns once the mailer has taken everything submitted before.
func mailerSync(m *Mailer) {
	barrier := make(chan struct{})
	m.queue <- &notification{barrier: barrier}
	<-barrier
}

func (um *unitMailer) submitNow(key, subject, body string) {
	um.t.Helper()
	if !um.submit(&notification{key: key, target: NotifyTarget{When: "now"}, subject: subject, body: body, at: um.clock.Now()}) {
		um.t.Fatal("submit refused")
	}
}

func (um *unitMailer) submitDaily(key, subject, body string, to ...string) {
	um.t.Helper()
	if !um.submit(&notification{key: key, target: NotifyTarget{When: "daily", To: to}, subject: subject, body: body, at: um.clock.Now()}) {
		um.t.Fatal("submit refused")
	}
}

func TestMailerSendsNow(t *testing.T) {
	t.Parallel()
	um := newUnitMailer(t, testNotifyConfig())
	um.submit(&notification{target: NotifyTarget{When: "now"}, subject: "web FATAL", body: "web went from STARTING to FATAL\n",
		tail: func() string { return "The last 20 lines of its output:\n    boom\n" }})
	m := um.waitMails(1)[0]
	host, _ := os.Hostname()
	if want := "shop / " + host + " / web FATAL (by Ramona)"; m.subject != want {
		t.Errorf("subject %q, want %q", m.subject, want)
	}
	if m.from != "ramona@example.com" || strings.Join(m.to, ",") != "ops@example.com" || m.header.Get("To") != "ops@example.com" || m.header.Get("From") != "ramona@example.com" {
		t.Errorf("from %q to %q, headers %v", m.from, m.to, m.header)
	}
	for _, want := range []string{"web went from STARTING to FATAL\n", "    boom\n", "Ramona on " + host} {
		if !strings.Contains(m.body, want) {
			t.Errorf("body lacks %q:\n%s", want, m.body)
		}
	}
	waitFor(t, "the log line", 5*time.Second, func() bool {
		return strings.Contains(um.log.String(), `mail: sent "web FATAL" to ops@example.com`)
	})
}

func TestMailerFloodLimit(t *testing.T) {
	t.Parallel()
	um := newUnitMailer(t, testNotifyConfig())
	for i := 1; i <= 5; i++ {
		um.submitNow("rule-a", "web: error", fmt.Sprintf("hit %d\n", i))
	}
	um.submitNow("rule-b", "db: fatal", "other rule\n")
	um.waitMails(2)
	um.do(func() {})
	if got := um.mails(); len(got) != 2 || !strings.Contains(got[0].body, "hit 1") || !strings.Contains(got[1].body, "other rule") {
		t.Fatalf("within a minute: %d mails, want the first hit of each rule", len(got))
	}
	um.clock.Advance(floodInterval)
	got := um.waitMails(3)[2]
	if !strings.Contains(got.subject, "web: error (+4 more)") || !strings.Contains(got.body, "4 more like this since") || !strings.Contains(got.body, "hit 5") {
		t.Errorf("the summary: subject %q body %q", got.subject, got.body)
	}
	// The summary opened a new window: a hit now is held back again ...
	um.submitNow("rule-a", "web: error", "hit 6\n")
	um.do(func() {})
	if n := len(um.mails()); n != 3 {
		t.Errorf("a hit right after the summary was mailed at once (%d mails)", n)
	}
	// ... and after a quiet interval the next hit goes out at once.
	um.clock.Advance(floodInterval)
	um.waitMails(4)
	um.clock.Advance(floodInterval)
	um.do(func() {})
	um.submitNow("rule-a", "web: error", "hit 7\n")
	if got := um.waitMails(5)[4]; !strings.Contains(got.body, "hit 7") || strings.Contains(got.subject, "more") {
		t.Errorf("after a quiet minute: %q %q", got.subject, got.body)
	}
	// Notifications without a rule (ramona notify) are never held back.
	for i := 0; i < 3; i++ {
		um.submitNow("", "note", "text\n")
	}
	um.waitMails(8)
}

func TestMailerDailyDigest(t *testing.T) {
	t.Parallel()
	um := newUnitMailer(t, testNotifyConfig())
	um.submitDaily("", "first", "one\n")
	um.clock.Advance(time.Minute)
	um.submitDaily("", "for the boss", "b\n", "boss@example.com")
	um.clock.Advance(time.Minute)
	um.submitDaily("", "second", "two\n")
	// A rule's hits within the flood interval make one item with a count.
	for i := 0; i < 3; i++ {
		um.submitDaily("rule", "web: error", "context\n")
	}
	um.do(func() {})
	if len(um.mails()) != 0 {
		t.Fatal("daily notifications were mailed before dailyat")
	}
	um.clock.Advance(time.Hour) // past 09:00
	got := um.waitMails(2)
	sort.Slice(got, func(i, j int) bool { return got[i].to[0] < got[j].to[0] })
	boss, ops := got[0], got[1]
	if strings.Join(boss.to, ",") != "boss@example.com" || !strings.Contains(boss.body, "for the boss") || strings.Contains(boss.body, "first") {
		t.Errorf("boss's digest: to %v\n%s", boss.to, boss.body)
	}
	first, second, third := strings.Index(ops.body, "first"), strings.Index(ops.body, "second"), strings.Index(ops.body, "web: error (3 times)")
	if first < 0 || second < first || third < second {
		t.Errorf("ops's digest is not oldest first with one counted item:\n%s", ops.body)
	}
	if !strings.Contains(ops.subject, "daily digest, 5 notification(s)") {
		t.Errorf("ops's digest subject %q", ops.subject)
	}
	um.do(func() {
		if len(um.digest) != 0 {
			t.Errorf("digest after sending: %v", um.digest)
		}
	})
	// Nothing is left: a flush sends nothing.
	um.submit(&notification{flush: true})
	um.do(func() {})
	if n := len(um.mails()); n != 2 {
		t.Errorf("an empty digest was mailed (%d mails)", n)
	}
}

func TestMailerRetriesAndKeepsDigestUntilAccepted(t *testing.T) {
	t.Parallel()
	um := newUnitMailer(t, testNotifyConfig())
	um.setFail(errors.New("dial tcp 192.0.2.1:25: connect: connection refused"))
	um.submitDaily("", "before", "1\n")
	um.submit(&notification{flush: true})
	waitFor(t, "the failure in the log", 10*time.Second, func() bool {
		return strings.Contains(um.log.String(), `mail: sending "daily digest, 1 notification(s)" to ops@example.com failed (attempt 1): dial tcp 192.0.2.1:25: connect: connection refused; retrying in 10s`)
	})
	um.submitDaily("", "during", "2\n")
	um.submitNow("", "urgent", "now\n")
	um.do(func() {
		if box := um.digest["ops@example.com"]; box == nil || len(box.Items) != 2 || !box.Due {
			t.Errorf("the digest after a failed send: %+v", box)
		}
	})
	um.clock.Advance(mailRetryFirst) // the digest fails again: the next wait is twice as long
	waitFor(t, "the second failure", 10*time.Second, func() bool { return strings.Contains(um.log.String(), "retrying in 20s") })
	um.setFail(nil)
	um.clock.Advance(2 * mailRetryFirst)
	got := um.waitMails(2)
	var digest receivedMail
	for _, m := range got {
		if strings.Contains(m.subject, "daily digest") {
			digest = m
		}
	}
	if !strings.Contains(digest.body, "before") || !strings.Contains(digest.body, "during") || strings.Index(digest.body, "before") > strings.Index(digest.body, "during") {
		t.Errorf("the digest sent after the failures:\n%s", digest.body)
	}
	um.do(func() {
		if len(um.digest) != 0 || len(um.outbox) != 0 {
			t.Errorf("left after sending: digest %v outbox %v", um.digest, um.outbox)
		}
	})
}

func TestMailerRejectedMailIsNotRetried(t *testing.T) {
	t.Parallel()
	um := newUnitMailer(t, testNotifyConfig())
	um.setFail(&rejectedError{err: &textproto.Error{Code: 550, Msg: "RCPT TO: no such user"}})
	um.submitNow("", "hello", "x\n")
	waitFor(t, "the refusal in the log", 10*time.Second, func() bool {
		return strings.Contains(um.log.String(), `failed: 550 "RCPT TO: no such user"; refused for good, not retried`)
	})
	um.clock.Advance(mailRetryMax)
	um.do(func() {})
	if n := um.sendAttempts(); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
}

func TestMailerStashSurvivesRestart(t *testing.T) {
	t.Parallel()
	cfg := testNotifyConfig()
	cfg.Notify.StashDir = filepath.Join(t.TempDir(), "stash")
	um := newUnitMailer(t, cfg)
	um.submitDaily("", "kept one", "1\n")
	um.submitDaily("", "kept two", "2\n")
	um.do(func() {})
	var sf stashFile
	data, err := os.ReadFile(filepath.Join(cfg.Notify.StashDir, "shop-mail.json"))
	if err == nil {
		err = json.Unmarshal(data, &sf)
	}
	if err != nil || len(sf.Digest["ops@example.com"].Items) != 2 {
		t.Fatalf("stash: %v\n%s", err, data)
	}
	// The server cannot take mail when the digest is due, and the server
	// exits; an urgent mail is pending too.
	um.setFail(errors.New("connection refused"))
	um.submit(&notification{flush: true})
	um.submitNow("", "urgent", "u\n")
	waitFor(t, "two failures", 10*time.Second, func() bool { return um.sendAttempts() >= 1 })
	um.close()
	if entries, _ := os.ReadDir(cfg.Notify.StashDir); len(entries) != 1 {
		t.Errorf("stashdir holds %d files, want only the stash (no temporary files)", len(entries))
	}
	if !strings.Contains(um.log.String(), "1 message(s) not sent yet, kept in") {
		t.Errorf("the log does not report the stashed mail:\n%s", um.log)
	}
	// The next server sends the due digest and the stashed mail at once.
	um2 := newUnitMailer(t, cfg)
	got := um2.waitMails(2)
	subjects := got[0].subject + "|" + got[1].subject
	if !strings.Contains(subjects, "daily digest, 2 notification(s)") || !strings.Contains(subjects, "urgent") {
		t.Errorf("after the restart: %s", subjects)
	}
	um2.do(func() {})
	data, _ = os.ReadFile(filepath.Join(cfg.Notify.StashDir, "shop-mail.json"))
	if strings.Contains(string(data), "kept one") {
		t.Errorf("the stash still holds the sent digest:\n%s", data)
	}
}

func TestMailerCorruptStash(t *testing.T) {
	t.Parallel()
	cfg := testNotifyConfig()
	cfg.Notify.StashDir = t.TempDir()
	os.WriteFile(filepath.Join(cfg.Notify.StashDir, "shop-mail.json"), []byte("{not json"), 0o600)
	um := newUnitMailer(t, cfg)
	um.do(func() {})
	if !strings.Contains(um.log.String(), "cannot read the stash") {
		t.Errorf("no complaint about the broken stash:\n%s", um.log)
	}
	if _, err := os.Stat(filepath.Join(cfg.Notify.StashDir, "shop-mail.json.bad")); err != nil {
		t.Errorf("the broken stash was not kept aside: %v", err)
	}
}

func TestMailerQueueNeverBlocks(t *testing.T) {
	t.Parallel()
	log := &syncBuffer{}
	m := newMailer(testNotifyConfig(), &serverLog{w: log, level: LevelInfo})
	m.send = func(*SMTPDelivery, string, []string, []byte) error { return nil }
	start := time.Now()
	refused := 0
	for i := 0; i < mailQueueSize+10; i++ {
		if !m.submit(&notification{target: NotifyTarget{When: "daily"}, subject: "x"}) {
			refused++
		}
	}
	if refused != 10 {
		t.Errorf("%d submissions refused, want 10", refused)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("submitting to a full queue took %s", d)
	}
	m.start()
	defer m.close()
	waitFor(t, "the drops in the log", 10*time.Second, func() bool {
		return strings.Contains(log.String(), "notify: 10 notification(s) dropped: the notification queue was full")
	})
	m.close()
	if m.submit(&notification{target: NotifyTarget{When: "now"}}) {
		t.Error("a closed mailer took a notification")
	}
	var nilMailer *Mailer
	if nilMailer.submit(&notification{}) {
		t.Error("a nil mailer took a notification")
	}
	nilMailer.close()
}

func TestMailerCloseDoesNotWaitForAHungServer(t *testing.T) {
	t.Parallel()
	um := newUnitMailer(t, testNotifyConfig())
	release := make(chan struct{})
	defer close(release)
	um.inspect(func() {
		um.send = func(*SMTPDelivery, string, []string, []byte) error { <-release; return nil }
		um.closeGrace = 100 * time.Millisecond
	})
	um.submitNow("", "stuck", "x\n")
	um.inspect(func() {})
	start := time.Now()
	um.close()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("close took %s", d)
	}
	if !strings.Contains(um.log.String(), "did not answer within 100ms of exiting") || !strings.Contains(um.log.String(), `could not be sent before exiting and are lost (set stashdir to keep them): "stuck"`) {
		t.Errorf("log:\n%s", um.log)
	}
}

func TestMailerNeverShowsThePassword(t *testing.T) {
	t.Parallel()
	const pw = "pa55-Secret!"
	cfg := testNotifyConfig()
	cfg.Notify.Delivery.User, cfg.Notify.Delivery.Password = "mailer", pw
	um := newUnitMailer(t, cfg)
	plain := base64.StdEncoding.EncodeToString([]byte("\x00mailer\x00" + pw))
	um.setFail(fmt.Errorf("535 bad credentials %s %s (%s)", pw, plain, base64.StdEncoding.EncodeToString([]byte(pw))))
	um.submitNow("", "x", "the body mentions "+pw+"\n")
	waitFor(t, "the failure", 10*time.Second, func() bool { return strings.Contains(um.log.String(), "535 bad credentials") })
	um.setFail(nil)
	um.clock.Advance(mailRetryFirst)
	m := um.waitMails(1)[0]
	for _, where := range []string{um.log.String(), m.body, fmt.Sprintf("%v %+v %#v", cfg.Notify, cfg.Notify, cfg.Notify.Delivery)} {
		if strings.Contains(where, pw) || strings.Contains(where, plain) {
			t.Errorf("the password shows in:\n%s", where)
		}
	}
}

func TestMailerReconfigure(t *testing.T) {
	t.Parallel()
	um := newUnitMailer(t, testNotifyConfig())
	c := testNotifyConfig().Notify
	c.Receivers, c.DailyAt = []string{"new@example.com"}, 8*time.Hour+30*time.Minute
	um.reconfigure(c)
	um.submitNow("", "after reload", "x\n")
	um.submitDaily("", "daily after reload", "y\n")
	if got := um.waitMails(1)[0]; strings.Join(got.to, ",") != "new@example.com" {
		t.Errorf("after a reload the mail went to %v", got.to)
	}
	um.do(func() {})
	um.clock.Advance(30 * time.Minute) // the new dailyat, 08:30
	if got := um.waitMails(2)[1]; !strings.Contains(got.subject, "daily digest") {
		t.Errorf("no digest at the new dailyat: %q", got.subject)
	}
	if !strings.Contains(um.log.String(), "notify: settings reloaded") {
		t.Errorf("log:\n%s", um.log)
	}
}

func TestNextDailyTime(t *testing.T) {
	t.Parallel()
	loc := time.Local
	for _, c := range []struct{ now, want time.Time }{
		{time.Date(2026, 11, 25, 8, 0, 0, 0, loc), time.Date(2026, 11, 25, 9, 30, 0, 0, loc)},
		{time.Date(2026, 11, 25, 9, 30, 0, 0, loc), time.Date(2026, 11, 26, 9, 30, 0, 0, loc)},
		{time.Date(2026, 12, 31, 23, 0, 0, 0, loc), time.Date(2027, 1, 1, 9, 30, 0, 0, loc)},
	} {
		if got := nextDailyTime(c.now, 9*time.Hour+30*time.Minute); !got.Equal(c.want) {
			t.Errorf("after %s: %s, want %s", c.now, got, c.want)
		}
	}
}

// ---- a real SMTP server ----

// smtpServer is an aiosmtpd process storing mails in a Maildir.
type smtpServer struct {
	*peerProcess
	port int
	dir  string
}

func needAiosmtpd(t *testing.T) {
	t.Helper()
	skipInShort(t, "a real SMTP server (Python's aiosmtpd)")
	needPeerCheck(t, "aiosmtpd (/usr/bin/python3 -c 'import aiosmtpd')", "python3-aiosmtpd", func() error {
		return exec.Command("/usr/bin/python3", "-c", "import aiosmtpd").Run()
	})
}

// startAiosmtpd runs `python3 -m aiosmtpd` with the Mailbox handler on port
// (extra: --tlscert/--tlskey, --smtpscert/--smtpskey) until the test ends.
func startAiosmtpd(t *testing.T, port int, extra ...string) *smtpServer {
	t.Helper()
	needAiosmtpd(t)
	dir := filepath.Join(t.TempDir(), "mailbox")
	args := append([]string{"-m", "aiosmtpd", "-n", "-l", fmt.Sprintf("127.0.0.1:%d", port), "-c", "aiosmtpd.handlers.Mailbox"}, extra...)
	s := &smtpServer{startPeerProcess(t, fmt.Sprintf("SMTP server on port %d", port), exec.Command("/usr/bin/python3", append(args, dir)...)), port, dir}
	waitFor(t, "aiosmtpd to listen", 20*time.Second, func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return s
}

// startAuthSMTP runs testdata/smtp_auth_server.py (aiosmtpd with AUTH).
func startAuthSMTP(t *testing.T, port int, user, password string, extra ...string) *smtpServer {
	t.Helper()
	needAiosmtpd(t)
	dir := filepath.Join(t.TempDir(), "mailbox")
	args := append([]string{"testdata/smtp_auth_server.py", "--port", strconv.Itoa(port), "--dir", dir,
		"--user", user, "--password", password, "--log", dir + ".auth"}, extra...)
	s := &smtpServer{startPeerProcess(t, fmt.Sprintf("SMTP server on port %d", port), exec.Command("/usr/bin/python3", args...)), port, dir}
	waitFor(t, "the AUTH server to be ready", 20*time.Second, func() bool { return strings.Contains(s.out.String(), "ready") })
	return s
}

// peerProcess is a real server a test talks to (aiosmtpd, Python's
// http.server), in its own process group, killed with the test process.
type peerProcess struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	done chan struct{}
	out  *syncBuffer // its stdout and stderr
}

// startPeerProcess starts cmd; t.Cleanup stops it.
func startPeerProcess(t *testing.T, name string, cmd *exec.Cmd) *peerProcess {
	t.Helper()
	p := &peerProcess{t: t, name: name, cmd: cmd, done: make(chan struct{}), out: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	cmd.SysProcAttr = peerSysProcAttr()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", cmd.Args, err)
	}
	go func() { // ends when the server exits
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(p.stop)
	return p
}

// stop ends the server and every process of its group.
func (p *peerProcess) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	pid := p.cmd.Process.Pid
	syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		syscall.Kill(-pid, syscall.SIGKILL)
		<-p.done
	}
	if p.t.Failed() {
		p.t.Logf("%s said:\n%s", p.name, p.out)
	}
}

func (s *smtpServer) mails() []receivedMail {
	entries, _ := os.ReadDir(filepath.Join(s.dir, "new"))
	type file struct {
		at   time.Time
		data []byte
	}
	var files []file
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(s.dir, "new", e.Name()))
		info, ierr := e.Info()
		if err != nil || ierr != nil {
			continue
		}
		files = append(files, file{info.ModTime(), data})
	}
	sort.SliceStable(files, func(i, j int) bool { return files[i].at.Before(files[j].at) })
	var list []receivedMail
	for _, f := range files {
		m := parseMail(s.t, f.data)
		m.to = strings.Split(m.header.Get("X-RcptTo"), ",")
		list = append(list, m)
	}
	return list
}

func (s *smtpServer) waitMails(n int) []receivedMail {
	s.t.Helper()
	var list []receivedMail
	waitFor(s.t, fmt.Sprintf("%d mail(s) at the SMTP server", n), 20*time.Second, func() bool {
		list = s.mails()
		return len(list) >= n
	})
	return list
}

func (s *smtpServer) authLog() string {
	data, _ := os.ReadFile(s.dir + ".auth")
	return string(data)
}

// testCertificate writes a CA-signed server certificate for 127.0.0.1,
// localhost and mail.example.com; the pool trusts the CA, whose certificate
// is also in ca.pem beside certFile (for SSL_CERT_FILE).
func testCertificate(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Ramona test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "mail.example.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost", "mail.example.com"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	os.WriteFile(filepath.Join(dir, "ca.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644) // for SSL_CERT_FILE
	pool = x509.NewCertPool()
	pool.AddCert(ca)
	return certFile, keyFile, pool
}

// newSMTPMailer runs a mailer with the real SMTP client against delivery.
func newSMTPMailer(t *testing.T, delivery string, pool *x509.CertPool, setup ...func(*Mailer)) (*Mailer, *fakeClock, *syncBuffer) {
	t.Helper()
	cfg := testNotifyConfig()
	d, err := parseDelivery(delivery)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Notify.Delivery = d
	log := &syncBuffer{}
	m := newMailer(cfg, &serverLog{w: log, level: LevelDebug})
	clock := &fakeClock{now: time.Date(2026, 11, 25, 8, 0, 0, 0, time.Local)}
	m.clock, m.rootCAs, m.sendTimeout = clock, pool, 20*time.Second
	for _, f := range setup {
		f(m)
	}
	m.start()
	t.Cleanup(func() {
		m.close()
		if t.Failed() {
			t.Logf("mailer log:\n%s", log)
		}
	})
	return m, clock, log
}

func submitNow(t *testing.T, m *Mailer, subject, body string) {
	t.Helper()
	if !m.submit(&notification{target: NotifyTarget{When: "now"}, subject: subject, body: body, at: time.Now()}) {
		t.Fatal("submit refused")
	}
}

func TestSMTPPlain(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	srv := startAiosmtpd(t, port)
	m, _, log := newSMTPMailer(t, fmt.Sprintf("smtp://127.0.0.1:%d", port), nil)
	body := "line one\n.\nline with a dot above, and a long one: " + strings.Repeat("x", 300) + "\nnon-ASCII: grüße\n"
	submitNow(t, m, "plain über", body)
	got := srv.waitMails(1)[0]
	if !strings.HasSuffix(got.subject, "/ plain über (by Ramona)") || !strings.HasPrefix(got.body, body) {
		t.Errorf("subject %q\nbody %q", got.subject, got.body)
	}
	if got.header.Get("X-MailFrom") != "ramona@example.com" || got.header.Get("X-RcptTo") != "ops@example.com" {
		t.Errorf("envelope: %v", got.header)
	}
	waitFor(t, "the log line", 10*time.Second, func() bool { return strings.Contains(log.String(), `mail: sent "plain über" to ops@example.com`) })
}

func TestSMTPStartTLS(t *testing.T) {
	t.Parallel()
	cert, key, pool := testCertificate(t)
	port := freePort(t)
	// aiosmtpd with a certificate requires STARTTLS before MAIL.
	srv := startAiosmtpd(t, port, "--tlscert", cert, "--tlskey", key)
	m, _, _ := newSMTPMailer(t, fmt.Sprintf("smtp://127.0.0.1:%d", port), pool)
	submitNow(t, m, "over starttls", "secret stuff\n")
	if got := srv.waitMails(1)[0]; !strings.Contains(got.body, "secret stuff") {
		t.Errorf("body %q", got.body)
	}
	// A certificate the client does not trust: no mail, the reason logged.
	m2, _, log2 := newSMTPMailer(t, fmt.Sprintf("smtp://127.0.0.1:%d", port), nil)
	submitNow(t, m2, "untrusted", "x\n")
	waitFor(t, "the certificate failure", 20*time.Second, func() bool {
		return strings.Contains(log2.String(), `mail: sending "untrusted" to ops@example.com failed (attempt 1): STARTTLS with 127.0.0.1`) &&
			strings.Contains(log2.String(), "certificate")
	})
	// tls=none does not use STARTTLS: this server then refuses the mail.
	m3, _, log3 := newSMTPMailer(t, fmt.Sprintf("smtp://127.0.0.1:%d?tls=none", port), pool)
	submitNow(t, m3, "no tls", "x\n")
	waitFor(t, "the refusal", 20*time.Second, func() bool { return strings.Contains(log3.String(), `sending "no tls" to ops@example.com failed`) })
	if n := len(srv.mails()); n != 1 {
		t.Errorf("%d mails at the server, want 1", n)
	}
}

func TestSMTPS(t *testing.T) {
	t.Parallel()
	cert, key, pool := testCertificate(t)
	port := freePort(t)
	srv := startAiosmtpd(t, port, "--smtpscert", cert, "--smtpskey", key)
	m, _, _ := newSMTPMailer(t, fmt.Sprintf("smtps://127.0.0.1:%d", port), pool)
	submitNow(t, m, "over smtps", "implicit tls\n")
	if got := srv.waitMails(1)[0]; !strings.Contains(got.body, "implicit tls") {
		t.Errorf("body %q", got.body)
	}
}

func TestSMTPAuth(t *testing.T) {
	t.Parallel()
	const user, pw = "mailer", "pa55:w@rd?"
	escaped := "pa55%3Aw%40rd%3F"
	t.Run("PLAIN to loopback without TLS", func(t *testing.T) {
		port := freePort(t)
		srv := startAuthSMTP(t, port, user, pw)
		m, _, log := newSMTPMailer(t, fmt.Sprintf("smtp://%s:%s@127.0.0.1:%d", user, escaped, port), nil)
		submitNow(t, m, "with auth", "x\n")
		srv.waitMails(1)
		if got := srv.authLog(); got != "PLAIN ok plain\n" {
			t.Errorf("authentications: %q", got)
		}
		if strings.Contains(log.String(), pw) {
			t.Errorf("the password is in the log:\n%s", log)
		}
	})
	t.Run("LOGIN over STARTTLS", func(t *testing.T) {
		cert, key, pool := testCertificate(t)
		port := freePort(t)
		srv := startAuthSMTP(t, port, user, pw, "--tlscert", cert, "--tlskey", key, "--only", "LOGIN")
		m, _, _ := newSMTPMailer(t, fmt.Sprintf("smtp://%s:%s@localhost:%d", user, escaped, port), pool)
		submitNow(t, m, "with login", "x\n")
		srv.waitMails(1)
		if got := srv.authLog(); got != "LOGIN ok tls\n" {
			t.Errorf("authentications: %q", got)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		port := freePort(t)
		srv := startAuthSMTP(t, port, user, pw)
		m, clock, log := newSMTPMailer(t, fmt.Sprintf("smtp://%s:wrong-Passw0rd@127.0.0.1:%d", user, port), nil)
		submitNow(t, m, "bad auth", "x\n")
		waitFor(t, "the failure", 20*time.Second, func() bool {
			return strings.Contains(log.String(), `mail: sending "bad auth" to ops@example.com failed (attempt 1): AUTH PLAIN as mailer: 535`)
		})
		clock.Advance(mailRetryFirst) // retried: the operator may fix the password
		waitFor(t, "the retry", 20*time.Second, func() bool { return strings.Contains(log.String(), "(attempt 2)") })
		if strings.Contains(log.String(), "wrong-Passw0rd") || len(srv.mails()) != 0 {
			t.Errorf("password in the log, or a mail went through:\n%s", log)
		}
	})
	t.Run("no password over an unencrypted connection to another host", func(t *testing.T) {
		port := freePort(t)
		srv := startAuthSMTP(t, port, user, pw)
		redirect := func(m *Mailer) { m.dialAddr = func(string, int) string { return fmt.Sprintf("127.0.0.1:%d", port) } }
		for _, tls := range []string{"", "?tls=none"} {
			m, _, log := newSMTPMailer(t, fmt.Sprintf("smtp://%s:%s@mail.example.com:25%s", user, escaped, tls), nil, redirect)
			submitNow(t, m, "refused", "x\n")
			want := "mail.example.com offers no STARTTLS: not sending the password for mailer over an unencrypted connection"
			if tls != "" {
				want = "delivery has tls=none: not sending the password for mailer unencrypted to mail.example.com"
			}
			waitFor(t, "the refusal", 20*time.Second, func() bool { return strings.Contains(log.String(), want) })
			m.close()
		}
		if got := srv.authLog(); got != "" || len(srv.mails()) != 0 {
			t.Errorf("the server saw authentications %q or mail", got)
		}
	})
	t.Run("PLAIN over STARTTLS to another host", func(t *testing.T) {
		cert, key, pool := testCertificate(t)
		port := freePort(t)
		srv := startAuthSMTP(t, port, user, pw, "--tlscert", cert, "--tlskey", key)
		m, _, _ := newSMTPMailer(t, fmt.Sprintf("smtp://%s:%s@mail.example.com:25", user, escaped), pool,
			func(m *Mailer) { m.dialAddr = func(string, int) string { return fmt.Sprintf("127.0.0.1:%d", port) } })
		submitNow(t, m, "over tls", "x\n")
		srv.waitMails(1)
		if got := srv.authLog(); got != "PLAIN ok tls\n" {
			t.Errorf("authentications: %q", got)
		}
	})
}

func TestSMTPFloodLimit(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	srv := startAiosmtpd(t, port)
	m, clock, _ := newSMTPMailer(t, fmt.Sprintf("smtp://127.0.0.1:%d", port), nil)
	for i := 1; i <= 5; i++ {
		m.submit(&notification{key: "logscan\x00web\x00error", target: NotifyTarget{When: "now"}, subject: `web: "error" in its stderr`,
			body: fmt.Sprintf("hit %d\n", i), at: time.Now()})
	}
	first := srv.waitMails(1)[0]
	mailerSync(m)
	clock.Advance(floodInterval)
	got := srv.waitMails(2)
	if len(got) != 2 || !strings.Contains(first.body, "hit 1") || !strings.Contains(got[1].subject, `web: "error" in its stderr (+4 more)`) || !strings.Contains(got[1].body, "hit 5") {
		t.Errorf("%d mails; the summary: %q\n%s", len(got), got[1].subject, got[1].body)
	}
}

func TestSMTPDeadServerThenRecovery(t *testing.T) {
	t.Parallel()
	port := freePort(t) // nothing listens there yet
	stash := filepath.Join(t.TempDir(), "stash")
	cfg := testNotifyConfig()
	d, _ := parseDelivery(fmt.Sprintf("smtp://127.0.0.1:%d", port))
	cfg.Notify.Delivery, cfg.Notify.StashDir = d, stash
	newMailerAt := func() (*Mailer, *fakeClock, *syncBuffer) {
		log := &syncBuffer{}
		m := newMailer(cfg, &serverLog{w: log, level: LevelDebug})
		clock := &fakeClock{now: time.Date(2026, 11, 25, 8, 0, 0, 0, time.Local)}
		m.clock = clock
		m.start()
		t.Cleanup(func() {
			m.close()
			if t.Failed() {
				t.Logf("mailer log:\n%s", log)
			}
		})
		return m, clock, log
	}
	m, clock, log := newMailerAt()
	m.submit(&notification{target: NotifyTarget{When: "daily"}, subject: "disk almost full", body: "95%\n", at: time.Now()})
	mailerSync(m)
	clock.Advance(time.Hour) // 09:00: the digest is due, and the server is dead
	waitFor(t, "the failed send", 20*time.Second, func() bool {
		return strings.Contains(log.String(), "connection refused; retrying in 10s")
	})
	// The server restarts (the digest comes from the stash), the mail server
	// is still dead; the digest waits.
	m.close()
	_, clock, log = newMailerAt()
	waitFor(t, "the failed send after the restart", 20*time.Second, func() bool {
		return strings.Contains(log.String(), "read 1 digest item(s)") && strings.Contains(log.String(), "connection refused; retrying in 10s")
	})
	srv := startAiosmtpd(t, port)
	clock.Advance(mailRetryFirst)
	got := srv.waitMails(1)[0]
	if !strings.Contains(got.subject, "daily digest, 1 notification(s)") || !strings.Contains(got.body, "disk almost full") || !strings.Contains(got.body, "95%") {
		t.Errorf("the digest: %q\n%s", got.subject, got.body)
	}
	waitFor(t, "the stash to be emptied", 10*time.Second, func() bool {
		data, _ := os.ReadFile(filepath.Join(stash, "shop-mail.json"))
		return !strings.Contains(string(data), "disk almost full")
	})
}

// ---- end to end: a Ramona server mails through aiosmtpd ----

func TestMailEndToEnd(t *testing.T) {
	t.Parallel()
	needShell(t) // [program:scan] is a sh -c script
	port := freePort(t)
	srv := startAiosmtpd(t, port)
	r := newTestRamona(t, fmt.Sprintf(`
[ramona:notify]
delivery=smtp://127.0.0.1:%d?tls=none
receiver=ops@example.com
sender=ramona@example.com
logscan=<none>

[program:crash]
command=%s
starttimeout=5

[program:scan]
command=/bin/sh -c "echo starting up; printf 'then an err'; sleep 0.2; echo 'or happened'; echo after; exec sleep 3600"
logscan_stderr=ERROR>now
`, port, helperCommand(t, "exit", "3")))
	r.start()
	r.waitState("crash", "FATAL", 20*time.Second)
	host, _ := os.Hostname()
	var fatal, scan, seq receivedMail
	waitFor(t, "the FATAL, log scan and start sequence mails", 20*time.Second, func() bool {
		for _, m := range srv.mails() {
			switch {
			case strings.Contains(m.subject, "crash FATAL"):
				fatal = m
			case strings.Contains(m.subject, "scan"):
				scan = m
			case strings.Contains(m.subject, "server start"):
				seq = m
			}
		}
		return fatal.subject != "" && scan.subject != "" && seq.subject != ""
	})
	if !strings.Contains(seq.subject, "server start: 1 program(s) failed") || !strings.Contains(seq.body, `The sequence "server start", requested by the server itself`) ||
		!strings.Contains(seq.body, "crash: FATAL") {
		t.Errorf("the sequence mail: %q\n%s", seq.subject, seq.body)
	}
	if want := "ramona / " + host + " / crash FATAL (by Ramona)"; fatal.subject != want {
		t.Errorf("FATAL subject %q, want %q", fatal.subject, want)
	}
	for _, want := range []string{"crash went from STARTING to FATAL", "Exit status: exit status 3 after", "Restarts:    0 (launches: 1)",
		"The last 20 lines of its output:", "exit: 3", "crash EXITED on"} {
		if !strings.Contains(fatal.body, want) {
			t.Errorf("the FATAL mail lacks %q:\n%s", want, fatal.body)
		}
	}
	if !strings.Contains(scan.subject, `scan: "error" in its output`) || !strings.Contains(scan.body, "starting up\n") || !strings.Contains(scan.body, "then an error happened") {
		t.Errorf("the log scan mail: %q\n%s", scan.subject, scan.body)
	}
	before := len(srv.mails())

	if code, _, stderr := r.cli("notify", "-s", "Deploy done", "version", "1.2", "is", "live"); code != 0 {
		t.Fatalf("notify: exit %d: %s", code, stderr)
	}
	note := srv.waitMails(before + 1)[before]
	if !strings.HasSuffix(note.subject, "/ Deploy done (by Ramona)") || !strings.HasPrefix(note.body, "version 1.2 is live\n") {
		t.Errorf("notify: %q\n%s", note.subject, note.body)
	}
	// -t daily keeps it for the digest; an empty text sends the digest now.
	if code, _, _ := r.cli("notify", "-t", "daily", "-s", "for later", "kept for the digest"); code != 0 {
		t.Fatalf("notify -t daily: exit %d", code)
	}
	if code, _, _ := r.cli("notify", ""); code != 0 {
		t.Fatalf("notify '': exit %d", code)
	}
	digest := srv.waitMails(before + 2)[before+1]
	if !strings.Contains(digest.subject, "daily digest, 1 notification(s)") || !strings.Contains(digest.body, "kept for the digest") {
		t.Errorf("the digest: %q\n%s", digest.subject, digest.body)
	}
	if code, _, stderr := r.cli("notify", "-t", "weekly", "x"); code != exitUsage || !strings.Contains(stderr, "notify -t weekly") {
		t.Errorf("notify -t weekly: exit %d, %q", code, stderr)
	}
	r.stopAll()
	log := r.serverLog()
	for _, want := range []string{`mail: sent "crash FATAL" to ops@example.com`, `mail: sent "Deploy done" to ops@example.com`, `server: notification "Deploy done" (now) requested by unix`} {
		if !strings.Contains(log, want) {
			t.Errorf("the server log lacks %q", want)
		}
	}
}

func TestNotifyWithoutDelivery(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf("[program:crash]\ncommand=%s\nstarttimeout=5\n", helperCommand(t, "exit", "3")))
	r.start()
	r.waitState("crash", "FATAL", 20*time.Second)
	code, _, stderr := r.cli("notify", "hello")
	if code != exitFailed || !strings.Contains(stderr, "no mail delivery is configured and no webhook would take this") {
		t.Errorf("notify without delivery: exit %d, %q", code, stderr)
	}
	r.stopAll()
	if log := r.serverLog(); !strings.Contains(log, "notification (now; neither mail delivery nor a webhook is configured for it): crash FATAL") {
		t.Errorf("the FATAL notification is not in the server log:\n%s", log)
	}
}
