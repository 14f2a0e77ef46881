// Tests of the console's line editor on byte streams: key sequences in, the
// line, the cursor and the screen out. The screen is a small terminal
// emulator (vtScreen) that understands exactly the output the editor may
// produce and fails on anything else.
package main

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
)

// vtScreen is a terminal of cols x rows cells that interprets printable
// characters (with their widths), CR, LF, BEL and the CSI sequences K, C, H
// and 2J; any other byte sequence is an error.
type vtScreen struct {
	cols, rows int
	cells      [][]string // "" is the right half of a wide character
	x, y       int
	bells      int
	err        error
}

func newVTScreen(cols, rows int) *vtScreen {
	s := &vtScreen{cols: cols, rows: rows}
	s.clear()
	return s
}

func (s *vtScreen) clear() {
	s.cells = make([][]string, s.rows)
	for i := range s.cells {
		s.cells[i] = s.blankRow()
	}
}

func (s *vtScreen) blankRow() []string {
	row := make([]string, s.cols)
	for i := range row {
		row[i] = " "
	}
	return row
}

func (s *vtScreen) lineFeed() {
	s.y++
	if s.y == s.rows {
		s.cells = append(s.cells[1:], s.blankRow())
		s.y--
	}
}

func (s *vtScreen) Write(p []byte) (int, error) {
	text := []rune(string(p))
	for i := 0; i < len(text); i++ {
		r := text[i]
		switch {
		case r == '\r':
			s.x = 0
		case r == '\n':
			s.lineFeed()
		case r == '\a':
			s.bells++
		case r == 0x1b:
			j := i + 1
			if j >= len(text) || text[j] != '[' {
				s.fail("a lone escape at %q", string(text[i:]))
				return len(p), nil
			}
			j++
			for j < len(text) && (text[j] >= '0' && text[j] <= '9' || text[j] == ';') {
				j++
			}
			if j >= len(text) {
				s.fail("an unfinished escape sequence %q", string(text[i:]))
				return len(p), nil
			}
			s.csi(string(text[i+2:j]), text[j])
			i = j
		case r < 0x20 || r == 0x7f:
			s.fail("control character %q written", r)
		default:
			s.put(r)
		}
	}
	return len(p), nil
}

func (s *vtScreen) fail(format string, args ...any) {
	if s.err == nil {
		s.err = fmt.Errorf(format, args...)
	}
}

func (s *vtScreen) csi(params string, final rune) {
	n := 1
	if params != "" {
		n, _ = strconv.Atoi(params)
	}
	switch {
	case final == 'K' && params == "":
		for x := s.x; x < s.cols; x++ {
			s.cells[s.y][x] = " "
		}
	case final == 'C':
		s.x = min(s.x+n, s.cols-1)
	case final == 'H' && params == "":
		s.x, s.y = 0, 0
	case final == 'J' && params == "2":
		s.clear()
	default:
		s.fail("unexpected sequence ESC [ %s %c", params, final)
	}
}

// put writes r at the cursor, wrapping at the right margin as xterm does.
func (s *vtScreen) put(r rune) {
	w := runeWidth(r)
	if w == 0 {
		if s.x > 0 {
			s.cells[s.y][s.x-1] += string(r)
		}
		return
	}
	if s.x+w > s.cols {
		s.x = 0
		s.lineFeed()
	}
	s.cells[s.y][s.x] = string(r)
	if w == 2 {
		s.cells[s.y][s.x+1] = ""
	}
	s.x += w
}

// lines are the screen's rows without trailing blanks, up to the last
// non-empty row or the cursor's.
func (s *vtScreen) lines() []string {
	var out []string
	for _, row := range s.cells {
		out = append(out, strings.TrimRight(strings.Join(row, ""), " "))
	}
	last := s.y
	for i := range out {
		if out[i] != "" {
			last = max(last, i)
		}
	}
	return out[:last+1]
}

// writeLog keeps each write of the editor apart, so that a test can look at
// the screen before the last one.
type writeLog struct{ writes [][]byte }

func (w *writeLog) Write(p []byte) (int, error) {
	w.writes = append(w.writes, bytes.Clone(p))
	return len(p), nil
}

