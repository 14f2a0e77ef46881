//go:build unix

// Tests of program names in commands (names.go): the patterns as a table,
// then end to end through the command line, the console's dispatcher and
// the web frontend's JSON API against a real server, with processes of a
// numprocs section and a [group:g].
package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestSelectPrograms(t *testing.T) {
	t.Parallel()
	progs := []*ProgramConfig{
		{Name: "web_00", Group: "web"}, {Name: "web_01", Group: "web"}, {Name: "api", Group: "back"},
		{Name: "worker", Group: "back"}, {Name: "cron", Group: "cron"}, {Name: "web", Group: "front"},
	}
	for _, tc := range []struct {
		patterns string
		want     string
	}{
		{"api", "api"},
		{"web", "web"}, // an exact program name before the group of the same name
		{"web:*", "web_00 web_01"},
		{"web_*", "web_00 web_01"},
		{"web*", "web_00 web_01 web"},
		{"back", "api worker"},
		{"back:api", "api"},
		{"back:w*", "worker"},
		{"*:web", "web"},
		{"w?b_0[1-9]", "web_01"},
		{"cron api cron", "api cron"}, // the configuration's order, once each
		{"*", "web_00 web_01 api worker cron web"},
		{`web\_00`, "web_00"},
		{"nosuch", "error: unknown program nosuch; the configuration has: web_00, web_01, api, worker, cron, web (groups: web, back, front)"},
		{"api nosuch other", "error: unknown program nosuch, other; the configuration has: web_00, web_01, api, worker, cron, web (groups: web, back, front)"},
		{"db*", "error: no program matches db*; the configuration has: web_00, web_01, api, worker, cron, web (groups: web, back, front)"},
		{"back:db", "error: no program matches back:db; the configuration has: web_00, web_01, api, worker, cron, web (groups: web, back, front)"},
		{"web[", `error: "web[" is not a valid pattern (syntax error in pattern); use *, ? and [a-z] as in the shell`},
		{"back:[", `error: "back:[" is not a valid pattern (syntax error in pattern); write GROUP:NAME, GROUP:* or a shell glob such as web*`},
	} {
		got, err := selectPrograms(strings.Fields(tc.patterns), progs)
		var text string
		if err != nil {
			text = "error: " + err.Error()
		} else {
			var names []string
			for _, p := range got {
				names = append(names, p.Name)
			}
			text = strings.Join(names, " ")
		}
		if text != tc.want {
			t.Errorf("selectPrograms(%s)\n got: %s\nwant: %s", tc.patterns, text, tc.want)
		}
	}
}

