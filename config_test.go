// Tests of the configuration layer (ini.go, config.go, configvalues.go): the
// exact text of every load error and where it lands (global ConfigErrors or
// one program's CFGERROR), the resolved value of every kind of key, command
// splitting, diff for reload, loading configs shaped like the Python Ramona
// samples (testdata/compat-*.conf), the fuzzers of the INI reader and the
// command splitter, and a benchmark of loading 1000 programs.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testEnviron is the server environment the tests load with.
var testEnviron = []string{"HOME=/home/tester", "TMP=/tmp/ramona-tmp", "LANG=C"}

// hermetic keeps files outside the test's directories out of a load: the
// home directory (<siteconf> reads ~/.APPNAME.conf) becomes an empty one.
func hermetic(t testing.TB) {
	t.Helper()
	t.Setenv("HOME", t.TempDir())
	if _, err := os.Stat("/etc/ramona.conf"); err == nil {
		t.Skip("/etc/ramona.conf exists; <siteconf> would read it into every test config")
	}
}

// writeFiles writes name -> text into dir (creating subdirectories).
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// loadFiles writes the files into a new temp dir and loads args (names
// relative to that dir, default "app.conf"). It returns the dir too.
func loadFiles(t *testing.T, files map[string]string, args []string, environ []string) (*Config, string, error) {
	t.Helper()
	hermetic(t)
	dir := t.TempDir()
	writeFiles(t, dir, files)
	if args == nil {
		args = []string{"app.conf"}
	}
	paths := make([]string, len(args))
	for i, a := range args {
		paths[i] = filepath.Join(dir, a)
	}
	if environ == nil {
		environ = testEnviron
	}
	cfg, err := loadConfig(paths, environ)
	return cfg, dir, err
}

// mustLoad loads one app.conf that must have no global error.
func mustLoad(t *testing.T, conf string) (*Config, string) {
	t.Helper()
	cfg, dir, err := loadFiles(t, map[string]string{"app.conf": conf}, nil, nil)
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	return cfg, dir
}

