// The syntax of single configuration values: durations, sizes, booleans,
// signals, socket URIs, mail targets and delivery URLs, log scan rules,
// umasks, users, and the shell-like splitting and $VAR expansion of
// commands. Each parser returns an error that says what is accepted.
package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// parseDuration accepts a number of seconds ("0.5", "3") or a Go duration
// ("500ms", "2s", "1m", "1m30s").
func parseDuration(v string) (time.Duration, error) {
	bad := func() error {
		return fmt.Errorf("%q is not a duration; use e.g. 500ms, 2s, 1m or a number of seconds", v)
	}
	if v == "" {
		return 0, bad()
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if !(f >= 0 && f <= 1e9) { // also rejects NaN, which ParseFloat accepts
			return 0, bad()
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, bad()
	}
	return d, nil
}

// parsePositiveDuration is parseDuration for a duration that must be more
// than 0; what says what it is.
func parsePositiveDuration(v, what string) (time.Duration, error) {
	d, err := parseDuration(v)
	if err == nil && d <= 0 {
		return 0, fmt.Errorf("must be more than 0 (%s)", what)
	}
	return d, err
}

var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
	"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
	"g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
	"t": 1 << 40, "tb": 1 << 40, "tib": 1 << 40,
}

// parseSize accepts bytes ("1048576") or a number with a unit ("10MB",
// "512KiB"); KB and KiB both mean 1024 bytes, as in supervisord.
func parseSize(v string) (int64, error) {
	i := strings.IndexFunc(v, func(r rune) bool { return !(r >= '0' && r <= '9' || r == '.') })
	num, unit := v, ""
	if i >= 0 {
		num, unit = v[:i], strings.ToLower(strings.TrimSpace(v[i:]))
	}
	mult, ok := sizeUnits[unit]
	f, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || f < 0 || f*float64(mult) > 1<<62 {
		return 0, fmt.Errorf("%q is not a size; use e.g. 1048576, 512KiB, 10MB or 1GB", v)
	}
	return int64(f * float64(mult)), nil
}

// parseLogSize is a size, or <inf> (0) for a log that never rotates.
func parseLogSize(v string) (int64, error) {
	if v == "<inf>" {
		return 0, nil
	}
	n, err := parseSize(v)
	if err != nil {
		return 0, fmt.Errorf("%w, or <inf> to never rotate", err)
	}
	return n, nil
}

// parseBackups is a count, or <inf> (-1) to keep every backup.
func parseBackups(v string) (int, error) {
	if v == "<inf>" {
		return -1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a number of backups; use 0, 1, 2 ... or <inf> to keep all", v)
	}
	return n, nil
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true", "on", "yes", "1":
		return true, nil
	case "false", "off", "no", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a yes/no value; use yes, no, on, off, true, false, 1 or 0", v)
}

func parseInt(v string, min, max int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		return 0, fmt.Errorf("%q is not a whole number between %d and %d", v, min, max)
	}
	return n, nil
}

func parseRestartPolicy(v string) (RestartPolicy, error) {
	if strings.EqualFold(v, "unexpected") {
		return RestartUnexpected, nil
	}
	b, err := parseBool(v)
	if err != nil {
		return 0, fmt.Errorf("%q is not a restart policy; use no, yes or unexpected (restart unless the exit code is in exitcodes)", v)
	}
	if b {
		return RestartYes, nil
	}
	return RestartNo, nil
}

func parseExitCodes(v string) ([]int, error) {
	codes := []int{}
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 || n > 255 {
			return nil, fmt.Errorf("%q is not an exit code; use a comma-separated list of numbers 0-255, e.g. 0,2", f)
		}
		codes = append(codes, n)
	}
	return codes, nil
}

// signalName is "SIGTERM" for SIGTERM, "SIG34" for a signal without a name.
func signalName(sig syscall.Signal) string {
	for name, s := range signalNames {
		if s == sig {
			return "SIG" + name
		}
	}
	return fmt.Sprintf("SIG%d", int(sig))
}

func parseSignal(v string) (syscall.Signal, error) {
	name := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(v)), "SIG")
	if s, ok := signalNames[name]; ok {
		return s, nil
	}
	if n, err := strconv.Atoi(name); err == nil && n > 0 && n < 65 {
		return syscall.Signal(n), nil
	}
	return 0, fmt.Errorf("%q is not a signal; use names such as TERM, INT, QUIT, HUP, KILL", strings.TrimSpace(v))
}

