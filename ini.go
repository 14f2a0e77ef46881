// The INI dialect of Python 2's ConfigParser (the original's), as Ramona
// reads it: sections, case-preserving keys, `key=value` / `key: value`,
// comment lines, inline comments at a value's first ` ;`, indented
// continuation lines, `%(name)s` interpolation with Python's conversions
// (`%(n)02d`), `key@platform` overrides, and merging of several files key by
// key; supervisord's variant (Python 3's: ` ;` or ` #` anywhere, lower-case
// keys). It knows nothing of Ramona's keys; config.go gives them meaning.
package main

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// iniValue is one key's raw value and where it was written.
type iniValue struct {
	key     string
	value   string
	file    string
	line    int
	parse   int    // which call of parse set it (iniDoc.parses)
	written string // the key the file wrote, when it was translated from supervisord's (startsecs for starttimeout)
}

// iniSection is one [section], merged over every file that names it.
type iniSection struct {
	name   string
	file   string // where the section header first appeared
	line   int
	values map[string]*iniValue // the winning value of each key, after merging
	order  []string             // keys in order of first appearance
	errs   []*ConfigError       // syntax errors found inside this section
}

// iniDoc is everything read from all files, merged.
type iniDoc struct {
	sections  map[string]*iniSection
	order     []string       // section names in order of first appearance
	errs      []*ConfigError // syntax errors outside any section
	warnings  []*ConfigError
	parses    int           // calls of parse so far
	overrides []iniOverride // values a later file set over an earlier file's

	// supervisord's parser (Python 3's RawConfigParser as supervisord sets
	// it up) also starts inline comments with " #", and folds keys to lower
	// case.
	hashComments bool
	foldKeys     bool

	// headerOnly, when set, names the sections whose headers are kept but
	// not their lines (nor the syntax errors in them): a command that only
	// talks to the server skips the programs' keys (loadClientConfig).
	headerOnly func(section string) bool
}

// iniOverride is a key one file set over another file's value.
type iniOverride struct {
	section  string
	old, new *iniValue
}

func newINIDoc() *iniDoc {
	return &iniDoc{sections: map[string]*iniSection{}}
}

func (d *iniDoc) section(name, file string, line int) *iniSection {
	s := d.sections[name]
	if s == nil {
		s = &iniSection{name: name, file: file, line: line} // values made by the first set: a header-only section has none
		d.sections[name] = s
		d.order = append(d.order, name)
	}
	return s
}

func (s *iniSection) set(v *iniValue) {
	if s.values == nil {
		s.values = map[string]*iniValue{}
	}
	if _, ok := s.values[v.key]; !ok {
		s.order = append(s.order, v.key)
	}
	s.values[v.key] = v
}