func findProgram(t testing.TB, cfg *Config, name string) *ProgramConfig {
	t.Helper()
	for _, p := range cfg.Programs {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no program %q in %v", name, programNames(cfg))
	return nil
}

func programNames(cfg *Config) []string {
	var names []string
	for _, p := range cfg.Programs {
		names = append(names, p.Name)
	}
	return names
}

func warningTexts(cfg *Config, dir string) []string {
	var out []string
	for _, w := range cfg.Warnings {
		out = append(out, strings.ReplaceAll(w.Error(), dir, "$DIR"))
	}
	return out
}

// otherProgram is appended to every program-error case: it must load fine
// next to the broken one.
const otherProgram = "\n[program:other]\ncommand=/bin/true\n"

type errCase struct {
	name   string
	conf   string            // app.conf, when files is nil
	files  map[string]string // several files
	args   []string          // the -c files; default app.conf
	prog   string            // the broken program; "" for a global error
	noName bool              // the broken program is the unnamed [program:]
	want   string            // exact error text; $DIR is the temp dir
}

var configErrorCases = []errCase{
	// Syntax.
	{name: "key before section", conf: "appname=x\n[general]\n",
		want: "$DIR/app.conf:1: appname: key before any [section] header; put it under a section such as [general]"},
	{name: "header without ]", conf: "[general\nappname=x\n",
		want: "$DIR/app.conf:1: section header \"[general\" has no closing ]"},
	{name: "text after header", conf: "[general] x\n",
		want: "$DIR/app.conf:1: [general] unexpected \"x\" after the section header; put it on a line of its own, or start a comment with ; or #"},
	{name: "text after an [env] header, then its keys", conf: "[env] trailing\nFOO=bar\nBAR=baz\n",
		want: "$DIR/app.conf:1: [env] unexpected \"trailing\" after the section header; put it on a line of its own, or start a comment with ; or #"},
	{name: "text after a program's header", prog: "a", conf: "[program:a] x\ncommand=/bin/true\n",
		want: "$DIR/app.conf:1: [program:a] unexpected \"x\" after the section header; put it on a line of its own, or start a comment with ; or #"},
	{name: "empty header", conf: "[]\n",
		want: "$DIR/app.conf:1: empty section name []"},
	{name: "indented line continuing nothing", conf: "  stray\n[general]\n",
		want: "$DIR/app.conf:1: indented line \"stray\" continues no key; remove the indentation or put it under a key"},
	{name: "not key=value in a global section", conf: "[general]\njust words\n",
		want: "$DIR/app.conf:2: [general] \"just words\" is not a key=value line; write key=value, or start a comment with # or ;"},
	{name: "not key=value in a program", prog: "a", conf: "[program:a]\ncommand=x\njust words\n",
		want: "$DIR/app.conf:3: [program:a] \"just words\" is not a key=value line; write key=value, or start a comment with # or ;"},
	{name: "line without key", prog: "a", conf: "[program:a]\ncommand=x\n=value\n",
		want: "$DIR/app.conf:3: [program:a] \"=value\" is not a key=value line; write key=value, or start a comment with # or ;"},
	{name: "not key=value in [DEFAULT]", conf: "[DEFAULT]\njunk line\n[program:a]\ncommand=x\n",
		want: "$DIR/app.conf:2: [DEFAULT] \"junk line\" is not a key=value line; write key=value, or start a comment with # or ;"},
	{name: "not key=value in a section Ramona does not read", conf: "[ramona:httpfend]\nlistenaddr=tcp://localhost:5588\njunk line\n",
		want: "$DIR/app.conf:3: [ramona:httpfend] \"junk line\" is not a key=value line; write key=value, or start a comment with # or ;"},
	{name: "invalid program name", prog: "a b", conf: "[program:a b]\ncommand=x\n",
		want: "$DIR/app.conf:1: [program:a b] name \"a b\" contains ' '; use letters, digits, '.', '-' or '_'"},
	{name: "C1 control in a program name", prog: "a\u009bb", conf: "[program:a\u009bb]\ncommand=x\n",
		want: "$DIR/app.conf:1: [program:a\u009bb] name \"a\\u009bb\" contains '\\u009b'; use letters, digits, '.', '-' or '_'"},
	{name: "program without name", noName: true, conf: "[program:]\ncommand=x\n",
		want: "$DIR/app.conf:1: [program:] the section needs a name after the colon, e.g. [program:web]"},
	{name: "env without name", conf: "[env:]\nA=1\n",
		want: "$DIR/app.conf:1: [env:] an [env:NAME] section needs a name"},

	// Interpolation.
	{name: "lone percent", prog: "a", conf: "[program:a]\ncommand=echo 100%\n",
		want: "$DIR/app.conf:2: [program:a] command: a lone % at offset 8; write %% for a literal percent sign or %(name)s for a reference"},
	{name: "percent not followed by (", prog: "a", conf: "[program:a]\ncommand=echo %d\n",
		want: "$DIR/app.conf:2: [program:a] command: a lone % at offset 5; write %% for a literal percent sign or %(name)s for a reference"},
	{name: "unknown reference", prog: "a", conf: "[program:a]\ncommand=echo %(nope)s\n",
		want: "$DIR/app.conf:2: [program:a] command: %(nope)s refers to nope, which is set neither in [program:a] nor in [DEFAULT]"},
	{name: "unfinished reference", prog: "a", conf: "[program:a]\ncommand=echo %(nope\n",
		want: "$DIR/app.conf:2: [program:a] command: unfinished reference \"%(nope\"; write %(name)s"},
	{name: "reference loop", prog: "a", conf: "[program:a]\nx=%(y)s\ny=%(x)s\ncommand=%(x)s\n",
		want: "$DIR/app.conf:4: [program:a] command: reference loop %(command)s -> %(x)s -> %(y)s -> %(x)s; a value cannot refer to itself"},
	{name: "key referring to itself", prog: "a", conf: "[program:a]\ncommand=%(command)s --more\n",
		want: "$DIR/app.conf:2: [program:a] command: reference loop %(command)s -> %(command)s; a value cannot refer to itself"},
	{name: "reference loop through [DEFAULT]", prog: "a", conf: "[DEFAULT]\nbase=%(dir)s\n[program:a]\ndir=%(base)s/x\ncommand=%(dir)s\n",
		want: "$DIR/app.conf:5: [program:a] command: reference loop %(command)s -> %(dir)s -> %(base)s -> %(dir)s; a value cannot refer to itself"},
	{name: "references nested too deep", prog: "a", conf: "[program:a]\ncommand=%(k1)s\nk1=%(k2)s\nk2=%(k3)s\nk3=%(k4)s\nk4=%(k5)s\nk5=%(k6)s\n" +
		"k6=%(k7)s\nk7=%(k8)s\nk8=%(k9)s\nk9=%(k10)s\nk10=%(k11)s\nk11=end\n",
		want: "$DIR/app.conf:2: [program:a] command: %(...)s references nest deeper than 10 levels; refer to the values more directly"},
	{name: "references that multiply a value", prog: "a", conf: "[program:a]\ncommand=%(k1)s\n" + multiplyingReferences,
		want: "$DIR/app.conf:2: [program:a] command: %(...)s references make the value longer than 1048576 bytes"},
	{name: "a key met again deeper than 10 levels", prog: "a", conf: "[program:a]\ncommand=%(a1)s %(k1)s\n" + deepChain(8, "a1") + "a1=%(a2)s\na2=%(a3)s\na3=end\n",
		want: "$DIR/app.conf:2: [program:a] command: %(...)s references nest deeper than 10 levels; refer to the values more directly"},
	{name: "ENV_ reference to a variable the server does not have", prog: "a", conf: "[program:a]\ncommand=%(ENV_NO_SUCH_VAR)s/run\n",
		want: "$DIR/app.conf:2: [program:a] command: %(ENV_NO_SUCH_VAR)s: the server's environment has no NO_SUCH_VAR; set it before starting ramona, or write the value here"},
	{name: "interpolation error in a global section", conf: "[general]\nappname=x%\n",
		want: "$DIR/app.conf:2: [general] appname: a lone % at offset 1; write %% for a literal percent sign or %(name)s for a reference"},
	{name: "interpolation error in [env]", conf: "[env]\nPS1=%d\n",
		want: "$DIR/app.conf:2: [env] PS1: a lone % at offset 0; write %% for a literal percent sign or %(name)s for a reference"},
	{name: "interpolation error through [DEFAULT]", prog: "a", conf: "[DEFAULT]\nstarttimeout=%(wait)s\nwait=1s\n[program:a]\ncommand=x\nwait=%\n",
		want: "$DIR/app.conf:2: [program:a] starttimeout: a lone % at offset 0; write %% for a literal percent sign or %(name)s for a reference"},

	// [general].
	{name: "appname with a slash", conf: "[general]\nappname=a/b\n",
		want: "$DIR/app.conf:2: [general] appname: \"a/b\" is not usable as a name in file names; use letters, digits, '-' or '_'"},
	{name: "logdir magic", conf: "[general]\nlogdir=<magic>\n",
		want: "$DIR/app.conf:2: [general] logdir: \"<magic>\" is not a directory; use a path or <env> ($LOGDIR, else the config file's directory)"},
	{name: "size", conf: "[general]\nlogmaxsize=10QB\n",
		want: "$DIR/app.conf:2: [general] logmaxsize: \"10QB\" is not a size; use e.g. 1048576, 512KiB, 10MB or 1GB, or <inf> to never rotate"},
	{name: "backups", conf: "[general]\nlogbackups=many\n",
		want: "$DIR/app.conf:2: [general] logbackups: \"many\" is not a number of backups; use 0, 1, 2 ... or <inf> to keep all"},
	{name: "logmode not octal", conf: "[general]\nlogmode=rw-r-----\n",
		want: "$DIR/app.conf:2: [general] logmode: \"rw-r-----\" is not a file mode; use octal digits such as 0640 or 0600"},
	{name: "logmode the owner cannot write", prog: "a", conf: "[program:a]\ncommand=x\nlogmode=0440\n",
		want: "$DIR/app.conf:3: [program:a] logmode: 0440 does not let the owner read and write the log; use 0600 or more, such as 0640"},
	{name: "logmode writable by every user", conf: "[general]\nlogmode=0666\n",
		want: "$DIR/app.conf:2: [general] logmode: 0666 lets every user write the log or makes it executable; use 0600, 0640 or 0644"},
	{name: "logmode executable", prog: "a", conf: "[program:a]\ncommand=x\nlogmode=0750\n",
		want: "$DIR/app.conf:3: [program:a] logmode: 0750 lets every user write the log or makes it executable; use 0600, 0640 or 0644"},
	{name: "boolean in general", conf: "[general]\nlogcompress=sure\n",
		want: "$DIR/app.conf:2: [general] logcompress: \"sure\" is not a yes/no value; use yes, no, on, off, true, false, 1 or 0"},

	// [ramona:server] and [ramona:console].
	{name: "consoleuri tcp not loopback", conf: "[ramona:server]\nconsoleuri=tcp://0.0.0.0:7788\n",
		want: "$DIR/app.conf:2: [ramona:server] consoleuri: \"tcp://0.0.0.0:7788\" is not a loopback address; plain tcp:// is only for 127.0.0.1, ::1 or localhost, use tls:// with client certificates for anything else"},
	{name: "consoleuri tls without key and ca", conf: "[ramona:server]\nconsoleuri=tls://0.0.0.0:7788?cert=server.pem\n",
		want: "$DIR/app.conf:2: [ramona:server] consoleuri: \"tls://0.0.0.0:7788?cert=server.pem\" needs cert=, key= and ca= (mutual TLS); `ramona tls init DIR` writes them"},
	{name: "consoleuri unknown scheme", conf: "[ramona:server]\nconsoleuri=ftp://host\n",
		want: "$DIR/app.conf:2: [ramona:server] consoleuri: \"ftp://host\": unknown scheme ftp://; use unix://, tcp:// or tls://"},
	{name: "consoleuri without scheme", conf: "[ramona:server]\nconsoleuri=/tmp/x.sock\n",
		want: "$DIR/app.conf:2: [ramona:server] consoleuri: \"/tmp/x.sock\" is not an address; use unix://PATH, tcp://HOST:PORT or tls://HOST:PORT?cert=FILE&key=FILE&ca=FILE"},
	{name: "consoleuri tcp without port", conf: "[ramona:server]\nconsoleuri=tcp://localhost\n",
		want: "$DIR/app.conf:2: [ramona:server] consoleuri: \"tcp://localhost\" needs HOST:PORT, e.g. tcp://127.0.0.1:7788"},
	{name: "consoleuri bad port", conf: "[ramona:server]\nconsoleuri=tcp://localhost:http\n",
		want: "$DIR/app.conf:2: [ramona:server] consoleuri: port \"http\" in \"tcp://localhost:http\" is not a number 0-65535"},
	{name: "consoleuri bad mode", conf: "[ramona:server]\nconsoleuri=unix://x.sock?mode=0999\n",
		want: "$DIR/app.conf:2: [ramona:server] consoleuri: mode \"0999\" in \"unix://x.sock?mode=0999\" is not an octal permission such as 0600"},
	{name: "consoleuri unix without path", conf: "[ramona:server]\nconsoleuri=unix://\n",
		want: "$DIR/app.conf:2: [ramona:server] consoleuri: \"unix://\" names no socket path; use e.g. unix://.ramona.sock"},
	{name: "consoleuri empty list", conf: "[ramona:server]\nconsoleuri=,\n",
		want: "$DIR/app.conf:2: [ramona:server] consoleuri: needs at least one address, e.g. unix://.ramona.sock"},
	{name: "pidfile with a variable the server does not have", conf: "[ramona:server]\npidfile=${NO_SUCH_DIR}/ramona.pid\n",
		want: "$DIR/app.conf:2: [ramona:server] pidfile: $NO_SUCH_DIR is not set in the server's environment; set it before starting ramona, or write the path"},
	{name: "loglevel", conf: "[ramona:server]\nloglevel=LOUD\n",
		want: "$DIR/app.conf:2: [ramona:server] loglevel: \"LOUD\" is not a log level; use DEBUG, INFO, WARNING, ERROR or CRITICAL"},
	{name: "server log magic", conf: "[ramona:server]\nlog=<syslog>\n",
		want: "$DIR/app.conf:2: [ramona:server] log: \"<syslog>\" is not a log destination; use a path, <logdir>, <logdir>/NAME or <null>"},
	{name: "serveruri tls without the client certificate", conf: "[ramona:console]\nserveruri=tls://ramona.example.com:7789?ca=ca.pem\n",
		want: "$DIR/app.conf:2: [ramona:console] serveruri: \"tls://ramona.example.com:7789?ca=ca.pem\" needs cert=, key= and ca= (mutual TLS); `ramona tls init DIR` writes them"},
	{name: "serveruri unknown parameter", conf: "[ramona:console]\nserveruri=unix://x.sock?mode=0600&owner=me\n",
		want: "$DIR/app.conf:2: [ramona:console] serveruri: \"unix://x.sock?mode=0600&owner=me\": unknown parameter \"owner\"; unix:// takes mode="},
	{name: "consoleuri unknown parameters", conf: "[ramona:server]\nconsoleuri=tls://127.0.0.1:1?cert=c&key=k&ca=a&verify=no&alpn=x\n",
		want: "$DIR/app.conf:2: [ramona:server] consoleuri: \"tls://127.0.0.1:1?cert=c&key=k&ca=a&verify=no&alpn=x\": unknown parameters \"alpn\", \"verify\"; tls:// takes ca=, cert=, key="},
	{name: "tcp takes no parameters", conf: "[ramona:server]\nconsoleuri=tcp://127.0.0.1:1?mode=0600\n",
		want: "$DIR/app.conf:2: [ramona:server] consoleuri: \"tcp://127.0.0.1:1?mode=0600\": unknown parameter \"mode\"; tcp:// takes none"},
	{name: "serveruri two addresses", conf: "[ramona:console]\nserveruri=unix://a.sock,unix://b.sock\n",
		want: "$DIR/app.conf:2: [ramona:console] serveruri: \"unix://a.sock,unix://b.sock\" names 2 addresses; give exactly one"},

	// [ramona:notify].
	{name: "delivery from an unset environment variable", conf: "[ramona:notify]\ndelivery=%(ENV_SMTP_URL)s\nreceiver=ops@example.com\n",
		want: "$DIR/app.conf:2: [ramona:notify] delivery: %(ENV_SMTP_URL)s: the server's environment has no SMTP_URL; set it before starting ramona, or write the value here"},
	{name: "delivery bad scheme", conf: "[ramona:notify]\ndelivery=http://mail.example.com\nreceiver=ops@example.com\n",
		want: "$DIR/app.conf:2: [ramona:notify] delivery: \"http://mail.example.com\" is not a mail delivery; use smtp://[user[:password]@]host[:port]?tls=starttls|none or smtps://[user[:password]@]host[:port]"},
	{name: "delivery bad port", conf: "[ramona:notify]\ndelivery=smtp://mail.example.com:99999\nreceiver=ops@example.com\n",
		want: "$DIR/app.conf:2: [ramona:notify] delivery: \"smtp://mail.example.com:99999\": the port is not a number 1-65535"},
	{name: "delivery port not a number", conf: "[ramona:notify]\ndelivery=smtp://mail.example.com:smtp\nreceiver=ops@example.com\n",
		want: "$DIR/app.conf:2: [ramona:notify] delivery: \"smtp://mail.example.com:***\": the port is not a number 1-65535"},
	{name: "delivery bad tls", conf: "[ramona:notify]\ndelivery=smtp://mail.example.com?tls=maybe\nreceiver=ops@example.com\n",
		want: "$DIR/app.conf:2: [ramona:notify] delivery: \"smtp://mail.example.com?tls=maybe\": tls=maybe is not starttls or none"},
	{name: "delivery unknown parameter", conf: "[ramona:notify]\ndelivery=smtp://mail.example.com?ssl=1\nreceiver=ops@example.com\n",
		want: "$DIR/app.conf:2: [ramona:notify] delivery: \"smtp://mail.example.com?ssl=1\": unknown parameter \"ssl\" (only tls=starttls|none)"},
	{name: "delivery without host", conf: "[ramona:notify]\ndelivery=smtp://user@\nreceiver=ops@example.com\n",
		want: "$DIR/app.conf:2: [ramona:notify] delivery: \"smtp://user@\" names no mail server host"},
	{name: "delivery without receiver", conf: "[ramona:notify]\ndelivery=smtp://mail.example.com\n",
		want: "$DIR/app.conf:2: [ramona:notify] receiver: missing; delivery is set, so mail needs at least one receiver address (receiver=ops@example.com)"},
	{name: "delivery in [DEFAULT] without receiver", conf: "[DEFAULT]\ndelivery=smtp://mail.example.com\n",
		want: "$DIR/app.conf:2: [ramona:notify] receiver: missing; delivery is set, so mail needs at least one receiver address (receiver=ops@example.com)"},
	{name: "bad receiver address", conf: "[ramona:notify]\nreceiver=ops@example.com, nobody\n",
		want: "$DIR/app.conf:2: [ramona:notify] receiver: \"nobody\" is not a mail address such as ops@example.com, nor a webhook URL such as https://hooks.example.com/ramona"},
	{name: "dailyat", conf: "[ramona:notify]\ndailyat=25:00\n",
		want: "$DIR/app.conf:2: [ramona:notify] dailyat: \"25:00\" is not a time of day; use HH:MM, e.g. 09:00"},
	{name: "notify target", conf: "[ramona:notify]\nnotify_fatal=later\n",
		want: "$DIR/app.conf:2: [ramona:notify] notify_fatal: \"later\" is not a notification target; use now, daily, now:ADDR, daily:ADDR or <none>"},
	{name: "<global> in the global section", conf: "[ramona:notify]\nnotify_fatal=<global>\n",
		want: "$DIR/app.conf:2: [ramona:notify] notify_fatal: \"<global>\" is not a notification target; use now, daily, now:ADDR, daily:ADDR or <none>"},
	{name: "notify target bad address", conf: "[ramona:notify]\nnotify_fatal=now:ops\n",
		want: "$DIR/app.conf:2: [ramona:notify] notify_fatal: \"ops\" is not a mail address such as ops@example.com, nor a webhook URL such as https://hooks.example.com/ramona"},
	{name: "logscan rule without >", conf: "[ramona:notify]\nlogscan=error>now,fatal\n",
		want: "$DIR/app.conf:2: [ramona:notify] logscan: rule \"fatal\" is not keyword>target; write e.g. error>now or warn>daily:ops@example.com"},
	{name: "logscan rule without keyword", conf: "[ramona:notify]\nlogscan_stderr=>now\n",
		want: "$DIR/app.conf:2: [ramona:notify] logscan_stderr: rule \">now\" is not keyword>target; write e.g. error>now or warn>daily:ops@example.com"},

	// [program:x], key by key.
	{name: "command missing", prog: "a", conf: "[program:a]\ndirectory=/tmp\n",
		want: "$DIR/app.conf:1: [program:a] command: missing; every program needs a command (command=/path/to/program args)"},
	{name: "command empty", prog: "a", conf: "[program:a]\ncommand=\n",
		want: "$DIR/app.conf:2: [program:a] command: missing; every program needs a command (command=/path/to/program args)"},
	{name: "command unterminated double quote", prog: "a", conf: "[program:a]\ncommand=bash -c \"echo hi\n",
		want: "$DIR/app.conf:2: [program:a] command: unterminated \" quote in \"bash -c \\\"echo hi\""},
	{name: "command unterminated single quote", prog: "a", conf: "[program:a]\ncommand=bash -c 'echo hi\n",
		want: "$DIR/app.conf:2: [program:a] command: unterminated ' quote in \"bash -c 'echo hi\""},
	{name: "command unfinished ${", prog: "a", conf: "[program:a]\ncommand=echo ${HOME\n",
		want: "$DIR/app.conf:2: [program:a] command: unfinished ${ in \"echo ${HOME\"; write ${NAME}"},
	{name: "unknown builtin command", prog: "a", conf: "[program:a]\ncommand=<webui>\n",
		want: "$DIR/app.conf:2: [program:a] command: \"<webui>\" is not a built-in command; the only one is <httpfend>"},
	{name: "duration", prog: "a", conf: "[program:a]\ncommand=x\nstarttimeout=5x\n",
		want: "$DIR/app.conf:3: [program:a] starttimeout: \"5x\" is not a duration; use e.g. 500ms, 2s, 1m or a number of seconds"},
	{name: "NaN duration", prog: "a", conf: "[program:a]\ncommand=x\nstarttimeout=NaN\n",
		want: "$DIR/app.conf:3: [program:a] starttimeout: \"NaN\" is not a duration; use e.g. 500ms, 2s, 1m or a number of seconds"},
	{name: "NaN watchdog", prog: "a", conf: "[program:a]\ncommand=x\nwatchdog=nan\n",
		want: "$DIR/app.conf:3: [program:a] watchdog: \"nan\" is neither off nor a duration (e.g. 10s)"},
	{name: "infinite duration", prog: "a", conf: "[program:a]\ncommand=x\nstoptimeout=+Inf\n",
		want: "$DIR/app.conf:3: [program:a] stoptimeout: \"+Inf\" is not a duration; use e.g. 500ms, 2s, 1m or a number of seconds"},
	{name: "negative duration", prog: "a", conf: "[program:a]\ncommand=x\nreadytimeout=-1s\n",
		want: "$DIR/app.conf:3: [program:a] readytimeout: \"-1s\" is not a duration; use e.g. 500ms, 2s, 1m or a number of seconds"},
	{name: "stoptimeout zero", prog: "a", conf: "[program:a]\ncommand=x\nstoptimeout=0\n",
		want: "$DIR/app.conf:3: [program:a] stoptimeout: must be more than 0 (the time between kill signals)"},
	{name: "program size", prog: "a", conf: "[program:a]\ncommand=x\nlogmaxsize=-5\n",
		want: "$DIR/app.conf:3: [program:a] logmaxsize: \"-5\" is not a size; use e.g. 1048576, 512KiB, 10MB or 1GB, or <inf> to never rotate"},
	{name: "program backups", prog: "a", conf: "[program:a]\ncommand=x\nlogbackups=-1\n",
		want: "$DIR/app.conf:3: [program:a] logbackups: \"-1\" is not a number of backups; use 0, 1, 2 ... or <inf> to keep all"},
	{name: "boolean", prog: "a", conf: "[program:a]\ncommand=x\ndisabled=maybe\n",
		want: "$DIR/app.conf:3: [program:a] disabled: \"maybe\" is not a yes/no value; use yes, no, on, off, true, false, 1 or 0"},
	{name: "priority", prog: "a", conf: "[program:a]\ncommand=x\npriority=high\n",
		want: "$DIR/app.conf:3: [program:a] priority: \"high\" is not a whole number between -2147483648 and 2147483647"},
	{name: "priority too big", prog: "a", conf: "[program:a]\ncommand=x\npriority=4294967296\n",
		want: "$DIR/app.conf:3: [program:a] priority: \"4294967296\" is not a whole number between -2147483648 and 2147483647"},
	{name: "startretries", prog: "a", conf: "[program:a]\ncommand=x\nstartretries=-1\n",
		want: "$DIR/app.conf:3: [program:a] startretries: \"-1\" is not a whole number between 0 and 1000"},
	{name: "autorestart", prog: "a", conf: "[program:a]\ncommand=x\nautorestart=sometimes\n",
		want: "$DIR/app.conf:3: [program:a] autorestart: \"sometimes\" is not a restart policy; use no, yes or unexpected (restart unless the exit code is in exitcodes)"},
	{name: "exitcodes", prog: "a", conf: "[program:a]\ncommand=x\nexitcodes=0,256\n",
		want: "$DIR/app.conf:3: [program:a] exitcodes: \"256\" is not an exit code; use a comma-separated list of numbers 0-255, e.g. 0,2"},
	{name: "killby unknown signal", prog: "a", conf: "[program:a]\ncommand=x\nkillby=TERM,FOO\n",
		want: "$DIR/app.conf:3: [program:a] killby: \"FOO\" is not a signal; use names such as TERM, INT, QUIT, HUP, KILL"},
	{name: "killby empty", prog: "a", conf: "[program:a]\ncommand=x\nkillby=,\n",
		want: "$DIR/app.conf:3: [program:a] killby: needs at least one signal, e.g. TERM,INT,KILL"},
	{name: "umask", prog: "a", conf: "[program:a]\ncommand=x\numask=cc220\n",
		want: "$DIR/app.conf:3: [program:a] umask: \"cc220\" is not a umask; use octal digits such as 022 or 077"},
	{name: "umask too big", prog: "a", conf: "[program:a]\ncommand=x\numask=1777\n",
		want: "$DIR/app.conf:3: [program:a] umask: \"1777\" is not a umask; use octal digits such as 022 or 077"},
	{name: "user that does not exist", prog: "a", conf: "[program:a]\ncommand=x\nuser=no-such-user-ramona\n",
		want: "$DIR/app.conf:3: [program:a] user: no user \"no-such-user-ramona\" on this system; create it or name an existing user"},
	{name: "ready", prog: "a", conf: "[program:a]\ncommand=x\nready=yes\n",
		want: "$DIR/app.conf:3: [program:a] ready: \"yes\" is not a readiness mode; use timeout (RUNNING after starttimeout), notify (RUNNING on READY=1), or a probe: tcp://HOST:PORT, http://HOST:PORT/PATH or exec:COMMAND"},
	{name: "watchdog", prog: "a", conf: "[program:a]\ncommand=x\nwatchdog=soon\n",
		want: "$DIR/app.conf:3: [program:a] watchdog: \"soon\" is neither off nor a duration (e.g. 10s)"},
	{name: "stdin", prog: "a", conf: "[program:a]\ncommand=x\nstdin=/dev/tty\n",
		want: "$DIR/app.conf:3: [program:a] stdin: \"/dev/tty\" is not supported; programs read from <null> (/dev/null)"},
	{name: "stdout bad marker", prog: "a", conf: "[program:a]\ncommand=x\nstdout=<stdout>\n",
		want: "$DIR/app.conf:3: [program:a] stdout: \"<stdout>\" is not an output; use <null>, <logdir>, <console>, <stderr>, or a file path"},
	{name: "stderr bad marker", prog: "a", conf: "[program:a]\ncommand=x\nstderr=<syslog>\n",
		want: "$DIR/app.conf:3: [program:a] stderr: \"<syslog>\" is not an output; use <null>, <logdir>, <console>, <stdout>, or a file path"},
	{name: "stdout empty", prog: "a", conf: "[program:a]\ncommand=x\nstdout=\n",
		want: "$DIR/app.conf:3: [program:a] stdout: \"\" is not an output; use <null>, <logdir>, <console>, <stderr>, or a file path"},
	{name: "env without its section", prog: "a", conf: "[program:a]\ncommand=x\nenv=prod\n",
		want: "$DIR/app.conf:3: [program:a] env: there is no [env:prod] section; define it or remove env="},
	{name: "program logscan", prog: "a", conf: "[program:a]\ncommand=x\nlogscan_stdout=error>later\n",
		want: "$DIR/app.conf:3: [program:a] logscan_stdout: rule \"error>later\": \"later\" is not a notification target; use now, daily, now:ADDR, daily:ADDR or <none>"},
	{name: "program notify target", prog: "a", conf: "[program:a]\ncommand=x\nnotify_watchdog=mail\n",
		want: "$DIR/app.conf:3: [program:a] notify_watchdog: \"mail\" is not a notification target; use now, daily, now:ADDR, daily:ADDR, <none> or <global> (the setting of [ramona:notify])"},
	{name: "httpfend listen", prog: "web", conf: "[program:web]\ncommand=<httpfend>\nlisten=http://localhost:80\n",
		want: "$DIR/app.conf:3: [program:web] listen: \"http://localhost:80\": unknown scheme http://; use unix://, tcp:// or tls://"},
	{name: "httpfend listen tls", prog: "web", conf: "[program:web]\ncommand=<httpfend>\nlisten=tls://localhost:443?cert=a&key=b&ca=c\n",
		want: "$DIR/app.conf:3: [program:web] listen: \"tls://localhost:443?cert=a&key=b&ca=c\": the web frontend speaks plain HTTP; use tcp://HOST:PORT"},
	{name: "httpfend username without password", prog: "web", conf: "[program:web]\ncommand=<httpfend>\nusername=admin\n",
		want: "$DIR/app.conf:1: [program:web] password: username and password go together; set both or neither"},
	{name: "httpfend public listen without username", prog: "web", conf: "[program:web]\ncommand=<httpfend>\nlisten=unix://w.sock, tcp://0.0.0.0:8080\n",
		want: "$DIR/app.conf:3: [program:web] listen: tcp://0.0.0.0:8080 is not a loopback address: the web frontend there needs username= and password="},
	{name: "httpfend listen on every address without username", prog: "web", conf: "[program:web]\ncommand=<httpfend>\nlisten=tcp://:8080\n",
		want: "$DIR/app.conf:3: [program:web] listen: tcp://:8080 is not a loopback address: the web frontend there needs username= and password="},
	{name: "httpfend {SHA256} password not hex", prog: "web", conf: "[program:web]\ncommand=<httpfend>\nusername=admin\npassword={SHA256}not-hex\n",
		want: "$DIR/app.conf:4: [program:web] password: a {SHA256} password is 64 hexadecimal digits (printf %s PASSWORD | sha256sum), and this one is not (the value is not shown)"},
	{name: "httpfend {SHA256} password too short", prog: "web", conf: "[program:web]\ncommand=<httpfend>\nusername=admin\npassword={SHA256}abcdef\n",
		want: "$DIR/app.conf:4: [program:web] password: a {SHA256} password is 64 hexadecimal digits (printf %s PASSWORD | sha256sum), and this one is not (the value is not shown)"},
	{name: "httpfend {SHA} password", prog: "web", conf: "[program:web]\ncommand=<httpfend>\nusername=admin\npassword={SHA}2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b\n",
		want: "$DIR/app.conf:4: [program:web] password: a {SHA} password is 40 hexadecimal digits (printf %s PASSWORD | sha1sum), and this one is not (the value is not shown)"},
	{name: "httpfend hostname with a port", prog: "web", conf: "[program:web]\ncommand=<httpfend>\nhostname=ramona.example, ops.example:5588\n",
		want: "$DIR/app.conf:3: [program:web] hostname: \"ops.example:5588\" is not a host name; write names or IP addresses without scheme or port, comma-separated, e.g. hostname=ramona.example.com, 192.0.2.7"},
	{name: "httpfend hostname URL", prog: "web", conf: "[program:web]\ncommand=<httpfend>\nhostname=https://ramona.example/\n",
		want: "$DIR/app.conf:3: [program:web] hostname: \"https://ramona.example/\" is not a host name; write names or IP addresses without scheme or port, comma-separated, e.g. hostname=ramona.example.com, 192.0.2.7"},
	{name: "program loglevel", prog: "web", conf: "[program:web]\ncommand=<httpfend>\nloglevel=chatty\n",
		want: "$DIR/app.conf:3: [program:web] loglevel: \"chatty\" is not a log level; use DEBUG, INFO, WARNING, ERROR or CRITICAL"},
	{name: "several errors in one program", prog: "a", conf: "[program:a]\nstarttimeout=x\nautostart=x\n",
		want: "$DIR/app.conf:1: [program:a] command: missing; every program needs a command (command=/path/to/program args)\n" +
			"$DIR/app.conf:3: [program:a] autostart: \"x\" is not a yes/no value; use yes, no, on, off, true, false, 1 or 0\n" +
			"$DIR/app.conf:2: [program:a] starttimeout: \"x\" is not a duration; use e.g. 500ms, 2s, 1m or a number of seconds"},
	{name: "a program section split over two files", prog: "a",
		files: map[string]string{"app.conf": "[program:a]\ncommand=x\n" + otherProgram, "more.conf": "[program:a]\nautostart=perhaps\n"},
		args:  []string{"app.conf", "more.conf"},
		want:  "$DIR/more.conf:2: [program:a] autostart: \"perhaps\" is not a yes/no value; use yes, no, on, off, true, false, 1 or 0"},

	{name: "stdout and stderr sent to each other", prog: "a", conf: "[program:a]\ncommand=x\nstdout=<stderr>\nstderr=<stdout>\n",
		want: "$DIR/app.conf:3: [program:a] stdout: stdout=<stderr> and stderr=<stdout> send each stream to the other; send one of them to a file, <logdir>, <console> or <null>"},
	{name: "two programs sharing one log file", prog: "b", conf: "[program:a]\ncommand=x\nstderr=shared.log\n[program:b]\ncommand=y\nstderr=shared.log\n",
		want: "$DIR/app.conf:6: [program:b] stderr: log file $DIR/shared.log is already used by [program:a]; give each program its own file"},
	{name: "a default log name taken by another program", prog: "a-out", conf: "[general]\nlogdir=/l\n[program:a]\ncommand=x\nstdout=<logdir>\nstderr=<logdir>\n[program:a-out]\ncommand=y\n",
		want: "$DIR/app.conf:7: [program:a-out] stderr: log file /l/a-out.log is already used by [program:a]; give each program its own file"},
	{name: "a program log on the server log", prog: "srv", conf: "[ramona:server]\nlog=srv.log\n[program:srv]\ncommand=x\nstdout=<null>\nstderr=srv.log\n",
		want: "$DIR/app.conf:6: [program:srv] stderr: log file $DIR/srv.log is already used by the server's own log ([ramona:server] log); give each program its own file"},

	// Files.
	{name: "include loop", args: []string{"a.conf"},
		files: map[string]string{"a.conf": "[general]\ninclude=b.conf\n", "b.conf": "[general]\ninclude=./a.conf\n"},
		want:  "$DIR/b.conf:2: [general] include: include loop: $DIR/a.conf -> $DIR/b.conf -> $DIR/a.conf; remove one of these includes"},
	{name: "longer include loop", args: []string{"a.conf"},
		files: map[string]string{"a.conf": "[general]\ninclude=sub/b.conf\n", "sub/b.conf": "[general]\ninclude=c.conf\n", "sub/c.conf": "[general]\ninclude=b.conf\n"},
		want:  "$DIR/sub/c.conf:2: [general] include: include loop: $DIR/a.conf -> $DIR/sub/b.conf -> $DIR/sub/c.conf -> $DIR/sub/b.conf; remove one of these includes"},
	{name: "a file including itself", args: []string{"a.conf"},
		files: map[string]string{"a.conf": "[general]\ninclude=a.conf\n"},
		want:  "$DIR/a.conf:2: [general] include: include loop: $DIR/a.conf -> $DIR/a.conf; remove one of these includes"},
	{name: "include of a device", conf: "[general]\ninclude=/dev/null\n",
		want: "$DIR/app.conf:2: [general] include: /dev/null is not a regular file; include only configuration files"},
	{name: "include of an endless device", conf: "[general]\ninclude=/dev/zero\n",
		want: "$DIR/app.conf:2: [general] include: /dev/zero is not a regular file; include only configuration files"},
	{name: "include of a directory", files: map[string]string{"app.conf": "[general]\ninclude=conf.d\n", "conf.d/x.conf": ""},
		want: "$DIR/app.conf:2: [general] include: $DIR/conf.d is not a regular file; include only configuration files"},
	{name: "config file missing", files: map[string]string{}, args: []string{"nope.conf"},
		want: "$DIR/nope.conf: cannot read the configuration file: no such file or directory"},
	{name: "config file is a directory", files: map[string]string{"d.conf/x": ""}, args: []string{"d.conf"},
		want: "$DIR/d.conf: cannot read the configuration file: is a directory"},

	// numprocs, process_name, groups, environment, conversions.
	{name: "numprocs without process_num in process_name", prog: "w", conf: "[program:w]\ncommand=x\nnumprocs=2\n",
		want: "$DIR/app.conf:1: [program:w] process_name: numprocs=2 needs a name per process: write %(process_num)d in process_name, e.g. process_name=%(program_name)s_%(process_num)02d"},
	{name: "numprocs 0", prog: "w", conf: "[program:w]\ncommand=x\nnumprocs=0\n",
		want: "$DIR/app.conf:3: [program:w] numprocs: \"0\" is not a whole number between 1 and 10000"},
	{name: "numprocs referring to process_num", prog: "w", conf: "[program:w]\ncommand=x\nnumprocs=%(process_num)d\n",
		want: "$DIR/app.conf:3: [program:w] numprocs: %(process_num)s refers to process_num, which is set neither in [program:w] nor in [DEFAULT]"},
	{name: "process_name not usable as a name", prog: "w", conf: "[program:w]\ncommand=x\nprocess_name=a/%(process_num)d\n",
		want: "$DIR/app.conf:3: [program:w] process_name: name \"a/0\" contains '/'; use letters, digits, '.', '-' or '_'"},
	{name: "process name taken by an earlier program", prog: "b#2", conf: "[program:a]\nprocess_name=b\ncommand=x\n[program:b]\ncommand=y\n",
		want: "$DIR/app.conf:4: [program:b] program name b is already used by [program:a] ($DIR/app.conf:1); give each program its own name (process_name)"},
	{name: "text as a number", prog: "a", conf: "[program:a]\ncommand=run %(program_name)03d\n",
		want: "$DIR/app.conf:2: [program:a] command: %(program_name)03d: \"a\" is not a whole number; use %(name)s for text"},
	{name: "unknown conversion", prog: "a", conf: "[program:a]\ncommand=run %(program_name)q\n",
		want: "$DIR/app.conf:2: [program:a] command: unfinished reference \"%(program_name)q\"; write %(name)s, or %(name)d / %(name)02d for a number"},
	{name: "environment not KEY=VALUE pairs", prog: "a", conf: "[program:a]\ncommand=x\nenvironment=A=x y\n",
		want: "$DIR/app.conf:3: [program:a] environment: \"A=x y\" is not KEY=VALUE pairs (at \"y\"); separate the pairs with commas and quote values that hold characters other than letters, digits and _/.+-():, e.g. A=\"x y\",B=\"1,2\""},
	{name: "environment with an open quote", prog: "a", conf: "[program:a]\ncommand=x\nenvironment=A=\"x\n",
		want: "$DIR/app.conf:3: [program:a] environment: \"A=\\\"x\" has no closing quotation"},
	{name: "group of an unknown program", conf: "[group:g]\nprograms=a,nosuch\n[program:a]\ncommand=x\n",
		want: "$DIR/app.conf:2: [group:g] programs: there is no [program:nosuch] section; define it or remove nosuch from the list"},
	{name: "group without programs", conf: "[group:g]\npriority=3\n",
		want: "$DIR/app.conf:1: [group:g] programs: missing; a group names its programs, e.g. programs=web,worker"},
	{name: "program in two groups", conf: "[group:g]\nprograms=a\n[group:h]\nprograms=a\n[program:a]\ncommand=x\n",
		want: "$DIR/app.conf:4: [group:h] programs: a is already in [group:g] ($DIR/app.conf:2); a program belongs to one group"},
	{name: "server umask", conf: "[ramona:server]\numask=9\n",
		want: "$DIR/app.conf:2: [ramona:server] umask: \"9\" is not a umask; use octal digits such as 022 or 077"},
	{name: "server minfds", conf: "[ramona:server]\nminfds=many\n",
		want: "$DIR/app.conf:2: [ramona:server] minfds: \"many\" is not a whole number between 0 and 1073741824"},
}

// chainedReferences is keys k1..k9, each of the first eight with refs
// references to the next, and k9=last.
func chainedReferences(refs int, last string) string {
	var b strings.Builder
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "k%d=%s\n", i, strings.Repeat(fmt.Sprintf("%%(k%d)s", i+1), refs))
	}
	fmt.Fprintf(&b, "k9=%s\n", last)
	return b.String()
}

