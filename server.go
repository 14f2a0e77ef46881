// The server process: `ramona daemon` in the foreground and the background
// server that `ramona start` launches. It registers as child subreaper,
// reaps every child with one wait4(-1) loop, turns signals into loop events
// (TERM/INT/QUIT: stop everything and exit; more of them within a second of
// the first: the same request; a later one: SIGKILL; HUP: reload and reopen
// logs), owns the listeners and the pidfile (replaced through an
// unpredictable temporary name), and never exits before every
// program has stopped.
package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type serverOptions struct {
	names      []string // start only these (daemon PROG...)
	noStart    bool     // -S: start no program
	background bool     // launched by `ramona start`: log to the log file; fd 2 reports startup
	startPipe  *os.File // background: where to report that the server listens (background.go)
}

const prSetChildSubreaper = 36

// runServer runs the server until it has stopped every program; it returns
// the process exit code.
func runServer(cfg *Config, opts serverOptions, stdout, stderr io.Writer) int {
	environ := os.Environ()
	if cfg.Server.Umask >= 0 { // before the first file is created
		syscall.Umask(cfg.Server.Umask)
	}
	log := &serverLog{w: stderr, level: cfg.Server.LogLevel}
	console := &consoleOutput{out: stdout, err: stderr}
	var logFile *LogFile
	var panicLog *os.File // background: fd 2 once the server listens
	if opts.background {
		closeInheritedFDs()
		if cfg.Server.Log != "" {
			if err := os.MkdirAll(filepath.Dir(cfg.Server.Log), 0o755); err != nil {
				fmt.Fprintf(stderr, "ramona: the server cannot start: cannot create the directory of the server log %s: %v\n", cfg.Server.Log, pathErrText(err))
				return 1
			}
			f, err := openServerStderr(cfg.Server.Log, cfg.Log.fileMode())
			if err != nil {
				fmt.Fprintf(stderr, "ramona: the server cannot start: %v\n", err)
				return 1
			}
			panicLog = f
			logFile = openLogFile(cfg.Server.Log, cfg.Log, nil, nil)
			if err := logFile.failure(); err != nil {
				// Running without the operator's record would hide every
				// later problem: the server does not start.
				logFile.Close()
				panicLog.Close()
				fmt.Fprintf(stderr, "ramona: the server cannot start: cannot write the server log %s: %v\n", cfg.Server.Log, err)
				return 1
			}
			logFile.onError = func(err error) {
				fmt.Fprintf(os.Stderr, "ramona: server log %s: %v\n", cfg.Server.Log, err)
			}
			log.w = logFile
			console = &consoleOutput{out: logFile, err: logFile}
		} else {
			log.w = io.Discard
			console = &consoleOutput{out: io.Discard, err: io.Discard}
		}
	} else {
		markInheritedFDsCloseOnExec()
	}
	fail := func(format string, args ...any) int {
		msg := fmt.Sprintf(format, args...)
		log.Errorf("server: cannot start: %s", msg)
		if log.w != stderr { // else that line was it
			fmt.Fprintf(stderr, "ramona: the server cannot start: %s\n", msg)
		}
		panicLog.Close()
		return 1
	}
	logConfigSources(log, cfg)
	for _, w := range cfg.Warnings {
		log.Warnf("config: %s", w)
	}
	if err := raiseOpenFiles(cfg.Server.MinFDs); err != nil {
		return fail("%v", err)
	}
	if err := os.MkdirAll(cfg.LogDir, 0o755); err != nil {
		return fail("cannot create the log directory %s: %v", cfg.LogDir, err)
	}
	for _, w := range sharedDirWarnings(cfg) {
		log.Warnf("server: %s", w)
	}
	selfExe, err := os.Executable()
	if err != nil {
		return fail("cannot find my own executable: %v", err)
	}
	cs := newCtlServer(version, log)
	for _, u := range cfg.Server.ConsoleURIs {
		l, err := listenControl(u, cs.streaks)
		if err != nil {
			for _, l := range cs.listeners {
				l.Close()
			}
			return fail("%v", err)
		}
		cs.listeners = append(cs.listeners, l)
	}
	if cfg.Server.PidFile != "" {
		if refused := refuseExisting(cfg.Server.PidFile); refused != nil {
			log.Errorf("server: the pidfile %s %s; it is replaced by a new file, never written through", cfg.Server.PidFile, refused.what)
		}
		if err := writePidFile(cfg.Server.PidFile); err != nil {
			for _, l := range cs.listeners {
				l.Close()
			}
			return fail("cannot write the pidfile %s: %v", cfg.Server.PidFile, err)
		}
	}
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		log.Warnf("server: cannot become child subreaper (%v); orphans of programs will not be reaped here", errno)
	}

	s := newSupervisor(cfg, environ, log, console, selfExe)
	cs.s = s
	s.serverID = newServerID()
	// Before the guard or any program is forked: the server may have to
	// move itself into a leaf cgroup (cgroup_linux.go).
	if s.cg, s.cgOff, err = openCgroups(cfg, log); err != nil {
		for _, l := range cs.listeners {
			l.Close()
		}
		removePidFile(cfg.Server.PidFile)
		return fail("%v", err)
	}
	if s.cg != nil {
		ctl := strings.Join(sortedKeys(s.cg.controllers), " ")
		if ctl == "" {
			ctl = "none: CPU from cpu.stat, memory from the processes' resident sets, no limits"
		}
		log.Infof("server: each program runs in its own cgroup below %s (controllers: %s)", s.cg.base, ctl)
	} else if cfg.Server.Cgroup == "no" {
		log.Infof("server: cgroups are off ([ramona:server] cgroup=no)")
	} else {
		log.Warnf("server: cgroups are off (%s); processes that leave a program's process group are stopped only when the server exits", s.cgOff)
	}
	s.mailer = newMailer(cfg, log) // also without delivery or webhooks: a reload may add them
	s.mailer.start()               // ends in s.mailer.close, after the loop
	if ns, err := openNotifySocket(); err != nil {
		log.Warnf("server: %v; ready=notify and watchdog cannot work", err)
	} else {
		s.notify = ns
		go s.readNotify(ns) // ends when the socket is closed at exit
		defer ns.conn.Close()
	}
	if g, err := startGroupGuard(selfExe); err != nil {
		log.Warnf("server: %v; if the server is killed, processes its programs started may outlive it", err)
	} else {
		s.guard = g
		if s.cg != nil {
			g.watchCgroup(s.cg.base)
		} else {
			g.watchMarker("RAMONA_SERVER_ID=" + s.serverID)
		}
	}
	s.self = newSelfNotifier(environ)
	s.self.keepAlive(environ)
	defer s.self.close()
	stopReaper := startReaper(s)
	stopSignals := handleSignals(s)
	go s.loop() // ends when every program stopped after a shutdown
	log.Infof("server: Ramona %s started, pid %d, listening on %s", version, os.Getpid(), uriList(cfg.Server.ConsoleURIs))
	for i, u := range cfg.Server.ConsoleURIs {
		go cs.serve(cs.listeners[i], u.Scheme) // ends when the listener is closed
	}
	if opts.startPipe != nil {
		// Startup went well: from now on stderr (where a Go panic would go)
		// is the server log, and `ramona start` may return.
		if err := reportStarted(opts.startPipe, panicLog); err != nil {
			log.Warnf("server: reporting the start to `ramona start`: %v", err)
		}
	} else if panicLog != nil {
		panicLog.Close()
	}
	s.post(func() { s.initialStart(opts) })
	<-s.done
	stopSignals()
	if s.cg != nil {
		s.cg.close()
	}
	// Before cs.close: `ramona stop` returns when its connection closes,
	// and then the pidfile (like the socket) must be gone.
	removePidFile(cfg.Server.PidFile)
	cs.close()
	stopReaper()
	s.mailer.close()
	if logFile != nil {
		logFile.Close()
	}
	return s.exitCode
}

