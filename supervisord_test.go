// Tests of supervisord's dialect (supervisord.go) and of `ramona convert`
// (convert.go): a file in the shape of supervisord's sample configuration
// and a Debian-style supervisord.conf with a conf.d of an application
// (testdata/supervisord), what every key becomes, the warnings and errors
// with file:line, the pieces that mimic Python (shlex, the environment=
// syntax, % conversions) checked against the real Python and supervisor
// modules, and the converted output loading to the same configuration.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// describeProgram is what the tests compare of a program, in one line.
func describeProgram(p *ProgramConfig) string {
	umask := "-"
	if p.Umask >= 0 {
		umask = fmt.Sprintf("%03o", p.Umask)
	}
	return fmt.Sprintf("%s group=%s prio=%d cmd=%s dir=%s user=%s umask=%s autostart=%v starttimeout=%v retries=%d autorestart=%d exitcodes=%v stoptimeout=%v killby=%s processgroup=%v stdout=%s stderr=%s log=%d/%d/%v env=%s environment=%s banners=%v err=%v",
		p.Name, p.Group, p.Priority, p.Command, p.Directory, p.User, umask, p.AutoStart, p.StartTimeout, p.StartRetries, p.AutoRestart,
		p.ExitCodes, p.StopTimeout, killbyStr(p.KillBy), p.ProcessGroup, outStr(p.Stdout), outStr(p.Stderr),
		p.Log.MaxSize, p.Log.Backups, p.Log.Compress, envStr(p.Env), envStr(p.Environment), p.LogBanners, p.Err)
}

// loadSupervisordFixture loads a file of testdata/supervisord and returns
// the configuration and its directory (for $DIR).
func loadSupervisordFixture(t *testing.T, name string) (*Config, string) {
	t.Helper()
	hermetic(t)
	abs, err := filepath.Abs(filepath.Join("testdata/supervisord", name))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig([]string{abs}, testEnviron)
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	return cfg, filepath.Dir(abs)
}

