// Loading the configuration: reading the files with their includes (and
// supervisord's files through their translation), the section reader that
// runs every key of a section through its keySpec table (interpolation,
// defaults, file:line on every error), unknown-key warnings, and the
// resolution of the merged document into the typed Config: each
// [program:x] into its numprocs processes, the [group:x] of each.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// loader holds the state of one loadConfig call.
type loader struct {
	doc        *iniDoc
	cfg        *Config
	environ    map[string]string // the server's environment
	mainDir    string            // directory of the first config file
	envSets    map[string][]EnvVar
	read       map[string]string // absolute path -> the file that included it ("" for -c files)
	errs       ConfigErrors
	fileKeys   map[string][]*iniValue // [general] include entries per file, for include rounds
	dirs       map[string]string      // file as named in the document -> its absolute directory
	fileOrder  []string               // files as named in the document, in the order read
	host       string                 // os.Hostname(), once asked
	siteconf   map[string]bool        // included files (named by absolute path) that <siteconf> brought in
	noPrograms bool                   // leave [program:x] sections unresolved: the command needs none
}

// hostname is this machine's name, for %(host_node_name)s.
func (ld *loader) hostname() string {
	if ld.host == "" {
		ld.host, _ = os.Hostname()
	}
	return ld.host
}

// sectionReader reads the keys of one section through a keySpec table.
type sectionReader struct {
	ld    *loader
	sec   *iniSection
	at    *iniValue // the entry being read; nil for a default
	errs  []*ConfigError
	known map[string]bool

	// A program's reader also knows the names of its process
	// (%(program_name)s, %(process_num)d ...) and looks %(ENV_X)s up in the
	// program's own environment before the server's.
	names  map[string]string
	envVar func(string) (string, bool)
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
		if r.at.written != "" { // translated from supervisord's key
			e.Key = r.at.written
		}
	} else {
		e.File, e.Line = r.sec.file, r.sec.line
	}
	r.errs = append(r.errs, e)
}

// value returns the interpolated value of key, or def when it is not set
// (a default with a %(name)s reference is interpolated too).
func (r *sectionReader) value(key, def string) (string, bool) {
	r.at = r.ld.doc.get(r.sec, key)
	at := r.at
	if at == nil {
		if !strings.Contains(def, "%(") {
			return def, true
		}
		at = &iniValue{key: key, value: def, file: r.sec.file, line: r.sec.line}
	} else {
		r.known[key] = true // only keys that are set: unknownKeys looks at nothing else
	}
	v, err := r.ld.doc.interpolate(r.sec, at, r.extraNames(at.file))
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

// extraNames is loader.extraNames with the program's own names and
// environment, for a program's reader.
func (r *sectionReader) extraNames(file string) func(string) (string, error) {
	base := r.ld.extraNames(file, r.envVar)
	if r.names == nil {
		return base
	}
	return func(name string) (string, error) {
		if v, ok := r.names[name]; ok {
			return v, nil
		}
		return base(name)
	}
}

// extraNames gives the names every value may refer to besides keys, for a
// value written in file: %(here)s, the file's directory, %(host_node_name)s,
// this machine's name, and %(ENV_X)s, the variable X of the server's
// environment; envVar, when not nil, is asked first (a program's own).
func (ld *loader) extraNames(file string, envVar func(string) (string, bool)) func(string) (string, error) {
	return func(name string) (string, error) {
		if name == "here" {
			return ld.dirOf(file), nil
		}
		if name == "host_node_name" {
			return ld.hostname(), nil
		}
		if env, ok := strings.CutPrefix(name, "ENV_"); ok {
			if envVar != nil {
				if v, ok := envVar(env); ok {
					return v, nil
				}
			}
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
		if alias, ok := keyAliases[strings.ToLower(k)]; ok && slices.Contains(words, alias) {
			s = alias
		}
		if ramona, ok := svKeyInRamona[k]; ok && strings.HasPrefix(r.sec.name, "program:") {
			msg += fmt.Sprintf(" (supervisord's key: Ramona's is %s; Ramona reads a supervisord file as such when it has a [supervisord] section, and `ramona convert` translates one)", ramona)
		} else if s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", s)
		} else if typosOnly {
			continue
		}
		r.ld.cfg.Warnings = append(r.ld.cfg.Warnings, &ConfigError{File: v.file, Line: v.line, Section: r.sec.name, Key: k, Msg: msg})
	}
}

// keyAliases are names other documents use for Ramona's keys, too far from
// them for closestWord: the Python original's manual writes cmd=, other
// supervisors and container files say cwd or workdir.
var keyAliases = map[string]string{"cmd": "command", "cwd": "directory", "workdir": "directory", "working_directory": "directory"}

func (ld *loader) reader(sec *iniSection) *sectionReader {
	r := &sectionReader{ld: ld, sec: sec, known: map[string]bool{}}
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
	cfg, err := loadConfigReport(files, environ)
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

// loadConfigReport is loadConfig that also returns, with an error, what was
// read so far (Sources, Warnings, what resolved), for `ramona check`.
func loadConfigReport(files []string, environ []string) (*Config, error) {
	return newLoader(environ).load(files)
}

// loadClientConfig is loadConfigReport for a command that only talks to the
// server about programs it names (status, tail, who): the [program:x]
// sections are read but not resolved, and Programs stays empty; the server
// knows them. With 1000 programs this is most of the reading: their lines
// are not even kept, only their headers ([group:x] names them).
func loadClientConfig(files []string, environ []string) (*Config, error) {
	ld := newLoader(environ)
	ld.noPrograms = true
	ld.doc.headerOnly = func(section string) bool { return strings.HasPrefix(section, "program:") }
	return ld.load(files)
}

func newLoader(environ []string) *loader {
	ld := &loader{
		doc:      newINIDoc(),
		cfg:      &Config{},
		environ:  map[string]string{},
		envSets:  map[string][]EnvVar{},
		read:     map[string]string{},
		fileKeys: map[string][]*iniValue{},
		dirs:     map[string]string{},
		siteconf: map[string]bool{},
	}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			ld.environ[k] = v
		}
	}
	return ld
}

