//go:build unix

// Tests of notifications by webhook. The mailer posts to real HTTP servers on
// loopback: Go's httptest.Server (plain and TLS), recording every request and
// answering as told (500, 400, 429 with Retry-After, redirects), with the
// mailer's fake clock in place of the retry delays; and end to end, a Ramona
// server posting over TLS to Python's http.server (testdata/webhook_server.py)
// whose test CA it trusts through SSL_CERT_FILE. Also: the URL rules.
package main

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// ---- a recording endpoint ----

// hookRequest is one request an endpoint received.
type hookRequest struct {
	method  string
	path    string // with the query
	header  http.Header
	raw     string
	payload webhookPayload
}

// hookAnswer is how an endpoint answers one request.
type hookAnswer struct {
	status int
	header map[string]string
	body   string
}

// hookEndpoint is an httptest.Server that records every request and answers
// with the queued answers, then with its default (200).
type hookEndpoint struct {
	*httptest.Server
	t *testing.T

	mu       sync.Mutex
	got      []hookRequest
	answers  []hookAnswer
	fallback hookAnswer
}

func newHookEndpoint(t *testing.T, useTLS bool) *hookEndpoint {
	e := &hookEndpoint{t: t, fallback: hookAnswer{status: 200, body: "ok"}}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		req := hookRequest{method: r.Method, path: r.URL.RequestURI(), header: r.Header.Clone(), raw: string(raw)}
		json.Unmarshal(raw, &req.payload)
		e.mu.Lock()
		e.got = append(e.got, req)
		a := e.fallback
		if len(e.answers) > 0 {
			a, e.answers = e.answers[0], e.answers[1:]
		}
		e.mu.Unlock()
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(a.status)
		io.WriteString(w, strings.ReplaceAll(a.body, "$REQUEST", r.URL.RequestURI()))
	})
	e.Server = httptest.NewUnstartedServer(handler)
	e.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes a test makes fail on purpose
	if useTLS {
		e.StartTLS()
	} else {
		e.Start()
	}
	t.Cleanup(e.Close)
	return e
}

// answer queues answers for the next requests.
func (e *hookEndpoint) answer(a ...hookAnswer) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.answers = append(e.answers, a...)
}

// answerAlways sets the answer once the queued ones are used.
func (e *hookEndpoint) answerAlways(a hookAnswer) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.fallback = a
}

func (e *hookEndpoint) requests() []hookRequest {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]hookRequest(nil), e.got...)
}

// wait waits until n requests came and returns them.
func (e *hookEndpoint) wait(n int) []hookRequest {
	e.t.Helper()
	waitFor(e.t, fmt.Sprintf("%d request(s) at %s", n, e.URL), 10*time.Second, func() bool { return len(e.requests()) >= n })
	return e.requests()
}

// hookConfig is [ramona:notify] without delivery, the receivers to.
func hookConfig(to ...string) *Config {
	return &Config{AppName: "shop", Notify: NotifyConfig{Receivers: to, DailyAt: 9 * time.Hour}}
}

func (um *unitMailer) waitLog(what, sub string) {
	um.t.Helper()
	waitFor(um.t, what, 10*time.Second, func() bool { return strings.Contains(um.log.String(), sub) })
}

func fatalNotification(at time.Time) *notification {
	return &notification{key: "fatal\x00web", target: NotifyTarget{When: "now"}, event: eventFatal, program: "web",
		subject: "web FATAL", body: "web went from STARTING to FATAL\n", at: at,
		tail: func() string { return "The last 20 lines of its output:\n\n    boom\n" }}
}

// ---- the payload and the transport ----

func TestWebhookPostsTheNotification(t *testing.T) {
	t.Parallel()
	e := newHookEndpoint(t, false)
	url := e.URL + "/hooks/T000/B000/xyzTOKENxyz"
	um := newUnitMailer(t, hookConfig(url))
	um.submit(fatalNotification(um.clock.Now()))
	r := e.wait(1)[0]
	host, _ := os.Hostname()
	p := r.payload
	if r.method != "POST" || r.path != "/hooks/T000/B000/xyzTOKENxyz" || r.header.Get("Content-Type") != "application/json" ||
		!strings.HasPrefix(r.header.Get("User-Agent"), "Ramona/") {
		t.Errorf("request: %s %s %v", r.method, r.path, r.header)
	}
	wantText := "shop / " + host + " / web FATAL (by Ramona)\n\nweb went from STARTING to FATAL\n\nThe last 20 lines of its output:\n\n    boom\n"
	if p.Text != wantText || p.Subject != "web FATAL" || !strings.HasSuffix(wantText, p.Body) || p.App != "shop" || p.Host != host ||
		p.Program != "web" || p.Event != "fatal" || p.Time != um.clock.Now().Format(time.RFC3339) {
		t.Errorf("payload %+v\nwant text %q", p, wantText)
	}
	var fields map[string]any
	json.Unmarshal([]byte(r.raw), &fields)
	var names []string
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	if got := strings.Join(names, ","); got != "app,body,event,host,program,subject,text,time" {
		t.Errorf("JSON fields %s", got)
	}
	um.waitLog("the log line", fmt.Sprintf(`webhook: sent "web FATAL" to %s/***`, e.URL))
	if strings.Contains(um.log.String(), "TOKEN") {
		t.Errorf("the log shows the URL's token:\n%s", um.log)
	}
}

