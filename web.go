// The web frontend (command=<httpfend>): `ramona httpfend NAME` serves the
// page (web/index.html, web/app.js, web/app.css, embedded), a JSON API,
// /metrics and /healthz on every listen address of [program:NAME], and talks
// to the server over the control channel (a fresh connection per request).
// Its rules: only Host names it serves; Basic auth when username is set
// (except /healthz), else on loopback tcp only the frontend's own uid and
// root; state changes only by POST that passes CrossOriginProtection; a GET
// never changes anything; every connection admitted, every write under a
// deadline.
package main

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
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
	// healthzPattern is the one route that needs no password.
	healthzPattern = "GET /healthz"
	// The outcomes of the page's forms wait for the page the browser is
	// sent back to: at most webResultsKept of them, each webResultTTL.
	webResultsKept = 64
	webResultTTL   = 5 * time.Minute
	// webResultMax bounds the text of one outcome shown on the page.
	webResultMax = 2000
)

// webFiles are the page, its script, its style and its icon.
//
//go:embed web/index.html web/app.js web/app.css web/favicon.svg
var webFiles embed.FS

// webAssets are the files served as they are, with their types.
var webAssets = map[string]string{
	"app.js":      "text/javascript; charset=utf-8",
	"app.css":     "text/css; charset=utf-8",
	"favicon.svg": "image/svg+xml",
}