// TestSupervisordSample: every key of supervisord's sample configuration,
// and what Ramona makes of it.
func TestSupervisordSample(t *testing.T) {
	cfg, dir := loadSupervisordFixture(t, "sample.conf")
	home := os.Getenv("HOME")
	checkLines(t, "global settings", []string{
		fmt.Sprintf("consoleuri=%s mode=%04o", cfg.Server.ConsoleURIs[0], cfg.Server.ConsoleURIs[0].Mode),
		"serveruri=" + cfg.Console.ServerURI.String(),
		"history=" + strings.Replace(cfg.Console.History, home, "~", 1),
		"pidfile=" + cfg.Server.PidFile,
		"log=" + cfg.Server.Log,
		"loglevel=" + cfg.Server.LogLevel.String(),
		fmt.Sprintf("umask=%03o minfds=%d", cfg.Server.Umask, cfg.Server.MinFDs),
		"logdir=" + cfg.LogDir,
		fmt.Sprintf("serverlog=%d/%d/%v", cfg.Log.MaxSize, cfg.Log.Backups, cfg.Log.Compress),
	}, strings.ReplaceAll(`consoleuri=unix://$DIR/run/supervisor.sock mode=0770
serveruri=unix://$DIR/run/supervisor.sock
history=~/.sc_history
pidfile=$DIR/run/supervisord.pid
log=$DIR/log/supervisord.log
loglevel=WARNING
umask=022 minfds=1024
logdir=$DIR/log
serverlog=5242880/4/false`, "$DIR", dir))

	var progs []string
	for _, p := range cfg.Programs {
		progs = append(progs, strings.ReplaceAll(describeProgram(p), dir, "$DIR"))
	}
	checkLines(t, "programs", progs, `theprogramname_01 group=theprogramname prio=1 cmd=/bin/cat --number "$DIR/a file" $$HOME dir=/tmp user=nobody umask=022 autostart=true starttimeout=1s retries=3 autorestart=2 exitcodes=[0 2] stoptimeout=10s killby=SIGQUIT processgroup=false stdout=file:$DIR/log/theprogramname-1.log stderr=merged log=1048576/10/false env=KEY1=value1 KEY2=value two environment=A=1 B=2 1 banners=false err=<nil>
theprogramname_02 group=theprogramname prio=1 cmd=/bin/cat --number "$DIR/a file" $$HOME dir=/tmp user=nobody umask=022 autostart=true starttimeout=1s retries=3 autorestart=2 exitcodes=[0 2] stoptimeout=10s killby=SIGQUIT processgroup=false stdout=file:$DIR/log/theprogramname-2.log stderr=merged log=1048576/10/false env=KEY1=value1 KEY2=value two environment=A=1 B=2 2 banners=false err=<nil>
progname1 group=thegroupname prio=1 cmd=/bin/sleep 1000 dir=$DIR user=nobody umask=- autostart=true starttimeout=1s retries=3 autorestart=2 exitcodes=[0] stoptimeout=10s killby=SIGTERM processgroup=false stdout=file:$DIR/log/progname1-out.log stderr=file:$DIR/log/progname1-err.log log=52428800/10/false env=KEY1=value1 KEY2=value two environment= banners=false err=<nil>
progname2 group=thegroupname prio=1 cmd=/bin/sleep 2000 dir=$DIR user=nobody umask=- autostart=true starttimeout=1s retries=3 autorestart=2 exitcodes=[0] stoptimeout=10s killby=SIGTERM processgroup=true stdout=file:$DIR/log/progname2-out.log stderr=file:$DIR/log/progname2-err.log log=52428800/10/false env=KEY1=value1 KEY2=value two environment= banners=false err=<nil>`)

	checkLines(t, "warnings", warningTexts(cfg, dir), `$DIR/sample.conf:9: [unix_http_server] chown: ignored: only root and the server's own user may use the socket (Ramona checks the peer's uid)
$DIR/sample.conf:10: [unix_http_server] username: ignored: Ramona identifies clients of the unix socket by their uid, not a password
$DIR/sample.conf:11: [unix_http_server] password: ignored: Ramona identifies clients of the unix socket by their uid, not a password
$DIR/sample.conf:13: [inet_http_server] not served (port=127.0.0.1:9001): Ramona's command line talks to the unix socket; for a web page add [program:web] command=<httpfend> listen=tcp://HOST:PORT (with username= and password= beyond loopback)
$DIR/sample.conf:25: [supervisord] silent: ignored: it has no meaning for Ramona
$DIR/sample.conf:27: [supervisord] minprocs: ignored: Ramona does not raise the process limit; set it where the server starts (LimitNPROC= in a systemd unit, ulimit -u)
$DIR/sample.conf:29: [supervisord] user: Ramona keeps running as the user that starts it; it runs the programs without their own user= as nobody
$DIR/sample.conf:30: [supervisord] identifier: ignored: it has no meaning for Ramona
$DIR/sample.conf:32: [supervisord] nocleanup: ignored: it has no meaning for Ramona
$DIR/sample.conf:34: [supervisord] strip_ansi: ignored: it has no meaning for Ramona
$DIR/sample.conf:42: [supervisorctl] username: ignored: Ramona identifies clients of the unix socket by their uid, not a password
$DIR/sample.conf:43: [supervisorctl] password: ignored: Ramona identifies clients of the unix socket by their uid, not a password
$DIR/sample.conf:44: [supervisorctl] prompt: ignored: the console's prompt is ramona>
$DIR/sample.conf:69: [program:theprogramname] stdout_capture_maxbytes: ignored: capture mode feeds event listeners, which Ramona does not run; logscan_stdout/logscan_stderr notify on keywords
$DIR/sample.conf:81: [eventlistener:theeventlistenername] not run: Ramona has no event listeners; it notifies by mail or webhook itself (FATAL, watchdog misses, log keywords: see [ramona:notify] and logscan)
$DIR/sample.conf:88: [fcgi-program:thefcgi] not run: Ramona does not create sockets for programs; run the program as a [program:x] that binds its own socket
$DIR/sample.conf:104: [include] files: no file matches $DIR/relative/directory/*.ini`)
}

