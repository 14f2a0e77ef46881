// Config owns the typed configuration: Config, ProgramConfig and friends, the
// table of every key with its default (the one place defaults live), the
// loading of files with includes, every check at load time with file:line,
// and diff(old, new) for reload. The INI dialect itself is in ini.go, the
// syntax of single values in configvalues.go.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"time"
)

// LogPolicy says when and how a log file rotates.
type LogPolicy struct {
	MaxSize  int64 // bytes before rotation; 0 never rotates (<inf>)
	Backups  int   // rotated files kept; -1 keeps all (<inf>)
	Compress bool  // gzip backups .2 and older
}

// ConfigError is one problem in the configuration, with where it is.
type ConfigError struct {
	File    string
	Line    int
	Section string
	Key     string
	Msg     string
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Section != "" {
		fmt.Fprintf(&b, "[%s] ", e.Section)
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ConfigErrors is every error of one load, reported together.
type ConfigErrors []*ConfigError

func (es ConfigErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Config is everything Ramona reads from its configuration files.
type Config struct {
	Files    []string // the files named by -c / $RAMONA_CONFIG, absolute (RAMONA_CONFIG for children)
	Included []string // files read through include, absolute
	AppName  string
	LogDir   string    // absolute
	Log      LogPolicy // [general] logmaxsize, logbackups, logcompress
	Server   ServerConfig
	Console  ConsoleConfig
	Notify   NotifyConfig
	Programs []*ProgramConfig // in order of first appearance
	Tools    []*ToolConfig
	Warnings []*ConfigError // unknown keys and other things that do not stop anything
}

// ServerConfig is [ramona:server].
type ServerConfig struct {
	ConsoleURIs []SocketURI
	PidFile     string // absolute; "" writes none
	Log         string // absolute; "" when the server logs only to stderr
	LogLevel    LogLevel
}

// ConsoleConfig is [ramona:console].
type ConsoleConfig struct {
	ServerURI SocketURI
	History   string // absolute; "" keeps no history
}

// NotifyConfig is [ramona:notify].
type NotifyConfig struct {
	Delivery      *SMTPDelivery // nil: no mail is sent
	Sender        string
	Receivers     []string
	DailyAt       time.Duration // time of day after midnight
	NotifyFatal   NotifyTarget
	LogScanStdout []LogScanRule // defaults for programs (from logscan_stdout, else logscan)
	LogScanStderr []LogScanRule
	StashDir      string // absolute; "" keeps the digest in memory only
}

// SMTPDelivery is where mail goes.
type SMTPDelivery struct {
	Implicit bool   // smtps://: TLS from the first byte
	StartTLS string // "starttls" (use it when offered) or "none"
	Host     string
	Port     int
	User     string
	Password Secret
}

// Secret is a value that must never be shown: it prints as "***".
type Secret string

func (s Secret) String() string   { return redact(string(s)) }
func (s Secret) GoString() string { return redact(string(s)) }
func (s Secret) MarshalText() ([]byte, error) {
	return []byte(redact(string(s))), nil
}

func redact(s string) string {
	if s == "" {
		return ""
	}
	return "***"
}

// NotifyTarget says when and to whom a notification goes.
type NotifyTarget struct {
	When string   // "now", "daily", or "" for no notification
	To   []string // addresses; empty means [ramona:notify] receiver
}

// LogScanRule is one `keyword>target` of a logscan key.
type LogScanRule struct {
	Keyword string // lower case; matched case-insensitively
	Target  NotifyTarget
}

// OutputKind says where one output stream of a program goes.
type OutputKind int

const (
	OutNull    OutputKind = iota // discarded (still kept in the in-memory tail)
	OutFile                      // appended to Path, rotated
	OutConsole                   // the server's own stdout/stderr, prefixed "NAME | "
	OutMerged                    // joins the other stream (stdout=<stderr> or stderr=<stdout>)
)

// OutputTarget is a resolved stdout or stderr key.
type OutputTarget struct {
	Kind OutputKind
	Path string // OutFile only, absolute
}

// RestartPolicy is the autorestart key.
type RestartPolicy int

const (
	RestartNo RestartPolicy = iota
	RestartYes
	RestartUnexpected
)

// ReadyMode is the ready key.
type ReadyMode int

const (
	ReadyTimeout ReadyMode = iota // RUNNING after starttimeout
	ReadyNotify                   // RUNNING when the program sends READY=1
)

// EnvVar is one entry of an [env] section: set Name=Value, or remove Name.
type EnvVar struct {
	Name  string
	Value string
	Unset bool
}

// ProgramConfig is one [program:NAME] section, resolved and checked.
type ProgramConfig struct {
	Name    string
	File    string // where the section starts
	Line    int
	Err     error  // non-nil: the section is broken and the program is CFGERROR
	BaseDir string // directory of the file that defines the section

	Command      string // as written; split and $VAR-expanded at each start
	HTTPFrontend bool   // command=<httpfend>
	Directory    string // as written; expanded at each start; "" is BaseDir
	Umask        int    // -1 inherits the server's
	User         string
	UID, GID     uint32
	Groups       []uint32
	HomeDir      string
	EnvName      string   // "" is [env]
	Env          []EnvVar // the selected [env] set
	Priority     int
	Disabled     bool
	AutoStart    bool
	StartTimeout time.Duration
	StartRetries int
	AutoRestart  RestartPolicy
	ExitCodes    []int
	StopTimeout  time.Duration
	KillBy       []syscall.Signal
	ProcessGroup bool
	CoreDump     bool
	Stdout       OutputTarget
	Stderr       OutputTarget
	Log          LogPolicy
	LogScanStdout,
	LogScanStderr []LogScanRule
	NotifyFatal    NotifyTarget
	Ready          ReadyMode
	ReadyTimeout   time.Duration
	Watchdog       time.Duration // 0 is off
	NotifyWatchdog NotifyTarget
	Essential      bool
	LogTimestamp   bool

	// The web frontend's own keys (command=<httpfend>).
	Listen   []SocketURI
	Username string
	Password Secret
	LogLevel LogLevel
}

// ToolConfig is one [tool:NAME] section.
type ToolConfig struct {
	Name      string
	File      string
	Line      int
	Err       error
	BaseDir   string
	Command   string
	Directory string
	EnvName   string
	Env       []EnvVar
	Help      string
}

// keySpec is one key of a section: its name, its default in config syntax,
// and how a value is checked and stored. These tables are the one place
// where defaults live.
type keySpec[T any] struct {
	key string
	def string
	set func(r *sectionReader, t T, v string) error
}

var generalKeys = []keySpec[*Config]{
	{"appname", "ramona", func(r *sectionReader, c *Config, v string) error {
		if v == "" || strings.ContainsAny(v, "/ \t") {
			return fmt.Errorf("%q is not usable as a name in file names; use letters, digits, '-' or '_'", v)
		}
		c.AppName = v
		return nil
	}},
	{"include", "<siteconf>", func(*sectionReader, *Config, string) error { return nil }}, // read while loading
	{"logdir", "<env>", func(r *sectionReader, c *Config, v string) error {
		switch {
		case v == "<env>":
			if d := r.env("LOGDIR"); d != "" {
				c.LogDir = resolvePath(d, r.baseDir())
			} else {
				c.LogDir = r.ld.mainDir
			}
		case strings.HasPrefix(v, "<"):
			return fmt.Errorf("%q is not a directory; use a path or <env> ($LOGDIR, else the config file's directory)", v)
		default:
			c.LogDir = resolvePath(v, r.baseDir())
		}
		return nil
	}},
	{"logmaxsize", "512MiB", func(r *sectionReader, c *Config, v string) (err error) {
		c.Log.MaxSize, err = parseLogSize(v)
		return err
	}},
	{"logbackups", "3", func(r *sectionReader, c *Config, v string) (err error) {
		c.Log.Backups, err = parseBackups(v)
		return err
	}},
	{"logcompress", "on", func(r *sectionReader, c *Config, v string) (err error) {
		c.Log.Compress, err = parseBool(v)
		return err
	}},
}

var serverKeys = []keySpec[*Config]{
	{"consoleuri", "unix://.ramona.sock", func(r *sectionReader, c *Config, v string) error {
		uris, err := parseSocketURIs(v, r.baseDir(), uriListen)
		c.Server.ConsoleURIs = uris
		return err
	}},
	{"pidfile", "", func(r *sectionReader, c *Config, v string) error {
		if v == "" {
			return nil
		}
		var missing []string
		v = expandVars(v, func(name string) string {
			val, ok := r.ld.environ[name]
			if !ok {
				missing = append(missing, name)
			}
			return val
		})
		if len(missing) > 0 { // "${TMP}/x.pid" must not become "/x.pid"
			return fmt.Errorf("$%s is not set in the server's environment; set it before starting ramona, or write the path", missing[0])
		}
		c.Server.PidFile = resolvePath(v, r.baseDir())
		return nil
	}},
	{"log", "<logdir>", func(r *sectionReader, c *Config, v string) error {
		switch {
		case v == "<null>" || v == "<none>" || v == "":
			c.Server.Log = ""
		case v == "<logdir>":
			c.Server.Log = filepath.Join(c.LogDir, "ramona.log")
		case strings.HasPrefix(v, "<logdir>/"):
			c.Server.Log = filepath.Join(c.LogDir, strings.TrimPrefix(v, "<logdir>/"))
		case strings.HasPrefix(v, "<"):
			return fmt.Errorf("%q is not a log destination; use a path, <logdir>, <logdir>/NAME or <null>", v)
		default:
			c.Server.Log = resolvePath(v, r.baseDir())
		}
		return nil
	}},
	{"loglevel", "INFO", func(r *sectionReader, c *Config, v string) (err error) {
		c.Server.LogLevel, err = parseLogLevel(v)
		return err
	}},
}

var consoleKeys = []keySpec[*Config]{
	{"serveruri", "", func(r *sectionReader, c *Config, v string) error {
		if v == "" { // default: the server's first unix or tcp address
			for _, u := range c.Server.ConsoleURIs {
				if u.Scheme == "unix" || u.Scheme == "tcp" {
					c.Console.ServerURI = u
					return nil
				}
			}
			v = "unix://.ramona.sock"
		}
		uris, err := parseSocketURIs(v, r.baseDir(), uriConnect)
		if err != nil {
			return err
		}
		if len(uris) != 1 {
			return fmt.Errorf("%q names %d addresses; give exactly one", v, len(uris))
		}
		c.Console.ServerURI = uris[0]
		return nil
	}},
	{"history", "", func(r *sectionReader, c *Config, v string) error {
		if v != "" {
			c.Console.History = resolvePath(v, r.baseDir())
		}
		return nil
	}},
}

var notifyKeys = []keySpec[*Config]{
	{"delivery", "", func(r *sectionReader, c *Config, v string) (err error) {
		if v != "" {
			c.Notify.Delivery, err = parseDelivery(v)
		}
		return err
	}},
	{"sender", "<user>", func(r *sectionReader, c *Config, v string) error {
		if v == "<user>" {
			v = defaultSender()
		}
		c.Notify.Sender = v
		return nil
	}},
	{"receiver", "", func(r *sectionReader, c *Config, v string) (err error) {
		c.Notify.Receivers, err = parseAddressList(v)
		if err == nil && c.Notify.Delivery != nil && len(c.Notify.Receivers) == 0 {
			r.at = r.ld.doc.get(r.sec, "delivery") // point at the delivery, wherever it was set
			return errors.New("missing; delivery is set, so mail needs at least one receiver address (receiver=ops@example.com)")
		}
		return err
	}},
	{"dailyat", "09:00", func(r *sectionReader, c *Config, v string) (err error) {
		c.Notify.DailyAt, err = parseTimeOfDay(v)
		return err
	}},
	{"notify_fatal", "now", func(r *sectionReader, c *Config, v string) (err error) {
		c.Notify.NotifyFatal, err = parseNotifyTarget(v)
		return err
	}},
	{"logscan", "error>daily,fatal>daily,exception>daily", func(r *sectionReader, c *Config, v string) (err error) {
		rules, err := parseLogScan(v)
		c.Notify.LogScanStdout, c.Notify.LogScanStderr = rules, rules
		return err
	}},
	{"logscan_stdout", "", func(r *sectionReader, c *Config, v string) (err error) {
		if v != "" {
			c.Notify.LogScanStdout, err = parseLogScan(v)
		}
		return err
	}},
	{"logscan_stderr", "", func(r *sectionReader, c *Config, v string) (err error) {
		if v != "" {
			c.Notify.LogScanStderr, err = parseLogScan(v)
		}
		return err
	}},
	{"stashdir", "<none>", func(r *sectionReader, c *Config, v string) error {
		if v != "<none>" && v != "" {
			c.Notify.StashDir = resolvePath(v, r.baseDir())
		}
		return nil
	}},
}

// programKeys is every key of [program:NAME], in the order they are checked
// (stdout before stderr, since each decides the other's file name).
var programKeys = []keySpec[*ProgramConfig]{
	{"command", "", func(r *sectionReader, p *ProgramConfig, v string) error {
		if v == "" {
			return errors.New("missing; every program needs a command (command=/path/to/program args)")
		}
		if v == "<httpfend>" {
			p.HTTPFrontend = true
		} else if strings.HasPrefix(v, "<") && strings.HasSuffix(v, ">") {
			return fmt.Errorf("%q is not a built-in command; the only one is <httpfend>", v)
		} else if _, err := splitCommand(v, func(string) (string, bool) { return "x", true }); err != nil {
			return err
		}
		p.Command = v
		return nil
	}},
	{"directory", "", func(r *sectionReader, p *ProgramConfig, v string) error {
		p.Directory = v
		return nil
	}},
	{"umask", "", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.Umask = -1
		if v != "" {
			p.Umask, err = parseUmask(v)
		}
		return err
	}},
	{"user", "", func(r *sectionReader, p *ProgramConfig, v string) error {
		if v == "" {
			return nil
		}
		u, err := lookupUser(v)
		if err != nil {
			return err
		}
		p.User, p.UID, p.GID, p.Groups, p.HomeDir = u.name, u.uid, u.gid, u.groups, u.home
		return nil
	}},
	{"env", "", func(r *sectionReader, p *ProgramConfig, v string) error {
		name := strings.TrimPrefix(v, "&") // the Python original wrote env=&NAME
		vars, ok := r.ld.envSets[name]
		if !ok {
			return fmt.Errorf("there is no [env:%s] section; define it or remove env=", name)
		}
		p.EnvName, p.Env = name, vars
		return nil
	}},
	{"priority", "100", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.Priority, err = parseInt(v, -1<<31, 1<<31-1)
		return err
	}},
	{"disabled", "no", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.Disabled, err = parseBool(v)
		return err
	}},
	{"autostart", "yes", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.AutoStart, err = parseBool(v)
		return err
	}},
	{"starttimeout", "0.5s", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.StartTimeout, err = parseDuration(v)
		return err
	}},
	{"startretries", "3", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.StartRetries, err = parseInt(v, 0, 1000)
		return err
	}},
	{"autorestart", "no", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.AutoRestart, err = parseRestartPolicy(v)
		return err
	}},
	{"exitcodes", "0", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.ExitCodes, err = parseExitCodes(v)
		return err
	}},
	{"stoptimeout", "3s", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.StopTimeout, err = parseDuration(v)
		if err == nil && p.StopTimeout <= 0 {
			return errors.New("must be more than 0 (the time between kill signals)")
		}
		return err
	}},
	{"killby", "TERM,INT,TERM,INT,TERM,INT,KILL", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.KillBy, err = parseSignals(v)
		return err
	}},
	{"processgroup", "yes", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.ProcessGroup, err = parseBool(v)
		return err
	}},
	{"coredump", "no", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.CoreDump, err = parseBool(v)
		return err
	}},
	{"stdin", "<null>", func(r *sectionReader, p *ProgramConfig, v string) error {
		if v != "<null>" {
			return fmt.Errorf("%q is not supported; programs read from <null> (/dev/null)", v)
		}
		return nil
	}},
	{"stdout", "<stderr>", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.Stdout, err = parseOutput(v, "stdout", r)
		return err
	}},
	{"stderr", "<logdir>", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.Stderr, err = parseOutput(v, "stderr", r)
		return err
	}},
	{"logmaxsize", "", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.Log.MaxSize = r.ld.cfg.Log.MaxSize
		if v != "" {
			p.Log.MaxSize, err = parseLogSize(v)
		}
		return err
	}},
	{"logbackups", "", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.Log.Backups = r.ld.cfg.Log.Backups
		if v != "" {
			p.Log.Backups, err = parseBackups(v)
		}
		return err
	}},
	{"logcompress", "", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.Log.Compress = r.ld.cfg.Log.Compress
		if v != "" {
			p.Log.Compress, err = parseBool(v)
		}
		return err
	}},
	{"logscan_stdout", "<global>", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.LogScanStdout = r.ld.cfg.Notify.LogScanStdout
		if v != "<global>" {
			p.LogScanStdout, err = parseLogScan(v)
		}
		return err
	}},
	{"logscan_stderr", "<global>", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.LogScanStderr = r.ld.cfg.Notify.LogScanStderr
		if v != "<global>" {
			p.LogScanStderr, err = parseLogScan(v)
		}
		return err
	}},
	{"notify_fatal", "<global>", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.NotifyFatal, err = parseProgramNotifyTarget(v, r.ld.cfg.Notify.NotifyFatal)
		return err
	}},
	{"ready", "timeout", func(r *sectionReader, p *ProgramConfig, v string) error {
		switch strings.ToLower(v) {
		case "timeout":
			p.Ready = ReadyTimeout
		case "notify":
			p.Ready = ReadyNotify
		default:
			return fmt.Errorf("%q is not a readiness mode; use timeout (RUNNING after starttimeout) or notify (RUNNING on READY=1)", v)
		}
		return nil
	}},
	{"readytimeout", "90s", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.ReadyTimeout, err = parseDuration(v)
		return err
	}},
	{"watchdog", "off", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		if b, berr := parseBool(v); berr == nil && !b {
			p.Watchdog = 0
			return nil
		}
		p.Watchdog, err = parseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is neither off nor a duration (e.g. 10s)", v)
		}
		return nil
	}},
	{"notify_watchdog", "<global>", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.NotifyWatchdog, err = parseProgramNotifyTarget(v, r.ld.cfg.Notify.NotifyFatal)
		return err
	}},
	{"essential", "no", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.Essential, err = parseBool(v)
		return err
	}},
	{"logtimestamp", "no", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.LogTimestamp, err = parseBool(v)
		return err
	}},
	{"listen", "tcp://127.0.0.1:5588", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		if p.HTTPFrontend {
			p.Listen, err = parseSocketURIs(v, r.baseDir(), uriWeb)
		}
		return err
	}},
	{"username", "", func(r *sectionReader, p *ProgramConfig, v string) error {
		p.Username = v
		return nil
	}},
	{"password", "", func(r *sectionReader, p *ProgramConfig, v string) error {
		p.Password = Secret(v)
		if p.HTTPFrontend && (p.Username == "") != (v == "") {
			return errors.New("username and password go together; set both or neither")
		}
		return nil
	}},
	{"loglevel", "INFO", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.LogLevel, err = parseLogLevel(v)
		return err
	}},
}

