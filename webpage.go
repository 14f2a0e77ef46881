// The web frontend's page markup: web/index.html cut at its slots, filled
// with escaped texts, and the confirmation form and the table's rows
// written here. Plain escaping instead of html/template: every value lands
// in element text or a quoted attribute, URLs take only fixed command words
// and query-escaped names, and the template package (with text/template,
// regexp, and the methods reflection keeps alive) was a fifth of the binary.
package main

import (
	"html"
	"io"
	"net/url"
	"strings"
	"sync"
)

// pageParts is web/index.html without its leading {{/* */}} comment, cut
// at its {{slot}} marks: the odd elements are slot names.
var pageParts = sync.OnceValue(func() []string {
	data, err := webFiles.ReadFile("web/index.html")
	if err != nil {
		panic(err) // the embed directive names the file
	}
	text := string(data)
	if strings.HasPrefix(text, "{{/*") {
		_, text, _ = strings.Cut(text, "*/}}\n")
	}
	var parts []string
	for {
		before, rest, ok := strings.Cut(text, "{{")
		if !ok {
			return append(parts, text)
		}
		slot, after, _ := strings.Cut(rest, "}}")
		parts = append(parts, before, slot)
		text = after
	}
})

// renderPage writes the whole page of d.
func renderPage(w io.Writer, d pageData) error {
	var b strings.Builder
	for i, part := range pageParts() {
		if i%2 == 0 {
			b.WriteString(part)
			continue
		}
		switch part {
		case "title":
			b.WriteString(html.EscapeString(d.Title))
		case "time":
			b.WriteString(html.EscapeString(d.Time))
		case "confirm":
			writeConfirm(&b, d.Confirm)
		case "failed":
			if d.ResultFailed {
				b.WriteString(" failed")
			}
		case "result":
			b.WriteString(html.EscapeString(d.Result))
		case "error":
			b.WriteString(html.EscapeString(d.Error))
		case "rows":
			writeRows(&b, d.Rows)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// renderRows writes the table's rows alone (GET /rows).
func renderRows(w io.Writer, rows []pageRow) error {
	var b strings.Builder
	writeRows(&b, rows)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeConfirm writes the question the frontend asks before it stops or
// restarts itself, as a form that sends the command again confirmed.
func writeConfirm(b *strings.Builder, c *pageConfirm) {
	if c == nil {
		return
	}
	e := html.EscapeString
	b.WriteString(`<form id="confirm" class="confirm" method="post" action="/api/` + e(url.PathEscape(c.Cmd)) + "\">\n")
	b.WriteString("<p>" + e(c.Question) + "</p>\n")
	for _, name := range c.Names {
		b.WriteString(`<input type="hidden" name="name" value="` + e(name) + "\"/>\n")
	}
	b.WriteString("<input type=\"hidden\" name=\"back\" value=\"1\"/>\n<input type=\"hidden\" name=\"confirm\" value=\"1\"/>\n")
	b.WriteString(`<button type="submit">` + e(c.Cmd) + " " + e(c.Scope) + "</button> <a href=\"/\">cancel</a>\n</form>\n")
}

// writeRows writes one table row per program: its name and state, its
// cells, its text, and a form with the buttons that fit its state and a
// link to its log.
func writeRows(b *strings.Builder, rows []pageRow) {
	e := html.EscapeString
	for _, r := range rows {
		name := e(r.Name)
		b.WriteString(`<tr data-name="` + name + `" data-state="` + e(r.State) + `"`)
		if r.Self {
			b.WriteString(` data-self="yes"`)
		}
		b.WriteString(`><td class="name" title="` + name + `">` + name + `</td><td class="state state-` + e(r.State) + `">` + e(r.State) + `</td>`)
		for _, c := range r.Cells {
			b.WriteString(`<td class="` + e(c.Class) + `"`)
			if c.Label != "" {
				b.WriteString(` data-label="` + e(c.Label) + `"`)
			}
			if c.Text == "-" {
				b.WriteString(` data-empty="yes"`)
			}
			b.WriteString(">" + e(c.Text) + "</td>")
		}
		b.WriteString(`<td class="text" title="` + e(r.Text) + `">` + e(r.Text) + `</td><td class="actions"><form method="post" action="/api/start">`)
		b.WriteString(`<input type="hidden" name="name" value="` + name + `"/><input type="hidden" name="back" value="1"/>`)
		for _, btn := range r.Buttons {
			cmd := e(url.PathEscape(btn.Cmd))
			b.WriteString(`<button type="submit" formaction="/api/` + cmd + `" data-cmd="` + e(btn.Cmd) + `"`)
			if btn.Force {
				b.WriteString(` name="force" value="1" class="force"`)
			}
			if btn.Confirm != "" {
				b.WriteString(` data-confirm="` + e(btn.Confirm) + `"`)
			}
			b.WriteString(">" + e(btn.Label) + "</button>")
		}
		b.WriteString(`<a class="log" href="/api/tail?name=` + e(url.QueryEscape(r.Name)) + `&amp;n=200" data-follow="` + name + `">log</a></form></td></tr>` + "\n")
	}
}
