// Config owns the typed configuration: Config, ProgramConfig and friends, the
// table of every key with its default and its check (the one place defaults
// live), and diff(old, new) for reload. Loading the files is configload.go,
// the INI dialect ini.go, the syntax of single values configvalues.go.
package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// LogPolicy says how a log file is created and when and how it rotates.
type LogPolicy struct {
	MaxSize  int64       // bytes before rotation; 0 never rotates (<inf>)
	Backups  int         // rotated files kept; -1 keeps all (<inf>)
	Compress bool        // gzip backups .2 and older
	Mode     os.FileMode // of created files; 0 is defaultLogMode
}

// defaultLogMode is the mode of created logs in a LogPolicy without one, as
// logmode's default: program output often holds secrets, so other users get
// nothing, the server's group may read.
const defaultLogMode os.FileMode = 0o640

// fileMode is the mode of the files a log creates.
func (p LogPolicy) fileMode() os.FileMode {
	if p.Mode == 0 {
		return defaultLogMode
	}
	return p.Mode
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
	Files    []string       // the files named by -c / $RAMONA_CONFIG, absolute (RAMONA_CONFIG for children)
	Origin   string         // how Files were named: "-c", "$RAMONA_CONFIG" or "default"; set by the command line
	Included []string       // files read through include, absolute
	Sources  []ConfigSource // every file read, in order, and why
	Siteconf []SiteOverride // keys a <siteconf> file set over a value of another file
	AppName  string
	LogDir   string    // absolute
	Log      LogPolicy // [general] logmaxsize, logbackups, logcompress, logmode
	Server   ServerConfig
	Console  ConsoleConfig
	Notify   NotifyConfig
	Programs []*ProgramConfig // in order of first appearance
	Tools    []*ToolConfig
	Warnings []*ConfigError // unknown keys and other things that do not stop anything
}

// ConfigSource is one configuration file read, and why it was read.
type ConfigSource struct {
	Path     string // absolute
	Via      string // "" (one of Files), "include" or "<siteconf>" (an include entry, or the default)
	From     string // the file whose include named it; "" for Files and the default <siteconf>
	Line     int    // the line of that include
	Siteconf bool   // read through <siteconf>, or included by such a file
}

// SiteOverride is a key that a <siteconf> file set again after another file
// had set it: the site file's value wins.
type SiteOverride struct {
	Section, Key string
	File         string // the <siteconf> file and line that win
	Line         int
	OverFile     string // the file and line whose value lost
	OverLine     int
}

// ServerConfig is [ramona:server].
type ServerConfig struct {
	ConsoleURIs []SocketURI
	PidFile     string // absolute; "" writes none
	Log         string // absolute; "" when the server logs only to stderr
	LogLevel    LogLevel
	Umask       int    // the server's umask, which programs inherit; -1 keeps the one it was started with
	MinFDs      uint64 // raise the open-files limit to at least this; 0 leaves it alone
	Cgroup      string // "auto", "no", or the absolute directory of the programs' base cgroup
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
	ReadyProbe                    // RUNNING when ReadyProbe succeeds (probe.go)
)

// EnvVar is one entry of an [env] section: set Name=Value, or remove Name.
type EnvVar struct {
	Name  string
	Value string
	Unset bool
}

