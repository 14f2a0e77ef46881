//go:build unix

// Tests of what the configuration says about itself and of `ramona check`:
// every file read with its reason, the keys a <siteconf> file overrides
// (also through platform keys, and not when another file wins back), the
// server log at start and at reload, and check's report with and without a
// server, including the reload preview that changes nothing.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestConfigSources(t *testing.T) {
	cases := []struct {
		name   string
		files  map[string]string
		args   []string
		origin string
		want   []string // describeSources, $DIR for the directory
	}{
		{name: "one -c file, no site file", origin: "-c",
			files: map[string]string{"app.conf": "[program:a]\ncommand=x\n"},
			want:  []string{"$DIR/app.conf (-c)"}},
		{name: "the default file", origin: "default",
			files: map[string]string{"app.conf": "[program:a]\ncommand=x\n"},
			want:  []string{"$DIR/app.conf (the default ./ramona.conf: neither -c nor $RAMONA_CONFIG names a file)"}},
		{name: "$RAMONA_CONFIG, two files", origin: "$RAMONA_CONFIG", args: []string{"app.conf", "more.conf"},
			files: map[string]string{"app.conf": "[program:a]\ncommand=x\n", "more.conf": "[program:b]\ncommand=x\n"},
			want:  []string{"$DIR/app.conf ($RAMONA_CONFIG)", "$DIR/more.conf ($RAMONA_CONFIG)"}},
		{name: "explicit includes, nested", origin: "-c",
			files: map[string]string{
				"app.conf":        "[general]\ninclude=conf.d/one.conf\n[program:a]\ncommand=x\n",
				"conf.d/one.conf": "# one\n[general]\ninclude=two.conf\n",
				"conf.d/two.conf": "[program:c]\ncommand=z\n",
				"site.conf":       "[program:s]\ncommand=s\n", // not read: include is set
			},
			want: []string{"$DIR/app.conf (-c)", "$DIR/conf.d/one.conf (include at $DIR/app.conf:2)",
				"$DIR/conf.d/two.conf (include at $DIR/conf.d/one.conf:3)"}},
		{name: "the default <siteconf>, and what a site file includes", origin: "-c",
			files: map[string]string{
				"app.conf":         "[program:a]\ncommand=x\n",
				"site.conf":        "[general]\ninclude=local.conf\n",
				"ramona-site.conf": "[program:b]\ncommand=x\n",
				"local.conf":       "[program:l]\ncommand=x\n",
			},
			want: []string{"$DIR/app.conf (-c)",
				"$DIR/site.conf (<siteconf>, the default of [general] include, which the files above do not set)",
				"$DIR/ramona-site.conf (<siteconf>, the default of [general] include, which the files above do not set)",
				"$DIR/local.conf (include at $DIR/site.conf:2, a <siteconf> file)"}},
		{name: "<siteconf> in an include list", origin: "-c",
			files: map[string]string{
				"app.conf":  "[program:a]\ncommand=x\n[general]\ninclude=<siteconf>;extra.conf\n",
				"site.conf": "[program:s]\ncommand=s\n", "extra.conf": "[program:e]\ncommand=e\n",
			},
			want: []string{"$DIR/app.conf (-c)", "$DIR/site.conf (<siteconf> in the include at $DIR/app.conf:4)",
				"$DIR/extra.conf (include at $DIR/app.conf:4)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, dir, err := loadFiles(t, tc.files, tc.args, nil)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Origin = tc.origin
			got := strings.Split(strings.ReplaceAll(strings.Join(cfg.describeSources(), "\n"), dir, "$DIR"), "\n")
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("sources:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestSiteconfOverrides(t *testing.T) {
	other := "darwin"
	if currentPlatform == "darwin" {
		other = "linux"
	}
	cases := []struct {
		name  string
		files map[string]string
		args  []string
		want  string // describeSiteOverrides, one per line
	}{
		{name: "site file over the -c file",
			files: map[string]string{
				"app.conf":  "[ramona:server]\nconsoleuri=unix://app.sock\n[program:a]\ncommand=x\npriority=1\n",
				"site.conf": "[program:a]\n\npriority=2\nautostart=no\n[ramona:server]\nconsoleuri=unix://site.sock\n",
			},
			want: "$DIR/site.conf:3: [program:a] priority: this <siteconf> value overrides the one at $DIR/app.conf:5\n" +
				"$DIR/site.conf:6: [ramona:server] consoleuri: this <siteconf> value overrides the one at $DIR/app.conf:2"},
		{name: "two site files: the last wins over the -c file",
			files: map[string]string{
				"app.conf":         "[program:a]\ncommand=x\npriority=1\n",
				"site.conf":        "[program:a]\npriority=2\n",
				"ramona-site.conf": "[program:a]\npriority=3\n",
			},
			want: "$DIR/ramona-site.conf:2: [program:a] priority: this <siteconf> value overrides the one at $DIR/app.conf:3"},
		{name: "a file after the site files wins back: nothing to report",
			files: map[string]string{
				"app.conf":   "[general]\ninclude=<siteconf>;extra.conf\n[program:a]\ncommand=x\npriority=1\n",
				"site.conf":  "[program:a]\npriority=2\n",
				"extra.conf": "[program:a]\npriority=3\n",
			},
			want: ""},
		{name: "a site file's platform key over a plain key",
			files: map[string]string{
				"app.conf":  "[program:a]\ncommand=x\npriority=1\n",
				"site.conf": "[program:a]\npriority@" + currentPlatform + "=2\npriority@" + other + "=9\n",
			},
			want: "$DIR/site.conf:2: [program:a] priority: this <siteconf> value overrides the one at $DIR/app.conf:3"},
		{name: "the -c file's platform key beats the site file",
			files: map[string]string{
				"app.conf":  "[program:a]\ncommand=x\npriority=1\npriority@posix=4\n",
				"site.conf": "[program:a]\npriority=2\n",
			},
			want: ""},
		{name: "a later -c file is no site file",
			files: map[string]string{
				"app.conf":   "[general]\ninclude=\n[program:a]\ncommand=x\npriority=1\n",
				"local.conf": "[program:a]\npriority=2\n",
			},
			args: []string{"app.conf", "local.conf"},
			want: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, dir, err := loadFiles(t, tc.files, tc.args, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.ReplaceAll(strings.Join(cfg.describeSiteOverrides(), "\n"), dir, "$DIR"); got != tc.want {
				t.Errorf("overrides:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestChangedKeys(t *testing.T) {
	a, dir, err := loadFiles(t, map[string]string{
		"app.conf":  "[env]\nX=1\n[program:a]\ncommand=x\nstarttimeout=1\nuser=root\nlogbackups=2\n",
		"next.conf": "[env]\nX=2\n[program:a]\ncommand=y\nstarttimeout=2\nlogbackups=2\nbogus=1\n",
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := loadConfig([]string{filepath.Join(dir, "next.conf")}, testEnviron)
	if err != nil {
		t.Fatal(err)
	}
	got := changedKeys(findProgram(t, a, "a"), findProgram(t, b, "a"))
	if want := []string{"command", "env", "starttimeout", "user"}; !reflect.DeepEqual(got, want) {
		t.Errorf("changedKeys = %q; want %q", got, want)
	}
	if got := changedKeys(findProgram(t, a, "a"), findProgram(t, a, "a")); len(got) != 0 {
		t.Errorf("changedKeys of one program with itself = %q; want none", got)
	}
}

// checkDir writes a configuration for check in a test directory: app.conf
// with the test marker and a socket, plus the other files given.
func checkDir(t *testing.T, files map[string]string) (dir, conf string) {
	t.Helper()
	hermetic(t)
	dir = t.TempDir()
	writeFiles(t, dir, files)
	return dir, filepath.Join(dir, "app.conf")
}

func TestCheckWithoutServer(t *testing.T) {
	dir, conf := checkDir(t, map[string]string{
		"app.conf": "[ramona:server]\nconsoleuri=unix://r.sock\n[program:a]\ncommand=x\npriority=1\nbogus=1\n" +
			"[program:b]\ncommand=y\nstarttimeout=5x\n[tool:t]\ncommand=\"open\n",
		"site.conf": "[program:a]\npriority=2\n",
	})
	code, out, _ := cli(t, conf, "check")
	want := strings.ReplaceAll(`files read:
  $DIR/app.conf (-c)
  $DIR/site.conf (<siteconf>, the default of [general] include, which the files above do not set)
<siteconf> overrides:
  $DIR/site.conf:2: [program:a] priority: this <siteconf> value overrides the one at $DIR/app.conf:5
warnings:
  $DIR/app.conf:6: [program:a] bogus: unknown key, ignored
errors:
  $DIR/app.conf:9: [program:b] starttimeout: "5x" is not a duration; use e.g. 500ms, 2s, 1m or a number of seconds
  $DIR/app.conf:11: [tool:t] command: unterminated " quote in "\"open"
server: none answers at unix://$DIR/r.sock, so there is no reload to preview
check: 2 errors, 1 warning
`, "$DIR", dir)
	if code != exitUsage || out != want {
		t.Errorf("check: exit %d, output:\n%s\nwant exit %d and:\n%s", code, out, exitUsage, want)
	}
}

func TestCheckCleanAndBroken(t *testing.T) {
	dir, conf := checkDir(t, map[string]string{
		"app.conf":    "[general]\ninclude=\n[ramona:server]\nconsoleuri=unix://r.sock\n[program:a]\ncommand=x\n",
		"broken.conf": "[general]\nlogmaxsize=huge\n",
	})
	code, out, _ := cli(t, conf, "check")
	if code != exitOK || !strings.HasSuffix(out, "check: 0 errors, 0 warnings\n") || !strings.HasPrefix(out, "files read:\n  "+conf+" (-c)\n") {
		t.Errorf("check of a clean file: exit %d, output %q; want 0, the file and no errors", code, out)
	}
	// A broken global section stops every other command; check still
	// reports the files and every error.
	code, out, _ = cli(t, conf, "-c", filepath.Join(dir, "broken.conf"), "check")
	for _, want := range []string{"  " + conf + " (-c)\n", "  " + filepath.Join(dir, "broken.conf") + " (-c)\n",
		"errors:\n  " + filepath.Join(dir, "broken.conf") + `:2: [general] logmaxsize: "huge"`, "check: 1 error, 0 warnings\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("check of a broken file: output lacks %q:\n%s", want, out)
		}
	}
	if code != exitUsage {
		t.Errorf("check of a broken file: exit %d; want %d", code, exitUsage)
	}
	if code, _, errOut := cli(t, conf, "check", "a"); code != exitUsage || !strings.Contains(errOut, "check takes no arguments: it checks the whole configuration") {
		t.Errorf("check a: exit %d, %q; want %d", code, errOut, exitUsage)
	}
}

// TestCheckPreviewsReload: with a server running, check says what reload
// would add, remove and change, and changes nothing itself.
func TestCheckPreviewsReload(t *testing.T) {
	t.Parallel()
	sleep := helperCommand(t, "sleep", "1h")
	r := newTestRamona(t, progSection("a", sleep)+progSection("b", sleep))
	r.start()
	r.waitState("a", "RUNNING", lcWait)
	r.waitState("b", "RUNNING", lcWait)
	before := r.status()
	if code, out, _ := r.cli("check"); code != exitOK || !strings.Contains(out, "  reload would change no program\n") {
		t.Errorf("check with nothing changed: exit %d, output:\n%s", code, out)
	}

	r.write(progSection("a", sleep, "starttimeout=0.3", "killby=INT") + progSection("c", sleep) + "[ramona:server]\nloglevel=DEBUG\n")
	code, out, _ := r.cli("check")
	pid := r.server.cmd.Process.Pid
	for _, want := range []string{
		fmt.Sprintf("server: pid %d at unix://%s\n", pid, r.sock()),
		"  reload would add: c\n", "  reload would remove: b\n", "  reload would change: a (killby, starttimeout)\n",
		"  [ramona:server] differs: that takes effect only when the server starts again\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check: output lacks %q:\n%s", want, out)
		}
	}
	if code != exitOK || strings.Contains(out, "reads other files") {
		t.Errorf("check: exit %d, output:\n%s\nwant 0, the same files as the server", code, out)
	}
	after := r.status()
	if _, ok := after["c"]; ok || after["a"].PID != before["a"].PID || after["b"].PID != before["b"].PID {
		t.Errorf("check changed the server: before %+v, after %+v", before, after)
	}

	// Another file than the server's: check says so and shows the server's.
	other := filepath.Join(r.dir, "other.conf")
	data, _ := os.ReadFile(r.conf)
	writeFile(t, other, string(data))
	_, out, _ = cli(t, other, "check")
	if !strings.Contains(out, "  it reads other files than those above; reload would read:\n    "+r.conf+" (-c)\n") {
		t.Errorf("check -c other.conf: output lacks the server's files:\n%s", out)
	}

	// The server's file broken: reload would change nothing, and check fails.
	writeFile(t, r.conf, string(data)+"[ramona:notify]\ndailyat=25:00\n")
	code, out, _ = r.cli("check")
	if code != exitUsage || !strings.Contains(out, "  reload would change nothing: the server's configuration has errors:\n    "+r.conf+":") {
		t.Errorf("check with a broken file: exit %d, output:\n%s", code, out)
	}
	writeFile(t, r.conf, string(data))
	if code, out, _ := r.cli("reload"); code != 0 || !strings.Contains(out, "reloaded: 1 added, 1 removed, 1 changed") {
		t.Errorf("reload after check: exit %d, %q", code, out)
	}
	if code, out, _ := r.cli("check"); code != exitOK || !strings.Contains(out, "  reload would change no program\n") {
		t.Errorf("check after the reload: exit %d, output:\n%s", code, out)
	}
	r.stopAll()
}

// TestServerLogsConfigFiles: the server log lists every file read and why,
// at start and at reload, and the keys a site file overrides. The site
// file is ~/.ramona.conf, the one <siteconf> reads for every configuration
// of the user, as /etc/ramona.conf is for every one on the machine.
func TestServerLogsConfigFiles(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	site := filepath.Join(home, ".ramona.conf")
	writeFile(t, site, "[program:a]\n# the site's own opinion\nstarttimeout=0.3\n")
	sleep := helperCommand(t, "sleep", "1h")
	r := newTestRamona(t, progSection("a", sleep, "starttimeout=0.2"))
	r.start()
	log := r.waitServerLog("server: Ramona")
	for _, want := range []string{
		"INFO    config: read " + r.conf + " (-c)\n",
		"INFO    config: read " + site + " (<siteconf>, the default of [general] include, which the files above do not set)\n",
		"INFO    config: " + site + ":3: [program:a] starttimeout: this <siteconf> value overrides the one at " + r.conf + ":12\n",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("server log lacks %q:\n%s", want, log)
		}
	}
	writeFile(t, site, "[program:a]\nstarttimeout=0.4\n")
	if code, _, _ := r.cli("reload"); code != 0 {
		t.Errorf("reload: exit %d", code)
	}
	r.waitServerLog("INFO    config: " + site + ":2: [program:a] starttimeout: this <siteconf> value overrides the one at " + r.conf + ":12\n")
	r.stopAll()
}

// TestBackgroundServerLogsOrigin: a server that `start` launched says how
// the command was given its files, although it gets them as -c.
func TestBackgroundServerLogsOrigin(t *testing.T) {
	r := backgroundRamona(t, "")
	t.Setenv("RAMONA_CONFIG", r.conf)
	var out, errb strings.Builder
	if code := run([]string{"start", "-S"}, strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("start -S: exit %d, %s %s", code, &out, &errb)
	}
	want := "INFO    config: read " + r.conf + " ($RAMONA_CONFIG)\n"
	if data, _ := os.ReadFile(filepath.Join(r.dir, "log", "ramona.log")); !strings.Contains(string(data), want) {
		t.Errorf("server log lacks %q:\n%s", want, data)
	}
}

// TestCheckSupervisordConfig: check reads supervisord's dialect as every
// command does, lists the files its [include] names, and prints the keys
// Ramona cannot honour as warnings.
func TestCheckSupervisordConfig(t *testing.T) {
	dir, _ := checkDir(t, map[string]string{
		"supervisord.conf": "[unix_http_server]\nfile=%(here)s/sv.sock\n[supervisord]\nminprocs=200\n" +
			"[include]\nfiles=conf.d/*.conf\n[program:x]\ncommand=/bin/true\n",
		"conf.d/y.conf": "[program:y]\ncommand=/bin/true\n",
	})
	conf := filepath.Join(dir, "supervisord.conf")
	code, out, _ := cli(t, conf, "check")
	for _, want := range []string{
		"files read:\n  " + conf + " (-c)\n  " + filepath.Join(dir, "conf.d", "y.conf") + " (include at " + conf + ")\n",
		"warnings:\n  " + conf + ":4: [supervisord] minprocs: ignored: Ramona does not raise the process limit",
		"server: none answers at unix://" + filepath.Join(dir, "sv.sock") + ", so there is no reload to preview\n",
		"check: 0 errors, 1 warning\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check: output lacks %q:\n%s", want, out)
		}
	}
	if code != exitOK {
		t.Errorf("check: exit %d; want 0", code)
	}
}