// TestSupervisordConfD: Debian's supervisord.conf with the conf.d of an
// application, read through [include].
func TestSupervisordConfD(t *testing.T) {
	cfg, dir := loadSupervisordFixture(t, "etc/supervisord.conf")
	var included []string
	for _, f := range cfg.Included {
		included = append(included, strings.ReplaceAll(f, dir, "$DIR"))
	}
	checkLines(t, "included files", included, "$DIR/conf.d/10-web.conf\n$DIR/conf.d/20-workers.conf\n$DIR/conf.d/30-tools.conf")
	if len(cfg.Warnings) > 0 {
		t.Errorf("warnings for Debian's configuration: %v", cfg.Warnings)
	}
	if got := fmt.Sprintf("%s %s %s %s %v", cfg.Server.ConsoleURIs[0], cfg.Console.ServerURI, cfg.Server.PidFile, cfg.Server.Log, cfg.LogDir); got != strings.ReplaceAll("unix://$DIR/supervisor.sock unix://$DIR/supervisor.sock $DIR/supervisord.pid $DIR/log/supervisord.log $DIR/log", "$DIR", dir) {
		t.Errorf("global settings: %s", got)
	}
	var progs []string
	for _, p := range cfg.Programs {
		progs = append(progs, strings.ReplaceAll(describeProgram(p), dir, "$DIR"))
	}
	web := func(n int) string {
		return fmt.Sprintf("web-%d group=web prio=800 cmd=/srv/shop/venv/bin/gunicorn shop.wsgi --bind 127.0.0.1:800%[1]d --workers 2 dir=/srv/shop user=www-data umask=- autostart=true starttimeout=5s retries=3 autorestart=2 exitcodes=[0] stoptimeout=30s killby=SIGTERM processgroup=true stdout=file:$DIR/log/web-%[1]d.log stderr=merged log=20971520/5/false env= environment=DJANGO_SETTINGS_MODULE=shop.settings.production PORT=800%[1]d banners=false err=<nil>", n)
	}
	checkLines(t, "programs", progs, web(0)+"\n"+web(1)+"\n"+web(2)+"\n"+web(3)+"\n"+
		`nginx group=nginx prio=700 cmd=/usr/sbin/nginx -g "daemon off;" dir=$DIR user= umask=- autostart=true starttimeout=1s retries=3 autorestart=1 exitcodes=[0] stoptimeout=10s killby=SIGTERM processgroup=false stdout=console stderr=console log=52428800/10/false env= environment= banners=false err=<nil>
celery group=jobs prio=500 cmd=/srv/shop/venv/bin/celery -A shop worker --loglevel=INFO --hostname=celery@%h dir=/srv/shop user=www-data umask=- autostart=true starttimeout=1s retries=3 autorestart=2 exitcodes=[0] stoptimeout=10m0s killby=SIGTERM processgroup=true stdout=file:$DIR/log/celery-out.log stderr=file:$DIR/log/celery-err.log log=52428800/10/false env= environment=C_FORCE_ROOT=false banners=false err=<nil>
beat group=jobs prio=500 cmd=/srv/shop/venv/bin/celery -A shop beat --schedule=/var/lib/shop/beat.db dir=/srv/shop user=www-data umask=- autostart=true starttimeout=1s retries=3 autorestart=2 exitcodes=[0] stoptimeout=10s killby=SIGTERM processgroup=false stdout=null stderr=file:$DIR/log/beat.err log=52428800/10/false env= environment= banners=false err=<nil>
migrate group=migrate prio=900 cmd=/srv/shop/venv/bin/python manage.py migrate --noinput dir=/srv/shop user= umask=- autostart=true starttimeout=0s retries=3 autorestart=0 exitcodes=[0] stoptimeout=10s killby=SIGTERM processgroup=false stdout=file:$DIR/log/migrate-out.log stderr=file:$DIR/log/migrate-err.log log=52428800/10/false env= environment= banners=false err=<nil>
reindex group=reindex prio=1 cmd=/bin/sh -c 'exec /srv/shop/venv/bin/python manage.py reindex >> /var/log/reindex.log 2>&1' dir=$DIR user= umask=- autostart=false starttimeout=1s retries=3 autorestart=2 exitcodes=[0] stoptimeout=10s killby=SIGINT processgroup=false stdout=file:$DIR/log/reindex-out.log stderr=file:$DIR/log/reindex-err.log log=52428800/10/false env= environment= banners=false err=<nil>`)

	// The names in commands, as supervisorctl writes them.
	for _, tc := range []struct{ patterns, want string }{
		{"web:*", "web-0 web-1 web-2 web-3"},
		{"web", "web-0 web-1 web-2 web-3"},
		{"web:web-2", "web-2"},
		{"jobs:*", "celery beat"},
		{"jobs:celery nginx", "nginx celery"},
		{"celery", "celery"},
		{"web-[13]", "web-1 web-3"},
		{"*:beat", "beat"},
		{"*", "web-0 web-1 web-2 web-3 nginx celery beat migrate reindex"},
	} {
		got, err := selectPrograms(strings.Fields(tc.patterns), cfg.Programs)
		var names []string
		for _, p := range got {
			names = append(names, p.Name)
		}
		if err != nil || strings.Join(names, " ") != tc.want {
			t.Errorf("selectPrograms(%s) = %v, %v; want %s", tc.patterns, names, err, tc.want)
		}
	}
}

