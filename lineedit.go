// The console's line editor: keys in, one edited line out. It moves the
// cursor, deletes and yanks, walks and searches (Ctrl-R) the history and
// completes words with Tab, and draws the line on one screen row that scrolls
// sideways when the line is wider than the terminal. The editor is a byte
// stream in and a byte stream out; terminal owns raw mode around it, and the
// platform calls (termios, width, signals) live in lineedit_linux.go.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// key is one editing action decoded from the input bytes.
type key int

const (
	keyNone            key = iota // an unknown sequence or a control character without a meaning here
	keyRune                       // a printable character: keyEvent.r
	keyEnter                      // Enter, Ctrl-J, Ctrl-M
	keyTab                        // complete
	keyBackspace                  // Backspace, Ctrl-H
	keyDelete                     // Delete
	keyLeft                       // Left, Ctrl-B
	keyRight                      // Right, Ctrl-F
	keyWordLeft                   // Alt-B, Ctrl-Left, Alt-Left
	keyWordRight                  // Alt-F, Ctrl-Right, Alt-Right
	keyHome                       // Home, Ctrl-A
	keyEnd                        // End, Ctrl-E
	keyUp                         // Up, Ctrl-P: older history entry
	keyDown                       // Down, Ctrl-N: newer history entry
	keyKillToStart                // Ctrl-U
	keyKillToEnd                  // Ctrl-K
	keyKillSpaceWord              // Ctrl-W: back to the previous white space
	keyKillWordBack               // Alt-Backspace: back to the previous word start
	keyKillWordForward            // Alt-D
	keyYank                       // Ctrl-Y: insert what the last kill deleted
	keyInterrupt                  // Ctrl-C: drop the line
	keyEOF                        // Ctrl-D: leave on an empty line, else Delete
	keyAbort                      // Ctrl-G: leave the search, back to the line before it
	keyEscape                     // a lone Esc: leave the search, keep what it found
	keySearch                     // Ctrl-R: reverse incremental search in the history
	keyClearScreen                // Ctrl-L
	keySuspend                    // Ctrl-Z
)

// keyEvent is a key and, for keyRune, its character.
type keyEvent struct {
	k key
	r rune
}

// controlKeys maps the single-byte control characters to their keys.
var controlKeys = map[rune]key{
	0x01: keyHome, 0x02: keyLeft, 0x03: keyInterrupt, 0x04: keyEOF, 0x05: keyEnd,
	0x06: keyRight, 0x07: keyAbort, 0x08: keyBackspace, 0x09: keyTab, 0x0a: keyEnter,
	0x0b: keyKillToEnd, 0x0c: keyClearScreen, 0x0d: keyEnter, 0x0e: keyDown, 0x10: keyUp,
	0x12: keySearch, 0x15: keyKillToStart, 0x17: keyKillSpaceWord, 0x19: keyYank,
	0x1a: keySuspend, 0x7f: keyBackspace,
}

// maxEscapeLen bounds the bytes read for one escape sequence.
const maxEscapeLen = 16

// readKey reads one key. Invalid UTF-8 and unknown escape sequences come back
// as keyNone, so they never reach the line; the error is the reader's.
func readKey(in *bufio.Reader) (keyEvent, error) {
	r, size, err := in.ReadRune()
	switch {
	case err != nil:
		return keyEvent{}, err
	case r == utf8.RuneError && size == 1:
		return keyEvent{k: keyNone}, nil
	case r == 0x1b:
		return readEscape(in)
	}
	if k, ok := controlKeys[r]; ok {
		return keyEvent{k: k}, nil
	}
	if unicode.IsControl(r) {
		return keyEvent{k: keyNone}, nil
	}
	return keyEvent{k: keyRune, r: r}, nil
}