// frontendOnlyKeys are program keys that mean something only with <httpfend>.
var frontendOnlyKeys = map[string]bool{"listen": true, "username": true, "password": true, "loglevel": true}

var toolKeys = []keySpec[*ToolConfig]{
	{"command", "", func(r *sectionReader, t *ToolConfig, v string) error {
		if v == "" {
			return errors.New("missing; a tool needs a command")
		}
		if _, err := splitCommand(v, func(string) (string, bool) { return "x", true }); err != nil {
			return err
		}
		t.Command = v
		return nil
	}},
	{"directory", "", func(r *sectionReader, t *ToolConfig, v string) error {
		t.Directory = v
		return nil
	}},
	{"env", "", func(r *sectionReader, t *ToolConfig, v string) error {
		name := strings.TrimPrefix(v, "&")
		vars, ok := r.ld.envSets[name]
		if !ok {
			return fmt.Errorf("there is no [env:%s] section; define it or remove env=", name)
		}
		t.EnvName, t.Env = name, vars
		return nil
	}},
	{"help", "", func(r *sectionReader, t *ToolConfig, v string) error {
		t.Help = v
		return nil
	}},
}

// loader holds the state of one loadConfig call.
type loader struct {
	doc       *iniDoc
	cfg       *Config
	environ   map[string]string // the server's environment
	mainDir   string            // directory of the first config file
	envSets   map[string][]EnvVar
	read      map[string]string // absolute path -> the file that included it ("" for -c files)
	errs      ConfigErrors
	fileKeys  map[string][]*iniValue // [general] include entries per file, for include rounds
	dirs      map[string]string      // file as named in the document -> its absolute directory
	fileOrder []string               // files as named in the document, in the order read
}

