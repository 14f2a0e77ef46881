// Showing text that Ramona does not control: program names, STATUS= texts,
// errors that quote commands, peers' descriptions. escapeControls makes any
// of it harmless on a terminal (no escape sequence, no carriage return, no
// byte that a terminal reads as C1), and capText keeps a huge text (a 10 MB
// command in an error) from being repeated whole where one line is wanted.
package main

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// statusTextMax bounds each text field of `status` (error, status_text).
const statusTextMax = 4 << 10

// escapeControls writes C0 controls, DEL, C1 controls and bytes that are
// not UTF-8 as Go escapes (\x1b, \r, \u009b, \xff); with keepLines, '\n' and
// '\t' stay as they are (messages of several lines).
func escapeControls(s string, keepLines bool) string {
	clean := true
	for i := 0; i < len(s) && clean; i++ {
		c := s[i]
		clean = c >= 0x20 && c < 0x7f || keepLines && (c == '\n' || c == '\t')
	}
	if clean { // plain ASCII: nothing to do (the common case)
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case keepLines && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r <= 0x9f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// controlEscaper passes every write through escapeControls (newlines and
// tabs kept), for output made of many writes of whole lines (ramona check).
type controlEscaper struct{ w io.Writer }

func (e controlEscaper) Write(p []byte) (int, error) {
	if _, err := io.WriteString(e.w, escapeControls(string(p), true)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// capText returns s, or its first max bytes (cut at a character boundary)
// followed by a note of how much was left out.
func capText(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s ... [%d more bytes not shown; the server log has the whole text]", s[:cut], len(s)-cut)
}
