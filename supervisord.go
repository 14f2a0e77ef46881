// supervisord's configuration: a file with a [supervisord], [supervisorctl],
// [unix_http_server] or [inet_http_server] section is read in supervisord's
// dialect, with its [include] files=, and translated into Ramona's: an
// iniDoc whose values keep the file:line (and key) supervisord's file wrote,
// which the loader merges like any Ramona file and `ramona convert` prints.
// What Ramona cannot honour becomes a warning that says what to use instead.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// supervisordMarkers are the sections that only supervisord's files have.
var supervisordMarkers = []string{"supervisord", "supervisorctl", "unix_http_server", "inet_http_server"}

// isSupervisordConfig reports whether a file's text has one of
// supervisord's own sections.
func isSupervisordConfig(data []byte) bool {
	for line := range bytes.Lines(data) { // without a copy of the text: the client reads every file
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] != '[' {
			continue
		}
		if end := bytes.IndexByte(line, ']'); end > 0 && slices.Contains(supervisordMarkers, string(bytes.TrimSpace(line[1:end]))) {
			return true
		}
	}
	return false
}

// svTranslation is supervisord's configuration in Ramona's dialect.
type svTranslation struct {
	out      *iniDoc
	notes    map[*iniValue]string // why a value is there that no key of the files wrote (for convert)
	files    []string             // the files read: the main one as named, then the included ones, absolute
	warnings []*ConfigError
}

// svTranslator holds the state of one translation.
type svTranslator struct {
	svTranslation
	ld       *loader
	in       *iniDoc // supervisord's sections, merged over the main file and its includes
	mainFile string
	mainDir  string
}

// translateSupervisord reads supervisord's main file (data, already read)
// and its includes, and translates them. Errors are in the result's
// document: on the sections of programs (which end in CFGERROR) or on the
// document (which stop the configuration from loading).
func (ld *loader) translateSupervisord(name, abs string, data []byte) *svTranslation {
	t := &svTranslator{ld: ld, in: newINIDoc(), mainFile: name, mainDir: filepath.Dir(abs)}
	t.out = newINIDoc()
	t.notes = map[*iniValue]string{}
	t.in.hashComments, t.in.foldKeys = true, true
	t.in.parse(name, data)
	t.files = []string{name}
	t.readIncludes()
	t.translate()
	t.out.errs = append(t.out.errs, t.in.errs...)
	t.warnings = append(t.warnings, t.in.warnings...)
	return &t.svTranslation
}

// warn records a warning about what v (or the section, when v is nil) asks
// for and Ramona does not do.
func (t *svTranslator) warn(sec *iniSection, v *iniValue, format string, args ...any) {
	e := &ConfigError{File: sec.file, Line: sec.line, Section: sec.name, Msg: fmt.Sprintf(format, args...)}
	if v != nil {
		e.File, e.Line, e.Key = v.file, v.line, v.key
	}
	t.warnings = append(t.warnings, e)
}

// fail records an error of a value: on the program's translated section
// when sec is a program, else on the whole document.
func (t *svTranslator) fail(sec *iniSection, v *iniValue, format string, args ...any) {
	e := &ConfigError{File: sec.file, Line: sec.line, Section: sec.name, Msg: fmt.Sprintf(format, args...)}
	if v != nil {
		e.File, e.Line, e.Key = v.file, v.line, v.key
	}
	if strings.HasPrefix(sec.name, "program:") {
		out := t.section(sec.name, sec)
		out.errs = append(out.errs, e)
		return
	}
	t.out.errs = append(t.out.errs, e)
}