// sectionReader reads the keys of one section through a keySpec table.
type sectionReader struct {
	ld    *loader
	sec   *iniSection
	at    *iniValue // the entry being read; nil for a default
	errs  []*ConfigError
	known map[string]bool
}

func (r *sectionReader) env(name string) string { return r.ld.environ[name] }

// baseDir is the directory relative paths in the current value resolve
// against, absolute even when -c named the file relative to the working
// directory.
func (r *sectionReader) baseDir() string {
	if r.at != nil {
		return r.ld.dirOf(r.at.file)
	}
	if r.sec != nil && r.sec.file != "" {
		return r.ld.dirOf(r.sec.file)
	}
	return r.ld.mainDir
}

// dirOf is the absolute directory of a file as the document names it.
func (ld *loader) dirOf(file string) string {
	d, ok := ld.dirs[file]
	if !ok {
		d = filepath.Dir(absPath(file))
		ld.dirs[file] = d
	}
	return d
}

func (r *sectionReader) fail(key string, err error) {
	e := &ConfigError{Section: r.sec.name, Key: key, Msg: err.Error()}
	if r.at != nil {
		e.File, e.Line = r.at.file, r.at.line
	} else {
		e.File, e.Line = r.sec.file, r.sec.line
	}
	r.errs = append(r.errs, e)
}

