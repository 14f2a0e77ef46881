// Ramona is a process supervisor: it starts the programs an INI file
// describes, keeps them alive, captures their output and answers to a
// command line.
//
// Usage:
//
//	ramona [-c FILE]... [-d|-s] COMMAND [ARGS]
//
// Commands:
//
//	start [-n] [-i] [-f] [-S] [PROG...]  start the server if needed, then programs
//	stop [-i] [-c] [-S] [PROG...]        stop programs; with no names also the server
//	restart [-n] [-i] [-f] [PROG...]     stop, then start
//	status [--json] [PROG...]            one line per program
//	tail [-f] [-n N] [-l stdout|stderr] PROG
//	who                                  clients connected to the server
//	notify [-t now|daily] [-s SUBJ] TEXT mail the operator; no TEXT: send the daily digest now
//	reload                               re-read the configuration
//	check                                check the configuration; what reload would change
//	console                              interactive prompt for all of the above
//	daemon [-S] [PROG...]                run the server in the foreground (alias: server)
//	convert FILE...                      print supervisord's configuration in Ramona's dialect
//	version, help
//	TOOL [ARGS...]                       run a [tool:TOOL] section's command
//
// Exit codes: 0 success (status: all RUNNING); 1 the operation failed;
// 2 configuration or usage error; 3 status: a program is not running;
// 4 the server is not running or cannot be reached (stop: 0 when none runs).
//
// This file owns the command line: main, run, the flags of each command and
// what each prints. No other file calls os.Exit.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

var version = "0.1.0"