// webUI is one frontend process: its section and the server it talks to.
type webUI struct {
	pc      *ProgramConfig
	server  SocketURI
	title   string // APPNAME @ HOST
	logf    func(level LogLevel, format string, args ...any)
	streaks *logStreaks // refusals, logged once per streak
	names   map[string]bool
	csrf    *http.CrossOriginProtection
	mux     *http.ServeMux
	results webResults

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
// names are always in), its cross-origin check and its routes. title is
// what the page's title and heading say.
func newWebUI(pc *ProgramConfig, server SocketURI, title string, logf func(level LogLevel, format string, args ...any)) *webUI {
	w := &webUI{pc: pc, server: server, title: title, logf: logf, streaks: newLogStreaks(logf), names: map[string]bool{"localhost": true},
		csrf: http.NewCrossOriginProtection()}
	for _, h := range pc.Hostnames {
		w.names[h] = true
	}
	for _, u := range pc.Listen {
		if host, _, err := net.SplitHostPort(u.Addr); err == nil && u.Scheme == "tcp" && host != "" {
			w.names[strings.TrimSuffix(strings.ToLower(host), ".")] = true
		}
	}
	w.mux = w.routes()
	return w
}

// routes are the frontend's paths. A GET route answers HEAD too; any other
// method gets 405 with Allow.
func (w *webUI) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc(healthzPattern, w.healthz)
	mux.HandleFunc("GET /{$}", w.page)
	mux.HandleFunc("GET /rows", w.rows)
	for name, ctype := range webAssets {
		body, err := webFiles.ReadFile("web/" + name)
		if err != nil {
			panic(err) // the embed directive names every file
		}
		mux.HandleFunc("GET /"+name, func(rw http.ResponseWriter, r *http.Request) {
			rw.Header().Set("Content-Type", ctype)
			rw.Write(body)
		})
	}
	mux.HandleFunc("GET /api/status", w.apiStatus)
	for _, cmd := range []string{"start", "stop", "restart"} {
		mux.HandleFunc("POST /api/"+cmd, func(rw http.ResponseWriter, r *http.Request) { w.apiControl(rw, r, cmd) })
	}
	mux.HandleFunc("GET /api/tail", w.apiTail)
	mux.HandleFunc("GET /api/follow", w.apiFollow)
	mux.HandleFunc("GET /metrics", w.metrics)
	return mux
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
	log := &serverLog{w: stderr, level: pc.LogLevel}
	host, err := os.Hostname()
	if err != nil {
		host = "localhost"
	}
	w := newWebUI(pc, cfg.Console.ServerURI, cfg.AppName+" @ "+host, log.logf)
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

// ServeHTTP admits a request, then routes it: headers, the Host, who may ask
// (password or uid; not for /healthz), the cross-origin rule for anything
// but GET and HEAD, then the route. Every write of the answer gets a
// deadline (timedWriter).
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
	if _, pattern := w.mux.Handler(r); pattern != healthzPattern { // probes need no password
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
	}
	if !w.sameOrigin(rw, r) {
		return
	}
	w.mux.ServeHTTP(rw, r)
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

// sameOrigin admits a request that net/http's CrossOriginProtection passes:
// GET and HEAD always; for anything else a browser's Sec-Fetch-Site, or
// else its Origin, must say that the request comes from this very origin
// (whose Host hostServed checked). A request with neither is not from a
// browser, so no page can have made it; it proves who it is by the password
// or, without one, by its uid.
func (w *webUI) sameOrigin(rw http.ResponseWriter, r *http.Request) bool {
	err := w.csrf.Check(r)
	if err == nil {
		return true
	}
	w.streaks.event("origin", LevelWarning, fmt.Sprintf("%s: refused %s %s from %s: %v (Origin %q, Sec-Fetch-Site %q, Host %q)", w.pc.Name,
		r.Method, r.URL.Path, r.RemoteAddr, err, r.Header.Get("Origin"), r.Header.Get("Sec-Fetch-Site"), r.Host))
	http.Error(rw, "forbidden: a cross-origin request; state changes must come from this page", http.StatusForbidden)
	return false
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

func (w *webUI) apiStatus(rw http.ResponseWriter, r *http.Request) {
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
	Message  string   `json:"message"` // one text for a person: what happened
}

// controlForm is what a POST to /api/start|stop|restart asks.
type controlForm struct {
	names   []string // patterns; none: all
	force   bool     // start FATAL programs too
	back    bool     // sent by the page's form: answer with a redirect back to the page
	confirm bool     // the person confirmed that the frontend stops itself
}

// errControlMediaType: a control request's body is neither a form nor JSON.
var errControlMediaType = errors.New("send the body as a form (curl -d name=NAME) or as JSON (Content-Type: application/json)")

// readControlForm reads a control request's body: a form (the page's
// forms, curl -d) or JSON. "name" is one name, a list, or comma-separated.
// Any other body (a multipart one: curl -F) is refused, since its names
// would go unread and no names means all.
func readControlForm(rw http.ResponseWriter, r *http.Request) (controlForm, error) {
	var in controlForm
	var names []string
	mediaType, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	mediaType = strings.ToLower(strings.TrimSpace(mediaType))
	if mediaType != "" && mediaType != "application/json" && mediaType != "application/x-www-form-urlencoded" {
		return in, fmt.Errorf("%w, not %s", errControlMediaType, mediaType)
	}
	if mediaType == "application/json" {
		var body struct {
			Name  any  `json:"name"`
			Force bool `json:"force"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&body); err != nil && err != io.EOF { // no body: all
			return in, fmt.Errorf("bad JSON: %v", err)
		}
		switch v := body.Name.(type) {
		case string:
			names = strings.Split(v, ",")
		case []any:
			for _, n := range v {
				if s, ok := n.(string); ok {
					names = append(names, s)
				}
			}
		}
		in.force = body.Force
	} else {
		r.Body = http.MaxBytesReader(rw, r.Body, 1<<16)
		if err := r.ParseForm(); err != nil {
			return in, err
		}
		for _, v := range r.PostForm["name"] {
			names = append(names, strings.Split(v, ",")...)
		}
		in.force, _ = strconv.ParseBool(r.PostForm.Get("force"))
		in.back, _ = strconv.ParseBool(r.PostForm.Get("back"))
		in.confirm, _ = strconv.ParseBool(r.PostForm.Get("confirm"))
	}
	for _, n := range names {
		if n = strings.TrimSpace(n); n != "" {
			in.names = append(in.names, n)
		}
	}
	return in, nil
}

// apiControl runs start, stop or restart for the programs named (none:
// all). For all, stop and restart name every running program but this
// frontend, so that the server keeps running and the page stays up. A stop
// or restart that reaches the frontend itself is answered before it stops
// (nowait); from the page's form it first asks for a confirmation.
func (w *webUI) apiControl(rw http.ResponseWriter, r *http.Request, cmd string) {
	in, err := readControlForm(rw, r)
	if err != nil {
		code := http.StatusBadRequest
		if errors.Is(err, errControlMediaType) {
			code = http.StatusUnsupportedMediaType
		}
		w.answerControl(rw, r, in, cmd, code, controlResult{Exit: exitUsage, Error: err.Error()})
		return
	}
	names, self := in.names, false
	if cmd != "start" {
		if names, self, err = w.stopScope(in.names); err != nil {
			w.answerControl(rw, r, in, cmd, http.StatusBadGateway, controlResult{Exit: exitNoServer, Error: err.Error()})
			return
		}
		if len(names) == 0 {
			w.answerControl(rw, r, in, cmd, http.StatusOK, controlResult{Progress: []string{"nothing is running"}})
			return
		}
		if self && in.back && !in.confirm {
			w.confirmPage(rw, cmd, names)
			return
		}
	}
	w.logf(LevelInfo, "%s: %s %s (force %v) requested by %s", w.pc.Name, cmd, describeScope(names), in.force, r.RemoteAddr)
	res := controlResult{Progress: []string{}}
	rep, err := w.call(request{Cmd: cmd, Names: names, Flags: requestFlags{Force: in.force, KeepServer: true, NoWait: self}}, func(rp reply) {
		if rp.Progress != "" {
			res.Progress = append(res.Progress, rp.Progress)
		}
	}, 0) // a start waits for its programs, as long as they take
	if err != nil {
		res.Exit, res.Error = exitNoServer, err.Error()
		w.answerControl(rw, r, in, cmd, http.StatusBadGateway, res)
		return
	}
	res.Exit, res.Error = rep.Exit, rep.Error
	w.answerControl(rw, r, in, cmd, http.StatusOK, res)
}

// stopScope is what a stop or restart of patterns reaches: for none, every
// running program but this frontend; else the patterns as they are, and
// whether they name the frontend itself (patterns the server does not know
// are its to report).
func (w *webUI) stopScope(patterns []string) (names []string, self bool, err error) {
	list, err := w.statusList()
	if err != nil {
		return nil, false, err
	}
	if len(patterns) == 0 {
		for _, st := range list {
			if st.Name != w.pc.Name && (st.State == "STARTING" || st.State == "RUNNING" || st.State == "BACKOFF") {
				names = append(names, st.Name)
			}
		}
		return names, false, nil
	}
	progs := make([]*ProgramConfig, len(list))
	for i, st := range list {
		progs[i] = &ProgramConfig{Name: st.Name, Group: st.Group}
	}
	chosen, _ := selectPrograms(patterns, progs)
	for _, p := range chosen {
		self = self || p.Name == w.pc.Name
	}
	return patterns, self, nil
}

// answerControl answers a control request: JSON with the code, or for the
// page's form (back=1) a redirect (303) to the page, which shows the
// outcome.
func (w *webUI) answerControl(rw http.ResponseWriter, r *http.Request, in controlForm, cmd string, code int, res controlResult) {
	res.Message = controlMessage(cmd, in.names, res)
	if !in.back {
		writeJSON(rw, code, res)
		return
	}
	token := w.results.put(res.Message, res.Exit != 0)
	http.Redirect(rw, r, "/?result="+token, http.StatusSeeOther)
}

// controlMessage says in one text what a control request did: "stop one:
// ok. one: STOPPING; one: STOPPED", or why it failed.
func controlMessage(cmd string, names []string, res controlResult) string {
	msg := fmt.Sprintf("%s %s: ", cmd, describeScope(names))
	switch {
	case res.Exit != 0 && res.Error != "":
		msg += fmt.Sprintf("failed (exit %d): %s", res.Exit, res.Error)
	case res.Exit != 0:
		msg += fmt.Sprintf("failed (exit %d): %s", res.Exit, strings.Join(res.Progress, "; "))
	case len(res.Progress) == 0:
		msg += "ok"
	default:
		msg += "ok. " + strings.Join(res.Progress, "; ")
	}
	return capText(msg, webResultMax)
}

// webResults keeps the outcomes of the page's forms for the page the
// browser is sent back to. An unguessable token in the redirect names each,
// so a link from elsewhere cannot put words on the page; each is shown
// once.
type webResults struct {
	mu   sync.Mutex
	kept []webResult // oldest first, at most webResultsKept
}

type webResult struct {
	token  string
	text   string
	failed bool
	at     time.Time
}

// put keeps an outcome and returns its token.
func (rs *webResults) put(text string, failed bool) string {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if len(rs.kept) >= webResultsKept {
		rs.kept = append(rs.kept[:0], rs.kept[1:]...)
	}
	res := webResult{token: rand.Text(), text: text, failed: failed, at: time.Now()}
	rs.kept = append(rs.kept, res)
	return res.token
}

// take returns the outcome of token and forgets it.
func (rs *webResults) take(token string) (webResult, bool) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for i, res := range rs.kept {
		if subtle.ConstantTimeCompare([]byte(res.token), []byte(token)) == 1 {
			rs.kept = append(rs.kept[:i], rs.kept[i+1:]...)
			return res, time.Since(res.at) < webResultTTL
		}
	}
	return webResult{}, false
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
	return request{Cmd: "tail", Names: []string{name}, N: n, Stream: stream, Flags: requestFlags{Follow: follow}}, nil
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
func (w *webUI) metrics(rw http.ResponseWriter, r *http.Request) {
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

// pageData is what web/index.html shows.
type pageData struct {
	Title        string // APPNAME @ HOST
	Time         string // when it was rendered
	Rows         []pageRow
	Error        string       // the server does not answer
	Result       string       // the outcome of the form just sent
	ResultFailed bool         // ... and it failed
	Confirm      *pageConfirm // a question before the frontend stops itself
}

// pageRow is one program's row: its status as the table shows it, and the
// buttons that fit its state.
type pageRow struct {
	Name, State string
	Self        bool       // this frontend
	Cells       []pageCell // pid, uptime or exit, cpu, mem, launches, restarts
	Text        string     // the error, else the STATUS= text
	Buttons     []pageButton
}

// pageCell is a cell between the state and the text; Label names it where
// there is no table header (the narrow layout).
type pageCell struct {
	Class, Label, Text string
}

// pageButton is a button of a row: a POST to /api/Cmd.
type pageButton struct {
	Cmd, Label string
	Force      bool   // sends force=1
	Confirm    string // the question the script asks first
}

// pageConfirm is the question the page asks, without the script, before
// a stop or restart reaches the frontend itself.
type pageConfirm struct {
	Cmd      string
	Names    []string
	Scope    string
	Question string
}

// page is GET / : the status table rendered on the server (it works without
// the script), and the outcome of the form that redirected here.
func (w *webUI) page(rw http.ResponseWriter, r *http.Request) {
	d := pageData{}
	if token := r.URL.Query().Get("result"); token != "" {
		if res, ok := w.results.take(token); ok {
			d.Result, d.ResultFailed = res.text, res.failed
		}
	}
	w.renderPage(rw, d)
}

// confirmPage is the page with a question: stop (or restart) names, which
// include the frontend itself? Its button sends the request again with
// confirm=1.
func (w *webUI) confirmPage(rw http.ResponseWriter, cmd string, names []string) {
	scope := describeScope(names)
	w.renderPage(rw, pageData{Confirm: &pageConfirm{Cmd: cmd, Names: names, Scope: scope, Question: w.selfQuestion(cmd, scope)}})
}

func (w *webUI) renderPage(rw http.ResponseWriter, d pageData) {
	d.Title, d.Time = w.title, time.Now().Format("15:04:05")
	list, err := w.statusList()
	if err != nil {
		d.Error = "cannot get the status: " + err.Error()
	}
	d.Rows = w.pageRows(list)
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := renderPage(rw, d); err != nil {
		w.logf(LevelWarning, "%s: page: %v", w.pc.Name, err)
	}
}

// rows is GET /rows: the table's rows alone, which the script fetches to
// keep the page fresh.
func (w *webUI) rows(rw http.ResponseWriter, r *http.Request) {
	list, err := w.statusList()
	if err != nil {
		http.Error(rw, err.Error(), http.StatusBadGateway)
		return
	}
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := renderRows(rw, w.pageRows(list)); err != nil {
		w.logf(LevelWarning, "%s: rows: %v", w.pc.Name, err)
	}
}

func (w *webUI) pageRows(list []programStatus) []pageRow {
	rows := make([]pageRow, len(list))
	for i, st := range list {
		pid, upLabel, up := "-", "", "-"
		if st.PID > 0 {
			pid = strconv.Itoa(st.PID)
			upLabel, up = "up", formatUptime(time.Duration(st.Uptime*float64(time.Second)))
		} else if st.Exit != nil {
			up = fmt.Sprintf("exit %v", st.Exit)
		}
		cpu, mem := st.usageCells()
		text := st.StatusText
		if st.HealthReason != "" {
			text = "unhealthy: " + st.HealthReason
		}
		if st.Error != "" {
			text = st.Error
		}
		if st.LostBytes > 0 {
			text = strings.TrimSpace(fmt.Sprintf("%s (log: %d bytes lost)", text, st.LostBytes))
		}
		rows[i] = pageRow{Name: st.Name, State: st.State, Self: st.Name == w.pc.Name, Text: text, Buttons: pageButtons(st.State),
			Cells: []pageCell{{"num pid", "pid", pid}, {"uptime", upLabel, up}, {"num cpu", "cpu", cpu}, {"num mem", "mem", mem},
				{"num launches", "launches", strconv.Itoa(st.Launches)}, {"num restarts", "restarts", strconv.Itoa(st.Restarts)}}}
		if rows[i].Self {
			for j, b := range rows[i].Buttons {
				rows[i].Buttons[j].Confirm = w.selfQuestion(b.Cmd, st.Name)
			}
		}
	}
	return rows
}

// pageButtons are the buttons that fit a state: start when nothing runs
// (FATAL needs force), stop and restart when it runs, start and stop while
// it waits to retry; none while it stops, nor for a program that cannot
// start (DISABLED, CFGERROR).
func pageButtons(state string) []pageButton {
	start := pageButton{Cmd: "start", Label: "start"}
	stop := pageButton{Cmd: "stop", Label: "stop"}
	restart := pageButton{Cmd: "restart", Label: "restart"}
	switch state {
	case "STOPPED":
		return []pageButton{start}
	case "FATAL":
		return []pageButton{{Cmd: "start", Label: "force start", Force: true}}
	case "BACKOFF":
		return []pageButton{start, stop}
	case "STARTING", "RUNNING":
		return []pageButton{stop, restart}
	}
	return nil
}

// selfQuestion asks before cmd (stop or restart) of scope reaches the
// frontend that serves the page.
func (w *webUI) selfQuestion(cmd, scope string) string {
	if cmd == "restart" {
		return fmt.Sprintf("Restart %s? %s is the web frontend that serves this page: the page does not answer until it is back.", scope, w.pc.Name)
	}
	return fmt.Sprintf("Stop %s? %s is the web frontend that serves this page: the page stops answering until %s is started again (ramona start %s).",
		scope, w.pc.Name, w.pc.Name, w.pc.Name)
}
