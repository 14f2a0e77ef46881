//go:build unix

// Tests of showtext.go and of where it is used: control characters never
// reach a terminal through status, the console or the server log, and a
// huge error (a 1 MiB command) is capped in status.
package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/tabwriter"
	"unicode/utf8"
)

func TestEscapeControls(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, oneLine, lines string
	}{
		{"plain text", "plain text", "plain text"},
		{"été ✓", "été ✓", "été ✓"},
		{"a\x1b[2Jb", `a\x1b[2Jb`, `a\x1b[2Jb`},
		{"x\ty\nz", `x\ty\nz`, "x\ty\nz"},
		{"over\rwrite", `over\rwrite`, `over\rwrite`},
		{"bell\a del\x7f", `bell\x07 del\x7f`, `bell\x07 del\x7f`},
		{"c1 \u009b31m", `c1 \u009b31m`, `c1 \u009b31m`},
		{"bad \xff\x9b utf8", `bad \xff\x9b utf8`, `bad \xff\x9b utf8`},
	} {
		if got := escapeControls(tc.in, false); got != tc.oneLine {
			t.Errorf("escapeControls(%q, false) = %q; want %q", tc.in, got, tc.oneLine)
		}
		if got := escapeControls(tc.in, true); got != tc.lines {
			t.Errorf("escapeControls(%q, true) = %q; want %q", tc.in, got, tc.lines)
		}
	}
}

func TestCapText(t *testing.T) {
	t.Parallel()
	if got := capText("short", 10); got != "short" {
		t.Errorf("capText kept %q", got)
	}
	got := capText(strings.Repeat("é", 10), 5) // 20 bytes; byte 5 is inside a character
	if want := "éé ... [16 more bytes not shown; the server log has the whole text]"; got != want {
		t.Errorf("capText = %q; want %q", got, want)
	}
	if !utf8.ValidString(got) {
		t.Errorf("capText cut a character: %q", got)
	}
}

func TestPrintStatusEscapes(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	printStatus(&out, []programStatus{
		{Name: "a\x1b[2Jb", State: "CFGERROR", Error: "x.conf:3: [program:a\x1b[2Jb] name contains '\\x1b'\nsecond line"},
		{Name: "b", State: "RUNNING", PID: 7, StatusText: "\x1b]0;owned\a\u009b31m"},
	})
	text := out.String()
	if strings.ContainsAny(text, "\x1b\a\u009b") {
		t.Errorf("status table holds control characters:\n%q", text)
	}
	for _, want := range []string{`a\x1b[2Jb`, `\x1b]0;owned\x07\u009b31m`, "second line"} {
		if strings.Contains(text, want) != (want != "second line") {
			t.Errorf("status table %q: want %q %s", text, want, map[bool]string{true: "shown", false: "not shown (first line only)"}[want != "second line"])
		}
	}
	if n := strings.Count(text, "\n"); n != 3 {
		t.Errorf("status table has %d lines; want a header and one line per program:\n%s", n, text)
	}
}

// The status table is aligned as text/tabwriter (padding 2) aligned it,
// byte for byte: wide and empty cells, names of several runes, an empty
// last column.
func TestStatusTableAlignsAsTabwriter(t *testing.T) {
	t.Parallel()
	rows := [][]string{
		{"NAME", "STATE", "PID", "STATUS"},
		{"web", "RUNNING", "12", ""},
		{"größer-name", "", "123456", "ready: 3 of 4"},
		{"", "BACKOFF", "-", "exit 2 (log: 5 bytes lost)"},
	}
	var want, got bytes.Buffer
	tw := tabwriter.NewWriter(&want, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		tw.Write([]byte(strings.Join(r, "\t") + "\n"))
	}
	tw.Flush()
	table := newTextTable(len(rows), rows[0]...)
	for _, r := range rows[1:] {
		table.row(r...)
	}
	table.write(&got)
	if got.String() != want.String() {
		t.Errorf("status table:\n%s\nwant (tabwriter):\n%s", got.String(), want.String())
	}
}