// ProgramConfig is one process of a [program:NAME] section, resolved and
// checked: the section itself, or one of its numprocs processes.
type ProgramConfig struct {
	Name       string // the process name (process_name): unique, what commands and status use
	Section    string // NAME of [program:NAME]
	Group      string // the [group:g] that lists the section, else the section's NAME
	NumProcs   int    // processes of the section (numprocs)
	ProcessNum int    // this one's number, from numprocs_start
	File       string // where the section starts
	Line       int
	Err        error  // non-nil: the section is broken and the program is CFGERROR
	BaseDir    string // directory of the file that defines the section

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
	Environment  []EnvVar // environment=, applied after Env
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
	ReadyProbe     Probe // with ReadyProbe
	ReadyTimeout   time.Duration
	HealthCheck    Probe // Kind probeNone: no health check
	HealthInterval time.Duration
	HealthTimeout  time.Duration // of each try, also of each ready probe
	HealthRetries  int           // failures in a row that make it unhealthy
	NotifyHealth   NotifyTarget
	Depends        []string      // the programs it needs RUNNING first, by name (depends.go)
	Watchdog       time.Duration // 0 is off
	NotifyWatchdog NotifyTarget
	Essential      bool
	LogTimestamp   bool
	LogBanners     bool

	// Limits of the program's cgroup where the controller exists (0: none),
	// and where each was set, for the warning when it cannot be applied.
	MemoryMax int64 // bytes
	CPUWeight int   // 1-10000
	PidsMax   int
	LimitsAt  map[string]string // key -> "file:line"

	// The web frontend's own keys (command=<httpfend>).
	Listen    []SocketURI
	Hostnames []string // lower case, without a final dot: the Host names it answers besides loopback and listen
	Username  string
	Password  Secret
	LogLevel  LogLevel
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
	{"logmode", "0640", func(r *sectionReader, c *Config, v string) (err error) {
		c.Log.Mode, err = parseLogMode(v)
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
	{"umask", "", func(r *sectionReader, c *Config, v string) (err error) {
		c.Server.Umask = -1
		if v != "" {
			c.Server.Umask, err = parseUmask(v)
		}
		return err
	}},
	{"minfds", "", func(r *sectionReader, c *Config, v string) error {
		if v == "" {
			return nil
		}
		n, err := parseInt(v, 0, 1<<30)
		c.Server.MinFDs = uint64(n)
		return err
	}},
	{"cgroup", "auto", func(r *sectionReader, c *Config, v string) error {
		if b, err := parseBool(v); err == nil && !b {
			c.Server.Cgroup = "no"
			return nil
		}
		if v != "auto" && !filepath.IsAbs(v) {
			return fmt.Errorf("%q is neither auto, no, nor an absolute directory in the cgroup2 file system (e.g. /sys/fs/cgroup/ramona)", v)
		}
		c.Server.Cgroup = filepath.Clean(v)
		return nil
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
		c.Notify.Receivers, err = parseRecipients(v)
		if err == nil && c.Notify.Delivery != nil && !hasMailAddress(c.Notify.Receivers) {
			r.at = r.ld.doc.get(r.sec, "delivery") // point at the delivery, wherever it was set
			return errors.New("missing; delivery is set, so mail needs at least one receiver address (receiver=ops@example.com)")
		}
		return err
	}},
	{"webhook", "", func(r *sectionReader, c *Config, v string) error {
		urls, err := parseRecipients(v)
		for _, u := range urls {
			if !isWebhookURL(u) {
				return fmt.Errorf("%q is a mail address; mail addresses go in receiver, webhook takes https:// URLs", u)
			}
		}
		c.Notify.Receivers = append(c.Notify.Receivers, urls...)
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

// envVar is the value of variable name as the program's configuration sets
// it: its environment= key, else its [env] set (for %(ENV_X)s).
func (p *ProgramConfig) envVar(name string) (string, bool) {
	for i := len(p.Environment) - 1; i >= 0; i-- {
		if e := p.Environment[i]; e.Name == name {
			return e.Value, true
		}
	}
	for i := len(p.Env) - 1; i >= 0; i-- {
		if e := p.Env[i]; e.Name == name && !e.Unset {
			return e.Value, true
		}
	}
	return "", false
}

// instanceKeys are the keys of [program:NAME] read once for the section,
// before its processes (programKeys starts with them).
var instanceKeys = []keySpec[*ProgramConfig]{
	{"numprocs", "1", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.NumProcs, err = parseInt(v, 1, maxNumProcs)
		return err
	}},
	{"numprocs_start", "0", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.ProcessNum, err = parseInt(v, 0, 1<<30)
		return err
	}},
}

// maxNumProcs bounds numprocs: each process is a program of the table.
const maxNumProcs = 10000

// programKeys is every key of [program:NAME], in the order they are checked
// (process_name first, since file names are made of it; env and environment
// before the keys that may refer to %(ENV_X)s; stdout before stderr, since
// each decides the other's file name).
var programKeys = append(instanceKeys[:len(instanceKeys):len(instanceKeys)], []keySpec[*ProgramConfig]{
	{"process_name", "%(program_name)s", func(r *sectionReader, p *ProgramConfig, v string) error {
		if err := checkName(v); err != nil {
			return err
		}
		p.Name = v
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
	{"environment", "", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.Environment, err = parseEnvironment(v)
		return err
	}},
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
		p.StopTimeout, err = parsePositiveDuration(v, "the time between kill signals")
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
		p.Stdout, err = parseOutput(v, "stdout", p.Name, r)
		return err
	}},
	{"stderr", "<logdir>", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.Stderr, err = parseOutput(v, "stderr", p.Name, r)
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
	{"logmode", "", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.Log.Mode = r.ld.cfg.Log.Mode
		if v != "" {
			p.Log.Mode, err = parseLogMode(v)
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
	{"ready", "timeout", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		switch strings.ToLower(v) {
		case "timeout":
			p.Ready = ReadyTimeout
		case "notify":
			p.Ready = ReadyNotify
		default:
			if !strings.Contains(v, ":") {
				return fmt.Errorf("%q is not a readiness mode; use timeout (RUNNING after starttimeout), notify (RUNNING on READY=1), or a probe: tcp://HOST:PORT, http://HOST:PORT/PATH or exec:COMMAND", v)
			}
			p.Ready = ReadyProbe
			p.ReadyProbe, err = r.probe(p, v)
		}
		return err
	}},
	{"readytimeout", "90s", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.ReadyTimeout, err = parseDuration(v)
		return err
	}},
	{"healthcheck", "", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		if b, berr := parseBool(v); v == "" || berr == nil && !b {
			return nil
		}
		p.HealthCheck, err = r.probe(p, v)
		return err
	}},
	{"healthinterval", "10s", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.HealthInterval, err = parsePositiveDuration(v, "the time between two health checks")
		return err
	}},
	{"healthtimeout", "5s", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.HealthTimeout, err = parsePositiveDuration(v, "how long one probe may take")
		return err
	}},
	{"healthretries", "3", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.HealthRetries, err = parseInt(v, 1, 1000)
		return err
	}},
	{"notify_health", "<global>", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.NotifyHealth, err = parseProgramNotifyTarget(v, r.ld.cfg.Notify.NotifyFatal)
		return err
	}},
	{"depends", "", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.Depends, err = parseDepends(v)
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
	{"logbanners", "yes", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.LogBanners, err = parseBool(v)
		return err
	}},
	{"memorymax", "", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		if v == "" {
			return nil
		}
		if p.MemoryMax, err = parseSize(v); err == nil && p.MemoryMax < 4096 {
			err = fmt.Errorf("%q is less than a page; give the most memory the program's processes may use together, e.g. 512MiB", v)
		}
		r.limitAt(p, "memorymax")
		return err
	}},
	{"cpuweight", "", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		if v == "" {
			return nil
		}
		if p.CPUWeight, err = parseInt(v, 1, 10000); err != nil {
			err = fmt.Errorf("%w (the cgroup's share of CPU time against the others; 100 is the default)", err)
		}
		r.limitAt(p, "cpuweight")
		return err
	}},
	{"pidsmax", "", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		if v == "" {
			return nil
		}
		if p.PidsMax, err = parseInt(v, 1, 1<<22); err != nil {
			err = fmt.Errorf("%w (the most processes and threads the program may have at once)", err)
		}
		r.limitAt(p, "pidsmax")
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
		if !p.HTTPFrontend {
			return nil
		}
		return checkPasswordHash(v)
	}},
	{"hostname", "", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		if !p.HTTPFrontend {
			return nil
		}
		p.Hostnames, err = parseHostnames(v)
		return err
	}},
	// listen after username and password: a listen address reachable from
	// elsewhere needs them.
	{"listen", "tcp://127.0.0.1:5588", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		if !p.HTTPFrontend {
			return nil
		}
		if p.Listen, err = parseSocketURIs(v, r.baseDir(), uriWeb); err != nil {
			return err
		}
		for _, u := range p.Listen {
			if host, _, _ := net.SplitHostPort(u.Addr); u.Scheme == "tcp" && !isLoopbackHost(host) && p.Username == "" {
				return fmt.Errorf("%s is not a loopback address: the web frontend there needs username= and password=", u)
			}
		}
		return nil
	}},
	{"loglevel", "INFO", func(r *sectionReader, p *ProgramConfig, v string) (err error) {
		p.LogLevel, err = parseLogLevel(v)
		return err
	}},
}...)