// editResult is what the editor did with one input.
type editResult struct {
	line   string
	err    error
	pos    int       // the editor's cursor at the end
	screen *vtScreen // before the editor's last write when the input ran out (its CR LF)
	ed     *lineEditor
	output string // all the editor wrote
}

// runEditor feeds input to a lineEditor with prompt "> " on a cols x 10 screen.
func runEditor(t *testing.T, cols int, history []string, complete func(string) []string, input string) editResult {
	t.Helper()
	var out writeLog
	ed := newLineEditor(strings.NewReader(input), &out)
	ed.width = func() int { return cols }
	ed.history, ed.complete = history, complete
	line, err := ed.readLine("> ")
	writes := out.writes
	if err == io.EOF && len(writes) > 0 && string(writes[len(writes)-1]) == "\r\n" {
		writes = writes[:len(writes)-1]
	}
	scr := newVTScreen(cmp.Or(cols, defaultColumns), 10)
	for _, w := range writes {
		scr.Write(w)
	}
	if scr.err != nil {
		t.Errorf("input %q: the editor wrote what a terminal would not show: %v\n%q", input, scr.err, bytes.Join(out.writes, nil))
	}
	return editResult{line: line, err: err, pos: ed.pos, screen: scr, ed: ed, output: string(bytes.Join(out.writes, nil))}
}

const (
	up, down, right, left = "\x1b[A", "\x1b[B", "\x1b[C", "\x1b[D"
	home, end, del        = "\x1b[H", "\x1b[F", "\x1b[3~"
	ctrlA, ctrlC, ctrlD   = "\x01", "\x03", "\x04"
	ctrlE, ctrlG, ctrlK   = "\x05", "\x07", "\x0b"
	ctrlR, ctrlU, ctrlW   = "\x12", "\x15", "\x17"
	ctrlY, backspace, tab = "\x19", "\x7f", "\t"
	enter                 = "\r"
)