// parse reads one file's text into the document; later files override
// earlier ones key by key. Syntax errors are recorded on the section they
// occur in (so only that section is broken) or on the document.
func (d *iniDoc) parse(file string, text []byte) {
	src := strings.TrimPrefix(string(text), "\ufeff")
	var sec *iniSection
	var cur *iniValue // the value that an indented line continues
	lost := false     // under a header too broken to name its section: its lines are skipped
	d.parses++
	fail := func(line int, format string, args ...any) {
		e := &ConfigError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
		if sec == nil {
			d.errs = append(d.errs, e)
			return
		}
		e.Section = sec.name
		sec.errs = append(sec.errs, e)
	}
	lineNo := 0
	for line := range strings.Lines(src) { // no slice of every line: a file of 1000 programs has 5000
		lineNo++
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || trimmed[0] == '#' || trimmed[0] == ';' {
			continue // blank and comment lines do not end a continued value
		}
		if line[0] == ' ' || line[0] == '\t' {
			if lost {
				continue
			}
			if cur == nil {
				fail(lineNo, "indented line %q continues no key; remove the indentation or put it under a key", trimmed)
				continue
			}
			if part := d.inlineComment(file, lineNo, sec.name, cur.key, trimmed); part != "" {
				cur.value += "\n" + part
			}
			continue
		}
		cur = nil
		if trimmed[0] == '[' {
			// One error per broken header: the lines under it belong to it
			// and are not reported again as keys outside any section.
			end := strings.IndexByte(trimmed, ']')
			name := ""
			if end > 0 {
				name = strings.TrimSpace(trimmed[1:end])
			}
			sec, lost = nil, true
			switch {
			case end < 0:
				fail(lineNo, "section header %q has no closing ]", trimmed)
			case name == "":
				fail(lineNo, "empty section name []")
			default:
				sec, lost = d.section(name, file, lineNo), false
				// Python's ConfigParser ignores the rest of the line; a
				// misplaced value there would be lost, so it is an error of
				// this section.
				if rest := strings.TrimSpace(trimmed[end+1:]); rest != "" && rest[0] != ';' && rest[0] != '#' {
					fail(lineNo, "unexpected %q after the section header; put it on a line of its own, or start a comment with ; or #", rest)
				}
				if d.headerOnly != nil && d.headerOnly(name) {
					sec, lost = nil, true
				}
			}
			continue
		}
		if lost {
			continue
		}
		sep := strings.IndexAny(line, "=:")
		if sep <= 0 {
			if sec == nil {
				fail(lineNo, "%q is not a [section] header, a key=value line or a comment", trimmed)
			} else {
				fail(lineNo, "%q is not a key=value line; write key=value, or start a comment with # or ;", trimmed)
			}
			continue
		}
		key := strings.TrimSpace(line[:sep])
		if d.foldKeys {
			key = strings.ToLower(key)
		}
		if sec == nil {
			fail(lineNo, "%s: key before any [section] header; put it under a section such as [general]", key)
			continue
		}
		value := d.inlineComment(file, lineNo, sec.name, key, line[sep+1:])
		if value == `""` {
			value = "" // ConfigParser reads "" as the empty string
		}
		cur = &iniValue{key: key, value: value, file: file, line: lineNo, parse: d.parses}
		if prev := sec.values[key]; prev != nil && prev.parse == d.parses { // set before in this file
			d.warnings = append(d.warnings, &ConfigError{File: file, Line: lineNo, Section: sec.name, Key: key,
				Msg: fmt.Sprintf("set again (first at line %d); the later value wins", prev.line)})
		} else if prev != nil {
			d.overrides = append(d.overrides, iniOverride{section: sec.name, old: prev, new: cur})
		}
		sec.set(cur)
	}
}

// merge adds another document's sections to d as if its files were parsed
// after everything d has: its keys win.
func (d *iniDoc) merge(other *iniDoc) {
	d.parses++
	for _, name := range other.order {
		o := other.sections[name]
		s := d.section(name, o.file, o.line)
		s.errs = append(s.errs, o.errs...)
		for _, k := range o.order {
			v := o.values[k]
			v.parse = d.parses
			if prev := s.values[k]; prev != nil {
				d.overrides = append(d.overrides, iniOverride{section: name, old: prev, new: v})
			}
			s.set(v)
		}
	}
	d.errs = append(d.errs, other.errs...)
	d.warnings = append(d.warnings, other.warnings...)
}

// inlineComment returns a value (the text after "=" or ":", or a
// continuation line) without its inline comment, trimmed.
//
// Ramona's dialect follows Python 2's ConfigParser, the original's: only
// the value's first ";" can start a comment, and only when whitespace
// precedes it, so `PASSWORD = ;abc` is ";abc" and `a;b ;c` stays whole
// (with a warning, since the " ;c" looks like a comment). Python 2 checks
// the value's last character instead when the ";" comes first, emptying
// ";abc " with a trailing blank; Ramona keeps ";abc".
//
// supervisord's dialect follows Python 3's RawConfigParser as supervisord
// sets it up: the first ";" or "#" that follows whitespace, anywhere.
func (d *iniDoc) inlineComment(file string, line int, section, key, s string) string {
	if d.hashComments {
		for i := 1; i < len(s); i++ {
			if (s[i] == ';' || s[i] == '#') && isPythonSpace(s[i-1]) {
				return strings.Trim(s[:i], pythonSpace)
			}
		}
		return strings.Trim(s, pythonSpace)
	}
	s = strings.TrimLeft(s, pythonSpace)
	i := strings.IndexByte(s, ';')
	if i > 0 && isPythonSpace(s[i-1]) {
		return strings.TrimRight(s[:i], pythonSpace)
	}
	if i >= 0 {
		for j := i + 2; j < len(s); j++ {
			if s[j] == ';' && isPythonSpace(s[j-1]) {
				// The value is not quoted: it may be a password.
				d.warnings = append(d.warnings, &ConfigError{File: file, Line: line, Section: section, Key: key,
					Msg: `the " ;" in this value is part of it, not a comment: as in Python 2's ConfigParser, only a value's first ";" can start one; put the comment on a line of its own`})
				break
			}
		}
	}
	return strings.TrimRight(s, pythonSpace)
}

