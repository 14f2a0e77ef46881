// What the configuration says about itself, and `ramona check`: the files
// read and why (-c, $RAMONA_CONFIG, include from FILE:LINE, <siteconf>), the
// keys a <siteconf> file overrides, every warning and error, and, when a
// server answers, what `reload` would change there (the server's `check`
// request: its own files loaded and diffed against what it runs, applying
// nothing).
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sort"
	"strings"
)

// describeSources is one line per file read: the path and why it was read.
func (c *Config) describeSources() []string {
	lines := make([]string, 0, len(c.Sources))
	for _, src := range c.Sources {
		lines = append(lines, fmt.Sprintf("%s (%s)", src.Path, src.why(c.Origin)))
	}
	return lines
}

func (src ConfigSource) why(origin string) string {
	at := src.From // a supervisord [include] names no line
	if src.Line > 0 {
		at = fmt.Sprintf("%s:%d", src.From, src.Line)
	}
	switch {
	case src.Via == "<siteconf>" && src.From == "":
		return "<siteconf>, the default of [general] include, which the files above do not set"
	case src.Via == "<siteconf>":
		return "<siteconf> in the include at " + at
	case src.Via == "include" && src.Siteconf:
		return "include at " + at + ", a <siteconf> file"
	case src.Via == "include":
		return "include at " + at
	}
	switch origin {
	case "-c", "$RAMONA_CONFIG":
		return origin
	case "default":
		return "the default ./ramona.conf: neither -c nor $RAMONA_CONFIG names a file"
	}
	return "configuration file"
}

func (c *Config) sourcePaths() []string {
	paths := make([]string, len(c.Sources))
	for i, src := range c.Sources {
		paths[i] = src.Path
	}
	return paths
}

// describeSiteOverrides is one line per key a <siteconf> file set over the
// value of another file.
func (c *Config) describeSiteOverrides() []string {
	lines := make([]string, 0, len(c.Siteconf))
	for _, o := range c.Siteconf {
		lines = append(lines, fmt.Sprintf("%s:%d: [%s] %s: this <siteconf> value overrides the one at %s:%d",
			o.File, o.Line, o.Section, o.Key, o.OverFile, o.OverLine))
	}
	return lines
}

// logConfigSources writes to the server log every file read and why, and
// every key a <siteconf> file overrides.
func logConfigSources(log *serverLog, cfg *Config) {
	for _, l := range cfg.describeSources() {
		log.Infof("config: read %s", l)
	}
	for _, l := range cfg.describeSiteOverrides() {
		log.Infof("config: %s", l)
	}
}

// configProblems lists every error of a load: the global ones (loadErr),
// then those of each program and tool section.
func configProblems(cfg *Config, loadErr error) []string {
	var lines []string
	add := func(err error) {
		if err != nil {
			lines = append(lines, strings.Split(err.Error(), "\n")...)
		}
	}
	add(loadErr)
	if cfg != nil {
		for _, p := range cfg.Programs {
			add(p.Err)
		}
		for _, t := range cfg.Tools {
			add(t.Err)
		}
	}
	return lines
}

// reloadPreview is the server's answer to `check`: what reload would do.
type reloadPreview struct {
	Files          []string         `json:"files"` // as describeSources says them
	Paths          []string         `json:"paths"` // the same files, paths only
	SiteOverrides  []string         `json:"siteconf_overrides,omitempty"`
	Warnings       []string         `json:"warnings,omitempty"`
	Errors         []string         `json:"errors,omitempty"` // global errors: reload would change nothing
	Added          []string         `json:"added"`
	Removed        []string         `json:"removed"`
	Changed        []changedProgram `json:"changed"`
	ServerSettings bool             `json:"server_settings_changed"` // [ramona:server]: only at the next start
}

// changedProgram is a program reload would restart, with the keys that differ.
type changedProgram struct {
	Name string   `json:"name"`
	Keys []string `json:"keys"`
}

// serveCheck answers `check` on the connection's goroutine: it reads the
// files as reload would, and the loop compares them with what it runs.
func (cs *ctlServer) serveCheck(conn net.Conn, c *clientConn, req request) bool {
	cfg, err := loadConfigReport(cs.s.files, cs.s.environ)
	sink := newReplySink()
	cs.s.post(func() { cs.s.previewReload(cfg, err, sink) })
	return cs.writeReplies(conn, req.ID, sink)
}