func TestLineEditorKeys(t *testing.T) {
	t.Parallel()
	history := []string{"status web", "who", "tail db", "stop web"}
	for _, tc := range []struct {
		name    string
		input   string
		line    string
		pos     int    // the cursor, when the input has no Enter
		screen  string // the screen's rows joined by |
		cursorX int
	}{
		{"typing", "hello", "hello", 5, "> hello", 7},
		{"left inserts before", "helo" + left + "l", "hello", 4, "> hello", 6},
		{"ctrl-b ctrl-f", "ab\x02\x02\x06X", "aXb", 2, "> aXb", 4},
		{"right stops at the end", "ab" + right + right + "c", "abc", 3, "> abc", 5},
		{"left stops at the start", left + left + "a", "a", 1, "> a", 3},
		{"home end", "bc" + home + "a" + end + "d", "abcd", 4, "> abcd", 6},
		{"ctrl-a ctrl-e", "bc" + ctrlA + "a" + ctrlE + "d", "abcd", 4, "> abcd", 6},
		{"home end as ESC O", "bc\x1bOHa\x1bOFd", "abcd", 4, "> abcd", 6},
		{"home end as ESC [ 1~ 4~", "bc\x1b[1~a\x1b[4~d", "abcd", 4, "> abcd", 6},
		{"home end as ESC [ 7~ 8~", "bc\x1b[7~a\x1b[8~d", "abcd", 4, "> abcd", 6},
		{"backspace", "abc" + backspace, "ab", 2, "> ab", 4},
		{"ctrl-h", "abc\x08\x08", "a", 1, "> a", 3},
		{"backspace at the start", "ab" + home + backspace, "ab", 0, "> ab", 2},
		{"delete", "abc" + home + del, "bc", 0, "> bc", 2},
		{"delete at the end", "abc" + del, "abc", 3, "> abc", 5},
		{"ctrl-d deletes inside a line", "abc" + left + left + ctrlD, "ac", 1, "> ac", 3},
		{"ctrl-u", "hello world" + left + left + left + left + left + ctrlU, "world", 0, "> world", 2},
		{"ctrl-u then ctrl-y", "hello world" + left + left + left + left + left + ctrlU + ctrlY, "hello world", 6, "> hello world", 8},
		{"ctrl-k", "hello world" + home + right + right + right + right + right + ctrlK, "hello", 5, "> hello", 7},
		{"ctrl-w to the space", "stop web-1  " + ctrlW, "stop ", 5, "> stop", 7},
		{"ctrl-w twice", "stop web-1" + ctrlW + ctrlW, "", 0, ">", 2},
		{"alt-b alt-f", "stop web-1\x1bb\x1bbX\x1bfY", "stop XwebY-1", 10, "> stop XwebY-1", 12},
		{"ctrl-left ctrl-right", "one two\x1b[1;5D\x1b[1;5D\x1b[1;5C_", "one_ two", 4, "> one_ two", 6},
		{"alt-left", "one two\x1b[1;3D_", "one _two", 5, "> one _two", 7},
		{"alt-d", "one two" + home + "\x1bd", " two", 0, ">  two", 2},
		{"alt-backspace", "one two-x\x1b\x7f", "one two-", 8, "> one two-", 10},
		{"unknown sequences are dropped", "a\x1b[15~\x1b[1;2P\x1b[200~b\x1b[Z", "ab", 2, "> ab", 4},
		{"invalid utf-8 and controls are dropped", "a\xff\x1c\x00\u0085b", "ab", 2, "> ab", 4},
		{"an overlong sequence is dropped", "a\x1b[1;2;3;4;5;6;7;8;9;0~b", "ab", 2, "> ab", 4},
		{"a lone escape", "a\x1bx", "ax", 2, "> ax", 4},
		{"up walks back", up, "stop web", 8, "> stop web", 10},
		{"up up up up", up + up + up + up, "status web", 10, "> status web", 12},
		{"up past the oldest", up + up + up + up + up, "status web", 10, "> status web", 12},
		{"up then down", up + up + down, "stop web", 8, "> stop web", 10},
		{"down back to the typed line", "dra" + up + up + down + down, "dra", 3, "> dra", 5},
		{"ctrl-p ctrl-n", "\x10\x10\x0e", "stop web", 8, "> stop web", 10},
		{"edits of an entry are kept", up + "X" + up + down, "stop webX", 9, "> stop webX", 11},
		{"reverse search", ctrlR + "web", "stop web", 5, "(reverse-i-search)`web': stop web", 30},
		{"reverse search again", ctrlR + "web" + ctrlR, "status web", 7, "(reverse-i-search)`web': status web", 32},
		{"reverse search fails", ctrlR + "web" + ctrlR + ctrlR, "status web", 7, "(failed reverse-i-search)`web': status web", 39},
		{"reverse search backspace", ctrlR + "wh" + backspace, "stop web", 5, "(reverse-i-search)`w': stop web", 28},
		{"reverse search ctrl-g", "abc" + ctrlR + "tail" + ctrlG, "abc", 3, "> abc", 5},
		{"reverse search then edit", ctrlR + "tail" + end + "x", "tail dbx", 8, "> tail dbx", 10},
		{"reverse search then up", ctrlR + "tail" + right + up, "who", 3, "> who", 5},
		{"reverse search then esc", ctrlR + "who\x1b", "who", 0, "> who", 2},
		{"reverse search ctrl-c", ctrlR + "who" + ctrlC, "", 0, "> who^C|>", 2},
		{"ctrl-c drops the line", "abc" + ctrlC + "d", "d", 1, "> abc^C|> d", 3},
		{"ctrl-c after up", up + ctrlC + up, "stop web", 8, "> stop web^C|> stop web", 10},
		{"ctrl-l", "ab\x0c", "ab", 2, "> ab", 4},
		{"ctrl-c at the right edge", strings.Repeat("x", 70) + ctrlC, "", 0, "> " + strings.Repeat("x", 56) + "^C|>", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runEditor(t, 60, history, nil, tc.input)
			if r.line != tc.line || r.err != io.EOF || r.pos != tc.pos {
				t.Errorf("input %q: line %q, cursor %d, err %v; want %q, %d, EOF", tc.input, r.line, r.pos, r.err, tc.line, tc.pos)
			}
			if got := strings.Join(r.screen.lines(), "|"); got != tc.screen || r.screen.x != tc.cursorX {
				t.Errorf("input %q: screen %q, cursor at column %d; want %q, %d", tc.input, got, r.screen.x, tc.screen, tc.cursorX)
			}
		})
	}
}

