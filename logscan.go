// Log keyword scanning on the output path (logscan_stdout, logscan_stderr):
// one logScanner per pipe reader goroutine finds every keyword of its rules,
// ASCII case-insensitively, also when a keyword is split across two reads,
// reports each occurrence once, and hands the mailer one notification per
// rule and read with a few lines of context. It never waits for anything.
package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"time"
)

const (
	scanContextBytes = 1024 // at most this much output before and after a hit goes into its context
	scanContextLines = 3    // lines before and after the line of a hit (those after only from the same read)
)

// scanRule is one keyword with every distinct target it notifies.
type scanRule struct {
	keyword []byte // lower case, as written in the configuration
	folded  []byte // keyword with every byte ORed with 0x20, the form searched for
	rare    int    // index of the byte of folded that is least common in logs: searched for first
	targets []NotifyTarget
}

// logScanner scans one output stream of one program. It belongs to the pipe
// reader goroutine that calls Write, and holds no lock.
type logScanner struct {
	dst     io.Writer // where the output goes; Write passes it on first
	program string
	stream  string // stdout, stderr, or "output" when both streams are one pipe
	rules   []scanRule
	maxKw   int
	submit  func(*notification) bool // hands a notification on without blocking
	now     func() time.Time

	pos  int64   // stream offset of the next chunk's first byte
	next []int64 // per rule: the end of its last match; a match must start there or later
	tail []byte  // the stream's last bytes before the next chunk (split keywords, context)
	fold []byte  // scratch: the folded chunk
	join []byte  // scratch: the end of tail and the start of a chunk
	hits []scanHit
}

// scanHit is what one read found for one rule.
type scanHit struct {
	count   int
	context string // around the first occurrence
}

// newLogScanner prepares a scanner for rules (one or two logscan keys; the
// same keyword with the same target counts once); nil without rules.
func newLogScanner(program, stream string, submit func(*notification) bool, ruleSets ...[]LogScanRule) *logScanner {
	sc := &logScanner{program: program, stream: stream, submit: submit, now: time.Now}
	byKeyword := map[string]int{}
	for _, set := range ruleSets {
		for _, r := range set {
			if r.Keyword == "" {
				continue
			}
			i, ok := byKeyword[r.Keyword]
			if !ok {
				i = len(sc.rules)
				byKeyword[r.Keyword] = i
				kw := []byte(r.Keyword)
				folded := make([]byte, len(kw))
				foldASCII(folded, kw)
				sc.rules = append(sc.rules, scanRule{keyword: kw, folded: folded, rare: rarestByte(folded)})
				sc.maxKw = max(sc.maxKw, len(kw))
			}
			if !containsTarget(sc.rules[i].targets, r.Target) {
				sc.rules[i].targets = append(sc.rules[i].targets, r.Target)
			}
		}
	}
	if len(sc.rules) == 0 {
		return nil
	}
	sc.next = make([]int64, len(sc.rules))
	sc.hits = make([]scanHit, len(sc.rules))
	return sc
}

func containsTarget(list []NotifyTarget, t NotifyTarget) bool {
	for _, u := range list {
		if u.When == t.When && strings.Join(u.To, ",") == strings.Join(t.To, ",") {
			return true
		}
	}
	return false
}

// Write passes p on to the stream, then scans it.
func (sc *logScanner) Write(p []byte) (int, error) {
	if sc.dst != nil {
		sc.dst.Write(p)
	}
	sc.scan(p)
	return len(p), nil
}