// Receivers may mix mail addresses and URLs: one mail to the addresses, one
// POST per URL. Without delivery, the URLs still get theirs.
func TestWebhookMixedReceivers(t *testing.T) {
	t.Parallel()
	e := newHookEndpoint(t, false)
	a, b := e.URL+"/a", e.URL+"/b"
	cfg := testNotifyConfig()
	cfg.Notify.Receivers = []string{"ops@example.com", a, "dev@example.com", b}
	um := newUnitMailer(t, cfg)
	um.submitNow("", "deploy", "done\n")
	mail := um.waitMails(1)[0]
	got := e.wait(2)
	paths := []string{got[0].path, got[1].path}
	sort.Strings(paths)
	if strings.Join(mail.to, ",") != "ops@example.com,dev@example.com" || strings.Join(paths, ",") != "/a,/b" {
		t.Errorf("mail to %v, POSTs to %v", mail.to, paths)
	}

	e2 := newHookEndpoint(t, false)
	um2 := newUnitMailer(t, hookConfig("ops@example.com", e2.URL+"/c"))
	um2.submitNow("", "no delivery", "x\n")
	if r := e2.wait(1)[0]; r.payload.Subject != "no delivery" || r.payload.Event != "" {
		t.Errorf("without delivery: %+v", r.payload)
	}
	um2.waitLog("the address left out", `notify: "no delivery" is not mailed to ops@example.com: no mail delivery is configured`)
	if n := um2.sendAttempts(); n != 0 {
		t.Errorf("%d mail(s) attempted without delivery", n)
	}
}

func TestWebhookOverTLS(t *testing.T) {
	t.Parallel()
	e := newHookEndpoint(t, true)
	pool := x509PoolOf(e)
	um := newUnitMailer(t, hookConfig(e.URL+"/tls"), func(m *Mailer) { m.rootCAs = pool })
	um.submitNow("", "over tls", "x\n")
	if r := e.wait(1)[0]; r.payload.Subject != "over tls" {
		t.Errorf("payload %+v", r.payload)
	}
	// The system's CAs do not know the test CA: refused, and retried.
	um2 := newUnitMailer(t, hookConfig(e.URL+"/tls"))
	um2.submitNow("", "untrusted", "x\n")
	um2.waitLog("the certificate failure", "certificate signed by unknown authority; retrying in 10s")
	if n := len(e.requests()); n != 1 {
		t.Errorf("%d requests reached the endpoint, want 1", n)
	}
}

func x509PoolOf(e *hookEndpoint) *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(e.Certificate())
	return pool
}

func TestWebhookLogScan(t *testing.T) {
	t.Parallel()
	e := newHookEndpoint(t, false)
	um := newUnitMailer(t, hookConfig(e.URL+"/scan"))
	sc := newLogScanner("web", "stderr", um.submit, mustRules(t, "error>now"))
	sc.Write([]byte("starting\nthen an ERROR happened\nafter\n"))
	p := e.wait(1)[0].payload
	if p.Event != "logscan" || p.Program != "web" || p.Subject != `web: "error" in its stderr` || !strings.Contains(p.Body, "then an ERROR happened") ||
		!strings.Contains(p.Text, p.Body) {
		t.Errorf("payload %+v", p)
	}
}

// ---- the machinery shared with mail ----

func TestWebhookFloodLimit(t *testing.T) {
	t.Parallel()
	e := newHookEndpoint(t, false)
	um := newUnitMailer(t, hookConfig(e.URL+"/flood"))
	for i := 1; i <= 5; i++ {
		um.submit(&notification{key: "logscan\x00web\x00error", target: NotifyTarget{When: "now"}, event: eventLogScan, program: "web",
			subject: `web: "error" in its stderr`, body: fmt.Sprintf("hit %d\n", i), at: um.clock.Now()})
	}
	e.wait(1)
	um.do(func() {})
	if n := len(e.requests()); n != 1 {
		t.Fatalf("%d POSTs within the flood interval, want 1", n)
	}
	um.clock.Advance(floodInterval)
	got := e.wait(2)
	first, summary := got[0].payload, got[1].payload
	if !strings.Contains(first.Body, "hit 1") || summary.Subject != `web: "error" in its stderr (+4 more)` ||
		!strings.Contains(summary.Body, "4 more like this since") || !strings.Contains(summary.Body, "hit 5") || summary.Event != "logscan" || summary.Program != "web" {
		t.Errorf("first %+v\nsummary %+v", first, summary)
	}
}

