// The command table: every command declared once, with its name and
// aliases, usage line and help, typed options (the Python original's long
// options as aliases of the short ones), what it needs of the
// configuration, where the server runs it (on the loop, or on the
// connection's goroutine), and its client and server handlers. The command
// line parses with it, the console helps and completes from it, the server
// dispatches requests through it; help texts and usage errors come from it.
package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
)

// verb is one command.
type verb struct {
	name    string
	aliases []string
	usage   string // after "ramona ": the options and operands
	summary string // one line for the list of commands
	help    string // what `ramona help NAME` says beyond usage and options
	options []option
	args    operands
	config  configNeed
	console bool // the console offers it
	hidden  bool // internal: in no list and no help
	// optionsFirst: options only come before the first operand (the
	// options before the command); else anywhere.
	optionsFirst bool
	// rules checks what options and operands cannot go together; it
	// returns what is wrong, or "".
	rules func(in *invocation) string
	// noOperandsWhy follows "takes no arguments" when some were given.
	noOperandsWhy string

	// The client side: what the command line and the console run.
	run func(c *cmdline, in *invocation) int
	// The server side, for the commands the server answers: an onLoop
	// handler runs on the supervisor's loop and answers through sink; an
	// offLoop one runs on the connection's goroutine (it waits for files,
	// for the reloader or for a stream) and posts what needs the loop.
	onLoop  func(s *Supervisor, c *clientConn, req request, sink *replySink)
	offLoop func(cs *ctlServer, conn net.Conn, c *clientConn, req request) bool
	// whileStopping: the server answers it while it stops everything to exit.
	whileStopping bool
	// serverResolves: the server resolves the operands, so the command line
	// reads the configuration without its programs (loadClientConfig).
	serverResolves bool
}

// operands says what a command takes besides its options.
type operands int

const (
	noOperands  operands = iota
	programs             // PROG...: names, globs, GROUP:NAME (names.go)
	oneProgram           // exactly one PROG
	textWords            // words joined into one text
	anyOperands          // the handler checks them
)

// configNeed says what a command needs of the configuration files.
type configNeed int

const (
	configNone      configNeed = iota // runs without reading them
	configValid                       // stops at their errors (exit 2)
	configReport                      // reads them itself and reports their errors (check)
	configDespite                     // reaches a running server despite errors (reachDespite)
	configIfRunning                   // as configDespite, but only when a server answers
)

// option is one option of a command: -x, --long, or both.
type option struct {
	short  byte   // 'f', or 0 for a long option only
	long   string // "force-start": the Python original's name where it has one
	value  string // the value's name in help ("N"); "" for a switch
	help   string
	hidden bool // internal: not in help
	set    func(in *invocation, value string) error
}

// invocation is one command as parsed: the request it sends to the server,
// and what only the client uses.
type invocation struct {
	verb          *verb
	req           request
	args          []string // operands as given
	noServerStart bool     // start, restart -n
	serverOnly    bool     // start, daemon -S
	stopAndExit   bool     // stop -E
	asJSON        bool     // status --json
	background    bool     // daemon --background (how `ramona start` runs the server)
	origin        string   // daemon --origin: how `ramona start` was given the files
	configs       []string // before the command: -c FILE...
	debug, silent bool     // before the command: -d, -s
}

// switchOption is an option without a value that sets *field(in).
func switchOption(short byte, long, help string, field func(in *invocation) *bool) option {
	return option{short: short, long: long, help: help, set: func(in *invocation, _ string) error {
		*field(in) = true
		return nil
	}}
}

// valueOption is an option with a value, which set checks and keeps.
func valueOption(short byte, long, value, help string, set func(in *invocation, v string) error) option {
	return option{short: short, long: long, value: value, help: help, set: set}
}

// The options shared by several commands.
var (
	optImmediate = switchOption('i', "immediate-return", "return at once: as soon as the first priority group was started (or stopped); what failed at once is reported (exit 1), later changes only in the server log",
		func(in *invocation) *bool { return &in.req.Flags.NoWait })
	optNoServerStart = switchOption('n', "no-server-start", "do not start the server when none answers (exit 4)",
		func(in *invocation) *bool { return &in.noServerStart })
	optForce = switchOption('f', "force-start", "also start programs that are FATAL",
		func(in *invocation) *bool { return &in.req.Flags.Force })
)

