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
//	start [-n] [-i] [-f] [-S] [PROG...]       start the server if needed, then programs
//	stop [-i] [-c] [-E|-S] [PROG...]          stop programs; with no names also the server
//	restart [-n] [-i] [-f] [PROG...]          stop, then start
//	status [--json] [PROG...]                 one line per program
//	tail [-f] [-n N] [-l stdout|stderr] PROG  the last lines of a program's log
//	who                                       clients connected to the server
//	notify [-t now|daily] [-s SUBJECT] TEXT   mail the operator; "" sends the daily digest now
//	reload                                    re-read the configuration
//	check                                     check the configuration; what reload would change
//	console                                   interactive prompt for all of the above
//	daemon [-S] [PROG...]                     run the server in the foreground (alias: server)
//	convert FILE...                           print supervisord's configuration in Ramona's dialect
//	tls init DIR [HOST...]                    certificates for tls://
//	version, help [COMMAND]
//	TOOL [ARGS...]                            run a [tool:TOOL] section's command
//
// The commands and their options are declared once, in verbs.go; `ramona
// help COMMAND` explains one. The Python original's long options
// (--force-start, --lines, --follow, ...) are aliases of the short ones.
//
// Exit codes: 0 success (status: all RUNNING); 1 the operation failed;
// 2 configuration or usage error; 3 status: a program is not running;
// 4 the server is not running or cannot be reached (stop: 0 when none runs).
//
// This file owns the command line: main, run, the options before the
// command, what each command needs of the configuration, the client side
// of the commands and what each prints. No other file calls os.Exit.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

var version = "0.1.0"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// globalOptions are the options before the command.
var globalOptions = &verb{name: "ramona", usage: "[-c FILE]... [-d|-s] COMMAND [ARGS]", args: anyOperands, optionsFirst: true,
	options: []option{
		valueOption('c', "config", "FILE", "a configuration file (repeatable; later files win), Ramona's or supervisord's (a file with a [supervisord] section); default: $RAMONA_CONFIG (':'-separated), else ./ramona.conf",
			func(in *invocation, v string) error { in.configs = append(in.configs, v); return nil }),
		switchOption('d', "debug", "debug output (the server logs at DEBUG)", func(in *invocation) *bool { return &in.debug }),
		switchOption('s', "silent", "silent: errors only", func(in *invocation) *bool { return &in.silent }),
	}}

// writeUsage is `ramona help`: the commands, the options, the exit codes.
func writeUsage(w io.Writer) {
	fmt.Fprintf(w, "usage: ramona %s\n\nCommands:\n", globalOptions.usage)
	writeCommandList(w, false)
	fmt.Fprintf(w, `  TOOL [ARGS...]  run the command of a [tool:TOOL] section

PROG may be a shell glob (web*), GROUP:NAME or GROUP:* as in supervisorctl.
`+"`ramona help COMMAND`"+` explains a command and its options.

`)
	globalOptions.writeOptions(w)
	io.WriteString(w, `
Exit codes: 0 success; 1 the operation failed; 2 configuration or usage error;
3 status: a program in scope is not running; 4 the server is not running (or
cannot be reached; stop exits 0 when none runs).
`)
}

// cmdline is one invocation's settings and output streams.
type cmdline struct {
	cfg            *Config
	files          []string // the configuration files asked for (-c, $RAMONA_CONFIG)
	origin         string   // how they were asked for
	stdin          io.Reader
	stdout, stderr io.Writer
	debug, silent  bool
	inConsole      bool // commands come from the console, which has its own help

	// A command that reaches a running server although the configuration
	// has errors (configDespite): cfgErr holds them, and guessedAddress
	// says that the server's address is the default one because the errors
	// may hide the configured one.
	cfgErr         error
	guessedAddress bool
}

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
	if len(args) > 0 && args[0] == "exec-ctrlc" {
		return runExecCtrlC(args[1:])
	}
	c := &cmdline{stdin: stdin, stdout: stdout, stderr: stderr}
	g, help, err := globalOptions.parse(args)
	switch {
	case err != nil:
		return c.usageError(err)
	case help:
		writeUsage(stdout)
		return exitOK
	case len(g.args) == 0:
		c.errorf("no command given\nusage: ramona %s\n`ramona help` lists the commands", globalOptions.usage)
		return exitUsage
	}
	c.debug, c.silent = g.debug, g.silent
	c.files, c.origin = configFiles(g.configs, os.Getenv)
	return c.runCommand(g.args[0], g.args[1:])
}