func TestLineEditorEnterAndCtrlD(t *testing.T) {
	t.Parallel()
	r := runEditor(t, 40, nil, nil, "status"+left+left+enter+"more")
	if r.line != "status" || r.err != nil {
		t.Errorf("Enter in the middle of a line: %q, %v; want the whole line", r.line, r.err)
	}
	if got := r.screen.lines(); len(got) != 2 || got[0] != "> status" || r.screen.y != 1 || r.screen.x != 0 {
		t.Errorf("after Enter: screen %q, cursor %d,%d; want the line, then the cursor at the start of the next row", got, r.screen.x, r.screen.y)
	}
	// The rest of the input is left for the next line.
	if line, err := r.ed.readLine("> "); line != "more" || err != io.EOF {
		t.Errorf("the next readLine: %q, %v; want the bytes after Enter", line, err)
	}

	r = runEditor(t, 40, nil, nil, ctrlD+"not read")
	if r.line != "" || r.err != io.EOF || r.output != "\r> \x1b[K\r\x1b[2C\r\n" {
		t.Errorf("Ctrl-D on an empty line: %q, %v, output %q; want EOF after a new row", r.line, r.err, r.output)
	}
	r = runEditor(t, 40, nil, nil, "x"+ctrlU+ctrlD)
	if r.err != io.EOF || r.line != "" {
		t.Errorf("Ctrl-D on a line emptied by Ctrl-U: %q, %v; want EOF", r.line, r.err)
	}
}

func TestLineEditorKeepsTheCallersHistory(t *testing.T) {
	t.Parallel()
	history := []string{"one", "two"}
	r := runEditor(t, 40, history, nil, up+"X"+up+"Y"+enter)
	if r.line != "oneY" || history[0] != "one" || history[1] != "two" {
		t.Errorf("line %q, history %q; want oneY and the history unchanged", r.line, history)
	}
	if line, _ := r.ed.readLine("> "); line != "" {
		t.Errorf("a new line starts empty, got %q", line)
	}
}

func TestLineEditorCompletion(t *testing.T) {
	t.Parallel()
	commands := []string{"start", "stop", "status", "restart", "tail", "who"}
	programs := []string{"web-1", "web-2", "db", "日本", "bad\x1bname"}
	var asked []string
	complete := func(before string) []string {
		asked = append(asked, before)
		if !strings.Contains(before, " ") {
			return commands
		}
		return programs
	}
	for _, tc := range []struct {
		input, line, screen string
		bells               int
	}{
		{"sto" + tab, "stop ", "> stop", 0},
		{"w" + tab + "web" + tab, "who web-", "> who web-", 0}, // this completer offers programs after any command
		{"st" + tab, "st", "> st|start   status  stop|> st", 0},
		{"sta" + tab, "sta", "> sta|start   status|> sta", 0},
		{"r" + tab + "w" + tab, "restart web-", "> restart web-", 0},
		{"stop web-" + tab, "stop web-", "> stop web-|web-1  web-2|> stop web-", 0},
		{"stop web-2" + tab, "stop web-2 ", "> stop web-2", 0},
		{"stop 日" + tab, "stop 日本 ", "> stop 日本", 0},
		{"stop x" + tab, "stop x", "> stop x", 1},
		{"stop bad" + tab, "stop bad", "> stop bad", 1}, // a name with a control character is never inserted
		{"stop d" + home + right + right + right + right + right + right + tab, "stop db ", "> stop db", 0},
	} {
		asked = nil
		r := runEditor(t, 40, nil, complete, tc.input)
		if got := strings.Join(r.screen.lines(), "|"); r.line != tc.line || got != tc.screen || r.screen.bells != tc.bells {
			t.Errorf("input %q: line %q, screen %q, %d bells; want %q, %q, %d (asked %q)", tc.input, r.line, got, r.screen.bells, tc.line, tc.screen, tc.bells, asked)
		}
	}
	if r := runEditor(t, 40, nil, nil, "sta"+tab); r.line != "sta" || r.screen.bells != 1 {
		t.Errorf("Tab without a completer: %q, %d bells; want the line unchanged and a bell", r.line, r.screen.bells)
	}
}