// supervisordErrorCases are errCases of supervisord's dialect: conf goes
// below a [supervisord] section of supervisord.conf.
var supervisordErrorCases = []errCase{
	{name: "priority not a number", prog: "a", conf: "[program:a]\ncommand=x\npriority=high\n",
		want: "$DIR/supervisord.conf:5: [program:a] priority: \"high\" is not a whole number"},
	{name: "startsecs keeps its name in errors", prog: "a", conf: "[program:a]\ncommand=x\nstartsecs=5x\n",
		want: "$DIR/supervisord.conf:5: [program:a] startsecs: \"5x\" is not a duration; use e.g. 500ms, 2s, 1m or a number of seconds"},
	{name: "stopsignal keeps its name in errors", prog: "a", conf: "[program:a]\ncommand=x\nstopsignal=NOPE\n",
		want: "$DIR/supervisord.conf:5: [program:a] stopsignal: \"NOPE\" is not a signal; use names such as TERM, INT, QUIT, HUP, KILL"},
	{name: "stopasgroup without killasgroup", prog: "a", conf: "[program:a]\ncommand=x\nstopasgroup=true\nkillasgroup=false\n",
		want: "$DIR/supervisord.conf:6: [program:a] killasgroup: stopasgroup=true needs killasgroup=true (supervisord refuses this too)"},
	{name: "redirect_stderr not a boolean", prog: "a", conf: "[program:a]\ncommand=x\nredirect_stderr=perhaps\n",
		want: "$DIR/supervisord.conf:5: [program:a] redirect_stderr: \"perhaps\" is not a yes/no value; use yes, no, on, off, true, false, 1 or 0"},
	{name: "numprocs without process_num", prog: "a", conf: "[program:a]\ncommand=x\nnumprocs=3\n",
		want: "$DIR/supervisord.conf:3: [program:a] process_name: numprocs=3 needs a name per process: write %(process_num)d in process_name, e.g. process_name=%(program_name)s_%(process_num)02d"},
	{name: "program without command", prog: "a", conf: "[program:a]\nautostart=false\n",
		want: "$DIR/supervisord.conf:3: [program:a] command: missing; every program needs a command (command=/path/to/program args)"},
	{name: "unknown expansion", prog: "a", conf: "[program:a]\ncommand=x %(nope)s\n",
		want: "$DIR/supervisord.conf:4: [program:a] command: %(nope)s refers to nope, which is set neither in [program:a] nor in [DEFAULT]"},
	{name: "bad log level", conf: "[program:a]\ncommand=x\n[supervisord]\nloglevel=loud\n",
		want: "$DIR/supervisord.conf:6: [supervisord] loglevel: \"loud\" is not a log level; use critical, error, warn, info, debug, trace or blather"},
	{name: "include without files", conf: "[include]\nfile=x\n",
		want: "$DIR/supervisord.conf:3: [include] missing files=; list the files to include, e.g. files = conf.d/*.conf"},
	{name: "socket without file", conf: "[unix_http_server]\nchmod=0700\n",
		want: "$DIR/supervisord.conf:3: [unix_http_server] missing file=; name the socket, e.g. file=/run/supervisor.sock"},
	{name: "socket mode not octal", conf: "[unix_http_server]\nfile=/run/s.sock\nchmod=999\n",
		want: "$DIR/supervisord.conf:5: [unix_http_server] chmod: \"999\" is not an octal mode such as 0700"},
	{name: "environment not pairs", conf: "[supervisord]\nenvironment=A=1 B=2\n",
		want: "$DIR/supervisord.conf:4: [supervisord] environment: \"A=1 B=2\" is not KEY=VALUE pairs (at \"B\"); separate the pairs with commas and quote values that hold characters other than letters, digits and _/.+-():, e.g. A=\"x y\",B=\"1,2\""},
	{name: "an included file that cannot be read", files: map[string]string{"supervisord.conf": "[supervisord]\n[include]\nfiles=conf.d/*\n", "conf.d/a.conf/x": ""},
		want: "$DIR/supervisord.conf:3: [include] files: cannot read $DIR/conf.d/a.conf: not a regular file"},
}

