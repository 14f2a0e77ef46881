// The Mailer's webhook transport: a notification target that is a URL gets
// one JSON POST (Slack, Mattermost and Rocket.Chat show its text field).
// This file owns the URL rules (https://, http:// only to a loopback host, the
// token in the path or query never shown), the payload, and one POST with a
// timeout, verified TLS, no redirect to another host, a bounded answer, and
// what the answer means for retries. Queue, floods, digest, stash: mail.go.
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	webhookTimeout       = 30 * time.Second // one whole POST: connect, TLS, request, answer
	webhookAnswerLimit   = 64 << 10         // bytes of an answer read (to reuse the connection); the rest is not
	webhookAnswerShown   = 200              // bytes of an answer quoted in the server log
	webhookRetryAfterMax = time.Hour        // a longer Retry-After is taken as this
	webhookRedirectMax   = 3                // same-host 307/308 redirects followed
)

// webhookPayload is the JSON body of a POST. Text is what chat servers show;
// the other fields are for endpoints that sort or filter notifications.
type webhookPayload struct {
	Text    string `json:"text"`    // the subject line (application, host, subject), a blank line, the body
	Subject string `json:"subject"` // as the mail's subject, without application and host
	Body    string `json:"body"`
	App     string `json:"app"`
	Host    string `json:"host"`
	Program string `json:"program"` // "" when it is about no one program
	Event   string `json:"event"`   // fatal, watchdog, health, logscan, sequence, notify or digest
	Time    string `json:"time"`    // when it happened, RFC 3339
}

// isWebhookURL tells a URL recipient from a mail address.
func isWebhookURL(r string) bool {
	return strings.HasPrefix(r, "https://") || strings.HasPrefix(r, "http://")
}

// looksLikeURL is true for anything written as scheme://..., so that a
// mistyped URL is checked (and shown) as a URL, never as a mail address.
func looksLikeURL(v string) bool { return strings.Contains(v, "://") }

// parseWebhookURL checks a webhook URL from the configuration or the command
// line. Only https:// is accepted, and http:// to a loopback host, where the
// notification and the URL's token never leave the machine. Errors show the
// URL without its path and query (redactURL).
func parseWebhookURL(v string) (string, error) {
	shown := redactURL(v)
	scheme, rest, _ := strings.Cut(v, "://")
	scheme = strings.ToLower(scheme)
	if scheme != "https" && scheme != "http" {
		return "", fmt.Errorf("%q is not a webhook URL; use https://HOST/PATH", shown)
	}
	v = scheme + "://" + rest
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || u.Opaque != "" || strings.ContainsAny(v, " \t\r\n") {
		return "", fmt.Errorf("%q is not a valid URL; write https://HOST/PATH, with %%-escapes for spaces and commas", shown)
	}
	if u.Fragment != "" {
		return "", fmt.Errorf("%q has a #fragment, which is never sent to the server; remove it", shown)
	}
	if scheme == "http" && !isLoopbackHost(u.Hostname()) {
		return "", fmt.Errorf("%q would carry notifications and the URL's token unencrypted; use https:// (http:// only to a loopback host: localhost, 127.0.0.1, ::1)", shown)
	}
	return v, nil
}

// redactURL is a URL as messages show it: scheme and host, and "/***" for
// whatever path, query and user information it has, where tokens live. It
// also works on URLs too broken to parse.
func redactURL(v string) string {
	scheme, rest, ok := strings.Cut(v, "://")
	if !ok {
		return "***"
	}
	host, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		host, tail = rest[:i], rest[i:]
	}
	if at := strings.LastIndexByte(host, '@'); at >= 0 {
		host, tail = host[at+1:], "/***"
	}
	if tail != "" && tail != "/" {
		tail = "/***"
	}
	return scheme + "://" + host + tail
}

// redactURLs replaces every http:// or https:// URL in s by redactURL's
// form; for error texts, which quote the URL they failed on.
func redactURLs(s string) string {
	var b strings.Builder
	for {
		lower := strings.ToLower(s)
		i := strings.Index(lower, "http://")
		if j := strings.Index(lower, "https://"); j >= 0 && (i < 0 || j < i) {
			i = j
		}
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := strings.IndexAny(s[i:], " \t\r\n\"'<>`")
		if end < 0 {
			end = len(s) - i
		}
		b.WriteString(s[:i])
		b.WriteString(redactURL(s[i : i+end]))
		s = s[i+end:]
	}
}

// composeWebhook is the JSON body for om, sent at now.
func (m *Mailer) composeWebhook(om *outMessage, now time.Time) []byte {
	at := om.at
	if at.IsZero() {
		at = now
	}
	body := m.scrub(strings.TrimRight(om.body, "\n") + "\n")
	subject := m.scrub(om.subject)
	data, _ := json.Marshal(webhookPayload{ // strings and a struct of strings: never fails
		Text:    m.scrub(m.fullSubject(om.subject)) + "\n\n" + body,
		Subject: subject,
		Body:    body,
		App:     m.appName,
		Host:    m.hostname,
		Program: om.program,
		Event:   om.event,
		Time:    at.Format(time.RFC3339),
	})
	return data
}

