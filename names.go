// Program names in commands: a name, a shell glob over names (web*), or a
// group as supervisorctl writes it (GROUP:NAME, GROUP:*, and the bare
// GROUP). The command line, the console, the server and the web frontend
// all select programs with selectPrograms.
package main

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// selectPrograms returns the programs (of progs, in their order) that the
// patterns name: each pattern is, in this order of preference, a program's
// exact name, GROUP:NAME with shell globs in either part, a shell glob over
// program names (path.Match syntax: *, ?, [a-z], \), or a group's name. A
// pattern that matches nothing is an error that lists the known names.
func selectPrograms(patterns []string, progs []*ProgramConfig) ([]*ProgramConfig, error) {
	chosen := make([]bool, len(progs))
	var unmatched []string
	for _, pat := range patterns {
		matched, err := matchPattern(pat, progs, chosen)
		if err != nil {
			return nil, err
		}
		if !matched {
			unmatched = append(unmatched, pat)
		}
	}
	if len(unmatched) > 0 {
		return nil, unknownNamesError(unmatched, progs)
	}
	var out []*ProgramConfig
	for i, p := range progs {
		if chosen[i] {
			out = append(out, p)
		}
	}
	return out, nil
}

// matchPattern marks in chosen the programs pat names and reports whether
// it named any.
func matchPattern(pat string, progs []*ProgramConfig, chosen []bool) (bool, error) {
	mark := func(ok func(*ProgramConfig) bool) bool {
		any := false
		for i, p := range progs {
			if ok(p) {
				chosen[i], any = true, true
			}
		}
		return any
	}
	if mark(func(p *ProgramConfig) bool { return p.Name == pat }) {
		return true, nil
	}
	glob := func(pattern, name string) bool {
		ok, _ := path.Match(pattern, name) // checked below
		return ok
	}
	if group, name, ok := strings.Cut(pat, ":"); ok {
		for _, part := range []string{group, name} {
			if _, err := path.Match(part, ""); err != nil {
				return false, fmt.Errorf("%q is not a valid pattern (%v); write GROUP:NAME, GROUP:* or a shell glob such as web*", pat, err)
			}
		}
		return mark(func(p *ProgramConfig) bool { return glob(group, p.Group) && glob(name, p.Name) }), nil
	}
	if _, err := path.Match(pat, ""); err != nil {
		return false, fmt.Errorf("%q is not a valid pattern (%v); use *, ? and [a-z] as in the shell", pat, err)
	}
	if strings.ContainsAny(pat, `*?[\`) {
		return mark(func(p *ProgramConfig) bool { return glob(pat, p.Name) }), nil
	}
	return mark(func(p *ProgramConfig) bool { return p.Group == pat }), nil
}

// unknownNamesError says which names matched nothing and which exist.
func unknownNamesError(unmatched []string, progs []*ProgramConfig) error {
	known := make([]string, 0, len(progs))
	var groups []string
	for _, p := range progs {
		known = append(known, p.Name)
		if p.Group != p.Name && !slices.Contains(groups, p.Group) {
			groups = append(groups, p.Group)
		}
	}
	what := "unknown program"
	if slices.ContainsFunc(unmatched, func(s string) bool { return strings.ContainsAny(s, `*?[\:`) }) {
		what = "no program matches"
	}
	msg := fmt.Sprintf("%s %s; the configuration has: %s", what, strings.Join(unmatched, ", "), strings.Join(known, ", "))
	if len(groups) > 0 {
		msg += fmt.Sprintf(" (groups: %s)", strings.Join(groups, ", "))
	}
	return fmt.Errorf("%s", msg)
}

// resolveNames maps names, globs and GROUP:NAME patterns (selectPrograms)
// to programs, in the configuration's order; a pattern that matches nothing
// is an error listing the known names.
func (s *Supervisor) resolveNames(names []string) ([]*Program, error) {
	cfgs := make([]*ProgramConfig, len(s.order))
	for i, p := range s.order {
		cfgs[i] = p.cfg
	}
	chosen, err := selectPrograms(names, cfgs)
	if err != nil {
		return nil, err
	}
	progs := make([]*Program, 0, len(chosen))
	for _, pc := range chosen {
		progs = append(progs, s.progs[pc.Name])
	}
	return progs, nil
}

func namesOf(progs []*Program) []string {
	out := make([]string, len(progs))
	for i, p := range progs {
		out[i] = p.cfg.Name
	}
	return out
}
