// The Mailer owns mail to the operator ([ramona:notify]): a bounded queue
// any goroutine submits to without blocking, and one goroutine (run) that
// composes mails (log tails are read there, never on the loop), limits
// floods per rule, keeps the daily digest (stashed atomically in stashdir)
// and retries failed sends with backoff; each send runs in a goroutine of
// its own over SMTP (smtp.go). What gets notified: notifications.go.
package main

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/textproto"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	mailQueueSize    = 256              // notifications waiting for the mailer goroutine
	mailOutboxMax    = 200              // mails waiting to be sent; beyond it the oldest is dropped
	digestMaxItems   = 1000             // items kept per recipient's digest; more are only counted
	mailTailLines    = 20               // lines of a program's output in FATAL and watchdog mails
	mailTailMax      = 16 << 10         // bytes of that output at most
	floodInterval    = time.Minute      // per rule, at most one mail (or digest item) per interval
	mailRetryFirst   = 10 * time.Second // the first retry after a failed send; then doubling
	mailRetryMax     = 10 * time.Minute
	mailSendTimeout  = 2 * time.Minute // one whole SMTP conversation
	mailCloseGrace   = 5 * time.Second // at exit, how long pending mails may still take
	stashSaveDelay   = time.Second     // counter updates of digest items are written this late
	mailSubjectLimit = 200
)

// notification is one thing to tell the operator.
type notification struct {
	key     string       // flood-limit key (the rule); "" is never limited
	target  NotifyTarget // now or daily; To empty: [ramona:notify] receiver
	subject string       // short; the mail's subject adds application and host
	body    string
	count   int           // occurrences it stands for (log scan hits); 0 is 1
	at      time.Time     // when it happened
	tail    func() string // read in the mailer goroutine and appended to body; nil for none
	flush   bool          // send every daily digest now (`ramona notify` without text)
	barrier chan struct{} // closed when the mailer reached it (tests)
	inspect func()        // with barrier: run in the mailer goroutine first (tests)
}

// mailClock is the mailer's time; tests replace it.
type mailClock interface {
	Now() time.Time
	At(time.Time) <-chan time.Time // fires once the time has come
}

type wallClock struct{}

func (wallClock) Now() time.Time                  { return time.Now() }
func (wallClock) At(t time.Time) <-chan time.Time { return time.After(time.Until(t)) }

// Mailer sends notifications; see the top of this file.
type Mailer struct {
	queue    chan *notification
	dropped  atomic.Int64 // submissions refused because the queue was full
	reconf   chan NotifyConfig
	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
	started  bool
	log      *serverLog
	appName  string
	hostname string

	// Settings; tests change them before start.
	clock       mailClock
	flood       time.Duration
	retryFirst  time.Duration
	retryMax    time.Duration
	sendTimeout time.Duration
	closeGrace  time.Duration
	rootCAs     *x509.CertPool                                                    // nil: the system's
	dialAddr    func(host string, port int) string                                // where to connect; tests redirect
	send        func(d *SMTPDelivery, from string, to []string, msg []byte) error // one SMTP conversation

	// Owned by run.
	cfg       NotifyConfig
	outbox    []*outMail
	digest    map[string]*digestBox // by recipient
	dailyRefs map[string]*dailyRef  // by key: the items a new notification of that rule may add to
	windows   map[string]*floodWindow
	sending   *outMail
	results   chan sendResult
	failures  int
	retryAt   time.Time
	nextDaily time.Time
	saveAt    time.Time // a delayed stash write is due
	saveErr   string    // the last stash error logged, to log each only once
}

// outMail is one mail in the outbox.
type outMail struct {
	to        []string
	subject   string // as given; the mail's Subject adds application and host
	body      string
	digestFor string // non-empty: the digest of this recipient, composed at each attempt
	attempts  int
}

type sendResult struct {
	mail *outMail
	err  error
}

// digestBox is one recipient's daily digest.
type digestBox struct {
	Items    []*digestItem `json:"items"`
	Dropped  int           `json:"dropped,omitempty"` // items refused because the digest was full
	Due      bool          `json:"due,omitempty"`     // the digest should go out (queued or waiting to retry)
	inFlight int           // items in the send in progress
	dropSent int           // Dropped as told in that send
}