const (
	exitOK       = 0
	exitFailed   = 1
	exitUsage    = 2
	exitNotAll   = 3
	exitNoServer = 4
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usageText = `usage: ramona [-c FILE]... [-d|-s] COMMAND [ARGS]

Commands:
  start [-n] [-i] [-f] [-S] [PROG...]   start the server if it is not running, then the
                                        programs (all autostart ones, or those named);
                                        -n: do not start the server, -i: return at once,
                                        -f: also start FATAL programs, -S: only the server
  stop [-i] [-c] [-S] [PROG...]         stop programs in reverse priority order; with no
                                        names the server exits too (-S: keep it);
                                        -c: SIGQUIT first for a core dump (coredump=yes)
  restart [-n] [-i] [-f] [PROG...]      stop, then start
  status [--json] [PROG...]             state of each program (exit 3: one is not RUNNING)
  tail [-f] [-n N] [-l stdout|stderr] PROG
                                        last N lines (40) of a program's log; -f follows
  who                                   clients connected to the server
  notify [-t now|daily] [-s SUBJECT] TEXT
                                        mail TEXT to [ramona:notify] receiver now, or keep it
                                        for the daily digest; an empty TEXT sends the digest now
  reload                                re-read the configuration: add, remove, restart changed
  check                                 read the configuration and print the files read and why,
                                        what a <siteconf> file overrides, every warning and error
                                        (exit 2 with errors), and what reload would change on the
                                        running server
  console                               interactive prompt for these commands, with history
  daemon [-S] [PROG...]                 run the server in the foreground (alias: server)
  convert FILE...                       print the Ramona configuration equivalent to
                                        supervisord's FILEs (warnings to stderr)
  tls init DIR [HOST...]                write a CA, server and client certificates for tls://
  version                               print the version
  help                                  this text
  TOOL [ARGS...]                        run the command of a [tool:TOOL] section

PROG may be a shell glob (web*), GROUP:NAME or GROUP:* as in supervisorctl.

Options:
  -c FILE   configuration file (repeatable; later files win), Ramona's or supervisord's
            (a file with a [supervisord] section). Default: $RAMONA_CONFIG
            (':'-separated), else ./ramona.conf
  -d        debug output
  -s        silent: errors only

Exit codes: 0 success; 1 the operation failed; 2 configuration or usage error;
3 status: a program in scope is not running; 4 the server is not running (or
cannot be reached; stop exits 0 when none runs).
`

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// cmdline is one invocation's settings and output streams.
type cmdline struct {
	cfg            *Config
	stdin          io.Reader
	stdout, stderr io.Writer
	debug, silent  bool
	inConsole      bool // commands come from the console, which has its own help

	// A command that reaches a running server although the configuration
	// has errors (serverDespiteErrors): cfgErr holds them, and
	// guessedAddress says that the server's address is the default one
	// because the errors may hide the configured one.
	cfgErr         error
	guessedAddress bool
}

// serverDespiteErrors are the commands that still reach a running server
// when the configuration has errors: they act on what the server runs, not
// on the file (halfway through an edit, the operator can still look and
// stop). start and restart only on a server that runs: none is started from
// a broken configuration.
var serverDespiteErrors = map[string]bool{"status": true, "stop": true, "who": true, "tail": true, "start": true, "restart": true}

// say and errorf print every message of the command line and the console;
// what the server or the configuration says may hold control characters,
// which are escaped (escapeControls) so they never reach the terminal.
func (c *cmdline) say(format string, args ...any) {
	if !c.silent {
		io.WriteString(c.stdout, escapeControls(fmt.Sprintf(format, args...), true)+"\n")
	}
}

func (c *cmdline) errorf(format string, args ...any) {
	io.WriteString(c.stderr, "ramona: "+escapeControls(fmt.Sprintf(format, args...), true)+"\n")
}

// run is the whole command line; it returns the process exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "exec-shim" {
		return runExecShim(args[1:])
	}
	if len(args) > 0 && args[0] == "exec-guard" {
		return runExecGuard()
	}
	fs := flag.NewFlagSet("ramona", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var configs stringList
	fs.Var(&configs, "c", "configuration file")
	debug := fs.Bool("d", false, "debug output")
	silent := fs.Bool("s", false, "silent")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			io.WriteString(stdout, usageText)
			return exitOK
		}
		fmt.Fprintf(stderr, "ramona: %v\n\n%s", err, usageText)
		return exitUsage
	}
	rest := fs.Args()
	if len(rest) == 0 {
		fmt.Fprintf(stderr, "ramona: no command given\n\n%s", usageText)
		return exitUsage
	}
	command, cargs := rest[0], rest[1:]
	switch command {
	case "help", "-h", "--help":
		io.WriteString(stdout, usageText)
		return exitOK
	case "version":
		fmt.Fprintf(stdout, "ramona %s\n", version)
		return exitOK
	case "tls":
		return runTLSCommand(cargs, stdout, stderr)
	case "convert":
		return runConvert(cargs, os.Environ(), stdout, stderr)
	}
	c := &cmdline{stdin: stdin, stdout: stdout, stderr: stderr, debug: *debug, silent: *silent}
	files, origin := configFiles(configs, os.Getenv)
	if command == "check" { // reports a broken configuration instead of stopping at it
		return c.check(files, origin, cargs)
	}
	cfg, err := loadConfigReport(files, os.Environ())
	cfg.Origin = origin
	c.cfg = cfg
	if err != nil {
		if !serverDespiteErrors[command] || !c.reachDespite(err, command == "start" || command == "restart") {
			c.errorf("the configuration has errors:\n%s", err)
			return exitUsage
		}
	}
	if command == "console" {
		return c.console(cargs)
	}
	if command == "httpfend" { // hidden: how the server runs a command=<httpfend> program
		return runWebFrontend(cfg, cargs, stderr)
	}
	return c.dispatch(command, cargs)
}

// dispatch runs one command against the loaded configuration; the console
// uses it for every line.
func (c *cmdline) dispatch(command string, cargs []string) int {
	cfg := c.cfg
	switch command {
	case "daemon", "server":
		return c.daemon(cargs)
	case "start", "restart":
		return c.start(command, cargs)
	case "stop":
		return c.stop(cargs)
	case "status":
		return c.status(cargs)
	case "tail":
		return c.tail(cargs)
	case "who":
		return c.who(cargs)
	case "reload":
		return c.reload(cargs)
	case "notify":
		return c.notify(cargs)
	case "check":
		return c.check(cfg.Files, cfg.Origin, cargs)
	}
	for _, t := range cfg.Tools {
		if t.Name == command {
			return c.tool(t, cargs)
		}
	}
	known := c.toolNames()
	msg := fmt.Sprintf("unknown command %q; see `ramona help`", command)
	if c.inConsole {
		msg = fmt.Sprintf("unknown command %q; `help` lists the commands", command)
	}
	if len(known) > 0 {
		msg += fmt.Sprintf(" (tools in the configuration: %s)", strings.Join(known, ", "))
	}
	c.errorf("%s", msg)
	return exitUsage
}