func TestLineEditorWideCharacters(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, input, line string
		pos               int
		screen            string
		cursorX           int
	}{
		{"wide", "日本語", "日本語", 3, "> 日本語", 8},
		{"left over a wide character", "日本語" + left, "日本語", 2, "> 日本語", 6},
		{"backspace of a wide character", "日本語" + left + backspace, "日語", 1, "> 日語", 4},
		{"insert between wide characters", "日語" + left + "本", "日本語", 2, "> 日本語", 6},
		{"two-byte characters", "grüße" + left + left + "X", "grüXße", 4, "> grüXße", 6},
		{"a combining mark goes with its letter", "cafe\u0301" + left + "X", "cafXe\u0301", 4, "> cafXe\u0301", 6},
		{"backspace deletes the letter with its mark", "cafe\u0301" + backspace, "caf", 3, "> caf", 5},
		{"delete deletes the letter with its mark", "cafe\u0301!" + left + left + del, "caf!", 3, "> caf!", 5},
		{"emoji", "ok 😀" + left + "!", "ok !😀", 4, "> ok !😀", 6},
		{"full-width latin", "ＡＢ" + left, "ＡＢ", 1, "> ＡＢ", 4},
	} {
		r := runEditor(t, 40, nil, nil, tc.input)
		if got := strings.Join(r.screen.lines(), "|"); r.line != tc.line || r.pos != tc.pos || got != tc.screen || r.screen.x != tc.cursorX {
			t.Errorf("%s: line %q, cursor %d, screen %q at column %d; want %q, %d, %q, %d",
				tc.name, r.line, r.pos, got, r.screen.x, tc.line, tc.pos, tc.screen, tc.cursorX)
		}
	}
}

func TestLineEditorLongLines(t *testing.T) {
	t.Parallel()
	alphabet := "abcdefghijklmnopqrstuvwxyz0123"
	for _, tc := range []struct {
		name    string
		cols    int
		input   string
		screen  string
		cursorX int
	}{
		// 20 columns: the prompt takes 2, the last one stays free, 17 for the line.
		{"the end in view", 20, alphabet, "> nopqrstuvwxyz0123", 19},
		{"home shows the start", 20, alphabet + home, "> abcdefghijklmnopq", 2},
		{"back to the end", 20, alphabet + home + end, "> nopqrstuvwxyz0123", 19},
		{"left scrolls at the edge", 20, alphabet + home + right + right + end + strings.Repeat(left, 18), "> mnopqrstuvwxyz012", 2},
		{"deleting pulls the line back", 20, alphabet + strings.Repeat(backspace, 10), "> abcdefghijklmnopqrst", 22},
		{"wide characters never straddle the edge", 10, "日本語日本語", "> 日本語", 8},
		{"wide characters from the start", 10, "日本語日本語" + home, "> 日本語", 2},
		{"a terminal that says nothing is 80 wide", 0, strings.Repeat("x", 100), "> " + strings.Repeat("x", 77), 79},
		{"the search prompt is clipped in a narrow terminal", 16, ctrlR + "abcdefghijklmnop", "lmnop': log abc", 12},
	} {
		r := runEditor(t, tc.cols, []string{"log abcdefghijklmnop"}, nil, tc.input)
		if tc.name == "deleting pulls the line back" {
			tc.screen, tc.cursorX = "> "+alphabet[3:20], 19
		}
		lines := r.screen.lines()
		if len(lines) != 1 || lines[0] != tc.screen && !strings.HasSuffix(lines[0], tc.screen) || r.screen.x != tc.cursorX {
			t.Errorf("%s: screen %q, cursor at column %d; want one row %q, cursor %d", tc.name, lines, r.screen.x, tc.screen, tc.cursorX)
		}
	}
}

func TestReadKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want []keyEvent
	}{
		{"a", []keyEvent{{keyRune, 'a'}}},
		{"é日", []keyEvent{{keyRune, 'é'}, {keyRune, '日'}}},
		{"\xff\xfe", []keyEvent{{k: keyNone}, {k: keyNone}}},
		{"\x1b[A\x1b[B\x1b[C\x1b[D", []keyEvent{{k: keyUp}, {k: keyDown}, {k: keyRight}, {k: keyLeft}}},
		{"\x1bOA\x1bOB\x1bOC\x1bOD", []keyEvent{{k: keyUp}, {k: keyDown}, {k: keyRight}, {k: keyLeft}}},
		{"\x1b[1;5C\x1b[1;5D\x1b[1;3C\x1b[1;2A", []keyEvent{{k: keyWordRight}, {k: keyWordLeft}, {k: keyWordRight}, {k: keyUp}}},
		{"\x1b[3~\x1b[2~\x1b[5~", []keyEvent{{k: keyDelete}, {k: keyNone}, {k: keyNone}}},
		{"\x1bb\x1bf\x1bd\x1b\x7f\x1b\x08", []keyEvent{{k: keyWordLeft}, {k: keyWordRight}, {k: keyKillWordForward}, {k: keyKillWordBack}, {k: keyKillWordBack}}},
		{"\x1b\r", []keyEvent{{k: keyEscape}, {k: keyEnter}}},
		{"\x1b[1\x01", []keyEvent{{k: keyNone}, {k: keyHome}}},
		{"\x1b", []keyEvent{{k: keyEscape}}},
		{"\r\n\t\x7f\x08", []keyEvent{{k: keyEnter}, {k: keyEnter}, {k: keyTab}, {k: keyBackspace}, {k: keyBackspace}}},
		{"\x03\x04\x07\x0c\x12\x1a\x19", []keyEvent{{k: keyInterrupt}, {k: keyEOF}, {k: keyAbort}, {k: keyClearScreen}, {k: keySearch}, {k: keySuspend}, {k: keyYank}}},
	} {
		in := newLineEditor(strings.NewReader(tc.in), io.Discard).in
		var got []keyEvent
		for {
			ev, err := readKey(in)
			if err != nil {
				break
			}
			got = append(got, ev)
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("readKey(%q) = %v; want %v", tc.in, got, tc.want)
		}
	}
}

func TestRuneWidth(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		r rune
		w int
	}{
		{'a', 1}, {'~', 1}, {'é', 1}, {'ß', 1}, {'Ж', 1}, {'\u0301', 0}, {'\u200d', 0}, {'\u1160', 0},
		{'日', 2}, {'한', 2}, {'あ', 2}, {'Ａ', 2}, {'😀', 2}, {'\U00020000', 2}, {'⌚', 2},
		{'→', 1}, {'½', 1}, {'\u3000', 2}, {'\u303f', 1}, {'\U0001f321', 1},
	} {
		if got := runeWidth(tc.r); got != tc.w {
			t.Errorf("runeWidth(%U %q) = %d; want %d", tc.r, tc.r, got, tc.w)
		}
	}
	for i := 1; i < len(wideRanges); i++ {
		if wideRanges[i-1][1] >= wideRanges[i][0] || wideRanges[i][0] > wideRanges[i][1] {
			t.Errorf("wideRanges are not sorted and disjoint at %d: %U", i, wideRanges[i])
		}
	}
}

func TestFormatColumns(t *testing.T) {
	t.Parallel()
	words := []string{"alpha", "beta", "gamma", "delta", "epsilon"}
	for _, tc := range []struct {
		cols int
		want string
	}{
		{80, "alpha    beta     gamma    delta    epsilon\r\n"},
		{30, "alpha    gamma    epsilon\r\nbeta     delta\r\n"},
		{5, "alpha\r\nbeta\r\ngamma\r\ndelta\r\nepsilon\r\n"},
	} {
		if got := formatColumns(words, tc.cols); got != tc.want {
			t.Errorf("formatColumns(%d columns) = %q; want %q", tc.cols, got, tc.want)
		}
	}
}