// scan finds the keywords in p and in what spans the end of the previous
// chunk and the start of p, and submits the hits.
func (sc *logScanner) scan(p []byte) {
	if len(p) == 0 {
		return
	}
	found := false
	// A keyword that starts in the tail and ends in p.
	if len(sc.tail) > 0 && sc.maxKw > 1 {
		k := min(len(sc.tail), sc.maxKw-1)
		m := min(len(p), sc.maxKw-1)
		sc.join = append(append(sc.join[:0], sc.tail[len(sc.tail)-k:]...), p[:m]...)
		base := sc.pos - int64(k) // stream offset of join[0]
		for ri := range sc.rules {
			kw := sc.rules[ri].keyword
			for i := max(0, k-len(kw)+1); i < k && i+len(kw) <= len(sc.join); i++ {
				if base+int64(i) < sc.next[ri] || !equalFoldLower(sc.join[i:i+len(kw)], kw) {
					continue
				}
				sc.next[ri] = base + int64(i+len(kw))
				sc.hit(ri, p, i-k, len(kw))
				found = true
			}
		}
	}
	// Every keyword inside p.
	if cap(sc.fold) < len(p) {
		sc.fold = make([]byte, len(p))
	}
	fold := sc.fold[:len(p)]
	foldASCII(fold, p)
	for ri := range sc.rules {
		r := &sc.rules[ri]
		n, rare := len(r.folded), r.folded[r.rare]
		from := int(max(0, sc.next[ri]-sc.pos)) // where the next match may start
		for from+n <= len(fold) {
			// Find the keyword's rarest byte (SIMD-fast when it is rare), then
			// compare the whole keyword around it.
			i := bytes.IndexByte(fold[from+r.rare:len(fold)-(n-1-r.rare)], rare)
			if i < 0 {
				break
			}
			at := from + i
			if !equalBytes(fold[at:at+n], r.folded) || !equalFoldLower(p[at:at+n], r.keyword) {
				from = at + 1 // not it, or a byte that only looks alike when folded
				continue
			}
			sc.hit(ri, p, at, n)
			found = true
			from = at + n
			sc.next[ri] = sc.pos + int64(from)
		}
	}
	if found {
		sc.report()
	}
	sc.keepTail(p)
	sc.pos += int64(len(p))
}

// hit counts an occurrence at p[at:at+n] (at < 0: it starts in the tail).
func (sc *logScanner) hit(ri int, p []byte, at, n int) {
	h := &sc.hits[ri]
	if h.count == 0 {
		h.context = sc.context(p, at, n)
	}
	h.count++
}

// report submits one notification per rule and target that had hits in
// this read.
func (sc *logScanner) report() {
	now := sc.now()
	for ri := range sc.hits {
		h := &sc.hits[ri]
		if h.count == 0 {
			continue
		}
		kw := string(sc.rules[ri].keyword)
		var b strings.Builder
		fmt.Fprintf(&b, "%q in the %s of %s at %s", kw, sc.stream, sc.program, now.Format("2006-01-02 15:04:05"))
		if h.count > 1 {
			fmt.Fprintf(&b, " (%d times in this piece of output; the first is shown)", h.count)
		}
		b.WriteString(":\n\n")
		b.WriteString(indent(strings.TrimRight(h.context, "\n")))
		b.WriteString("\n")
		for _, t := range sc.rules[ri].targets {
			sc.submit(&notification{
				key:     "logscan\x00" + sc.program + "\x00" + kw + "\x00" + t.When + "\x00" + strings.Join(t.To, ","),
				target:  t,
				event:   eventLogScan,
				program: sc.program,
				subject: fmt.Sprintf("%s: %q in its %s", sc.program, kw, sc.stream),
				body:    b.String(),
				count:   h.count,
				at:      now,
			})
		}
		*h = scanHit{}
	}
}

// context is the text around a hit at p[at:at+n]: up to scanContextLines
// lines before it (from earlier reads too), its line, and the lines after
// it that this read holds, each side at most scanContextBytes.
func (sc *logScanner) context(p []byte, at, n int) string {
	var w []byte
	lo := at - scanContextBytes
	if lo < 0 {
		take := min(len(sc.tail), -lo)
		w = append(w, sc.tail[len(sc.tail)-take:]...)
		lo = 0
	}
	start := len(w) + at - lo // the hit's index in w
	hi := min(len(p), at+n+scanContextBytes)
	w = append(w, p[lo:hi]...)
	end := start + n
	// back to the start of the line scanContextLines above the hit's line
	b := start
	for lines := 0; b > 0; b-- {
		if w[b-1] == '\n' {
			if lines == scanContextLines {
				break
			}
			lines++
		}
	}
	// forward to the end of the line scanContextLines below it
	e := end
	for lines := 0; e < len(w); e++ {
		if w[e] == '\n' {
			if lines == scanContextLines {
				e++
				break
			}
			lines++
		}
	}
	return string(w[b:e])
}