// runCommand parses the command's options (a usage error is one whatever
// the files say), reads the configuration as the command needs it, and
// runs the command.
func (c *cmdline) runCommand(name string, args []string) int {
	v := verbNamed(name)
	var in *invocation
	if v != nil {
		var done bool
		var code int
		if in, code, done = c.parseCommand(v, args); done {
			return code
		}
		if v.config == configNone || v.config == configReport {
			return v.run(c, in)
		}
	}
	load := loadConfigReport
	if v != nil && v.serverResolves {
		load = loadClientConfig
	}
	cfg, err := load(c.files, os.Environ())
	cfg.Origin = c.origin
	c.cfg = cfg
	if err != nil {
		despite := v != nil && (v.config == configDespite || v.config == configIfRunning)
		if !despite || !c.reachDespite(err, v.config == configIfRunning) {
			c.errorf("the configuration has errors:\n%s", err)
			return exitUsage
		}
	}
	if v == nil {
		return c.runTool(name, args)
	}
	return v.run(c, in)
}

// dispatch runs one console line's command against the configuration
// already loaded.
func (c *cmdline) dispatch(name string, args []string) int {
	v := verbNamed(name)
	if v == nil {
		return c.runTool(name, args)
	}
	if !v.console {
		c.errorf("%s is not available inside the console", name)
		return exitUsage
	}
	in, code, done := c.parseCommand(v, args)
	if done {
		return code
	}
	return v.run(c, in)
}

// parseCommand parses a command's arguments; done when there is nothing
// more to do: its help was printed (exit 0), or a usage error (exit 2).
func (c *cmdline) parseCommand(v *verb, args []string) (in *invocation, code int, done bool) {
	in, help, err := v.parse(args)
	switch {
	case err != nil:
		return nil, c.usageError(err), true
	case help:
		v.writeHelp(c.stdout, c.inConsole)
		return nil, exitOK, true
	}
	return in, exitOK, false
}

// usageError prints what is wrong with a command line, the command's usage
// line and where its help is; it returns exitUsage.
func (c *cmdline) usageError(err error) int {
	var ue *usageError
	if !errors.As(err, &ue) || ue.verb == globalOptions {
		c.errorf("%s\nusage: ramona %s\n`ramona help` lists the commands", strings.TrimPrefix(err.Error(), "ramona "), globalOptions.usage)
		return exitUsage
	}
	helpCmd := "ramona help " + ue.verb.name
	if c.inConsole {
		helpCmd = "help " + ue.verb.name
	}
	c.errorf("%v\nusage: %s\n`%s` explains it", err, ue.verb.usageLine(c.inConsole), helpCmd)
	return exitUsage
}

// runTool runs the [tool:NAME] section named, or says that no command has
// that name.
func (c *cmdline) runTool(name string, args []string) int {
	for _, t := range c.cfg.Tools {
		if t.Name == name {
			return c.tool(t, args)
		}
	}
	msg := fmt.Sprintf("unknown command %q; see `ramona help`", name)
	if c.inConsole {
		msg = fmt.Sprintf("unknown command %q; `help` lists the commands", name)
	}
	if known := c.toolNames(); len(known) > 0 {
		msg += fmt.Sprintf(" (tools in the configuration: %s)", strings.Join(known, ", "))
	}
	c.errorf("%s", msg)
	return exitUsage
}