type digestItem struct {
	At      time.Time `json:"at"`
	Subject string    `json:"subject"`
	Body    string    `json:"body"`
	Count   int       `json:"count"`
	locked  bool      // part of a send in progress
	sent    bool
}

// dailyRef is the digest items a rule added last: more notifications of the
// rule within the flood interval only raise their counts.
type dailyRef struct {
	at    time.Time
	items []*digestItem
}

// floodWindow is a rule's interval after a mail: what came since is counted.
type floodWindow struct {
	end        time.Time
	suppressed int
	since      time.Time
	last       *notification
}

// newMailer prepares a mailer for cfg's [ramona:notify]; start runs it.
func newMailer(cfg *Config, log *serverLog) *Mailer {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	m := &Mailer{
		queue:       make(chan *notification, mailQueueSize),
		reconf:      make(chan NotifyConfig, 1),
		stop:        make(chan struct{}),
		done:        make(chan struct{}),
		log:         log,
		appName:     cfg.AppName,
		hostname:    host,
		clock:       wallClock{},
		flood:       floodInterval,
		retryFirst:  mailRetryFirst,
		retryMax:    mailRetryMax,
		sendTimeout: mailSendTimeout,
		closeGrace:  mailCloseGrace,
		digest:      map[string]*digestBox{},
		dailyRefs:   map[string]*dailyRef{},
		windows:     map[string]*floodWindow{},
		results:     make(chan sendResult, 1),
	}
	m.send = m.smtpSend
	m.setConfig(cfg.Notify)
	return m
}

func (m *Mailer) setConfig(c NotifyConfig) {
	m.cfg = c
}

// start runs the mailer goroutine; it ends when close is called.
func (m *Mailer) start() {
	m.started = true
	m.nextDaily = nextDailyTime(m.clock.Now(), m.cfg.DailyAt)
	go m.run()
}

// close stops taking notifications, gives pending mails closeGrace to go
// out, writes the stash, and waits for the mailer goroutine to end.
func (m *Mailer) close() {
	if m == nil {
		return
	}
	m.stopOnce.Do(func() { close(m.stop) })
	if m.started {
		<-m.done
	}
}

// submit queues n without blocking; false when the queue is full (the
// mailer logs how many were dropped) or the mailer is closed.
func (m *Mailer) submit(n *notification) bool {
	if m == nil {
		return false
	}
	select {
	case <-m.stop:
		return false
	default:
	}
	select {
	case m.queue <- n:
		return true
	default:
		m.dropped.Add(1)
		return false
	}
}

// reconfigure hands the mailer new settings after a reload; only the loop
// calls it, so the one-slot channel never blocks.
func (m *Mailer) reconfigure(c NotifyConfig) {
	select {
	case <-m.reconf:
	default:
	}
	m.reconf <- c
}

func (m *Mailer) run() {
	defer close(m.done)
	m.loadStash()
	for {
		if d := m.dropped.Swap(0); d > 0 {
			m.log.Warnf("mail: %d notification(s) dropped: the mail queue was full", d)
		}
		now := m.clock.Now()
		m.due(now)
		m.startSend(now, false)
		var wake <-chan time.Time
		if t := m.nextWake(now); !t.IsZero() {
			wake = m.clock.At(t)
		}
		select {
		case n := <-m.queue:
			select { // a reload before this submission applies to it
			case c := <-m.reconf:
				m.reconfigured(c)
			default:
			}
			m.receive(n)
		case r := <-m.results:
			m.finished(r)
		case c := <-m.reconf:
			m.reconfigured(c)
		case <-wake:
		case <-m.stop:
			m.shutdown()
			return
		}
	}
}

func (m *Mailer) reconfigured(c NotifyConfig) {
	m.setConfig(c)
	m.nextDaily = nextDailyTime(m.clock.Now(), c.DailyAt)
	m.log.Infof("mail: settings reloaded")
}

// nextDailyTime is the first dailyat after now, in local time.
func nextDailyTime(now time.Time, at time.Duration) time.Time {
	h, mi := int(at/time.Hour), int(at%time.Hour/time.Minute)
	t := time.Date(now.Year(), now.Month(), now.Day(), h, mi, 0, 0, now.Location())
	if !t.After(now) {
		t = time.Date(now.Year(), now.Month(), now.Day()+1, h, mi, 0, 0, now.Location())
	}
	return t
}