// multiplyingReferences: the first key would expand to 10^9 bytes.
var multiplyingReferences = chainedReferences(10, "xxxxxxxxxx")

// repeatedEmptyReferences: the value stays empty however often it is
// repeated, so only the work grows, 20^8 expansions of k9 without
// memoizing (hours; 10 references per key took 84 s).
var repeatedEmptyReferences = chainedReferences(20, "")

// deepChain is n keys k1..kn, each referring to the next, the last to end.
func deepChain(n int, end string) string {
	var b strings.Builder
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "k%d=%%(k%d)s\n", i, i+1)
	}
	fmt.Fprintf(&b, "k%d=%%(%s)s\n", n, end)
	return b.String()
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range configErrorCases {
		t.Run(tc.name, func(t *testing.T) {
			checkErrCase(t, tc)
		})
	}
}

func checkErrCase(t *testing.T, tc errCase) {
	t.Helper()
	files := tc.files
	if files == nil {
		conf := tc.conf
		if tc.prog != "" || tc.noName || strings.Contains(conf, "[program:") {
			conf += otherProgram
		}
		files = map[string]string{"app.conf": conf}
	}
	cfg, dir, err := loadFiles(t, files, tc.args, nil)
	want := strings.ReplaceAll(tc.want, "$DIR", dir)
	if tc.prog == "" && !tc.noName {
		if err == nil {
			t.Fatalf("loaded without error; want:\n%s", want)
		}
		var ces ConfigErrors
		if !errors.As(err, &ces) {
			t.Fatalf("error is a %T, not ConfigErrors: %v", err, err)
		}
		if cfg != nil {
			t.Errorf("a global error returned a Config too")
		}
		if got := err.Error(); got != want {
			t.Errorf("error text\n got: %s\nwant: %s", got, want)
		}
		return
	}
	if err != nil {
		t.Fatalf("a program error stopped the whole load: %v", err)
	}
	broken := 0
	for _, p := range cfg.Programs {
		if p.Name != tc.prog {
			if p.Err != nil {
				t.Errorf("program %s is broken too: %v", p.Name, p.Err)
			}
			continue
		}
		broken++
		if p.Err == nil {
			t.Fatalf("program %q loaded without error; want:\n%s", tc.prog, want)
		}
		if got := p.Err.Error(); got != want {
			t.Errorf("program %s error\n got: %s\nwant: %s", p.Name, got, want)
		}
	}
	if broken != 1 {
		t.Errorf("found %d programs named %q in %q", broken, tc.prog, programNames(cfg))
	}
	if p := findProgram(t, cfg, "other"); p.Command != "/bin/true" {
		t.Errorf("the other program's command is %q", p.Command)
	}
}

// valueCase is one input and the resolved value it must give.
type valueCase struct {
	name    string
	conf    string            // app.conf, when files is nil
	files   map[string]string // several files
	args    []string          // the -c files; default app.conf
	environ []string          // default testEnviron
	get     func(t *testing.T, c *Config) any
	want    string // fmt "%v" of the value; $DIR is the temp dir
}

// prog reads one field of program NAME.
func prog(name string, f func(p *ProgramConfig) any) func(*testing.T, *Config) any {
	return func(t *testing.T, c *Config) any {
		p := findProgram(t, c, name)
		if p.Err != nil {
			t.Fatalf("program %s: %v", name, p.Err)
		}
		return f(p)
	}
}

func command(name string) func(*testing.T, *Config) any {
	return prog(name, func(p *ProgramConfig) any { return p.Command })
}

func global(f func(c *Config) any) func(*testing.T, *Config) any {
	return func(_ *testing.T, c *Config) any { return f(c) }
}

// outStr shows an OutputTarget as null, merged, console or file:PATH.
func outStr(o OutputTarget) string {
	switch o.Kind {
	case OutNull:
		return "null"
	case OutMerged:
		return "merged"
	case OutConsole:
		return "console"
	case OutFile:
		return "file:" + o.Path
	}
	return fmt.Sprintf("kind%d", o.Kind)
}

func outputs(name string) func(*testing.T, *Config) any {
	return prog(name, func(p *ProgramConfig) any { return outStr(p.Stdout) + " " + outStr(p.Stderr) })
}

func envStr(vars []EnvVar) string {
	var parts []string
	for _, v := range vars {
		if v.Unset {
			parts = append(parts, "-"+v.Name)
		} else {
			parts = append(parts, v.Name+"="+v.Value)
		}
	}
	return strings.Join(parts, " ")
}

func rulesStr(rules []LogScanRule) string {
	var parts []string
	for _, r := range rules {
		parts = append(parts, r.Keyword+">"+targetStr(r.Target))
	}
	return strings.Join(parts, ",")
}

func targetStr(t NotifyTarget) string {
	if t.When == "" {
		return "<none>"
	}
	if len(t.To) > 0 {
		return t.When + ":" + strings.Join(t.To, "+")
	}
	return t.When
}