// raiseOpenFiles makes the open-files limit at least min ([ramona:server]
// minfds), as supervisord does; the programs inherit it. Only root can raise
// the hard limit.
func raiseOpenFiles(min uint64) error {
	if min == 0 {
		return nil
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("minfds: cannot read the open-files limit: %v", err)
	}
	if lim.Max < min {
		lim.Max = min
	}
	lim.Cur = max(lim.Cur, min)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("minfds=%d: cannot raise the open-files limit that far (%v); lower minfds or raise the hard limit (ulimit -Hn, LimitNOFILE= in a systemd unit)", min, err)
	}
	return nil
}

// initialStart starts the programs the server was asked for, in priority order.
func (s *Supervisor) initialStart(opts serverOptions) {
	if opts.noStart {
		s.tellServiceManager("READY=1")
		return
	}
	var progs []*Program
	if len(opts.names) > 0 {
		var err error
		if progs, err = s.resolveNames(opts.names); err != nil {
			s.log.Errorf("server: %v", err)
			return
		}
	} else {
		for _, p := range s.order {
			if p.cfg.AutoStart && p.state != StateDisabled {
				progs = append(progs, p)
			}
		}
	}
	q := newSequence(s, "start", progs, seqOptions{}, nil)
	q.report, q.requester = "server start", "the server itself"
	q.finished = func(exit int, failures []string) {
		s.tellServiceManager("READY=1")
		if exit == 0 {
			s.log.Infof("server: start sequence finished, all programs RUNNING")
		} else {
			s.log.Errorf("server: start sequence finished; %d program(s) failed:\n%s", len(failures), indent(strings.Join(failures, "\n")))
		}
	}
	s.runSequence(q)
}