// keepTail remembers the end of the stream for the next chunk.
func (sc *logScanner) keepTail(p []byte) {
	keep := max(scanContextBytes, sc.maxKw)
	if len(p) >= keep {
		sc.tail = append(sc.tail[:0], p[len(p)-keep:]...)
		return
	}
	if drop := len(sc.tail) + len(p) - keep; drop > 0 {
		sc.tail = append(sc.tail[:0], sc.tail[drop:]...)
	}
	sc.tail = append(sc.tail, p...)
}

// rarestByte picks the byte of a folded keyword that is least common in
// log text (by a rough ranking of folded bytes), so that the search for it
// stops rarely.
func rarestByte(folded []byte) int {
	best := 0
	for i, c := range folded {
		if byteCommonness(c) < byteCommonness(folded[best]) {
			best = i
		}
	}
	return best
}

func byteCommonness(c byte) int {
	// Folded text: letters are lower case, '\n' reads as '*' and '\t' as ')'.
	const ranked = " etaoinsr*0h12ldcu.:m-p5346789/f=g,wy\x7fb)v{k\"'x(jq;z+<>`!#$%&?~|"
	if i := strings.IndexByte(ranked, c); i >= 0 {
		return len(ranked) - i
	}
	return 0 // control bytes, non-ASCII: rare in logs
}

// foldASCII sets dst[i] = src[i] | 0x20, 32 bytes at a time: upper-case
// ASCII letters become lower case. Other bytes may change too, so a match in
// folded text is checked against the original with equalFoldLower.
func foldASCII(dst, src []byte) {
	const mask = 0x2020202020202020
	dst = dst[:len(src)]
	i := 0
	for ; i+32 <= len(src); i += 32 {
		s, d := src[i:i+32:i+32], dst[i:i+32:i+32]
		le := binary.LittleEndian
		le.PutUint64(d[0:], le.Uint64(s[0:])|mask)
		le.PutUint64(d[8:], le.Uint64(s[8:])|mask)
		le.PutUint64(d[16:], le.Uint64(s[16:])|mask)
		le.PutUint64(d[24:], le.Uint64(s[24:])|mask)
	}
	for ; i < len(src); i++ {
		dst[i] = src[i] | 0x20
	}
}

// equalBytes is bytes.Equal for the few bytes of a keyword, without a call.
func equalBytes(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// equalFoldLower reports whether s equals lower when ASCII letters of s are
// taken in lower case.
func equalFoldLower(s, lower []byte) bool {
	if len(s) != len(lower) {
		return false
	}
	for i, c := range s {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// logScanners are the scanners for a program's stdout and stderr pipes; with
// merged streams one pipe carries both, and its scanner has both rule sets.
// Only rules whose target reaches someone (by mail or webhook) scan.
func (s *Supervisor) logScanners(pc *ProgramConfig, merged bool) (stdout, stderr *logScanner) {
	if s.mailer == nil {
		return nil, nil
	}
	out, errs := s.reachingRules(pc.LogScanStdout), s.reachingRules(pc.LogScanStderr)
	if merged {
		return newLogScanner(pc.Name, "output", s.mailer.submit, errs, out), nil
	}
	return newLogScanner(pc.Name, "stdout", s.mailer.submit, out),
		newLogScanner(pc.Name, "stderr", s.mailer.submit, errs)
}

// reachingRules are the rules whose notifications would go somewhere.
func (s *Supervisor) reachingRules(rules []LogScanRule) []LogScanRule {
	var kept []LogScanRule
	for _, r := range rules {
		if s.cfg.Notify.reaches(r.Target) {
			kept = append(kept, r)
		}
	}
	return kept
}