func warnings(_ *testing.T, c *Config) any {
	var out []string
	for _, w := range c.Warnings {
		out = append(out, w.Error())
	}
	return strings.Join(out, "\n")
}

var configValueCases = []valueCase{
	// Interpolation.
	{name: "reference in the same section",
		conf: "[program:a]\nbase=/opt/app\ncommand=%(base)s/bin/run --home=%(base)s\n",
		get:  command("a"), want: "/opt/app/bin/run --home=/opt/app"},
	{name: "references that repeat an empty value 20^8 times",
		conf: "[program:a]\ncommand=run %(k1)s.\n" + repeatedEmptyReferences,
		get:  command("a"), want: "run ."},
	{name: "a key met again exactly 10 levels deep",
		conf: "[program:a]\ncommand=%(a1)s %(k1)s\n" + deepChain(7, "a1") + "a1=%(a2)s\na2=%(a3)s\na3=end\n",
		get:  command("a"), want: "end end"},
	{name: "double percent",
		conf: "[program:a]\ncommand=printf 100%%\n",
		get:  command("a"), want: "printf 100%"},
	{name: "reference to [DEFAULT]",
		conf: "[DEFAULT]\nroot=/srv\n[program:a]\ncommand=%(root)s/run\n",
		get:  command("a"), want: "/srv/run"},
	{name: "section beats [DEFAULT]",
		conf: "[DEFAULT]\nroot=/srv\n[program:a]\nroot=/opt\ncommand=%(root)s/run\n",
		get:  command("a"), want: "/opt/run"},
	{name: "[DEFAULT] value resolved in the program's section",
		conf: "[DEFAULT]\ncommand=/usr/bin/%(prog)s\n[program:a]\nprog=alpha\n[program:b]\nprog=beta\n",
		get: func(t *testing.T, c *Config) any {
			return command("a")(t, c).(string) + " " + command("b")(t, c).(string)
		},
		want: "/usr/bin/alpha /usr/bin/beta"},
	{name: "nested references",
		conf: "[program:a]\nx=%(y)s/x\ny=%(z)s/y\nz=/z\ncommand=%(x)s\n",
		get:  command("a"), want: "/z/y/x"},
	{name: "here",
		conf: "[program:a]\ncommand=%(here)s/run\ndirectory=%(here)s/work\n",
		get:  prog("a", func(p *ProgramConfig) any { return p.Command + " " + p.Directory }), want: "$DIR/run $DIR/work"},
	{name: "here in an included file",
		files: map[string]string{"app.conf": "[general]\ninclude=sub/inc.conf\n", "sub/inc.conf": "[program:a]\ncommand=%(here)s/run\n"},
		get:   command("a"), want: "$DIR/sub/run"},
	{name: "ENV_ reference",
		conf: "[program:a]\ncommand=%(ENV_HOME)s/bin/run\n",
		get:  command("a"), want: "/home/tester/bin/run"},
	{name: "ENV_ reference in [env]",
		conf: "[env]\nTMPDIR=%(ENV_TMP)s/a\n[program:a]\ncommand=x\n",
		get:  prog("a", func(p *ProgramConfig) any { return envStr(p.Env) }), want: "TMPDIR=/tmp/ramona-tmp/a"},
	{name: "reference in [general]",
		conf: "[general]\nlogdir=%(here)s/logs\n",
		get:  global(func(c *Config) any { return c.LogDir }), want: "$DIR/logs"},

	// Platform overrides.
	{name: "@linux beats @posix beats plain",
		conf: "[program:a]\ncommand=plain\ncommand@posix=posix\ncommand@linux=linux\n",
		get:  command("a"), want: "linux"},
	{name: "@linux beats @posix beats plain, written in reverse",
		conf: "[program:a]\ncommand@linux=linux\ncommand@posix=posix\ncommand=plain\n",
		get:  command("a"), want: "linux"},
	{name: "@posix beats plain",
		conf: "[program:a]\ncommand@posix=posix\ncommand=plain\n",
		get:  command("a"), want: "posix"},
	{name: "other platforms ignored",
		conf: "[program:a]\ncommand@darwin=darwin\ncommand=plain\ncommand@windows=windows\ncommand@freebsd=bsd\n",
		get:  command("a"), want: "plain"},
	{name: "platform key alone",
		conf: "[program:a]\ncommand@linux=linux\n",
		get:  command("a"), want: "linux"},
	{name: "platform key in an earlier file beats a plain key in a later file",
		files: map[string]string{"app.conf": "[program:a]\ncommand@linux=linux\n", "late.conf": "[program:a]\ncommand=plain\n"},
		args:  []string{"app.conf", "late.conf"},
		get:   command("a"), want: "linux"},
	{name: "platform key in a global section",
		conf: "[general]\nlogdir=plain\nlogdir@linux=linuxlogs\n",
		get:  global(func(c *Config) any { return c.LogDir }), want: "$DIR/linuxlogs"},
	{name: "unknown platform selector is a warning",
		conf: "[program:a]\ncommand=x\ncommand@beos=y\n",
		get:  warnings, want: "$DIR/app.conf:3: [program:a] command@beos: unknown platform selector @beos, ignored (known: darwin, freebsd, linux, netbsd, openbsd, posix, windows)"},

	// Environment sets.
	{name: "[env] with a removal",
		conf: "[env]\nA=1\nB=\nC=\"\"\nPATH=/bin:/usr/bin\n[program:a]\ncommand=x\n",
		get:  prog("a", func(p *ProgramConfig) any { return fmt.Sprintf("%q %s", p.EnvName, envStr(p.Env)) }),
		want: `"" A=1 -B -C PATH=/bin:/usr/bin`},
	{name: "no [env]",
		conf: "[program:a]\ncommand=x\n",
		get:  prog("a", func(p *ProgramConfig) any { return fmt.Sprintf("%q %d", p.EnvName, len(p.Env)) }), want: `"" 0`},
	{name: "[env:NAME] selected by env=NAME",
		conf: "[env]\nA=1\n[env:prod]\nMODE=prod\nA=\n[program:a]\ncommand=x\nenv=prod\n[program:b]\ncommand=x\n",
		get: func(t *testing.T, c *Config) any {
			a, b := findProgram(t, c, "a"), findProgram(t, c, "b")
			return a.EnvName + ": " + envStr(a.Env) + " | " + b.EnvName + ": " + envStr(b.Env)
		},
		want: "prod: MODE=prod -A | : A=1"},
	{name: "env=&NAME, the Python form",
		conf: "[env:batch]\nQUEUE=low\n[program:a]\ncommand=x\nenv=&batch\n",
		get:  prog("a", func(p *ProgramConfig) any { return p.EnvName + ": " + envStr(p.Env) }), want: "batch: QUEUE=low"},
	{name: "keys keep their case",
		conf: "[env]\nPATH=/bin\nPath=/other\npath=/third\n[program:a]\ncommand=x\n",
		get:  prog("a", func(p *ProgramConfig) any { return envStr(p.Env) }), want: "PATH=/bin Path=/other path=/third"},

	// Lines.
	{name: "continuation lines",
		conf: "[program:a]\ncommand=bash -c\n  \"echo one;\n\techo two\"\nautostart=no\n",
		get:  prog("a", func(p *ProgramConfig) any { return fmt.Sprintf("%q %v", p.Command, p.AutoStart) }),
		want: `"bash -c\n\"echo one;\necho two\"" false`},
	{name: "continuation across blank and comment lines",
		conf: "[program:a]\ncommand=run\n\n# a comment\n  --flag\n; another\n  --other ;cut here\n",
		get:  command("a"), want: "run\n--flag\n--other"},
	{name: "inline comment needs a space before ;",
		conf: "[program:a]\ncommand=echo a ;comment\nstarttimeout=2s\t; tab before it\n",
		get:  prog("a", func(p *ProgramConfig) any { return p.Command + " " + p.StartTimeout.String() }), want: "echo a 2s"},
	{name: "only the first ; of a value can start a comment, as in Python 2: a later one is kept with a warning",
		conf: "[program:a]\ncommand=echo a;b ;comment\n",
		get: func(t *testing.T, c *Config) any {
			return command("a")(t, c).(string) + "\n" + warnings(t, c).(string)
		},
		want: "echo a;b ;comment\n" +
			"$DIR/app.conf:2: [program:a] command: the \" ;\" in this value is part of it, not a comment: as in Python 2's ConfigParser, only a value's first \";\" can start one; put the comment on a line of its own"},
	{name: "a value that starts with ; keeps it (Python 2)",
		conf: "[env]\nPASSWORD = ;abc\nEMPTY = ; \n[program:a]\ncommand=x\n",
		get:  prog("a", func(p *ProgramConfig) any { return envStr(p.Env) }), want: "PASSWORD=;abc EMPTY=;"},
	{name: "# inside a value is not a comment",
		conf: "[program:a]\ncommand=echo a #b\n",
		get:  command("a"), want: "echo a #b"},
	{name: "key: value",
		conf: "[program:a]\ncommand: /bin/echo a=b\nstarttimeout : 3\n",
		get:  prog("a", func(p *ProgramConfig) any { return p.Command + " " + p.StartTimeout.String() }), want: "/bin/echo a=b 3s"},
	{name: "colon after the =",
		conf: "[program:a]\ncommand=/bin/echo a:b\n",
		get:  command("a"), want: "/bin/echo a:b"},
	{name: "CRLF line ends and a BOM",
		conf: "\ufeff[program:a]\r\ncommand=run\r\nstarttimeout=1s\r\n",
		get:  prog("a", func(p *ProgramConfig) any { return p.Command + " " + p.StartTimeout.String() }), want: "run 1s"},
	{name: "quoted empty string",
		conf: "[program:a]\ncommand=x\ndirectory=\"\"\n",
		get:  prog("a", func(p *ProgramConfig) any { return fmt.Sprintf("%q", p.Directory) }), want: `""`},
	{name: "a section written twice merges",
		conf: "[program:a]\ncommand=x\n[program:b]\ncommand=y\n[program:a]\npriority=7\n",
		get: func(t *testing.T, c *Config) any {
			return fmt.Sprintf("%v %d", programNames(c), findProgram(t, c, "a").Priority)
		},
		want: "[a b] 7"},
	{name: "a key set twice: the later wins, with a warning",
		conf: "[program:a]\ncommand=x\npriority=1\npriority=2\n",
		get: func(t *testing.T, c *Config) any {
			return fmt.Sprintf("%d %s", findProgram(t, c, "a").Priority, warnings(t, c))
		},
		want: "2 $DIR/app.conf:4: [program:a] priority: set again (first at line 3); the later value wins"},
	{name: "a key set again in a second block of the same section: a warning",
		conf: "[program:a]\ncommand=x\npriority=1\n[program:b]\ncommand=y\n[program:a]\npriority=2\n",
		get: func(t *testing.T, c *Config) any {
			return fmt.Sprintf("%d %s", findProgram(t, c, "a").Priority, warnings(t, c))
		},
		want: "2 $DIR/app.conf:7: [program:a] priority: set again (first at line 3); the later value wins"},
	{name: "a key of one file set again by an included file: no warning",
		files: map[string]string{"app.conf": "[program:a]\ncommand=x\npriority=1\n", "site.conf": "[program:a]\npriority=5\n"},
		get: func(t *testing.T, c *Config) any {
			return fmt.Sprintf("%d %q", findProgram(t, c, "a").Priority, warnings(t, c))
		},
		want: `5 ""`},

	// Includes.
	{name: "<siteconf> reads ./site.conf",
		files: map[string]string{"app.conf": "[program:a]\ncommand=x\n", "site.conf": "[program:a]\npriority=5\n"},
		get: func(t *testing.T, c *Config) any {
			return fmt.Sprintf("%d %v", findProgram(t, c, "a").Priority, c.Included)
		},
		want: "5 [$DIR/site.conf]"},
	{name: "<siteconf> reads ./APPNAME-site.conf after ./site.conf",
		files: map[string]string{
			"app.conf":        "[general]\nappname=shop\n[program:a]\ncommand=x\n",
			"site.conf":       "[program:a]\npriority=5\nautostart=no\n",
			"shop-site.conf":  "[program:a]\npriority=6\n",
			"other-site.conf": "[program:a]\npriority=7\n",
		},
		get: func(t *testing.T, c *Config) any {
			a := findProgram(t, c, "a")
			return fmt.Sprintf("%d %v %v", a.Priority, a.AutoStart, c.Included)
		},
		want: "6 false [$DIR/site.conf $DIR/shop-site.conf]"},
	{name: "<siteconf> is relative to the first -c file",
		files: map[string]string{"etc/app.conf": "[program:a]\ncommand=x\n", "site.conf": "[program:a]\npriority=5\n", "etc/site.conf": "[program:a]\npriority=9\n"},
		args:  []string{"etc/app.conf"},
		get:   prog("a", func(p *ProgramConfig) any { return p.Priority }), want: "9"},
	{name: "explicit include relative to the including file, nested",
		files: map[string]string{
			"app.conf":        "[general]\ninclude=conf.d/one.conf\n[program:a]\ncommand=x\n",
			"conf.d/one.conf": "[general]\ninclude=two.conf\n[program:b]\ncommand=y\nstderr=b.log\n",
			"conf.d/two.conf": "[program:c]\ncommand=z\n",
		},
		get: func(t *testing.T, c *Config) any {
			return fmt.Sprintf("%v %v %s", programNames(c), c.Included, outStr(findProgram(t, c, "b").Stderr))
		},
		want: "[a b c] [$DIR/conf.d/one.conf $DIR/conf.d/two.conf] file:$DIR/conf.d/b.log"},
	{name: "include with %(here)s and %(ENV_X)s",
		files: map[string]string{
			"app.conf": "[general]\ninclude=%(here)s/one.conf;%(ENV_CONFDIR)s/two.conf\n",
			"one.conf": "[program:one]\ncommand=x\n", "d/two.conf": "[program:two]\ncommand=x\n",
		},
		environ: []string{"CONFDIR=d"},
		get:     global(func(c *Config) any { return fmt.Sprint(programNames(c), c.Included) }), want: "[one two] [$DIR/one.conf $DIR/d/two.conf]"},
	{name: "include list with <siteconf>",
		files: map[string]string{
			"app.conf":  "[general]\ninclude=<siteconf>; extra.conf\n[program:a]\ncommand=x\n",
			"site.conf": "[program:s]\ncommand=s\n", "extra.conf": "[program:e]\ncommand=e\n",
		},
		get: global(func(c *Config) any { return fmt.Sprint(programNames(c), c.Included) }), want: "[a s e] [$DIR/site.conf $DIR/extra.conf]"},
	{name: "explicit include replaces <siteconf>",
		files: map[string]string{"app.conf": "[general]\ninclude=extra.conf\n", "site.conf": "[program:s]\ncommand=s\n", "extra.conf": "[program:e]\ncommand=e\n"},
		get:   global(func(c *Config) any { return programNames(c) }), want: "[e]"},
	{name: "missing explicit include is a warning",
		files: map[string]string{"app.conf": "[general]\ninclude=gone.conf\n[program:a]\ncommand=x\n"},
		get:   warnings, want: "$DIR/app.conf:2: [general] include: $DIR/gone.conf: no such file or directory, skipped"},
	{name: "<siteconf> skips what it cannot read, with a warning",
		files: map[string]string{"app.conf": "[program:a]\ncommand=x\n", "site.conf/x": "", "ramona-site.conf": "[program:a]\npriority=4\n"},
		get: func(t *testing.T, c *Config) any {
			return fmt.Sprintf("%d %v %s", findProgram(t, c, "a").Priority, c.Included, warnings(t, c))
		},
		want: "4 [$DIR/ramona-site.conf] $DIR/site.conf: not a regular file, skipped (<siteconf>)"},
	{name: "unknown magic include is a warning",
		files: map[string]string{"app.conf": "[general]\ninclude=<webconf>\n"},
		get:   warnings, want: "$DIR/app.conf:2: [general] include: unknown include <webconf>, ignored (the only magic value is <siteconf>)"},
	{name: "a file included twice is read once",
		files: map[string]string{
			"app.conf": "[general]\ninclude=a.conf;b.conf\n", "a.conf": "[general]\ninclude=c.conf\n",
			"b.conf": "[general]\ninclude=c.conf\n", "c.conf": "[program:c]\ncommand=c\n",
		},
		get: global(func(c *Config) any { return fmt.Sprint(programNames(c), c.Included) }), want: "[c] [$DIR/a.conf $DIR/b.conf $DIR/c.conf]"},

	// Several -c files.
	{name: "later -c file wins key by key",
		files: map[string]string{
			"base.conf":  "[general]\nlogdir=/var/log/base\nlogbackups=5\n[program:a]\ncommand=base\npriority=1\nautostart=no\n",
			"local.conf": "[general]\nlogbackups=7\n[program:a]\npriority=2\n[program:b]\ncommand=local\n",
		},
		args: []string{"base.conf", "local.conf"},
		get: func(t *testing.T, c *Config) any {
			a := findProgram(t, c, "a")
			return fmt.Sprintf("%s %d | %s %d %v | %v | %v", c.LogDir, c.Log.Backups, a.Command, a.Priority, a.AutoStart, programNames(c), c.Files)
		},
		want: "/var/log/base 7 | base 2 false | [a b] | [$DIR/base.conf $DIR/local.conf]"},
	{name: "the same -c file twice is read once",
		files: map[string]string{"app.conf": "[program:a]\ncommand=x\npriority=3\n"},
		args:  []string{"app.conf", "./app.conf"},
		get:   global(func(c *Config) any { return fmt.Sprintf("%v %d", c.Files, len(c.Warnings)) }), want: "[$DIR/app.conf] 0"},

	// Typed values.
	{name: "durations",
		conf: "[program:a]\ncommand=x\nstarttimeout=0.5\nstoptimeout=3\nreadytimeout=500ms\nwatchdog=2s\n[program:b]\ncommand=x\nstarttimeout=1m\nwatchdog=off\nstoptimeout=1m30s\n",
		get: func(t *testing.T, c *Config) any {
			a, b := findProgram(t, c, "a"), findProgram(t, c, "b")
			return fmt.Sprint(a.StartTimeout, a.StopTimeout, a.ReadyTimeout, a.Watchdog, b.StartTimeout, b.Watchdog, b.StopTimeout)
		},
		want: "500ms 3s 500ms 2s 1m0s 0s 1m30s"},
	{name: "sizes",
		conf: "[general]\nlogmaxsize=1048576\n[program:a]\ncommand=x\nlogmaxsize=10MB\n[program:b]\ncommand=x\nlogmaxsize=512KiB\n[program:c]\ncommand=x\nlogmaxsize=<inf>\n[program:d]\ncommand=x\nlogmaxsize=1.5k\n",
		get: func(t *testing.T, c *Config) any {
			return fmt.Sprint(c.Log.MaxSize, findProgram(t, c, "a").Log.MaxSize, findProgram(t, c, "b").Log.MaxSize,
				findProgram(t, c, "c").Log.MaxSize, findProgram(t, c, "d").Log.MaxSize)
		},
		want: "1048576 10485760 524288 0 1536"},
	{name: "log policy defaults",
		conf: "[program:a]\ncommand=x\n",
		get:  global(func(c *Config) any { return fmt.Sprintf("%+v %+v", c.Log, c.Programs[0].Log) }),
		want: "{MaxSize:536870912 Backups:3 Compress:true Mode:-rw-r-----} {MaxSize:536870912 Backups:3 Compress:true Mode:-rw-r-----}"},
	{name: "logbackups <inf> and per-program overrides",
		conf: "[general]\nlogbackups=<inf>\nlogmaxsize=<inf>\nlogcompress=off\nlogmode=0600\n[program:a]\ncommand=x\n[program:b]\ncommand=x\nlogbackups=2\nlogmaxsize=1MB\nlogcompress=yes\nlogmode=0644\n",
		get: func(t *testing.T, c *Config) any {
			return fmt.Sprintf("%+v %+v %+v", c.Log, findProgram(t, c, "a").Log, findProgram(t, c, "b").Log)
		},
		want: "{MaxSize:0 Backups:-1 Compress:false Mode:-rw-------} {MaxSize:0 Backups:-1 Compress:false Mode:-rw-------} {MaxSize:1048576 Backups:2 Compress:true Mode:-rw-r--r--}"},
	{name: "logdir default is the config file's directory",
		conf: "[program:a]\ncommand=x\n",
		get:  global(func(c *Config) any { return c.LogDir + " " + c.Server.Log }), want: "$DIR $DIR/ramona.log"},
	{name: "logdir <env> takes $LOGDIR",
		conf: "[general]\nlogdir=<env>\n", environ: []string{"LOGDIR=/var/log/app"},
		get: global(func(c *Config) any { return c.LogDir }), want: "/var/log/app"},
	{name: "relative logdir against the file that sets it",
		files: map[string]string{"app.conf": "[general]\ninclude=etc/more.conf\n", "etc/more.conf": "[general]\nlogdir=../log\n"},
		get:   global(func(c *Config) any { return c.LogDir }), want: "$DIR/log"},
	{name: "server log variants",
		conf: "[general]\nlogdir=/l\n[ramona:server]\nlog=<logdir>/server.log\n",
		get:  global(func(c *Config) any { return c.Server.Log }), want: "/l/server.log"},
	{name: "server log <null>",
		conf: "[ramona:server]\nlog=<null>\n",
		get:  global(func(c *Config) any { return fmt.Sprintf("%q", c.Server.Log) }), want: `""`},

	// stdout and stderr.
	{name: "default: stdout joins stderr in LOGDIR/NAME.log",
		conf: "[general]\nlogdir=/l\n[program:a]\ncommand=x\n",
		get:  outputs("a"), want: "merged file:/l/a.log"},
	{name: "<logdir> for both: NAME-out.log and NAME-err.log",
		conf: "[general]\nlogdir=/l\n[program:a]\ncommand=x\nstdout=<logdir>\nstderr=<logdir>\n",
		get:  outputs("a"), want: "file:/l/a-out.log file:/l/a-err.log"},
	{name: "stderr joins stdout",
		conf: "[general]\nlogdir=/l\n[program:a]\ncommand=x\nstdout=<logdir>\nstderr=<stdout>\n",
		get:  outputs("a"), want: "file:/l/a.log merged"},
	{name: "stdout <null>: stderr alone gets NAME.log",
		conf: "[general]\nlogdir=/l\n[program:a]\ncommand=x\nstdout=<null>\n",
		get:  outputs("a"), want: "null file:/l/a.log"},
	{name: "stderr <console>: stdout alone gets NAME.log",
		conf: "[general]\nlogdir=/l\n[program:a]\ncommand=x\nstdout=<logdir>\nstderr=<console>\n",
		get:  outputs("a"), want: "file:/l/a.log console"},
	{name: "relative paths against the config file's directory",
		conf: "[general]\nlogdir=/l\n[program:a]\ncommand=x\nstdout=out/a.out\nstderr=/abs/a.err\n",
		get:  outputs("a"), want: "file:$DIR/out/a.out file:/abs/a.err"},
	{name: "<logdir>/NAME",
		conf: "[general]\nlogdir=/l\n[program:a]\ncommand=x\nstderr=<logdir>/sub/a.txt\n",
		get:  outputs("a"), want: "merged file:/l/sub/a.txt"},

	// Program keys.
	{name: "killby default",
		conf: "[program:a]\ncommand=x\n",
		get:  prog("a", func(p *ProgramConfig) any { return killbyStr(p.KillBy) }), want: "SIGTERM,SIGINT,SIGTERM,SIGINT,SIGTERM,SIGINT,SIGKILL"},
	{name: "killby names, SIG prefixes and numbers",
		conf: "[program:a]\ncommand=x\nkillby=quit, SIGUSR1 ,9\n",
		get:  prog("a", func(p *ProgramConfig) any { return killbyStr(p.KillBy) }), want: "SIGQUIT,SIGUSR1,SIGKILL"},
	{name: "autorestart forms",
		conf: "[program:a]\ncommand=x\nautorestart=on\n[program:b]\ncommand=x\nautorestart=off\n[program:c]\ncommand=x\nautorestart=Unexpected\nexitcodes=0, 2,3\n",
		get: func(t *testing.T, c *Config) any {
			return fmt.Sprint(findProgram(t, c, "a").AutoRestart == RestartYes, findProgram(t, c, "b").AutoRestart == RestartNo,
				findProgram(t, c, "c").AutoRestart == RestartUnexpected, findProgram(t, c, "c").ExitCodes)
		},
		want: "true true true [0 2 3]"},
	{name: "umask, priority, ready",
		conf: "[program:a]\ncommand=x\numask=027\npriority=-5\nready=notify\ncoredump=true\ndisabled=1\nessential=yes\n",
		get: prog("a", func(p *ProgramConfig) any {
			return fmt.Sprintf("%o %d %v %v %v %v", p.Umask, p.Priority, p.Ready == ReadyNotify, p.CoreDump, p.Disabled, p.Essential)
		}),
		want: "27 -5 true true true true"},
	{name: "user by name",
		conf: "[program:a]\ncommand=x\nuser=root\n",
		get:  prog("a", func(p *ProgramConfig) any { return fmt.Sprintf("%s %d %d %s", p.User, p.UID, p.GID, p.HomeDir) }), want: "root 0 0 /root"},
	{name: "user by number",
		conf: "[program:a]\ncommand=x\nuser=0\n",
		get:  prog("a", func(p *ProgramConfig) any { return fmt.Sprintf("%s %d", p.User, p.UID) }), want: "root 0"},
	{name: "logscan targets, mailto: from the Python original",
		conf: "[ramona:notify]\nlogscan=panic>now\n[program:a]\ncommand=x\nlogscan_stdout=error>mailto:a@b.c,FATAL>now,warn>daily,oops>daily:ops@example.com\n[program:b]\ncommand=x\nlogscan_stderr=<none>\n",
		get: func(t *testing.T, c *Config) any {
			a, b := findProgram(t, c, "a"), findProgram(t, c, "b")
			return rulesStr(a.LogScanStdout) + " | " + rulesStr(a.LogScanStderr) + " | " + rulesStr(b.LogScanStdout) + " | " + rulesStr(b.LogScanStderr)
		},
		want: "error>now:a@b.c,fatal>now,warn>daily,oops>daily:ops@example.com | panic>now | panic>now | "},
	{name: "logscan defaults and the _stdout/_stderr split",
		conf: "[ramona:notify]\nlogscan_stderr=boom>now\n[program:a]\ncommand=x\n",
		get: prog("a", func(p *ProgramConfig) any {
			return rulesStr(p.LogScanStdout) + " | " + rulesStr(p.LogScanStderr)
		}),
		want: "error>daily,fatal>daily,exception>daily | boom>now"},
	{name: "notify targets inherit <global>",
		conf: "[ramona:notify]\nnotify_fatal=daily:boss@example.com\n[program:a]\ncommand=x\n[program:b]\ncommand=x\nnotify_fatal=<none>\nnotify_watchdog=now\n",
		get: func(t *testing.T, c *Config) any {
			a, b := findProgram(t, c, "a"), findProgram(t, c, "b")
			return strings.Join([]string{targetStr(a.NotifyFatal), targetStr(a.NotifyWatchdog), targetStr(b.NotifyFatal), targetStr(b.NotifyWatchdog)}, " ")
		},
		want: "daily:boss@example.com daily:boss@example.com <none> now"},
	{name: "httpfend keys",
		conf: "[program:web]\ncommand=<httpfend>\nlisten=tcp://localhost:4455, tcp://[::1]:5588\nusername=admin\npassword={SHA}E5E9FA1BA31ECD1AE84F75CAAA474F3A663F05F4\nloglevel=debug\n" +
			"hostname=Ramona.Example., [2001:db8::7], ,192.0.2.7\n",
		get: prog("web", func(p *ProgramConfig) any {
			return fmt.Sprintf("%v %v %s %v %s %v %q", p.HTTPFrontend, p.Listen, p.Username, p.Password, string(p.Password), p.LogLevel, p.Hostnames)
		}),
		want: `true [tcp://localhost:4455 tcp://[::1]:5588] admin *** {SHA}E5E9FA1BA31ECD1AE84F75CAAA474F3A663F05F4 DEBUG ["ramona.example" "2001:db8::7" "192.0.2.7"]`},
	{name: "httpfend keys on another program are warnings",
		conf: "[program:a]\ncommand=x\nlisten=tcp://localhost:1\n",
		get:  warnings, want: "$DIR/app.conf:3: [program:a] listen: only used with command=<httpfend>, ignored"},
	{name: "unknown program key: did you mean",
		conf: "[program:a]\ncomand=x\ncommand=y\nStartTimeout=1\nfrobnicate=yes\n",
		get:  warnings,
		want: "$DIR/app.conf:2: [program:a] comand: unknown key, ignored (did you mean command?)\n" +
			"$DIR/app.conf:4: [program:a] StartTimeout: unknown key, ignored (did you mean starttimeout?)\n" +
			"$DIR/app.conf:5: [program:a] frobnicate: unknown key, ignored"},
	{name: "cmd, as the original's manual wrote it: did you mean command",
		conf: "[program:a]\ncommand=x\n[program:ping]\ncmd=/sbin/ping\ncmd@windows=ping.exe\n[program:b]\ncommand=y\ncwd=/tmp\n",
		get:  warnings,
		want: "$DIR/app.conf:4: [program:ping] cmd: unknown key, ignored (did you mean command?)\n" +
			"$DIR/app.conf:8: [program:b] cwd: unknown key, ignored (did you mean directory?)"},
	{name: "[DEFAULT] keys are not exported into [env]: a warning where the original did",
		conf: "[DEFAULT]\nPYTHONPATH=/opt/lib\nstoptimeout=10\nappname=x\n[env]\nA=1\n[program:a]\ncommand=x\n",
		get: func(t *testing.T, c *Config) any {
			return warnings(t, c).(string) + "\n" + envStr(findProgram(t, c, "a").Env)
		},
		want: "$DIR/app.conf:2: [DEFAULT] PYTHONPATH: not exported into the programs' environment (the Python original added every [DEFAULT] key to each [env] set); to export it, write PYTHONPATH=%(PYTHONPATH)s in [env] or [env:NAME]\n" +
			"A=1"},
	{name: "[DEFAULT] and only an [env:NAME] set: a warning too",
		conf: "[DEFAULT]\nbase=/opt\n[env:other]\nA=1\n[program:a]\ncommand=x\nenv=other\n",
		get:  warnings, want: "$DIR/app.conf:2: [DEFAULT] base: not exported into the programs' environment (the Python original added every [DEFAULT] key to each [env] set); to export it, write base=%(base)s in [env] or [env:NAME]"},
	{name: "[DEFAULT] without an [env] section: nothing would have been exported",
		conf: "[DEFAULT]\nPYTHONPATH=/opt/lib\n[program:a]\ncommand=x\n",
		get:  warnings, want: ""},
	{name: "unknown key in [general]",
		conf: "[general]\nappname=x\nlogmaxsise=1MB\n",
		get:  warnings, want: "$DIR/app.conf:3: [general] logmaxsise: unknown key, ignored (did you mean logmaxsize?)"},
	{name: "the application's own keys in [general] are not warned about",
		conf: "[general]\nappname=x\ndatabase_url=postgres://db/app\nworkers=4\n",
		get:  warnings, want: ""},
	{name: "warnings ordered by file, then line",
		files: map[string]string{
			"app.conf":  "[general]\ninclude=more.conf\n[program:a]\ncommand=x\nfoo=1\n[program:b]\ncommand=x\nbar=1\nbar=2\n[ramona:web]\n",
			"more.conf": "[program:a]\nbaz=1\n[program:b]\nqux=1\ncommand@beos=x\n[program:c]\ncommand=x\nlisten=tcp://localhost:1\n",
		},
		get: warnings,
		want: "$DIR/app.conf:5: [program:a] foo: unknown key, ignored\n" +
			"$DIR/app.conf:9: [program:b] bar: set again (first at line 8); the later value wins\n" +
			"$DIR/app.conf:9: [program:b] bar: unknown key, ignored\n" +
			"$DIR/app.conf:10: [ramona:web] unknown section, ignored (Ramona's are [ramona:server], [ramona:console], [ramona:notify])\n" +
			"$DIR/more.conf:2: [program:a] baz: unknown key, ignored\n" +
			"$DIR/more.conf:4: [program:b] qux: unknown key, ignored\n" +
			"$DIR/more.conf:5: [program:b] command@beos: unknown platform selector @beos, ignored (known: darwin, freebsd, linux, netbsd, openbsd, posix, windows)\n" +
			"$DIR/more.conf:8: [program:c] listen: only used with command=<httpfend>, ignored"},
	{name: "unknown global key and section",
		conf: "[ramona:server]\nconsoleurl=unix://x\n[ramona:web]\nport=1\n",
		get:  warnings,
		want: "$DIR/app.conf:2: [ramona:server] consoleurl: unknown key, ignored (did you mean consoleuri?)\n" +
			"$DIR/app.conf:3: [ramona:web] unknown section, ignored (Ramona's are [ramona:server], [ramona:console], [ramona:notify])"},

	// Control channel.
	{name: "consoleuri default",
		conf: "[general]\n",
		get: global(func(c *Config) any {
			u := c.Server.ConsoleURIs
			return fmt.Sprintf("%d %s %s %v | %s", len(u), u[0].Scheme, u[0].Path, u[0].Mode, c.Console.ServerURI)
		}),
		want: "1 unix $DIR/.ramona.sock -rw------- | unix://$DIR/.ramona.sock"},
	{name: "consoleuri ;mode= legacy form and ?mode=",
		conf: "[ramona:server]\nconsoleuri=unix://x.sock;mode=0660, unix:///run/y.sock?mode=0600,unix://@abstract\n",
		get: global(func(c *Config) any {
			var parts []string
			for _, u := range c.Server.ConsoleURIs {
				parts = append(parts, fmt.Sprintf("%s %o", u.Path, u.Mode))
			}
			return strings.Join(parts, " | ")
		}),
		want: "$DIR/x.sock 660 | /run/y.sock 600 | @abstract 600"},
	{name: "serveruri defaults to the first unix or tcp consoleuri",
		conf: "[ramona:server]\nconsoleuri=tls://0.0.0.0:7789?cert=s.pem&key=s.key&ca=ca.pem, tcp://127.0.0.1:7788, unix://x.sock\n",
		get: global(func(c *Config) any {
			tls := c.Server.ConsoleURIs[0]
			return fmt.Sprintf("%s %s %s %s | %s", tls, tls.Cert, tls.Key, tls.CA, c.Console.ServerURI)
		}),
		want: "tls://0.0.0.0:7789 $DIR/s.pem $DIR/s.key $DIR/ca.pem | tcp://127.0.0.1:7788"},
	{name: "serveruri set",
		conf: "[ramona:server]\nconsoleuri=unix://x.sock\n[ramona:console]\nserveruri=unix:///tmp/other.sock\nhistory=hist\n",
		get:  global(func(c *Config) any { return fmt.Sprint(c.Console.ServerURI, " ", c.Console.History) }), want: "unix:///tmp/other.sock $DIR/hist"},
	{name: "serveruri tls:// with the client certificate",
		conf: "[ramona:console]\nserveruri=tls://ramona.example.com:7789?cert=client.pem&key=client.key&ca=ca.pem\n",
		get: global(func(c *Config) any {
			u := c.Console.ServerURI
			return fmt.Sprintf("%s %s %s %s", u, u.Cert, u.Key, u.CA)
		}),
		want: "tls://ramona.example.com:7789 $DIR/client.pem $DIR/client.key $DIR/ca.pem"},
	{name: "pidfile with $VAR from the environment",
		conf: "[ramona:server]\npidfile=${TMP}/r.pid\n",
		get:  global(func(c *Config) any { return c.Server.PidFile }), want: "/tmp/ramona-tmp/r.pid"},
	{name: "loglevel",
		conf: "[ramona:server]\nloglevel=warn\n",
		get:  global(func(c *Config) any { return c.Server.LogLevel }), want: "WARNING"},

	// Notify.
	{name: "delivery",
		conf: "[ramona:notify]\ndelivery=smtps://mailer%%40example.com:s%%3Dcret@smtp.example.com:2465\nreceiver=a@example.com, b@example.com\nsender=ramona@example.com\ndailyat=07:30\nstashdir=stash\n",
		get: global(func(c *Config) any {
			d := c.Notify.Delivery
			return fmt.Sprintf("%v %s %s %d %s %s %v %s %v %s", d.Implicit, d.StartTLS, d.Host, d.Port, d.User, string(d.Password),
				c.Notify.Receivers, c.Notify.Sender, c.Notify.DailyAt, c.Notify.StashDir)
		}),
		want: "true starttls smtp.example.com 2465 mailer@example.com s=cret [a@example.com b@example.com] ramona@example.com 7h30m0s $DIR/stash"},
	{name: "delivery defaults and tls=none",
		conf: "[ramona:notify]\ndelivery=smtp://localhost?tls=none\nreceiver=a@example.com\n",
		get: global(func(c *Config) any {
			d := c.Notify.Delivery
			return fmt.Sprintf("%v %s %s %d %q %v %s", d.Implicit, d.StartTLS, d.Host, d.Port, d.User, c.Notify.DailyAt, targetStr(c.Notify.NotifyFatal))
		}),
		want: "false none localhost 25 \"\" 9h0m0s now"},
	{name: "delivery from the environment",
		conf: "[ramona:notify]\ndelivery=%(ENV_SMTP_URL)s\nreceiver=a@example.com\n", environ: []string{"SMTP_URL=smtp://u:p@mx.example.com:2525"},
		get: global(func(c *Config) any {
			return fmt.Sprintf("%s %d %s", c.Notify.Delivery.Host, c.Notify.Delivery.Port, c.Notify.Delivery.Password)
		}),
		want: "mx.example.com 2525 ***"},
	{name: "delivery in the Python original's form",
		conf: "[ramona:notify]\ndelivery=smtp://someone:pa55@smtp.example.org:587/;tls=1\nreceiver=a@example.com\n",
		get: global(func(c *Config) any {
			d := c.Notify.Delivery
			return fmt.Sprintf("%v %s %s %d %s %s", d.Implicit, d.StartTLS, d.Host, d.Port, d.User, string(d.Password))
		}),
		want: "false starttls smtp.example.org 587 someone pa55"},
	{name: "no delivery",
		conf: "[ramona:notify]\nreceiver=a@example.com\n",
		get:  global(func(c *Config) any { return fmt.Sprint(c.Notify.Delivery == nil, c.Notify.StashDir == "") }), want: "true true"},

	// Tools.
	{name: "tool",
		conf: "[env:ops]\nX=1\n[tool:backup]\ncommand=backup.sh --all\nhelp=Back everything up\nenv=ops\ndirectory=/srv\n",
		get: global(func(c *Config) any {
			tl := c.Tools[0]
			return fmt.Sprint(tl.Name, "|", tl.Command, "|", tl.Help, "|", tl.EnvName, "|", envStr(tl.Env), "|", tl.Directory, "|", tl.Err)
		}),
		want: "backup|backup.sh --all|Back everything up|ops|X=1|/srv|<nil>"},
	// numprocs, process_name, groups, environment= and conversions.
	{name: "numprocs names and numbers its processes",
		conf: "[program:w]\ncommand=run --port=80%(process_num)02d --of=%(numprocs)d\nnumprocs=3\nprocess_name=%(program_name)s_%(process_num)02d\n",
		get: global(func(c *Config) any {
			var out []string
			for _, p := range c.Programs {
				out = append(out, fmt.Sprintf("%s(%s %s %d/%d %v)", p.Name, p.Group, p.Command, p.ProcessNum, p.NumProcs, p.Err))
			}
			return strings.Join(out, " ")
		}),
		want: "w_00(w run --port=8000 --of=3 0/3 <nil>) w_01(w run --port=8001 --of=3 1/3 <nil>) w_02(w run --port=8002 --of=3 2/3 <nil>)"},
	{name: "numprocs_start",
		conf: "[program:w]\ncommand=x\nnumprocs=2\nnumprocs_start=7\nprocess_name=w%(process_num)d\n",
		get:  global(func(c *Config) any { return programNames(c) }), want: "[w7 w8]"},
	{name: "log files named after each process",
		conf: "[program:w]\ncommand=x\nnumprocs=2\nprocess_name=w%(process_num)d\nstdout=<logdir>\nstderr=%(here)s/%(program_name)s-%(process_num)d.err\n",
		get: global(func(c *Config) any {
			return outStr(c.Programs[0].Stdout) + " " + outStr(c.Programs[0].Stderr) + " " + outStr(c.Programs[1].Stdout) + " " + outStr(c.Programs[1].Stderr)
		}),
		want: "file:$DIR/w0-out.log file:$DIR/w-0.err file:$DIR/w1-out.log file:$DIR/w-1.err"},
	{name: "a group lists its programs",
		conf: "[group:g]\nprograms=a, b\n[program:a]\ncommand=in %(group_name)s\n[program:b]\ncommand=x\n[program:c]\ncommand=alone in %(group_name)s\n",
		get: global(func(c *Config) any {
			var out []string
			for _, p := range c.Programs {
				out = append(out, p.Group+":"+p.Name+"="+p.Command)
			}
			return strings.Join(out, " ")
		}),
		want: "g:a=in g g:b=x c:c=alone in c"},
	{name: "conversions",
		conf: "[program:abc]\nn=42\ncommand=x [%(n)5d] [%(n)-5d] [%(n)05d] [%(n)+d] [%(n)x] [%(n)#X] [%(n)#o] [%(n).4d] [%(program_name)5s] [%(program_name)-5s] [%(program_name).1s] [%(n)i] [%(n)u]\n",
		get:  command("abc"), want: "x [   42] [42   ] [00042] [+42] [2a] [0X2A] [0o52] [0042] [  abc] [abc  ] [a] [42] [42]"},
	{name: "environment= in supervisord's syntax",
		conf: "[program:a]\ncommand=x\nenvironment=A=\"x y\",B=2, C='its' ,D=/a:b/c-d.e+f(g);E=\"\"\n",
		get:  prog("a", func(p *ProgramConfig) any { return envStr(p.Environment) }), want: "A=x y B=2 C=its D=/a:b/c-d.e+f(g) E="},
	{name: "%(ENV_X)s: environment=, then [env], then the server's",
		conf: "[env]\nE=fromenv\nHOME=\n[program:a]\nenvironment=P=%(ENV_E)s-p\ncommand=run %(ENV_P)s %(ENV_E)s %(ENV_HOME)s %(ENV_LANG)s\n",
		get:  command("a"), want: "run fromenv-p fromenv /home/tester C"},
	{name: "host_node_name",
		conf: "[program:a]\ncommand=x\ndirectory=/srv/%(host_node_name)s\n",
		get:  prog("a", func(p *ProgramConfig) any { h, _ := os.Hostname(); return p.Directory == "/srv/"+h }), want: "true"},
	{name: "logbanners",
		conf: "[program:a]\ncommand=x\n[program:b]\ncommand=x\nlogbanners=no\n",
		get: func(t *testing.T, c *Config) any {
			return fmt.Sprint(findProgram(t, c, "a").LogBanners, findProgram(t, c, "b").LogBanners)
		},
		want: "true false"},
	{name: "supervisord's keys in a Ramona file",
		conf: "[program:a]\ncommand=x\nstartsecs=3\nredirect_stderr=true\n",
		get:  warnings,
		want: "$DIR/app.conf:3: [program:a] startsecs: unknown key, ignored (supervisord's key: Ramona's is starttimeout; Ramona reads a supervisord file as such when it has a [supervisord] section, and `ramona convert` translates one)\n" +
			"$DIR/app.conf:4: [program:a] redirect_stderr: unknown key, ignored (supervisord's key: Ramona's is stderr=<stdout>; Ramona reads a supervisord file as such when it has a [supervisord] section, and `ramona convert` translates one)"},
	{name: "server umask and minfds",
		conf: "[ramona:server]\numask=027\nminfds=4096\n",
		get:  global(func(c *Config) any { return fmt.Sprintf("%03o %d", c.Server.Umask, c.Server.MinFDs) }), want: "027 4096"},
	{name: "a broken tool does not break the others",
		conf: "[tool:t]\nhelp=x\nenv=none\n[tool:u]\ncommand=ok\n[program:p]\ncommand=x\n",
		get: global(func(c *Config) any {
			return fmt.Sprintf("%v | %v | %v", c.Tools[0].Err, c.Tools[1].Err, c.Programs[0].Err)
		}),
		want: "$DIR/app.conf:1: [tool:t] command: missing; a tool needs a command\n$DIR/app.conf:3: [tool:t] env: there is no [env:none] section; define it or remove env= | <nil> | <nil>"},
}