// The daily digest is one POST per URL (and one mail per address).
func TestWebhookDailyDigest(t *testing.T) {
	t.Parallel()
	e := newHookEndpoint(t, false)
	cfg := testNotifyConfig()
	cfg.Notify.Receivers = []string{"ops@example.com", e.URL + "/a", e.URL + "/b"}
	um := newUnitMailer(t, cfg)
	um.submitDaily("", "disk almost full", "95%\n")
	um.clock.Advance(time.Minute)
	for i := 0; i < 3; i++ {
		um.submitDaily("rule", "web: error", "context\n")
	}
	um.submitDaily("", "only for c", "c\n", e.URL+"/c")
	um.do(func() {})
	if len(e.requests()) != 0 || len(um.mails()) != 0 {
		t.Fatal("daily notifications were sent before dailyat")
	}
	um.clock.Advance(time.Hour) // 09:01
	got := e.wait(3)
	mail := um.waitMails(1)[0]
	byPath := map[string]webhookPayload{}
	for _, r := range got {
		byPath[r.path] = r.payload
	}
	for _, path := range []string{"/a", "/b"} {
		p := byPath[path]
		if p.Event != "digest" || p.Program != "" || p.Subject != "daily digest, 4 notification(s)" ||
			!strings.Contains(p.Body, "disk almost full") || !strings.Contains(p.Body, "web: error (3 times)") || strings.Contains(p.Body, "only for c") {
			t.Errorf("digest to %s: %+v", path, p)
		}
	}
	if p := byPath["/c"]; p.Subject != "daily digest, 1 notification(s)" || !strings.Contains(p.Body, "only for c") {
		t.Errorf("digest to /c: %+v", p)
	}
	if !strings.Contains(mail.subject, "daily digest, 4 notification(s)") || strings.Join(mail.to, ",") != "ops@example.com" {
		t.Errorf("the mailed digest: %q to %v", mail.subject, mail.to)
	}
	um.do(func() {
		if len(um.digest) != 0 {
			t.Errorf("digests left after sending: %v", um.digest)
		}
	})
	if n := len(e.requests()); n != 3 {
		t.Errorf("%d POSTs, want 3", n)
	}
}

// A 500 or a dead endpoint is retried with backoff, and never holds back
// mail or another endpoint.
func TestWebhookRetriesAfter500(t *testing.T) {
	t.Parallel()
	e := newHookEndpoint(t, false)
	e.answer(hookAnswer{status: 500, body: "upstream down"}, hookAnswer{status: 503, body: "still down"})
	dead := newHookEndpoint(t, false)
	deadURL := dead.URL + "/dead"
	dead.Close()
	cfg := testNotifyConfig()
	cfg.Notify.Receivers = []string{"ops@example.com", e.URL + "/flaky", deadURL}
	um := newUnitMailer(t, cfg)
	um.submit(fatalNotification(um.clock.Now()))
	um.waitLog("the 500", fmt.Sprintf(`webhook: sending "web FATAL" to %s/*** failed (attempt 1): the endpoint answered 500 Internal Server Error: "upstream down"; retrying in 10s`, e.URL))
	um.waitLog("the dead endpoint", fmt.Sprintf(`webhook: sending "web FATAL" to %s/*** failed (attempt 1): dial tcp %s: connect: connection refused; retrying in 10s`,
		dead.URL, strings.TrimPrefix(dead.URL, "http://")))
	if m := um.waitMails(1)[0]; !strings.Contains(m.subject, "web FATAL") {
		t.Errorf("the mail: %q", m.subject)
	}
	um.clock.Advance(mailRetryFirst)
	um.waitLog("the 503", `failed (attempt 2): the endpoint answered 503 Service Unavailable: "still down"; retrying in 20s`)
	um.clock.Advance(2 * mailRetryFirst)
	got := e.wait(3)
	if got[0].raw != got[2].raw {
		t.Errorf("the retry posted something else:\n%s\n%s", got[0].raw, got[2].raw)
	}
	um.waitLog("the success", fmt.Sprintf(`webhook: sent "web FATAL" to %s/***`, e.URL))
	um.do(func() {
		if len(um.outbox) != 1 || um.outbox[0].to[0] != deadURL {
			t.Errorf("the outbox holds %d message(s); want only the dead endpoint's", len(um.outbox))
		}
	})
}

func TestWebhookPermanentFailure(t *testing.T) {
	t.Parallel()
	for _, status := range []int{400, 404, 410} {
		e := newHookEndpoint(t, false)
		e.answerAlways(hookAnswer{status: status, body: "no_text"})
		um := newUnitMailer(t, hookConfig(e.URL+"/x"))
		um.submitNow("", "hello", "x\n")
		um.waitLog("the refusal", fmt.Sprintf(`failed: the endpoint answered %d %s: "no_text"; refused for good, not retried`, status, http.StatusText(status)))
		um.clock.Advance(mailRetryMax)
		um.do(func() {
			if len(um.outbox) != 0 {
				t.Errorf("%d: the refused message is still waiting", status)
			}
		})
		if n := len(e.requests()); n != 1 {
			t.Errorf("%d: %d attempts, want 1", status, n)
		}
	}
	// 408 is the server's timeout: retried.
	e := newHookEndpoint(t, false)
	e.answer(hookAnswer{status: 408})
	um := newUnitMailer(t, hookConfig(e.URL+"/x"))
	um.submitNow("", "slow", "x\n")
	um.waitLog("the 408", "failed (attempt 1): the endpoint answered 408 Request Timeout; retrying in 10s")
	um.clock.Advance(mailRetryFirst)
	e.wait(2)
}