// newWebhookClient is the HTTP client of every POST: TLS 1.2 or later
// verified against rootCAs (nil: the system's, where SSL_CERT_FILE names
// another bundle), the proxy of the server's environment (HTTPS_PROXY), a
// bound on the answer's headers, and redirects only as sameHostRedirect says.
func newWebhookClient(rootCAs *x509.CertPool, timeout time.Duration) *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{RootCAs: rootCAs, MinVersion: tls.VersionTLS12}
	transport.MaxResponseHeaderBytes = webhookAnswerLimit
	transport.ResponseHeaderTimeout = timeout
	return &http.Client{Timeout: timeout, Transport: transport, CheckRedirect: sameHostRedirect}
}

// sameHostRedirect follows a 307 or 308 (which keep the POST and its body)
// to the same scheme and host; any other redirect is not followed and its
// answer is reported (webhookPost: a failure for good).
func sameHostRedirect(req *http.Request, via []*http.Request) error {
	first := via[0].URL
	if len(via) > webhookRedirectMax || req.Method != http.MethodPost ||
		req.URL.Scheme != first.Scheme || !strings.EqualFold(req.URL.Host, first.Host) {
		return http.ErrUseLastResponse
	}
	return nil
}

// webhookError is an answer other than 2xx.
type webhookError struct {
	status     string        // "404 Not Found"
	code       int           //
	answer     string        // the start of the answer's body, one line
	location   string        // a redirect not followed: where to, redacted
	retryAfter time.Duration // from Retry-After; 0 when it had none
}

func (e *webhookError) Error() string {
	msg := "the endpoint answered " + e.status
	switch {
	case e.code >= 300 && e.code < 400 && e.location != "":
		msg += " to " + strconv.Quote(e.location) + "; Ramona follows only a 307 or 308 to the same host (write the URL it redirects to)"
	case e.code >= 300 && e.code < 400:
		msg += "; Ramona follows only a 307 or 308 to the same host"
	}
	if e.answer != "" {
		msg += ": " + strconv.Quote(e.answer)
	}
	return msg
}

// permanent: a redirect not followed and a 4xx other than 408 (timeout) and
// 429 (too many requests) would fail the same way again.
func (e *webhookError) permanent() bool {
	return e.code >= 300 && e.code < 500 && e.code != http.StatusRequestTimeout && e.code != http.StatusTooManyRequests
}

// webhookPost sends one POST of body to rawURL. The error says why it
// failed, never showing the URL's path or query.
func (m *Mailer) webhookPost(rawURL string, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return errors.New(redactURLs(err.Error()))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Ramona/"+version)
	resp, err := m.webhookClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // "Post "URL": ..." would quote the URL
		}
		return errors.New(hideURLSecrets(redactURLs(err.Error()), rawURL))
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, webhookAnswerLimit))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	e := &webhookError{status: resp.Status, code: resp.StatusCode, answer: hideURLSecrets(oneLine(answer, webhookAnswerShown), rawURL)}
	if loc := resp.Header.Get("Location"); loc != "" {
		if u, err := req.URL.Parse(loc); err == nil {
			e.location = redactURL(u.String())
		} else {
			e.location = redactURLs(loc)
		}
	}
	e.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), m.clock.Now())
	return e
}

// parseRetryAfter reads Retry-After, seconds or an HTTP date, as a wait
// from now: 0 when absent or unreadable, at most webhookRetryAfterMax.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		d = time.Duration(min(max(secs, 0), int64(webhookRetryAfterMax/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), webhookRetryAfterMax)
}

// oneLine is the start of an answer for a log line: printable, on one
// line, at most limit bytes, URLs redacted (an endpoint may echo the request).
func oneLine(b []byte, limit int) string {
	s := strings.ToValidUTF8(string(b), "?")
	s = strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)), " ")
	if len(s) > limit {
		s = strings.ToValidUTF8(s[:limit], "") + "..."
	}
	return redactURLs(s)
}

// hideURLSecrets replaces the parts of rawURL's path and query that may be
// its token by "***" in s: an endpoint's error page may quote them without
// the scheme and host that redactURLs looks for. A part may be a token when
// it has 8 bytes or more and is not a plain lower-case word ("services").
func hideURLSecrets(s, rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return s
	}
	var secrets []string
	if pw, ok := u.User.Password(); ok {
		secrets = append(secrets, pw)
	}
	isSep := func(r rune) bool { return r == '/' || r == '&' || r == '=' }
	for _, part := range strings.FieldsFunc(u.EscapedPath()+"&"+u.RawQuery, isSep) {
		secrets = append(secrets, part)
		if un, err := url.QueryUnescape(part); err == nil {
			secrets = append(secrets, un)
		}
	}
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	for _, secret := range secrets {
		if len(secret) >= 8 && strings.Trim(secret, "abcdefghijklmnopqrstuvwxyz-") != "" {
			s = strings.ReplaceAll(s, secret, "***")
		}
	}
	return s
}