// pythonSpace is what Python's str.isspace and str.strip take for
// whitespace in ASCII.
const pythonSpace = " \t\n\r\v\f"

func isPythonSpace(c byte) bool { return strings.IndexByte(pythonSpace, c) >= 0 }

// knownPlatforms are the selectors accepted after "@" in a key; "posix"
// matches every Unix.
var knownPlatforms = map[string]bool{
	"linux": true, "darwin": true, "windows": true, "freebsd": true,
	"openbsd": true, "netbsd": true, "posix": true,
}

// applyPlatformOverrides replaces `key` by `key@GOOS` (or `key@posix` on
// Unix) in every section, whatever file each came from; the platform-specific
// key wins over `@posix`, which wins over the plain key. Selector keys are
// removed from the section afterwards.
func (d *iniDoc) applyPlatformOverrides(goos string) {
	posix := goos != "windows" && goos != "plan9"
	for _, name := range d.order {
		s := d.sections[name]
		if !slices.ContainsFunc(s.order, func(k string) bool { return strings.IndexByte(k, '@') >= 0 }) {
			continue // nothing to override: most sections
		}
		rank := map[string]int{}
		var keep []string
		for _, k := range s.order {
			v := s.values[k]
			at := strings.LastIndexByte(k, '@')
			if at < 0 {
				keep = append(keep, k)
				continue
			}
			base, sel := k[:at], k[at+1:]
			delete(s.values, k)
			if !knownPlatforms[sel] {
				d.warnings = append(d.warnings, &ConfigError{File: v.file, Line: v.line, Section: name, Key: k,
					Msg: fmt.Sprintf("unknown platform selector @%s, ignored (known: %s)", sel, strings.Join(sortedKeys(knownPlatforms), ", "))})
				continue
			}
			r := 0
			switch {
			case sel == goos:
				r = 2
			case sel == "posix" && posix:
				r = 1
			default:
				continue // another platform's value
			}
			if r <= rank[base] {
				continue
			}
			rank[base] = r
			over := &iniValue{key: base, value: v.value, file: v.file, line: v.line, parse: v.parse}
			if prev, exists := s.values[base]; !exists {
				keep = append(keep, base)
			} else if prev.parse != v.parse {
				d.overrides = append(d.overrides, iniOverride{section: name, old: prev, new: over})
			}
			s.values[base] = over
		}
		// keep first-appearance order, without duplicates
		s.order = s.order[:0]
		dup := map[string]bool{}
		for _, k := range keep {
			if !dup[k] {
				dup[k] = true
				s.order = append(s.order, k)
			}
		}
	}
}

// errNotExtra is what an interpolation's extra function returns for a name
// it does not provide.
var errNotExtra = errors.New("not an extra name")

// quotingError is an interpolation error whose text quotes a piece of the
// value, which a caller may need to hide (a password).
type quotingError struct{ msg string }

func (e *quotingError) Error() string { return e.msg }

const (
	maxInterpolationDepth = 10
	maxInterpolatedLen    = 1 << 20 // bytes; references that multiply a value stop here
)