// The status reply leaves zero values out; the client reads them back as
// the same list, which status --json prints with every key.
func TestStatusWireRoundTrip(t *testing.T) {
	t.Parallel()
	health := "healthy"
	list := []programStatus{
		{Name: "a", Group: "g", State: "RUNNING", PID: 7, Launches: 1, Uptime: 1.5, Health: &health, Priority: 100, CPUSeconds: 0.25, MemoryBytes: 4096, Cgroup: "/sys/fs/cgroup/x/a"},
		{Name: "b", Group: "b", State: "EXITED", Exit: 0, StatusText: "bye", Error: "e", LostBytes: 3},
		{Name: "c", Group: "c", State: "STOPPED", Exit: "SIGKILL", Restarts: 2, HealthReason: "r"},
	}
	data, err := encodeStatusWire(list)
	if err != nil {
		t.Fatal(err)
	}
	full, _ := json.Marshal(list)
	if len(data) >= len(full) || bytes.Contains(data, []byte(`"lost_bytes":0`)) {
		t.Errorf("wire %s is not smaller than %s", data, full)
	}
	var back []programStatus
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(back)
	// JSON numbers decode into an interface as float64: exit 0 prints as 0 either way.
	if string(again) != string(full) {
		t.Errorf("round trip:\n%s\nwant\n%s", again, full)
	}
	for _, key := range []string{`"cpu_seconds":0`, `"memory_bytes":0`, `"exit":null`, `"health":null`, `"lost_bytes":0`} {
		if !bytes.Contains(again, []byte(key)) {
			t.Errorf("status --json of the decoded list lacks %s: %s", key, again)
		}
	}
	// encodeStatusWire writes one program at a time: the bytes are
	// json.Marshal's of the converted list, HTML escapes and all, for no,
	// one and several programs.
	odd := programStatus{Name: "<x>&y", StatusText: "line\nwith \"quotes\" \u2028", Error: "\x00", Exit: 3}
	for _, l := range [][]programStatus{nil, list[:1], append(list, odd)} {
		wire := make([]statusWire, len(l))
		for i, st := range l {
			wire[i] = statusWire(st)
		}
		want, _ := json.Marshal(wire)
		got, err := encodeStatusWire(l)
		if err != nil || string(got) != string(want) {
			t.Errorf("encodeStatusWire of %d programs: %s, %v; want json.Marshal's %s", len(l), got, err, want)
		}
	}
}

// ramona check shows keys and values of the files: escaped too.
func TestCheckEscapes(t *testing.T) {
	t.Parallel()
	conf := filepath.Join(t.TempDir(), "app.conf")
	must(t, os.WriteFile(conf, []byte("[ramona:server]\nconsoleuri=unix://"+filepath.Join(filepath.Dir(conf), "r.sock")+"\n[program:a]\ncommand=x\nbad\x1b[2Jkey=1\n"), 0o644))
	_, out, _ := cli(t, conf, "check")
	if strings.ContainsRune(out, 0x1b) || !strings.Contains(out, `bad\x1b[2Jkey`) {
		t.Errorf("check output %q; want the key with its escape sequence escaped", out)
	}
}

func TestServerLogEscapes(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	l := &serverLog{w: &out, level: LevelInfo}
	l.Infof("%s: STATUS=%s", "web", "\x1b[31mred\nnext line\tend")
	if got := out.String(); !strings.HasSuffix(got, "web: STATUS=\\x1b[31mred\nnext line\tend\n") {
		t.Errorf("server log line %q", got)
	}
}

// A program whose name holds an escape sequence (a CFGERROR) and one whose
// 1 MiB command (256 times statusTextMax) cannot be found: `status` and
// `status --json` escape the one and cap the other's error.
func TestStatusEscapesNamesAndCapsHugeErrors(t *testing.T) {
	t.Parallel()
	huge := "/nonexistent/" + strings.Repeat("x", 1<<20)
	r := newTestRamona(t, "[program:bad\x1b[2Jname]\ncommand=true\n\n"+progSection("huge", huge))
	r.start()
	cl := r.dial() // polls without loading the 1 MiB configuration each time
	var st programStatus
	waitFor(t, "huge to be FATAL", lcWait, func() bool { st = statusOf(t, cl)["huge"]; return st.State == "FATAL" })
	if len(st.Error) > statusTextMax+200 || !strings.Contains(st.Error, "more bytes not shown; the server log has the whole text") ||
		!strings.HasPrefix(st.Error, "command "+huge[:100]) {
		t.Errorf("status error of the 1 MiB command: %d bytes, %.200q...; want it capped at %d", len(st.Error), st.Error, statusTextMax)
	}
	_, out, _ := r.cli("status")
	if strings.ContainsRune(out, 0x1b) || !strings.Contains(out, `bad\x1b[2Jname`) {
		t.Errorf("status table:\n%q\nwant the name with its escape sequence escaped", out)
	}
	if len(out) > 3*statusTextMax {
		t.Errorf("status table is %d bytes long", len(out))
	}
	_, out, _ = r.cli("status", "--json")
	var list []programStatus
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(out) > 3*statusTextMax {
		t.Errorf("status --json: %d bytes, %v", len(out), err)
	}
	r.stopAll()
}