// previewReload answers `check` on the loop: cfg (loaded off the loop from
// the server's own files, with loadErr) against what the server runs.
func (s *Supervisor) previewReload(cfg *Config, loadErr error, sink *replySink) {
	cfg.Origin = s.cfg.Origin
	pv := reloadPreview{Files: cfg.describeSources(), Paths: cfg.sourcePaths(), SiteOverrides: cfg.describeSiteOverrides(),
		Added: []string{}, Removed: []string{}, Changed: []changedProgram{}}
	for _, w := range cfg.Warnings {
		pv.Warnings = append(pv.Warnings, w.Error())
	}
	exit := exitOK
	if loadErr != nil {
		pv.Errors = strings.Split(loadErr.Error(), "\n")
		exit = exitUsage
	} else {
		var changed []string
		pv.Added, pv.Removed, changed = diff(s.cfg, cfg)
		for _, name := range changed {
			pv.Changed = append(pv.Changed, changedProgram{Name: name, Keys: changedKeys(programNamed(s.cfg, name), programNamed(cfg, name))})
		}
		pv.ServerSettings = !sameServerSettings(s.cfg, cfg)
	}
	data, _ := json.Marshal(pv)
	sink.done(reply{Exit: exit, Result: data})
}

func programNamed(cfg *Config, name string) *ProgramConfig {
	for _, p := range cfg.Programs {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// check is `ramona check`: it reads the configuration (files, origin),
// prints the files read and why, the <siteconf> overrides, every warning and
// error, and, when a server answers, what reload would change there. Exit 0
// without errors, 2 with.
func (c *cmdline) check(files []string, origin string) int {
	cfg, loadErr := loadConfigReport(files, os.Environ())
	cfg.Origin = origin
	out := controlEscaper{c.stdout} // keys and values of the files, the server's answers
	section := func(title string, lines []string) {
		if len(lines) == 0 {
			return
		}
		fmt.Fprintf(out, "%s:\n", title)
		for _, l := range lines {
			fmt.Fprintf(out, "  %s\n", l)
		}
	}
	section("files read", cfg.describeSources())
	section("<siteconf> overrides", cfg.describeSiteOverrides())
	var warnings []string
	for _, w := range cfg.Warnings {
		warnings = append(warnings, w.Error())
	}
	section("warnings", warnings)
	problems := configProblems(cfg, loadErr)
	section("errors", problems)

	serverErrors := c.checkServer(cfg, loadErr != nil, out)
	fmt.Fprintf(out, "check: %s, %s\n", plural(len(problems), "error"), plural(len(warnings), "warning"))
	if len(problems) > 0 || serverErrors {
		return exitUsage
	}
	return exitOK
}

// checkServer asks a running server what reload would change and prints it;
// true when the server's own configuration has errors (reload would fail).
func (c *cmdline) checkServer(cfg *Config, broken bool, out io.Writer) bool {
	uri, ok := serverAddress(cfg)
	if !ok {
		fmt.Fprintf(out, "server: not asked: no configuration file could be read to find it\n")
		return false
	}
	cl, err := dialServer(uri)
	if err != nil {
		fmt.Fprintf(out, "server: none answers at %s, so there is no reload to preview\n", uri)
		return false
	}
	defer cl.close()
	r, err := cl.call(request{Cmd: "check"}, nil)
	if err != nil {
		fmt.Fprintf(out, "server: pid %d at %s: lost the connection: %v\n", cl.server.PID, uri, err)
		return false
	}
	if r.Result == nil {
		fmt.Fprintf(out, "server: pid %d at %s (Ramona %s) cannot preview a reload: %s\n", cl.server.PID, uri, cl.server.Server, r.Error)
		return false
	}
	var pv reloadPreview
	if err := json.Unmarshal(r.Result, &pv); err != nil {
		fmt.Fprintf(out, "server: pid %d at %s: bad answer: %v\n", cl.server.PID, uri, err)
		return false
	}
	fmt.Fprintf(out, "server: pid %d at %s\n", cl.server.PID, uri)
	if !broken && !slices.Equal(cfg.sourcePaths(), pv.Paths) {
		fmt.Fprintf(out, "  it reads other files than those above; reload would read:\n")
		for _, f := range pv.Files {
			fmt.Fprintf(out, "    %s\n", f)
		}
	}
	if len(pv.Errors) > 0 {
		fmt.Fprintf(out, "  reload would change nothing: the server's configuration has errors:\n")
		for _, e := range pv.Errors {
			fmt.Fprintf(out, "    %s\n", e)
		}
		return true
	}
	if len(pv.Added)+len(pv.Removed)+len(pv.Changed) == 0 {
		fmt.Fprintf(out, "  reload would change no program\n")
	}
	for _, n := range pv.Added {
		fmt.Fprintf(out, "  reload would add: %s\n", n)
	}
	for _, n := range pv.Removed {
		fmt.Fprintf(out, "  reload would remove: %s\n", n)
	}
	for _, ch := range pv.Changed {
		fmt.Fprintf(out, "  reload would change: %s (%s)\n", ch.Name, strings.Join(ch.Keys, ", "))
	}
	if pv.ServerSettings {
		fmt.Fprintf(out, "  [ramona:server] differs: that takes effect only when the server starts again\n")
	}
	return false
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// sortedUnique sorts list and drops repeats.
func sortedUnique(list []string) []string {
	sort.Strings(list)
	out := list[:0]
	for i, s := range list {
		if i == 0 || s != list[i-1] {
			out = append(out, s)
		}
	}
	return out
}