// value returns the interpolated value of key, or def when it is not set.
func (r *sectionReader) value(key, def string) (string, bool) {
	r.at = r.ld.doc.get(r.sec, key)
	if r.at == nil {
		return def, true
	}
	if r.known == nil {
		r.known = make(map[string]bool, len(r.sec.order))
	}
	r.known[key] = true // only keys that are set: unknownKeys looks at nothing else
	at := r.at
	v, err := r.ld.doc.interpolate(r.sec, at, r.ld.extraNames(at.file))
	if err != nil {
		var quoting *quotingError
		if secretKeys[key] && errors.As(err, &quoting) {
			err = errors.New("the value has a % that is neither %% nor a complete %(name)s reference " +
				"(the value is not shown: it holds a password); write %% for a literal percent sign")
		}
		r.fail(key, err)
		return "", false
	}
	return v, true
}

// extraNames gives the names every value may refer to besides keys, for a
// value written in file: %(here)s, the file's directory, and %(ENV_X)s, the
// server's environment variable X.
func (ld *loader) extraNames(file string) func(string) (string, error) {
	return func(name string) (string, error) {
		if name == "here" {
			return ld.dirOf(file), nil
		}
		if env, ok := strings.CutPrefix(name, "ENV_"); ok {
			v, ok := ld.environ[env]
			if !ok {
				return "", fmt.Errorf("the server's environment has no %s; set it before starting ramona, or write the value here", env)
			}
			return v, nil
		}
		return "", errNotExtra
	}
}