// tellServiceManager sends msg and a STATUS= summary to the service manager
// that started the server (off the loop: a datagram may block briefly).
func (s *Supervisor) tellServiceManager(msg string) {
	if s.self == nil {
		return
	}
	counts := map[State]int{}
	for _, p := range s.order {
		counts[p.state]++
	}
	status := fmt.Sprintf("STATUS=%d programs: %d running, %d starting, %d fatal, %d stopped", len(s.order),
		counts[StateRunning], counts[StateStarting]+counts[StateBackoff], counts[StateFatal]+counts[StateCfgError], counts[StateStopped])
	go s.self.send(msg + "\n" + status) // ends after one send
}

// startReaper collects every child's exit with wait4(-1) on SIGCHLD and
// hands it to the loop. The returned function stops it.
func startReaper(s *Supervisor) func() {
	sigchld := make(chan os.Signal, 1)
	signal.Notify(sigchld, syscall.SIGCHLD)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // ends when stop is closed
		defer close(done)
		for {
			reapAll(s)
			select {
			case <-sigchld:
			case <-stop:
				signal.Stop(sigchld)
				return
			}
		}
	}()
	return func() { close(stop); <-done }
}

func reapAll(s *Supervisor) {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if pid <= 0 {
			return
		}
		if s.children.deliver(pid, ws) { // an exec probe's
			continue
		}
		s.post(func() { s.reaped(pid, ws) })
	}
}

// stopSignalWindow: stop signals (TERM, INT, QUIT) that arrive within this
// time of the first are the same request to stop. coreutils timeout sends
// its signal to the server and then to its process group, the server
// included, and a terminal's Ctrl-C or a service manager may signal the
// group as well as the main process; only a later signal is the operator
// asking again, which sends SIGKILL.
const stopSignalWindow = time.Second

// handleSignals turns the server's signals into loop events.
func handleSignals(s *Supervisor) func() {
	ch := make(chan os.Signal, 8)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGPIPE)
	stop := make(chan struct{})
	go func() { // ends when stop is closed
		var firstStop time.Time // when the first stop signal came
		for {
			select {
			case <-stop:
				signal.Stop(ch)
				return
			case sig := <-ch:
				switch sig {
				case syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT:
					name := signalName(sig.(syscall.Signal))
					if since := time.Since(firstStop); !firstStop.IsZero() && since < stopSignalWindow {
						s.log.Infof("server: got %s %v after the first stop signal; counted as the same request (one more after %v sends SIGKILL)",
							name, since.Round(time.Millisecond), stopSignalWindow)
						continue
					}
					if firstStop.IsZero() {
						firstStop = time.Now()
					}
					s.log.Infof("server: got %s", name)
					s.post(func() {
						if s.quitting {
							s.escalate()
						} else {
							s.shutdown(0)
						}
					})
				case syscall.SIGHUP:
					s.log.Infof("server: got SIGHUP; reloading the configuration and reopening logs")
					go s.reloadFromDisk() // ends when the configuration is read
				case syscall.SIGUSR1:
					s.post(func() { s.reopenLogs() })
				case syscall.SIGUSR2:
					s.post(func() { s.logStatus() })
				}
			}
		}
	}()
	return func() { close(stop) }
}

