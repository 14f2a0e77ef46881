// The web frontend (command=<httpfend>): `ramona httpfend NAME` serves one
// page, its script and style, a JSON API, /metrics and /healthz on every
// listen address of [program:NAME], and talks to the server over the control
// channel (a fresh connection per request). Its rules: only Host names it
// serves; Basic auth when username is set (except /healthz), else on loopback
// tcp only the frontend's own uid and root; state changes only by POST that
// passes CrossOriginProtection; a GET never changes anything; every
// connection admitted, every write under a deadline.
package main

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	// webWriteTimeout bounds each write of an answer (each event of a
	// follow stream): a client that does not read is dropped.
	webWriteTimeout = 30 * time.Second
	// webCallTimeout bounds a status or tail call to the server.
	webCallTimeout = 30 * time.Second
	// healthzCacheTime is how long one answer of the server serves /healthz,
	// which needs no password: a flood of probes is one call a second.
	healthzCacheTime = time.Second
)

// webUI is one frontend process: its section and the server it talks to.
type webUI struct {
	pc      *ProgramConfig
	server  SocketURI
	logf    func(level LogLevel, format string, args ...any)
	streaks *logStreaks // refusals, logged once per streak
	names   map[string]bool
	csrf    *http.CrossOriginProtection

	healthMu sync.Mutex // guards healthAt and healthOK; held while asking the server
	healthAt time.Time
	healthOK bool
}

// webPeer is what the frontend knows of a connection's peer.
type webPeer struct {
	peer peerIdentity
	tcp  bool // a tcp:// listener: the uid rule applies when there is no password
}

type webPeerKey struct{}

// newWebUI prepares the frontend of pc: the Host names it answers (loopback
// names are always in) and its cross-origin check.
func newWebUI(pc *ProgramConfig, server SocketURI, logf func(level LogLevel, format string, args ...any)) *webUI {
	w := &webUI{pc: pc, server: server, logf: logf, streaks: newLogStreaks(logf), names: map[string]bool{"localhost": true},
		csrf: http.NewCrossOriginProtection()}
	for _, h := range pc.Hostnames {
		w.names[h] = true
	}
	for _, u := range pc.Listen {
		if host, _, err := net.SplitHostPort(u.Addr); err == nil && u.Scheme == "tcp" && host != "" {
			w.names[strings.TrimSuffix(strings.ToLower(host), ".")] = true
		}
	}
	return w
}