func parseSignals(v string) ([]syscall.Signal, error) {
	var sigs []syscall.Signal
	for _, f := range strings.Split(v, ",") {
		if strings.TrimSpace(f) == "" {
			continue
		}
		s, err := parseSignal(f)
		if err != nil {
			return nil, err
		}
		sigs = append(sigs, s)
	}
	if len(sigs) == 0 {
		return nil, errors.New("needs at least one signal, e.g. TERM,INT,KILL")
	}
	return sigs, nil
}

func parseUmask(v string) (int, error) {
	n, err := strconv.ParseUint(strings.TrimPrefix(v, "0o"), 8, 32)
	if err != nil || n > 0o777 {
		return 0, fmt.Errorf("%q is not a umask; use octal digits such as 022 or 077", v)
	}
	return int(n), nil
}

// parseLogMode is the octal mode of created logs: at least 0600 (the server
// reopens and rotates them), at most 0664 (nobody but the owner and the
// group may write, nobody executes).
func parseLogMode(v string) (os.FileMode, error) {
	n, err := strconv.ParseUint(strings.TrimPrefix(v, "0o"), 8, 32)
	if err != nil || n > 0o777 {
		return 0, fmt.Errorf("%q is not a file mode; use octal digits such as 0640 or 0600", v)
	}
	mode := os.FileMode(n)
	switch {
	case mode&0o600 != 0o600:
		return 0, fmt.Errorf("%s does not let the owner read and write the log; use 0600 or more, such as 0640", v)
	case mode&^0o664 != 0:
		return 0, fmt.Errorf("%s lets every user write the log or makes it executable; use 0600, 0640 or 0644", v)
	}
	return mode, nil
}

// LogLevel orders the server's log lines, with Python logging's numbers.
type LogLevel int

const (
	LevelDebug    LogLevel = 10
	LevelInfo     LogLevel = 20
	LevelWarning  LogLevel = 30
	LevelError    LogLevel = 40
	LevelCritical LogLevel = 50
)

func (l LogLevel) String() string {
	switch {
	case l <= LevelDebug:
		return "DEBUG"
	case l <= LevelInfo:
		return "INFO"
	case l <= LevelWarning:
		return "WARNING"
	case l <= LevelError:
		return "ERROR"
	}
	return "CRITICAL"
}

func parseLogLevel(v string) (LogLevel, error) {
	switch strings.ToUpper(v) {
	case "DEBUG":
		return LevelDebug, nil
	case "INFO":
		return LevelInfo, nil
	case "WARNING", "WARN":
		return LevelWarning, nil
	case "ERROR":
		return LevelError, nil
	case "CRITICAL", "FATAL":
		return LevelCritical, nil
	}
	return 0, fmt.Errorf("%q is not a log level; use DEBUG, INFO, WARNING, ERROR or CRITICAL", v)
}

// SocketURI is one address of the control channel or the web frontend.
type SocketURI struct {
	Scheme string      // "unix", "tcp" or "tls"
	Path   string      // unix: absolute path, or "@name" in the abstract namespace
	Mode   os.FileMode // unix: permissions of the socket file
	Addr   string      // tcp, tls: host:port
	Cert   string      // tls: certificate, key and CA, absolute paths
	Key    string
	CA     string
}

func (u SocketURI) String() string {
	switch u.Scheme {
	case "unix":
		return "unix://" + u.Path
	default:
		return u.Scheme + "://" + u.Addr
	}
}

// uriRole says what a socket URI is for; it decides which schemes fit.
type uriRole int

const (
	uriListen  uriRole = iota // [ramona:server] consoleuri: tcp:// only on loopback, tls:// with cert, key and ca
	uriConnect                // [ramona:console] serveruri: tls:// with the client's cert, key and ca
	uriWeb                    // the web frontend's listen: plain HTTP, so no tls://
)

// parseSocketURIs reads a comma-separated list of socket URIs. Where the
// server listens for the control channel, tcp:// must be a loopback address:
// anything reachable from elsewhere must be tls:// with client certificates.
func parseSocketURIs(v, baseDir string, role uriRole) ([]SocketURI, error) {
	var uris []SocketURI
	for _, raw := range strings.Split(v, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		u, err := parseSocketURI(raw, baseDir, role)
		if err != nil {
			return nil, err
		}
		uris = append(uris, u)
	}
	if len(uris) == 0 {
		return nil, errors.New("needs at least one address, e.g. unix://.ramona.sock")
	}
	return uris, nil
}

