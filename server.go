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
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

type serverOptions struct {
	names      []string // start only these (daemon PROG...)
	noStart    bool     // -S: start no program
	background bool     // launched by `ramona start`: log to the log file; fd 2 reports startup
	startPipe  *os.File // background: where to report that the server listens (background.go)
}

// runServer runs the server until it has stopped every program; it returns
// the process exit code. Its phases: where the server writes
// (openServerIO), what must be in place before a program runs
// (prepareServer), then the loop and its helpers until the last program
// has stopped (serveUntilDone).
func runServer(cfg *Config, opts serverOptions, stdout, stderr io.Writer) int {
	environ := os.Environ()
	if cfg.Server.Umask >= 0 { // before the first file is created
		setServerUmask(cfg.Server.Umask)
	}
	sio, err := openServerIO(cfg, opts.background, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "ramona: the server cannot start: %v\n", err)
		return 1
	}
	defer sio.close()
	s, cs, err := prepareServer(cfg, environ, sio)
	if err != nil {
		return sio.fail("%v", err)
	}
	return serveUntilDone(s, cs, opts, sio)
}

// serverIO is where the server writes: its log and the <console> programs'
// output, through one writer goroutine (serverOutput), to its stdout and
// stderr or, in the background, to its log file.
type serverIO struct {
	log      *serverLog
	console  *consoleOutput
	queue    *serverOutput
	logFile  *LogFile // background with [ramona:server] log: the server log
	panicLog *os.File // background: fd 2 once the server listens
	stderr   io.Writer
}

// openServerIO sets up where the server writes. In the background it
// closes what it inherited and writes to the server log, which it must be
// able to write; in the foreground it keeps inherited descriptors from the
// programs.
func openServerIO(cfg *Config, background bool, stdout, stderr io.Writer) (*serverIO, error) {
	sio := &serverIO{queue: newServerOutput(), stderr: stderr}
	out, errOut := stdout, stderr
	if background {
		closeInheritedFDs()
		out, errOut = io.Discard, io.Discard
		if cfg.Server.Log != "" {
			if err := sio.openLogFile(cfg); err != nil {
				sio.queue.close()
				return nil, err
			}
			out, errOut = sio.logFile, sio.logFile
		}
	} else {
		markInheritedFDsCloseOnExec()
	}
	sio.log = &serverLog{w: errOut, level: cfg.Server.LogLevel, queue: sio.queue}
	sio.console = &consoleOutput{out: out, err: errOut, queue: sio.queue}
	return sio, nil
}

// openLogFile opens the background server's log, and the same file again
// for fd 2 (where a Go panic goes) once it listens.
func (sio *serverIO) openLogFile(cfg *Config) error {
	if err := os.MkdirAll(filepath.Dir(cfg.Server.Log), 0o755); err != nil {
		return fmt.Errorf("cannot create the directory of the server log %s: %v", cfg.Server.Log, pathErrText(err))
	}
	f, err := openServerStderr(cfg.Server.Log, cfg.Log.fileMode())
	if err != nil {
		return err
	}
	logFile := openLogFile(cfg.Server.Log, cfg.Log, nil, nil)
	if err := logFile.failure(); err != nil {
		// Running without the operator's record would hide every later
		// problem: the server does not start.
		logFile.Close()
		f.Close()
		return fmt.Errorf("cannot write the server log %s: %v", cfg.Server.Log, err)
	}
	logFile.Configure(cfg.Log, nil, func(err error) {
		fmt.Fprintf(os.Stderr, "ramona: server log %s: %v\n", cfg.Server.Log, err)
	})
	sio.panicLog, sio.logFile = f, logFile
	return nil
}

// fail logs why the server cannot start (and says it on stderr, where
// `ramona start` or the operator sees it) and returns the exit code.
func (sio *serverIO) fail(format string, args ...any) int {
	msg := fmt.Sprintf(format, args...)
	sio.log.Errorf("server: cannot start: %s", msg)
	if sio.log.w != sio.stderr { // else that line was it
		fmt.Fprintf(sio.stderr, "ramona: the server cannot start: %s\n", msg)
	}
	sio.panicLog.Close()
	return 1
}