// runWebFrontend is `ramona httpfend NAME`; it returns when SIGTERM or
// SIGINT arrives (exit 0) or a listener fails (exit 1).
func runWebFrontend(cfg *Config, args []string, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "ramona: usage: ramona httpfend PROGRAM (the [program:PROGRAM] with command=<httpfend>)")
		return exitUsage
	}
	var pc *ProgramConfig
	for _, p := range cfg.Programs {
		if p.Name == args[0] {
			pc = p
		}
	}
	switch {
	case pc == nil:
		fmt.Fprintf(stderr, "ramona: httpfend: the configuration has no [program:%s]\n", args[0])
		return exitUsage
	case pc.Err != nil:
		fmt.Fprintf(stderr, "ramona: httpfend: [program:%s] has errors:\n%v\n", pc.Name, pc.Err)
		return exitUsage
	case !pc.HTTPFrontend:
		fmt.Fprintf(stderr, "ramona: httpfend: %s:%d: [program:%s] is not command=<httpfend>\n", pc.File, pc.Line, pc.Name)
		return exitUsage
	}
	var mu sync.Mutex
	w := newWebUI(pc, cfg.Console.ServerURI, func(level LogLevel, format string, args ...any) {
		if level < pc.LogLevel {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(stderr, "%s %s %s\n", time.Now().Format("2006-01-02 15:04:05"), level, fmt.Sprintf(format, args...))
	})
	var listeners []net.Listener
	for _, u := range pc.Listen {
		l, err := listenWeb(u, pc.Name, w.streaks)
		if err != nil {
			for _, l := range listeners {
				l.Close()
			}
			fmt.Fprintf(stderr, "ramona: httpfend %s: %v\n", pc.Name, err)
			return exitFailed
		}
		listeners = append(listeners, l)
	}
	srv := &http.Server{
		Handler:           w,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second, // a request's body too; follow streams lift it
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			wp := webPeer{peer: peerIdentity{uid: -1, err: errors.New("not an admitted connection")}, tcp: true}
			if ac, ok := c.(*admittedConn); ok {
				_, wp.tcp = ac.Conn.(*net.TCPConn)
				wp.peer = ac.peer
			}
			return context.WithValue(ctx, webPeerKey{}, wp)
		},
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	failed := make(chan error, len(listeners))
	for i, l := range listeners {
		w.logf(LevelInfo, "%s: web frontend listening on %s (server %s)", pc.Name, pc.Listen[i], w.server)
		go func() { failed <- srv.Serve(l) }() // ends when srv is shut down or the listener fails
	}
	code := exitOK
	select {
	case <-ctx.Done():
		w.logf(LevelInfo, "%s: web frontend stopping", pc.Name)
	case err := <-failed:
		fmt.Fprintf(stderr, "ramona: httpfend %s: %v\n", pc.Name, err)
		code = exitFailed
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	srv.Shutdown(sctx) // follow streams do not end by themselves: Close after the grace time
	srv.Close()
	for _, u := range pc.Listen {
		if u.Scheme == "unix" && !strings.HasPrefix(u.Path, "@") {
			os.Remove(u.Path)
		}
	}
	return code
}

// listenWeb opens one listen address: tcp://HOST:PORT or unix://PATH (a stale
// socket file is replaced; the file gets the address's mode). Its
// connections are admitted (identified, counted) as the control channel's.
func listenWeb(u SocketURI, name string, streaks *logStreaks) (net.Listener, error) {
	l, err := listenWebSocket(u)
	if err != nil {
		return nil, err
	}
	al := newAdmitListener(l, u.String(), streaks, refuseHTTP)
	al.logPrefix = name
	return al, nil
}

// refuseHTTP answers a connection refused at admission.
func refuseHTTP(conn net.Conn, why string) {
	body := "service unavailable: " + why + "\n"
	fmt.Fprintf(conn, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
}

func listenWebSocket(u SocketURI) (net.Listener, error) {
	switch u.Scheme {
	case "tcp":
		return net.Listen("tcp", u.Addr)
	case "unix":
		if !strings.HasPrefix(u.Path, "@") {
			if c, err := net.DialTimeout("unix", u.Path, time.Second); err == nil {
				c.Close()
				return nil, fmt.Errorf("%s: another process listens there", u)
			}
			os.Remove(u.Path)
		}
		return listenUnixMode(u.Path, u.Mode)
	}
	return nil, fmt.Errorf("%s: the web frontend listens on tcp:// or unix:// only", u)
}

// call sends one request to the server on a fresh connection; a timeout
// other than 0 bounds the whole exchange.
func (w *webUI) call(req request, each func(reply), timeout time.Duration) (reply, error) {
	cl, err := dialServer(w.server)
	if err != nil {
		return reply{}, err
	}
	defer cl.close()
	if timeout > 0 {
		cl.conn.SetDeadline(time.Now().Add(timeout))
	}
	return cl.call(req, each)
}

// statusList is the server's status of every program.
func (w *webUI) statusList() ([]programStatus, error) {
	r, err := w.call(request{Cmd: "status"}, nil, webCallTimeout)
	if err != nil {
		return nil, err
	}
	var list []programStatus
	if r.Result == nil {
		return nil, fmt.Errorf("status: %s", r.Error)
	}
	if err := json.Unmarshal(r.Result, &list); err != nil {
		return nil, fmt.Errorf("bad status reply: %v", err)
	}
	return list, nil
}

// ServeHTTP is the frontend's router: headers, the Host, /healthz, who may
// ask (password or uid), then the pages and the API. Every write of the
// answer gets a deadline (timedWriter).
func (w *webUI) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	rw = timedWriter{ResponseWriter: rw, rc: http.NewResponseController(rw), timeout: webWriteTimeout}
	h := rw.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	w.logf(LevelDebug, "%s: %s %s from %s", w.pc.Name, r.Method, r.URL.Path, r.RemoteAddr)
	if !w.hostServed(r) {
		w.streaks.event("host", LevelWarning, fmt.Sprintf("%s: refused %s %s from %s: Host %q is not a name this frontend serves", w.pc.Name, r.Method, r.URL.Path, r.RemoteAddr, r.Host))
		http.Error(rw, fmt.Sprintf("forbidden: Host %q is not a name this frontend serves (loopback names, its listen addresses, or hostname= of [program:%s])", r.Host, w.pc.Name), http.StatusForbidden)
		return
	}
	if r.URL.Path == "/healthz" { // no auth, so that probes need no password
		w.healthz(rw, r)
		return
	}
	if w.pc.Username == "" {
		if err := w.sameUser(r); err != nil {
			http.Error(rw, "forbidden: "+err.Error(), http.StatusForbidden)
			return
		}
	}
	if !w.authorized(r) {
		h.Set("WWW-Authenticate", `Basic realm="Ramona", charset="UTF-8"`)
		http.Error(rw, "authentication required", http.StatusUnauthorized)
		return
	}
	switch r.URL.Path {
	case "/":
		w.page(rw, r)
	case "/app.js":
		serveAsset(rw, r, "text/javascript; charset=utf-8", webAppJS)
	case "/app.css":
		serveAsset(rw, r, "text/css; charset=utf-8", webAppCSS)
	case "/api/status":
		if onlyGet(rw, r) {
			w.apiStatus(rw)
		}
	case "/api/start", "/api/stop", "/api/restart":
		if w.stateChangeAllowed(rw, r) {
			w.apiControl(rw, r, strings.TrimPrefix(r.URL.Path, "/api/"))
		}
	case "/api/tail":
		if onlyGet(rw, r) {
			w.apiTail(rw, r)
		}
	case "/api/follow":
		if onlyGet(rw, r) {
			w.apiFollow(rw, r)
		}
	case "/metrics":
		if onlyGet(rw, r) {
			w.metrics(rw)
		}
	default:
		http.NotFound(rw, r)
	}
}

// timedWriter gives each write of an answer a deadline of timeout from
// then: a client that stops reading is dropped, and a handler that waits
// long for the server (a start) still has the whole time to answer.
type timedWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

func (t timedWriter) WriteHeader(code int) {
	t.rc.SetWriteDeadline(time.Now().Add(t.timeout))
	t.ResponseWriter.WriteHeader(code)
}

func (t timedWriter) Write(p []byte) (int, error) {
	t.rc.SetWriteDeadline(time.Now().Add(t.timeout))
	return t.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (t timedWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// hostServed: the request's Host is a name this frontend serves: a loopback
// name or address, a host of its listen addresses, a hostname= value, or
// the IP address the request came in on. Anything else may be a name an
// attacker rebound to this machine (DNS rebinding). On a unix:// address,
// which no browser reaches by a name, any Host is served (a proxy in front
// of it decides which names it answers).
func (w *webUI) hostServed(r *http.Request) bool {
	if wp, _ := r.Context().Value(webPeerKey{}).(webPeer); !wp.tcp {
		return true
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")), ".")
	if host == "" {
		return false
	}
	if w.names[host] {
		return true
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	if ip.IsLoopback() {
		return true
	}
	local, _ := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr)
	return local != nil && local.IP.Equal(ip)
}

// sameUser applies the control channel's rule to a frontend without a
// password on a tcp:// address: only its own uid and root, as the kernel
// identified the peer when it connected. A unix:// address is guarded by
// its file mode instead.
func (w *webUI) sameUser(r *http.Request) error {
	wp, _ := r.Context().Value(webPeerKey{}).(webPeer)
	if !wp.tcp {
		return nil
	}
	var err error
	switch {
	case wp.peer.err != nil:
		err = fmt.Errorf("this frontend has no password, so it serves only its own uid (%d) and root, and cannot tell who you are: %v", os.Geteuid(), wp.peer.err)
	case !wp.peer.trusted():
		err = fmt.Errorf("this frontend has no password, so it serves only its own uid (%d) and root; you are uid %d", os.Geteuid(), wp.peer.uid)
	default:
		return nil
	}
	w.streaks.event("same-uid "+wp.peer.key, LevelWarning, fmt.Sprintf("%s: refused %s %s from %s: %v", w.pc.Name, r.Method, r.URL.Path, wp.peer.desc(), err))
	return err
}

// authorized checks HTTP Basic auth when username is set; the password is
// plain, {SHA}hex or {SHA256}hex, and both are compared in constant time.
func (w *webUI) authorized(r *http.Request) bool {
	if w.pc.Username == "" {
		return true
	}
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	userOK := subtle.ConstantTimeCompare(sha256Sum(user), sha256Sum(w.pc.Username)) == 1
	return checkPassword(string(w.pc.Password), pass) && userOK
}

// checkPassword compares a given password with the configured one.
func checkPassword(configured, given string) bool {
	var want, got []byte
	switch {
	case strings.HasPrefix(configured, "{SHA256}"):
		want, _ = hex.DecodeString(strings.ToLower(strings.TrimPrefix(configured, "{SHA256}")))
		got = sha256Sum(given)
	case strings.HasPrefix(configured, "{SHA}"):
		want, _ = hex.DecodeString(strings.ToLower(strings.TrimPrefix(configured, "{SHA}")))
		s := sha1.Sum([]byte(given))
		got = s[:]
	default: // plain: compare digests, so the time does not depend on the length either
		want, got = sha256Sum(configured), sha256Sum(given)
	}
	return len(want) > 0 && subtle.ConstantTimeCompare(want, got) == 1
}

func sha256Sum(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

// onlyGet answers 405 to anything but GET and HEAD.
func onlyGet(rw http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	rw.Header().Set("Allow", "GET, HEAD")
	http.Error(rw, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

// stateChangeAllowed admits a POST that net/http's CrossOriginProtection
// passes: a browser's Sec-Fetch-Site, or else its Origin, must say that the
// request comes from this very origin (whose Host hostServed checked). A
// request with neither is not from a browser, so no page can have made it;
// it proves who it is by the password or, without one, by its uid.
func (w *webUI) stateChangeAllowed(rw http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost {
		rw.Header().Set("Allow", "POST")
		http.Error(rw, "method not allowed: state changes need POST", http.StatusMethodNotAllowed)
		return false
	}
	if err := w.csrf.Check(r); err != nil {
		w.streaks.event("origin", LevelWarning, fmt.Sprintf("%s: refused %s %s from %s: %v (Origin %q, Sec-Fetch-Site %q, Host %q)", w.pc.Name,
			r.Method, r.URL.Path, r.RemoteAddr, err, r.Header.Get("Origin"), r.Header.Get("Sec-Fetch-Site"), r.Host))
		http.Error(rw, "forbidden: a cross-origin request; state changes must come from this page", http.StatusForbidden)
		return false
	}
	return true
}

func serveAsset(rw http.ResponseWriter, r *http.Request, ctype, body string) {
	if !onlyGet(rw, r) {
		return
	}
	rw.Header().Set("Content-Type", ctype)
	io.WriteString(rw, body)
}

func writeJSON(rw http.ResponseWriter, code int, v any) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(code)
	json.NewEncoder(rw).Encode(v)
}

// healthz answers ok or unavailable, nothing else (it needs no password);
// why the server does not answer goes to the frontend's log.
func (w *webUI) healthz(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !w.serverAnswers() {
		rw.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(rw, "unavailable\n")
		return
	}
	io.WriteString(rw, "ok\n")
}

// serverAnswers asks the server for its status at most once per
// healthzCacheTime, whatever the number of probes; concurrent probes wait
// for the one question.
func (w *webUI) serverAnswers() bool {
	w.healthMu.Lock()
	defer w.healthMu.Unlock()
	if time.Since(w.healthAt) < healthzCacheTime {
		return w.healthOK
	}
	_, err := w.statusList()
	w.healthAt, w.healthOK = time.Now(), err == nil
	if err != nil {
		w.streaks.event("healthz", LevelWarning, fmt.Sprintf("%s: /healthz: unavailable: %v", w.pc.Name, err))
	}
	return w.healthOK
}

func (w *webUI) apiStatus(rw http.ResponseWriter) {
	list, err := w.statusList()
	if err != nil {
		writeJSON(rw, http.StatusBadGateway, map[string]any{"exit": exitNoServer, "error": err.Error()})
		return
	}
	writeJSON(rw, http.StatusOK, list)
}

// controlResult is the answer of POST /api/start|stop|restart.
type controlResult struct {
	Exit     int      `json:"exit"`
	Error    string   `json:"error,omitempty"`
	Progress []string `json:"progress"`
}

// apiControl runs start, stop or restart for the programs named by "name"
// (form or JSON, one name, a list, or comma-separated; none: all). For all,
// stop and restart name every running program but this frontend, so that the
// server keeps running and the page stays up.
func (w *webUI) apiControl(rw http.ResponseWriter, r *http.Request, cmd string) {
	var in struct {
		Name  any  `json:"name"`
		Force bool `json:"force"`
	}
	var names []string
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&in); err != nil && err != io.EOF { // no body: all
			writeJSON(rw, http.StatusBadRequest, controlResult{Exit: exitUsage, Error: "bad JSON: " + err.Error()})
			return
		}
		switch v := in.Name.(type) {
		case string:
			names = strings.Split(v, ",")
		case []any:
			for _, n := range v {
				if s, ok := n.(string); ok {
					names = append(names, s)
				}
			}
		}
	} else {
		r.Body = http.MaxBytesReader(rw, r.Body, 1<<16)
		if err := r.ParseForm(); err != nil {
			writeJSON(rw, http.StatusBadRequest, controlResult{Exit: exitUsage, Error: err.Error()})
			return
		}
		for _, v := range r.PostForm["name"] {
			names = append(names, strings.Split(v, ",")...)
		}
		in.Force, _ = strconv.ParseBool(r.PostFormValue("force"))
	}
	var clean []string
	for _, n := range names {
		if n = strings.TrimSpace(n); n != "" {
			clean = append(clean, n)
		}
	}
	names = clean
	if len(names) == 0 && cmd != "start" {
		list, err := w.statusList()
		if err != nil {
			writeJSON(rw, http.StatusBadGateway, controlResult{Exit: exitNoServer, Error: err.Error()})
			return
		}
		for _, st := range list {
			if st.Name != w.pc.Name && (st.State == "STARTING" || st.State == "RUNNING" || st.State == "BACKOFF") {
				names = append(names, st.Name)
			}
		}
		if len(names) == 0 {
			writeJSON(rw, http.StatusOK, controlResult{Progress: []string{"nothing is running"}})
			return
		}
	}
	w.logf(LevelInfo, "%s: %s %s (force %v) requested by %s", w.pc.Name, cmd, describeScope(names), in.Force, r.RemoteAddr)
	res := controlResult{Progress: []string{}}
	rep, err := w.call(request{Cmd: cmd, Names: names, Flags: map[string]bool{"force": in.Force, "server": true}}, func(rp reply) {
		if rp.Progress != "" {
			res.Progress = append(res.Progress, rp.Progress)
		}
	}, 0) // a start waits for its programs, as long as they take
	if err != nil {
		res.Exit, res.Error = exitNoServer, err.Error()
		writeJSON(rw, http.StatusBadGateway, res)
		return
	}
	res.Exit, res.Error = rep.Exit, rep.Error
	writeJSON(rw, http.StatusOK, res)
}

// tailRequest reads name, n and stream of /api/tail and /api/follow.
func tailRequest(r *http.Request, follow bool) (request, error) {
	q := r.URL.Query()
	name := q.Get("name")
	if name == "" {
		return request{}, errors.New("name= is required")
	}
	n := 100
	if v := q.Get("n"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 0 || n > 100000 {
			return request{}, fmt.Errorf("n=%q is not a number of lines (0-100000)", v)
		}
	}
	stream := q.Get("stream")
	if stream == "" {
		stream = "stderr" // a merged log is the stderr stream's too, as for `ramona tail`
	}
	if stream != "stdout" && stream != "stderr" {
		return request{}, fmt.Errorf("stream=%q: use stdout or stderr", stream)
	}
	return request{Cmd: "tail", Names: []string{name}, N: n, Stream: stream, Flags: map[string]bool{"follow": follow}}, nil
}

// apiTail is the last n lines of a program's log as text, passed on as the
// server sends it; a note of the server (the output was cut) is the
// X-Ramona-Notice header.
func (w *webUI) apiTail(rw http.ResponseWriter, r *http.Request) {
	req, err := tailRequest(r, false)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	started := false
	rep, err := w.call(req, func(rp reply) {
		if rp.Progress != "" && !started {
			rw.Header().Set("X-Ramona-Notice", rp.Progress)
		}
		if rp.Data == "" {
			return
		}
		if !started {
			rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
			rw.WriteHeader(http.StatusOK)
			started = true
		}
		io.WriteString(rw, rp.Data)
	}, webCallTimeout)
	switch {
	case started: // an error now can only end the body early
	case err != nil:
		http.Error(rw, err.Error(), http.StatusBadGateway)
	case rep.Error != "":
		http.Error(rw, rep.Error, http.StatusNotFound)
	default:
		rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
}

// apiFollow streams a program's log as Server-Sent Events: each event's data
// is a JSON string (the chunk, so any byte survives the line-based format);
// a "notice" event carries a note of the server, an "end" event the reason
// the stream ended. Each event is written under a deadline: a browser that
// stops reading is dropped (and so the server drops the follow, bounded).
func (w *webUI) apiFollow(rw http.ResponseWriter, r *http.Request) {
	req, err := tailRequest(r, true)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	cl, err := dialServer(w.server)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusBadGateway)
		return
	}
	defer cl.close()
	go func() { // ends when the browser goes away (closing the control connection ends call) or call returns
		<-r.Context().Done()
		cl.close()
	}()
	rc := http.NewResponseController(rw)
	rw.Header().Set("Content-Type", "text/event-stream")
	rw.WriteHeader(http.StatusOK)
	failed := false
	send := func(event string, v string) {
		if failed {
			return
		}
		data, _ := json.Marshal(v)
		var b strings.Builder
		if event != "" {
			fmt.Fprintf(&b, "event: %s\n", event)
		}
		fmt.Fprintf(&b, "data: %s\n\n", data)
		_, werr := io.WriteString(rw, b.String())
		if werr == nil {
			werr = rc.Flush()
		}
		if werr != nil {
			failed = true
			cl.close() // ends call: the browser does not read
		}
	}
	send("", "") // the headers go out at once
	rep, err := cl.call(req, func(rp reply) {
		if rp.Progress != "" {
			send("notice", rp.Progress)
		}
		if rp.Data != "" {
			send("", rp.Data)
		}
	})
	switch {
	case r.Context().Err() != nil:
	case err != nil:
		send("end", "lost the connection to the server")
	default:
		send("end", rep.Error)
	}
}

// metrics writes the status of every program in the Prometheus text
// exposition format (version 0.0.4).
func (w *webUI) metrics(rw http.ResponseWriter) {
	list, err := w.statusList()
	rw.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	var b strings.Builder
	family := func(name, typ, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	up := 0
	if err == nil {
		up = 1
	}
	family("ramona_server_up", "gauge", "Whether the Ramona server answered the frontend (1) or not (0).")
	fmt.Fprintf(&b, "ramona_server_up %d\n", up)
	if err != nil {
		io.WriteString(rw, b.String())
		return
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	each := func(name, typ, help string, value func(st programStatus) string) {
		family(name, typ, help)
		for _, st := range list {
			fmt.Fprintf(&b, "%s{name=\"%s\"} %s\n", name, promLabel(st.Name), value(st))
		}
	}
	each("ramona_program_up", "gauge", "Whether the program is RUNNING (1) or not (0).", func(st programStatus) string {
		if st.State == "RUNNING" {
			return "1"
		}
		return "0"
	})
	family("ramona_program_state", "gauge", "The program's state: 1 for the current one, 0 for the others.")
	for _, st := range list {
		for _, s := range stateNames {
			v := 0
			if s == st.State {
				v = 1
			}
			fmt.Fprintf(&b, "ramona_program_state{name=\"%s\",state=\"%s\"} %d\n", promLabel(st.Name), s, v)
		}
	}
	each("ramona_program_launches_total", "counter", "Processes started for the program since the server started.", func(st programStatus) string { return strconv.Itoa(st.Launches) })
	each("ramona_program_restarts_total", "counter", "Automatic restarts of the program since the server started.", func(st programStatus) string { return strconv.Itoa(st.Restarts) })
	each("ramona_program_uptime_seconds", "gauge", "Seconds since the running process started; 0 when none runs.", func(st programStatus) string {
		return strconv.FormatFloat(st.Uptime, 'f', 3, 64)
	})
	each("ramona_program_pid", "gauge", "The process id of the running process; 0 when none runs.", func(st programStatus) string { return strconv.Itoa(st.PID) })
	each("ramona_log_lost_bytes_total", "counter", "Bytes of the program's output that could not be written to its log.", func(st programStatus) string { return strconv.FormatInt(st.LostBytes, 10) })
	each("ramona_program_cpu_seconds_total", "counter", "CPU time used by the program's process tree (its cgroup since it was made; without cgroups, its live processes).", func(st programStatus) string {
		return strconv.FormatFloat(st.CPUSeconds, 'f', 3, 64)
	})
	each("ramona_program_memory_bytes", "gauge", "Memory the program's process tree uses now (memory.current, else the sum of resident sets).", func(st programStatus) string {
		return strconv.FormatInt(st.MemoryBytes, 10)
	})
	family("ramona_program_healthy", "gauge", "Whether the program's health check passes (1) or not (0: failing, or no verdict yet); only programs with healthcheck=.")
	for _, st := range list {
		if st.Health != nil {
			v := 0
			if *st.Health == "healthy" {
				v = 1
			}
			fmt.Fprintf(&b, "ramona_program_healthy{name=\"%s\"} %d\n", promLabel(st.Name), v)
		}
	}
	io.WriteString(rw, b.String())
}

// promLabel escapes a label value: backslash, double quote and newline.
func promLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// pageData is what the page template shows before its script takes over.
type pageData struct {
	Title    string
	Programs []programStatus
	Error    string
}

// page is / : the status table rendered on the server (so it shows without
// the script), then kept fresh by /app.js.
func (w *webUI) page(rw http.ResponseWriter, r *http.Request) {
	if !onlyGet(rw, r) {
		return
	}
	d := pageData{Title: "Ramona"}
	list, err := w.statusList()
	if err != nil {
		d.Error = err.Error()
	}
	d.Programs = list
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pageTemplate.Execute(rw, d); err != nil {
		w.logf(LevelWarning, "%s: page: %v", w.pc.Name, err)
	}
}

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"cpu": func(st programStatus) string { cpu, _ := st.usageCells(); return cpu },
	"mem": func(st programStatus) string { _, mem := st.usageCells(); return mem },
	"uptime": func(st programStatus) string {
		if st.PID > 0 {
			return formatUptime(time.Duration(st.Uptime * float64(time.Second)))
		}
		if st.Exit != nil {
			return fmt.Sprintf("exit %v", st.Exit)
		}
		return "-"
	},
}).Parse(webPageHTML))

const webPageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<header>
<h1>Ramona</h1>
<span id="updated" data-live="no">rendered by the server</span>
<span class="all">
<button data-cmd="start" data-name="">start all</button>
<button data-cmd="restart" data-name="">restart all</button>
<button data-cmd="stop" data-name="">stop all</button>
</span>
</header>
<p id="error" class="error">{{.Error}}</p>
<table id="programs">
<thead><tr><th>name</th><th>state</th><th>pid</th><th>uptime / exit</th><th>cpu</th><th>mem</th><th>launches</th><th>restarts</th><th>status</th><th></th></tr></thead>
<tbody>
{{range .Programs}}<tr data-name="{{.Name}}"><td class="name">{{.Name}}</td><td class="state state-{{.State}}">{{.State}}</td><td>{{if .PID}}{{.PID}}{{else}}-{{end}}</td><td>{{uptime .}}</td><td class="cpu">{{cpu .}}</td><td class="mem">{{mem .}}</td><td>{{.Launches}}</td><td>{{.Restarts}}</td><td class="text">{{if .Error}}{{.Error}}{{else if .HealthReason}}unhealthy: {{.HealthReason}}{{else}}{{.StatusText}}{{end}}</td><td></td></tr>
{{end}}</tbody>
</table>
<section id="log">
<h2>Log <span id="logname"></span></h2>
<pre id="logtext">Choose "log" on a program to follow its output.</pre>
</section>
</body>
</html>
`

const webAppCSS = `body{font-family:system-ui,sans-serif;margin:1em 2em;color:#222;background:#fafafa}
header{display:flex;gap:1em;align-items:baseline;flex-wrap:wrap}
h1{margin:0 .5em 0 0;font-size:1.5em}
#updated{color:#777;font-size:.85em}
.all{margin-left:auto}
table{border-collapse:collapse;width:100%;margin-top:1em;background:#fff}
th,td{text-align:left;padding:.35em .6em;border-bottom:1px solid #ddd;vertical-align:top}
th{background:#eee}
td.text{max-width:30em;white-space:pre-wrap;word-break:break-word;color:#555}
.state{font-weight:bold}
.state-RUNNING{color:#127a12}.state-STARTING,.state-STOPPING,.state-BACKOFF{color:#a66b00}
.state-FATAL,.state-CFGERROR{color:#b00020}.state-STOPPED,.state-DISABLED{color:#666}
button{margin:0 .15em;padding:.15em .6em;cursor:pointer}
button.force{border-color:#b00020;color:#b00020}
.error{color:#b00020;white-space:pre-wrap}
#log pre{background:#111;color:#ddd;padding:.6em;height:24em;overflow:auto;white-space:pre-wrap;word-break:break-all}
`

const webAppJS = `"use strict";
// Keeps the status table fresh (every 2 s), runs the buttons (POST to the
// API: the browser sends Origin, which the server checks) and follows a log
// through Server-Sent Events.
(function () {
  var tbody = document.querySelector("#programs tbody");
  var errBox = document.getElementById("error");
  var updated = document.getElementById("updated");
  var logText = document.getElementById("logtext");
  var logName = document.getElementById("logname");
  var source = null;

  function uptime(st) {
    if (st.pid > 0) {
      var s = Math.floor(st.uptime), d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24,
          m = Math.floor(s / 60) % 60, x = s % 60;
      var t = h + ":" + (m < 10 ? "0" : "") + m + ":" + (x < 10 ? "0" : "") + x;
      return d > 0 ? d + "d" + t : t;
    }
    if (st.exit !== null && st.exit !== undefined) return "exit " + st.exit;
    return "-";
  }
  // cpu and mem: the same units as the status table (formatCPU, formatBytes).
  function used(st) { return st.pid > 0 || st.cpu_seconds > 0 || st.memory_bytes > 0; }
  function cpu(st) {
    if (!used(st)) return "-";
    var s = st.cpu_seconds;
    if (s < 10) return s.toFixed(2) + "s";
    if (s < 60) return s.toFixed(1) + "s";
    var n = Math.floor(s), pad = function (x) { return (x < 10 ? "0" : "") + x; };
    if (s < 3600) return Math.floor(n / 60) + "m" + pad(n % 60) + "s";
    return Math.floor(n / 3600) + "h" + pad(Math.floor(n / 60) % 60) + "m";
  }
  function mem(st) {
    if (!used(st)) return "-";
    var units = ["B", "K", "M", "G", "T", "P"], v = st.memory_bytes, i = 0;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (i === 0 || v >= 10 ? String(Math.round(v)) : v.toFixed(1)) + units[i];
  }
  function cell(tr, text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }
  function button(td, cmd, name, label, force) {
    var b = document.createElement("button");
    b.textContent = label;
    b.dataset.cmd = cmd;
    b.dataset.name = name;
    if (force) { b.dataset.force = "1"; b.className = "force"; }
    td.appendChild(b);
  }
  function render(list) {
    var rows = document.createDocumentFragment();
    list.forEach(function (st) {
      var tr = document.createElement("tr");
      tr.dataset.name = st.name;
      cell(tr, st.name, "name");
      cell(tr, st.state, "state state-" + st.state);
      cell(tr, st.pid > 0 ? String(st.pid) : "-");
      cell(tr, uptime(st));
      cell(tr, cpu(st), "cpu");
      cell(tr, mem(st), "mem");
      cell(tr, String(st.launches));
      cell(tr, String(st.restarts));
      var text = st.error ? st.error : st.health_reason ? "unhealthy: " + st.health_reason : st.status_text;
      if (st.lost_bytes > 0) text += " (log: " + st.lost_bytes + " bytes lost)";
      cell(tr, text, "text");
      var td = cell(tr, "");
      if (st.state === "FATAL") button(td, "start", st.name, "force start", true);
      else button(td, "start", st.name, "start");
      button(td, "stop", st.name, "stop");
      button(td, "restart", st.name, "restart");
      button(td, "log", st.name, "log");
      rows.appendChild(tr);
    });
    tbody.replaceChildren(rows);
  }
  function refresh() {
    fetch("/api/status", {credentials: "same-origin"}).then(function (r) {
      return r.json().then(function (v) { return {ok: r.ok, v: v}; });
    }).then(function (res) {
      if (!res.ok) throw new Error(res.v.error || "status failed");
      render(res.v);
      errBox.textContent = "";
      updated.textContent = "updated " + new Date().toLocaleTimeString();
      updated.dataset.live = "yes";
    }).catch(function (e) {
      errBox.textContent = "cannot get the status: " + e.message;
    });
  }
  function control(cmd, name, force) {
    var body = new URLSearchParams();
    body.set("name", name);
    if (force) body.set("force", "1");
    errBox.textContent = cmd + " " + (name || "all") + " ...";
    fetch("/api/" + cmd, {method: "POST", body: body, credentials: "same-origin"}).then(function (r) {
      return r.json();
    }).then(function (res) {
      errBox.textContent = res.error ? res.error : "";
      refresh();
    }).catch(function (e) {
      errBox.textContent = cmd + " failed: " + e.message;
    });
  }
  function follow(name) {
    if (source) source.close();
    logName.textContent = name;
    logText.textContent = "";
    source = new EventSource("/api/follow?n=100&name=" + encodeURIComponent(name));
    source.onmessage = function (ev) {
      var atEnd = logText.scrollTop + logText.clientHeight >= logText.scrollHeight - 4;
      logText.textContent += JSON.parse(ev.data);
      if (logText.textContent.length > 400000) logText.textContent = logText.textContent.slice(-200000);
      if (atEnd) logText.scrollTop = logText.scrollHeight;
    };
    source.addEventListener("notice", function (ev) {
      logText.textContent += "-- " + JSON.parse(ev.data) + " --\n";
    });
    source.addEventListener("end", function (ev) {
      var why = JSON.parse(ev.data);
      logText.textContent += "\n-- " + (why || "end of stream") + " --\n";
      source.close();
    });
  }
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest("button[data-cmd]");
    if (!b) return;
    if (b.dataset.cmd === "log") follow(b.dataset.name);
    else control(b.dataset.cmd, b.dataset.name, b.dataset.force === "1");
  });
  refresh();
  setInterval(refresh, 2000);
})();
`