// frontendOnlyKeys are program keys that mean something only with <httpfend>.
var frontendOnlyKeys = map[string]bool{"listen": true, "hostname": true, "username": true, "password": true, "loglevel": true}

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
		if c <= ' ' || c == '/' || c == ',' || c == 0x7f || c >= 0x80 && c <= 0x9f || c == utf8.RuneError {
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
	a.LimitsAt, b.LimitsAt = nil, nil
	if (a.Err == nil) != (b.Err == nil) || (a.Err != nil && a.Err.Error() != b.Err.Error()) {
		return false
	}
	a.Err, b.Err = nil, nil
	return reflect.DeepEqual(a, b)
}

// changedKeys names what differs between two configurations of a program,
// as configuration keys where a field has one.
func changedKeys(old, new *ProgramConfig) []string {
	a, b := reflect.ValueOf(*old), reflect.ValueOf(*new)
	var keys []string
	for i := 0; i < a.NumField(); i++ {
		field := a.Type().Field(i).Name
		if field == "File" || field == "Line" {
			continue
		}
		x, y := a.Field(i).Interface(), b.Field(i).Interface()
		if field == "Err" {
			x, y = fmt.Sprint(x), fmt.Sprint(y)
		}
		if reflect.DeepEqual(x, y) {
			continue
		}
		key, ok := fieldKeys[field]
		if !ok {
			key = strings.ToLower(field)
		}
		keys = append(keys, key)
	}
	return sortedUnique(keys)
}