// close writes what is queued, then closes the server log.
func (sio *serverIO) close() {
	sio.queue.close()
	if sio.logFile != nil {
		sio.logFile.Close()
	}
}

// prepareServer checks and claims what the server needs before any
// program runs: file limits, the log directory, the control listeners,
// the pidfile, subreaper status, and the programs' cgroups. On an error
// it has released what it claimed.
func prepareServer(cfg *Config, environ []string, sio *serverIO) (*Supervisor, *ctlServer, error) {
	log := sio.log
	logConfigSources(log, cfg)
	for _, w := range cfg.Warnings {
		log.Warnf("config: %s", w)
	}
	if err := raiseOpenFiles(cfg.Server.MinFDs); err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(cfg.LogDir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("cannot create the log directory %s: %v", cfg.LogDir, err)
	}
	for _, w := range sharedDirWarnings(cfg) {
		log.Warnf("server: %s", w)
	}
	selfExe, err := os.Executable()
	if err != nil {
		return nil, nil, fmt.Errorf("cannot find my own executable: %v", err)
	}
	cs := newCtlServer(version, log)
	release := func() {
		for _, l := range cs.listeners {
			l.Close()
		}
	}
	for _, u := range cfg.Server.ConsoleURIs {
		l, err := listenControl(u, cs.streaks)
		if err != nil {
			release()
			return nil, nil, err
		}
		cs.listeners = append(cs.listeners, l)
	}
	if cfg.Server.PidFile != "" {
		if refused := refuseExisting(cfg.Server.PidFile); refused != nil {
			log.Errorf("server: the pidfile %s %s; it is replaced by a new file, never written through", cfg.Server.PidFile, refused.what)
		}
		if err := writePidFile(cfg.Server.PidFile); err != nil {
			release()
			return nil, nil, fmt.Errorf("cannot write the pidfile %s: %v", cfg.Server.PidFile, err)
		}
	}
	subreaperErr := becomeSubreaper()
	if subreaperErr != nil {
		log.Warnf("server: cannot become child subreaper (%v); orphans of programs will not be reaped here", subreaperErr)
	}
	s := newSupervisor(cfg, environ, log, sio.console, selfExe)
	s.adopts = subreaperErr == nil || os.Getpid() == 1
	cs.s = s
	s.serverID = newServerID()
	// Before the guard or any program is forked: the server may have to
	// move itself into a leaf cgroup (cgroup_linux.go).
	if s.cg, s.cgOff, err = openCgroups(cfg, log); err != nil {
		release()
		removePidFile(cfg.Server.PidFile)
		return nil, nil, err
	}
	switch {
	case s.cg != nil:
		ctl := strings.Join(sortedKeys(s.cg.controllers), " ")
		if ctl == "" {
			ctl = "none: CPU from cpu.stat, memory from the processes' resident sets, no limits"
		}
		log.Infof("server: each program runs in its own cgroup below %s (controllers: %s)", s.cg.base, ctl)
	case containmentWithoutCgroups != "":
		log.Infof("server: %s", containmentWithoutCgroups)
	case cfg.Server.Cgroup == "no":
		log.Infof("server: cgroups are off ([ramona:server] cgroup=no)")
	default:
		log.Warnf("server: cgroups are off (%s); processes that leave a program's process group are stopped only when the server exits", s.cgOff)
	}
	return s, cs, nil
}

// guardExitWait bounds the server's wait at exit for the group guard
// (guard.go) to end; it ends as soon as it reads "exit".
const guardExitWait = 5 * time.Second