func parseSocketURI(raw, baseDir string, role uriRole) (SocketURI, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return SocketURI{}, fmt.Errorf("%q is not an address; use unix://PATH, tcp://HOST:PORT or tls://HOST:PORT?cert=FILE&key=FILE&ca=FILE", raw)
	}
	u := SocketURI{Scheme: strings.ToLower(scheme)}
	addr, query := rest, ""
	if i := strings.IndexAny(rest, "?;"); i >= 0 { // ";mode=" is the Python original's form
		addr, query = rest[:i], rest[i+1:]
	}
	params := map[string]string{}
	for _, kv := range strings.FieldsFunc(query, func(r rune) bool { return r == '&' || r == ';' }) {
		k, val, _ := strings.Cut(kv, "=")
		if uv, err := url.QueryUnescape(val); err == nil {
			val = uv
		}
		params[k] = val
	}
	allowed := map[string]bool{}
	switch u.Scheme {
	case "unix":
		allowed["mode"] = true
		if addr == "" {
			return u, fmt.Errorf("%q names no socket path; use e.g. unix://.ramona.sock", raw)
		}
		if strings.HasPrefix(addr, "@") {
			u.Path = addr
		} else {
			u.Path = resolvePath(addr, baseDir)
		}
		u.Mode = 0o600
		if m, ok := params["mode"]; ok {
			n, err := strconv.ParseUint(m, 8, 32)
			if err != nil || n > 0o777 {
				return u, fmt.Errorf("mode %q in %q is not an octal permission such as 0600", m, raw)
			}
			u.Mode = os.FileMode(n)
		}
	case "tcp", "tls":
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return u, fmt.Errorf("%q needs HOST:PORT, e.g. %s://127.0.0.1:7788", raw, u.Scheme)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
			return u, fmt.Errorf("port %q in %q is not a number 0-65535", port, raw)
		}
		u.Addr = addr
		if u.Scheme == "tcp" && role == uriListen && !isLoopbackHost(host) {
			return u, fmt.Errorf("%q is not a loopback address; plain tcp:// is only for 127.0.0.1, ::1 or localhost, use tls:// with client certificates for anything else", raw)
		}
		if u.Scheme == "tls" {
			if role == uriWeb {
				return u, fmt.Errorf("%q: the web frontend speaks plain HTTP; use tcp://HOST:PORT", raw)
			}
			for _, k := range []string{"cert", "key", "ca"} {
				allowed[k] = true
				if params[k] == "" {
					return u, fmt.Errorf("%q needs cert=, key= and ca= (mutual TLS); `ramona tls init DIR` writes them", raw)
				}
			}
			u.Cert, u.Key, u.CA = resolvePath(params["cert"], baseDir), resolvePath(params["key"], baseDir), resolvePath(params["ca"], baseDir)
		}
	default:
		return u, fmt.Errorf("%q: unknown scheme %s://; use unix://, tcp:// or tls://", raw, scheme)
	}
	var unknown []string
	for _, k := range sortedKeys(params) {
		if !allowed[k] {
			unknown = append(unknown, strconv.Quote(k))
		}
	}
	if len(unknown) > 0 {
		takes := "none"
		if len(allowed) > 0 {
			takes = strings.Join(sortedKeys(allowed), "=, ") + "="
		}
		plural := ""
		if len(unknown) > 1 {
			plural = "s"
		}
		return u, fmt.Errorf("%q: unknown parameter%s %s; %s:// takes %s", raw, plural, strings.Join(unknown, ", "), u.Scheme, takes)
	}
	return u, nil
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// parseDelivery reads smtp://[user[:pass]@]host[:port]?tls=starttls|none or
// smtps://... (TLS from the start). Its errors never contain the password.
func parseDelivery(v string) (*SMTPDelivery, error) {
	shown := redactDelivery(v)
	scheme, rest, ok := strings.Cut(v, "://")
	d := &SMTPDelivery{StartTLS: "starttls", Port: 25}
	switch {
	case ok && strings.EqualFold(scheme, "smtp"):
	case ok && strings.EqualFold(scheme, "smtps"):
		d.Implicit, d.Port = true, 465
	default:
		return nil, fmt.Errorf("%q is not a mail delivery; use smtp://[user[:password]@]host[:port]?tls=starttls|none or smtps://[user[:password]@]host[:port]", shown)
	}
	// The user and password end at the last '@': a password may hold '?',
	// ';', '/', ':' or '@', so they are cut off before the query is.
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		userinfo := rest[:at]
		rest = rest[at+1:]
		name, pass, _ := strings.Cut(userinfo, ":")
		var err1, err2 error
		d.User, err1 = url.PathUnescape(name)
		p, err2 := url.PathUnescape(pass)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%q: the user or password has a bad %%-escape", shown)
		}
		d.Password = Secret(p)
	}
	query := ""
	if i := strings.IndexAny(rest, "?;"); i >= 0 {
		rest, query = rest[:i], rest[i+1:]
	}
	rest = strings.TrimSuffix(rest, "/")
	host, port := rest, ""
	if h, p, err := net.SplitHostPort(rest); err == nil {
		host, port = h, p
	}
	if host == "" {
		return nil, fmt.Errorf("%q names no mail server host", shown)
	}
	d.Host = host
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n <= 0 || n > 65535 {
			return nil, fmt.Errorf("%q: the port is not a number 1-65535", shown)
		}
		d.Port = n
	}
	for _, kv := range strings.FieldsFunc(query, func(r rune) bool { return r == '&' || r == ';' }) {
		k, val, _ := strings.Cut(kv, "=")
		if k != "tls" {
			return nil, fmt.Errorf("%q: unknown parameter %q (only tls=starttls|none)", shown, k)
		}
		switch strings.ToLower(val) {
		case "starttls", "1", "yes", "true", "on":
			d.StartTLS = "starttls"
		case "none", "0", "no", "false", "off":
			d.StartTLS = "none"
		default:
			return nil, fmt.Errorf("%q: tls=%s is not starttls or none", shown, val)
		}
	}
	return d, nil
}