// helpCommand is `help [COMMAND]`: the list of commands, or one command's
// usage, what it does and its options.
func (c *cmdline) helpCommand(in *invocation) int {
	switch {
	case len(in.args) == 0 && c.inConsole:
		c.consoleHelp()
		return exitOK
	case len(in.args) == 0:
		writeUsage(c.stdout)
		return exitOK
	case len(in.args) > 1:
		return c.usageError(&usageError{verb: in.verb, msg: "takes one command name"})
	}
	if v := verbNamed(in.args[0]); v != nil && !v.hidden && (v.console || !c.inConsole) {
		v.writeHelp(c.stdout, c.inConsole)
		return exitOK
	}
	if c.inConsole && consoleOwnHelp[in.args[0]] != "" {
		fmt.Fprintln(c.stdout, consoleOwnHelp[in.args[0]])
		return exitOK
	}
	if c.cfg != nil {
		for _, t := range c.cfg.Tools {
			if t.Name == in.args[0] {
				fmt.Fprintf(c.stdout, "usage: %s [ARGS...]\n\nRuns the command of [tool:%s] in the foreground with the program environment,\nARGS appended, and passes its exit code through.\n", t.Name, t.Name)
				return exitOK
			}
		}
	}
	c.errorf("help: no command %q; `%s` lists them", in.args[0], strings.TrimSpace(map[bool]string{true: "help", false: "ramona help"}[c.inConsole]))
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

// daemon is `daemon [-S] [PROG...]`: the server in the foreground (and, with
// --background, the one `ramona start` launches).
func (c *cmdline) daemon(in *invocation) int {
	if c.debug {
		c.cfg.Server.LogLevel = LevelDebug
	}
	if in.origin != "" {
		c.cfg.Origin = in.origin
	}
	opts := serverOptions{names: in.req.Names, noStart: in.serverOnly, background: in.background}
	if in.background {
		opts.startPipe = takeStartPipe()
	}
	if code, ok := runAsService(func() int { // started by the Windows service manager
		opts.background = true // the log goes to the server log file
		return runServer(c.cfg, opts, c.stdout, c.stderr)
	}); ok {
		return code
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
// background when none answers (unless noStart); started says it did.
func (c *cmdline) ensureServer(noStart bool) (cl *ctlClient, started bool, code int) {
	cl, err := dialServer(c.cfg.Console.ServerURI)
	if err == nil {
		return cl, false, exitOK
	}
	var unreachable *unreachableError
	if noStart || !errors.As(err, &unreachable) {
		c.errorf("%v", err)
		return nil, false, exitNoServer
	}
	if code := c.startBackgroundServer(); code != exitOK {
		return nil, false, code
	}
	cl, err = dialServer(c.cfg.Console.ServerURI)
	if err != nil {
		c.errorf("the server started but does not answer: %v", err)
		return nil, true, exitNoServer
	}
	return cl, true, exitOK
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

// runSequence is start and restart: both make sure a server runs (start
// one unless -n, or the configuration is broken), then ask it for the
// sequence and print its progress.
func (c *cmdline) runSequence(in *invocation) int {
	for _, w := range c.cfg.Warnings {
		c.errorf("warning: %s", w)
	}
	if c.cfgErr == nil && !c.knownPrograms(in.req.Names) { // else the server checks them against what it runs
		return exitUsage
	}
	cl, started, code := c.ensureServer(in.noServerStart || c.cfgErr != nil) // none starts from a broken configuration
	if cl == nil {
		return code
	}
	defer cl.close()
	if in.serverOnly {
		if !started {
			c.say("ramona: the server already runs (pid %d, %s)", cl.server.PID, c.cfg.Console.ServerURI)
		}
		return exitOK
	}
	_, code = c.callOn(cl, in.req, nil)
	return code
}

// stopChecks are stop's rules on -E and -S, as the Python original's.
func stopChecks(in *invocation) string {
	switch {
	case in.stopAndExit && in.req.Flags.KeepServer:
		return "-E and -S: stop and exit, or stop and stay, not both"
	case in.stopAndExit && len(in.req.Names) > 0:
		return "-E stops every program and the server: no program names with it"
	}
	return ""
}

// stop is `stop`: with no server it says so and exits 0; without names
// (and without -S) it waits until the server has gone.
func (c *cmdline) stop(in *invocation) int {
	names := in.req.Names
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
	_, code := c.callOn(cl, in.req, nil)
	if len(names) == 0 && !in.req.Flags.KeepServer && !in.req.Flags.NoWait && code == exitOK {
		// The server exits after its answer: wait until it has gone.
		cl.conn.SetReadDeadline(time.Now().Add(serverStartTimeout))
		io.Copy(io.Discard, cl.conn)
		c.say("ramona: server stopped")
	}
	return code
}

// who prints the server's clients.
func (c *cmdline) who(in *invocation) int {
	r, code := c.call(in.req, nil)
	var lines []string
	json.Unmarshal(r.Result, &lines)
	for _, l := range lines {
		fmt.Fprintln(c.stdout, escapeControls(l, false))
	}
	return code
}

// sendRequest is the commands that only send their request and print the
// replies (reload, notify).
func (c *cmdline) sendRequest(in *invocation) int {
	_, code := c.call(in.req, nil)
	return code
}

// checkCommand is `check` on the files asked for.
func (c *cmdline) checkCommand(in *invocation) int { return c.check(c.files, c.origin) }

// tool runs a [tool:NAME] command in the foreground with the program
// environment and passes its exit code through.
func (c *cmdline) tool(t *ToolConfig, args []string) int {
	if t.Err != nil {
		c.errorf("tool %s cannot run, its configuration has errors:\n%s", t.Name, t.Err)
		return exitUsage
	}
	pc := &ProgramConfig{Name: t.Name, Env: t.Env, Umask: -1}
	env := programEnv(pc, "tool:"+t.Name, c.cfg, os.Environ(), "", "")
	rc, err := resolveCommand(t.Command, t.Directory, t.BaseDir, envLookup(env))
	if err != nil {
		c.errorf("tool %s: %v", t.Name, err)
		if rc.argv == nil { // the command itself cannot be split
			return exitUsage
		}
		return exitFailed
	}
	argv := append(rc.argv[:len(rc.argv):len(rc.argv)], args...)
	ps, err := runForeground(rc.path, argv, rc.dir, env, c.stdin, c.stdout, c.stderr)
	if err != nil {
		c.errorf("tool %s: %v", t.Name, err)
		return exitFailed
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// runForeground runs path with argv, dir and env to its end, with stdin,
// stdout and stderr as its standard streams: a stream that is a file is
// passed as it is, any other through a pipe copied until the program's end
// closes it. (os/exec does the same and more; this command is its only use,
// and leaving it out keeps 15 KB out of the binary.)
func runForeground(path string, argv []string, dir string, env []string, stdin io.Reader, stdout, stderr io.Writer) (*os.ProcessState, error) {
	var files [3]*os.File
	var closeAfterStart []*os.File
	var copies []func()
	defer func() {
		for _, f := range closeAfterStart {
			f.Close()
		}
	}()
	if f, ok := stdin.(*os.File); ok {
		files[0] = f
	} else {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		files[0] = r
		closeAfterStart = append(closeAfterStart, r)
		go func() { // ends when stdin does or the program stops reading
			io.Copy(w, stdin)
			w.Close()
		}()
	}
	for i, out := range []io.Writer{stdout, stderr} {
		if f, ok := out.(*os.File); ok {
			files[i+1] = f
			continue
		}
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		files[i+1] = w
		closeAfterStart = append(closeAfterStart, w)
		done := make(chan struct{})
		go func() { // ends when the program and its children close the pipe
			io.Copy(out, r)
			r.Close()
			close(done)
		}()
		copies = append(copies, func() { <-done })
	}
	p, err := os.StartProcess(path, argv, &os.ProcAttr{Dir: dir, Env: env, Files: files[:]})
	for _, f := range closeAfterStart {
		f.Close()
	}
	closeAfterStart = nil
	if err != nil {
		for _, wait := range copies {
			wait()
		}
		return nil, err
	}
	ps, err := p.Wait()
	for _, wait := range copies {
		wait()
	}
	return ps, err
}