func killbyStr(sigs []syscall.Signal) string {
	var names []string
	for _, s := range sigs {
		names = append(names, signalName(s))
	}
	return strings.Join(names, ",")
}

func TestConfigValues(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the cases expect the @linux platform selector")
	}
	for _, tc := range configValueCases {
		t.Run(tc.name, func(t *testing.T) {
			checkValueCase(t, tc)
		})
	}
}

func checkValueCase(t *testing.T, tc valueCase) {
	t.Helper()
	files := tc.files
	if files == nil {
		files = map[string]string{"app.conf": tc.conf}
	}
	cfg, dir, err := loadFiles(t, files, tc.args, tc.environ)
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	got := strings.ReplaceAll(fmt.Sprint(tc.get(t, cfg)), dir, "$DIR")
	if got != tc.want {
		t.Errorf("\n got: %s\nwant: %s", got, tc.want)
	}
}

func TestConfigFiles(t *testing.T) {
	t.Parallel()
	cases := []struct {
		flags  []string
		env    string
		want   []string
		origin string
	}{
		{[]string{"a.conf", "b.conf"}, "/etc/x.conf", []string{"a.conf", "b.conf"}, "-c"},
		{nil, "/etc/x.conf:/etc/y.conf", []string{"/etc/x.conf", "/etc/y.conf"}, "$RAMONA_CONFIG"},
		{nil, "::/etc/x.conf:", []string{"/etc/x.conf"}, "$RAMONA_CONFIG"},
		{nil, "", []string{"ramona.conf"}, "default"},
		{nil, ":", []string{"ramona.conf"}, "default"},
	}
	for _, tc := range cases {
		got, origin := configFiles(tc.flags, func(k string) string {
			if k == "RAMONA_CONFIG" {
				return tc.env
			}
			return ""
		})
		if !reflect.DeepEqual(got, tc.want) || origin != tc.origin {
			t.Errorf("configFiles(%q, RAMONA_CONFIG=%q) = %q, %q; want %q, %q", tc.flags, tc.env, got, origin, tc.want, tc.origin)
		}
	}
}

