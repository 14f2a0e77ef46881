// Readiness and health probes for programs that do not speak the notify
// protocol (SPEC section 10): the three forms a ready= or healthcheck= value
// takes (tcp://HOST:PORT, http://HOST:PORT/PATH, exec:COMMAND), their check
// at load, and the runners that try one probe off the loop, bounded by a
// timeout, and say why it failed. When to probe and what a result does is
// health.go; how an exec probe runs is probe_unix.go.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// probeKind is the form of a probe.
type probeKind int

const (
	probeNone probeKind = iota
	probeTCP            // a connection to HOST:PORT succeeds
	probeHTTP           // GET answers 2xx or 3xx
	probeExec           // the command exits 0
)

// Probe is one ready= or healthcheck= probe as the configuration gives it.
type Probe struct {
	Kind   probeKind
	Target string // tcp: HOST:PORT; http: the URL; exec: the command as written
}

const (
	probeAnswerLimit = 64 << 10               // bytes of an HTTP answer read (and thrown away)
	probeOutputKept  = 512                    // bytes of an exec probe's output kept for the reason
	probeReasonMax   = 200                    // bytes of that output quoted in a reason
	probeOutputWait  = 100 * time.Millisecond // after an exec probe exited, how long its output may still come
	probeReapWait    = 5 * time.Second        // after SIGKILL, how long an exec probe's exit may take to be reaped
)

// String is the probe as it is written in the configuration.
func (p Probe) String() string {
	switch p.Kind {
	case probeTCP:
		return "tcp://" + p.Target
	case probeHTTP:
		return p.Target
	case probeExec:
		return "exec:" + p.Target
	}
	return ""
}

// shown is the probe as logs, status, mail and webhooks name it: an URL
// without its query (which may hold a token), a command by its first word
// only (its arguments may hold a password).
func (p Probe) shown() string {
	switch p.Kind {
	case probeHTTP:
		if u, err := url.Parse(p.Target); err == nil {
			u.RawQuery, u.ForceQuery, u.Fragment = "", false, ""
			return u.String()
		}
	case probeExec:
		first := strings.Fields(p.Target)
		if len(first) > 0 {
			return "exec:" + first[0]
		}
	}
	return p.String()
}

// parseProbe checks a probe from the configuration.
func parseProbe(v string) (Probe, error) {
	lower := strings.ToLower(v)
	switch {
	case strings.HasPrefix(lower, "tcp://"):
		addr := v[len("tcp://"):]
		if strings.ContainsAny(addr, "/?#") {
			return Probe{}, fmt.Errorf("%q: a tcp probe is tcp://HOST:PORT, without a path", v)
		}
		if err := checkHostPort(addr); err != nil {
			return Probe{}, fmt.Errorf("%q: %v; write tcp://HOST:PORT, e.g. tcp://127.0.0.1:6379", v, err)
		}
		return Probe{Kind: probeTCP, Target: addr}, nil
	case strings.HasPrefix(lower, "http://"):
		u, err := url.Parse(v)
		if err != nil {
			return Probe{}, fmt.Errorf("%q is not a URL: %v", v, errors.Unwrap(err))
		}
		if u.User != nil {
			return Probe{}, fmt.Errorf("%q: a probe sends no credentials, and a password here would show in status and logs; let the program answer its health URL without one", redactURL(v))
		}
		if u.Fragment != "" {
			return Probe{}, fmt.Errorf("%q: a URL fragment (#...) is never sent; remove it", v)
		}
		if u.Hostname() == "" {
			return Probe{}, fmt.Errorf("%q: no host; write http://HOST:PORT/PATH, e.g. http://127.0.0.1:8080/healthz", v)
		}
		if u.Port() != "" {
			if err := checkPort(u.Port()); err != nil {
				return Probe{}, fmt.Errorf("%q: %v", v, err)
			}
		}
		return Probe{Kind: probeHTTP, Target: "http://" + v[len("http://"):]}, nil
	case strings.HasPrefix(lower, "https://"):
		return Probe{}, fmt.Errorf("%q: https is not probed (the certificates of local services are rarely verifiable); probe the plain port with http:// or tcp://, or run a client: exec:curl -fsS https://HOST/PATH", redactURL(v))
	case strings.HasPrefix(lower, "exec:"):
		cmd := strings.TrimSpace(v[len("exec:"):])
		if cmd == "" {
			return Probe{}, errors.New("exec: needs a command, e.g. exec:pg_isready -h 127.0.0.1")
		}
		words, err := splitCommand(cmd, func(string) (string, bool) { return "x", true })
		if err != nil {
			return Probe{}, err
		}
		if len(words) == 0 {
			return Probe{}, errors.New("exec: needs a command, e.g. exec:pg_isready -h 127.0.0.1")
		}
		return Probe{Kind: probeExec, Target: cmd}, nil
	}
	return Probe{}, fmt.Errorf("%q is not a probe; use tcp://HOST:PORT, http://HOST:PORT/PATH or exec:COMMAND", v)
}