// A digest refused for good is kept (not retried every few minutes) and
// goes out at the next dailyat once the endpoint takes it.
func TestWebhookRefusedDigestWaitsForTheNextDay(t *testing.T) {
	t.Parallel()
	e := newHookEndpoint(t, false)
	e.answer(hookAnswer{status: 404, body: "no_service"})
	um := newUnitMailer(t, hookConfig(e.URL+"/revoked"))
	um.submitDaily("", "kept", "k\n")
	um.do(func() {})
	um.clock.Advance(time.Hour) // 09:00
	um.waitLog("the refusal", `failed: the endpoint answered 404 Not Found: "no_service"; refused for good, the digest is kept for the next dailyat`)
	um.clock.Advance(mailRetryMax)
	um.do(func() {
		box := um.digest[e.URL+"/revoked"]
		if len(um.outbox) != 0 || box == nil || len(box.Items) != 1 || box.Due {
			t.Errorf("after the refusal: outbox %d, digest %+v", len(um.outbox), box)
		}
	})
	if n := len(e.requests()); n != 1 {
		t.Errorf("%d attempts on the same day, want 1", n)
	}
	um.clock.Advance(24*time.Hour - mailRetryMax)
	if got := e.wait(2)[1].payload; got.Event != "digest" || !strings.Contains(got.Body, "kept") {
		t.Errorf("the next day: %+v", got)
	}
}

func TestWebhook429RetryAfter(t *testing.T) {
	t.Parallel()
	e := newHookEndpoint(t, false)
	e.answer(hookAnswer{status: 429, header: map[string]string{"Retry-After": "120"}, body: "rate_limited"},
		hookAnswer{status: 429, header: map[string]string{"Retry-After": "3"}})
	url := e.URL + "/limited"
	um := newUnitMailer(t, hookConfig(url))
	um.submitNow("", "busy", "x\n")
	um.waitLog("the 429", `failed (attempt 1): the endpoint answered 429 Too Many Requests: "rate_limited"; retrying in 2m0s`)
	um.do(func() {
		if l := um.lanes[url]; l == nil || !l.retryAt.Equal(um.clock.Now().Add(2*time.Minute)) {
			t.Errorf("the next attempt is not 120 s away: %+v", l)
		}
	})
	um.clock.Advance(2*time.Minute - time.Second)
	um.do(func() {})
	if n := len(e.requests()); n != 1 {
		t.Errorf("%d attempts before Retry-After passed", n)
	}
	um.clock.Advance(time.Second)
	// A shorter Retry-After than the backoff: the backoff wins.
	um.waitLog("the second 429", "failed (attempt 2): the endpoint answered 429 Too Many Requests; retrying in 20s")
	um.clock.Advance(2 * mailRetryFirst)
	e.wait(3)
	um.waitLog("the success", `webhook: sent "busy"`)
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		v    string
		want time.Duration
	}{
		{"", 0}, {"30", 30 * time.Second}, {" 5 ", 5 * time.Second}, {"-3", 0}, {"soon", 0},
		{"86400", webhookRetryAfterMax}, {"99999999999999999999", 0},
		{"Wed, 25 Nov 2026 08:01:30 GMT", 90 * time.Second}, {"Wed, 25 Nov 2026 07:00:00 GMT", 0},
	} {
		if got := parseRetryAfter(c.v, now); got != c.want {
			t.Errorf("Retry-After %q: %s, want %s", c.v, got, c.want)
		}
	}
}

// Redirects: a 307 or 308 to the same host is followed with the POST; a
// redirect to another host, or one that would turn the POST into a GET, is
// not, and fails for good.
func TestWebhookRedirects(t *testing.T) {
	t.Parallel()
	other := newHookEndpoint(t, false)
	e := newHookEndpoint(t, false)
	e.answer(hookAnswer{status: 307, header: map[string]string{"Location": "/moved/here"}}, hookAnswer{status: 200},
		hookAnswer{status: 307, header: map[string]string{"Location": other.URL + "/stolen/token123456"}},
		hookAnswer{status: 302, header: map[string]string{"Location": "/as-get"}})
	um := newUnitMailer(t, hookConfig(e.URL+"/start"))
	um.submitNow("", "one", "x\n")
	got := e.wait(2)
	if got[1].method != "POST" || got[1].path != "/moved/here" || got[1].raw != got[0].raw {
		t.Errorf("the same-host 307: %s %s %q", got[1].method, got[1].path, got[1].raw)
	}
	um.waitLog("the first sent", `webhook: sent "one"`)
	um.submitNow("", "two", "x\n")
	um.waitLog("the refused redirect", fmt.Sprintf(`webhook: sending "two" to %s/*** failed: the endpoint answered 307 Temporary Redirect to "%s/***"; Ramona follows only a 307 or 308 to the same host (write the URL it redirects to); refused for good, not retried`, e.URL, other.URL))
	um.submitNow("", "three", "x\n")
	um.waitLog("the refused 302", `webhook: sending "three" to`)
	um.waitLog("the refused 302", `failed: the endpoint answered 302 Found to "`+e.URL+`/***"`)
	um.do(func() {})
	if n := len(other.requests()); n != 0 {
		t.Errorf("the other host got %d request(s)", n)
	}
	if n := len(e.requests()); n != 4 {
		t.Errorf("%d requests at the endpoint, want 4 (the 302 not followed)", n)
	}
	if strings.Contains(um.log.String(), "token123456") {
		t.Errorf("the log shows the redirect's path:\n%s", um.log)
	}
}