// TestRamonaConfigEnv follows $RAMONA_CONFIG through configFiles into
// loadConfig: the later file wins, and Config.Files (what children get as
// RAMONA_CONFIG) is absolute.
func TestRamonaConfigEnv(t *testing.T) {
	hermetic(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"one.conf": "[program:a]\ncommand=one\npriority=1\n",
		"two.conf": "[program:a]\ncommand=two\n",
	})
	env := map[string]string{"RAMONA_CONFIG": dir + "/one.conf:" + dir + "/two.conf"}
	files, _ := configFiles(nil, func(k string) string { return env[k] })
	cfg, err := loadConfig(files, testEnviron)
	if err != nil {
		t.Fatal(err)
	}
	a := findProgram(t, cfg, "a")
	if a.Command != "two" || a.Priority != 1 {
		t.Errorf("command %q priority %d, want two 1", a.Command, a.Priority)
	}
	if want := []string{dir + "/one.conf", dir + "/two.conf"}; !reflect.DeepEqual(cfg.Files, want) {
		t.Errorf("Files = %q, want %q", cfg.Files, want)
	}
}

func TestNoConfigFiles(t *testing.T) {
	t.Parallel()
	_, err := loadConfig(nil, testEnviron)
	if err == nil || err.Error() != "no configuration file given; use -c FILE or set $RAMONA_CONFIG" {
		t.Errorf("err = %v", err)
	}
}

