// The Mailer owns notifications to the operator ([ramona:notify]), by mail
// and by webhook: a bounded queue any goroutine submits to without blocking,
// and one goroutine (run) that reads log tails (never on the loop), limits
// floods per rule, keeps the daily digests (stashed atomically in stashdir,
// read back only from a file of the server's own),
// and sends and retries with backoff per destination (the mail server, each
// webhook URL). The two transports differ only in composing and sending:
// smtp.go, webhook.go. What gets notified: notifications.go.
package main

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
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
	mailOutboxMax    = 200              // mails and POSTs waiting to be sent; beyond it the oldest is dropped
	digestMaxItems   = 1000             // items kept per recipient's digest; more are only counted
	mailTailLines    = 20               // lines of a program's output in FATAL, watchdog and health mails
	mailTailMax      = 16 << 10         // bytes of that output at most
	floodInterval    = time.Minute      // per rule, at most one message (or digest item) per interval
	mailRetryFirst   = 10 * time.Second // the first retry after a failed send; then doubling
	mailRetryMax     = 10 * time.Minute
	mailSendTimeout  = 2 * time.Minute // one whole SMTP conversation
	mailCloseGrace   = 5 * time.Second // at exit, how long pending mails may still take
	stashSaveDelay   = time.Second     // counter updates of digest items are written this late
	stashMaxSize     = 64 << 20        // a larger stash is not read
	mailSubjectLimit = 200
)

// What a notification is about: the webhook payload's event field.
const (
	eventFatal    = "fatal"
	eventWatchdog = "watchdog"
	eventHealth   = "health"
	eventLogScan  = "logscan"
	eventSequence = "sequence"
	eventNotify   = "notify"
	eventDigest   = "digest"
)

// notification is one thing to tell the operator.
type notification struct {
	key     string       // flood-limit key (the rule); "" is never limited
	target  NotifyTarget // now or daily; To empty: [ramona:notify] receiver
	event   string       // eventFatal ...
	program string       // the program it is about; "" for none
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

// Mailer sends notifications by mail and webhook; see the top of this file.
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
	sendTimeout time.Duration // one SMTP conversation
	postTimeout time.Duration // one webhook POST
	closeGrace  time.Duration
	rootCAs     *x509.CertPool                                                    // nil: the system's
	dialAddr    func(host string, port int) string                                // where to connect; tests redirect
	send        func(d *SMTPDelivery, from string, to []string, msg []byte) error // one SMTP conversation
	post        func(url string, body []byte) error                               // one webhook POST

	// Owned by run.
	cfg           NotifyConfig
	webhookClient *http.Client
	outbox        []*outMessage
	digest        map[string]*digestBox // by recipient: a mail address or a webhook URL
	dailyRefs     map[string]*dailyRef  // by key: the items a new notification of that rule may add to
	windows       map[string]*floodWindow
	lanes         map[string]*lane // by destination (outMessage.lane); only while sending or failing
	results       chan sendResult
	nextDaily     time.Time
	saveAt        time.Time // a delayed stash write is due
	saveErr       string    // the last stash error logged, to log each only once
}

// outMessage is one mail or one webhook POST in the outbox.
type outMessage struct {
	to        []string // mail: the addresses; webhook: the one URL
	subject   string   // as given; the mail's Subject adds application and host
	body      string
	event     string    // what it is about (eventFatal ...)
	program   string    // the program it is about; "" for none
	at        time.Time // when it happened; zero: when it is sent
	digestFor string    // non-empty: the digest of this recipient, composed at each attempt
	attempts  int
	inFlight  bool
}

func (om *outMessage) webhook() bool { return len(om.to) == 1 && isWebhookURL(om.to[0]) }

// lane is the destination om waits for: "" for the mail server, else the URL.
func (om *outMessage) lane() string {
	if om.webhook() {
		return om.to[0]
	}
	return ""
}

// kind starts the server log lines about om.
func (om *outMessage) kind() string {
	if om.webhook() {
		return "webhook"
	}
	return "mail"
}

// shownTo is where om goes, as the server log shows it.
func (om *outMessage) shownTo() string { return shownRecipients(om.to) }

// shownRecipients lists recipients for messages, webhook URLs redacted.
func shownRecipients(to []string) string {
	shown := make([]string, len(to))
	for i, r := range to {
		shown[i] = r
		if isWebhookURL(r) {
			shown[i] = redactURL(r)
		}
	}
	return strings.Join(shown, ", ")
}

