// `ramona convert FILE...`: prints the Ramona configuration that does what
// supervisord's files do, each value with a comment saying which file, line
// and key it came from; warnings (what Ramona cannot honour) go to stderr.
// Before printing, convert loads its own output and checks that it gives the
// same programs and settings as reading supervisord's files directly.
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

const convertUsage = "usage: ramona convert FILE... (supervisord's configuration files; the Ramona configuration goes to stdout)"

// runConvert is `ramona convert FILE...`.
func runConvert(args []string, environ []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "-") }) {
		fmt.Fprintln(stderr, "ramona: "+convertUsage)
		return exitUsage
	}
	ld := newLoader(environ)
	conv := newINIDoc()
	notes := map[*iniValue]string{}
	var files []string
	var round []string
	for _, f := range args {
		abs, err := filepath.Abs(expandHome(f))
		var data []byte
		if err == nil {
			data, err = os.ReadFile(abs)
		}
		if err != nil {
			fmt.Fprintf(stderr, "ramona: %s: cannot read it: %s\n", f, pathErrText(err))
			return exitUsage
		}
		if _, dup := ld.read[abs]; dup {
			continue
		}
		tr := ld.translateSupervisord(f, abs, data)
		ld.mergeSupervisord(f, abs, tr)
		conv.merge(tr.out)
		for v, n := range tr.notes {
			notes[v] = n
		}
		files = append(files, tr.files...)
		ld.read[abs] = ""
		ld.cfg.Files = append(ld.cfg.Files, abs)
		round = append(round, f)
	}
	cfg, err := ld.finish(round)
	if err == nil {
		err = programErrors(cfg)
	}
	if err != nil {
		fmt.Fprintf(stderr, "ramona: the configuration has errors; fix them and convert again:\n%s\n", err)
		return exitUsage
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(stderr, "ramona: warning: %s\n", w)
	}
	text := renderRamonaConfig(conv, notes, files)
	// The output must load as it is and mean the same; it holds absolute
	// paths only, so where it is written does not matter.
	again, err := loadConfigText(filepath.Join(filepath.Dir(cfg.Files[0]), "converted.conf"), []byte(text), environ)
	if err == nil {
		err = programErrors(again)
	}
	if err == nil {
		err = sameConfig(cfg, again)
	}
	if err != nil {
		fmt.Fprintf(stderr, "ramona: convert made a configuration that does not do the same (a bug; please report it):\n%v\n", err)
		return exitFailed
	}
	io.WriteString(stdout, text)
	return exitOK
}

// programErrors collects the errors of the programs in CFGERROR.
func programErrors(cfg *Config) error {
	var errs ConfigErrors
	for _, p := range cfg.Programs {
		if p.Err == nil {
			continue
		}
		if ce, ok := p.Err.(ConfigErrors); ok {
			errs = append(errs, ce...)
		} else {
			errs = append(errs, &ConfigError{Section: "program:" + p.Section, Msg: p.Err.Error()})
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// sameConfig reports the first difference between two configurations that
// matters to what runs: the programs and the server's settings.
func sameConfig(a, b *Config) error {
	if a.LogDir != b.LogDir || a.Log != b.Log || fmt.Sprint(a.Server) != fmt.Sprint(b.Server) || fmt.Sprint(a.Console) != fmt.Sprint(b.Console) {
		return fmt.Errorf("the global settings differ:\n  %+v %+v %+v %+v\n  %+v %+v %+v %+v", a.LogDir, a.Log, a.Server, a.Console, b.LogDir, b.Log, b.Server, b.Console)
	}
	if len(a.Programs) != len(b.Programs) {
		return fmt.Errorf("%d programs instead of %d", len(b.Programs), len(a.Programs))
	}
	for i, p := range a.Programs {
		q := *b.Programs[i]
		q.BaseDir = p.BaseDir // only the default directory depends on it, and convert always sets directory
		if !p.sameAs(&q) {
			return fmt.Errorf("program %s differs:\n  %+v\n  %+v", p.Name, *p, q)
		}
	}
	return nil
}

// convertSectionOrder puts Ramona's own sections first, in the order of the
// manual, then the others as they came.
func convertSectionOrder(name string) int {
	switch {
	case name == "DEFAULT":
		return 0
	case name == "general":
		return 1
	case name == "ramona:server":
		return 2
	case name == "ramona:console":
		return 3
	case name == "env":
		return 4
	}
	return 5
}

// renderRamonaConfig writes a translated document as a Ramona file.
func renderRamonaConfig(doc *iniDoc, notes map[*iniValue]string, files []string) string {
	var b strings.Builder
	b.WriteString("; Ramona's configuration, converted by `ramona convert` from supervisord's:\n")
	for _, f := range files {
		fmt.Fprintf(&b, ";   %s\n", f)
	}
	b.WriteString("; Each value says where it came from; see \"Migrating from supervisord\" in\n; Ramona's README for what changes.\n")
	order := slices.Clone(doc.order)
	slices.SortStableFunc(order, func(x, y string) int { return convertSectionOrder(x) - convertSectionOrder(y) })
	for _, name := range order {
		sec := doc.sections[name]
		if len(sec.order) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n[%s]\n", name)
		if sec.line > 0 {
			fmt.Fprintf(&b, "; from %s:%d\n", sec.file, sec.line)
		}
		for _, k := range sec.order {
			v := sec.values[k]
			comment := notes[v]
			if comment == "" {
				where := fmt.Sprintf("%s:%d", v.file, v.line)
				if v.file == sec.file {
					where = fmt.Sprintf("line %d", v.line)
				}
				comment = where
				if v.written != "" && v.written != k {
					comment += " " + v.written
				}
			}
			lines := strings.Split(v.value, "\n")
			// Only a value's first ";" may start a comment (ini.go): a
			// value with a ";" of its own gets its note on the line above.
			if len(lines) > 1 || strings.Contains(v.value, ";") {
				fmt.Fprintf(&b, "; %s\n%s=%s\n", comment, k, lines[0])
				for _, l := range lines[1:] {
					fmt.Fprintf(&b, "    %s\n", l)
				}
				continue
			}
			value := v.value
			if value == "" {
				value = `""` // else the comment would be the value
			}
			fmt.Fprintf(&b, "%-40s ; %s\n", k+"="+value, comment)
		}
	}
	return b.String()
}