// supervisordWarningCases are the warnings of conf below [supervisord], or
// of files; $DIR is the directory.
var supervisordWarningCases = []struct{ name, conf, want string }{
	{"unknown key", "[program:a]\ncommand=x\nstartsec=3\n",
		"$DIR/supervisord.conf:5: [program:a] startsec: unknown key, ignored (did you mean startsecs?)"},
	{"stopwaitsecs=0", "[program:a]\ncommand=x\nstopwaitsecs=0\n",
		"$DIR/supervisord.conf:5: [program:a] stopwaitsecs: 0: Ramona sends SIGKILL 10ms after the stop signal"},
	{"killasgroup alone", "[program:a]\ncommand=x\nkillasgroup=true\n",
		"$DIR/supervisord.conf:5: [program:a] killasgroup: Ramona sends every signal of a stop to the same processes: with processgroup=yes the stop signal goes to the whole process group too, not only SIGKILL"},
	{"stderr_logfile with redirect_stderr", "[program:a]\ncommand=x\nredirect_stderr=true\nstderr_logfile=/tmp/a.err\n",
		"$DIR/supervisord.conf:6: [program:a] stderr_logfile: ignored: redirect_stderr=true sends stderr to stdout's log"},
	{"different rotation per stream", "[program:a]\ncommand=x\nstdout_logfile_maxbytes=1MB\nstderr_logfile_maxbytes=2MB\n",
		"$DIR/supervisord.conf:6: [program:a] stderr_logfile_maxbytes: Ramona rotates a program's log files alike: both use stdout_logfile_maxbytes"},
	{"stderr to the server's stdout", "[program:a]\ncommand=x\nstderr_logfile=/dev/stdout\n",
		"$DIR/supervisord.conf:5: [program:a] stderr_logfile: <console> writes a program's stderr to the server's stderr"},
	{"empty environment value", "[supervisord]\nenvironment=A=\"\",B=1\n",
		"$DIR/supervisord.conf:4: [supervisord] environment: A has an empty value, which removes A in Ramona's [env] (supervisord sets it empty)"},
	{"group priority against the programs' own",
		"[group:g]\nprograms=a\npriority=1\n[program:a]\ncommand=x\npriority=900\n[program:b]\ncommand=x\npriority=10\n",
		"$DIR/supervisord.conf:5: [group:g] priority: supervisord starts a (priority 900) before b (priority 10) by this group priority; Ramona orders programs by their own priority and starts b first"},
	{"nested include", "[include]\nfiles=a.conf\n",
		"$DIR/a.conf:2: [include] files: an [include] in an included file is not followed (nor by supervisord); move its files= to $DIR/supervisord.conf"},
	{"no file matches", "[include]\nfiles=conf.d/*.conf other.conf\n",
		"$DIR/supervisord.conf:4: [include] files: no file matches $DIR/conf.d/*.conf\n$DIR/supervisord.conf:4: [include] files: no file matches $DIR/other.conf"},
	{"syslog", "[supervisord]\nlogfile=syslog\n[program:a]\ncommand=x\nstdout_syslog=true\nstderr_logfile=syslog\n",
		"$DIR/supervisord.conf:4: [supervisord] logfile: Ramona does not log to syslog; the server log goes to LOGDIR/ramona.log (`ramona daemon` logs to stderr, which systemd keeps in the journal)\n" +
			"$DIR/supervisord.conf:7: [program:a] stdout_syslog: ignored: Ramona does not log to syslog; <console> (the server's stdout/stderr, which systemd keeps in the journal) comes closest\n" +
			"$DIR/supervisord.conf:8: [program:a] stderr_logfile: Ramona does not log to syslog; using <console> (the server's stdout/stderr, which systemd keeps in the journal)"},
	{"unknown section", "[something]\nx=1\n",
		"$DIR/supervisord.conf:3: [something] unknown section, ignored"},
}

func TestSupervisordErrors(t *testing.T) {
	for _, tc := range supervisordErrorCases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.files == nil {
				conf := "[supervisord]\n\n" + tc.conf
				if tc.prog != "" {
					conf += otherProgram
				}
				tc.files = map[string]string{"supervisord.conf": conf}
			}
			tc.args = []string{"supervisord.conf"}
			checkErrCase(t, tc)
		})
	}
	for _, tc := range supervisordWarningCases {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{"supervisord.conf": "[supervisord]\n\n" + tc.conf, "a.conf": "[include]\nfiles=b.conf\n"}
			cfg, dir, err := loadFiles(t, files, []string{"supervisord.conf"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(warningTexts(cfg, dir), "\n"); got != tc.want {
				t.Errorf("warnings\n got: %s\nwant: %s", got, tc.want)
			}
			if err := programErrors(cfg); err != nil {
				t.Errorf("program errors: %v", err)
			}
		})
	}
}