// probe parses a ready= or healthcheck= value of p. An exec probe's command
// must be found where it will run: in p's PATH, relative to p's directory
// (unless its name is made of a variable that is not set yet).
func (r *sectionReader) probe(p *ProgramConfig, v string) (Probe, error) {
	pr, err := parseProbe(v)
	if err == nil {
		if why := probeUnsupported(pr.Kind); why != "" {
			return pr, errors.New(why)
		}
	}
	if err != nil || pr.Kind != probeExec {
		return pr, err
	}
	environ := make([]string, 0, len(r.ld.environ))
	for k, v := range r.ld.environ {
		environ = append(environ, k+"="+v)
	}
	lookup := envLookup(programEnv(p, "program:"+p.Name, r.ld.cfg, environ, "", ""))
	argv, missing, err := splitCommandMissing(pr.Target, lookup)
	if err != nil || len(missing) > 0 {
		return pr, err
	}
	dir, err := workDir(p.Directory, p.BaseDir, lookup)
	if err != nil {
		return pr, nil // the program's start says what is wrong with its directory
	}
	pathVar, _ := lookup("PATH")
	if _, err := lookPath(argv[0], pathVar, dir); err != nil {
		return pr, fmt.Errorf("exec: %v; install it or give its full path", err)
	}
	return pr, nil
}

// checkHostPort checks HOST:PORT of a tcp probe.
func checkHostPort(hostport string) error {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return errors.New("no HOST:PORT")
	}
	if host == "" {
		return errors.New("no host")
	}
	return checkPort(port)
}

func checkPort(port string) error {
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 1 to 65535", port)
	}
	return nil
}

// execProbe is what an exec probe needs besides its command: the program's
// environment, directory and user, gathered on the loop; the command is
// resolved (as a program's: resolveCommand) and started off it.
type execProbe struct {
	env       []string
	directory string // the program's directory key, and its file's directory
	baseDir   string
	asUser    bool // as the program's user (uid, gid, groups), not the server's
	uid, gid  uint32
	groups    []uint32
	waiter    *childWaiter
}

// runProbe tries p once, at most timeout long; nil when it succeeded, else
// why not. An exec probe needs ex. When ctx is cancelled (the program
// stopped) the probe is abandoned, an exec probe killed.
func runProbe(ctx context.Context, p Probe, timeout time.Duration, ex *execProbe) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var err error
	switch p.Kind {
	case probeTCP:
		var conn net.Conn
		if conn, err = (&net.Dialer{}).DialContext(ctx, "tcp", p.Target); err == nil {
			conn.Close()
		}
	case probeHTTP:
		err = httpProbe(ctx, p.Target)
	case probeExec:
		return ex.run(ctx, p.Target, timeout)
	default:
		return errors.New("no probe")
	}
	if err == nil {
		return nil
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("no answer within %s", timeout)
	}
	return errors.New(netErrText(err))
}

// probeClient asks health URLs: no proxy (the environment's HTTP_PROXY is
// not for local services), a new connection every time (a probe asks
// whether the program accepts one), redirects not followed (a 3xx is an
// answer).
var probeClient = &http.Client{
	Transport: &http.Transport{
		Proxy:                  nil,
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: probeAnswerLimit,
	},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func httpProbe(ctx context.Context, target string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "ramona-probe/"+version)
	resp, err := probeClient.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, probeAnswerLimit))
	resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 400 {
		return nil
	}
	return fmt.Errorf("answered %s", resp.Status)
}

// netErrText is a network error without the layers that repeat the address:
// "connection refused", "cannot resolve db.local: no such host".
func netErrText(err error) string {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return "cannot resolve " + dns.Name + ": " + dns.Err
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}