// nextWake is when run has something to do without being told.
func (m *Mailer) nextWake(now time.Time) time.Time {
	next := m.nextDaily
	earlier := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, w := range m.windows {
		if w.suppressed > 0 {
			earlier(w.end)
		}
	}
	if m.sending == nil && len(m.outbox) > 0 && m.retryAt.After(now) {
		earlier(m.retryAt)
	}
	earlier(m.saveAt)
	return next
}

// due does what is due at now: the daily digest, the summaries of flood
// windows that ended, a delayed stash write.
func (m *Mailer) due(now time.Time) {
	if !now.Before(m.nextDaily) {
		m.nextDaily = nextDailyTime(now, m.cfg.DailyAt)
		for _, r := range m.recipients() {
			m.queueDigest(r)
		}
	}
	for key, w := range m.windows {
		if now.Before(w.end) {
			continue
		}
		if w.suppressed == 0 {
			delete(m.windows, key)
			continue
		}
		m.mailSummary(w)
		w.end, w.suppressed, w.last = now.Add(m.flood), 0, nil
	}
	if !m.saveAt.IsZero() && !now.Before(m.saveAt) {
		m.saveStash(false)
	}
}

func (m *Mailer) recipients() []string {
	list := make([]string, 0, len(m.digest))
	for r := range m.digest {
		list = append(list, r)
	}
	sort.Strings(list)
	return list
}

// receive takes one notification off the queue.
func (m *Mailer) receive(n *notification) {
	switch {
	case n.barrier != nil:
		if n.inspect != nil {
			n.inspect()
		}
		close(n.barrier)
		return
	case n.flush:
		m.log.Infof("mail: sending the daily digest now, as asked")
		for _, r := range m.recipients() {
			m.queueDigest(r)
		}
		return
	}
	if n.count < 1 {
		n.count = 1
	}
	if n.at.IsZero() {
		n.at = m.clock.Now()
	}
	to := n.target.To
	if len(to) == 0 {
		to = m.cfg.Receivers
	}
	if len(to) == 0 {
		m.log.Errorf("mail: %q has no recipient; set receiver in [ramona:notify]", n.subject)
		return
	}
	now := m.clock.Now()
	switch n.target.When {
	case "now":
		if n.key != "" {
			if w := m.windows[n.key]; w != nil && now.Before(w.end) {
				if w.suppressed == 0 {
					w.since = n.at
				}
				w.suppressed += n.count
				w.last = n
				return
			}
			m.windows[n.key] = &floodWindow{end: now.Add(m.flood)}
		}
		m.enqueue(&outMail{to: to, subject: n.subject, body: m.bodyOf(n)})
	case "daily":
		m.addDaily(n, to, now)
	}
}

// bodyOf is n's text with the log tail it asks for.
func (m *Mailer) bodyOf(n *notification) string {
	body := n.body
	if n.tail != nil {
		if t := n.tail(); t != "" {
			body += "\n" + t
		}
	}
	return body
}

// mailSummary mails what a flood window held back.
func (m *Mailer) mailSummary(w *floodWindow) {
	n := w.last
	to := n.target.To
	if len(to) == 0 {
		to = m.cfg.Receivers
	}
	head := fmt.Sprintf("%d more like this since %s (at most one mail per rule every %s); the latest:\n\n",
		w.suppressed, w.since.Format("2006-01-02 15:04:05"), m.flood)
	m.enqueue(&outMail{to: to, subject: fmt.Sprintf("%s (+%d more)", n.subject, w.suppressed), body: head + m.bodyOf(n)})
}

// addDaily keeps n for the digests of to.
func (m *Mailer) addDaily(n *notification, to []string, now time.Time) {
	if ref := m.dailyRefs[n.key]; n.key != "" && ref != nil && now.Sub(ref.at) < m.flood && ref.open() {
		for _, it := range ref.items {
			it.Count += n.count
		}
		if m.saveAt.IsZero() {
			m.saveAt = now.Add(stashSaveDelay)
		}
		return
	}
	body := m.bodyOf(n)
	ref := &dailyRef{at: now}
	for _, r := range to {
		box := m.digest[r]
		if box == nil {
			box = &digestBox{}
			m.digest[r] = box
		}
		if len(box.Items) >= digestMaxItems {
			box.Dropped++
			continue
		}
		it := &digestItem{At: n.at, Subject: n.subject, Body: body, Count: n.count}
		box.Items = append(box.Items, it)
		ref.items = append(ref.items, it)
	}
	if n.key != "" {
		m.dailyRefs[n.key] = ref
	}
	m.log.Debugf("mail: %q kept for the daily digest to %s", n.subject, strings.Join(to, ", "))
	m.saveStash(false)
}

