// Dependencies between programs (depends=A,B, SPEC section 10): the key's
// syntax, its resolution at load (a name is a program, else every process of
// a [program:x] section, else every program of a [group:x]; unknown names and
// cycles are errors of the dependent, with file:line), and the graph the
// start and stop sequences (sequence.go) order programs by: dependencies
// start first and stop last, and a dependency runs in the priority group of
// its earliest dependent.
package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// parseDepends splits depends=A,B (commas or spaces) into names.
func parseDepends(v string) ([]string, error) {
	var names []string
	for _, name := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		if err := checkName(name); err != nil {
			return nil, err
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names, nil
}

// resolveDepends turns every program's depends names into program names
// and makes each program whose dependencies are unknown, itself, or part of
// a cycle CFGERROR, with the file and line of its depends key. A dependency
// that is disabled is a warning: the dependent cannot start while it is.
func (ld *loader) resolveDepends(progs []*ProgramConfig) {
	byName := map[string]*ProgramConfig{}
	for _, p := range progs {
		byName[p.Name] = p
	}
	fail := func(p *ProgramConfig, msg string) {
		e := &ConfigError{File: p.File, Line: p.Line, Section: "program:" + p.Section, Key: "depends", Msg: msg}
		if v := ld.doc.get(ld.doc.sections[e.Section], "depends"); v != nil {
			e.File, e.Line = v.file, v.line
		}
		var errs ConfigErrors
		if errors.As(p.Err, &errs) {
			p.Err = append(errs, e)
		} else {
			p.Err = ConfigErrors{e}
		}
	}
	edges := map[string][]string{}
	for _, p := range progs {
		var resolved []string
		for _, name := range p.Depends {
			matched := dependencyNames(name, progs)
			switch {
			case name == p.Name:
				fail(p, fmt.Sprintf("%s cannot depend on itself; remove it from the list", name))
				continue
			case len(matched) == 0:
				msg := fmt.Sprintf("there is no program %s", name)
				if s := closestWord(name, configNames(progs)); s != "" {
					msg += fmt.Sprintf(" (did you mean %s?)", s)
				}
				fail(p, msg+"; name a program, a [program:x] section or a [group:x]")
				continue
			}
			for _, m := range matched {
				if !slices.Contains(resolved, m) {
					resolved = append(resolved, m)
				}
			}
		}
		p.Depends = resolved
		edges[p.Name] = resolved
		for _, d := range resolved {
			if dp := byName[d]; dp.Disabled && !p.Disabled {
				ld.cfg.Warnings = append(ld.cfg.Warnings, &ConfigError{File: p.File, Line: p.Line, Section: "program:" + p.Section, Key: "depends",
					Msg: fmt.Sprintf("%s depends on %s, which is disabled: %s cannot start while it is", p.Name, d, p.Name)})
			}
		}
	}
	cycles := dependencyCycles(configNames(progs), edges)
	for _, p := range progs {
		if c := cycles[p.Name]; c != nil {
			fail(p, "a dependency cycle: "+strings.Join(c, " -> ")+"; remove one of these dependencies")
		}
	}
}

// dependencyNames is what one depends entry names: the program of that
// name, else the processes of that [program:x] section (numprocs), else the
// programs of that [group:x].
func dependencyNames(name string, progs []*ProgramConfig) []string {
	for _, match := range []func(*ProgramConfig) bool{
		func(p *ProgramConfig) bool { return p.Name == name },
		func(p *ProgramConfig) bool { return p.Section == name },
		func(p *ProgramConfig) bool { return p.Group == name },
	} {
		var names []string
		for _, p := range progs {
			if match(p) {
				names = append(names, p.Name)
			}
		}
		if len(names) > 0 {
			return names
		}
	}
	return nil
}

func configNames(progs []*ProgramConfig) []string {
	names := make([]string, len(progs))
	for i, p := range progs {
		names[i] = p.Name
	}
	return names
}

// dependencyCycles finds the programs that are part of a dependency cycle
// (names in configuration order, edges from a program to its
// dependencies) and for each the shortest cycle through it, starting and
// ending with its name: a -> b -> a.
func dependencyCycles(names []string, edges map[string][]string) map[string][]string {
	cycles := map[string][]string{}
	for _, start := range names {
		// Breadth first from start's dependencies back to start.
		prev := map[string]string{}
		queue := []string{}
		for _, d := range edges[start] {
			if _, seen := prev[d]; !seen {
				prev[d] = start
				queue = append(queue, d)
			}
		}
		for len(queue) > 0 {
			n := queue[0]
			queue = queue[1:]
			if n == start {
				path := []string{start}
				for at := prev[start]; at != start; at = prev[at] {
					path = append(path, at)
				}
				path = append(path, start)
				slices.Reverse(path)
				cycles[start] = path
				break
			}
			for _, d := range edges[n] {
				if _, seen := prev[d]; !seen {
					prev[d] = n
					queue = append(queue, d)
				}
			}
		}
	}
	return cycles
}

// dependencies are the programs p needs RUNNING before it starts. A
// program in CFGERROR has none: its depends may be what is broken (a cycle
// would hold a stop sequence forever).
func (s *Supervisor) dependencies(p *Program) []*Program {
	if p.cfg.Err != nil {
		return nil
	}
	var deps []*Program
	for _, name := range p.cfg.Depends {
		if d := s.progs[name]; d != nil && d != p {
			deps = append(deps, d)
		}
	}
	return deps
}

// dependents are the programs that depend on p (CFGERROR ones aside, as
// for dependencies).
func (s *Supervisor) dependents(p *Program) []*Program {
	var out []*Program
	for _, q := range s.order {
		if q != p && q.cfg.Err == nil && slices.Contains(q.cfg.Depends, p.cfg.Name) {
			out = append(out, q)
		}
	}
	return out
}

// closure is progs and, transitively, what next adds to each of them, in
// that order; added is told of each addition and the program that brought
// it in. A cycle (a broken configuration) ends where it closes.
func closure(progs []*Program, next func(*Program) []*Program, added func(p, by *Program)) []*Program {
	out := slices.Clone(progs)
	in := map[*Program]bool{}
	for _, p := range progs {
		in[p] = true
	}
	for i := 0; i < len(out); i++ {
		for _, q := range next(out[i]) {
			if !in[q] {
				in[q] = true
				out = append(out, q)
				added(q, out[i])
			}
		}
	}
	return out
}

// byStartOrder groups progs for a start: by priority, highest first, where a
// program's priority is raised to that of its highest dependent among progs
// (a dependency runs no later than the group of what needs it). Within a
// group, the sequence starts a program once its dependencies run.
func (s *Supervisor) byStartOrder(progs []*Program) [][]*Program {
	set := map[*Program]bool{}
	for _, p := range progs {
		set[p] = true
	}
	prio := map[*Program]int{}
	var effective func(p *Program, depth int) int
	effective = func(p *Program, depth int) int {
		if v, ok := prio[p]; ok {
			return v
		}
		v := p.cfg.Priority
		if depth < len(progs) { // deeper is a cycle of a broken configuration
			for _, d := range s.dependents(p) {
				if set[d] {
					v = max(v, effective(d, depth+1))
				}
			}
		}
		prio[p] = v
		return v
	}
	for _, p := range progs {
		effective(p, 0)
	}
	return byPriority(progs, func(p *Program) int { return prio[p] })
}