// readEscape decodes what follows an Esc: a CSI (Esc [) or SS3 (Esc O)
// sequence, or Alt with a key. A byte that starts none of them is left for
// the next readKey and the Esc stands alone.
func readEscape(in *bufio.Reader) (keyEvent, error) {
	b, err := in.ReadByte()
	if err != nil {
		return keyEvent{k: keyEscape}, nil
	}
	switch b {
	case '[':
		return readCSI(in)
	case 'O':
		f, err := in.ReadByte()
		if err != nil {
			return keyEvent{k: keyNone}, nil
		}
		return keyEvent{k: csiKey("", f)}, nil
	case 'b', 'B':
		return keyEvent{k: keyWordLeft}, nil
	case 'f', 'F':
		return keyEvent{k: keyWordRight}, nil
	case 'd', 'D':
		return keyEvent{k: keyKillWordForward}, nil
	case 0x7f, 0x08:
		return keyEvent{k: keyKillWordBack}, nil
	}
	in.UnreadByte()
	return keyEvent{k: keyEscape}, nil
}

// readCSI reads the rest of Esc [ PARAMS FINAL; parameters beyond
// maxEscapeLen bytes are read but make the sequence unknown. A byte that
// cannot be part of the sequence ends it unread, and the sequence is ignored.
func readCSI(in *bufio.Reader) (keyEvent, error) {
	var params []byte
	overlong := false
	for {
		b, err := in.ReadByte()
		if err != nil {
			return keyEvent{k: keyNone}, nil
		}
		switch {
		case b >= 0x20 && b <= 0x3f: // parameter and intermediate bytes
			if len(params) == maxEscapeLen {
				overlong = true
			} else {
				params = append(params, b)
			}
		case b >= 0x40 && b <= 0x7e:
			if overlong {
				return keyEvent{k: keyNone}, nil
			}
			return keyEvent{k: csiKey(string(params), b)}, nil
		default:
			in.UnreadByte()
			return keyEvent{k: keyNone}, nil
		}
	}
}

// csiKey maps the parameters and final byte of a CSI or SS3 sequence, as
// xterm, tmux, screen and the Linux console send them, to a key.
func csiKey(params string, final byte) key {
	first, modifier, _ := strings.Cut(params, ";")
	word := modifier != "" && modifier != "1" // Ctrl, Alt or Shift with an arrow
	switch final {
	case 'A':
		return keyUp
	case 'B':
		return keyDown
	case 'C':
		if word {
			return keyWordRight
		}
		return keyRight
	case 'D':
		if word {
			return keyWordLeft
		}
		return keyLeft
	case 'H':
		return keyHome
	case 'F':
		return keyEnd
	case '~':
		switch first {
		case "1", "7":
			return keyHome
		case "4", "8":
			return keyEnd
		case "3":
			return keyDelete
		}
	}
	return keyNone
}

// lineEditor edits one line at a time; see the file comment.
type lineEditor struct {
	in       *bufio.Reader
	out      io.Writer
	width    func() int                   // the terminal's columns; 0 when unknown
	complete func(before string) []string // the words that may stand where the cursor's word is; nil: none
	suspend  func()                       // Ctrl-Z; nil: ignored
	history  []string                     // oldest first; the caller adds accepted lines

	// The line being edited.
	buf    []rune
	pos    int      // cursor, an index into buf
	scroll int      // index of the first rune shown
	lines  []string // history with this line at the end, as Up and Down edit them
	hidx   int      // the entry of lines in buf
	killed []rune   // what the last kill deleted, for Ctrl-Y
	search *reverseSearch
}

// reverseSearch is the state of Ctrl-R.
type reverseSearch struct {
	query    []rune
	match    int // index in lines of the entry shown; -1 when none matched yet
	failed   bool
	saved    []rune // the line before the search, for Ctrl-G
	savedPos int
}

func newLineEditor(in io.Reader, out io.Writer) *lineEditor {
	return &lineEditor{in: bufio.NewReader(in), out: out}
}

// defaultColumns is the width when the terminal does not say.
const defaultColumns = 80