// load reads the files named by -c and everything they include.
func (ld *loader) load(files []string) (*Config, error) {
	if len(files) == 0 {
		return ld.cfg, ConfigErrors{{Msg: "no configuration file given; use -c FILE or set $RAMONA_CONFIG"}}
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
		at := len(ld.cfg.Sources) // before the files a supervisord [include] adds
		if err := ld.readFile(f, abs); err != nil {
			ld.errs = append(ld.errs, &ConfigError{File: f, Msg: fmt.Sprintf("cannot read the configuration file: %v", pathErrText(err))})
			continue
		}
		ld.read[abs] = ""
		ld.cfg.Files = append(ld.cfg.Files, abs)
		ld.cfg.Sources = slices.Insert(ld.cfg.Sources, at, ConfigSource{Path: abs})
		round = append(round, f)
	}
	if len(ld.errs) > 0 {
		return ld.cfg, ld.errs
	}
	return ld.finish(round)
}

// loadConfigText is loadConfig for one file whose text is given (convert
// checks its own output with it); name is where the text would be.
func loadConfigText(name string, text []byte, environ []string) (*Config, error) {
	ld := newLoader(environ)
	abs := absPath(name)
	ld.readData(name, abs, text)
	ld.read[abs] = ""
	ld.cfg.Files = []string{abs}
	ld.cfg.Sources = slices.Insert(ld.cfg.Sources, 0, ConfigSource{Path: abs})
	return ld.finish([]string{name})
}

// finish follows the includes of the files read (round) and resolves the
// document into the Config.
func (ld *loader) finish(round []string) (*Config, error) {
	ld.mainDir = filepath.Dir(ld.cfg.Files[0])
	ld.followIncludes(round)
	ld.doc.applyPlatformOverrides(currentPlatform)
	ld.cfg.Warnings = append(ld.cfg.Warnings, ld.doc.warnings...)
	ld.findSiteOverrides()
	ld.resolve()
	if len(ld.errs) > 0 {
		return ld.cfg, ld.errs
	}
	return ld.cfg, nil
}