// The URL's path and query hold the token: they never show, also when the
// endpoint echoes the request or cannot be reached, nor at exit.
func TestWebhookSecretNeverShown(t *testing.T) {
	t.Parallel()
	const pathSecret, querySecret = "T0K3N-PATH-SECRET", "QUERY-SECRET-VALUE"
	e := newHookEndpoint(t, false)
	e.answerAlways(hookAnswer{status: 500, body: "no hook at $REQUEST"})
	dead := newHookEndpoint(t, false)
	dead.Close()
	stash := t.TempDir()
	cfg := hookConfig(e.URL+"/hooks/"+pathSecret+"?token="+querySecret, dead.URL+"/services/"+pathSecret)
	cfg.Notify.StashDir = stash
	um := newUnitMailer(t, cfg)
	um.submitNow("", "secret test", "x\n")
	um.submitDaily("", "for the digest", "y\n")
	um.waitLog("the echo", `"no hook at /hooks/***?token=***"; retrying in 10s`)
	um.waitLog("the dead one", "connect: connection refused; retrying in 10s")
	um.submit(&notification{flush: true})
	um.clock.Advance(mailRetryFirst) // each endpoint tries its first message again, then the digest
	um.waitLog("the second attempts", `failed (attempt 2): dial tcp`)
	um.clock.Advance(2 * mailRetryFirst)
	um.waitLog("the digests failing", `sending "daily digest, 1 notification(s)" to `+dead.URL)
	um.close()
	log := um.log.String()
	for _, want := range []string{"message(s) not sent yet, kept in", "webhook: sending", e.URL + "/***"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q", want)
		}
	}
	if strings.Contains(log, pathSecret) || strings.Contains(log, querySecret) {
		t.Errorf("a secret shows in the log:\n%s", log)
	}
	// The stash keeps the URLs, as the configuration does: mode 0600.
	info, err := os.Stat(filepath.Join(stash, "shop-mail.json"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("the stash: %v %v", info, err)
	}
}

// Unsent POSTs and due digests for URLs survive a restart in the stash.
func TestWebhookStashSurvivesRestart(t *testing.T) {
	t.Parallel()
	e := newHookEndpoint(t, false)
	e.answerAlways(hookAnswer{status: 503})
	cfg := hookConfig(e.URL + "/hook")
	cfg.Notify.StashDir = t.TempDir()
	um := newUnitMailer(t, cfg)
	at := um.clock.Now()
	um.submit(fatalNotification(at))
	um.submitDaily("", "kept", "k\n")
	um.submit(&notification{flush: true})
	um.waitLog("the failures", "failed (attempt 1)")
	um.close()
	e.answerAlways(hookAnswer{status: 200})
	before := len(e.requests())
	um2 := newUnitMailer(t, cfg)
	got := e.wait(before + 2)[before:]
	byEvent := map[string]webhookPayload{}
	for _, r := range got {
		byEvent[r.payload.Event] = r.payload
	}
	if p := byEvent["fatal"]; p.Program != "web" || p.Subject != "web FATAL" || p.Time != at.Format(time.RFC3339) || !strings.Contains(p.Body, "boom") {
		t.Errorf("the stashed POST: %+v", p)
	}
	if p := byEvent["digest"]; !strings.Contains(p.Body, "kept") {
		t.Errorf("the stashed digest: %+v", p)
	}
	um2.do(func() {
		if len(um2.outbox) != 0 || len(um2.digest) != 0 {
			t.Errorf("left after the restart: %d message(s), %d digest(s)", len(um2.outbox), len(um2.digest))
		}
	})
}

// A reload that adds a webhook to a server started without any: the next
// FATAL is posted (to an httptest.Server; http:// is fine on loopback).
func TestWebhookAddedByReload(t *testing.T) {
	t.Parallel()
	e := newHookEndpoint(t, false)
	program := fmt.Sprintf("[program:crash]\ncommand=%s\nautostart=no\nstarttimeout=5\n", helperCommand(t, "exit", "3"))
	r := newTestRamona(t, program)
	r.start()
	r.write("[ramona:notify]\nwebhook=" + e.URL + "/hooks/reloaded\nlogscan=<none>\n\n" + program)
	if code, _, stderr := r.cli("reload"); code != 0 {
		t.Fatalf("reload: exit %d: %s", code, stderr)
	}
	r.cli("start", "crash")
	r.waitState("crash", "FATAL", 20*time.Second)
	if got := e.wait(1)[0]; got.path != "/hooks/reloaded" || got.payload.Event != "fatal" || got.payload.Program != "crash" {
		t.Errorf("after the reload: %s %+v", got.path, got.payload)
	}
	r.stopAll()
	if log := r.serverLog(); !strings.Contains(log, "notify: settings reloaded") || !strings.Contains(log, `webhook: sent "crash FATAL" to `+e.URL+"/***") {
		t.Errorf("the server log:\n%s", log)
	}
}

// ---- the URL rules ----