// secretKeys hold passwords: no message may show their values.
var secretKeys = map[string]bool{"delivery": true, "password": true}

func readSection[T any](r *sectionReader, specs []keySpec[T], t T) {
	for _, ks := range specs {
		v, ok := r.value(ks.key, ks.def)
		if !ok {
			continue
		}
		if err := ks.set(r, t, v); err != nil {
			r.fail(ks.key, err)
		}
	}
}

// unknownKeys warns about every key of the section that no table knows.
// With typosOnly (for [general], where applications keep their own keys, as
// the Python original invited them to) only keys that look like a misspelt
// known key are reported.
func (r *sectionReader) unknownKeys(vocabulary func() []string, typosOnly bool) {
	var words []string // the known keys, listed only when a key is unknown
	for _, k := range r.sec.order {
		if r.known[k] {
			continue
		}
		v := r.sec.values[k]
		msg := "unknown key, ignored"
		if words == nil {
			words = vocabulary()
		}
		s := closestWord(k, words)
		if s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", s)
		} else if typosOnly {
			continue
		}
		r.ld.cfg.Warnings = append(r.ld.cfg.Warnings, &ConfigError{File: v.file, Line: v.line, Section: r.sec.name, Key: k, Msg: msg})
	}
}

func (ld *loader) reader(sec *iniSection) *sectionReader {
	r := &sectionReader{ld: ld, sec: sec}
	if sec == nil {
		r.sec = &iniSection{values: map[string]*iniValue{}}
	}
	r.errs = append(r.errs, r.sec.errs...)
	return r
}

// loadConfig reads the given files (in order, later ones winning), follows
// their includes and returns the checked configuration. environ is the
// server's environment (os.Environ()). The error, when not nil, is a
// ConfigErrors: the global sections are broken and nothing can run. A broken
// [program:x] is not an error here: that program has Err set.
func loadConfig(files []string, environ []string) (*Config, error) {
	ld := &loader{
		doc:      newINIDoc(),
		cfg:      &Config{},
		environ:  map[string]string{},
		envSets:  map[string][]EnvVar{},
		read:     map[string]string{},
		fileKeys: map[string][]*iniValue{},
		dirs:     map[string]string{},
	}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			ld.environ[k] = v
		}
	}
	if len(files) == 0 {
		return nil, ConfigErrors{{Msg: "no configuration file given; use -c FILE or set $RAMONA_CONFIG"}}
	}
	var round []string
	for _, f := range files {
		abs, err := filepath.Abs(expandHome(f))
		if err != nil {
			ld.errs = append(ld.errs, &ConfigError{File: f, Msg: err.Error()})
			continue
		}
		if _, dup := ld.read[abs]; dup {
			continue
		}
		if err := ld.readFile(f, abs); err != nil {
			ld.errs = append(ld.errs, &ConfigError{File: f, Msg: fmt.Sprintf("cannot read the configuration file: %v", pathErrText(err))})
			continue
		}
		ld.read[abs] = ""
		ld.cfg.Files = append(ld.cfg.Files, abs)
		round = append(round, f)
	}
	if len(ld.errs) > 0 {
		return nil, ld.errs
	}
	ld.mainDir = filepath.Dir(ld.cfg.Files[0])
	ld.followIncludes(round)
	ld.doc.applyPlatformOverrides(currentPlatform)
	ld.cfg.Warnings = append(ld.cfg.Warnings, ld.doc.warnings...)
	ld.resolve()
	if len(ld.errs) > 0 {
		return nil, ld.errs
	}
	return ld.cfg, nil
}