// redactDelivery hides the password of a delivery URL for messages, also in
// a URL too broken to parse: everything between the first ':' after the
// scheme and the last '@' is a password. Without an '@', "user:password"
// reads as host:port, so a port that is not a number is hidden too.
func redactDelivery(v string) string {
	prefix, rest := "", v
	if i := strings.Index(v, "://"); i >= 0 {
		prefix, rest = v[:i+3], v[i+3:]
	}
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		if name, _, hasPass := strings.Cut(rest[:at], ":"); hasPass {
			return prefix + name + ":***@" + rest[at+1:]
		}
		return v
	}
	hostport, query := rest, ""
	if i := strings.IndexAny(rest, "?;/"); i >= 0 {
		hostport, query = rest[:i], rest[i:]
	}
	if colon := strings.LastIndexByte(hostport, ':'); colon >= 0 && strings.Trim(hostport[colon+1:], "0123456789") != "" {
		return prefix + hostport[:colon] + ":***" + query
	}
	return v
}

// parseRecipients reads a comma-separated list of mail addresses and
// webhook URLs.
func parseRecipients(v string) ([]string, error) {
	var list []string
	for _, a := range strings.Split(v, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		r, err := parseRecipient(a)
		if err != nil {
			return nil, err
		}
		list = append(list, r)
	}
	return list, nil
}

func hasMailAddress(recipients []string) bool {
	for _, r := range recipients {
		if !isWebhookURL(r) {
			return true
		}
	}
	return false
}

// parseRecipient reads one mail address or webhook URL.
func parseRecipient(v string) (string, error) {
	if looksLikeURL(v) {
		return parseWebhookURL(v)
	}
	return v, checkAddress(v)
}

func checkAddress(a string) error {
	if !strings.Contains(a, "@") || strings.ContainsAny(a, " \t<>,;") {
		return fmt.Errorf("%q is not a mail address such as ops@example.com, nor a webhook URL such as https://hooks.example.com/ramona", a)
	}
	return nil
}