// TestSupervisordSocket: the control socket from [unix_http_server] file,
// else from [supervisorctl] serverurl.
func TestSupervisordSocket(t *testing.T) {
	for _, tc := range []struct{ conf, want string }{
		{"[unix_http_server]\nfile=/run/a.sock\nchmod=0770\n[supervisorctl]\nserverurl=unix:///run/a.sock\n", "unix:///run/a.sock 0770 unix:///run/a.sock"},
		{"[supervisorctl]\nserverurl=unix://%(here)s/b.sock\n", "unix://$DIR/b.sock 0600 unix://$DIR/b.sock"},
		{"[unix_http_server]\nfile=c.sock\n", "unix://$DIR/c.sock 0600 unix://$DIR/c.sock"},
		{"[supervisord]\n", "unix://$DIR/.ramona.sock 0600 unix://$DIR/.ramona.sock"},
	} {
		cfg, dir, err := loadFiles(t, map[string]string{"s.conf": tc.conf}, []string{"s.conf"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		u := cfg.Server.ConsoleURIs[0]
		if got := strings.ReplaceAll(fmt.Sprintf("%s %04o %s", u, u.Mode, cfg.Console.ServerURI), dir, "$DIR"); len(cfg.Server.ConsoleURIs) != 1 || got != tc.want {
			t.Errorf("%q: %s; want %s", tc.conf, got, tc.want)
		}
	}
}

// TestSupervisordDetection: only supervisord's own sections select its
// dialect; a Ramona file is not affected by a [program:x] alone.
func TestSupervisordDetection(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"[supervisord]\n", true},
		{"; comment\n  [ supervisorctl ] ; x\n", true},
		{"[unix_http_server]\nfile=/x\n", true},
		{"[inet_http_server]\nport=1\n", true},
		{"[program:a]\ncommand=x\nstartsecs=1\n", false},
		{"[general]\n; [supervisord]\n", false},
		{"[supervisord:x]\n", false},
	} {
		if got := isSupervisordConfig([]byte(tc.text)); got != tc.want {
			t.Errorf("isSupervisordConfig(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}

// debianPython is Debian's Python, which has supervisor's modules (the
// python3 on PATH may be another one).
func debianPython(t *testing.T) string {
	t.Helper()
	skipInShort(t, "supervisor's Python modules")
	const py = "/usr/bin/python3"
	needPeerCheck(t, "supervisor's Python modules", "supervisor", func() error {
		return exec.Command(py, "-c", "import supervisor.datatypes").Run()
	})
	return py
}

// python runs a Python program with a JSON input on stdin and decodes its
// JSON output into out.
func python(t *testing.T, py, program string, in, out any) {
	t.Helper()
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-c", program)
	cmd.Stdin = strings.NewReader(string(data))
	res, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v", err)
	}
	if err := json.Unmarshal(res, out); err != nil {
		t.Fatalf("python output %s: %v", res, err)
	}
}

// TestEnvironmentSyntaxLikeSupervisord checks parseEnvironment against
// supervisor.datatypes.dict_of_key_value_pairs itself.
func TestEnvironmentSyntaxLikeSupervisord(t *testing.T) {
	t.Parallel()
	py := debianPython(t)
	inputs := []string{`A=1`, `A=1,B=2`, `A="x y",B='1,2'`, `A = 1 , B = 2`, `PATH="/usr/bin:/bin",HOME=/root`,
		`A=/a:b/c-d.e+f(g)`, `A=""`, `A="it's"`, `A='say "hi"'`, `A=1;B=2`, `A=x#comment`, `A=1,`, ``, `A="x"y,B=1`,
		`A=a@b`, `A`, `A=`, `=1`, `A="unclosed`, `A=1 B=2`, `A=é`, `KEY1="value1",KEY2="value two"`, `A="x",,B=2`, `A=x y`, `A=1,B=2 3`}
	var want []struct {
		Vars  [][2]string `json:"vars"`
		Error string      `json:"error"`
	}
	python(t, py, `
import json, sys
from supervisor.datatypes import dict_of_key_value_pairs
out = []
for s in json.load(sys.stdin):
    try:
        out.append({"vars": [[k, v] for k, v in dict_of_key_value_pairs(s).items()], "error": ""})
    except Exception as e:
        out.append({"vars": [], "error": str(e)})
print(json.dumps(out))
`, inputs, &want)
	// Where supervisord silently drops what follows a value ("A=x y"
	// gives A=x), Ramona says so.
	stricter := map[string]bool{`A=x y`: true, `A=1,B=2 3`: true}
	for i, in := range inputs {
		vars, err := parseEnvironment(in)
		var got [][2]string
		for _, v := range vars {
			got = append(got, [2]string{v.Name, v.Value})
		}
		w := want[i]
		switch {
		case w.Error != "" && err == nil:
			t.Errorf("%q: supervisord refuses it (%s), Ramona reads %v", in, w.Error, got)
		case w.Error == "" && err != nil && !stricter[in]:
			t.Errorf("%q: supervisord reads %v, Ramona refuses it: %v", in, w.Vars, err)
		case w.Error == "" && err == nil && fmt.Sprint(got) != fmt.Sprint(w.Vars) && !(len(got) == 0 && len(w.Vars) == 0):
			t.Errorf("%q: Ramona reads %v, supervisord %v", in, got, w.Vars)
		case stricter[in] && err == nil:
			t.Errorf("%q: Ramona reads %v; want an error (supervisord reads %v and drops the rest)", in, got, w.Vars)
		}
	}
}

// TestCommandSplitLikeSupervisord: a supervisord command, rewritten by
// shlexToRamona and split by Ramona, gives the words Python's shlex.split
// gives (supervisord does no $ expansion).
func TestCommandSplitLikeSupervisord(t *testing.T) {
	t.Parallel()
	py := debianPython(t)
	inputs := []string{`/bin/cat a b`, `sh -c "echo $HOME \$x \"q\" \\ \n"`, `sh -c 'echo $HOME "x"'`, `a\ b c\$d`,
		`x "a$b" '$c' $d ${e}`, "tab\tsep  spaces", `x "\` + "`" + `id\` + "`" + `"`, `x "" ''`, `p --opt="a b" -k'v w'`,
		`echo 100% "50%"`, `x \\$y`, `a"b"c'd'e`}
	var want [][]string
	python(t, py, `
import json, shlex, sys
print(json.dumps([shlex.split(s) for s in json.load(sys.stdin)]))
`, inputs, &want)
	for i, in := range inputs {
		conv := shlexToRamona(in)
		got, err := splitCommand(conv, func(name string) (string, bool) { return "EXPANDED", true })
		if err != nil || fmt.Sprint(got) != fmt.Sprint(want[i]) || len(got) != len(want[i]) {
			t.Errorf("%q -> %q: Ramona splits %q (%v), shlex %q", in, conv, got, err, want[i])
		}
	}
}

// TestConversionsLikePython: %(name)... conversions give what Python's %
// operator gives.
func TestConversionsLikePython(t *testing.T) {
	t.Parallel()
	py := debianPython(t)
	type tc struct {
		Spec  string `json:"spec"`
		Value string `json:"value"`
	}
	var cases []tc
	for _, spec := range []string{"s", "5s", "-5s", ".2s", "5.1s", "d", "02d", "5d", "-5d", "+d", " d", "05d", "+05d", ".3d", "8.3d", "x", "X", "#x", "#X", "o", "#o", "i", "u", "-08d"} {
		for _, v := range []string{"7", "42", "-3", "1234567"} {
			cases = append(cases, tc{spec, v})
		}
	}
	for _, v := range []string{"", "web", "héllo"} {
		cases = append(cases, tc{"s", v}, tc{"6s", v}, tc{"-6s", v}, tc{".2s", v})
	}
	var want []string
	python(t, py, `
import json, sys
out = []
for c in json.load(sys.stdin):
    v = c["value"]
    if c["spec"][-1] != "s":
        v = int(v)
    out.append(("%(v)" + c["spec"]) % {"v": v})
print(json.dumps(out))
`, cases, &want)
	for i, c := range cases {
		conv, n := readConversion(c.Spec)
		if n != len(c.Spec) {
			t.Errorf("readConversion(%q) read %d bytes", c.Spec, n)
			continue
		}
		got, err := conv.format(c.Value)
		if err != nil || got != want[i] {
			t.Errorf("%%(v)%s of %q = %q (%v); Python gives %q", c.Spec, c.Value, got, err, want[i])
		}
	}
}

// convertFiles runs `ramona convert` on files and returns its exit code,
// output and warnings.
func convertFiles(t *testing.T, files ...string) (int, string, string) {
	t.Helper()
	var out, errb strings.Builder
	code := run(append([]string{"convert"}, files...), strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// TestConvert: the output of `ramona convert`, written elsewhere, loads
// without errors or warnings into the same configuration as reading
// supervisord's files directly.
func TestConvert(t *testing.T) {
	for _, fixture := range []string{"sample.conf", "etc/supervisord.conf"} {
		t.Run(fixture, func(t *testing.T) {
			direct, _ := loadSupervisordFixture(t, fixture)
			abs, _ := filepath.Abs(filepath.Join("testdata/supervisord", fixture))
			code, out, warnings := convertFiles(t, abs)
			if code != 0 {
				t.Fatalf("convert: exit %d\n%s", code, warnings)
			}
			if got, want := strings.Count(warnings, "ramona: warning: "), len(direct.Warnings); got != want {
				t.Errorf("convert printed %d warnings, loading gives %d:\n%s", got, want, warnings)
			}
			conf := filepath.Join(t.TempDir(), "elsewhere", "ramona.conf")
			writeFiles(t, filepath.Dir(conf), map[string]string{"ramona.conf": out})
			converted, err := loadConfig([]string{conf}, testEnviron)
			if err != nil {
				t.Fatalf("the converted configuration does not load: %v\n%s", err, out)
			}
			if len(converted.Warnings) > 0 {
				t.Errorf("the converted configuration has warnings: %v", converted.Warnings)
			}
			if err := sameConfig(direct, converted); err != nil {
				t.Errorf("%v\n%s", err, out)
			}
			for _, p := range converted.Programs {
				if p.Directory == "" {
					t.Errorf("program %s: no directory in the converted file", p.Name)
				}
			}
			if !strings.Contains(out, "; from "+abs) || !strings.Contains(out, "startsecs") && fixture != "sample.conf" {
				t.Errorf("the output does not say where its values came from:\n%s", out)
			}
		})
	}
}

// TestConvertGolden pins the text of a conversion, which an operator reads
// and keeps.
func TestConvertGolden(t *testing.T) {
	hermetic(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"supervisord.conf": "[unix_http_server]\nfile=%(here)s/s.sock\n\n[supervisord]\nchildlogdir=%(here)s/log\nenvironment=TZ=UTC,SEP=\"a;b\"\n\n[include]\nfiles=conf.d/*.conf\n",
		"conf.d/app.conf": "[program:app]\ncommand=/opt/app/run --port 90%(process_num)02d \"$HOME\"\nnumprocs=2\nprocess_name=app_%(process_num)d\n" +
			"startsecs=3\nstopsignal=INT\nstopasgroup=true\nredirect_stderr=true\nstdout_logfile=%(here)s/../log/app_%(process_num)d.log\npriority=10\n",
	})
	code, out, warnings := convertFiles(t, filepath.Join(dir, "supervisord.conf"))
	if code != 0 || warnings != "" {
		t.Fatalf("convert: exit %d, warnings %q", code, warnings)
	}
	want := `; Ramona's configuration, converted by ` + "`ramona convert`" + ` from supervisord's:
;   $DIR/supervisord.conf
;   $DIR/conf.d/app.conf
; Each value says where it came from; see "Migrating from supervisord" in
; Ramona's README for what changes.

[DEFAULT]
autorestart=unexpected                   ; supervisord's default
starttimeout=1                           ; supervisord's default
stoptimeout=10                           ; supervisord's default
killby=TERM                              ; supervisord's default
processgroup=no                          ; supervisord's default
priority=1                               ; supervisord's default
stdout=<logdir>                          ; supervisord's default
stderr=<logdir>                          ; supervisord's default
logmaxsize=50MB                          ; supervisord's default
logbackups=10                            ; supervisord's default
logcompress=no                           ; supervisord's default
logbanners=no                            ; supervisord's default
directory=$DIR                           ; supervisord starts programs in its own working directory; Ramona in this one

[general]
include=""                               ; supervisord's files read no <siteconf>
logdir=$DIR/log                          ; line 5 childlogdir

[ramona:server]
; from $DIR/supervisord.conf:1
consoleuri=unix://$DIR/s.sock            ; line 2 file

[env]
; from $DIR/supervisord.conf:4
TZ=UTC                                   ; line 6 environment
; line 6 environment
SEP=a;b

[program:app]
; from $DIR/conf.d/app.conf:1
command=/opt/app/run --port 90%(process_num)02d "$$HOME" ; line 2
numprocs=2                               ; line 3
process_name=app_%(process_num)d         ; line 4
starttimeout=3                           ; line 5 startsecs
killby=INT                               ; line 6 stopsignal
processgroup=yes                         ; line 7 stopasgroup
stdout=$DIR/conf.d/../log/app_%(process_num)d.log ; line 9 stdout_logfile
stderr=<stdout>                          ; line 8 redirect_stderr
priority=990                             ; line 10
`
	// The comments line up at column 42 unless the value is longer, as
	// the temporary directory's name makes some.
	aligned := regexp.MustCompile(` +; `)
	if got := aligned.ReplaceAllString(strings.ReplaceAll(out, dir, "$DIR"), " ; "); got != aligned.ReplaceAllString(want, " ; ") {
		t.Errorf("convert output\n got:\n%s\nwant:\n%s", got, want)
	}
}

// TestConvertCommandLine: usage and errors of `ramona convert`.
func TestConvertCommandLine(t *testing.T) {
	hermetic(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"broken.conf": "[supervisord]\n[program:a]\ncommand=x\npriority=high\n",
		"confd.conf":  "[program:b]\ncommand=/bin/b\nstartsecs=2\n",
	})
	for _, tc := range []struct {
		args           []string
		code           int
		stdout, stderr string
	}{
		{nil, exitUsage, "", "ramona: " + convertUsage + "\n"},
		{[]string{"-x", "a.conf"}, exitUsage, "", "ramona: convert -x: unknown option\nusage: ramona convert FILE...\n`ramona help convert` explains it\n"},
		{[]string{dir + "/nosuch.conf"}, exitUsage, "", "ramona: " + dir + "/nosuch.conf: cannot read it: no such file or directory\n"},
		{[]string{dir + "/broken.conf"}, exitUsage, "", "ramona: the configuration has errors; fix them and convert again:\n" + dir + "/broken.conf:4: [program:a] priority: \"high\" is not a whole number\n"},
	} {
		code, out, errOut := convertFiles(t, tc.args...)
		if code != tc.code || out != tc.stdout || errOut != tc.stderr {
			t.Errorf("convert %q: exit %d\nstdout %q\nstderr %q\nwant exit %d\nstdout %q\nstderr %q", tc.args, code, out, errOut, tc.code, tc.stdout, tc.stderr)
		}
	}
	// A conf.d file alone is supervisord's too: convert does not need the
	// [supervisord] section to read it.
	code, out, _ := convertFiles(t, dir+"/confd.conf")
	if code != 0 || !strings.Contains(out, "[program:b]\n") || !strings.Contains(out, "starttimeout=2") {
		t.Errorf("convert of a conf.d file: exit %d\n%s", code, out)
	}
}