// readFile parses one file into the document and remembers its include keys.
func (ld *loader) readFile(name, abs string) error {
	data, err := os.ReadFile(abs)
	if err != nil {
		return err
	}
	ld.doc.parse(name, data)
	ld.fileOrder = append(ld.fileOrder, name)
	if g := ld.doc.sections["general"]; g != nil {
		for _, k := range g.order {
			v := g.values[k]
			if v.file == name && (k == "include" || strings.HasPrefix(k, "include@")) {
				ld.fileKeys[name] = append(ld.fileKeys[name], v)
			}
		}
	}
	return nil
}

// followIncludes reads included files round by round, as ConfigParser-based
// Ramona did: after a round, the include value set last by a file of that
// round names the next files (the first round defaults to <siteconf>). Each
// entry is relative to the file that wrote it. A file that includes one of
// its own includers is a loop and an error; a file already read is skipped.
func (ld *loader) followIncludes(round []string) {
	for depth := 0; len(round) > 0; depth++ {
		var inc *iniValue
		for _, f := range round {
			if v := pickPlatform(ld.fileKeys[f], "include"); v != nil {
				inc = v
			}
		}
		var value, baseDir, from string
		if inc != nil {
			general := ld.doc.sections["general"]
			s, err := ld.doc.interpolate(general, inc, ld.extraNames(inc.file))
			if err != nil {
				ld.errs = append(ld.errs, &ConfigError{File: inc.file, Line: inc.line, Section: "general", Key: "include", Msg: err.Error()})
				return
			}
			value, from = s, inc.file
			baseDir = filepath.Dir(absPath(inc.file))
		} else if depth == 0 {
			value, baseDir = "<siteconf>", ld.mainDir
		}
		var next []string
		for _, entry := range strings.Split(value, ";") {
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			optional := false
			paths := []string{entry}
			if entry == "<siteconf>" {
				optional = true
				app := ld.appName()
				paths = []string{"./site.conf", "./" + app + "-site.conf", "/etc/" + app + ".conf", "~/." + app + ".conf"}
			} else if strings.HasPrefix(entry, "<") {
				ld.cfg.Warnings = append(ld.cfg.Warnings, &ConfigError{File: inc.file, Line: inc.line, Section: "general", Key: "include",
					Msg: fmt.Sprintf("unknown include %s, ignored (the only magic value is <siteconf>)", entry)})
				continue
			}
			for _, p := range paths {
				abs := resolvePath(p, baseDir)
				if _, done := ld.read[abs]; done {
					if chain := ld.includeChain(absPath(from)); from != "" && contains(chain, abs) {
						ld.errs = append(ld.errs, &ConfigError{File: inc.file, Line: inc.line, Section: "general", Key: "include",
							Msg: fmt.Sprintf("include loop: %s; remove one of these includes", strings.Join(append(reverse(chain), abs), " -> "))})
					}
					continue
				}
				fi, err := os.Stat(abs)
				if err != nil {
					if !optional {
						ld.cfg.Warnings = append(ld.cfg.Warnings, &ConfigError{File: inc.file, Line: inc.line, Section: "general", Key: "include",
							Msg: fmt.Sprintf("%s: %s, skipped", abs, pathErrText(err))})
					}
					continue
				}
				// Only regular files: a directory cannot be read, and a device
				// or a pipe (/dev/zero, a FIFO) could block or never end.
				// <siteconf> files are optional: one that cannot be read (such
				// as /etc/APPNAME.conf readable by root only) is skipped.
				var problem string
				if !fi.Mode().IsRegular() {
					problem = "not a regular file"
				} else if err := ld.readFile(abs, abs); err != nil {
					problem = pathErrText(err)
				}
				if problem != "" {
					if optional {
						ld.cfg.Warnings = append(ld.cfg.Warnings, &ConfigError{File: abs, Msg: problem + ", skipped (<siteconf>)"})
					} else if !fi.Mode().IsRegular() {
						ld.errs = append(ld.errs, &ConfigError{File: inc.file, Line: inc.line, Section: "general", Key: "include",
							Msg: fmt.Sprintf("%s is not a regular file; include only configuration files", abs)})
					} else {
						ld.errs = append(ld.errs, &ConfigError{File: inc.file, Line: inc.line, Section: "general", Key: "include",
							Msg: fmt.Sprintf("cannot read %s: %s", abs, problem)})
					}
					continue
				}
				ld.read[abs] = absPath(from)
				ld.cfg.Included = append(ld.cfg.Included, abs)
				next = append(next, abs)
			}
		}
		round = next
	}
}

// includeChain lists a file and the files that included it, innermost first.
func (ld *loader) includeChain(abs string) []string {
	var chain []string
	for abs != "" && !contains(chain, abs) {
		chain = append(chain, abs)
		abs = ld.read[abs]
	}
	return chain
}

func (ld *loader) appName() string {
	if g := ld.doc.sections["general"]; g != nil {
		if v := g.values["appname"]; v != nil && v.value != "" {
			return v.value
		}
	}
	return "ramona"
}

// pickPlatform returns the entry for key among one file's entries, preferring
// key@GOOS, then key@posix, then key.
func pickPlatform(entries []*iniValue, key string) *iniValue {
	var best *iniValue
	bestRank := -1
	for _, v := range entries {
		r := -1
		switch v.key {
		case key:
			r = 0
		case key + "@posix":
			if currentPlatform != "windows" {
				r = 1
			}
		case key + "@" + currentPlatform:
			r = 2
		}
		if r >= bestRank && r >= 0 {
			best, bestRank = v, r
		}
	}
	return best
}