func (r *dailyRef) open() bool {
	for _, it := range r.items {
		if it.locked || it.sent {
			return false
		}
	}
	return len(r.items) > 0
}

// enqueue adds a mail to the outbox, dropping the oldest mail when full.
func (m *Mailer) enqueue(om *outMail) {
	if len(m.outbox) >= mailOutboxMax {
		for i, o := range m.outbox {
			if o.digestFor == "" && o != m.sending {
				m.log.Errorf("mail: too many mails waiting; dropped %q to %s", o.subject, strings.Join(o.to, ", "))
				m.outbox = append(m.outbox[:i], m.outbox[i+1:]...)
				break
			}
		}
	}
	m.outbox = append(m.outbox, om)
}

// queueDigest puts recipient r's digest in the outbox (once).
func (m *Mailer) queueDigest(r string) {
	box := m.digest[r]
	if box == nil || len(box.Items) == 0 && box.Dropped == 0 {
		return
	}
	for _, o := range m.outbox {
		if o.digestFor == r {
			return
		}
	}
	if !box.Due {
		box.Due = true
		m.saveStash(false)
	}
	m.outbox = append(m.outbox, &outMail{to: []string{r}, digestFor: r})
}

// startSend starts sending the first mail of the outbox (at exit: the first
// that is not a digest), unless a send runs or failures ask to wait.
func (m *Mailer) startSend(now time.Time, exiting bool) bool {
	if m.sending != nil || m.cfg.Delivery == nil || (!exiting && now.Before(m.retryAt)) {
		return false
	}
	for i := 0; i < len(m.outbox); i++ {
		om := m.outbox[i]
		if om.digestFor == "" {
			m.launch(om, now)
			return true
		}
		if exiting {
			continue
		}
		box := m.digest[om.digestFor]
		if box == nil || len(box.Items) == 0 && box.Dropped == 0 {
			if box != nil {
				box.Due = false
			}
			m.outbox = append(m.outbox[:i], m.outbox[i+1:]...)
			i--
			continue
		}
		om.subject, om.body = m.digestText(box)
		for _, it := range box.Items {
			it.locked = true
		}
		box.inFlight, box.dropSent = len(box.Items), box.Dropped
		m.launch(om, now)
		return true
	}
	return false
}

func (m *Mailer) launch(om *outMail, now time.Time) {
	m.sending = om
	om.attempts++
	msg := m.compose(om.to, om.subject, om.body, now)
	d, from, to := m.cfg.Delivery, m.cfg.Sender, om.to
	go func() { // ends when the send returns, within sendTimeout
		m.results <- sendResult{om, m.send(d, from, to, msg)}
	}()
}

// digestText is the subject and body of a digest: its items, oldest first.
func (m *Mailer) digestText(box *digestBox) (string, string) {
	var b strings.Builder
	total := 0
	for i, it := range box.Items {
		total += max(it.Count, 1)
		if i > 0 {
			b.WriteString("\n" + strings.Repeat("-", 72) + "\n\n")
		}
		fmt.Fprintf(&b, "%s  %s", it.At.Format("2006-01-02 15:04:05"), it.Subject)
		if it.Count > 1 {
			fmt.Fprintf(&b, " (%d times)", it.Count)
		}
		b.WriteString("\n\n" + strings.TrimRight(it.Body, "\n") + "\n")
	}
	if box.Dropped > 0 {
		fmt.Fprintf(&b, "\n%d more notification(s) were not kept: the digest holds at most %d.\n", box.Dropped, digestMaxItems)
	}
	return fmt.Sprintf("daily digest, %d notification(s)", total+box.Dropped), b.String()
}