// reachDespite prepares a command to reach the server although the
// configuration has errors (err): at [ramona:console] serveruri as far as the
// files still say it, else at the default address. It prints the errors as
// a warning; false when no file could be read at all (a wrong -c), or, with
// onlyIfRunning, when no server answers (start and restart start none).
func (c *cmdline) reachDespite(err error, onlyIfRunning bool) bool {
	uri, ok := serverAddress(c.cfg)
	if !ok {
		return false
	}
	if onlyIfRunning {
		cl, derr := dialServer(uri)
		if derr != nil {
			return false
		}
		cl.close()
	}
	c.cfgErr, c.guessedAddress = err, addressMayBeHidden(err)
	at := uri.String() + " all the same"
	switch {
	case c.cfg.Console.ServerURI.Scheme == "":
		at = "the default address " + at
	case c.guessedAddress:
		at += " (the errors may hide another address)"
	}
	c.cfg.Console.ServerURI = uri
	fmt.Fprintf(c.stderr, "ramona: warning: the configuration has errors; asking the server at %s:\n%s\n", at, indent(err.Error()))
	return true
}

// serverAddress is where the command line finds the server: [ramona:console]
// serveruri as far as cfg resolved it, else the default unix://.ramona.sock
// beside the first file read; false when no file could be read.
func serverAddress(cfg *Config) (SocketURI, bool) {
	if cfg.Console.ServerURI.Scheme != "" {
		return cfg.Console.ServerURI, true
	}
	if len(cfg.Files) == 0 {
		return SocketURI{}, false
	}
	uris, err := parseSocketURIs("unix://.ramona.sock", filepath.Dir(cfg.Files[0]), uriConnect)
	if err != nil {
		return SocketURI{}, false
	}
	return uris[0], true
}

// addressMayBeHidden: an error of the configuration may keep it from saying
// where the server listens: one in [ramona:server] or [ramona:console], or
// one outside any section (a file that cannot be read, a broken section
// header whose keys were skipped).
func addressMayBeHidden(err error) bool {
	var ces ConfigErrors
	if !errors.As(err, &ces) {
		return true
	}
	for _, e := range ces {
		if e.Section == "" || e.Section == "ramona:server" || e.Section == "ramona:console" {
			return true
		}
	}
	return false
}

// serverAbsent: dialing failed because no server listens there (no socket
// file, or nothing accepts): the server is not running, as opposed to one
// that cannot be reached (permissions, a timeout, TLS).
func serverAbsent(err error) bool {
	var u *unreachableError
	return errors.As(err, &u) && (errors.Is(u.err, syscall.ENOENT) || errors.Is(u.err, syscall.ECONNREFUSED))
}

// runTLSCommand is `ramona tls init DIR [HOST...]`.
func runTLSCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) < 2 || args[0] != "init" {
		fmt.Fprintln(stderr, "ramona: usage: ramona tls init DIR [HOST...] (HOST: names and addresses the server certificate is for; default localhost, 127.0.0.1, ::1 and this host's name)")
		return exitUsage
	}
	hosts := args[2:]
	if len(hosts) == 0 {
		hosts = []string{"localhost", "127.0.0.1", "::1"}
		if h, err := os.Hostname(); err == nil && h != "" {
			hosts = append(hosts, h)
		}
	}
	files, err := tlsInit(args[1], hosts)
	if err != nil {
		fmt.Fprintf(stderr, "ramona: tls init: %v\n", err)
		return exitFailed
	}
	for _, f := range files {
		fmt.Fprintln(stdout, "wrote", f)
	}
	dir, _ := filepath.Abs(args[1])
	fmt.Fprintf(stdout, `
In the server's configuration:
  [ramona:server]
  consoleuri=unix://.ramona.sock,tls://0.0.0.0:7788?cert=%[1]s/server.pem&key=%[1]s/server-key.pem&ca=%[1]s/ca.pem
On a client (copy ca.pem, client.pem and client-key.pem there):
  [ramona:console]
  serveruri=tls://SERVER:7788?cert=%[1]s/client.pem&key=%[1]s/client-key.pem&ca=%[1]s/ca.pem
`, dir)
	return exitOK
}