// verbs is the table. Its order is the order of `ramona help`.
var verbs []*verb

func init() {
	verbs = []*verb{
		{
			name: "start", usage: "start [-n] [-i] [-f] [-S] [PROG...]", args: programs, config: configIfRunning, console: true,
			summary: "start the server if it is not running, then programs",
			help: `Starts the server in the background when none answers, then the programs: every enabled
autostart one, or those named, in priority order, printing each state change. It returns
when they are RUNNING or failed (exit 1). A server that cannot start prints why (exit 1,
or 2 when it rejects the configuration) and leaves nothing running.`,
			options: []option{optNoServerStart, optImmediate, optForce,
				switchOption('S', "server-only", "only make sure the server runs; start no program", func(in *invocation) *bool { return &in.serverOnly })},
			run: (*cmdline).runSequence, onLoop: (*Supervisor).serveSequence,
		},
		{
			name: "stop", usage: "stop [-i] [-c] [-E|-S] [PROG...]", args: programs, config: configDespite, console: true,
			summary: "stop programs; with no names also the server",
			help: `Stops programs in reverse priority order. With no names it stops every program and the
server exits (-E, the default), or stays (-S). A program that is not running says so.
When no server runs, stop says so and exits 0, as systemctl stop does.`,
			rules: stopChecks,
			options: []option{optImmediate,
				switchOption('c', "core-dump", "send SIGQUIT first to programs with coredump=yes, for a core dump", func(in *invocation) *bool { return &in.req.Flags.Core }),
				switchOption('E', "stop-and-exit", "stop every program and the server (the default without names)", func(in *invocation) *bool { return &in.stopAndExit }),
				switchOption('S', "stop-and-stay", "stop every program but keep the server running", func(in *invocation) *bool { return &in.req.Flags.KeepServer })},
			run: (*cmdline).stop, onLoop: (*Supervisor).serveSequence,
		},
		{
			name: "restart", usage: "restart [-n] [-i] [-f] [PROG...]", args: programs, config: configIfRunning, console: true,
			summary: "stop, then start",
			help: `Stops the programs, then starts them, in priority order. Without names: every running
program and every autostart one.`,
			options: []option{optNoServerStart, optImmediate, optForce},
			run:     (*cmdline).runSequence, onLoop: (*Supervisor).serveSequence,
		},
		{
			name: "status", usage: "status [--json] [PROG...]", args: programs, config: configDespite, console: true, whileStopping: true, serverResolves: true,
			summary: "state of each program (exit 3: one is not RUNNING)",
			help: `A table: name, state, pid, uptime (or the last exit status), CPU time and memory of the
program's process tree, launches, restarts, and the error or STATUS= text. Exit 3 when a
program in scope that should run is not RUNNING.`,
			options: []option{{long: "json", help: "an array of JSON objects instead of the table", set: func(in *invocation, _ string) error {
				in.asJSON = true
				return nil
			}}},
			run: (*cmdline).status, onLoop: (*Supervisor).serveStatus,
		},
		{
			name: "tail", usage: "tail [-f] [-n N] [-l stdout|stderr] PROG", args: oneProgram, config: configDespite, console: true, serverResolves: true,
			summary: "the last lines of a program's log; -f follows",
			help: `The last N lines of the program's log, banners included, at most its last 10 MiB. Notes
(the output was cut, nothing was logged yet) go to stderr; stdout only has the log.`,
			options: []option{
				switchOption('f', "follow", "go on with live output, across restarts and rotations, until interrupted", func(in *invocation) *bool { return &in.req.Flags.Follow }),
				valueOption('n', "lines", "N", "how many lines (40)", func(in *invocation, v string) error {
					n, err := strconv.Atoi(v)
					if err != nil || n < 0 {
						return errors.New("not a number of lines")
					}
					in.req.N = n
					return nil
				}),
				valueOption('l', "log-stream", "STREAM", "stdout or stderr (where the banners are; the default)", func(in *invocation, v string) error {
					if v != "stdout" && v != "stderr" {
						return errors.New("use stdout or stderr")
					}
					in.req.Stream = v
					return nil
				})},
			run: (*cmdline).tail, offLoop: (*ctlServer).serveTail,
		},
		{
			name: "who", usage: "who", config: configDespite, console: true, whileStopping: true, serverResolves: true,
			summary: "clients connected to the server",
			help:    `Clients connected to the server: transport, peer (pid and uid for unix sockets), connect time; * marks the caller.`,
			run:     (*cmdline).who, onLoop: (*Supervisor).serveWho,
		},
		{
			name: "notify", usage: "notify [-t now|daily] [-s SUBJECT] TEXT", args: textWords, config: configValid, console: true,
			summary: "mail the operator; an empty TEXT sends the daily digest now",
			help: `Sends TEXT to the [ramona:notify] receivers now, or keeps it for the daily digest. An empty
TEXT ("") sends the daily digests now. The message goes out after the command returned;
the server log says when.`,
			options: []option{
				valueOption('t', "target", "WHEN", "now (the default), daily, now:ADDR or daily:ADDR (ADDR: a mail address or a webhook URL)", func(in *invocation, v string) error {
					in.req.Target = v
					return nil
				}),
				valueOption('s', "subject", "SUBJECT", "the subject (notification)", func(in *invocation, v string) error {
					in.req.Subject = v
					return nil
				})},
			run: (*cmdline).sendRequest, onLoop: (*Supervisor).serveNotify,
		},
		{
			name: "reload", usage: "reload", config: configValid, console: true,
			summary: "re-read the configuration: add, remove, restart changed",
			help: `Re-reads the configuration: starts added programs (when autostart), stops and forgets
removed ones, restarts changed ones, leaves the others alone. Errors in the global
sections change nothing (exit 2); a program added or changed into CFGERROR is printed
with its errors (exit 2) and the rest is applied.`,
			run: (*cmdline).sendRequest, offLoop: (*ctlServer).serveReload,
		},
		{
			name: "check", usage: "check", config: configReport, console: true, noOperandsWhy: ": it checks the whole configuration",
			summary: "check the configuration; what reload would change",
			help: `Reads the configuration and prints the files read and why, what a <siteconf> file
overrides, every warning and error with file:line, and, when a server answers, what
reload would change there. Exit 2 with errors.`,
			run: (*cmdline).checkCommand, offLoop: (*ctlServer).serveCheck,
		},
		{
			name: "console", usage: "console", config: configValid,
			summary: "interactive prompt for these commands, with history",
			help:    "An interactive prompt for the commands above, with history, line editing and Tab completion on a terminal.",
			run:     func(c *cmdline, in *invocation) int { return c.console() },
		},
		{
			name: "daemon", aliases: []string{"server"}, usage: "daemon [-S] [PROG...]", args: programs, config: configValid,
			summary: "run the server in the foreground (alias: server)",
			help: `Runs the server in the foreground, logging to stderr; it starts every autostart program,
or the ones named, or none with -S.`,
			options: []option{
				switchOption('S', "server-only", "start no program", func(in *invocation) *bool { return &in.serverOnly }),
				{long: "background", hidden: true, set: func(in *invocation, _ string) error { in.background = true; return nil }},
				{long: "origin", value: "ORIGIN", hidden: true, set: func(in *invocation, v string) error { in.origin = v; return nil }}},
			run: (*cmdline).daemon,
		},
		{
			name: "wininstall", usage: "wininstall [NAME]", args: anyOperands, config: configValid,
			summary: "register the server as a Windows service (Windows only)",
			help: `Registers a Windows service NAME (default: [general] appname) that runs this
ramona.exe with the configuration files, made absolute, and "daemon"; it starts with
Windows, or now with sc start NAME. On other systems it only says so (exit 2).`,
			run: func(c *cmdline, in *invocation) int { return c.winInstall(in.args) },
		},
		{
			name: "winuninstall", usage: "winuninstall [NAME]", args: anyOperands, config: configValid,
			summary: "stop and remove the Windows service (Windows only)",
			help: `Stops the Windows service NAME (default: [general] appname), waiting for its orderly
stop of every program, and removes it.`,
			run: func(c *cmdline, in *invocation) int { return c.winUninstall(in.args) },
		},
		{
			name: "convert", usage: "convert FILE...", args: anyOperands,
			summary: "print supervisord's configuration in Ramona's dialect",
			help:    "Prints the Ramona configuration that does what supervisord's FILEs do; warnings go to stderr. Exit 2 when the files have errors.",
			run:     func(c *cmdline, in *invocation) int { return runConvert(in.args, os.Environ(), c.stdout, c.stderr) },
		},
		{
			name: "tls", usage: "tls init DIR [HOST...]", args: anyOperands,
			summary: "write a CA, server and client certificates for tls://",
			help: `Writes a CA (ca.pem, ca-key.pem), a server certificate for HOST (default: localhost,
127.0.0.1, ::1 and the host name) and a client certificate into DIR, keys mode 0600,
and prints the consoleuri/serveruri lines that use them.`,
			run: func(c *cmdline, in *invocation) int { return runTLSCommand(in.args, c.stdout, c.stderr) },
		},
		{
			name: "version", usage: "version", console: true,
			summary: "print the version",
			run: func(c *cmdline, in *invocation) int {
				fmt.Fprintf(c.stdout, "ramona %s\n", version)
				return exitOK
			},
		},
		{
			name: "help", usage: "help [COMMAND]", args: anyOperands, console: true,
			summary: "the commands, or what one does",
			run:     (*cmdline).helpCommand,
		},
		{
			name: "httpfend", usage: "httpfend NAME", args: anyOperands, config: configValid, hidden: true,
			run: func(c *cmdline, in *invocation) int { return runWebFrontend(c.cfg, in.args, c.stderr) },
		},
	}
}

