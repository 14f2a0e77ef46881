//go:build unix

// Tests of the log keyword scanner without processes: every occurrence found
// once whatever the chunking (against a plain reference count), keywords
// split across writes, case folding both ways, no false positives from the
// folding trick, merged streams, context lines, several targets per keyword;
// and the benchmarks of the chunk path with three rules and none.
package main

import (
	"bytes"
	"math/rand"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// noteRecorder collects what a scanner submits.
type noteRecorder struct {
	mu    sync.Mutex
	notes []*notification
}

func (r *noteRecorder) submit(n *notification) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, n)
	return true
}

func (r *noteRecorder) list() []*notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*notification(nil), r.notes...)
}

// counts sums the hits per keyword (from the notification key).
func (r *noteRecorder) counts() map[string]int {
	m := map[string]int{}
	for _, n := range r.list() {
		m[strings.Split(n.key, "\x00")[2]] += n.count
	}
	return m
}

func mustRules(t testing.TB, v string) []LogScanRule {
	t.Helper()
	rules, err := parseLogScan(v)
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

func newTestScanner(t testing.TB, rules string) (*logScanner, *noteRecorder, *bytes.Buffer) {
	rec := &noteRecorder{}
	sc := newLogScanner("web", "stderr", rec.submit, mustRules(t, rules))
	var out bytes.Buffer
	sc.dst = &out
	sc.now = func() time.Time { return time.Date(2026, 11, 25, 10, 0, 0, 0, time.Local) }
	return sc, rec, &out
}

func TestLogScanNoRulesNoScanner(t *testing.T) {
	t.Parallel()
	if sc := newLogScanner("web", "stderr", (&noteRecorder{}).submit, nil, mustRules(t, "<none>")); sc != nil {
		t.Errorf("a scanner without rules: %+v", sc)
	}
}

func TestLogScanKeywordSplitAcrossWrites(t *testing.T) {
	t.Parallel()
	line := "2026-11-25 worker 3: ERROR: disk full\n"
	at := strings.Index(line, "ERROR")
	for cut := at; cut <= at+len("ERROR"); cut++ {
		sc, rec, out := newTestScanner(t, "error>now")
		sc.Write([]byte("first line\n"))
		sc.Write([]byte(line[:cut]))
		sc.Write([]byte(line[cut:]))
		sc.Write([]byte("after\n"))
		notes := rec.list()
		if len(notes) != 1 || notes[0].count != 1 {
			t.Fatalf("cut at %d: %d notifications, want exactly 1", cut, len(notes))
		}
		// The context runs to the end of the read that completed the keyword.
		if !strings.Contains(notes[0].body, "first line\n") || !strings.Contains(notes[0].body, "worker 3: ERROR") ||
			cut < at+len("ERROR") && !strings.Contains(notes[0].body, "ERROR: disk full\n") {
			t.Errorf("cut at %d: the context lacks the lines: %q", cut, notes[0].body)
		}
		if want := "first line\n" + line + "after\n"; out.String() != want {
			t.Errorf("cut at %d: passed on %q, want %q", cut, out.String(), want)
		}
	}
}

func TestLogScanKeywordSplitByteByByte(t *testing.T) {
	t.Parallel()
	sc, rec, _ := newTestScanner(t, "exception>now")
	for _, c := range []byte("java.lang.NullPointerException at Foo.bar\n") {
		sc.Write([]byte{c})
	}
	if got := rec.counts()["exception"]; got != 1 {
		t.Errorf("written a byte at a time: %d hits, want 1", got)
	}
}

func TestLogScanUppercaseRuleMatchesLowercaseOutput(t *testing.T) {
	t.Parallel()
	sc, rec, _ := newTestScanner(t, "FATAL>now,Error>daily")
	sc.Write([]byte("a fatal thing\nan error\nFatal again, ERROR again\nfAtAl eRRoR\n"))
	if got := rec.counts(); got["fatal"] != 3 || got["error"] != 3 {
		t.Errorf("hits %v, want fatal 3 and error 3", got)
	}
	for _, n := range rec.list() {
		if n.count != 3 || !strings.Contains(n.body, "3 times") {
			t.Errorf("one read with three hits: count %d, body %q", n.count, n.body)
		}
	}
}

func TestLogScanNoFalsePositives(t *testing.T) {
	t.Parallel()
	// Folding ORs every byte with 0x20: '@' looks like '`', '\r' like '-',
	// '[' like '{'. Only real matches count.
	sc, rec, _ := newTestScanner(t, "err@r>now,a-b>now,x[1]>now,error>now")
	sc.Write([]byte("err`r a\rb x{1} x[1} erro r errror e-rror\n"))
	sc.Write([]byte("ERR@R A-B X[1]\n"))
	if got := rec.counts(); len(got) != 3 || got["err@r"] != 1 || got["a-b"] != 1 || got["x[1]"] != 1 {
		t.Errorf("hits %v, want err@r, a-b and x[1] once each, error never", got)
	}
	// Non-ASCII keywords match exactly as written (lower case).
	sc, rec, _ = newTestScanner(t, "échec>now")
	sc.Write([]byte("ÉCHEC échec\n"))
	if got := rec.counts()["échec"]; got != 1 {
		t.Errorf("échec: %d hits, want 1 (the lower-case one)", got)
	}
}

func TestLogScanNeverTwice(t *testing.T) {
	t.Parallel()
	// Overlapping candidates and a keyword that ends one chunk and could
	// start the next.
	sc, rec, _ := newTestScanner(t, "aa>now")
	for _, w := range []string{"aaa", "a", "aa", "a"} {
		sc.Write([]byte(w))
	}
	// "aaaaaaa" holds three non-overlapping "aa".
	if got := rec.counts()["aa"]; got != 3 {
		t.Errorf("aa in aaaaaaa written as aaa|a|aa|a: %d hits, want 3", got)
	}
}

// TestLogScanMatchesReference feeds random text with keywords in random case
// in random chunks and compares with strings.Count on the lowered text.
func TestLogScanMatchesReference(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewSource(1))
	keywords := []string{"error", "fatal", "exception", "err", "panic: x"}
	words := []string{"info", "req", "handled", "e", "er", "rr", "or", "exc", "eption", "fat", "al", "\n", " ", "pan", "ic:", "ERR", "OR", " x"}
	for round := 0; round < 200; round++ {
		var text strings.Builder
		for text.Len() < 2000 {
			w := words[rng.Intn(len(words))]
			if rng.Intn(8) == 0 {
				w = keywords[rng.Intn(len(keywords))]
			}
			text.WriteString(randomCase(rng, w))
		}
		data := text.String()
		rules := "error>now,fatal>now,exception>daily,err>now,panic: x>now"
		sc, rec, out := newTestScanner(t, rules)
		for rest := data; rest != ""; {
			n := min(len(rest), 1+rng.Intn(40))
			sc.Write([]byte(rest[:n]))
			rest = rest[n:]
		}
		lower := strings.ToLower(data)
		got := rec.counts()
		for _, kw := range keywords {
			if want := strings.Count(lower, kw); got[kw] != want {
				t.Fatalf("round %d: %q found %d times, want %d\ntext: %q", round, kw, got[kw], want, data)
			}
		}
		if out.String() != data {
			t.Fatalf("round %d: the output was changed", round)
		}
	}
}

