// Tests of dependencies at load and of the order they give (depends.go):
// the key's syntax, names resolved to programs, sections and groups,
// unknown names and cycles as errors with file:line, and the priority
// groups a start uses once dependencies raise their dependencies.
package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestParseDepends(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"", "[]"},
		{"db", "[db]"},
		{"db,cache", "[db cache]"},
		{" db , cache  web,db", "[db cache web]"},
		{"db,a/b", `error: name "a/b" contains '/'; use letters, digits, '.', '-' or '_'`},
	} {
		names, err := parseDepends(tc.in)
		got := fmt.Sprint(names)
		if names == nil && err == nil {
			got = "[]"
		}
		if err != nil {
			got = "error: " + err.Error()
		}
		if got != tc.want {
			t.Errorf("parseDepends(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

var dependsErrorCases = []errCase{
	{name: "unknown dependency", prog: "web", conf: "[program:db]\ncommand=x\n[program:web]\ncommand=x\ndepends=db, cache\n",
		want: "$DIR/app.conf:5: [program:web] depends: there is no program cache; name a program, a [program:x] section or a [group:x]"},
	{name: "misspelt dependency", prog: "web", conf: "[program:db]\ncommand=x\n[program:web]\ncommand=x\n\ndepends=dv\n",
		want: "$DIR/app.conf:6: [program:web] depends: there is no program dv (did you mean db?); name a program, a [program:x] section or a [group:x]"},
	{name: "depending on itself", prog: "web", conf: "[program:web]\ncommand=x\ndepends=web\n",
		want: "$DIR/app.conf:3: [program:web] depends: web cannot depend on itself; remove it from the list"},
	{name: "depends not a name", prog: "web", conf: "[program:web]\ncommand=x\ndepends=a/b\n",
		want: "$DIR/app.conf:3: [program:web] depends: name \"a/b\" contains '/'; use letters, digits, '.', '-' or '_'"},
}

func TestDependsConfigErrors(t *testing.T) {
	for _, tc := range dependsErrorCases {
		t.Run(tc.name, func(t *testing.T) { checkErrCase(t, tc) })
	}
}

// TestDependsCycles: every program of a cycle is CFGERROR with its own
// line and the cycle as seen from it; a program that only depends on the
// cycle is not broken (it fails at start instead).
func TestDependsCycles(t *testing.T) {
	cfg, dir := mustLoad(t, `
[program:a]
command=x
depends=b

[program:b]
command=x
depends=c

[program:c]
command=x
depends=a

[program:d]
command=x
depends=a

[program:e]
command=x
depends=e2

[program:e2]
command=x
depends=e
`)
	want := map[string]string{
		"a":  "$DIR/app.conf:4: [program:a] depends: a dependency cycle: a -> b -> c -> a; remove one of these dependencies",
		"b":  "$DIR/app.conf:8: [program:b] depends: a dependency cycle: b -> c -> a -> b; remove one of these dependencies",
		"c":  "$DIR/app.conf:12: [program:c] depends: a dependency cycle: c -> a -> b -> c; remove one of these dependencies",
		"d":  "",
		"e":  "$DIR/app.conf:20: [program:e] depends: a dependency cycle: e -> e2 -> e; remove one of these dependencies",
		"e2": "$DIR/app.conf:24: [program:e2] depends: a dependency cycle: e2 -> e -> e2; remove one of these dependencies",
	}
	for name, w := range want {
		p := findProgram(t, cfg, name)
		got := ""
		if p.Err != nil {
			got = strings.ReplaceAll(p.Err.Error(), dir, "$DIR")
		}
		if got != w {
			t.Errorf("%s:\n got %s\nwant %s", name, got, w)
		}
	}
}

func TestDependencyCycles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		edges map[string][]string
		want  string
	}{
		{map[string][]string{"a": {"b"}, "b": {"c"}}, "map[]"},
		{map[string][]string{"a": {"b", "c"}, "b": {"c"}, "c": {"b"}}, "map[b:[b c b] c:[c b c]]"},
		{map[string][]string{"a": {"b"}, "b": {"a", "c"}, "c": {"a"}}, "map[a:[a b a] b:[b a b] c:[c a b c]]"},
	} {
		if got := fmt.Sprint(dependencyCycles([]string{"a", "b", "c"}, tc.edges)); got != tc.want {
			t.Errorf("dependencyCycles(%v) = %s, want %s", tc.edges, got, tc.want)
		}
	}
}

// TestDependsNamesSectionsAndGroups: a name is a program, else the
// processes of a section, else the programs of a group; a disabled
// dependency is a warning.
func TestDependsNamesSectionsAndGroups(t *testing.T) {
	cfg, dir := mustLoad(t, `
[group:caches]
programs=redis,memcached

[program:redis]
command=x

[program:memcached]
command=x

[program:worker]
command=x
numprocs=2
process_name=worker_%(process_num)d

[program:db]
command=x
disabled=yes

[program:web]
command=x
depends=caches,worker,db
`)
	web := findProgram(t, cfg, "web")
	if web.Err != nil {
		t.Fatal(web.Err)
	}
	if got := strings.Join(web.Depends, " "); got != "redis memcached worker_0 worker_1 db" {
		t.Errorf("web depends on %q", got)
	}
	want := "$DIR/app.conf:20: [program:web] depends: web depends on db, which is disabled: web cannot start while it is"
	if !slices.Contains(warningTexts(cfg, dir), want) {
		t.Errorf("warnings %q lack %q", warningTexts(cfg, dir), want)
	}
}

// TestStartOrderWithDepends: priority groups stay, and a dependency is
// raised into the group of its highest dependent, so that it starts first.
func TestStartOrderWithDepends(t *testing.T) {
	cfg, _ := mustLoad(t, `
[program:db]
command=x
priority=10

[program:cache]
command=x
priority=50
depends=db

[program:app]
command=x
priority=300
depends=cache

[program:frontend]
command=x
priority=200

[program:batch]
command=x
priority=5
`)
	s := newSupervisor(cfg, testEnviron, &serverLog{w: io.Discard, level: LevelInfo}, nil, "")
	groups := s.byStartOrder(s.order)
	var got []string
	for _, g := range groups {
		got = append(got, strings.Join(namesOf(g), ","))
	}
	if strings.Join(got, " | ") != "db,cache,app | frontend | batch" {
		t.Errorf("start groups %q, want db,cache,app | frontend | batch", got)
	}
	// Without app in the sequence, db and cache keep their own places.
	groups = s.byStartOrder([]*Program{s.progs["db"], s.progs["cache"], s.progs["batch"]})
	got = nil
	for _, g := range groups {
		got = append(got, strings.Join(namesOf(g), ","))
	}
	if strings.Join(got, " | ") != "db,cache | batch" {
		t.Errorf("start groups %q, want db,cache | batch", got)
	}
}