// verbNamed finds a command by its name or an alias; nil when none.
func verbNamed(name string) *verb {
	for _, v := range verbs {
		if v.name == name || slices.Contains(v.aliases, name) {
			return v
		}
	}
	return nil
}

// optionNamed finds one of v's options by its long name.
func (v *verb) optionNamed(long string) *option {
	for i := range v.options {
		if v.options[i].long == long {
			return &v.options[i]
		}
	}
	return nil
}

// usageError is a command line a command cannot take: what is wrong, said
// with the command's name.
type usageError struct {
	verb *verb
	msg  string
}

func (e *usageError) Error() string { return e.msg }

// parse reads a command's options and operands, which may come in any
// order: -x and clusters of switches (-fi), -n N or -nN, --long,
// --long=VALUE or --long VALUE, -long for a long name, and -- before
// operands that start with "-". -h and --help ask for the command's help.
func (v *verb) parse(args []string) (in *invocation, help bool, err error) {
	in = &invocation{verb: v, req: request{Cmd: v.name}}
	fail := func(format string, a ...any) (*invocation, bool, error) {
		return nil, false, &usageError{verb: v, msg: v.name + " " + fmt.Sprintf(format, a...)}
	}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case arg == "--":
			in.args = append(in.args, args[i+1:]...)
			i = len(args)
			continue
		case arg == "-h" || arg == "--help" || arg == "-help":
			return in, true, nil
		case len(arg) < 2 || arg[0] != '-':
			if v.optionsFirst {
				in.args = append(in.args, args[i:]...)
				i = len(args)
			} else {
				in.args = append(in.args, arg)
			}
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		if o := v.optionNamed(name); o != nil && (strings.HasPrefix(arg, "--") || len(name) > 1) {
			if o.value == "" {
				if hasValue {
					return fail("--%s: takes no value", o.long)
				}
			} else if !hasValue {
				if i+1 >= len(args) {
					return fail("--%s: needs a value (%s)", o.long, o.value)
				}
				i++
				value = args[i]
			}
			if err := o.set(in, value); err != nil {
				return fail("--%s %s: %v", o.long, value, err)
			}
			continue
		}
		if strings.HasPrefix(arg, "--") {
			return fail("%s: unknown option", arg)
		}
		for j := 1; j < len(arg); j++ { // a cluster of short options
			o := v.shortOption(arg[j])
			if o == nil {
				return fail("-%c: unknown option", arg[j])
			}
			if o.value == "" {
				o.set(in, "")
				continue
			}
			value := arg[j+1:]
			if value == "" {
				if i+1 >= len(args) {
					return fail("-%c: needs a value (%s)", o.short, o.value)
				}
				i++
				value = args[i]
			}
			if err := o.set(in, value); err != nil {
				return fail("-%c %s: %v", o.short, value, err)
			}
			break
		}
	}
	if err := v.checkOperands(in); err != nil {
		return nil, false, err
	}
	if v.rules != nil {
		if msg := v.rules(in); msg != "" {
			return fail("%s", msg)
		}
	}
	return in, false, nil
}