// TestNamesInCommands: status, stop, start, restart and tail, from the
// command line and the web API, with globs and GROUP:NAME.
func TestNamesInCommands(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	sleep := helperCommand(t, "sleep", "1h")
	r := newTestRamona(t, fmt.Sprintf(`
[program:ui]
command=<httpfend>
listen=tcp://127.0.0.1:%d
starttimeout=0.2

[program:web]
command=%[2]s
numprocs=3
process_name=web_%%(process_num)02d
starttimeout=0.2

[group:back]
programs=api,worker

[program:api]
command=%[2]s
starttimeout=0.2

[program:worker]
command=%[3]s
starttimeout=0.2
`, port, sleep, helperCommand(t, "echo-lines", "2", "1ms")))
	r.start()
	all := []string{"ui", "web_00", "web_01", "web_02", "api", "worker"}
	for _, n := range all {
		r.waitState(n, "RUNNING", lcWait)
	}
	states := func() string {
		st := r.status()
		var out []string
		for _, n := range all {
			out = append(out, n+"="+st[n].State)
		}
		return strings.Join(out, " ")
	}

	code, out, _ := r.cli("status", "--json", "web*")
	var list []programStatus
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list) != 3 || list[0].Name != "web_00" || list[2].Name != "web_02" {
		t.Errorf("status web*: exit %d, %v, %q", code, err, out)
	}
	if code, _, _ := r.cli("stop", "web:web_01", "back:*"); code != 0 {
		t.Errorf("stop web:web_01 back:*: exit %d", code)
	}
	if got, want := states(), "ui=RUNNING web_00=RUNNING web_01=STOPPED web_02=RUNNING api=STOPPED worker=STOPPED"; got != want {
		t.Errorf("after stop web:web_01 back:*\n got: %s\nwant: %s", got, want)
	}
	if code, _, _ := r.cli("status", "back"); code != exitNotAll {
		t.Errorf("status back (both stopped): exit %d, want 3", code)
	}
	if code, _, _ := r.cli("start", "back"); code != 0 {
		t.Errorf("start back: exit %d", code)
	}
	code, _, errOut := r.cli("start", "web:nosuch")
	if want := "ramona: no program matches web:nosuch; the configuration has: ui, web_00, web_01, web_02, api, worker (groups: web, back)\n"; code != exitUsage || errOut != want {
		t.Errorf("start web:nosuch: exit %d, stderr %q; want 2, %q", code, errOut, want)
	}
	code, _, errOut = r.cli("stop", "db*")
	if want := "ramona: no program matches db*; the configuration has: ui, web_00, web_01, web_02, api, worker (groups: web, back)\n"; code != exitUsage || errOut != want {
		t.Errorf("stop db* (checked by the server): exit %d, stderr %q; want 2, %q", code, errOut, want)
	}
	code, _, errOut = r.cli("tail", "web_0*")
	if want := "ramona: web_0* matches 3 programs (web_00, web_01, web_02); tail shows one\n"; code != exitUsage || errOut != want {
		t.Errorf("tail web_0*: exit %d, stderr %q; want 2, %q", code, errOut, want)
	}
	r.waitProgramLog("worker", "line 2")
	if code, out, _ := r.cli("tail", "back:w*"); code != 0 || !strings.Contains(out, "line 1\nline 2\n") {
		t.Errorf("tail back:w*: exit %d, %q", code, out)
	}

	// The console runs the same dispatcher.
	var console, consoleErr strings.Builder
	c := &cmdline{stdin: strings.NewReader(""), stdout: &console, stderr: &consoleErr}
	c.cfg, _ = loadConfig([]string{r.conf}, nil)
	if code := c.dispatch("restart", []string{"web_0[02]"}); code != 0 || !strings.Contains(console.String(), "web_02") || strings.Contains(console.String(), "web_01") {
		t.Errorf("console restart web_0[02]: exit %d\n%s%s", code, console.String(), consoleErr.String())
	}

	// The web API passes the patterns to the server.
	waitHealthz(t, base, 200)
	resp := webDo(t, nil, "POST", base+"/api/stop", "name=web:*", "Origin: "+base)
	var res controlResult
	if err := json.Unmarshal([]byte(resp.body), &res); resp.code != 200 || err != nil || res.Exit != 0 {
		t.Fatalf("POST /api/stop name=web:*: %d %q", resp.code, resp.body)
	}
	if got, want := states(), "ui=RUNNING web_00=STOPPED web_01=STOPPED web_02=STOPPED api=RUNNING worker=RUNNING"; got != want {
		t.Errorf("after /api/stop name=web:*\n got: %s\nwant: %s", got, want)
	}
	resp = webDo(t, nil, "POST", base+"/api/start", `{"name":["web_0[01]"]}`, "Content-Type: application/json", "Origin: "+base)
	if err := json.Unmarshal([]byte(resp.body), &res); resp.code != 200 || err != nil || res.Exit != 0 {
		t.Fatalf("POST /api/start web_0[01]: %d %q", resp.code, resp.body)
	}
	r.waitState("web_01", "RUNNING", 10*time.Second)
	if got, want := states(), "ui=RUNNING web_00=RUNNING web_01=RUNNING web_02=STOPPED api=RUNNING worker=RUNNING"; got != want {
		t.Errorf("after /api/start web_0[01]\n got: %s\nwant: %s", got, want)
	}
	resp = webDo(t, nil, "GET", base+"/api/tail?name=back:worker&n=5", "")
	if resp.code != 200 || !strings.Contains(resp.body, "line 2\n") {
		t.Errorf("/api/tail?name=back:worker: %d %q", resp.code, resp.body)
	}
	r.stopAll()
}