// readIncludes reads the files of [include] files=: whitespace-separated
// globs, relative to the main file's directory, each one's matches in
// sorted order. As in supervisord, an [include] in an included file is not
// followed.
func (t *svTranslator) readIncludes() {
	inc := t.in.sections["include"]
	if inc == nil {
		return
	}
	files := inc.values["files"]
	if files == nil {
		t.fail(inc, nil, "missing files=; list the files to include, e.g. files = conf.d/*.conf")
		return
	}
	value, err := t.in.interpolate(inc, files, t.ld.extraNames(files.file, nil))
	if err != nil {
		t.fail(inc, files, "%v", err)
		return
	}
	for _, pattern := range strings.Fields(value) {
		if !filepath.IsAbs(pattern) {
			pattern = filepath.Join(t.mainDir, expandHome(pattern))
		}
		matches, err := filepath.Glob(pattern)
		if err != nil {
			t.fail(inc, files, "%q is not a valid pattern: %v", pattern, err)
			continue
		}
		if len(matches) == 0 {
			t.warn(inc, files, "no file matches %s", pattern)
			continue
		}
		slices.Sort(matches)
		for _, f := range matches {
			if slices.Contains(t.files, f) || absPath(t.mainFile) == f {
				continue
			}
			fi, err := os.Stat(f)
			if err == nil && !fi.Mode().IsRegular() {
				err = errors.New("not a regular file")
			}
			var data []byte
			if err == nil {
				data, err = os.ReadFile(f)
			}
			if err != nil {
				t.fail(inc, files, "cannot read %s: %s", f, pathErrText(err))
				continue
			}
			t.in.parse(f, data)
			t.files = append(t.files, f)
		}
	}
	if now := inc.values["files"]; now != files {
		t.warn(inc, now, "an [include] in an included file is not followed (nor by supervisord); move its files= to %s", t.mainFile)
	}
}

// section is the translated section name, created with the file and line
// of from.
func (t *svTranslator) section(name string, from *iniSection) *iniSection {
	file, line := t.mainFile, 0
	if from != nil {
		file, line = from.file, from.line
	}
	return t.out.section(name, file, line)
}

// put sets key=value in a translated section; from is the supervisord key
// it comes from.
func (t *svTranslator) put(sec *iniSection, from *iniValue, key, value string) *iniValue {
	v := &iniValue{key: key, value: value, file: from.file, line: from.line, written: from.key}
	sec.set(v)
	return v
}

// putNote sets a value no key of supervisord's files wrote; note says why.
func (t *svTranslator) putNote(sec *iniSection, key, value, note string) {
	v := &iniValue{key: key, value: value, file: t.mainFile}
	sec.set(v)
	t.notes[v] = note
}

// get is a key of a supervisord section, or of its [DEFAULT].
func (t *svTranslator) get(sec *iniSection, key string) *iniValue {
	if sec == nil {
		return nil
	}
	return t.in.get(sec, key)
}

// eval is the value of a supervisord key with its %(name)s references
// expanded, for the keys whose translation depends on the value itself.
func (t *svTranslator) eval(sec *iniSection, v *iniValue, names map[string]string) (string, error) {
	base := t.ld.extraNames(v.file, nil)
	return t.in.interpolate(sec, v, func(name string) (string, error) {
		if val, ok := names[name]; ok {
			return val, nil
		}
		return base(name)
	})
}

// literal escapes text for a Ramona value: % is doubled.
func literal(s string) string { return strings.ReplaceAll(s, "%", "%%") }