// finished takes the result of a send.
func (m *Mailer) finished(r sendResult) {
	m.sending = nil
	om := r.mail
	now := m.clock.Now()
	box := m.digest[om.digestFor]
	if r.err == nil {
		m.failures, m.retryAt = 0, time.Time{}
		m.remove(om)
		if box != nil {
			for _, it := range box.Items[:box.inFlight] {
				it.sent = true
			}
			box.Items = append([]*digestItem(nil), box.Items[box.inFlight:]...)
			box.Dropped -= box.dropSent
			box.inFlight, box.dropSent, box.Due = 0, 0, false
			if len(box.Items) == 0 && box.Dropped == 0 {
				delete(m.digest, om.digestFor)
			}
			m.saveStash(false)
		}
		m.log.Infof("mail: sent %q to %s", om.subject, strings.Join(om.to, ", "))
		return
	}
	if box != nil {
		for _, it := range box.Items[:box.inFlight] {
			it.locked = false
		}
		box.inFlight, box.dropSent = 0, 0
	}
	why := m.scrub(r.err.Error())
	var rej *rejectedError
	if errors.As(r.err, &rej) && om.digestFor == "" {
		m.remove(om)
		m.log.Errorf("mail: sending %q to %s failed: %s; the server refused it for good, not retried", om.subject, strings.Join(om.to, ", "), why)
		return
	}
	m.failures++
	delay := m.retryFirst
	for i := 1; i < m.failures && delay < m.retryMax; i++ {
		delay *= 2
	}
	delay = min(delay, m.retryMax)
	m.retryAt = now.Add(delay)
	m.remove(om)
	m.outbox = append(m.outbox, om) // the others get their turn first
	m.log.Errorf("mail: sending %q to %s failed (attempt %d): %s; retrying in %s", om.subject, strings.Join(om.to, ", "), om.attempts, why, delay)
}

func (m *Mailer) remove(om *outMail) {
	for i, o := range m.outbox {
		if o == om {
			m.outbox = append(m.outbox[:i], m.outbox[i+1:]...)
			return
		}
	}
}

// shutdown: what is queued is taken, held-back floods are summarised, and
// pending mails get closeGrace to go out; the rest is stashed or reported.
func (m *Mailer) shutdown() {
	for drained := false; !drained; {
		select {
		case n := <-m.queue:
			m.receive(n)
		default:
			drained = true
		}
	}
	for _, w := range m.windows {
		if w.suppressed > 0 {
			m.mailSummary(w)
			w.suppressed = 0
		}
	}
	grace := time.After(m.closeGrace)
wait:
	for {
		if m.sending == nil && !m.startSend(m.clock.Now(), true) {
			break
		}
		select {
		case r := <-m.results:
			m.finished(r)
			if r.err != nil {
				break wait // the server does not take mail now; do not wait for each
			}
		case <-grace:
			m.log.Warnf("mail: the mail server did not answer within %s of exiting", m.closeGrace)
			break wait
		}
	}
	var lost []string
	for _, o := range m.outbox {
		if o.digestFor == "" {
			lost = append(lost, fmt.Sprintf("%q", o.subject))
		}
	}
	items := 0
	for _, box := range m.digest {
		items += len(box.Items)
	}
	if m.cfg.StashDir != "" {
		m.saveStash(true)
		if len(lost) > 0 {
			m.log.Warnf("mail: %d mail(s) not sent yet, kept in %s for the next start: %s", len(lost), m.cfg.StashDir, strings.Join(lost, ", "))
		}
		return
	}
	if len(lost) > 0 {
		m.log.Errorf("mail: %d mail(s) could not be sent before exiting and are lost (set stashdir to keep them): %s", len(lost), strings.Join(lost, ", "))
	}
	if items > 0 {
		m.log.Warnf("mail: the daily digest held %d notification(s); they are lost (set stashdir to keep them)", items)
	}
}

// ---- the stash: the digest (and, at exit, unsent mails) across restarts ----

type stashFile struct {
	Version int                   `json:"version"`
	Digest  map[string]*digestBox `json:"digest"`
	Outbox  []stashMail           `json:"outbox,omitempty"`
}

type stashMail struct {
	To      []string `json:"to"`
	Subject string   `json:"subject"`
	Body    string   `json:"body"`
}

func (m *Mailer) stashPath() string {
	return filepath.Join(m.cfg.StashDir, m.appName+"-mail.json")
}