func randomCase(rng *rand.Rand, s string) string {
	b := []byte(s)
	for i, c := range b {
		if rng.Intn(2) == 0 && 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func TestLogScanContext(t *testing.T) {
	t.Parallel()
	sc, rec, _ := newTestScanner(t, "fatal>now")
	sc.Write([]byte("l1\nl2\nl3\nl4\nl5\n"))
	sc.Write([]byte("l6 FATAL: it broke\nl7\nl8\nl9\nl10\n"))
	notes := rec.list()
	if len(notes) != 1 {
		t.Fatalf("%d notifications, want 1", len(notes))
	}
	body := notes[0].body
	for _, want := range []string{"l3\n", "l4\n", "l5\n", "l6 FATAL: it broke\n", "l7\n", "l8\n", "l9"} {
		if !strings.Contains(body, want) {
			t.Errorf("context lacks %q:\n%s", want, body)
		}
	}
	for _, unwanted := range []string{"l2", "l10"} {
		if strings.Contains(body, unwanted) {
			t.Errorf("context has %q (more than 3 lines around the hit):\n%s", unwanted, body)
		}
	}
	if n := notes[0]; n.subject != `web: "fatal" in its stderr` || n.target.When != "now" {
		t.Errorf("subject %q, target %+v", n.subject, n.target)
	}
	// A very long line is cut to scanContextBytes on each side.
	sc, rec, _ = newTestScanner(t, "fatal>now")
	long := strings.Repeat("x", 10000)
	sc.Write([]byte(long + "fatal" + long + "\n"))
	if b := rec.list()[0].body; len(b) > 2*scanContextBytes+200 {
		t.Errorf("context of a long line is %d bytes", len(b))
	}
}

func TestLogScanMergedStreamsOneNotificationPerHit(t *testing.T) {
	t.Parallel()
	rec := &noteRecorder{}
	// The defaults: logscan_stdout and logscan_stderr both from logscan.
	rules := mustRules(t, "error>daily,fatal>daily,exception>daily")
	sc := newLogScanner("web", "output", rec.submit, rules, rules)
	sc.Write([]byte("an error\n"))
	if notes := rec.list(); len(notes) != 1 {
		t.Fatalf("merged streams with the same rules: %d notifications for one hit, want 1", len(notes))
	}
	// The same keyword with two targets notifies each of them once.
	rec = &noteRecorder{}
	sc = newLogScanner("web", "output", rec.submit, mustRules(t, "error>now"), mustRules(t, "error>daily:boss@example.com,error>now"))
	sc.Write([]byte("an error\n"))
	notes := rec.list()
	if len(notes) != 2 || notes[0].target.When != "now" || notes[1].target.When != "daily" || notes[1].target.To[0] != "boss@example.com" {
		t.Errorf("error>now and error>daily:boss: %d notifications %+v", len(notes), notes)
	}
}

func TestLogScannersNeedAReachableTarget(t *testing.T) {
	t.Parallel()
	pc := &ProgramConfig{Name: "web", LogScanStdout: mustRules(t, "error>now"), LogScanStderr: mustRules(t, "error>now")}
	cfg := testNotifyConfig()
	s := &Supervisor{cfg: cfg}
	if a, b := s.logScanners(pc, false); a != nil || b != nil {
		t.Errorf("without a mailer: scanners %v %v", a, b)
	}
	s.mailer = newMailer(cfg, &serverLog{w: &bytes.Buffer{}})
	if a, b := s.logScanners(pc, true); a == nil || b != nil || a.stream != "output" {
		t.Errorf("merged: scanners %v %v", a, b)
	}
	if a, b := s.logScanners(pc, false); a == nil || b == nil || a.stream != "stdout" || b.stream != "stderr" {
		t.Errorf("separate streams: scanners %v %v", a, b)
	}
	// Without delivery a rule scans only when a webhook takes its hits.
	cfg.Notify.Delivery = nil
	pc.LogScanStderr = mustRules(t, "error>now,fatal>daily:https://hooks.example.com/T0/B0/x")
	a, b := s.logScanners(pc, false)
	if a != nil || b == nil || len(b.rules) != 1 || string(b.rules[0].keyword) != "fatal" {
		t.Errorf("without delivery: scanners %v %+v", a, b)
	}
	cfg.Notify.Receivers = []string{"ops@example.com", "https://hooks.example.com/T0/B0/x"}
	if a, b := s.logScanners(pc, false); a == nil || b == nil || len(b.rules) != 2 {
		t.Errorf("without delivery, a webhook among the receivers: scanners %v %+v", a, b)
	}
}

// ---- benchmarks ----

// benchLog is what bench/logbench.sh writes: a log line without keywords.
const benchLogLine = "2026-11-25 10:00:00.000 INFO request handled in 3ms method=GET path=/api/v1/items status=200\n"

func benchChunk() []byte {
	return bytes.Repeat([]byte(benchLogLine), readBufferSize/len(benchLogLine))
}

// BenchmarkLogScan is the scanner alone on 256 KiB chunks of log lines.
func BenchmarkLogScan(b *testing.B) {
	chunk := benchChunk()
	sc := newLogScanner("bench", "stdout", func(*notification) bool { return true }, mustRules(b, "error>daily,fatal>daily,exception>daily"))
	b.SetBytes(int64(len(chunk)))
	for b.Loop() {
		sc.Write(chunk)
	}
}

// BenchmarkLogWrite is the chunk path into a rotating log file (as
// bench/logbench.sh configures it), without rules and with the three
// default rules.
func BenchmarkLogWrite(b *testing.B) {
	for _, rules := range []string{"<none>", "error>daily,fatal>daily,exception>daily"} {
		name := "no-rules"
		if rules != "<none>" {
			name = "3-rules"
		}
		b.Run(name, func(b *testing.B) {
			chunk := benchChunk()
			lf := openLogFile(filepath.Join(b.TempDir(), "bench.log"), LogPolicy{MaxSize: 50 << 20, Backups: 2}, nil, func(err error) { b.Error(err) })
			defer lf.Close()
			var w interface{ Write([]byte) (int, error) } = &outputStream{file: lf}
			if sc := newLogScanner("bench", "stdout", func(*notification) bool { return true }, mustRules(b, rules)); sc != nil {
				sc.dst = w
				w = sc
			}
			b.SetBytes(int64(len(chunk)))
			for b.Loop() {
				w.Write(chunk)
			}
		})
	}
}