// shortOption finds one of v's options by its letter.
func (v *verb) shortOption(c byte) *option {
	for i := range v.options {
		if o := &v.options[i]; o.short == c && !o.hidden {
			return o
		}
	}
	return nil
}

// checkOperands checks what the command takes besides options, and puts
// the operands into the request.
func (v *verb) checkOperands(in *invocation) error {
	fail := func(msg string) error { return &usageError{verb: v, msg: v.name + " " + msg} }
	switch v.args {
	case noOperands:
		if len(in.args) > 0 {
			return fail("takes no arguments" + v.noOperandsWhy)
		}
	case programs:
		in.req.Names = in.args
	case oneProgram:
		if len(in.args) != 1 {
			return fail("needs exactly one program name")
		}
		in.req.Names = in.args
	case textWords:
		in.req.Text = strings.Join(in.args, " ")
	}
	return nil
}

// usageLine is the command's usage, as the command line or the console
// writes it.
func (v *verb) usageLine(inConsole bool) string {
	if inConsole {
		return v.usage
	}
	return "ramona " + v.usage
}

// writeHelp writes the command's usage, what it does and its options.
func (v *verb) writeHelp(w io.Writer, inConsole bool) {
	fmt.Fprintf(w, "usage: %s\n", v.usageLine(inConsole))
	if len(v.aliases) > 0 {
		fmt.Fprintf(w, "alias: %s\n", strings.Join(v.aliases, ", "))
	}
	text := v.help
	if text == "" && v.summary != "" {
		text = strings.ToUpper(v.summary[:1]) + v.summary[1:] + "."
	}
	fmt.Fprintf(w, "\n%s\n", text)
	if len(v.options) > 0 {
		fmt.Fprintln(w)
		v.writeOptions(w)
	}
}

