// The Mailer's mail transport: composing a mail (quoted-printable, the
// application and host in the subject) and sending it over SMTP, one
// conversation per mail with implicit TLS (smtps://) or STARTTLS whenever
// offered (unless tls=none), AUTH PLAIN or LOGIN only encrypted or to a
// loopback host, one deadline and a bound on what the server sends back.
// Nothing here ever writes the password out.
package main

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

const smtpReplyLimit = 1 << 20 // what a server may send in one conversation

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

// smtpSend delivers msg to the recipients through d.
func (m *Mailer) smtpSend(d *SMTPDelivery, from string, to []string, msg []byte) error {
	addr := net.JoinHostPort(d.Host, strconv.Itoa(d.Port))
	if m.dialAddr != nil {
		addr = m.dialAddr(d.Host, d.Port)
	}
	deadline := time.Now().Add(m.sendTimeout)
	dialer := net.Dialer{Deadline: deadline}
	raw, err := dialer.Dial("tcp", addr)
	if err != nil {
		return err
	}
	raw.SetDeadline(deadline)
	var conn net.Conn = &boundedConn{Conn: raw, left: smtpReplyLimit}
	tlsConf := &tls.Config{ServerName: d.Host, RootCAs: m.rootCAs, MinVersion: tls.VersionTLS12}
	if d.Implicit {
		tc := tls.Client(conn, tlsConf)
		if err := tc.Handshake(); err != nil {
			conn.Close()
			return fmt.Errorf("TLS with %s: %v", addr, err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, d.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("%s: %v", addr, err)
	}
	defer c.Close()
	if err := c.Hello(m.hostname); err != nil {
		return fmt.Errorf("EHLO: %v", err)
	}
	encrypted := d.Implicit
	if !encrypted && d.StartTLS != "none" {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tlsConf); err != nil {
				return fmt.Errorf("STARTTLS with %s: %v", addr, err)
			}
			encrypted = true
		}
	}
	if d.User != "" {
		if !encrypted && !isLoopbackHost(d.Host) {
			if d.StartTLS == "none" {
				return fmt.Errorf("delivery has tls=none: not sending the password for %s unencrypted to %s (only a loopback host may get it so)", d.User, d.Host)
			}
			return fmt.Errorf("%s offers no STARTTLS: not sending the password for %s over an unencrypted connection", d.Host, d.User)
		}
		ok, offered := c.Extension("AUTH")
		if !ok {
			return fmt.Errorf("%s offers no AUTH, but delivery names the user %s", d.Host, d.User)
		}
		mech := ""
		for _, x := range strings.Fields(strings.ToUpper(offered)) {
			if x == "PLAIN" || x == "LOGIN" && mech == "" {
				mech = x // PLAIN when offered, else LOGIN
			}
		}
		if mech == "" {
			return fmt.Errorf("%s offers AUTH %s; Ramona speaks PLAIN and LOGIN", d.Host, offered)
		}
		if err := c.Auth(&smtpAuth{mech: mech, user: d.User, pass: string(d.Password)}); err != nil {
			return fmt.Errorf("AUTH %s as %s: %v", mech, d.User, err)
		}
	}
	if err := c.Mail(from); err != nil {
		return rejection("MAIL FROM", err)
	}
	var accepted, refused []string
	var lastRefusal error
	for _, r := range to {
		if err := c.Rcpt(r); err != nil {
			var tp *textproto.Error
			if !errors.As(err, &tp) || tp.Code < 500 {
				return fmt.Errorf("RCPT TO %s: %v", r, err)
			}
			refused = append(refused, fmt.Sprintf("%s (%v)", r, err))
			lastRefusal = err
			continue
		}
		accepted = append(accepted, r)
	}
	if len(accepted) == 0 {
		return rejection("RCPT TO", lastRefusal)
	}
	if len(refused) > 0 {
		m.log.Warnf("mail: the server refused recipient(s) %s; sending to %s", scrubPassword(strings.Join(refused, ", "), d), strings.Join(accepted, ", "))
	}
	w, err := c.Data()
	if err != nil {
		return rejection("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return rejection("DATA", err)
	}
	c.Quit() // the mail is accepted; how the server says goodbye does not matter
	return nil
}

// rejection marks a 5xx reply as final.
func rejection(stage string, err error) error {
	var tp *textproto.Error
	if errors.As(err, &tp) && tp.Code >= 500 {
		return &rejectedError{err: &textproto.Error{Code: tp.Code, Msg: stage + ": " + tp.Msg}}
	}
	return fmt.Errorf("%s: %v", stage, err)
}

// rejectedError is the server refusing a mail for good (a 5xx reply to
// MAIL, RCPT or DATA): retrying would not help.
type rejectedError struct{ err *textproto.Error }

func (e *rejectedError) Error() string   { return e.err.Error() }
func (e *rejectedError) permanent() bool { return true }

// smtpAuth is AUTH PLAIN or LOGIN. Whether the connection may carry the
// password is decided before it is used.
type smtpAuth struct {
	mech, user, pass string
	step             int
}

func (a *smtpAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	if a.mech == "PLAIN" {
		return "PLAIN", []byte("\x00" + a.user + "\x00" + a.pass), nil
	}
	return "LOGIN", nil, nil
}

func (a *smtpAuth) Next(challenge []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	if a.mech != "LOGIN" {
		return nil, errors.New("unexpected challenge from the server")
	}
	a.step++
	switch strings.ToLower(strings.TrimSpace(string(challenge))) {
	case "username:", "user name", "username":
		return []byte(a.user), nil
	case "password:", "password":
		return []byte(a.pass), nil
	}
	switch a.step { // an unusual prompt: LOGIN asks for the user, then the password
	case 1:
		return []byte(a.user), nil
	case 2:
		return []byte(a.pass), nil
	}
	return nil, errors.New("unexpected challenge from the server")
}

// boundedConn ends a conversation in which the server sends too much.
type boundedConn struct {
	net.Conn
	left int
}

func (c *boundedConn) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, fmt.Errorf("the mail server sent more than %d bytes", smtpReplyLimit)
	}
	if len(p) > c.left {
		p = p[:c.left]
	}
	n, err := c.Conn.Read(p)
	c.left -= n
	return n, err
}