func parseTimeOfDay(v string) (time.Duration, error) {
	t, err := time.Parse("15:04", v)
	if err != nil {
		return 0, fmt.Errorf("%q is not a time of day; use HH:MM, e.g. 09:00", v)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

var errNotTarget = errors.New("not a notification target")

// parseProgramNotifyTarget is parseNotifyTarget for a program's key, where
// <global> (the [ramona:notify] setting) is also accepted.
func parseProgramNotifyTarget(v string, global NotifyTarget) (NotifyTarget, error) {
	if v == "<global>" {
		return global, nil
	}
	t, err := parseNotifyTarget(v)
	if errors.Is(err, errNotTarget) {
		err = fmt.Errorf("%q is %w; use now, daily, now:ADDR, daily:ADDR, <none> or <global> (the setting of [ramona:notify])", redactURLs(v), errNotTarget)
	}
	return t, err
}

// parseNotifyTarget reads now, daily, now:ADDR, daily:ADDR or <none>, where
// ADDR is a mail address or a webhook URL (mailto:ADDR, from the Python
// original, means now:ADDR).
func parseNotifyTarget(v string) (NotifyTarget, error) {
	when, addr, hasAddr := strings.Cut(v, ":")
	when = strings.ToLower(strings.TrimSpace(when))
	switch {
	case v == "<none>":
		return NotifyTarget{}, nil
	case when == "mailto":
		when = "now"
	case when != "now" && when != "daily":
		hint := ""
		if looksLikeURL(v) {
			hint = " (a URL needs now: or daily: before it)"
		}
		return NotifyTarget{}, fmt.Errorf("%q is %w; use now, daily, now:ADDR, daily:ADDR or <none>%s", redactURLs(v), errNotTarget, hint)
	}
	t := NotifyTarget{When: when}
	if hasAddr {
		r, err := parseRecipient(strings.TrimSpace(addr))
		if err != nil {
			return NotifyTarget{}, err
		}
		t.To = []string{r}
	}
	return t, nil
}

// parseLogScan reads keyword>target,... rules; <none> disables scanning.
func parseLogScan(v string) ([]LogScanRule, error) {
	if v == "<none>" || v == "" {
		return nil, nil
	}
	var rules []LogScanRule
	for _, r := range strings.Split(v, ",") {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		kw, target, ok := strings.Cut(r, ">")
		kw = strings.TrimSpace(kw)
		if !ok || kw == "" {
			return nil, fmt.Errorf("rule %q is not keyword>target; write e.g. error>now or warn>daily:ops@example.com", redactURLs(r))
		}
		t, err := parseNotifyTarget(strings.TrimSpace(target))
		if err != nil {
			return nil, fmt.Errorf("rule %q: %w", redactURLs(r), err)
		}
		rules = append(rules, LogScanRule{Keyword: strings.ToLower(kw), Target: t})
	}
	return rules, nil
}

type userInfo struct {
	name     string
	uid, gid uint32
	groups   []uint32
	home     string
}

// lookupUser resolves a user name or numeric uid.
func lookupUser(v string) (userInfo, error) {
	u, err := user.Lookup(v)
	if err != nil {
		if _, numErr := strconv.Atoi(v); numErr == nil {
			u, err = user.LookupId(v)
		}
	}
	if err != nil {
		return userInfo{}, fmt.Errorf("no user %q on this system; create it or name an existing user", v)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	info := userInfo{name: u.Username, uid: uint32(uid), gid: uint32(gid), home: u.HomeDir}
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if g, err := strconv.ParseUint(id, 10, 32); err == nil {
				info.groups = append(info.groups, uint32(g))
			}
		}
	}
	return info, nil
}

func defaultSender() string {
	name := "ramona"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return name + "@" + host
}

// splitCommand splits a command line into words as a shell would, without
// running one: whitespace separates words, '...' and "..." quote, a
// backslash escapes the next character (inside "..." only before $ " \),
// and $VAR / ${VAR} outside single quotes are replaced by lookup's value
// without further splitting; a word that is only unquoted expansions that
// came out empty is dropped ("$EMPTY" is no word, "\"$EMPTY\"" an empty one).
// Names lookup does not know expand to nothing and are returned in missing.
func splitCommand(s string, lookup func(string) (string, bool)) (words []string, err error) {
	words, _, err = splitCommandMissing(s, lookup)
	return words, err
}

func splitCommandMissing(s string, lookup func(string) (string, bool)) (words, missing []string, err error) {
	var cur strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			words = append(words, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	expand := func(i int) int { // s[i] == '$'; returns the index of the last byte used
		name, end := varName(s, i)
		if end < 0 {
			err = fmt.Errorf("unfinished ${ in %q; write ${NAME}", s)
			return len(s)
		}
		if name == "" {
			cur.WriteByte('$')
			if end > i && s[end] == '$' { // "$$" is a literal "$"
				return end
			}
			return i
		}
		v, ok := lookup(name)
		if !ok {
			missing = append(missing, name)
		}
		cur.WriteString(v)
		return end
	}
	for i := 0; i < len(s) && err == nil; i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			flush()
		case c == '\\':
			inWord = true
			if i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			}
		case c == '\'':
			inWord = true
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, nil, fmt.Errorf("unterminated ' quote in %q", s)
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
		case c == '"':
			inWord = true
			i++
			for ; i < len(s) && s[i] != '"' && err == nil; i++ {
				switch {
				case s[i] == '\\' && i+1 < len(s) && strings.IndexByte("$\"\\`", s[i+1]) >= 0:
					i++
					cur.WriteByte(s[i])
				case s[i] == '$':
					i = expand(i)
				default:
					cur.WriteByte(s[i])
				}
			}
			if i >= len(s) && err == nil {
				return nil, nil, fmt.Errorf("unterminated \" quote in %q", s)
			}
		case c == '$':
			// As in a shell, a word made only of unquoted expansions that
			// are empty is no word at all: "prog $OPTIONAL" with OPTIONAL
			// unset runs prog without an empty argument.
			before := cur.Len()
			i = expand(i)
			if cur.Len() > before {
				inWord = true
			}
		default:
			inWord = true
			cur.WriteByte(c)
		}
	}
	if err != nil {
		return nil, nil, err
	}
	flush()
	if len(words) == 0 {
		return nil, nil, errors.New("the command is empty")
	}
	return words, missing, nil
}