func TestRedactURL(t *testing.T) {
	t.Parallel()
	for _, c := range [][2]string{
		{"https://hooks.slack.com/services/T0/B0/XXXX", "https://hooks.slack.com/***"},
		{"https://chat.example.com/hooks/abc?x=1", "https://chat.example.com/***"},
		{"https://chat.example.com?token=abc", "https://chat.example.com/***"},
		{"https://user:pw@chat.example.com", "https://chat.example.com/***"},
		{"https://chat.example.com:8443/", "https://chat.example.com:8443/"},
		{"https://chat.example.com", "https://chat.example.com"},
		{"http://127.0.0.1:9/%zz broken", "http://127.0.0.1:9/***"},
		{"not a url", "***"},
	} {
		if got := redactURL(c[0]); got != c[1] {
			t.Errorf("redactURL(%q) = %q, want %q", c[0], got, c[1])
		}
	}
	in := `Post "https://hooks.example.com/services/SECRET": dial tcp; see HTTP://x.example/p?q=SECRET,SECRET and https://ok.example`
	want := `Post "https://hooks.example.com/***": dial tcp; see HTTP://x.example/*** and https://ok.example`
	if got := redactURLs(in); got != want {
		t.Errorf("redactURLs:\n got %s\nwant %s", got, want)
	}
	if got := hideURLSecrets("bad token abcdefgh123 for /services/abcdefgh123 (q=Q%2FQQQQQQQQ, user p4ssw0rd-x)",
		"https://u:p4ssw0rd-x@h.example/services/abcdefgh123?q=Q%2FQQQQQQQQ"); got != "bad token *** for /services/*** (q=***, user ***)" {
		t.Errorf("hideURLSecrets: %s", got)
	}
}

var webhookConfigErrors = []errCase{
	{name: "http to another host", conf: "[ramona:notify]\nreceiver=http://hooks.example.com/services/SECRET\n",
		want: `$DIR/app.conf:2: [ramona:notify] receiver: "http://hooks.example.com/***" would carry notifications and the URL's token unencrypted; use https:// (http:// only to a loopback host: localhost, 127.0.0.1, ::1)`},
	{name: "webhook over http to another host", conf: "[ramona:notify]\nwebhook=http://10.0.0.1/hooks/SECRET\n",
		want: `$DIR/app.conf:2: [ramona:notify] webhook: "http://10.0.0.1/***" would carry notifications and the URL's token unencrypted; use https:// (http:// only to a loopback host: localhost, 127.0.0.1, ::1)`},
	{name: "another scheme", conf: "[ramona:notify]\nreceiver=ftp://hooks.example.com/SECRET\n",
		want: `$DIR/app.conf:2: [ramona:notify] receiver: "ftp://hooks.example.com/***" is not a webhook URL; use https://HOST/PATH`},
	{name: "no host", conf: "[ramona:notify]\nwebhook=https:///SECRET\n",
		want: `$DIR/app.conf:2: [ramona:notify] webhook: "https:///***" is not a valid URL; write https://HOST/PATH, with %-escapes for spaces and commas`},
	{name: "a fragment", conf: "[ramona:notify]\nwebhook=https://hooks.example.com/SECRET#x\n",
		want: `$DIR/app.conf:2: [ramona:notify] webhook: "https://hooks.example.com/***" has a #fragment, which is never sent to the server; remove it`},
	{name: "a mail address in webhook", conf: "[ramona:notify]\nwebhook=https://hooks.example.com/x, ops@example.com\n",
		want: `$DIR/app.conf:2: [ramona:notify] webhook: "ops@example.com" is a mail address; mail addresses go in receiver, webhook takes https:// URLs`},
	{name: "delivery with only URL receivers", conf: "[ramona:notify]\ndelivery=smtp://mail.example.com\nreceiver=https://hooks.example.com/x\n",
		want: "$DIR/app.conf:2: [ramona:notify] receiver: missing; delivery is set, so mail needs at least one receiver address (receiver=ops@example.com)"},
	{name: "a URL target without now:", conf: "[ramona:notify]\nnotify_fatal=https://hooks.example.com/SECRET\n",
		want: `$DIR/app.conf:2: [ramona:notify] notify_fatal: "https://hooks.example.com/***" is not a notification target; use now, daily, now:ADDR, daily:ADDR or <none> (a URL needs now: or daily: before it)`},
	{name: "http URL target", conf: "[ramona:notify]\nnotify_fatal=daily:http://hooks.example.com/SECRET\n",
		want: `$DIR/app.conf:2: [ramona:notify] notify_fatal: "http://hooks.example.com/***" would carry notifications and the URL's token unencrypted; use https:// (http:// only to a loopback host: localhost, 127.0.0.1, ::1)`},
	{name: "logscan rule with a bad URL", conf: "[ramona:notify]\nlogscan=error>now:http://hooks.example.com/SECRET\n",
		want: `$DIR/app.conf:2: [ramona:notify] logscan: rule "error>now:http://hooks.example.com/***": "http://hooks.example.com/***" would carry notifications and the URL's token unencrypted; use https:// (http:// only to a loopback host: localhost, 127.0.0.1, ::1)`},
	{name: "program target", prog: "web", conf: "[program:web]\ncommand=/bin/true\nnotify_watchdog=https://hooks.example.com/SECRET\n",
		want: `$DIR/app.conf:3: [program:web] notify_watchdog: "https://hooks.example.com/***" is not a notification target; use now, daily, now:ADDR, daily:ADDR, <none> or <global> (the setting of [ramona:notify])`},
}