// readLine shows prompt and returns the line when Enter is pressed. At
// Ctrl-D on an empty line, and at the end of the input, it returns io.EOF
// (with what was typed, for the latter).
func (e *lineEditor) readLine(prompt string) (string, error) {
	e.buf, e.pos, e.scroll, e.search = nil, 0, 0, nil
	e.resetHistory()
	e.refresh(prompt)
	for {
		ev, err := readKey(e.in)
		if err != nil {
			e.write("\r\n")
			return string(e.buf), err
		}
		if e.search != nil && e.searchKey(ev) {
			e.refresh(prompt)
			continue
		}
		switch ev.k {
		case keyEnter:
			e.pos = len(e.buf)
			e.refresh(prompt)
			e.write("\r\n")
			return string(e.buf), nil
		case keyEOF:
			if len(e.buf) == 0 {
				e.write("\r\n")
				return "", io.EOF
			}
			e.deleteRange(e.pos, e.clusterRight(e.pos))
		case keyInterrupt:
			e.pos = len(e.buf)
			if col := e.refresh(prompt); col+2 > e.columns() {
				e.write("\r\x1b[" + strconv.Itoa(max(e.columns()-2, 1)) + "C") // ^C over the line's end, not wrapped
			}
			e.write("^C\r\n")
			e.buf, e.pos, e.scroll = nil, 0, 0
			e.resetHistory()
		case keyTab:
			e.completeWord()
		case keySearch:
			e.startSearch()
		case keyClearScreen:
			e.write("\x1b[H\x1b[2J")
		case keySuspend:
			if e.suspend != nil {
				e.write("\r\n")
				e.suspend()
			}
		default:
			e.edit(ev)
		}
		e.refresh(prompt)
	}
}

// edit applies a key that changes the line or moves in it.
func (e *lineEditor) edit(ev keyEvent) {
	switch ev.k {
	case keyRune:
		e.insert([]rune{ev.r})
	case keyBackspace:
		e.deleteRange(e.clusterLeft(e.pos), e.pos)
	case keyDelete:
		e.deleteRange(e.pos, e.clusterRight(e.pos))
	case keyLeft:
		e.pos = e.clusterLeft(e.pos)
	case keyRight:
		e.pos = e.clusterRight(e.pos)
	case keyWordLeft:
		e.pos = e.wordStart(e.pos)
	case keyWordRight:
		e.pos = e.wordEnd(e.pos)
	case keyHome:
		e.pos = 0
	case keyEnd:
		e.pos = len(e.buf)
	case keyUp:
		e.moveHistory(e.hidx - 1)
	case keyDown:
		e.moveHistory(e.hidx + 1)
	case keyKillToStart:
		e.kill(0, e.pos)
	case keyKillToEnd:
		e.kill(e.pos, len(e.buf))
	case keyKillSpaceWord:
		from := e.pos
		for from > 0 && unicode.IsSpace(e.buf[from-1]) {
			from--
		}
		for from > 0 && !unicode.IsSpace(e.buf[from-1]) {
			from--
		}
		e.kill(from, e.pos)
	case keyKillWordBack:
		e.kill(e.wordStart(e.pos), e.pos)
	case keyKillWordForward:
		e.kill(e.pos, e.wordEnd(e.pos))
	case keyYank:
		e.insert(e.killed)
	}
}

func (e *lineEditor) write(s string) { io.WriteString(e.out, s) }

func (e *lineEditor) bell() { e.write("\a") }

func (e *lineEditor) insert(rs []rune) {
	e.buf = slices.Insert(e.buf, e.pos, rs...)
	e.pos += len(rs)
}

func (e *lineEditor) deleteRange(from, to int) {
	if from >= to {
		return
	}
	e.buf = slices.Delete(e.buf, from, to)
	e.pos = from
}

// kill deletes buf[from:to] and keeps it for Ctrl-Y.
func (e *lineEditor) kill(from, to int) {
	if from < to {
		e.killed = slices.Clone(e.buf[from:to])
		e.deleteRange(from, to)
	}
}