// interpolate expands `%(name)s` references in v with values of the same
// section, then of [DEFAULT], then of the extra names (`here`, `ENV_X`), and
// turns `%%` into `%`. A stray `%`, an unknown name, a reference loop, more
// than maxInterpolationDepth levels or a result longer than
// maxInterpolatedLen is an error.
// extra returns errNotExtra for a name it does not provide, or another error
// that explains why the name has no value.
func (d *iniDoc) interpolate(sec *iniSection, v *iniValue, extra func(string) (string, error)) (string, error) {
	in := &interpolation{doc: d, sec: sec, extra: extra, done: map[string]expansion{}}
	s, _, err := in.expand(v.value, []string{v.key})
	return s, err
}

// interpolation is the expansion of one value. Every key it meets is
// expanded once and remembered: a key referred to k times on each of 10
// levels would otherwise be expanded k^10 times, which the length limit does
// not stop when the values are empty (the fuzzer found such an input).
type interpolation struct {
	doc   *iniDoc
	sec   *iniSection
	extra func(string) (string, error)
	done  map[string]expansion
}

// expansion is a key's expanded value and the number of levels of
// references below it that hold a '%' (-1 when its own value holds none),
// so that a key met again deeper down fails the depth limit exactly when
// expanding it anew there would.
type expansion struct {
	value  string
	height int
}

// expand expands s, which is the value of the last key of chain; chain is
// the keys whose references led here, outermost first.
func (in *interpolation) expand(s string, chain []string) (string, int, error) {
	if !strings.Contains(s, "%") {
		return s, -1, nil
	}
	if len(chain) > maxInterpolationDepth {
		return "", 0, errTooDeep
	}
	height := 0
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if b.Len() > maxInterpolatedLen {
			return "", 0, errTooLong
		}
		c := s[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+1 < len(s) && s[i+1] == '%' {
			b.WriteByte('%')
			i++
			continue
		}
		if i+1 >= len(s) || s[i+1] != '(' {
			return "", 0, fmt.Errorf("a lone %% at offset %d; write %%%% for a literal percent sign or %%(name)s for a reference", i)
		}
		end := strings.IndexByte(s[i:], ')')
		if end < 0 {
			return "", 0, &quotingError{fmt.Sprintf("unfinished reference %q; write %%(name)s", s[i:])}
		}
		name := s[i+2 : i+end]
		conv, convLen := readConversion(s[i+end+1:])
		if convLen == 0 {
			return "", 0, &quotingError{fmt.Sprintf("unfinished reference %q; write %%(name)s, or %%(name)d / %%(name)02d for a number", s[i:min(len(s), i+end+2)])}
		}
		ref, ok := in.doc.lookup(in.sec, name)
		var val string
		if ok {
			if contains(chain, name) {
				refs := make([]string, 0, len(chain)+1)
				for _, k := range append(chain, name) {
					refs = append(refs, "%("+k+")s")
				}
				return "", 0, fmt.Errorf("reference loop %s; a value cannot refer to itself", strings.Join(refs, " -> "))
			}
			sub, seen := in.done[name]
			if !seen {
				var err error
				sub.value, sub.height, err = in.expand(ref, append(chain[:len(chain):len(chain)], name))
				if err != nil {
					return "", 0, err
				}
				in.done[name] = sub
			} else if sub.height >= 0 && len(chain)+1+sub.height > maxInterpolationDepth {
				return "", 0, errTooDeep
			}
			if sub.height >= 0 {
				height = max(height, sub.height+1)
			}
			val = sub.value
		} else if in.extra != nil {
			var err error
			val, err = in.extra(name)
			if err != nil && err != errNotExtra {
				return "", 0, fmt.Errorf("%%(%s)s: %w", name, err)
			}
			ok = err == nil
		}
		if !ok {
			return "", 0, &quotingError{fmt.Sprintf("%%(%s)s refers to %s, which is set neither in [%s] nor in [DEFAULT]", name, name, in.sec.name)}
		}
		formatted, err := conv.format(val)
		if err != nil {
			return "", 0, fmt.Errorf("%%(%s)%s: %w", name, conv.text, err)
		}
		b.WriteString(formatted)
		i += end + convLen
	}
	if b.Len() > maxInterpolatedLen {
		return "", 0, errTooLong
	}
	return b.String(), height, nil
}

