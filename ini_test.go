// Tests of the INI reader against the dialect it copies: Python 2's
// ConfigParser (the Python original's) for Ramona's files, with every
// deliberate difference named, and one error per broken line.
package main

import (
	"strings"
	"testing"
)

// TestInlineCommentsLikePython2: the value after "=" or ":" as Python 2's
// ConfigParser reads it. The py2 column is what Python 2.7.18 printed for
// these lines (testdata/python2_configparser.py reads a file the way the
// original did and prints every value); where Ramona differs, on purpose,
// the case says so.
func TestInlineCommentsLikePython2(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		line, want, py2 string
		warn            bool // a " ;" stays in the value: Ramona warns
	}{
		{line: "K = ;abc", want: ";abc", py2: ";abc"},
		{line: "K=;abc", want: ";abc", py2: ";abc"},
		{line: "K: ;q", want: ";q", py2: ";q"},
		// Python 2 looks at the character before the ";", which for a
		// value that starts with it is the value's last one: a trailing
		// blank (or the \r of a CRLF file) empties the value. Ramona keeps it.
		{line: "K = ;abc ", want: ";abc", py2: ""},
		{line: "K = ; not a comment", want: "; not a comment", py2: "; not a comment"},
		{line: "K = a ; comment", want: "a", py2: "a"},
		{line: "K = a\t;comment", want: "a", py2: "a"},
		{line: "K = a;b", want: "a;b", py2: "a;b"},
		// Only the first ";" of a value can start a comment.
		{line: "K = a;b ;c", want: "a;b ;c", py2: "a;b ;c", warn: true},
		{line: "K = ;abc ;c", want: ";abc ;c", py2: ";abc ;c", warn: true},
		{line: "K = x ;y ;z", want: "x", py2: "x"},
		{line: "K = a #b", want: "a #b", py2: "a #b"},
		{line: `K = ""`, want: "", py2: ""},
		{line: `K = "" ;empty`, want: "", py2: ""},
		{line: "K =", want: "", py2: ""},
	} {
		d := newINIDoc()
		d.parse("app.conf", []byte("[s]\n"+tc.line+"\n"))
		v := d.sections["s"].values["K"]
		if v == nil || v.value != tc.want {
			t.Errorf("%q: value %+v; want %q (Python 2: %q)", tc.line, v, tc.want, tc.py2)
		}
		if len(d.warnings) > 0 != tc.warn {
			t.Errorf("%q: warnings %v; want a warning: %v", tc.line, d.warnings, tc.warn)
		}
		for _, w := range d.warnings {
			if strings.Contains(w.Error(), "abc") || strings.Contains(w.Error(), "a;b") {
				t.Errorf("%q: the warning shows the value (it may be a password): %s", tc.line, w)
			}
		}
	}
}

// TestINIOneErrorPerBrokenLine: a broken section header is one error; the
// lines under it are not reported again as keys outside any section.
func TestINIOneErrorPerBrokenLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, text string
		want       []string // every error, in order
	}{
		{"text after the header", "[env] trailing\nFOO=bar\nBAR=baz\n",
			[]string{`app.conf:1: [env] unexpected "trailing" after the section header; put it on a line of its own, or start a comment with ; or #`}},
		{"no closing bracket", "[env\nFOO=bar\n  continued\nBAR=baz\n[general]\nappname=x\n",
			[]string{`app.conf:1: section header "[env" has no closing ]`}},
		{"empty name", "[]\nFOO=bar\n[general]\nappname=x\n",
			[]string{`app.conf:1: empty section name []`}},
		{"keys before any header are each an error", "a=1\nb=2\n[general]\n",
			[]string{"app.conf:1: a: key before any [section] header; put it under a section such as [general]",
				"app.conf:2: b: key before any [section] header; put it under a section such as [general]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newINIDoc()
			d.parse("app.conf", []byte(tc.text))
			var got []string
			for _, e := range d.errs {
				got = append(got, e.Error())
			}
			for _, name := range d.order {
				for _, e := range d.sections[name].errs {
					got = append(got, e.Error())
				}
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if g := d.sections["general"]; strings.Contains(tc.text, "appname=x") && (g == nil || g.values["appname"] == nil) {
				t.Errorf("the section after the broken one was not read")
			}
		})
	}
}

// TestINIDeliberateDifferences: what README lists as read differently from
// Python 2's ConfigParser, beyond the inline comments above.
func TestINIDeliberateDifferences(t *testing.T) {
	t.Parallel()
	d := newINIDoc()
	d.parse("app.conf", []byte("\ufeff[ env ]\nA = one\n  two ;cut\n  ; a comment, not a value line\n  #another\nrem = kept\nrem a DOS comment\nA = again\n"))
	env := d.sections["env"]
	if env == nil {
		t.Fatalf("sections %v; want [ env ] read as env, the BOM skipped", d.order)
	}
	if got := env.values["A"].value; got != "again" {
		t.Errorf("A = %q; want the later value", got)
	}
	if got := env.values["rem"]; got == nil || got.value != "kept" {
		t.Errorf("rem = %+v; want a key (Python 2 skipped the line)", got)
	}
	var errs []string
	for _, e := range env.errs {
		errs = append(errs, e.Error())
	}
	if want := `app.conf:7: [env] "rem a DOS comment" is not a key=value line; write key=value, or start a comment with # or ;`; strings.Join(errs, "\n") != want {
		t.Errorf("errors %q; want %q", errs, want)
	}
	if len(d.warnings) != 1 || !strings.Contains(d.warnings[0].Error(), "app.conf:8: [env] A: set again (first at line 2)") {
		t.Errorf("warnings %v; want one for A set twice", d.warnings)
	}

	d = newINIDoc()
	d.parse("app.conf", []byte("[s]\nK = one\n  two ;cut\n  ; a comment\n  three\n"))
	if got := d.sections["s"].values["K"].value; got != "one\ntwo\nthree" {
		t.Errorf("continued value %q; want the continuation's comment and the indented comment line dropped", got)
	}
}