// clusterLeft and clusterRight step over one character with the zero-width
// marks that follow it, so the cursor never stands inside a character.
func (e *lineEditor) clusterLeft(i int) int {
	if i > 0 {
		i--
	}
	for i > 0 && runeWidth(e.buf[i]) == 0 {
		i--
	}
	return i
}

func (e *lineEditor) clusterRight(i int) int {
	if i < len(e.buf) {
		i++
	}
	for i < len(e.buf) && runeWidth(e.buf[i]) == 0 {
		i++
	}
	return i
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// wordStart is the start of the word before i; wordEnd the end of the word after i.
func (e *lineEditor) wordStart(i int) int {
	for i > 0 && !isWordRune(e.buf[i-1]) {
		i--
	}
	for i > 0 && isWordRune(e.buf[i-1]) {
		i--
	}
	return i
}

func (e *lineEditor) wordEnd(i int) int {
	for i < len(e.buf) && !isWordRune(e.buf[i]) {
		i++
	}
	for i < len(e.buf) && isWordRune(e.buf[i]) {
		i++
	}
	return i
}

// resetHistory starts a new line after the last history entry.
func (e *lineEditor) resetHistory() {
	e.lines = append(slices.Clone(e.history), "")
	e.hidx = len(e.lines) - 1
}

// moveHistory shows entry i, keeping the edits of the entry it leaves.
func (e *lineEditor) moveHistory(i int) {
	if i < 0 || i >= len(e.lines) {
		e.bell()
		return
	}
	e.lines[e.hidx] = string(e.buf)
	e.hidx = i
	e.buf = []rune(e.lines[i])
	e.pos = len(e.buf)
}

func (e *lineEditor) startSearch() {
	e.search = &reverseSearch{match: -1, saved: slices.Clone(e.buf), savedPos: e.pos}
}

// searchKey handles a key during Ctrl-R and reports whether it did; any
// other key ends the search with the line found, then acts on it.
func (e *lineEditor) searchKey(ev keyEvent) bool {
	s := e.search
	switch ev.k {
	case keyRune:
		s.query = append(s.query, ev.r)
		if s.match >= 0 {
			e.findBackward(s.match)
		} else {
			e.findBackward(e.hidx)
		}
	case keyBackspace:
		if len(s.query) > 0 {
			s.query = s.query[:len(s.query)-1]
		}
		s.match, s.failed = -1, false
		e.buf, e.pos = slices.Clone(s.saved), s.savedPos
		e.findBackward(e.hidx)
	case keySearch:
		if s.match >= 0 {
			e.findBackward(s.match - 1)
		} else {
			e.findBackward(e.hidx)
		}
	case keyAbort:
		e.buf, e.pos = s.saved, s.savedPos
		e.search = nil
	case keyEscape:
		e.endSearch()
	case keyInterrupt:
		e.search = nil
		return false
	default:
		e.endSearch()
		return false
	}
	return true
}

// findBackward shows the newest history entry at or before index from that
// contains the query, with the cursor at the match; without one the search
// fails (a bell) and the line stays.
func (e *lineEditor) findBackward(from int) {
	s := e.search
	if len(s.query) == 0 {
		return
	}
	q := string(s.query)
	for i := min(from, len(e.lines)-2); i >= 0; i-- {
		if at := strings.Index(e.lines[i], q); at >= 0 {
			s.match, s.failed = i, false
			e.buf = []rune(e.lines[i])
			e.pos = utf8.RuneCountInString(e.lines[i][:at])
			return
		}
	}
	s.failed = true
	e.bell()
}

// endSearch keeps the line found: its entry becomes the history position,
// so that Up and Down carry on from there, and the entry the search started
// from keeps what it held.
func (e *lineEditor) endSearch() {
	s := e.search
	e.search = nil
	if s.match < 0 {
		return
	}
	e.lines[e.hidx] = string(s.saved)
	e.hidx = s.match
}

// completeWord completes the word before the cursor from e.complete: one
// candidate is inserted with a space after it, several their common prefix,
// and when that adds nothing they are listed under the line.
func (e *lineEditor) completeWord() {
	if e.complete == nil {
		e.bell()
		return
	}
	start := e.pos
	for start > 0 && !unicode.IsSpace(e.buf[start-1]) {
		start--
	}
	prefix := string(e.buf[start:e.pos])
	var matches []string
	for _, c := range e.complete(string(e.buf[:e.pos])) {
		if strings.HasPrefix(c, prefix) && c != "" && !strings.ContainsFunc(c, unicode.IsControl) && !slices.Contains(matches, c) {
			matches = append(matches, c)
		}
	}
	sort.Strings(matches)
	switch {
	case len(matches) == 0:
		e.bell()
	case len(matches) == 1:
		e.insert([]rune(matches[0][len(prefix):]))
		if e.pos == len(e.buf) || !unicode.IsSpace(e.buf[e.pos]) {
			e.insert([]rune{' '})
		}
	default:
		common := matches[0]
		for _, m := range matches[1:] {
			for !strings.HasPrefix(m, common) {
				_, size := utf8.DecodeLastRuneInString(common)
				common = common[:len(common)-size]
			}
		}
		if len(common) > len(prefix) {
			e.insert([]rune(common[len(prefix):]))
			return
		}
		e.write("\r\n" + formatColumns(matches, e.columns()))
	}
}

// formatColumns lays words out in columns down then across, as ls does,
// each row ended by CR LF.
func formatColumns(words []string, columns int) string {
	colWidth := 0
	for _, w := range words {
		colWidth = max(colWidth, stringWidth(w)+2)
	}
	perRow := max(1, (columns-1)/colWidth)
	rows := (len(words) + perRow - 1) / perRow
	var b strings.Builder
	for r := 0; r < rows; r++ {
		for c := 0; c < perRow; c++ {
			i := c*rows + r
			if i >= len(words) {
				break
			}
			b.WriteString(words[i])
			if c < perRow-1 && i+rows < len(words) {
				b.WriteString(strings.Repeat(" ", colWidth-stringWidth(words[i])))
			}
		}
		b.WriteString("\r\n")
	}
	return b.String()
}

func (e *lineEditor) columns() int {
	if e.width != nil {
		if w := e.width(); w > 0 {
			return w
		}
	}
	return defaultColumns
}

// refresh redraws the prompt and the line on the cursor's row and returns
// the cursor's column. The line
// gets the columns after the prompt but the last one (a character there
// would wrap in some terminals); a longer line scrolls so that the cursor
// stays in view.
func (e *lineEditor) refresh(prompt string) int {
	cols := e.columns()
	p := []rune(prompt)
	if e.search != nil {
		state := "reverse-i-search"
		if e.search.failed {
			state = "failed reverse-i-search"
		}
		p = []rune("(" + state + ")`" + string(e.search.query) + "': ")
	}
	p = clipLeft(p, max(cols-10, cols/2)) // a long search keeps room for the line
	avail := max(cols-stringWidth(string(p))-1, 1)

	// Keep the cursor in view, and fill the row when the rest of the line fits.
	e.scroll = min(e.scroll, e.pos)
	for w := runesWidth(e.buf[e.scroll:e.pos]); w > avail; {
		w -= runeWidth(e.buf[e.scroll])
		e.scroll++
	}
	for e.scroll < e.pos && runeWidth(e.buf[e.scroll]) == 0 {
		e.scroll++
	}
	for rest := runesWidth(e.buf[e.scroll:]); e.scroll > 0 && rest+runeWidth(e.buf[e.scroll-1]) <= avail; {
		e.scroll--
		rest += runeWidth(e.buf[e.scroll])
	}

	var b strings.Builder
	b.WriteString("\r")
	writeDisplay(&b, p)
	used, cursor := 0, -1
	for i := e.scroll; i < len(e.buf); i++ {
		if i == e.pos {
			cursor = used
		}
		w := runeWidth(e.buf[i])
		if used+w > avail {
			break
		}
		writeDisplay(&b, e.buf[i:i+1])
		used += w
	}
	if cursor < 0 {
		cursor = used
	}
	b.WriteString("\x1b[K\r")
	col := stringWidth(string(p)) + cursor
	if col > 0 {
		b.WriteString("\x1b[" + strconv.Itoa(col) + "C")
	}
	e.write(b.String())
	return col
}

// writeDisplay writes runes as the terminal should show them: a control
// character, which would move the cursor, as '?'.
func writeDisplay(b *strings.Builder, rs []rune) {
	for _, r := range rs {
		if unicode.IsControl(r) {
			r = '?'
		}
		b.WriteRune(r)
	}
}

// clipLeft keeps the end of rs that fits in width columns.
func clipLeft(rs []rune, width int) []rune {
	w := runesWidth(rs)
	for len(rs) > 0 && w > max(width, 1) {
		w -= runeWidth(rs[0])
		rs = rs[1:]
	}
	return rs
}

// runeWidth is the number of columns a terminal gives r: 0 for combining
// marks and other zero-width characters, 2 for East Asian wide and
// full-width characters and emoji, 1 otherwise (a control character is
// shown as '?').
func runeWidth(r rune) int {
	switch {
	case r < 0x300:
		return 1
	case unicode.Is(unicode.Mn, r), unicode.Is(unicode.Me, r), unicode.Is(unicode.Cf, r),
		r >= 0x1160 && r <= 0x11ff: // Hangul vowels and final consonants join the syllable
		return 0
	}
	lo, hi := 0, len(wideRanges)
	for lo < hi {
		m := (lo + hi) / 2
		switch {
		case r < wideRanges[m][0]:
			hi = m
		case r > wideRanges[m][1]:
			lo = m + 1
		default:
			return 2
		}
	}
	return 1
}

// wideRanges are the East Asian Wide (W) and Fullwidth (F) ranges of
// Unicode's EastAsianWidth.txt, merged where close, sorted.
var wideRanges = [][2]rune{
	{0x1100, 0x115f}, {0x231a, 0x231b}, {0x2329, 0x232a}, {0x23e9, 0x23ec}, {0x23f0, 0x23f0},
	{0x23f3, 0x23f3}, {0x25fd, 0x25fe}, {0x2614, 0x2615}, {0x2648, 0x2653}, {0x267f, 0x267f},
	{0x2693, 0x2693}, {0x26a1, 0x26a1}, {0x26aa, 0x26ab}, {0x26bd, 0x26be}, {0x26c4, 0x26c5},
	{0x26ce, 0x26ce}, {0x26d4, 0x26d4}, {0x26ea, 0x26ea}, {0x26f2, 0x26f3}, {0x26f5, 0x26f5},
	{0x26fa, 0x26fa}, {0x26fd, 0x26fd}, {0x2705, 0x2705}, {0x270a, 0x270b}, {0x2728, 0x2728},
	{0x274c, 0x274c}, {0x274e, 0x274e}, {0x2753, 0x2755}, {0x2757, 0x2757}, {0x2795, 0x2797},
	{0x27b0, 0x27b0}, {0x27bf, 0x27bf}, {0x2b1b, 0x2b1c}, {0x2b50, 0x2b50}, {0x2b55, 0x2b55},
	{0x2e80, 0x303e}, {0x3041, 0x33ff}, {0x3400, 0x4dbf}, {0x4e00, 0x9fff}, {0xa000, 0xa4cf},
	{0xa960, 0xa97f}, {0xac00, 0xd7a3}, {0xf900, 0xfaff}, {0xfe10, 0xfe19}, {0xfe30, 0xfe6f},
	{0xff00, 0xff60}, {0xffe0, 0xffe6}, {0x16fe0, 0x16fe4}, {0x17000, 0x18cd5}, {0x1b000, 0x1b2fb},
	{0x1f004, 0x1f004}, {0x1f0cf, 0x1f0cf}, {0x1f18e, 0x1f18e}, {0x1f191, 0x1f19a}, {0x1f200, 0x1f251},
	{0x1f260, 0x1f265}, {0x1f300, 0x1f320}, {0x1f32d, 0x1f335}, {0x1f337, 0x1f37c}, {0x1f37e, 0x1f393},
	{0x1f3a0, 0x1f3ca}, {0x1f3cf, 0x1f3d3}, {0x1f3e0, 0x1f3f0}, {0x1f3f4, 0x1f3f4}, {0x1f3f8, 0x1f43e},
	{0x1f440, 0x1f440}, {0x1f442, 0x1f4fc}, {0x1f4ff, 0x1f53d}, {0x1f54b, 0x1f54e}, {0x1f550, 0x1f567},
	{0x1f57a, 0x1f57a}, {0x1f595, 0x1f596}, {0x1f5a4, 0x1f5a4}, {0x1f5fb, 0x1f64f}, {0x1f680, 0x1f6c5},
	{0x1f6cc, 0x1f6cc}, {0x1f6d0, 0x1f6d2}, {0x1f6d5, 0x1f6d7}, {0x1f6dc, 0x1f6df}, {0x1f6eb, 0x1f6ec},
	{0x1f6f4, 0x1f6fc}, {0x1f7e0, 0x1f7eb}, {0x1f7f0, 0x1f7f0}, {0x1f90c, 0x1f93a}, {0x1f93c, 0x1f945},
	{0x1f947, 0x1f9ff}, {0x1fa70, 0x1faff}, {0x20000, 0x2fffd}, {0x30000, 0x3fffd},
}

func runesWidth(rs []rune) int {
	w := 0
	for _, r := range rs {
		w += runeWidth(r)
	}
	return w
}

func stringWidth(s string) int {
	w := 0
	for _, r := range s {
		w += runeWidth(r)
	}
	return w
}

// terminal is the console's terminal: the editor reads from in and draws on
// out, with in in raw mode only while a line is read, so that the commands
// run on a terminal as the user left it.
type terminal struct {
	in *os.File
	ed *lineEditor
}

// openTerminal returns the terminal when both in and out are one, else nil
// (the console then reads lines as they come).
func openTerminal(in io.Reader, out io.Writer) *terminal {
	fin, ok1 := in.(*os.File)
	fout, ok2 := out.(*os.File)
	if !ok1 || !ok2 || !isTerminal(fin.Fd()) || !isTerminal(fout.Fd()) {
		return nil
	}
	ed := newLineEditor(fin, fout)
	ed.width = func() int { return terminalWidth(fout.Fd()) }
	return &terminal{in: fin, ed: ed}
}

// readLine reads one line with the editor in raw mode. The terminal is put
// back as it was on every way out: return, panic (deferred), and a signal
// that ends the console (the signal is raised again after the restore, so
// the console still dies of it).
func (t *terminal) readLine(prompt string) (string, error) {
	fd := t.in.Fd()
	saved, err := makeRaw(fd)
	if err != nil {
		return "", fmt.Errorf("terminal: %v", err)
	}
	var once sync.Once
	restore := func() { once.Do(func() { restoreTerminal(fd, saved) }) }
	defer restore()

	signals := make(chan os.Signal, 1)
	for _, sig := range terminalStopSignals {
		if !signal.Ignored(sig) {
			signal.Notify(signals, sig)
		}
	}
	done := make(chan struct{})
	defer func() {
		signal.Stop(signals)
		close(done)
	}()
	go func() { // ends when readLine returns or after a signal
		select {
		case sig := <-signals:
			restore()
			raiseSignal(sig)
		case <-done:
		}
	}()

	t.ed.suspend = func() {
		restoreTerminal(fd, saved)
		suspendSelf()
		makeRaw(fd) // resumed: raw again
	}
	return t.ed.readLine(prompt)
}