var (
	errTooDeep = fmt.Errorf("%%(...)s references nest deeper than %d levels; refer to the values more directly", maxInterpolationDepth)
	errTooLong = fmt.Errorf("%%(...)s references make the value longer than %d bytes", maxInterpolatedLen)
)

// conversion is what follows %(name) in a reference: Python's printf-style
// flags, width, precision and type, as supervisord's %(process_num)02d.
type conversion struct {
	text      string // as written, e.g. "02d"
	flags     string // any of "-0+ #"
	width     int
	precision int  // -1: none
	verb      byte // s, d, i, u, x, X or o
}

// readConversion reads a conversion at the start of s; its length is 0 when
// s does not start with one.
func readConversion(s string) (conversion, int) {
	c := conversion{precision: -1}
	i := 0
	for i < len(s) && strings.IndexByte("-0+ #", s[i]) >= 0 {
		i++
	}
	c.flags = s[:i]
	num := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' && n < 1<<16 {
			n = n*10 + int(s[i]-'0')
			i++
		}
		return n
	}
	c.width = num()
	if i < len(s) && s[i] == '.' {
		i++
		c.precision = num()
	}
	if i >= len(s) || strings.IndexByte("sdiuxXo", s[i]) < 0 {
		return c, 0
	}
	c.verb = s[i]
	c.text = s[:i+1]
	return c, i + 1
}

// format applies the conversion to a value: s takes it as text, the others
// as a whole number.
func (c conversion) format(v string) (string, error) {
	if c.width > 4096 || c.precision > 4096 {
		return "", errors.New("the width or precision is more than 4096")
	}
	if c.verb == 's' {
		if c.precision >= 0 && utf8.RuneCountInString(v) > c.precision {
			v = string([]rune(v)[:c.precision])
		}
		return c.pad(v), nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return "", fmt.Errorf("%q is not a whole number; use %%(name)s for text", v)
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var digits, prefix string
	switch c.verb {
	case 'x', 'X':
		digits = strconv.FormatInt(n, 16)
		if c.verb == 'X' {
			digits = strings.ToUpper(digits)
		}
		if strings.Contains(c.flags, "#") {
			prefix = "0" + string(c.verb)
		}
	case 'o':
		digits = strconv.FormatInt(n, 8)
		if strings.Contains(c.flags, "#") {
			prefix = "0o"
		}
	default:
		digits = strconv.FormatInt(n, 10)
	}
	if c.precision > len(digits) {
		digits = strings.Repeat("0", c.precision-len(digits)) + digits
	}
	sign := ""
	switch {
	case neg:
		sign = "-"
	case strings.Contains(c.flags, "+"):
		sign = "+"
	case strings.Contains(c.flags, " "):
		sign = " "
	}
	if strings.Contains(c.flags, "0") && !strings.Contains(c.flags, "-") {
		if pad := c.width - len(sign) - len(prefix) - len(digits); pad > 0 {
			digits = strings.Repeat("0", pad) + digits
		}
	}
	return c.pad(sign + prefix + digits), nil
}

// pad fills to the width with spaces, on the left unless the flags say "-".
func (c conversion) pad(v string) string {
	n := c.width - utf8.RuneCountInString(v)
	if n <= 0 {
		return v
	}
	if strings.Contains(c.flags, "-") {
		return v + strings.Repeat(" ", n)
	}
	return strings.Repeat(" ", n) + v
}

// lookup finds a key's raw value in the section or in [DEFAULT].
func (d *iniDoc) lookup(sec *iniSection, key string) (string, bool) {
	if v, ok := sec.values[key]; ok {
		return v.value, true
	}
	if def := d.sections["DEFAULT"]; def != nil && def != sec {
		if v, ok := def.values[key]; ok {
			return v.value, true
		}
	}
	return "", false
}

// get returns the raw entry of a key in the section or, failing that, in
// [DEFAULT]; nil when neither sets it.
func (d *iniDoc) get(sec *iniSection, key string) *iniValue {
	if v, ok := sec.values[key]; ok {
		return v
	}
	if def := d.sections["DEFAULT"]; def != nil && def != sec {
		return def.values[key]
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// currentPlatform is the selector that matches this build.
var currentPlatform = runtime.GOOS