// writeOptions lists the command's options with what each does.
func (v *verb) writeOptions(w io.Writer) {
	var lines [][2]string
	width := 0
	for _, o := range v.options {
		if o.hidden {
			continue
		}
		var names []string
		if o.short != 0 {
			names = append(names, "-"+string(o.short))
		}
		if o.long != "" {
			names = append(names, "--"+o.long)
		}
		spec := strings.Join(names, ", ")
		if o.value != "" {
			spec += " " + o.value
		}
		width = max(width, len(spec))
		lines = append(lines, [2]string{spec, o.help})
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(w, "Options:\n")
	for _, l := range lines {
		fmt.Fprintf(w, "  %-*s  %s\n", width, l[0], l[1])
	}
}

// writeCommandList writes the usage line and summary of every command
// that where offers (the command line: all; the console: its own).
func writeCommandList(w io.Writer, inConsole bool) {
	width := 0
	var shown []*verb
	for _, v := range verbs {
		if v.hidden || inConsole && !v.console {
			continue
		}
		shown = append(shown, v)
		width = max(width, len(v.usage))
	}
	for _, v := range shown {
		fmt.Fprintf(w, "  %-*s  %s\n", width, v.usage, v.summary)
	}
}

// consoleWords are the commands the console completes first on a line:
// its commands from the table and its own.
func consoleWords() []string {
	var words []string
	for _, v := range verbs {
		if v.console {
			words = append(words, v.name)
		}
	}
	return append(words, consoleOwnCommands...)
}

// takesPrograms reports whether the command's operands are program names
// (which the console completes).
func takesPrograms(name string) bool {
	v := verbNamed(name)
	return v != nil && (v.args == programs || v.args == oneProgram)
}

// handle runs an on-loop command's handler (verbs.go); it answers through
// sink, at once or when a sequence has settled.
func (s *Supervisor) handle(c *clientConn, req request, sink *replySink) {
	v := verbNamed(req.Cmd)
	switch {
	case v == nil || v.onLoop == nil:
		sink.done(reply{Exit: exitUsage, Error: fmt.Sprintf("unknown command %q", req.Cmd)})
	case s.quitting && !v.whileStopping:
		sink.done(reply{Exit: exitFailed, Error: "the server is stopping every program to exit; try again after it started anew"})
	default:
		v.onLoop(s, c, req, sink)
	}
}