// reloadFromDisk reads the configuration off the loop and applies it there.
func (s *Supervisor) reloadFromDisk() {
	cfg, err := loadConfig(s.files, s.environ)
	if err != nil {
		s.log.Errorf("server: reload: the configuration has errors; nothing was changed:\n%s", indent(err.Error()))
		return
	}
	s.post(func() { s.reload(cfg, newReplySink()) })
}

func (s *Supervisor) reopenLogs() {
	s.log.Infof("server: reopening log files")
	for _, p := range s.order {
		p.logs.reopen()
	}
}

// logStatus writes every program's state to the server log (SIGUSR2).
func (s *Supervisor) logStatus() {
	for _, p := range s.order {
		st := s.status(p)
		s.log.Infof("status: %s %s pid=%d launches=%d restarts=%d %s", st.Name, st.State, st.PID, st.Launches, st.Restarts, st.Error)
	}
}

func uriList(uris []SocketURI) string {
	parts := make([]string, len(uris))
	for i, u := range uris {
		parts[i] = u.String()
	}
	return strings.Join(parts, ", ")
}

// writePidFile writes the server's pid to path through a temporary file
// with an unpredictable name, renamed over whatever was at path.
func writePidFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return replaceFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
}

// removePidFile removes the pidfile if it is still ours: our file, holding
// our pid (read without following a link, at most a few bytes).
func removePidFile(path string) {
	f, err := openSafe(path, os.O_RDONLY, 0)
	if err != nil {
		return
	}
	data, err := io.ReadAll(io.LimitReader(f, 64))
	f.Close()
	if err == nil && strings.TrimSpace(string(data)) == strconv.Itoa(os.Getpid()) {
		os.Remove(path)
	}
}

// sharedDirWarnings lists the directories the server creates files in that
// other users may write (see sharedDirWarning).
func sharedDirWarnings(cfg *Config) []string {
	dirs := []string{cfg.LogDir}
	for _, f := range []string{cfg.Server.Log, cfg.Server.PidFile} {
		if f != "" {
			dirs = append(dirs, filepath.Dir(f))
		}
	}
	if cfg.Notify.StashDir != "" {
		dirs = append(dirs, cfg.Notify.StashDir)
	}
	for _, p := range cfg.Programs {
		for _, t := range []OutputTarget{p.Stdout, p.Stderr} {
			if t.Kind == OutFile {
				dirs = append(dirs, filepath.Dir(t.Path))
			}
		}
	}
	var warnings []string
	seen := map[string]bool{}
	for _, d := range dirs {
		if !seen[d] {
			seen[d] = true
			if w := sharedDirWarning(d); w != "" {
				warnings = append(warnings, w)
			}
		}
	}
	return warnings
}

// inheritedFDs lists open descriptors above 2 without close-on-exec: those
// this process inherited (Go opens its own with close-on-exec).
func inheritedFDs() []int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil
	}
	var fds []int
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd <= 2 {
			continue
		}
		flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
		if errno == 0 && flags&syscall.FD_CLOEXEC == 0 {
			fds = append(fds, fd)
		}
	}
	return fds
}

// closeInheritedFDs: a daemon holds nothing of the shell that started it.
func closeInheritedFDs() {
	for _, fd := range inheritedFDs() {
		syscall.Close(fd)
	}
}

// markInheritedFDsCloseOnExec keeps inherited descriptors from leaking
// into programs.
func markInheritedFDsCloseOnExec() {
	for _, fd := range inheritedFDs() {
		syscall.CloseOnExec(fd)
	}
}

// newServerID is PID-NONCE: unique to this server process, for the
// RAMONA_SERVER_ID marker of its programs.
func newServerID() string {
	var nonce [8]byte
	rand.Read(nonce[:])
	return fmt.Sprintf("%d-%s", os.Getpid(), hex.EncodeToString(nonce[:]))
}