func TestWebhookConfigErrors(t *testing.T) {
	for _, tc := range webhookConfigErrors {
		t.Run(tc.name, func(t *testing.T) {
			checkErrCase(t, tc)
			if strings.Contains(tc.want, "SECRET") {
				t.Errorf("the case expects the secret in the error")
			}
		})
	}
}

var webhookConfigValues = []valueCase{
	{name: "receivers mixed, webhook added",
		conf: "[ramona:notify]\nreceiver=ops@example.com, https://hooks.slack.com/services/T0/B0/X\nwebhook=http://127.0.0.1:8065/hooks/abc,HTTPS://chat.example.com/hooks/def\n",
		get:  global(func(c *Config) any { return fmt.Sprint(c.Notify.Receivers, c.Notify.Delivery == nil) }),
		want: "[ops@example.com https://hooks.slack.com/services/T0/B0/X http://127.0.0.1:8065/hooks/abc https://chat.example.com/hooks/def] true"},
	{name: "a %-escape in a URL",
		conf: "[ramona:notify]\nwebhook=https://hooks.example.com/a%%2Cb?x=%%20\n",
		get:  global(func(c *Config) any { return c.Notify.Receivers }),
		want: "[https://hooks.example.com/a%2Cb?x=%20]"},
	{name: "webhook without receiver, loopback names",
		conf: "[ramona:notify]\nwebhook=http://localhost:9/a, http://[::1]:9/b\n",
		get:  global(func(c *Config) any { return c.Notify.Receivers }),
		want: "[http://localhost:9/a http://[::1]:9/b]"},
	{name: "URL targets",
		conf: "[ramona:notify]\nnotify_fatal=daily:https://hooks.example.com/f\nlogscan=error>now:https://hooks.example.com/e,warn>daily\n" +
			"[program:web]\ncommand=/bin/true\nnotify_watchdog=now:https://hooks.example.com/w\n",
		get: prog("web", func(p *ProgramConfig) any {
			return targetStr(p.NotifyFatal) + " " + targetStr(p.NotifyWatchdog) + " " + rulesStr(p.LogScanStderr)
		}),
		want: "daily:https://hooks.example.com/f now:https://hooks.example.com/w error>now:https://hooks.example.com/e,warn>daily"},
}

func TestWebhookConfigValues(t *testing.T) {
	for _, tc := range webhookConfigValues {
		t.Run(tc.name, func(t *testing.T) { checkValueCase(t, tc) })
	}
}

// ---- end to end: a Ramona server posts to Python's http.server over TLS ----

// pyWebhook is testdata/webhook_server.py, storing what it receives in dir.
type pyWebhook struct {
	*peerProcess
	port int
	dir  string
}

func startPyWebhook(t *testing.T, args ...string) *pyWebhook {
	t.Helper()
	skipInShort(t, "a real HTTPS server (Python's http.server)")
	python := needPeer(t, "python3", "python3")
	dir := filepath.Join(t.TempDir(), "received")
	cmd := exec.Command(python, append([]string{"testdata/webhook_server.py", "--dir", dir}, args...)...)
	s := &pyWebhook{peerProcess: startPeerProcess(t, "webhook_server.py", cmd), dir: dir}
	waitFor(t, "webhook_server.py to listen", 20*time.Second, func() bool {
		_, err := fmt.Sscanf(s.out.String(), "ready %d", &s.port)
		return err == nil
	})
	return s
}

// received is every request stored so far, in order.
func (s *pyWebhook) received() []hookRequest {
	entries, _ := os.ReadDir(s.dir)
	var list []hookRequest
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(s.dir, e.Name()))
		var rec struct {
			Path    string            `json:"path"`
			Headers map[string]string `json:"headers"`
			Body    string            `json:"body"`
		}
		if err != nil || json.Unmarshal(data, &rec) != nil {
			continue
		}
		r := hookRequest{method: "POST", path: rec.Path, raw: rec.Body, header: http.Header{}}
		for k, v := range rec.Headers {
			r.header.Set(k, v)
		}
		json.Unmarshal([]byte(rec.Body), &r.payload)
		list = append(list, r)
	}
	return list
}

func (s *pyWebhook) waitFor(what string, pred func(webhookPayload) bool) webhookPayload {
	s.t.Helper()
	var found webhookPayload
	waitFor(s.t, what, 30*time.Second, func() bool {
		for _, r := range s.received() {
			if pred(r.payload) {
				found = r.payload
				return true
			}
		}
		return false
	})
	return found
}

// The retries against a separate process: Python's http.server over TLS
// answers 500, then 429 with Retry-After: 30, then takes the POST.
func TestWebhookRetriesAgainstPython(t *testing.T) {
	t.Parallel()
	cert, key, pool := testCertificate(t)
	hook := startPyWebhook(t, "--cert", cert, "--key", key, "--answers", "500,429")
	um := newUnitMailer(t, hookConfig(fmt.Sprintf("https://localhost:%d/hooks/abc", hook.port)), func(m *Mailer) { m.rootCAs = pool })
	um.submit(fatalNotification(um.clock.Now()))
	um.waitLog("the 500", `failed (attempt 1): the endpoint answered 500 Internal Server Error: "failing as told"; retrying in 10s`)
	um.clock.Advance(mailRetryFirst)
	um.waitLog("the 429", `failed (attempt 2): the endpoint answered 429 Too Many Requests: "failing as told"; retrying in 30s`)
	um.clock.Advance(30 * time.Second)
	um.waitLog("the success", fmt.Sprintf(`webhook: sent "web FATAL" to https://localhost:%d/***`, hook.port))
	got := hook.received()
	if len(got) != 3 || got[0].raw != got[2].raw || got[2].payload.Event != "fatal" || got[2].path != "/hooks/abc" {
		t.Errorf("%d requests; the last: %s %+v", len(got), got[len(got)-1].path, got[len(got)-1].payload)
	}
}