// resolve turns the merged document into the typed Config.
func (ld *loader) resolve() {
	doc, cfg := ld.doc, ld.cfg
	global := func(name string, specs []keySpec[*Config]) {
		r := ld.reader(doc.sections[name])
		r.sec.name = name
		readSection(r, specs, cfg)
		ld.errs = append(ld.errs, r.errs...)
		if doc.sections[name] != nil {
			r.unknownKeys(func() []string { return specNames(specs) }, name == "general")
		}
	}
	ld.errs = append(ld.errs, doc.errs...)
	global("general", generalKeys)
	global("ramona:server", serverKeys)
	global("ramona:console", consoleKeys)
	global("ramona:notify", notifyKeys)

	// Environment sets.
	for _, name := range doc.order {
		set, ok := "", name == "env"
		if !ok {
			set, ok = strings.CutPrefix(name, "env:")
			if ok && set == "" {
				ld.errs = append(ld.errs, &ConfigError{File: doc.sections[name].file, Line: doc.sections[name].line, Section: name, Msg: "an [env:NAME] section needs a name"})
				continue
			}
		}
		if !ok {
			continue
		}
		sec := doc.sections[name]
		r := ld.reader(sec)
		vars := []EnvVar{}
		for _, k := range sec.order {
			v, ok := r.value(k, "")
			if !ok {
				continue
			}
			vars = append(vars, EnvVar{Name: k, Value: v, Unset: v == ""})
		}
		ld.errs = append(ld.errs, r.errs...)
		ld.envSets[set] = vars
	}
	if _, ok := ld.envSets[""]; !ok {
		ld.envSets[""] = []EnvVar{}
	}

	logOwners := map[string]string{}
	if cfg.Server.Log != "" {
		logOwners[cfg.Server.Log] = "the server's own log ([ramona:server] log)"
	}
	for _, name := range doc.order {
		sec := doc.sections[name]
		switch {
		case strings.HasPrefix(name, "program:"):
			p := ld.program(sec, strings.TrimPrefix(name, "program:"))
			for _, out := range []struct {
				key    string
				target OutputTarget
			}{{"stdout", p.Stdout}, {"stderr", p.Stderr}} {
				if p.Err != nil || out.target.Kind != OutFile {
					continue
				}
				path := out.target.Path
				if owner, taken := logOwners[path]; taken && owner != "["+name+"]" {
					e := &ConfigError{File: p.File, Line: p.Line, Section: name, Key: out.key,
						Msg: fmt.Sprintf("log file %s is already used by %s; give each program its own file", path, owner)}
					if v := doc.get(sec, out.key); v != nil { // else the default named it: point at the section
						e.File, e.Line = v.file, v.line
					}
					p.Err = ConfigErrors{e}
				} else {
					logOwners[path] = "[" + name + "]"
				}
			}
			cfg.Programs = append(cfg.Programs, p)
		case strings.HasPrefix(name, "tool:"):
			cfg.Tools = append(cfg.Tools, ld.tool(sec, strings.TrimPrefix(name, "tool:")))
		case name == "general" || name == "ramona:server" || name == "ramona:console" || name == "ramona:notify" ||
			name == "env" || strings.HasPrefix(name, "env:"):
			// read above, with their syntax errors
		case name == "ramona:httpfend": // the Python original's section; its keys moved to [program:X]
			ld.errs = append(ld.errs, sec.errs...)
		case strings.HasPrefix(name, "ramona:"):
			ld.errs = append(ld.errs, sec.errs...)
			cfg.Warnings = append(cfg.Warnings, &ConfigError{File: sec.file, Line: sec.line, Section: name,
				Msg: "unknown section, ignored (Ramona's are [ramona:server], [ramona:console], [ramona:notify])"})
		default: // [DEFAULT], which every section reads, and sections of the operator's own
			ld.errs = append(ld.errs, sec.errs...)
		}
	}
	// Warnings in the order the files were read, then by line.
	rank := map[string]int{}
	for i, f := range ld.fileOrder {
		rank[f] = i + 1
	}
	sort.SliceStable(cfg.Warnings, func(i, j int) bool {
		a, b := cfg.Warnings[i], cfg.Warnings[j]
		if rank[a.File] != rank[b.File] {
			return rank[a.File] < rank[b.File]
		}
		return a.Line < b.Line
	})
}

func (ld *loader) program(sec *iniSection, name string) *ProgramConfig {
	p := &ProgramConfig{Name: name, File: sec.file, Line: sec.line, BaseDir: filepath.Dir(absPath(sec.file))}
	r := ld.reader(sec)
	if err := checkName(name); err != nil {
		r.errs = append(r.errs, &ConfigError{File: sec.file, Line: sec.line, Section: sec.name, Msg: err.Error()})
	}
	readSection(r, programKeys, p)
	if !p.HTTPFrontend {
		for k := range frontendOnlyKeys {
			if v := sec.values[k]; v != nil {
				ld.cfg.Warnings = append(ld.cfg.Warnings, &ConfigError{File: v.file, Line: v.line, Section: sec.name, Key: k,
					Msg: "only used with command=<httpfend>, ignored"})
			}
		}
	}
	if p.Stdout.Kind == OutMerged && p.Stderr.Kind == OutMerged {
		r.at = ld.doc.get(sec, "stdout") // fail reports the line of r.at
		r.fail("stdout", errors.New("stdout=<stderr> and stderr=<stdout> send each stream to the other; send one of them to a file, <logdir>, <console> or <null>"))
	}
	r.unknownKeys(func() []string { return specNames(programKeys) }, false)
	if len(r.errs) > 0 {
		p.Err = ConfigErrors(r.errs)
	}
	return p
}