// fieldKeys names the key of each ProgramConfig field whose lower-cased name
// is not its key.
var fieldKeys = map[string]string{
	"Err": "(errors)", "BaseDir": "(the directory of its file)", "HTTPFrontend": "command",
	"UID": "user", "GID": "user", "Groups": "user", "HomeDir": "user", "EnvName": "env", "Env": "env",
	"Log": "logmaxsize/logbackups/logcompress", "LogScanStdout": "logscan_stdout", "LogScanStderr": "logscan_stderr",
	"NotifyFatal": "notify_fatal", "NotifyWatchdog": "notify_watchdog",
	"ReadyProbe": "ready", "HealthCheck": "healthcheck", "NotifyHealth": "notify_health",
}

// configFiles returns the files to read: the -c flags, else $RAMONA_CONFIG
// (":"-separated), else ./ramona.conf; and which of the three it was
// (Config.Origin).
func configFiles(flags []string, environ func(string) string) (files []string, origin string) {
	if len(flags) > 0 {
		return flags, "-c"
	}
	if env := environ("RAMONA_CONFIG"); env != "" {
		for _, f := range strings.Split(env, ":") {
			if f != "" {
				files = append(files, f)
			}
		}
		if len(files) > 0 {
			return files, "$RAMONA_CONFIG"
		}
	}
	return []string{"ramona.conf"}, "default"
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