// loadStash reads what an earlier server left in stashdir.
func (m *Mailer) loadStash() {
	if m.cfg.StashDir == "" {
		return
	}
	path := m.stashPath()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	var sf stashFile
	if err == nil {
		err = json.Unmarshal(data, &sf)
	}
	if err != nil {
		bad := path + ".bad"
		os.Rename(path, bad)
		m.log.Errorf("mail: cannot read the stash %s (%v); moved it to %s and starting with an empty digest", path, err, bad)
		return
	}
	items := 0
	for r, box := range sf.Digest {
		if box == nil || len(box.Items) == 0 && box.Dropped == 0 {
			continue
		}
		m.digest[r] = box
		items += len(box.Items)
		if box.Due {
			m.outbox = append(m.outbox, &outMail{to: []string{r}, digestFor: r})
		}
	}
	for _, sm := range sf.Outbox {
		m.outbox = append(m.outbox, &outMail{to: sm.To, subject: sm.Subject, body: sm.Body})
	}
	m.log.Infof("mail: read %d digest item(s) and %d unsent mail(s) from %s", items, len(sf.Outbox), path)
}

// saveStash writes the digest (and with exiting, unsent mails) to stashdir
// atomically: a new file is synced, then renamed over the old one.
func (m *Mailer) saveStash(exiting bool) {
	m.saveAt = time.Time{}
	if m.cfg.StashDir == "" {
		return
	}
	sf := stashFile{Version: 1, Digest: m.digest}
	if exiting {
		for _, o := range m.outbox {
			if o.digestFor == "" {
				sf.Outbox = append(sf.Outbox, stashMail{To: o.to, Subject: o.subject, Body: o.body})
			}
		}
	}
	err := writeFileAtomic(m.stashPath(), sf)
	if err != nil && err.Error() != m.saveErr {
		m.log.Errorf("mail: cannot write the stash: %v; the digest is only in memory", err)
	}
	if err == nil && m.saveErr != "" {
		m.log.Infof("mail: the stash %s is written again", m.stashPath())
	}
	m.saveErr = ""
	if err != nil {
		m.saveErr = err.Error()
	}
}

func writeFileAtomic(path string, v any) error {
	data, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// ---- composing ----

// compose is the whole message: headers, then the body in quoted-printable
// (program output may hold any bytes and lines of any length).
func (m *Mailer) compose(to []string, subject, body string, date time.Time) []byte {
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	var id [12]byte
	rand.Read(id[:])
	header("From", m.cfg.Sender)
	header("To", strings.Join(to, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", m.scrub(m.fullSubject(subject))))
	header("Date", date.Format(time.RFC1123Z))
	header("Message-ID", "<"+hex.EncodeToString(id[:])+"@"+m.hostname+">")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	header("Auto-Submitted", "auto-generated")
	header("X-Mailer", "Ramona "+version)
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(m.scrub(strings.TrimRight(body, "\n") + "\n\n-- \nRamona on " + m.hostname + ", application " + m.appName + "\n")))
	qp.Close()
	return b.Bytes()
}

// fullSubject names the application and the host, as the Python original did.
func (m *Mailer) fullSubject(subject string) string {
	s := fmt.Sprintf("%s / %s / %s (by Ramona)", m.appName, m.hostname, subject)
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > mailSubjectLimit {
		s = strings.ToValidUTF8(s[:mailSubjectLimit], "") + "..."
	}
	return s
}

// scrub hides the SMTP password in anything the mailer writes or logs.
func (m *Mailer) scrub(s string) string { return scrubPassword(s, m.cfg.Delivery) }

// scrubPassword replaces d's password in s, also base64-encoded as AUTH
// PLAIN and LOGIN send it, by "***".
func scrubPassword(s string, d *SMTPDelivery) string {
	if d == nil || d.Password == "" {
		return s
	}
	pw := string(d.Password)
	b64 := base64.StdEncoding.EncodeToString
	for _, secret := range []string{pw, b64([]byte(pw)), b64([]byte("\x00" + d.User + "\x00" + pw))} {
		s = strings.ReplaceAll(s, secret, "***")
	}
	return s
}

// rejectedError is the server refusing a mail for good (a 5xx reply to
// MAIL, RCPT or DATA): retrying would not help.
type rejectedError struct{ err *textproto.Error }

func (e *rejectedError) Error() string { return e.err.Error() }