// TestDefaults pins every default of the key tables, for the global
// sections and for a program that sets only its command.
func TestDefaults(t *testing.T) {
	cfg, dir := mustLoad(t, "[program:a]\ncommand=run\n")
	sock := SocketURI{Scheme: "unix", Path: dir + "/.ramona.sock", Mode: 0o600}
	defaultRules := []LogScanRule{
		{Keyword: "error", Target: NotifyTarget{When: "daily"}},
		{Keyword: "fatal", Target: NotifyTarget{When: "daily"}},
		{Keyword: "exception", Target: NotifyTarget{When: "daily"}},
	}
	want := &Config{
		Files:   []string{dir + "/app.conf"},
		Sources: []ConfigSource{{Path: dir + "/app.conf"}},
		AppName: "ramona",
		LogDir:  dir,
		Log:     LogPolicy{MaxSize: 512 << 20, Backups: 3, Compress: true, Mode: 0o640},
		Server:  ServerConfig{ConsoleURIs: []SocketURI{sock}, Log: dir + "/ramona.log", LogLevel: LevelInfo, Umask: -1, Cgroup: "auto"},
		Console: ConsoleConfig{ServerURI: sock},
		Notify: NotifyConfig{
			Sender:        defaultSender(),
			DailyAt:       9 * time.Hour,
			NotifyFatal:   NotifyTarget{When: "now"},
			LogScanStdout: defaultRules,
			LogScanStderr: defaultRules,
		},
		Programs: []*ProgramConfig{{
			Name: "a", Section: "a", Group: "a", NumProcs: 1, File: dir + "/app.conf", Line: 1, BaseDir: dir,
			Command:        "run",
			Umask:          -1,
			Env:            []EnvVar{},
			Priority:       100,
			AutoStart:      true,
			StartTimeout:   500 * time.Millisecond,
			StartRetries:   3,
			AutoRestart:    RestartNo,
			ExitCodes:      []int{0},
			StopTimeout:    3 * time.Second,
			KillBy:         []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGTERM, syscall.SIGINT, syscall.SIGTERM, syscall.SIGINT, syscall.SIGKILL},
			ProcessGroup:   true,
			Stdout:         OutputTarget{Kind: OutMerged},
			Stderr:         OutputTarget{Kind: OutFile, Path: dir + "/a.log"},
			Log:            LogPolicy{MaxSize: 512 << 20, Backups: 3, Compress: true, Mode: 0o640},
			LogScanStdout:  defaultRules,
			LogScanStderr:  defaultRules,
			NotifyFatal:    NotifyTarget{When: "now"},
			Ready:          ReadyTimeout,
			ReadyTimeout:   90 * time.Second,
			HealthInterval: 10 * time.Second,
			HealthTimeout:  5 * time.Second,
			HealthRetries:  3,
			NotifyHealth:   NotifyTarget{When: "now"},
			NotifyWatchdog: NotifyTarget{When: "now"},
			LogBanners:     true,
			LogLevel:       LevelInfo,
		}},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("defaults\n got: %+v\nwant: %+v", cfg, want)
		if !reflect.DeepEqual(cfg.Programs[0], want.Programs[0]) {
			t.Errorf("program\n got: %+v\nwant: %+v", cfg.Programs[0], want.Programs[0])
		}
	}
}

func TestSplitCommand(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"HOME": "/home/me", "SPACED": "a b  c", "EMPTY": "", "X_1": "x1", "Q": `it's "q"`}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	cases := []struct {
		in      string
		want    []string
		missing []string
		err     string
	}{
		{in: "/bin/echo hello  world", want: []string{"/bin/echo", "hello", "world"}},
		{in: " \t lead\nand\r\ntrail \t", want: []string{"lead", "and", "trail"}},
		{in: `bash -c "echo one; echo two"`, want: []string{"bash", "-c", "echo one; echo two"}},
		{in: `echo 'single $HOME "x"'`, want: []string{"echo", `single $HOME "x"`}},
		{in: `echo "double $HOME 'x'"`, want: []string{"echo", "double /home/me 'x'"}},
		{in: `echo a"b"'c'd`, want: []string{"echo", "abcd"}},
		{in: `echo "" ''`, want: []string{"echo", "", ""}},
		{in: `echo a\ b \"c\" \\ \$HOME`, want: []string{"echo", "a b", `"c"`, `\`, "$HOME"}},
		{in: `echo "a\"b" "c\\d" "e\$f" "g\h" "i\` + "`" + `j"`, want: []string{"echo", `a"b`, `c\d`, "e$f", `g\h`, "i`j"}},
		{in: "echo $HOME ${HOME}/x pre${HOME}post", want: []string{"echo", "/home/me", "/home/me/x", "pre/home/mepost"}},
		{in: "echo $SPACED", want: []string{"echo", "a b  c"}},
		{in: `echo "$SPACED"`, want: []string{"echo", "a b  c"}},
		{in: "echo $Q", want: []string{"echo", `it's "q"`}},
		{in: "echo $X_1 $X_1a", want: []string{"echo", "x1"}, missing: []string{"X_1a"}},
		{in: "echo $EMPTY x", want: []string{"echo", "x"}},
		{in: `echo "$EMPTY" '' x$EMPTY`, want: []string{"echo", "", "", "x"}},
		{in: "echo $EMPTY${EMPTY} $NOPE", want: []string{"echo"}, missing: []string{"NOPE"}},
		{in: "echo $$ $$HOME a$$b", want: []string{"echo", "$", "$HOME", "a$b"}},
		{in: "echo $HOMEé ${HOME}é $é", want: []string{"echo", "/home/meé", "/home/meé", "$é"}},
		{in: "echo $ $1 $- 5$ ${}", want: []string{"echo", "$", "$1", "$-", "5$", "${}"}},
		{in: "echo $NOPE ${ALSO_NOPE}x", want: []string{"echo", "x"}, missing: []string{"NOPE", "ALSO_NOPE"}},
		{in: "echo 'unterminated", err: `unterminated ' quote in "echo 'unterminated"`},
		{in: `echo "unterminated`, err: `unterminated " quote in "echo \"unterminated"`},
		{in: "echo ${HOME", err: `unfinished ${ in "echo ${HOME"; write ${NAME}`},
		{in: "", err: "the command is empty"},
		{in: " \t\n", err: "the command is empty"},
		{in: "$EMPTY", err: "the command is empty"},
	}
	for _, tc := range cases {
		words, missing, err := splitCommandMissing(tc.in, lookup)
		errText := ""
		if err != nil {
			errText = err.Error()
		}
		if errText != tc.err || !reflect.DeepEqual(words, tc.want) || !reflect.DeepEqual(missing, tc.missing) {
			t.Errorf("splitCommand(%q)\n got: %q missing %q err %q\nwant: %q missing %q err %q",
				tc.in, words, missing, errText, tc.want, tc.missing, tc.err)
		}
	}
}

func TestExpandVars(t *testing.T) {
	t.Parallel()
	env := map[string]string{"TMP": "/tmp/x", "A": "a"}
	getenv := func(k string) string { return env[k] }
	for in, want := range map[string]string{
		"${TMP}/r.pid": "/tmp/x/r.pid",
		"$TMP/r.pid":   "/tmp/x/r.pid",
		"$NOPE/x":      "/x",
		"a$$b":         "a$b",
		"${A":          "${A",
		"$":            "$",
		"'$A'":         "'a'",
		"$Aé":          "aé",
	} {
		if got := expandVars(in, getenv); got != want {
			t.Errorf("expandVars(%q) = %q, want %q", in, got, want)
		}
	}
}

// loadIn writes app.conf (and any other files) into dir and loads it.
func loadIn(t *testing.T, dir string, files map[string]string) *Config {
	t.Helper()
	writeFiles(t, dir, files)
	cfg, err := loadConfig([]string{filepath.Join(dir, "app.conf")}, testEnviron)
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	return cfg
}

func TestDiff(t *testing.T) {
	const base = "[env]\nA=1\n[env:other]\nB=1\n" +
		"[program:keep]\ncommand=sleep 1\n" +
		"[program:edit]\ncommand=sleep 2\n" +
		"[program:drop]\ncommand=sleep 3\n" +
		"[program:own]\ncommand=sleep 4\nenv=other\n"
	cases := []struct {
		name                    string
		old, new                string
		newFiles                map[string]string
		added, removed, changed []string
	}{
		{name: "identical", old: base, new: base},
		{name: "added, removed, changed and unchanged",
			old: base,
			new: "[env]\nA=1\n[env:other]\nB=1\n" +
				"[program:keep]\ncommand=sleep 1\n" +
				"[program:edit]\ncommand=sleep 2\nstarttimeout=2s\n" +
				"[program:own]\ncommand=sleep 4\nenv=other\n" +
				"[program:new]\ncommand=sleep 5\n",
			added: []string{"new"}, removed: []string{"drop"}, changed: []string{"edit"}},
		{name: "moving sections and adding comments is no change",
			old: base,
			new: "# a comment\n\n[program:own]\ncommand=sleep 4\nenv=other\n; another\n" +
				"[program:drop]\n  ; indented comment\ncommand = sleep 3\n" +
				"[env:other]\nB=1\n[program:edit]\ncommand:sleep 2\n[env]\nA=1\n[program:keep]\ncommand=sleep 1 ;comment\n"},
		{name: "the same value written another way is no change",
			old: base,
			new: base + "[program:keep]\nstarttimeout=0.5\nautostart=on\nkillby=SIGTERM,INT,TERM,INT,TERM,INT,9\n"},
		{name: "changing [env] changes every program that uses it",
			old: base, new: strings.Replace(base, "A=1", "A=2", 1),
			changed: []string{"keep", "edit", "drop"}},
		{name: "adding to [env:other] changes only its users",
			old: base, new: strings.Replace(base, "B=1\n", "B=1\nC=\n", 1),
			changed: []string{"own"}},
		{name: "a global default that programs inherit",
			old: base, new: "[general]\nlogmaxsize=1MB\n" + base,
			changed: []string{"keep", "edit", "drop", "own"}},
		{name: "a program that becomes broken is changed",
			old: base, new: base + "[program:edit]\numask=x\n",
			changed: []string{"edit"}},
		{name: "moving a program into an included file in the same directory is no change",
			old: base, new: strings.Replace(base, "[program:keep]\ncommand=sleep 1\n", "[general]\ninclude=more.conf\n", 1),
			newFiles: map[string]string{"more.conf": "\n\n[program:keep]\ncommand=sleep 1\n"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hermetic(t)
			dir := t.TempDir()
			old := loadIn(t, dir, map[string]string{"app.conf": tc.old})
			files := map[string]string{"app.conf": tc.new}
			for k, v := range tc.newFiles {
				files[k] = v
			}
			new := loadIn(t, dir, files)
			added, removed, changed := diff(old, new)
			sort.Strings(changed)
			sort.Strings(tc.changed)
			if !reflect.DeepEqual(added, tc.added) || !reflect.DeepEqual(removed, tc.removed) || !reflect.DeepEqual(changed, tc.changed) {
				t.Errorf("diff = added %q removed %q changed %q\nwant added %q removed %q changed %q",
					added, removed, changed, tc.added, tc.removed, tc.changed)
			}
		})
	}
}

func TestDiffFromNothing(t *testing.T) {
	cfg, _ := mustLoad(t, "[program:b]\ncommand=x\n[program:a]\ncommand=y\n")
	added, removed, changed := diff(nil, cfg)
	if !reflect.DeepEqual(added, []string{"b", "a"}) || removed != nil || changed != nil {
		t.Errorf("diff(nil, cfg) = %q %q %q", added, removed, changed)
	}
}

// summary is one line with what a program means to the supervisor.
func summary(p *ProgramConfig, dir string) string {
	if p.Err != nil {
		return p.Name + " CFGERROR " + strings.ReplaceAll(p.Err.Error(), dir, "$DIR")
	}
	words, err := splitCommand(p.Command, func(k string) (string, bool) { // with the program's [env]
		for _, v := range p.Env {
			if v.Name == k && !v.Unset {
				return v.Value, true
			}
		}
		return "", false
	})
	if p.HTTPFrontend {
		words, err = []string{"<httpfend>"}, nil
	}
	if err != nil {
		return p.Name + " split: " + err.Error()
	}
	restart := map[RestartPolicy]string{RestartNo: "no", RestartYes: "yes", RestartUnexpected: "unexpected"}[p.AutoRestart]
	s := fmt.Sprintf("%s %q prio=%d disabled=%v restart=%s out=%s err=%s umask=%o dir=%q core=%v env=%q",
		p.Name, words, p.Priority, p.Disabled, restart, outStr(p.Stdout), outStr(p.Stderr), p.Umask, p.Directory, p.CoreDump, p.EnvName)
	return strings.ReplaceAll(s, dir, "$DIR")
}

func loadCompat(t *testing.T, name string) (*Config, string) {
	t.Helper()
	hermetic(t)
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig([]string{filepath.Join(dir, name)}, testEnviron)
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	return cfg, dir
}

func checkLines(t *testing.T, what string, got []string, want string) {
	t.Helper()
	wantLines := strings.Split(strings.TrimSpace(want), "\n")
	for i := range max(len(got), len(wantLines)) {
		g, w := "(none)", "(none)"
		if i < len(got) {
			g = got[i]
		}
		if i < len(wantLines) {
			w = strings.TrimSpace(wantLines[i])
		}
		if g != w {
			t.Errorf("%s line %d\n got: %s\nwant: %s", what, i+1, g, w)
		}
	}
}

func TestCompatRamonaConf(t *testing.T) {
	cfg, dir := loadCompat(t, "compat-ramona.conf")
	got := fmt.Sprintf("%s %s %s %o %s %s %s %d",
		cfg.AppName, cfg.LogDir, cfg.Server.ConsoleURIs[0].Path, cfg.Server.ConsoleURIs[0].Mode,
		cfg.Server.PidFile, cfg.Console.ServerURI, cfg.Console.History, len(cfg.Programs)+len(cfg.Warnings))
	want := "compat-dev $DIR/log /tmp/compat-dev.sock 600 /tmp/compat-dev.pid unix:///tmp/compat-dev.sock $DIR/compat-dev_history 0"
	if got = strings.ReplaceAll(got, dir, "$DIR"); got != want {
		t.Errorf("\n got: %s\nwant: %s", got, want)
	}
}

func TestCompatDemoConf(t *testing.T) {
	cfg, dir := loadCompat(t, "compat-demo.conf")
	home := os.Getenv("HOME")
	got := fmt.Sprintf("%s %s %d %s %s %v %v %s",
		cfg.AppName, cfg.LogDir, cfg.Log.MaxSize, cfg.Server.PidFile, cfg.Server.Log,
		cfg.Notify.Receivers, cfg.Notify.Delivery == nil, strings.Replace(cfg.Console.History, home, "~", 1))
	want := "compat-demo $DIR/log 20000 /tmp/compat-demo.pid $DIR/log/ramona.log [oncall@example.org] true ~/.compat_demo_history"
	if got = strings.ReplaceAll(got, dir, "$DIR"); got != want {
		t.Errorf("\n got: %s\nwant: %s", got, want)
	}
	var lines []string
	for _, p := range cfg.Programs {
		lines = append(lines, summary(p, dir))
	}
	checkLines(t, "programs", lines, `
		blink ["bash" "-c" "env;sleep 2"] prio=100 disabled=false restart=no out=merged err=file:$DIR/log/blink.log umask=-1 dir="" core=false env=""
		napper ["sleep" "5"] prio=100 disabled=false restart=yes out=null err=file:$DIR/log/napper.log umask=-1 dir="" core=false env=""
		forever ["tail" "-f" "/dev/null"] prio=85 disabled=false restart=no out=merged err=file:$DIR/log/forever-own.log umask=-1 dir="" core=true env=""
		forevertoo ["bash" "-c" "echo hello; tail -f /dev/null"] prio=75 disabled=false restart=no out=merged err=file:$DIR/log/forevertoo.log umask=-1 dir="" core=false env=""
		talker ["bash" "-c" "sleep 1; echo nothing wrong here; sleep 1; echo an error it is; echo -n err; sleep 1; echo or"] prio=100 disabled=false restart=no out=merged err=file:$DIR/log/talker.log umask=-1 dir="" core=false env=""
		switchedoff ["tail" "-f" "/dev/null"] prio=100 disabled=true restart=no out=merged err=file:$DIR/log/switchedoff.log umask=-1 dir="" core=false env=""
		scanned ["bash" "-c" "echo -n ERR; sleep 1; echo OR then fatal"] prio=100 disabled=false restart=no out=merged err=file:$DIR/log/scanned.log umask=-1 dir="" core=false env=""
		nowhere ["echo Go !!!"] prio=100 disabled=false restart=no out=merged err=file:$DIR/log/nowhere.log umask=220 dir="${NONEXISTENT}/xxx" core=false env=""
		badmask CFGERROR $DIR/compat-demo.conf:69: [program:badmask] umask: "cc220" is not a umask; use octal digits such as 022 or 077
		swapped ["bash" "-c" "echo to-stdout; echo to-stderr >&2"] prio=100 disabled=false restart=no out=file:$DIR/log/swapped.log err=merged umask=-1 dir="" core=false env=""
		webfront ["<httpfend>"] prio=100 disabled=false restart=no out=merged err=file:$DIR/log/webfront.log umask=-1 dir="" core=false env=""
	`)
	a := findProgram(t, cfg, "blink")
	if got, want := envStr(a.Env), "DEMO_STAGE=demo DemoMixedCase=kept -PLUGIN_ROOT BLACKHOLE=/dev/null MISSING_DIR=/no/such/directory"; got != want {
		t.Errorf("env\n got: %s\nwant: %s", got, want)
	}
	s := findProgram(t, cfg, "scanned")
	if got, want := rulesStr(s.LogScanStdout)+" | "+rulesStr(s.LogScanStderr), "error>now:a@b.c,fatal>now,warn>daily | error>daily,fatal>daily,exception>daily"; got != want {
		t.Errorf("logscan\n got: %s\nwant: %s", got, want)
	}
	w := findProgram(t, cfg, "webfront")
	if got, want := fmt.Sprintf("%v %v %s %s", w.Listen, w.LogLevel, w.Username, string(w.Password)),
		"[tcp://localhost:4477 tcp://[::1]:5577] DEBUG operator {SHA}d033e22ae348aeb5660fc2140aec35850c4da997"; got != want {
		t.Errorf("httpfend\n got: %s\nwant: %s", got, want)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings: %v", warningTexts(cfg, dir))
	}
}

func TestCompatTestConf(t *testing.T) {
	cfg, dir := loadCompat(t, "compat-test.conf")
	got := fmt.Sprintf("%s %s %d %s %v", cfg.AppName, cfg.LogDir, cfg.Log.MaxSize, cfg.Server.PidFile, cfg.Notify.Receivers)
	want := "compat-test $DIR/log-test 10000 /tmp/ramona-tmp/compat-test.pid [tests@example.org]"
	if got = strings.ReplaceAll(got, dir, "$DIR"); got != want {
		t.Errorf("\n got: %s\nwant: %s", got, want)
	}
	var lines []string
	for _, p := range cfg.Programs {
		lines = append(lines, summary(p, dir))
	}
	checkLines(t, "programs", lines, `
		quick ["bash" "-c" "set;sleep 1"] prio=100 disabled=false restart=no out=merged err=file:$DIR/log-test/quick.log umask=-1 dir="" core=false env=""
		tailer ["tail" "-f" "/dev/null"] prio=80 disabled=false restart=no out=merged err=file:$DIR/log-test/tailer-own.log umask=-1 dir="" core=true env=""
		merged ["bash" "-c" "echo out; echo err >&2"] prio=100 disabled=false restart=no out=merged err=file:$DIR/log-test/merged.log umask=-1 dir="" core=false env=""
		scan ["bash" "-c" "echo error; sleep 1"] prio=100 disabled=false restart=no out=merged err=file:$DIR/log-test/scan.log umask=-1 dir="" core=false env=""
		cfgfail CFGERROR $DIR/compat-test.conf:47: [program:cfgfail] umask: "cc220" is not a umask; use octal digits such as 022 or 077
		frontend ["<httpfend>"] prio=100 disabled=false restart=no out=merged err=file:$DIR/log-test/frontend.log umask=-1 dir="" core=false env=""
	`)
	checkLines(t, "warnings", warningTexts(cfg, dir), `
		$DIR/compat-test.conf:26: [program:quick] command_win: unknown key, ignored
	`)
	if got, want := envStr(findProgram(t, cfg, "quick").Env), "STAGE=test -EMPTIED DEVNULL=/dev/null"; got != want {
		t.Errorf("env\n got: %s\nwant: %s", got, want)
	}
	if got, want := rulesStr(findProgram(t, cfg, "scan").LogScanStdout), "error>now:a@b.c,fatal>now,exception>now,warn>daily"; got != want {
		t.Errorf("logscan\n got: %s\nwant: %s", got, want)
	}
}

// FuzzLoadConfig feeds arbitrary text to the INI reader and every check
// behind it: loading never panics, is deterministic, and every error and
// warning says where it is (a file always; a line unless it is about the
// whole file).
//
// One file per fuzzing process is rewritten for every input: a fresh
// t.TempDir per input cost more than the loading (a mkdir and an rmdir,
// which waits for the disk's discard here), and the fuzzer's minimizing of a
// 1 KB input runs the target hundreds of thousands of times; at several ms
// each, it reported 0 execs/s for a minute at a time (TestMain also bounds
// minimizing: limitFuzzMinimizing).
func FuzzLoadConfig(f *testing.F) {
	// More seeds, the compat fixtures among them, are in testdata/fuzz/FuzzLoadConfig.
	f.Add("[program:a]\ncommand=x %(y)s\ny=%(a)s\n")
	path := filepath.Join(f.TempDir(), "fuzz.conf")
	f.Fuzz(func(t *testing.T, text string) {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := loadConfig([]string{path}, testEnviron)
		again, err2 := loadConfig([]string{path}, testEnviron)
		if fmt.Sprint(err) != fmt.Sprint(err2) || describeConfig(cfg) != describeConfig(again) {
			t.Fatalf("two loads of the same file differ:\n%v\n%s\n----\n%v\n%s", err, describeConfig(cfg), err2, describeConfig(again))
		}
		var all []*ConfigError
		if err != nil {
			var ces ConfigErrors
			if !errors.As(err, &ces) {
				t.Fatalf("error is a %T: %v", err, err)
			}
			if cfg != nil {
				t.Fatal("both a Config and an error")
			}
			all = ces
		} else {
			checkAbsolute(t, cfg)
			all = append(all, cfg.Warnings...)
			for _, p := range cfg.Programs {
				if p.Err == nil {
					continue
				}
				var ces ConfigErrors
				if !errors.As(p.Err, &ces) {
					t.Fatalf("program %q error is a %T: %v", p.Name, p.Err, p.Err)
				}
				all = append(all, ces...)
			}
		}
		for _, e := range all {
			if e.File == "" {
				t.Errorf("no file in %q", e.Error())
			}
			if e.Line <= 0 && (e.Section != "" || e.Key != "") {
				t.Errorf("no line in %q", e.Error())
			}
		}
	})
}

// checkAbsolute fails when a path of a loaded configuration is relative, or
// a program without Err has no usable command.
func checkAbsolute(t *testing.T, cfg *Config) {
	t.Helper()
	paths := []string{cfg.LogDir, cfg.Server.Log, cfg.Server.PidFile, cfg.Console.History, cfg.Notify.StashDir}
	for _, u := range append(cfg.Server.ConsoleURIs, cfg.Console.ServerURI) {
		if !strings.HasPrefix(u.Path, "@") {
			paths = append(paths, u.Path)
		}
		paths = append(paths, u.Cert, u.Key, u.CA)
	}
	for _, p := range cfg.Programs {
		if p.Err != nil {
			continue
		}
		paths = append(paths, p.BaseDir, p.Stdout.Path, p.Stderr.Path)
		if _, err := splitCommand(p.Command, func(string) (string, bool) { return "x", true }); err != nil && !p.HTTPFrontend {
			t.Errorf("program %s loaded with command %q: %v", p.Name, p.Command, err)
		}
	}
	for _, p := range paths {
		if p != "" && !filepath.IsAbs(p) {
			t.Errorf("relative path %q in the loaded configuration", p)
		}
	}
}

// describeConfig is a loaded configuration as text, to compare two loads.
func describeConfig(cfg *Config) string {
	if cfg == nil {
		return "<nil>"
	}
	var b strings.Builder
	notify := cfg.Notify
	notify.Delivery = nil
	fmt.Fprintf(&b, "%+v %+v %+v %+v\n", cfg.Log, cfg.Server, cfg.Console, notify)
	if d := cfg.Notify.Delivery; d != nil {
		fmt.Fprintf(&b, "%+v %s\n", *d, string(d.Password))
	}
	for _, p := range cfg.Programs {
		fmt.Fprintf(&b, "%+v\n", *p)
	}
	for _, tl := range cfg.Tools {
		fmt.Fprintf(&b, "%+v\n", *tl)
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(&b, "%s\n", w)
	}
	return b.String()
}

// FuzzSplitCommand checks the command splitter never panics and that quoting
// its words and splitting again gives the same words back.
func FuzzSplitCommand(f *testing.F) {
	f.Add(`bash -c "echo $HOME; echo '${X}'" a\ b`)
	f.Fuzz(func(t *testing.T, s string) {
		lookup := func(k string) (string, bool) {
			if k == "HOME" {
				return "/home/x y", true
			}
			return "", false
		}
		words, missing, err := splitCommandMissing(s, lookup)
		if err != nil {
			if words != nil || missing != nil {
				t.Fatalf("error %v with words %q missing %q", err, words, missing)
			}
			return
		}
		if len(words) == 0 {
			t.Fatalf("no words and no error for %q", s)
		}
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
		}
		again, missing2, err := splitCommandMissing(strings.Join(quoted, " "), lookup)
		if err != nil || !reflect.DeepEqual(again, words) || missing2 != nil {
			t.Fatalf("split(%q) = %q; quoted again gives %q, %q, %v", s, words, again, missing2, err)
		}
	})
}