// parseFlags parses a command's flags, which may stand before, between or
// after program names.
func (c *cmdline) parseFlags(fs *flag.FlagSet, args []string) ([]string, bool) {
	fs.SetOutput(io.Discard)
	var names []string
	for {
		if err := fs.Parse(args); err != nil {
			c.errorf("%s: %v\n\n%s", fs.Name(), err, usageText)
			return nil, false
		}
		if fs.NArg() == 0 {
			return names, true
		}
		names = append(names, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// connect reaches the server named by [ramona:console] serveruri.
func (c *cmdline) connect() (*ctlClient, error) {
	return dialServer(c.cfg.Console.ServerURI)
}

// call connects, sends one request, prints progress lines, and returns the
// final reply's exit code; printed errors included.
func (c *cmdline) call(req request, each func(reply)) (reply, int) {
	cl, err := c.connect()
	if err != nil {
		c.errorf("%v", err)
		return reply{}, exitNoServer
	}
	defer cl.close()
	return c.callOn(cl, req, each)
}

func (c *cmdline) callOn(cl *ctlClient, req request, each func(reply)) (reply, int) {
	if each == nil {
		each = func(r reply) {
			if r.Progress != "" {
				c.say("%s", r.Progress)
			}
		}
	}
	r, err := cl.call(req, each)
	if err != nil {
		c.errorf("lost the connection to the server: %v", err)
		return reply{}, exitNoServer
	}
	if r.Error != "" {
		c.errorf("%s", r.Error)
	}
	return r, r.Exit
}

func (c *cmdline) daemon(args []string) int {
	fs := flag.NewFlagSet("daemon", flag.ContinueOnError)
	noStart := fs.Bool("S", false, "start no program")
	background := fs.Bool("background", false, "")
	origin := fs.String("origin", "", "") // background: how `ramona start` was given the files
	names, ok := c.parseFlags(fs, args)
	if !ok {
		return exitUsage
	}
	if c.debug {
		c.cfg.Server.LogLevel = LevelDebug
	}
	if *origin != "" {
		c.cfg.Origin = *origin
	}
	opts := serverOptions{names: names, noStart: *noStart, background: *background}
	if *background {
		opts.startPipe = takeStartPipe()
	}
	return runServer(c.cfg, opts, c.stdout, c.stderr)
}

// knownPrograms checks names (and globs, GROUP:NAME) against the
// configuration before a server is started for them; a name that matches
// nothing is a usage error listing the known ones.
func (c *cmdline) knownPrograms(names []string) bool {
	if _, err := selectPrograms(names, c.cfg.Programs); err != nil {
		c.errorf("%v", err)
		return false
	}
	return true
}

// ensureServer returns a connection to the server, starting one in the
// background when none answers (unless noStart).
func (c *cmdline) ensureServer(noStart bool) (*ctlClient, int) {
	cl, err := dialServer(c.cfg.Console.ServerURI)
	if err == nil {
		return cl, exitOK
	}
	var unreachable *unreachableError
	if noStart || !errors.As(err, &unreachable) {
		c.errorf("%v", err)
		return nil, exitNoServer
	}
	if code := c.startBackgroundServer(); code != exitOK {
		return nil, code
	}
	cl, err = dialServer(c.cfg.Console.ServerURI)
	if err != nil {
		c.errorf("the server started but does not answer: %v", err)
		return nil, exitNoServer
	}
	return cl, exitOK
}

// startBackgroundServer re-executes this binary as a server in its own
// session and waits until it listens or fails (background.go).
func (c *cmdline) startBackgroundServer() int {
	exe, err := os.Executable()
	if err != nil {
		c.errorf("cannot find my own executable: %v", err)
		return exitFailed
	}
	argv := append([]string{exe}, reexecPrefix...)
	for _, f := range c.cfg.Files {
		argv = append(argv, "-c", f)
	}
	argv = append(argv, "daemon", "-S", "-background", "-origin", c.cfg.Origin)
	if code := launchBackgroundServer(exe, argv, serverStartTimeout, c.stderr); code != exitOK {
		return code
	}
	c.say("ramona: server started (%s)", c.cfg.Console.ServerURI)
	return exitOK
}

// start is `start [-n] [-i] [-f] [-S] [PROG...]` and, with command
// "restart", `restart [-n] [-i] [-f] [PROG...]`: both make sure a server runs,
// then ask it for the sequence.
func (c *cmdline) start(command string, args []string) int {
	fs := flag.NewFlagSet(command, flag.ContinueOnError)
	noServer := fs.Bool("n", false, "do not start the server")
	nowait := fs.Bool("i", false, "return at once")
	force := fs.Bool("f", false, "also start FATAL programs")
	serverOnly := new(bool)
	if command == "start" {
		serverOnly = fs.Bool("S", false, "only ensure the server runs")
	}
	names, ok := c.parseFlags(fs, args)
	if !ok {
		return exitUsage
	}
	for _, w := range c.cfg.Warnings {
		c.errorf("warning: %s", w)
	}
	if c.cfgErr == nil && !c.knownPrograms(names) { // else the server checks them against what it runs
		return exitUsage
	}
	cl, code := c.ensureServer(*noServer || c.cfgErr != nil) // none starts from a broken configuration
	if cl == nil {
		return code
	}
	defer cl.close()
	if *serverOnly {
		return exitOK
	}
	_, code = c.callOn(cl, request{Cmd: command, Names: names, Flags: map[string]bool{"nowait": *nowait, "force": *force}}, nil)
	return code
}

func (c *cmdline) stop(args []string) int {
	fs := flag.NewFlagSet("stop", flag.ContinueOnError)
	nowait := fs.Bool("i", false, "return at once")
	core := fs.Bool("c", false, "core dump")
	keepServer := fs.Bool("S", false, "keep the server running")
	names, ok := c.parseFlags(fs, args)
	if !ok {
		return exitUsage
	}
	cl, err := c.connect()
	if err != nil {
		if !serverAbsent(err) || c.guessedAddress { // perhaps a server runs where it cannot be seen
			c.errorf("%v", err)
			return exitNoServer
		}
		if c.cfgErr == nil && !c.knownPrograms(names) {
			return exitUsage
		}
		c.say("ramona: the server is not running (nothing listens at %s); nothing to stop", c.cfg.Console.ServerURI)
		return exitOK
	}
	defer cl.close()
	_, code := c.callOn(cl, request{Cmd: "stop", Names: names, Flags: map[string]bool{"nowait": *nowait, "core": *core, "server": *keepServer}}, nil)
	if len(names) == 0 && !*keepServer && !*nowait && code == exitOK {
		// The server exits after its answer: wait until it has gone.
		cl.conn.SetReadDeadline(time.Now().Add(serverStartTimeout))
		io.Copy(io.Discard, cl.conn)
		c.say("ramona: server stopped")
	}
	return code
}

func (c *cmdline) status(args []string) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "JSON output")
	names, ok := c.parseFlags(fs, args)
	if !ok {
		return exitUsage
	}
	r, code := c.call(request{Cmd: "status", Names: names}, nil)
	if r.Result == nil {
		return code
	}
	var list []programStatus
	if err := json.Unmarshal(r.Result, &list); err != nil {
		c.errorf("bad status reply: %v", err)
		return exitFailed
	}
	if *asJSON {
		out, _ := json.MarshalIndent(list, "", "  ")
		fmt.Fprintf(c.stdout, "%s\n", out)
		return code
	}
	printStatus(c.stdout, list)
	return code
}

// printStatus writes the status table: name, state, pid, uptime or exit
// status, CPU time and memory of its process tree, launches, restarts, and
// the first line of the error, else "unhealthy: REASON", else the STATUS=
// text, every text with its control characters escaped.
func printStatus(w io.Writer, list []programStatus) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tPID\tUPTIME/EXIT\tCPU\tMEM\tLAUNCHES\tRESTARTS\tSTATUS")
	for _, st := range list {
		pid, up := "-", "-"
		if st.PID > 0 {
			pid = fmt.Sprint(st.PID)
			up = formatUptime(time.Duration(st.Uptime * float64(time.Second)))
		} else if st.Exit != nil {
			up = fmt.Sprintf("exit %v", st.Exit)
		}
		text := st.StatusText
		if st.HealthReason != "" {
			text = "unhealthy: " + st.HealthReason
		}
		if st.Error != "" {
			text = firstLine(st.Error)
		}
		if st.LostBytes > 0 {
			text = strings.TrimSpace(fmt.Sprintf("%s (log: %d bytes lost)", text, st.LostBytes))
		}
		cpu, mem := st.usageCells()
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", escapeControls(st.Name, false), escapeControls(st.State, false),
			pid, up, cpu, mem, st.Launches, st.Restarts, escapeControls(text, false))
	}
	tw.Flush()
}

