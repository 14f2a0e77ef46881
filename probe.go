// Readiness and health probes for programs that do not speak the notify
// protocol (SPEC section 10): the three forms a ready= or healthcheck= value
// takes (tcp://HOST:PORT, http://HOST:PORT/PATH, exec:COMMAND), their check
// at load, and the runners that try one probe off the loop, bounded by a
// timeout, and say why it failed. When to probe and what a result does is
// health.go; an exec probe's exit status comes from the one reaper through
// childWaiter.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
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
		return Probe{}, fmt.Errorf("%q: https is not probed (the certificates of local services are rarely verifiable); probe the plain port with http:// or tcp://, or run a client: exec:curl -fsS https://...", redactURL(v))
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
	if err != nil || pr.Kind != probeExec {
		return pr, err
	}
	environ := make([]string, 0, len(r.ld.environ))
	for k, v := range r.ld.environ {
		environ = append(environ, k+"="+v)
	}
	lookup := envLookup(programEnv(p, r.ld.cfg, environ, "", ""))
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
	cred      *syscall.Credential // nil: the server's own user
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

// run starts the command with the program's environment, directory and user
// in a process group of its own and waits for its exit; at timeout (or when
// ctx ends) the whole group is killed. Whatever the command left behind in
// its group is killed once it exited.
func (ex *execProbe) run(ctx context.Context, command string, timeout time.Duration) error {
	rc, err := resolveCommand(command, ex.directory, ex.baseDir, envLookup(ex.env))
	if err != nil {
		return err
	}
	path, argv := rc.path, rc.argv
	stdin, err := devNull()
	if err != nil {
		return err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	// The child gets SIGKILL if the thread that forked it ends (a Go thread
	// ends only when a locked goroutine returns): this one stays locked
	// until the probe is over.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	pid, exited, err := ex.waiter.start(func() (int, error) {
		return syscall.ForkExec(path, argv, &syscall.ProcAttr{
			Dir:   rc.dir,
			Env:   ex.env,
			Files: []uintptr{stdin.Fd(), w.Fd(), w.Fd()},
			Sys:   &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: ex.cred},
		})
	})
	w.Close()
	if err != nil {
		r.Close()
		return fmt.Errorf("cannot start %s: %v", path, err)
	}
	var out []byte
	read := make(chan struct{})
	go func() { // ends at EOF, or at the read deadline set once the probe exited
		defer close(read)
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			if keep := min(n, probeOutputKept-len(out)); keep > 0 {
				out = append(out, buf[:keep]...)
			}
			if err != nil {
				return
			}
		}
	}()
	var ws syscall.WaitStatus
	killed := ""
	select {
	case ws = <-exited:
	case <-ctx.Done(): // runProbe's timeout, or the program is no longer watched
		killed = "abandoned: the program is no longer watched"
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			killed = fmt.Sprintf("killed after %s without an answer", timeout)
		}
	}
	syscall.Kill(-pid, syscall.SIGKILL) // the rest of its group, or all of it at timeout
	if killed != "" {
		select {
		case <-exited:
		case <-time.After(probeReapWait):
		}
	}
	r.SetReadDeadline(time.Now().Add(probeOutputWait))
	<-read
	r.Close()
	if killed != "" {
		return errors.New(killed)
	}
	if ws == lostWait {
		return errors.New("its exit status was collected by another waiter")
	}
	if ws.Exited() && ws.ExitStatus() == 0 {
		return nil
	}
	why := describeWait(ws)
	if text := strings.TrimSpace(string(out)); text != "" {
		text = strings.Join(strings.Fields(text), " ")
		if len(text) > probeReasonMax {
			text = strings.ToValidUTF8(text[:probeReasonMax], "") + "..."
		}
		why += ": " + text
	}
	return errors.New(why)
}

// lostWait stands for an exit status that wait4 could not give (ECHILD:
// something else collected it); wait4 without WUNTRACED never returns it.
const lostWait syscall.WaitStatus = 0xffff

// childWaiter hands the exit status of processes that are not programs
// (exec probes) from the one reaper to the goroutine that waits for them.
// A child is registered under the lock its fork runs in, so the reaper,
// which asks under the same lock, cannot see its exit first.
type childWaiter struct {
	mu      sync.Mutex
	waiting map[int]chan syscall.WaitStatus // by pid
	// Without a server's reaper (unit tests): a goroutine waits for each
	// child by its pid.
	reapEach bool
}

func newChildWaiter() *childWaiter {
	return &childWaiter{waiting: map[int]chan syscall.WaitStatus{}}
}

// start runs fork and registers the pid it returns.
func (w *childWaiter) start(fork func() (int, error)) (int, <-chan syscall.WaitStatus, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	pid, err := fork()
	if err != nil {
		return 0, nil, err
	}
	ch := make(chan syscall.WaitStatus, 1)
	w.waiting[pid] = ch
	if w.reapEach {
		go func() { // ends when the child has exited
			var ws syscall.WaitStatus
			for {
				_, err := syscall.Wait4(pid, &ws, 0, nil)
				if err == nil {
					break
				}
				if err != syscall.EINTR {
					ws = lostWait
					break
				}
			}
			w.deliver(pid, ws)
		}()
	}
	return pid, ch, nil
}

// deliver hands the status of a reaped pid to its waiter; false when no one
// waits for that pid (it is a program's, or an orphan's).
func (w *childWaiter) deliver(pid int, ws syscall.WaitStatus) bool {
	if w == nil {
		return false
	}
	w.mu.Lock()
	ch, ok := w.waiting[pid]
	delete(w.waiting, pid)
	w.mu.Unlock()
	if ok {
		ch <- ws
	}
	return ok
}