// serveUntilDone starts the server's goroutines (mailer, notify socket,
// guard, reaper, signals, the loop, the listeners), tells `ramona start`
// that it is up, starts the programs, and once the loop has ended takes
// everything down again; it returns the server's exit code.
func serveUntilDone(s *Supervisor, cs *ctlServer, opts serverOptions, sio *serverIO) int {
	cfg, log := s.cfg, s.log
	s.mailer = newMailer(cfg, log) // also without delivery or webhooks: a reload may add them
	s.mailer.start()               // ends in s.mailer.close, after the loop
	if ns, err := openNotifySocket(); err != nil {
		log.Warnf("server: %v; ready=notify and watchdog cannot work", err)
	} else {
		s.notify = ns
		go s.readNotify(ns) // ends when the socket is closed at exit
		defer ns.conn.Close()
	}
	if g, err := startGroupGuard(s.selfExe, s.cg.lockFile()); err != nil {
		log.Warnf("server: %v; if the server is killed, processes its programs started may outlive it", err)
	} else {
		s.guard = g
		if s.cg != nil {
			g.watchCgroup(s.cg.base)
		} else {
			g.watchMarker("RAMONA_SERVER_ID=" + s.serverID)
		}
	}
	s.self = newSelfNotifier(s.environ)
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
		if err := reportStarted(opts.startPipe, sio.panicLog); err != nil {
			log.Warnf("server: reporting the start to `ramona start`: %v", err)
		}
	} else if sio.panicLog != nil {
		sio.panicLog.Close()
	}
	s.post(func() { s.initialStart(opts) })
	<-s.done
	s.closeLogsAtExit()
	stopSignals()
	if s.cg != nil {
		s.cg.close()
	}
	// The guard holds the base cgroup's lock too: the base is free for the
	// next server once the guard has gone (before `ramona stop` returns).
	if !s.guard.awaitExit(guardExitWait) {
		log.Warnf("server: the group guard (pid %d) has not ended %s after it was told to", s.guard.pid(), guardExitWait)
	}
	// Before cs.close: `ramona stop` returns when its connection closes,
	// and then the pidfile (like the socket) must be gone.
	removePidFile(cfg.Server.PidFile)
	cs.close()
	stopReaper()
	s.mailer.close()
	return s.exitCode
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
			s.tellServiceManager("READY=1") // up all the same: it answers commands
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
		// What starting left behind (the configuration's reading, the
		// spawns' scratch) goes back to the system: the server idles lean.
		go debug.FreeOSMemory() // ends after one collection

		if exit == 0 {
			s.log.Infof("server: start sequence finished, all programs RUNNING")
		} else {
			s.log.Errorf("server: start sequence finished; %d program(s) failed:\n%s", len(failures), indent(strings.Join(failures, "\n")))
		}
	}
	s.runSequence(q)
}

// tellServiceManager sends msg and a STATUS= summary to the service manager
// that started the server: queued, in order, for the notifier's goroutine.
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
	s.self.send(msg + "\n" + status)
}

// stopSignalWindow: stop signals (TERM, INT, QUIT) that arrive within this
// time of the first are the same request to stop. coreutils timeout sends
// its signal to the server and then to its process group, the server
// included, and a terminal's Ctrl-C or a service manager may signal the
// group as well as the main process; only a later signal is the operator
// asking again, which sends SIGKILL.
const stopSignalWindow = time.Second

// stopSignal handles a stop signal (or on Windows a console close, CTRL_C
// or the service manager's STOP) named name: the first asks for a
// shutdown, more within stopSignalWindow of firstStop are the same
// request, a later one escalates to SIGKILL.
func (s *Supervisor) stopSignal(name string, firstStop *time.Time) {
	if since := time.Since(*firstStop); !firstStop.IsZero() && since < stopSignalWindow {
		s.log.Infof("server: got %s %v after the first stop signal; counted as the same request (one more after %v sends SIGKILL)",
			name, since.Round(time.Millisecond), stopSignalWindow)
		return
	}
	if firstStop.IsZero() {
		*firstStop = time.Now()
	}
	s.log.Infof("server: got %s", name)
	s.post(func() {
		if s.quitting {
			s.escalate()
		} else {
			s.shutdown(0)
		}
	})
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

// newServerID is PID-NONCE: unique to this server process, for the
// RAMONA_SERVER_ID marker of its programs.
func newServerID() string {
	var nonce [8]byte
	rand.Read(nonce[:])
	return fmt.Sprintf("%d-%s", os.Getpid(), hex.EncodeToString(nonce[:]))
}