func TestWebhookEndToEnd(t *testing.T) {
	t.Parallel()
	needShell(t) // [program:scan] is a sh -c script
	cert, key, _ := testCertificate(t)
	hook := startPyWebhook(t, "--cert", cert, "--key", key)
	const pathSecret, querySecret = "B0000000/XXXXsecretXXXX", "QUERYSECRET42"
	url := fmt.Sprintf("https://localhost:%d/hooks/T0000000/%s?token=%s", hook.port, pathSecret, querySecret)
	r := newTestRamona(t, fmt.Sprintf(`
[ramona:notify]
webhook=%s
logscan=<none>

[program:crash]
command=%s
starttimeout=5

[program:scan]
command=/bin/sh -c "echo starting up; echo 'then an ERROR happened' >&2; exec sleep 3600"
logscan_stderr=error>now
`, url, helperCommand(t, "exit", "3")))
	r.startIn(r.dir, []string{"SSL_CERT_FILE=" + filepath.Join(filepath.Dir(cert), "ca.pem")}, "-c", r.conf, "daemon")
	r.waitState("crash", "FATAL", 20*time.Second)
	host, _ := os.Hostname()
	fatal := hook.waitFor("the FATAL POST", func(p webhookPayload) bool { return p.Event == "fatal" })
	if fatal.Program != "crash" || fatal.Subject != "crash FATAL" || fatal.App != "ramona" || fatal.Host != host ||
		!strings.HasPrefix(fatal.Text, "ramona / "+host+" / crash FATAL (by Ramona)\n\ncrash went from STARTING to FATAL") ||
		!strings.Contains(fatal.Body, "Exit status: exit status 3 after") || !strings.Contains(fatal.Body, "The last 20 lines of its output:") {
		t.Errorf("the FATAL POST: %+v", fatal)
	}
	if at, err := time.Parse(time.RFC3339, fatal.Time); err != nil || time.Since(at) > time.Minute {
		t.Errorf("the FATAL POST's time %q: %v", fatal.Time, err)
	}
	scan := hook.waitFor("the log scan POST", func(p webhookPayload) bool { return p.Event == "logscan" })
	if scan.Program != "scan" || !strings.Contains(scan.Body, "then an ERROR happened") {
		t.Errorf("the log scan POST: %+v", scan)
	}
	seq := hook.waitFor("the sequence POST", func(p webhookPayload) bool { return p.Event == "sequence" })
	if seq.Program != "" || !strings.Contains(seq.Subject, "server start: 1 program(s) failed") {
		t.Errorf("the sequence POST: %+v", seq)
	}
	if code, _, stderr := r.cli("notify", "-s", "Deploy done", "version 1.2 is live"); code != 0 {
		t.Fatalf("notify: exit %d: %s", code, stderr)
	}
	note := hook.waitFor("the notify POST", func(p webhookPayload) bool { return p.Event == "notify" })
	if note.Subject != "Deploy done" || note.Body != "version 1.2 is live\n" {
		t.Errorf("the notify POST: %+v", note)
	}
	if code, _, _ := r.cli("notify", "-t", "daily", "-s", "for later", "kept for the digest"); code != 0 {
		t.Fatalf("notify -t daily: exit %d", code)
	}
	if code, _, _ := r.cli("notify", ""); code != 0 {
		t.Fatalf("notify '': exit %d", code)
	}
	digest := hook.waitFor("the digest POST", func(p webhookPayload) bool { return p.Event == "digest" })
	if digest.Subject != "daily digest, 1 notification(s)" || !strings.Contains(digest.Body, "kept for the digest") {
		t.Errorf("the digest POST: %+v", digest)
	}
	for _, rq := range hook.received() {
		if !strings.HasPrefix(rq.path, "/hooks/T0000000/"+pathSecret+"?token="+querySecret) || rq.header.Get("Content-Type") != "application/json" {
			t.Errorf("a request to %s with %v", rq.path, rq.header)
		}
	}
	_, status, _ := r.cli("status")
	_, statusJSON, _ := r.cli("status", "--json")
	r.stopAll()
	log := r.serverLog()
	if want := fmt.Sprintf(`webhook: sent "crash FATAL" to https://localhost:%d/***`, hook.port); !strings.Contains(log, want) {
		t.Errorf("the server log lacks %q", want)
	}
	for where, text := range map[string]string{"the server log": log, "status": status, "status --json": statusJSON} {
		if strings.Contains(text, "XXXXsecretXXXX") || strings.Contains(text, querySecret) {
			t.Errorf("%s shows the URL's secret:\n%s", where, text)
		}
	}
}