// lane is one destination's sending state: the mail server, or one webhook
// URL. Each sends one message at a time and waits after its own failures, so
// a dead endpoint never holds back mail or another endpoint.
type lane struct {
	sending  *outMessage
	failures int       // in a row
	retryAt  time.Time // no send before
	gaveUp   bool      // at exit: it failed, no more tries
}

type sendResult struct {
	msg *outMessage
	err error
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
		postTimeout: webhookTimeout,
		closeGrace:  mailCloseGrace,
		digest:      map[string]*digestBox{},
		dailyRefs:   map[string]*dailyRef{},
		windows:     map[string]*floodWindow{},
		lanes:       map[string]*lane{},
		results:     make(chan sendResult, 1),
	}
	m.send = m.smtpSend
	m.post = m.webhookPost
	m.setConfig(cfg.Notify)
	return m
}

func (m *Mailer) setConfig(c NotifyConfig) {
	m.cfg = c
}

// start runs the mailer goroutine; it ends when close is called.
func (m *Mailer) start() {
	m.started = true
	m.webhookClient = newWebhookClient(m.rootCAs, m.postTimeout)
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
			m.log.Warnf("notify: %d notification(s) dropped: the notification queue was full", d)
		}
		now := m.clock.Now()
		m.due(now)
		m.startSends(now, false)
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
	m.log.Infof("notify: settings reloaded")
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
	for _, l := range m.lanes {
		if l.sending == nil && l.retryAt.After(now) {
			earlier(l.retryAt)
		}
	}
	earlier(m.saveAt)
	return next
}