// findSiteOverrides lists the keys whose winning value comes from a
// <siteconf> file although another file set them too.
func (ld *loader) findSiteOverrides() {
	type place struct{ section, key string }
	lost := map[place]*iniValue{} // the last value of a file not from <siteconf> that was set over
	var order []place
	for _, ov := range ld.doc.overrides {
		at := place{ov.section, ov.new.key}
		if !ld.siteconf[ov.old.file] {
			if _, seen := lost[at]; !seen {
				order = append(order, at)
			}
			lost[at] = ov.old
		}
	}
	for _, at := range order {
		win := ld.doc.sections[at.section].values[at.key]
		if win == nil || !ld.siteconf[win.file] {
			continue
		}
		old := lost[at]
		ld.cfg.Siteconf = append(ld.cfg.Siteconf, SiteOverride{Section: at.section, Key: at.key,
			File: win.file, Line: win.line, OverFile: old.file, OverLine: old.line})
	}
}

// readFile parses one file into the document and remembers its include
// keys.
func (ld *loader) readFile(name, abs string) error {
	data, err := os.ReadFile(abs)
	if err != nil {
		return err
	}
	ld.readData(name, abs, data)
	return nil
}

// readData is readFile for a file's text. A file of supervisord's is
// translated, with its own includes.
func (ld *loader) readData(name, abs string, data []byte) {
	if isSupervisordConfig(data) {
		ld.readSupervisord(name, abs, data)
		return
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
}

// readSupervisord merges the translation of supervisord's file (and of the
// files its [include] names) into the document.
func (ld *loader) readSupervisord(name, abs string, data []byte) {
	ld.mergeSupervisord(name, abs, ld.translateSupervisord(name, abs, data))
}

// mergeSupervisord merges a translation of supervisord's file name.
func (ld *loader) mergeSupervisord(name, abs string, tr *svTranslation) {
	ld.doc.merge(tr.out)
	ld.fileOrder = append(ld.fileOrder, tr.files...)
	for _, f := range tr.files[1:] {
		ld.read[f] = abs
		ld.cfg.Included = append(ld.cfg.Included, f)
		ld.cfg.Sources = append(ld.cfg.Sources, ConfigSource{Path: f, Via: "include", From: abs})
	}
	ld.cfg.Warnings = append(ld.cfg.Warnings, tr.warnings...)
	if g := tr.out.sections["general"]; g != nil && g.values["include"] != nil {
		ld.fileKeys[name] = append(ld.fileKeys[name], g.values["include"])
	}
}

// followIncludes reads included files round by round, as ConfigParser-based
// Ramona did: after a round, the include value set last by a file of that
// round names the next files (the first round defaults to <siteconf>). Each
// entry is relative to the file that wrote it. A file that includes one of
// its own includers is a loop and an error; a file already read is skipped.
func (ld *loader) followIncludes(round []string) {
	for depth := 0; len(round) > 0; depth++ {
		inc, value, baseDir, ok := ld.roundIncludeValue(round, depth)
		if !ok {
			return
		}
		var next []string
		for _, entry := range strings.Split(value, ";") {
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			paths, optional, ok := ld.includeEntryPaths(entry, inc)
			if !ok {
				continue
			}
			for _, p := range paths {
				if abs, ok := ld.includeFile(resolvePath(p, baseDir), inc, optional); ok {
					next = append(next, abs)
				}
			}
		}
		round = next
	}
}

// roundIncludeValue is the include value that names the next round: the one
// a file of this round set last, interpolated, with the directory its entries
// are relative to; <siteconf> beside the main file for the first round when
// no file set one. ok is false when the value cannot be interpolated (the
// error is recorded).
func (ld *loader) roundIncludeValue(round []string, depth int) (inc *iniValue, value, baseDir string, ok bool) {
	for _, f := range round {
		if v := pickPlatform(ld.fileKeys[f], "include"); v != nil {
			inc = v
		}
	}
	switch {
	case inc != nil:
		s, err := ld.doc.interpolate(ld.doc.sections["general"], inc, ld.extraNames(inc.file, nil))
		if err != nil {
			ld.errs = append(ld.errs, includeError(inc, err.Error()))
			return nil, "", "", false
		}
		return inc, s, filepath.Dir(absPath(inc.file)), true
	case depth == 0:
		return nil, "<siteconf>", ld.mainDir, true
	}
	return nil, "", "", true
}

// includeEntryPaths expands one entry of an include value: <siteconf> is the
// optional site files, any other <...> is warned about and skipped.
func (ld *loader) includeEntryPaths(entry string, inc *iniValue) (paths []string, optional, ok bool) {
	if entry == "<siteconf>" {
		app := ld.appName()
		return []string{"./site.conf", "./" + app + "-site.conf", "/etc/" + app + ".conf", "~/." + app + ".conf"}, true, true
	}
	if strings.HasPrefix(entry, "<") {
		ld.cfg.Warnings = append(ld.cfg.Warnings, includeError(inc,
			fmt.Sprintf("unknown include %s, ignored (the only magic value is <siteconf>)", entry)))
		return nil, false, false
	}
	return []string{entry}, false, true
}

// includeFile reads one included file unless it was read already (a loop is
// an error) and records where it came from; ok says it was read now and
// belongs to the next round. Only regular files are read: a directory cannot
// be, and a device or a pipe (/dev/zero, a FIFO) could block or never end.
// <siteconf> files are optional: one that is missing or cannot be read (such
// as /etc/APPNAME.conf readable by root only) is skipped.
func (ld *loader) includeFile(abs string, inc *iniValue, optional bool) (string, bool) {
	from := ""
	if inc != nil {
		from = inc.file
	}
	if _, done := ld.read[abs]; done {
		if chain := ld.includeChain(absPath(from)); from != "" && contains(chain, abs) {
			ld.errs = append(ld.errs, includeError(inc,
				fmt.Sprintf("include loop: %s; remove one of these includes", strings.Join(append(reverse(chain), abs), " -> "))))
		}
		return "", false
	}
	fi, err := os.Stat(abs)
	if err != nil {
		if !optional {
			ld.cfg.Warnings = append(ld.cfg.Warnings, includeError(inc, fmt.Sprintf("%s: %s, skipped", abs, pathErrText(err))))
		}
		return "", false
	}
	var problem string
	if !fi.Mode().IsRegular() {
		problem = "not a regular file"
	} else if err := ld.readFile(abs, abs); err != nil {
		problem = pathErrText(err)
	}
	switch {
	case problem != "" && optional:
		ld.cfg.Warnings = append(ld.cfg.Warnings, &ConfigError{File: abs, Msg: problem + ", skipped (<siteconf>)"})
		return "", false
	case problem != "" && !fi.Mode().IsRegular():
		ld.errs = append(ld.errs, includeError(inc, fmt.Sprintf("%s is not a regular file; include only configuration files", abs)))
		return "", false
	case problem != "":
		ld.errs = append(ld.errs, includeError(inc, fmt.Sprintf("cannot read %s: %s", abs, problem)))
		return "", false
	}
	ld.read[abs] = absPath(from)
	ld.cfg.Included = append(ld.cfg.Included, abs)
	src := ConfigSource{Path: abs, Via: "include", Siteconf: optional || ld.siteconf[from]}
	if optional {
		src.Via = "<siteconf>"
	}
	if inc != nil {
		src.From, src.Line = absPath(inc.file), inc.line
	}
	ld.siteconf[abs] = src.Siteconf
	ld.cfg.Sources = append(ld.cfg.Sources, src)
	return abs, true
}

// includeError is an error or warning about the include value inc.
func includeError(inc *iniValue, msg string) *ConfigError {
	return &ConfigError{File: inc.file, Line: inc.line, Section: "general", Key: "include", Msg: msg}
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

// resolve turns the merged document into the typed Config: the global
// sections, the environment sets, then programs, groups and tools in the
// order of the files; warnings sorted by file and line.
func (ld *loader) resolve() {
	ld.errs = append(ld.errs, ld.doc.errs...)
	ld.resolveGlobal("general", generalKeys)
	ld.resolveGlobal("ramona:server", serverKeys)
	ld.resolveGlobal("ramona:console", consoleKeys)
	ld.resolveGlobal("ramona:notify", notifyKeys)
	ld.resolveEnvSets()
	ld.resolveSections()
	ld.resolveDepends(ld.cfg.Programs)
	ld.sortWarnings()
}

// resolveGlobal reads one of the sections of server-wide settings.
func (ld *loader) resolveGlobal(name string, specs []keySpec[*Config]) {
	r := ld.reader(ld.doc.sections[name])
	r.sec.name = name
	readSection(r, specs, ld.cfg)
	ld.errs = append(ld.errs, r.errs...)
	if ld.doc.sections[name] != nil {
		r.unknownKeys(func() []string { return specNames(specs) }, name == "general")
	}
}

// resolveEnvSets reads [env] and every [env:NAME] into ld.envSets; the
// unnamed set always exists.
func (ld *loader) resolveEnvSets() {
	doc := ld.doc
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
	if len(ld.envSets) > 0 {
		ld.warnDefaultsNotExported()
	}
	if _, ok := ld.envSets[""]; !ok {
		ld.envSets[""] = []EnvVar{}
	}
}

// resolveSections reads programs and tools in the order of the files, each
// program name and log file claimed once, and reports what the other
// sections hold that Ramona does not read.
func (ld *loader) resolveSections() {
	doc, cfg := ld.doc, ld.cfg
	logOwners := map[string]string{}
	if cfg.Server.Log != "" {
		logOwners[cfg.Server.Log] = "the server's own log ([ramona:server] log)"
	}
	groupOf := ld.groups()
	nameOwners := map[string]*ProgramConfig{}
	for _, name := range doc.order {
		sec := doc.sections[name]
		switch {
		case strings.HasPrefix(name, "program:") && ld.noPrograms:
		case strings.HasPrefix(name, "program:"):
			for _, p := range ld.programs(sec, strings.TrimPrefix(name, "program:"), groupOf[name]) {
				if q := nameOwners[p.Name]; q != nil {
					p.Err = ConfigErrors{{File: p.File, Line: p.Line, Section: name,
						Msg: fmt.Sprintf("program name %s is already used by [program:%s] (%s:%d); give each program its own name (process_name)", p.Name, q.Section, q.File, q.Line)}}
					p.Name = fmt.Sprintf("%s#%d", p.Name, len(cfg.Programs)+1) // unique, so that the table keeps both
				}
				nameOwners[p.Name] = p
				ld.claimLogFiles(p, sec, logOwners)
				cfg.Programs = append(cfg.Programs, p)
			}
		case strings.HasPrefix(name, "group:"):
			// read by ld.groups
		case strings.HasPrefix(name, "tool:"):
			cfg.Tools = append(cfg.Tools, ld.tool(sec, strings.TrimPrefix(name, "tool:")))
		case name == "general" || name == "ramona:server" || name == "ramona:console" || name == "ramona:notify" ||
			name == "env" || strings.HasPrefix(name, "env:"):
			// read by resolveGlobal and resolveEnvSets, with their syntax errors
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
}

// sortWarnings orders the warnings as the files were read, then by line.
func (ld *loader) sortWarnings() {
	rank := map[string]int{}
	for i, f := range ld.fileOrder {
		rank[f] = i + 1
	}
	ws := ld.cfg.Warnings
	sort.SliceStable(ws, func(i, j int) bool {
		if rank[ws[i].File] != rank[ws[j].File] {
			return rank[ws[i].File] < rank[ws[j].File]
		}
		return ws[i].Line < ws[j].Line
	})
}

// warnDefaultsNotExported: the Python original's ConfigParser listed the
// [DEFAULT] keys among the items of every section, so they went into the
// environment of every [env] and [env:NAME] set there was. Ramona keeps
// [DEFAULT] for what every section reads (convert's supervisord defaults
// live there), and says so for each key no section of Ramona's knows,
// which the original would have exported. Called when an env set exists.
func (ld *loader) warnDefaultsNotExported() {
	def := ld.doc.sections["DEFAULT"]
	if def == nil {
		return
	}
	known := map[string]bool{}
	for _, names := range [][]string{specNames(programKeys), specNames(toolKeys), specNames(generalKeys),
		specNames(serverKeys), specNames(consoleKeys), specNames(notifyKeys)} {
		for _, n := range names {
			known[n] = true
		}
	}
	for _, k := range def.order {
		if known[k] {
			continue
		}
		v := def.values[k]
		ld.cfg.Warnings = append(ld.cfg.Warnings, &ConfigError{File: v.file, Line: v.line, Section: "DEFAULT", Key: k,
			Msg: fmt.Sprintf("not exported into the programs' environment (the Python original added every [DEFAULT] key to each [env] set); to export it, write %s=%%(%s)s in [env] or [env:NAME]", k, k)})
	}
}

// claimLogFiles records the log files of p; a file another program (or the
// server) already writes puts p in CFGERROR.
func (ld *loader) claimLogFiles(p *ProgramConfig, sec *iniSection, logOwners map[string]string) {
	me := "[" + sec.name + "]"
	if p.Name != p.Section {
		me = fmt.Sprintf("[%s] (process %s)", sec.name, p.Name)
	}
	for _, out := range []struct {
		key    string
		target OutputTarget
	}{{"stdout", p.Stdout}, {"stderr", p.Stderr}} {
		if p.Err != nil || out.target.Kind != OutFile {
			continue
		}
		path := out.target.Path
		if owner, taken := logOwners[path]; taken && owner != me {
			e := &ConfigError{File: p.File, Line: p.Line, Section: sec.name, Key: out.key,
				Msg: fmt.Sprintf("log file %s is already used by %s; give each program its own file", path, owner)}
			if v := ld.doc.get(sec, out.key); v != nil { // else the default named it: point at the section
				e.File, e.Line = v.file, v.line
				if v.written != "" {
					e.Key = v.written
				}
			}
			p.Err = ConfigErrors{e}
		} else {
			logOwners[path] = me
		}
	}
}

// groups reads the [group:NAME] sections: programs= names the [program:x]
// sections whose processes belong to group NAME (as in supervisord). It
// returns the group of each program section that is in one; a mistake is
// an error of the whole configuration.
func (ld *loader) groups() map[string]string {
	groupOf := map[string]string{}
	where := map[string]*iniValue{}
	for _, name := range ld.doc.order {
		group, ok := strings.CutPrefix(name, "group:")
		if !ok {
			continue
		}
		sec := ld.doc.sections[name]
		r := ld.reader(sec)
		if err := checkName(group); err != nil {
			r.errs = append(r.errs, &ConfigError{File: sec.file, Line: sec.line, Section: name, Msg: err.Error()})
		}
		list, _ := r.value("programs", "")
		at := r.at
		if at == nil && len(r.errs) == 0 {
			r.fail("programs", errors.New("missing; a group names its programs, e.g. programs=web,worker"))
		}
		for _, prog := range strings.Split(list, ",") {
			prog = strings.TrimSpace(prog)
			switch {
			case prog == "":
			case ld.doc.sections["program:"+prog] == nil:
				r.fail("programs", fmt.Errorf("there is no [program:%s] section; define it or remove %s from the list", prog, prog))
			case where["program:"+prog] != nil && groupOf["program:"+prog] != group:
				first := where["program:"+prog]
				r.fail("programs", fmt.Errorf("%s is already in [group:%s] (%s:%d); a program belongs to one group", prog, groupOf["program:"+prog], first.file, first.line))
			default:
				groupOf["program:"+prog], where["program:"+prog] = group, at
			}
			r.at = at
		}
		r.unknownKeys(func() []string { return []string{"programs"} }, false)
		ld.errs = append(ld.errs, r.errs...)
	}
	return groupOf
}

// programs reads one [program:NAME] section into its processes: one, or
// numprocs of them named by process_name. A mistake in numprocs,
// numprocs_start or process_name makes one program in CFGERROR.
func (ld *loader) programs(sec *iniSection, name, group string) []*ProgramConfig {
	if group == "" {
		group = name
	}
	names := map[string]string{"program_name": name, "group_name": group}
	first := &ProgramConfig{Name: name, Section: name, Group: group, File: sec.file, Line: sec.line, BaseDir: ld.dirOf(sec.file)}
	r := ld.reader(sec)
	r.names = names
	if err := checkName(name); err != nil {
		r.errs = append(r.errs, &ConfigError{File: sec.file, Line: sec.line, Section: sec.name, Msg: err.Error()})
	}
	readSection(r, instanceKeys, first)
	if first.NumProcs > 1 {
		if raw := ld.doc.get(sec, "process_name"); raw == nil || !strings.Contains(raw.value, "%(process_num)") {
			r.at = raw
			r.fail("process_name", fmt.Errorf("numprocs=%d needs a name per process: write %%(process_num)d in process_name, e.g. process_name=%%(program_name)s_%%(process_num)02d", first.NumProcs))
		}
	}
	if len(r.errs) > 0 {
		first.Err = ConfigErrors(r.errs)
		return []*ProgramConfig{first}
	}
	var procs []*ProgramConfig
	for n := first.ProcessNum; n < first.ProcessNum+first.NumProcs; n++ {
		procs = append(procs, ld.program(sec, first, n))
	}
	return procs
}

// program reads process number num of a [program:x] section; template holds
// what programs read before (numprocs, numprocs_start).
func (ld *loader) program(sec *iniSection, template *ProgramConfig, num int) *ProgramConfig {
	p := &ProgramConfig{Section: template.Section, Group: template.Group, File: sec.file, Line: sec.line, BaseDir: template.BaseDir,
		NumProcs: template.NumProcs, ProcessNum: num}
	r := ld.reader(sec)
	r.names = map[string]string{"program_name": p.Section, "group_name": p.Group,
		"process_num": strconv.Itoa(num), "numprocs": strconv.Itoa(p.NumProcs)}
	r.envVar = p.envVar
	readSection(r, programKeys[len(instanceKeys):], p)
	if p.Name == "" { // process_name failed
		p.Name = p.Section
		if p.NumProcs > 1 {
			p.Name = fmt.Sprintf("%s_%d", p.Section, num)
		}
	}
	warn := num == template.ProcessNum // the warnings of a section once, not per process
	if !p.HTTPFrontend && warn {
		for k := range frontendOnlyKeys {
			if v := sec.values[k]; v != nil {
				ld.cfg.Warnings = append(ld.cfg.Warnings, &ConfigError{File: v.file, Line: v.line, Section: sec.name, Key: k,
					Msg: "only used with command=<httpfend>, ignored"})
			}
		}
	}
	ld.limitWarnings(sec, p)
	if p.Stdout.Kind == OutMerged && p.Stderr.Kind == OutMerged {
		r.at = ld.doc.get(sec, "stdout") // fail reports the line of r.at
		r.fail("stdout", errors.New("stdout=<stderr> and stderr=<stdout> send each stream to the other; send one of them to a file, <logdir>, <console> or <null>"))
	}
	if warn {
		for _, ks := range instanceKeys {
			r.known[ks.key] = true // read by programs
		}
		r.unknownKeys(func() []string { return specNames(programKeys) }, false)
	}
	if len(r.errs) > 0 {
		p.Err = ConfigErrors(r.errs)
	}
	return p
}

// limitAt remembers where a cgroup limit key of p was set.
func (r *sectionReader) limitAt(p *ProgramConfig, key string) {
	if r.at == nil {
		return
	}
	if p.LimitsAt == nil {
		p.LimitsAt = map[string]string{}
	}
	p.LimitsAt[key] = fmt.Sprintf("%s:%d", r.at.file, r.at.line)
}

// limitWarnings: a cgroup limit that cannot apply whatever the machine
// offers (cgroups off, or not Linux) is a warning at load; one that needs a
// controller the server's cgroup lacks is warned about at spawn.
func (ld *loader) limitWarnings(sec *iniSection, p *ProgramConfig) {
	why := ""
	switch {
	case currentPlatform != "linux":
		why = "cgroups exist only on Linux"
	case ld.cfg.Server.Cgroup == "no":
		why = "[ramona:server] cgroup=no turns cgroups off"
	default:
		return
	}
	for _, key := range []string{"memorymax", "cpuweight", "pidsmax"} {
		if v := ld.doc.get(sec, key); v != nil && v.value != "" {
			ld.cfg.Warnings = append(ld.cfg.Warnings, &ConfigError{File: v.file, Line: v.line, Section: sec.name, Key: key,
				Msg: "not applied: " + why})
		}
	}
}

func (ld *loader) tool(sec *iniSection, name string) *ToolConfig {
	t := &ToolConfig{Name: name, File: sec.file, Line: sec.line, BaseDir: ld.dirOf(sec.file)}
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

// parseOutput resolves a stdout or stderr key of program name. It needs the
// other stream's raw value to name <logdir> files (NAME.log when both share
// one file, NAME-out.log and NAME-err.log otherwise).
func parseOutput(v, stream, name string, r *sectionReader) (OutputTarget, error) {
	other, otherDef := "stderr", "<logdir>"
	if stream == "stderr" {
		other, otherDef = "stdout", "<stderr>"
	}
	otherVal := otherDef
	if ov := r.ld.doc.get(r.sec, other); ov != nil {
		otherVal = ov.value
	}
	logdir := r.ld.cfg.LogDir
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