func BenchmarkLoadConfig1000(b *testing.B) {
	path := benchConfig1000(b) // bench_test.go
	b.ReportAllocs()
	for b.Loop() {
		cfg, err := loadConfig([]string{path}, testEnviron)
		if err != nil || len(cfg.Programs) != 1000 || cfg.Programs[999].Err != nil {
			b.Fatalf("load: %v", err)
		}
	}
}

// TestSecretsNeverShown: whatever is wrong with a delivery URL or a web
// frontend password, no error or warning shows the password, not even a
// piece of it; SECRETA and SECRETB are pieces of passwords.
func TestSecretsNeverShown(t *testing.T) {
	cases := []struct {
		conf string
		ok   bool // loads, with the password intact
	}{
		{conf: "delivery=smtp://user:SECRETA@mail.example.com:99999"},
		{conf: "delivery=smtps://user:SECRETA@mail.example.com:0"},
		{conf: "delivery=smtp://user:SECRETA@mail.example.com?tls=maybe"},
		{conf: "delivery=smtp://user:SECRETA@mail.example.com?ssl=1"},
		{conf: "delivery=smtp://user:SECRETA@"},
		{conf: "delivery=user:SECRETA@mail.example.com"},
		{conf: "delivery=smtp:/user:SECRETA@mail.example.com"},
		{conf: "delivery=smtp://user:SECRETA%(SECRETB@mail.example.com"},
		{conf: "delivery=smtp://user:SECRETA%(SECRETB)s@mail.example.com"},
		{conf: "delivery=smtp://user:SECRETA%SECRETB@mail.example.com"},
		{conf: "delivery=smtp://user:SECRETA%%zzSECRETB@mail.example.com"},
		{conf: "delivery=smtp://user:SECRETA ;SECRETB@mail.example.com"},
		{conf: "delivery=smtp://user:SECRETA?SECRETB@mail.example.com", ok: true},
		{conf: "delivery=smtp://user:SECRETA;SECRETB@mail.example.com", ok: true},
		{conf: "delivery=smtp://user:SECRETA/SECRETB@mail.example.com?tls=none", ok: true},
		{conf: "delivery=smtp://user:SECRETA@SECRETB@mail.example.com:587", ok: true},
		{conf: "delivery=smtp://user:SECRETA%%40SECRETB@mail.example.com", ok: true},
	}
	for i, tc := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) { // the name is part of the temp dir: keep the password out
			cfg, dir, err := loadFiles(t, map[string]string{"app.conf": "[ramona:notify]\n" + tc.conf + "\nreceiver=ops@example.com\n"}, nil, nil)
			shown := fmt.Sprint(err)
			if cfg != nil {
				d := cfg.Notify.Delivery
				shown += fmt.Sprintf("%+v %#v %v %+v %s", cfg.Notify, d, d, *d, warningTexts(cfg, ""))
			}
			for _, piece := range []string{"SECRETA", "SECRETB"} {
				if strings.Contains(shown, piece) {
					t.Errorf("%s is shown: %s", piece, strings.ReplaceAll(shown, dir, "$DIR"))
				}
			}
			switch {
			case tc.ok && err != nil:
				t.Errorf("does not load: %s", strings.ReplaceAll(shown, "SECRET", "X"))
			case tc.ok:
				_, rest, _ := strings.Cut(tc.conf, "user:")
				pass, _, _ := strings.Cut(rest, "@mail")
				pass = strings.ReplaceAll(strings.ReplaceAll(pass, "%%40", "@"), "%%", "%")
				if d := cfg.Notify.Delivery; string(d.Password) != pass || d.User != "user" || d.Host != "mail.example.com" {
					t.Errorf("user %q password %q host %q, want user %q host mail.example.com", d.User, string(d.Password), d.Host, pass)
				}
			case err == nil:
				t.Errorf("%s loads, with delivery %+v", strings.ReplaceAll(tc.conf, "SECRET", "X"), *cfg.Notify.Delivery)
			}
		})
	}
	t.Run("web frontend password", func(t *testing.T) {
		cfg, dir, err := loadFiles(t, map[string]string{"app.conf": "[program:web]\ncommand=<httpfend>\nusername=u\npassword=SECRETA%(SECRETB\n"}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := strings.ReplaceAll(fmt.Sprint(cfg.Programs[0].Err), dir, "$DIR")
		want := "$DIR/app.conf:4: [program:web] password: the value has a % that is neither %% nor a complete %(name)s reference " +
			"(the value is not shown: it holds a password); write %% for a literal percent sign"
		if got != want {
			t.Errorf("\n got: %s\nwant: %s", got, want)
		}
	})
}

// TestRelativeConfigPath: with -c given relative to the working directory,
// every path in the Config is still absolute (the server may change
// directory), and messages name the file as it was given.
func TestRelativeConfigPath(t *testing.T) {
	hermetic(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"etc/app.conf": "[general]\nlogdir=../log\ninclude=more.conf\n[ramona:server]\nconsoleuri=unix://run/r.sock\npidfile=run/r.pid\n" +
			"[ramona:console]\nhistory=hist\n[ramona:notify]\nstashdir=stash\n" +
			"[program:a]\ncommand=%(here)s/x\nstdout=out.log\n[program:b]\ncommand=x\numask=nope\n",
		"etc/more.conf": "[program:c]\ncommand=x\nstderr=c.log\n",
	})
	t.Chdir(dir)
	cfg, err := loadConfig([]string{"etc/app.conf"}, testEnviron)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join([]string{
		cfg.LogDir, cfg.Server.ConsoleURIs[0].Path, cfg.Server.PidFile, cfg.Server.Log, cfg.Console.ServerURI.Path,
		cfg.Console.History, cfg.Notify.StashDir, findProgram(t, cfg, "a").BaseDir, outStr(findProgram(t, cfg, "a").Stdout),
		outStr(findProgram(t, cfg, "a").Stderr), outStr(findProgram(t, cfg, "c").Stderr), fmt.Sprint(cfg.Files, cfg.Included),
		fmt.Sprint(findProgram(t, cfg, "b").Err), findProgram(t, cfg, "a").Command,
	}, "\n")
	want := strings.ReplaceAll(`$DIR/log
$DIR/etc/run/r.sock
$DIR/etc/run/r.pid
$DIR/log/ramona.log
$DIR/etc/run/r.sock
$DIR/etc/hist
$DIR/etc/stash
$DIR/etc
file:$DIR/etc/out.log
file:$DIR/log/a-err.log
file:$DIR/etc/c.log
[$DIR/etc/app.conf] [$DIR/etc/more.conf]
etc/app.conf:16: [program:b] umask: "nope" is not a umask; use octal digits such as 022 or 077
$DIR/etc/x`, "$DIR", dir)
	checkLines(t, "paths", strings.Split(got, "\n"), want)
}