// due does what is due at now: the daily digest, the summaries of flood
// windows that ended, a delayed stash write.
func (m *Mailer) due(now time.Time) {
	if !now.Before(m.nextDaily) {
		m.nextDaily = nextDailyTime(now, m.cfg.DailyAt)
		for _, r := range m.digestRecipients() {
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
		m.sendSummary(w)
		w.end, w.suppressed, w.last = now.Add(m.flood), 0, nil
	}
	if !m.saveAt.IsZero() && !now.Before(m.saveAt) {
		m.saveStash(false)
	}
}

// digestRecipients lists the recipients that have a digest, sorted.
func (m *Mailer) digestRecipients() []string {
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
		m.log.Infof("notify: sending the daily digests now, as asked")
		for _, r := range m.digestRecipients() {
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
	to := m.cfg.recipientsOf(n.target)
	if len(to) == 0 {
		m.log.Errorf("notify: %q has no recipient; set receiver or webhook in [ramona:notify]", n.subject)
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
		m.dispatch(to, n, n.subject, m.bodyOf(n))
	case "daily":
		m.addDaily(n, to, now)
	}
}

// recipientsOf is where a notification for t goes: t's address, else the
// [ramona:notify] receivers.
func (c *NotifyConfig) recipientsOf(t NotifyTarget) []string {
	if len(t.To) > 0 {
		return t.To
	}
	return c.Receivers
}

// reachable splits recipients into those that can be sent to (webhook URLs,
// and mail addresses while a delivery is configured) and the others.
func (c *NotifyConfig) reachable(to []string) (reach, unreachable []string) {
	for _, r := range to {
		if isWebhookURL(r) || c.Delivery != nil {
			reach = append(reach, r)
		} else {
			unreachable = append(unreachable, r)
		}
	}
	return reach, unreachable
}

// reaches reports whether a notification for t goes anywhere.
func (c *NotifyConfig) reaches(t NotifyTarget) bool {
	if t.When == "" {
		return false
	}
	reach, _ := c.reachable(c.recipientsOf(t))
	return len(reach) > 0
}

// reachableOf is reachable, logging what is left out of subject's message.
func (m *Mailer) reachableOf(to []string, subject string) []string {
	reach, unreachable := m.cfg.reachable(to)
	if len(unreachable) > 0 {
		m.log.Infof("notify: %q is not mailed to %s: no mail delivery is configured", subject, strings.Join(unreachable, ", "))
	}
	return reach
}

// dispatch queues what n says (subject and body, perhaps a flood summary)
// for its recipients: one mail to every mail address, one POST per URL.
func (m *Mailer) dispatch(to []string, n *notification, subject, body string) {
	var mailTo []string
	for _, r := range m.reachableOf(to, subject) {
		if isWebhookURL(r) {
			m.enqueue(&outMessage{to: []string{r}, subject: subject, body: body, event: n.event, program: n.program, at: n.at})
		} else {
			mailTo = append(mailTo, r)
		}
	}
	if len(mailTo) > 0 {
		m.enqueue(&outMessage{to: mailTo, subject: subject, body: body, event: n.event, program: n.program, at: n.at})
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

// sendSummary sends what a flood window held back.
func (m *Mailer) sendSummary(w *floodWindow) {
	n := w.last
	head := fmt.Sprintf("%d more like this since %s (at most one message per rule every %s); the latest:\n\n",
		w.suppressed, w.since.Format("2006-01-02 15:04:05"), m.flood)
	m.dispatch(m.cfg.recipientsOf(n.target), n, fmt.Sprintf("%s (+%d more)", n.subject, w.suppressed), head+m.bodyOf(n))
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
	to = m.reachableOf(to, n.subject)
	if len(to) == 0 {
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
	m.log.Debugf("notify: %q kept for the daily digest to %s", n.subject, shownRecipients(to))
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

// enqueue adds a message to the outbox, dropping the oldest one when full.
func (m *Mailer) enqueue(om *outMessage) {
	if len(m.outbox) >= mailOutboxMax {
		for i, o := range m.outbox {
			if o.digestFor == "" && !o.inFlight {
				m.log.Errorf("%s: too many messages waiting; dropped %q to %s", o.kind(), o.subject, o.shownTo())
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
	m.outbox = append(m.outbox, &outMessage{to: []string{r}, digestFor: r, event: eventDigest})
}

// startSends starts, for every destination that is not sending or waiting
// after failures, the first of its messages in the outbox (at exit: the
// first that is not a digest, failures or not). Mail waits while no
// delivery is configured.
func (m *Mailer) startSends(now time.Time, exiting bool) {
	for i := 0; i < len(m.outbox); i++ {
		om := m.outbox[i]
		l := m.lanes[om.lane()]
		if l != nil && (l.sending != nil || exiting && l.gaveUp || !exiting && now.Before(l.retryAt)) ||
			!om.webhook() && m.cfg.Delivery == nil || exiting && om.digestFor != "" {
			continue
		}
		if om.digestFor == "" {
			m.launch(om, now)
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
	}
}

// launch composes om for its transport and sends it in a goroutine; its
// lane is busy until finished takes the result.
func (m *Mailer) launch(om *outMessage, now time.Time) {
	l := m.lanes[om.lane()]
	if l == nil {
		l = &lane{}
		m.lanes[om.lane()] = l
	}
	l.sending, om.inFlight = om, true
	om.attempts++
	var send func() error
	if om.webhook() {
		post, url, body := m.post, om.to[0], m.composeWebhook(om, now)
		send = func() error { return post(url, body) }
	} else {
		smtpSend, msg := m.send, m.compose(om.to, om.subject, om.body, now)
		d, from, to := m.cfg.Delivery, m.cfg.Sender, om.to
		send = func() error { return smtpSend(d, from, to, msg) }
	}
	go func() { // ends when the send returns (within sendTimeout or postTimeout) and run took the result or ended
		r := sendResult{om, send()}
		select {
		case m.results <- r:
		case <-m.done:
		}
	}()
}

// inFlight is the number of sends in progress.
func (m *Mailer) inFlight() int {
	n := 0
	for _, l := range m.lanes {
		if l.sending != nil {
			n++
		}
	}
	return n
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
	om := r.msg
	l := m.lanes[om.lane()]
	l.sending, om.inFlight = nil, false
	now := m.clock.Now()
	box := m.digest[om.digestFor]
	if r.err == nil {
		delete(m.lanes, om.lane()) // its failures are over
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
		m.log.Infof("%s: sent %q to %s", om.kind(), om.subject, om.shownTo())
		return
	}
	if box != nil {
		for _, it := range box.Items[:box.inFlight] {
			it.locked = false
		}
		box.inFlight, box.dropSent = 0, 0
	}
	why := redactURLs(m.scrub(r.err.Error()))
	var final interface{ permanent() bool }
	if errors.As(r.err, &final) && final.permanent() {
		m.remove(om)
		if l.failures == 0 {
			delete(m.lanes, om.lane())
		}
		if box != nil { // a digest is never dropped: it waits for the next dailyat
			box.Due = false
			m.saveStash(false)
			m.log.Errorf("%s: sending %q to %s failed: %s; refused for good, the digest is kept for the next dailyat", om.kind(), om.subject, om.shownTo(), why)
			return
		}
		m.log.Errorf("%s: sending %q to %s failed: %s; refused for good, not retried", om.kind(), om.subject, om.shownTo(), why)
		return
	}
	l.failures++
	delay := m.retryFirst
	for i := 1; i < l.failures && delay < m.retryMax; i++ {
		delay *= 2
	}
	delay = min(delay, m.retryMax)
	var answer *webhookError
	if errors.As(r.err, &answer) && answer.retryAfter > delay {
		delay = answer.retryAfter // the endpoint's Retry-After: at least that long
	}
	l.retryAt = now.Add(delay)
	m.remove(om)
	m.outbox = append(m.outbox, om) // the others get their turn first
	m.log.Errorf("%s: sending %q to %s failed (attempt %d): %s; retrying in %s", om.kind(), om.subject, om.shownTo(), om.attempts, why, delay)
}

func (m *Mailer) remove(om *outMessage) {
	for i, o := range m.outbox {
		if o == om {
			m.outbox = append(m.outbox[:i], m.outbox[i+1:]...)
			return
		}
	}
}

// shutdown: what is queued is taken, held-back floods are summarised, and
// pending messages get closeGrace to go out; the rest is stashed or reported.
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
			m.sendSummary(w)
			w.suppressed = 0
		}
	}
	grace := time.After(m.closeGrace)
wait:
	for {
		m.startSends(m.clock.Now(), true)
		if m.inFlight() == 0 {
			break
		}
		select {
		case r := <-m.results:
			m.finished(r)
			if l := m.lanes[r.msg.lane()]; r.err != nil && l != nil {
				l.gaveUp = true // it does not take messages now; do not wait for each
			}
		case <-grace:
			for _, l := range m.lanes {
				if om := l.sending; om != nil && om.webhook() {
					m.log.Warnf("webhook: %s did not answer within %s of exiting", om.shownTo(), m.closeGrace)
				} else if om != nil {
					m.log.Warnf("mail: the mail server did not answer within %s of exiting", m.closeGrace)
				}
			}
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
			m.log.Warnf("notify: %d message(s) not sent yet, kept in %s for the next start: %s", len(lost), m.cfg.StashDir, strings.Join(lost, ", "))
		}
		return
	}
	if len(lost) > 0 {
		m.log.Errorf("notify: %d message(s) could not be sent before exiting and are lost (set stashdir to keep them): %s", len(lost), strings.Join(lost, ", "))
	}
	if items > 0 {
		m.log.Warnf("notify: the daily digests held %d notification(s); they are lost (set stashdir to keep them)", items)
	}
}

// ---- the stash: the digest (and, at exit, unsent messages) across restarts ----

type stashFile struct {
	Version int                   `json:"version"`
	Digest  map[string]*digestBox `json:"digest"`
	Outbox  []stashMail           `json:"outbox,omitempty"`
}

type stashMail struct {
	To      []string  `json:"to"` // mail addresses, or one webhook URL
	Subject string    `json:"subject"`
	Body    string    `json:"body"`
	Event   string    `json:"event,omitempty"`
	Program string    `json:"program,omitempty"`
	At      time.Time `json:"at,omitzero"`
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
	f, err := openSafe(path, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	var refused *refusedFileError
	if errors.As(err, &refused) {
		// Another user's file could hold messages for the server to send:
		// never read, left for the operator, replaced by the next save.
		m.log.Errorf("mail: the stash %s is not read: it %s; starting with an empty digest, and the next save replaces it", path, refused.what)
		return
	}
	var data []byte
	if err == nil {
		data, err = io.ReadAll(io.LimitReader(f, stashMaxSize+1))
		f.Close()
		if err == nil && len(data) > stashMaxSize {
			err = fmt.Errorf("larger than %d MiB", stashMaxSize>>20)
		}
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
			m.outbox = append(m.outbox, &outMessage{to: []string{r}, digestFor: r, event: eventDigest})
		}
	}
	for _, sm := range sf.Outbox {
		m.outbox = append(m.outbox, &outMessage{to: sm.To, subject: sm.Subject, body: sm.Body, event: sm.Event, program: sm.Program, at: sm.At})
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
				sf.Outbox = append(sf.Outbox, stashMail{To: o.to, Subject: o.subject, Body: o.body, Event: o.event, Program: o.program, At: o.at})
			}
		}
	}
	data, err := json.MarshalIndent(sf, "", " ")
	if err == nil {
		err = os.MkdirAll(m.cfg.StashDir, 0o700)
	}
	if err == nil {
		err = replaceFile(m.stashPath(), data, 0o600)
	}
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

// ---- composing, for both transports ----

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