// withHere replaces %(here)s in a supervisord value by the directory of the
// file that wrote it, so that the translation means the same wherever it is
// written to.
func withHere(v *iniValue, dirOf func(string) string) string {
	if !strings.Contains(v.value, "%(here)s") {
		return v.value
	}
	var b strings.Builder
	s := v.value
	for i := 0; i < len(s); i++ {
		switch {
		case strings.HasPrefix(s[i:], "%%"):
			b.WriteString("%%")
			i++
		case strings.HasPrefix(s[i:], "%(here)s"):
			b.WriteString(literal(dirOf(v.file)))
			i += len("%(here)s") - 1
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// pathValue is a path-valued supervisord key for Ramona: %(here)s and a
// relative path (which supervisord takes relative to its working
// directory) become absolute against the file's directory, and $ is
// doubled where Ramona expands $VAR.
func (t *svTranslator) pathValue(v *iniValue, dollars bool) string {
	s := withHere(v, t.ld.dirOf)
	if s != "" && !strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "~") && !strings.HasPrefix(s, "%(") {
		s = literal(t.ld.dirOf(v.file)) + "/" + s
	}
	if dollars {
		s = strings.ReplaceAll(s, "$", "$$")
	}
	return s
}

// translate turns every section of supervisord's files into Ramona's.
func (t *svTranslator) translate() {
	def := t.section("DEFAULT", nil)
	for _, kv := range [][2]string{
		{"autorestart", "unexpected"}, {"starttimeout", "1"}, {"stoptimeout", "10"}, {"killby", "TERM"},
		{"processgroup", "no"}, {"priority", strconv.Itoa(svPriority(999))}, {"stdout", "<logdir>"}, {"stderr", "<logdir>"},
		{"logmaxsize", "50MB"}, {"logbackups", "10"}, {"logcompress", "no"}, {"logbanners", "no"},
	} {
		t.putNote(def, kv[0], kv[1], "supervisord's default")
	}
	general := t.section("general", nil)
	t.putNote(general, "include", "", "supervisord's files read no <siteconf>")
	t.putNote(def, "directory", literal(strings.ReplaceAll(t.mainDir, "$", "$$")),
		"supervisord starts programs in its own working directory; Ramona in this one")

	groupOf := map[string]*iniSection{} // program section -> its [group:g]
	for _, name := range t.in.order {
		if !strings.HasPrefix(name, "group:") {
			continue
		}
		sec := t.in.sections[name]
		if v := t.get(sec, "programs"); v != nil {
			for _, p := range strings.Split(v.value, ",") {
				if p = strings.TrimSpace(p); p != "" && groupOf["program:"+p] == nil {
					groupOf["program:"+p] = sec
				}
			}
		}
	}
	var programs []*iniSection
	for _, name := range t.in.order {
		sec := t.in.sections[name]
		kind, _, _ := strings.Cut(name, ":")
		switch kind {
		case "DEFAULT", "include":
			t.out.errs = append(t.out.errs, sec.errs...)
		case "supervisord":
			t.out.errs = append(t.out.errs, sec.errs...)
			t.supervisord(sec)
		case "unix_http_server":
			t.out.errs = append(t.out.errs, sec.errs...)
			t.unixHTTPServer(sec)
		case "supervisorctl":
			t.out.errs = append(t.out.errs, sec.errs...)
			t.supervisorctl(sec)
		case "inet_http_server":
			port := ""
			if v := t.get(sec, "port"); v != nil {
				port = " (port=" + v.value + ")"
			}
			t.warn(sec, nil, "not served%s: Ramona's command line talks to the unix socket; for a web page add [program:web] command=<httpfend> listen=tcp://HOST:PORT (with username= and password= beyond loopback)", port)
		case "rpcinterface":
			if v := t.get(sec, "supervisor.rpcinterface_factory"); name != "rpcinterface:supervisor" || v == nil || v.value != "supervisor.rpcinterface:make_main_rpcinterface" {
				t.warn(sec, nil, "ignored: Ramona has no XML-RPC interface; its control channel (unix socket, tls://) and the web frontend's JSON API replace it")
			}
		case "ctlplugin":
			t.warn(sec, nil, "ignored: supervisorctl plugins have no equivalent; use [tool:NAME] sections for extra commands")
		case "eventlistener":
			t.warn(sec, nil, "not run: Ramona has no event listeners; it notifies by mail or webhook itself (FATAL, watchdog misses, log keywords: see [ramona:notify] and logscan)")
		case "fcgi-program":
			t.warn(sec, nil, "not run: Ramona does not create sockets for programs; run the program as a [program:x] that binds its own socket")
		case "group":
			t.out.errs = append(t.out.errs, sec.errs...)
			t.group(sec)
		case "program":
			out := t.section(name, sec)
			out.errs = append(out.errs, sec.errs...)
			t.program(sec)
			programs = append(programs, sec)
		default:
			t.out.errs = append(t.out.errs, sec.errs...)
			t.warn(sec, nil, "unknown section, ignored")
		}
	}
	t.priorities(programs, groupOf)
	// Without [unix_http_server], the server listens where [supervisorctl]
	// serverurl says the command line connects.
	if srv := t.out.sections["ramona:server"]; srv == nil || srv.values["consoleuri"] == nil {
		if c := t.out.sections["ramona:console"]; c != nil && c.values["serveruri"] != nil {
			v := *c.values["serveruri"]
			v.key = "consoleuri"
			t.section("ramona:server", t.in.sections["supervisorctl"]).set(&v)
		}
	}
}

// svLogLevels maps supervisord's log levels to Ramona's.
var svLogLevels = map[string]string{"critical": "CRITICAL", "error": "ERROR", "warn": "WARNING", "info": "INFO",
	"debug": "DEBUG", "trace": "DEBUG", "blather": "DEBUG"}

// supervisord translates [supervisord].
func (t *svTranslator) supervisord(sec *iniSection) {
	server := t.section("ramona:server", sec)
	general := t.section("general", nil)
	for _, key := range sec.order {
		v := sec.values[key]
		switch key {
		case "logfile":
			if strings.EqualFold(v.value, "syslog") {
				t.warn(sec, v, "Ramona does not log to syslog; the server log goes to LOGDIR/ramona.log (`ramona daemon` logs to stderr, which systemd keeps in the journal)")
				continue
			}
			t.put(server, v, "log", t.pathValue(v, false))
		case "logfile_maxbytes":
			t.put(general, v, "logmaxsize", svMaxBytes(v.value))
		case "logfile_backups":
			t.put(general, v, "logbackups", v.value)
		case "loglevel":
			level, ok := svLogLevels[strings.ToLower(v.value)]
			if !ok {
				t.fail(sec, v, "%q is not a log level; use critical, error, warn, info, debug, trace or blather", v.value)
				continue
			}
			t.put(server, v, "loglevel", level)
		case "pidfile":
			t.put(server, v, "pidfile", t.pathValue(v, true))
		case "childlogdir":
			t.put(general, v, "logdir", t.pathValue(v, false))
		case "umask":
			t.put(server, v, "umask", v.value)
		case "minfds":
			t.put(server, v, "minfds", v.value)
		case "directory":
			t.put(t.section("DEFAULT", nil), v, "directory", t.pathValue(v, true))
		case "user":
			t.put(t.section("DEFAULT", nil), v, "user", v.value)
			t.warn(sec, v, "Ramona keeps running as the user that starts it; it runs the programs without their own user= as %s", v.value)
		case "environment":
			t.environment(sec, v)
		case "nodaemon":
			// `ramona daemon` runs in the foreground, `ramona start` in the background
		case "minprocs":
			t.warn(sec, v, "ignored: Ramona does not raise the process limit; set it where the server starts (LimitNPROC= in a systemd unit, ulimit -u)")
		case "identifier", "nocleanup", "strip_ansi", "silent", "profile_options":
			t.warn(sec, v, "ignored: it has no meaning for Ramona")
		default:
			t.warn(sec, v, "unknown key, ignored%s", didYouMean(key, svSupervisordKeys))
		}
	}
}

var svSupervisordKeys = []string{"logfile", "logfile_maxbytes", "logfile_backups", "loglevel", "pidfile", "childlogdir",
	"umask", "minfds", "minprocs", "directory", "user", "environment", "nodaemon", "identifier", "nocleanup",
	"strip_ansi", "silent", "profile_options"}

func didYouMean(key string, known []string) string {
	if s := closestWord(key, known); s != "" {
		return fmt.Sprintf(" (did you mean %s?)", s)
	}
	return ""
}

// svMaxBytes is a *_maxbytes value for Ramona: 0 never rotates.
func svMaxBytes(v string) string {
	if strings.TrimLeft(v, "0") == "" && v != "" {
		return "<inf>"
	}
	return v
}

// environment translates [supervisord] environment= into [env]: one key per
// variable, each value still a template Ramona expands (%(ENV_X)s).
func (t *svTranslator) environment(sec *iniSection, v *iniValue) {
	tokens, err := envTokens(v.value, true)
	if err == nil {
		var vars []EnvVar
		if vars, err = envPairs(v.value, tokens); err == nil {
			env := t.section("env", sec)
			for _, e := range vars {
				value := withHere(&iniValue{value: e.Value, file: v.file}, t.ld.dirOf)
				t.put(env, v, e.Name, value)
				if value == "" {
					t.warn(sec, v, "%s has an empty value, which removes %s in Ramona's [env] (supervisord sets it empty)", e.Name, e.Name)
				}
			}
			return
		}
	}
	t.fail(sec, v, "%v", err)
}

// unixHTTPServer translates [unix_http_server]: the control socket.
func (t *svTranslator) unixHTTPServer(sec *iniSection) {
	file := t.get(sec, "file")
	for _, key := range sec.order {
		v := sec.values[key]
		switch key {
		case "file", "chmod":
		case "chown":
			t.warn(sec, v, "ignored: only root and the server's own user may use the socket (Ramona checks the peer's uid)")
		case "username", "password":
			t.warn(sec, v, "ignored: Ramona identifies clients of the unix socket by their uid, not a password")
		default:
			t.warn(sec, v, "unknown key, ignored%s", didYouMean(key, []string{"file", "chmod", "chown", "username", "password"}))
		}
	}
	if file == nil {
		t.fail(sec, nil, "missing file=; name the socket, e.g. file=/run/supervisor.sock")
		return
	}
	uri := "unix://" + t.pathValue(file, false)
	if mode := t.get(sec, "chmod"); mode != nil {
		n, err := strconv.ParseUint(strings.TrimPrefix(mode.value, "0o"), 8, 32)
		if err != nil || n > 0o777 {
			t.fail(sec, mode, "%q is not an octal mode such as 0700", mode.value)
			return
		}
		uri += fmt.Sprintf("?mode=%04o", n)
	}
	t.put(t.section("ramona:server", sec), file, "consoleuri", uri)
}

// supervisorctl translates [supervisorctl]: where the command line connects.
func (t *svTranslator) supervisorctl(sec *iniSection) {
	console := t.section("ramona:console", sec)
	for _, key := range sec.order {
		v := sec.values[key]
		switch key {
		case "serverurl":
			if path, ok := strings.CutPrefix(v.value, "unix://"); ok {
				t.put(console, v, "serveruri", "unix://"+t.pathValue(&iniValue{value: path, file: v.file}, false))
			} else {
				t.warn(sec, v, "ignored: Ramona's command line connects to the server's unix socket, not over HTTP")
			}
		case "history_file":
			t.put(console, v, "history", t.pathValue(v, false))
		case "username", "password":
			t.warn(sec, v, "ignored: Ramona identifies clients of the unix socket by their uid, not a password")
		case "prompt":
			t.warn(sec, v, "ignored: the console's prompt is ramona>")
		default:
			t.warn(sec, v, "unknown key, ignored%s", didYouMean(key, []string{"serverurl", "history_file", "username", "password", "prompt"}))
		}
	}
}

// group translates [group:g]: programs= stays, priority= is folded into
// the programs' priorities.
func (t *svTranslator) group(sec *iniSection) {
	out := t.section(sec.name, sec)
	for _, key := range sec.order {
		v := sec.values[key]
		switch key {
		case "programs":
			t.put(out, v, "programs", v.value)
		case "priority":
		default:
			t.warn(sec, v, "unknown key, ignored%s", didYouMean(key, []string{"programs", "priority"}))
		}
	}
}

// svProgramKeys are the keys of supervisord's [program:x].
var svProgramKeys = []string{"command", "process_name", "numprocs", "numprocs_start", "priority", "autostart",
	"startsecs", "startretries", "autorestart", "exitcodes", "stopsignal", "stopwaitsecs", "stopasgroup",
	"killasgroup", "user", "redirect_stderr", "stdout_logfile", "stdout_logfile_maxbytes",
	"stdout_logfile_backups", "stdout_capture_maxbytes", "stdout_events_enabled", "stdout_syslog",
	"stderr_logfile", "stderr_logfile_maxbytes", "stderr_logfile_backups", "stderr_capture_maxbytes",
	"stderr_events_enabled", "stderr_syslog", "environment", "directory", "umask", "serverurl"}

// svRenamed are the program keys whose value Ramona reads as it is, under
// its own name.
var svRenamed = map[string]string{"process_name": "process_name", "numprocs": "numprocs",
	"numprocs_start": "numprocs_start", "autostart": "autostart", "startsecs": "starttimeout",
	"startretries": "startretries", "autorestart": "autorestart", "exitcodes": "exitcodes",
	"stopsignal": "killby", "user": "user", "environment": "environment", "umask": "umask"}

// svKeyInRamona names Ramona's key for the program keys of supervisord's
// that Ramona calls otherwise, for the warning about one in a Ramona file.
var svKeyInRamona = map[string]string{"startsecs": "starttimeout", "stopsignal": "killby", "stopwaitsecs": "stoptimeout",
	"stopasgroup": "processgroup", "killasgroup": "processgroup", "redirect_stderr": "stderr=<stdout>",
	"stdout_logfile": "stdout", "stderr_logfile": "stderr", "stdout_logfile_maxbytes": "logmaxsize",
	"stderr_logfile_maxbytes": "logmaxsize", "stdout_logfile_backups": "logbackups", "stderr_logfile_backups": "logbackups"}

// program translates one [program:x].
func (t *svTranslator) program(sec *iniSection) {
	out := t.section(sec.name, sec)
	keys := slices.Clone(sec.order)
	if def := t.in.sections["DEFAULT"]; def != nil {
		for _, k := range def.order {
			if sec.values[k] == nil && slices.Contains(svProgramKeys, k) {
				keys = append(keys, k)
			}
		}
	}
	names := map[string]string{"program_name": strings.TrimPrefix(sec.name, "program:"), "group_name": strings.TrimPrefix(sec.name, "program:")}
	boolKey := func(key string, def bool) (bool, *iniValue) {
		v := t.get(sec, key)
		if v == nil {
			return def, nil
		}
		s, err := t.eval(sec, v, names)
		if err == nil {
			var b bool
			if b, err = parseBool(s); err == nil {
				return b, v
			}
		}
		t.fail(sec, v, "%v", err)
		return def, v
	}
	for _, key := range keys {
		v := t.get(sec, key)
		if ramonaKey, ok := svRenamed[key]; ok {
			t.put(out, v, ramonaKey, withHere(v, t.ld.dirOf))
			continue
		}
		switch key {
		case "command":
			t.put(out, v, "command", shlexToRamona(withHere(v, t.ld.dirOf)))
		case "directory":
			t.put(out, v, "directory", t.pathValue(v, true))
		case "stopwaitsecs":
			if strings.TrimLeft(v.value, "0") == "" && v.value != "" {
				t.put(out, v, "stoptimeout", "10ms")
				t.warn(sec, v, "0: Ramona sends SIGKILL 10ms after the stop signal")
				continue
			}
			t.put(out, v, "stoptimeout", v.value)
		case "priority", "stopasgroup", "killasgroup", "redirect_stderr",
			"stdout_logfile", "stderr_logfile", "stdout_logfile_maxbytes", "stderr_logfile_maxbytes",
			"stdout_logfile_backups", "stderr_logfile_backups":
			// below, from several keys
		case "stdout_capture_maxbytes", "stderr_capture_maxbytes":
			if strings.TrimLeft(v.value, "0") != "" {
				t.warn(sec, v, "ignored: capture mode feeds event listeners, which Ramona does not run; logscan_stdout/logscan_stderr notify on keywords")
			}
		case "stdout_events_enabled", "stderr_events_enabled":
			if b, _ := parseBool(v.value); b {
				t.warn(sec, v, "ignored: Ramona has no event listeners; logscan_stdout/logscan_stderr notify on keywords")
			}
		case "stdout_syslog", "stderr_syslog":
			if b, _ := parseBool(v.value); b {
				t.warn(sec, v, "ignored: Ramona does not log to syslog; <console> (the server's stdout/stderr, which systemd keeps in the journal) comes closest")
			}
		case "serverurl":
			if !strings.EqualFold(strings.TrimSpace(v.value), "auto") {
				t.warn(sec, v, "ignored: programs do not talk to Ramona over XML-RPC")
			}
		default:
			t.warn(sec, v, "unknown key, ignored%s", didYouMean(key, svProgramKeys))
		}
	}

	stopAsGroup, sag := boolKey("stopasgroup", false)
	killAsGroup, kag := boolKey("killasgroup", stopAsGroup)
	switch {
	case stopAsGroup && !killAsGroup:
		t.fail(sec, kag, "stopasgroup=true needs killasgroup=true (supervisord refuses this too)")
	case stopAsGroup:
		t.put(out, sag, "processgroup", "yes")
	case killAsGroup:
		t.put(out, kag, "processgroup", "yes")
		t.warn(sec, kag, "Ramona sends every signal of a stop to the same processes: with processgroup=yes the stop signal goes to the whole process group too, not only SIGKILL")
	case sag != nil:
		t.put(out, sag, "processgroup", "no")
	}
	t.outputs(sec, out, boolKey)
}

// outputs translates redirect_stderr and the *_logfile keys into stdout,
// stderr and the log rotation of the program.
func (t *svTranslator) outputs(sec, out *iniSection, boolKey func(string, bool) (bool, *iniValue)) {
	redirect, rv := boolKey("redirect_stderr", false)
	target := func(stream string) (string, *iniValue) {
		v := t.get(sec, stream+"_logfile")
		if v == nil {
			return "<logdir>", nil
		}
		switch s := strings.ToLower(strings.TrimSpace(v.value)); s {
		case "none", "off":
			return "<null>", v
		case "auto":
			return "<logdir>", v
		case "syslog":
			t.warn(sec, v, "Ramona does not log to syslog; using <console> (the server's stdout/stderr, which systemd keeps in the journal)")
			return "<console>", v
		case "/dev/stdout", "/dev/stderr", "/dev/fd/1", "/dev/fd/2":
			if s != "/dev/"+stream && s != "/dev/fd/"+map[string]string{"stdout": "1", "stderr": "2"}[stream] {
				t.warn(sec, v, "<console> writes a program's %s to the server's %s", stream, stream)
			}
			return "<console>", v
		}
		return t.pathValue(v, false), v
	}
	stdout, so := target("stdout")
	stderr, se := target("stderr")
	if redirect {
		if se != nil && stderr != "<logdir>" && stderr != "<null>" {
			t.warn(sec, se, "ignored: redirect_stderr=true sends stderr to stdout's log")
		}
		stderr, se = "<stdout>", rv
	}
	if so != nil {
		t.put(out, so, "stdout", stdout)
	}
	if se != nil {
		t.put(out, se, "stderr", stderr)
	}
	// Ramona rotates both files of a program alike: the settings of the
	// stream that goes to a file, stdout's when both do.
	toFile := func(target string) bool { return target == "<logdir>" || !strings.HasPrefix(target, "<") }
	var streams []string
	for _, st := range []struct{ name, target string }{{"stdout", stdout}, {"stderr", stderr}} {
		if toFile(st.target) {
			streams = append(streams, st.name)
		}
	}
	for _, setting := range []struct{ sv, ramona string }{{"_logfile_maxbytes", "logmaxsize"}, {"_logfile_backups", "logbackups"}} {
		var chosen *iniValue
		for i, stream := range streams {
			v := t.get(sec, stream+setting.sv)
			if i == 0 {
				chosen = v
				continue
			}
			if first := t.get(sec, streams[0]+setting.sv); (v == nil) != (first == nil) || v != nil && v.value != first.value {
				w := v
				if w == nil {
					w = first
				}
				t.warn(sec, w, "Ramona rotates a program's log files alike: both use %s%s", streams[0], setting.sv)
			}
		}
		if chosen != nil {
			value := chosen.value
			if setting.ramona == "logmaxsize" {
				value = svMaxBytes(value)
			}
			t.put(out, chosen, setting.ramona, value)
		}
	}
}

// svPriority is Ramona's priority for supervisord's: supervisord starts
// lower numbers first, Ramona higher ones.
func svPriority(p int) int { return 1000 - p }

// priorities sets each program's priority: its own, else its [group:g]'s,
// else supervisord's default 999, turned around for Ramona. supervisord
// orders by the group's priority first; where that gives another order
// than the programs' own priorities, a warning says so.
func (t *svTranslator) priorities(programs []*iniSection, groupOf map[string]*iniSection) {
	type order struct {
		sec          *iniSection
		group, own   int
		ramona       int
		from         *iniValue
		groupSection *iniSection
	}
	intKey := func(sec *iniSection, key string, names map[string]string) (int, *iniValue, bool) {
		v := t.get(sec, key)
		if v == nil {
			return 999, nil, true
		}
		s, err := t.eval(sec, v, names)
		n, nerr := strconv.Atoi(strings.TrimSpace(s))
		if err == nil && nerr != nil {
			err = fmt.Errorf("%q is not a whole number", s)
		}
		if err != nil {
			return 999, v, false
		}
		return n, v, true
	}
	var all []order
	for _, sec := range programs {
		name := strings.TrimPrefix(sec.name, "program:")
		o := order{sec: sec}
		names := map[string]string{"program_name": name, "group_name": name}
		own, ownV, ok := intKey(sec, "priority", names)
		if !ok {
			t.fail(sec, ownV, "%q is not a whole number", ownV.value)
			continue
		}
		o.own, o.group, o.from = own, own, ownV
		if g := groupOf[sec.name]; g != nil {
			names["group_name"] = strings.TrimPrefix(g.name, "group:")
			gp, gv, ok := intKey(g, "priority", names)
			if !ok {
				t.fail(g, gv, "%q is not a whole number", gv.value)
			} else if gv != nil {
				o.group, o.groupSection = gp, g
				if ownV == nil {
					o.own, o.from = gp, gv
				}
			} else {
				o.group = 999
			}
		}
		o.ramona = svPriority(o.own)
		if o.from != nil {
			t.put(t.section(sec.name, sec), o.from, "priority", strconv.Itoa(o.ramona))
		}
		all = append(all, o)
	}
	for _, a := range all {
		for _, b := range all {
			before := a.group < b.group || a.group == b.group && a.own < b.own
			if before && a.ramona < b.ramona && a.groupSection != nil {
				t.warn(a.groupSection, a.groupSection.values["priority"],
					"supervisord starts %s (priority %d) before %s (priority %d) by this group priority; Ramona orders programs by their own priority and starts %s first",
					strings.TrimPrefix(a.sec.name, "program:"), a.own, strings.TrimPrefix(b.sec.name, "program:"), b.own, strings.TrimPrefix(b.sec.name, "program:"))
				return
			}
		}
	}
}

// shlexToRamona rewrites a command that supervisord splits with Python's
// shlex.split (POSIX mode, no $ expansion) so that Ramona's splitting gives
// the same words: $ is doubled (Ramona expands $VAR), and inside "..." a
// backslash before $ or ` is kept (shlex keeps it, Ramona would drop it).
func shlexToRamona(s string) string {
	var b strings.Builder
	quote := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			}
			b.WriteByte(c)
		case c == '$':
			b.WriteString("$$")
		case c == '\\' && i+1 < len(s):
			next := s[i+1]
			switch {
			case quote == '"' && (next == '$' || next == '`'):
				b.WriteString(`\\`)
				continue // the $ or ` itself next time round
			case quote == '"' && next != '"' && next != '\\':
				b.WriteByte('\\') // shlex keeps it; so does Ramona before other characters
				continue
			}
			b.WriteByte(c)
			b.WriteByte(next)
			i++
		case c == '"' || c == '\'':
			if quote == 0 {
				quote = c
			} else if quote == c {
				quote = 0
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