func formatUptime(d time.Duration) string {
	d = d.Truncate(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h >= 24 {
		return fmt.Sprintf("%dd%02d:%02d:%02d", h/24, h%24, m, s)
	}
	return fmt.Sprintf("%d:%02d:%02d", h, m, s)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

func (c *cmdline) tail(args []string) int {
	fs := flag.NewFlagSet("tail", flag.ContinueOnError)
	follow := fs.Bool("f", false, "follow")
	n := fs.Int("n", 40, "lines")
	stream := fs.String("l", "stderr", "stream")
	names, ok := c.parseFlags(fs, args)
	if !ok {
		return exitUsage
	}
	if len(names) != 1 {
		c.errorf("tail needs exactly one program name")
		return exitUsage
	}
	if *stream != "stdout" && *stream != "stderr" {
		c.errorf("tail -l %s: use stdout or stderr", *stream)
		return exitUsage
	}
	_, code := c.call(request{Cmd: "tail", Names: names, N: *n, Stream: *stream, Flags: map[string]bool{"follow": *follow}}, func(r reply) {
		if r.Progress != "" { // a note (the output was cut, nothing was logged): not part of the log
			c.errorf("%s", r.Progress)
		}
		io.WriteString(c.stdout, r.Data)
	})
	return code
}

func (c *cmdline) who(args []string) int {
	if len(args) > 0 {
		c.errorf("who takes no arguments")
		return exitUsage
	}
	r, code := c.call(request{Cmd: "who"}, nil)
	var lines []string
	json.Unmarshal(r.Result, &lines)
	for _, l := range lines {
		fmt.Fprintln(c.stdout, escapeControls(l, false))
	}
	return code
}

func (c *cmdline) reload(args []string) int {
	if len(args) > 0 {
		c.errorf("reload takes no arguments")
		return exitUsage
	}
	_, code := c.call(request{Cmd: "reload"}, nil)
	return code
}

func (c *cmdline) notify(args []string) int {
	fs := flag.NewFlagSet("notify", flag.ContinueOnError)
	target := fs.String("t", "now", "now or daily")
	subject := fs.String("s", "", "subject")
	words, ok := c.parseFlags(fs, args)
	if !ok {
		return exitUsage
	}
	_, code := c.call(request{Cmd: "notify", Text: strings.Join(words, " "), Subject: *subject, Target: *target}, nil)
	return code
}

// tool runs a [tool:NAME] command in the foreground with the program
// environment and passes its exit code through.
func (c *cmdline) tool(t *ToolConfig, args []string) int {
	if t.Err != nil {
		c.errorf("tool %s cannot run, its configuration has errors:\n%s", t.Name, t.Err)
		return exitUsage
	}
	pc := &ProgramConfig{Name: t.Name, Env: t.Env, Umask: -1}
	env := programEnv(pc, c.cfg, os.Environ(), "", "")
	env = append(env, "RAMONA_SECTION=tool:"+t.Name)
	lookup := envLookup(env)
	argv, err := splitCommand(t.Command, lookup)
	if err != nil {
		c.errorf("tool %s: %v", t.Name, err)
		return exitUsage
	}
	dir := t.BaseDir
	if t.Directory != "" {
		dir = resolvePath(expandVars(t.Directory, func(k string) string { v, _ := lookup(k); return v }), t.BaseDir)
	}
	pathVar, _ := lookup("PATH")
	path, err := lookPath(argv[0], pathVar, dir)
	if err != nil {
		c.errorf("tool %s: %v", t.Name, err)
		return exitFailed
	}
	cmd := exec.Command(path, append(argv[1:], args...)...)
	cmd.Args[0] = argv[0]
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.stdin, c.stdout, c.stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				return 128 + int(ws.Signal())
			}
			return ee.ExitCode()
		}
		c.errorf("tool %s: %v", t.Name, err)
		return exitFailed
	}
	return exitOK
}