// varName reads the variable name after s[i] == '$': it returns the name and
// the index of its last byte; an empty name means a literal "$" (end is i, or
// i+1 for "$$"); end -1 means an unfinished "${".
func varName(s string, i int) (string, int) {
	if i+1 >= len(s) {
		return "", i
	}
	if s[i+1] == '$' {
		return "", i + 1
	}
	if s[i+1] == '{' {
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			return "", -1
		}
		return s[i+2 : i+2+end], i + 2 + end
	}
	j := i + 1 // a name is [A-Za-z_][A-Za-z0-9_]*, in bytes: no UTF-8 sequence is cut
	for j < len(s) && (s[j] == '_' || 'a' <= s[j] && s[j] <= 'z' || 'A' <= s[j] && s[j] <= 'Z' || (j > i+1 && s[j] >= '0' && s[j] <= '9')) {
		j++
	}
	if j == i+1 {
		return "", i
	}
	return s[i+1 : j], j - 1
}

// expandVars replaces $VAR and ${VAR} in s (no quoting, no splitting), for
// paths such as directory and pidfile.
func expandVars(s string, getenv func(string) string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			b.WriteByte(s[i])
			continue
		}
		name, end := varName(s, i)
		if end < 0 || name == "" {
			b.WriteByte('$')
			if end > i {
				i = end
			}
			continue
		}
		b.WriteString(getenv(name))
		i = end
	}
	return b.String()
}

// expandHome turns a leading "~" into the home directory.
func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}

// resolvePath makes p absolute: "~" is the home directory, and a relative
// path is relative to baseDir (the directory of the config file).
func resolvePath(p, baseDir string) string {
	p = expandHome(p)
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(baseDir, p)
}

// pathErrText is the reason of a file error without the path repeated.
func pathErrText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// closestWord suggests the known word a typo was probably meant to be.
func closestWord(word string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if d := editDistance(strings.ToLower(word), k); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// checkPasswordHash checks a web password written as a digest: {SHA} needs
// 40 hexadecimal digits, {SHA256} 64. A plain password is anything. The
// message never shows the value.
func checkPasswordHash(v string) error {
	for _, h := range []struct {
		prefix, tool string
		digits       int
	}{{"{SHA256}", "sha256sum", 64}, {"{SHA}", "sha1sum", 40}} {
		digest, ok := strings.CutPrefix(v, h.prefix)
		if !ok {
			continue
		}
		if _, err := hex.DecodeString(digest); err != nil || len(digest) != h.digits {
			return fmt.Errorf("a %s password is %d hexadecimal digits (printf %%s PASSWORD | %s), and this one is not (the value is not shown)",
				h.prefix, h.digits, h.tool)
		}
		return nil
	}
	return nil
}

// parseHostnames reads hostname=: comma-separated host names or IP
// addresses, without scheme or port; they are kept in lower case without a
// final dot, as Host headers are compared.
func parseHostnames(v string) ([]string, error) {
	var names []string
	for _, h := range strings.Split(v, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		name := strings.TrimSuffix(strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")), ".")
		if net.ParseIP(name) == nil && (name == "" || strings.ContainsAny(name, "/:@?#[] \t")) {
			return nil, fmt.Errorf("%q is not a host name; write names or IP addresses without scheme or port, comma-separated, e.g. hostname=ramona.example.com, 192.0.2.7", h)
		}
		names = append(names, name)
	}
	return names, nil
}