func (ld *loader) tool(sec *iniSection, name string) *ToolConfig {
	t := &ToolConfig{Name: name, File: sec.file, Line: sec.line, BaseDir: filepath.Dir(absPath(sec.file))}
	r := ld.reader(sec)
	if err := checkName(name); err != nil {
		r.errs = append(r.errs, &ConfigError{File: sec.file, Line: sec.line, Section: sec.name, Msg: err.Error()})
	}
	readSection(r, toolKeys, t)
	r.unknownKeys(func() []string { return specNames(toolKeys) }, false)
	if len(r.errs) > 0 {
		t.Err = ConfigErrors(r.errs)
	}
	return t
}

// parseOutput resolves a stdout or stderr key. It needs the other stream's
// raw value to name <logdir> files (NAME.log when both share one file,
// NAME-out.log and NAME-err.log otherwise).
func parseOutput(v, stream string, r *sectionReader) (OutputTarget, error) {
	other, otherDef := "stderr", "<logdir>"
	if stream == "stderr" {
		other, otherDef = "stdout", "<stderr>"
	}
	otherVal := otherDef
	if ov := r.ld.doc.get(r.sec, other); ov != nil {
		otherVal = ov.value
	}
	logdir := r.ld.cfg.LogDir
	name := strings.TrimPrefix(r.sec.name, "program:")
	switch {
	case v == "<null>":
		return OutputTarget{Kind: OutNull}, nil
	case v == "<console>":
		return OutputTarget{Kind: OutConsole}, nil
	case v == "<stderr>" && stream == "stdout", v == "<stdout>" && stream == "stderr":
		return OutputTarget{Kind: OutMerged}, nil
	case v == "<logdir>":
		joined := (stream == "stdout" && otherVal == "<stdout>") || (stream == "stderr" && otherVal == "<stderr>") || otherVal == "<null>" || otherVal == "<console>"
		if joined {
			return OutputTarget{Kind: OutFile, Path: filepath.Join(logdir, name+".log")}, nil
		}
		suffix := "-out.log"
		if stream == "stderr" {
			suffix = "-err.log"
		}
		return OutputTarget{Kind: OutFile, Path: filepath.Join(logdir, name+suffix)}, nil
	case strings.HasPrefix(v, "<logdir>/"):
		return OutputTarget{Kind: OutFile, Path: filepath.Join(logdir, strings.TrimPrefix(v, "<logdir>/"))}, nil
	case strings.HasPrefix(v, "<") || v == "":
		mergeInto := "<stderr>"
		if stream == "stderr" {
			mergeInto = "<stdout>"
		}
		return OutputTarget{}, fmt.Errorf("%q is not an output; use <null>, <logdir>, <console>, %s, or a file path", v, mergeInto)
	default:
		return OutputTarget{Kind: OutFile, Path: resolvePath(v, r.baseDir())}, nil
	}
}

func specNames[T any](specs []keySpec[T]) []string {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.key
	}
	return names
}

// checkName accepts program and tool names usable in file names and on the
// command line.
func checkName(name string) error {
	if name == "" {
		return errors.New("the section needs a name after the colon, e.g. [program:web]")
	}
	for _, c := range name {
		if c <= ' ' || c == '/' || c == ',' || c == 0x7f {
			return fmt.Errorf("name %q contains %q; use letters, digits, '.', '-' or '_'", name, c)
		}
	}
	return nil
}

// diff tells which programs reload must add, remove and restart. A program is
// changed when anything in its resolved configuration differs, its position
// in the files aside.
func diff(old, new *Config) (added, removed, changed []string) {
	oldByName := map[string]*ProgramConfig{}
	if old != nil {
		for _, p := range old.Programs {
			oldByName[p.Name] = p
		}
	}
	newByName := map[string]bool{}
	for _, p := range new.Programs {
		newByName[p.Name] = true
		q, ok := oldByName[p.Name]
		switch {
		case !ok:
			added = append(added, p.Name)
		case !p.sameAs(q):
			changed = append(changed, p.Name)
		}
	}
	if old != nil {
		for _, p := range old.Programs {
			if !newByName[p.Name] {
				removed = append(removed, p.Name)
			}
		}
	}
	return added, removed, changed
}

// sameAs compares two program configurations, ignoring where they were written.
func (p *ProgramConfig) sameAs(q *ProgramConfig) bool {
	a, b := *p, *q
	a.File, a.Line, b.File, b.Line = "", 0, "", 0
	if (a.Err == nil) != (b.Err == nil) || (a.Err != nil && a.Err.Error() != b.Err.Error()) {
		return false
	}
	a.Err, b.Err = nil, nil
	return reflect.DeepEqual(a, b)
}

// configFiles returns the files to read: the -c flags, else $RAMONA_CONFIG
// (":"-separated), else ./ramona.conf.
func configFiles(flags []string, environ func(string) string) []string {
	if len(flags) > 0 {
		return flags
	}
	if env := environ("RAMONA_CONFIG"); env != "" {
		var files []string
		for _, f := range strings.Split(env, ":") {
			if f != "" {
				files = append(files, f)
			}
		}
		if len(files) > 0 {
			return files
		}
	}
	return []string{"ramona.conf"}
}

func absPath(p string) string {
	if p == "" {
		return ""
	}
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func reverse(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[len(list)-1-i] = s
	}
	return out
}
