// The interactive console: `ramona console` reads commands (start, stop,
// status ... as on the command line), runs each over a fresh connection so
// that it carries on by itself across server restarts, and keeps a history
// file ([ramona:console] history, opened by safefile's rules) with `history`
// and `!N`. On a terminal the
// lines come from the line editor (lineedit.go), with Tab completing command
// and program names; otherwise line by line as they come.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// consoleOwnCommands are the console's commands beyond the command table's.
var consoleOwnCommands = []string{"history", "exit", "quit"}

// consoleOwnHelp is `help` of the console's own commands.
var consoleOwnHelp = map[string]string{
	"history": "usage: history\n\nThe commands typed so far ([ramona:console] history keeps them); !N runs entry N again.",
	"exit":    "usage: exit [N]\nalias: quit\n\nLeaves the console; its exit code is N, else the last command's.",
	"quit":    "usage: quit [N]\n\nLeaves the console, as exit does.",
}

const consoleKeysText = `Keys on a terminal: Left/Right, Home/End (Ctrl-A/Ctrl-E) move; Up/Down walk the history and
Ctrl-R searches it; Tab completes command and program names; Backspace/Delete, Ctrl-U (to the
start), Ctrl-K (to the end), Ctrl-W (a word) delete, Ctrl-Y puts it back; Ctrl-C drops the
line; Ctrl-D on an empty line leaves.
`

// completionTimeout bounds the status request behind a Tab: a server that
// does not answer must not freeze the prompt.
const completionTimeout = 2 * time.Second

func (c *cmdline) console() int {
	c.inConsole = true
	history := c.loadHistory()
	next, interactive := c.consoleInput(&history)
	if interactive {
		fmt.Fprintf(c.stdout, "ramona %s console; `help` lists the commands, `exit` leaves.\n", version)
	}
	last := exitOK
	for {
		line, ok := next()
		if !ok {
			return last
		}
		code, leave := c.consoleLine(strings.TrimSpace(line), &history, last)
		if leave {
			return code
		}
		last = code
		if last != exitOK && !c.silent {
			fmt.Fprintf(c.stdout, "(exit %d)\n", last)
		}
	}
}

// consoleLine runs one line and returns its exit code (last for lines that
// run nothing), and whether the console leaves.
func (c *cmdline) consoleLine(line string, history *[]string, last int) (code int, leave bool) {
	if n, ok := strings.CutPrefix(line, "!"); ok {
		i, err := strconv.Atoi(n)
		if err != nil || i < 1 || i > len(*history) {
			c.errorf("no history entry %q; `history` lists them", n)
			return exitUsage, false
		}
		line = (*history)[i-1]
		fmt.Fprintln(c.stdout, escapeControls(line, false))
	}
	if line == "" || strings.HasPrefix(line, "#") {
		return last, false
	}
	words, err := splitCommand(line, func(name string) (string, bool) { return "$" + name, true })
	if err != nil {
		c.errorf("%v", err)
		return exitUsage, false
	}
	*history = append(*history, line)
	c.appendHistory(line)
	switch words[0] {
	case "exit", "quit": // the console's own commands (consoleOwnCommands)
		if len(words) == 1 {
			return last, true
		}
		n, err := strconv.Atoi(words[1])
		if len(words) > 2 || err != nil || n < 0 || n > 255 {
			c.errorf("usage: %s [N] (N: the exit code, 0-255; default: the last command's)", words[0])
			return exitUsage, false
		}
		return n, true
	case "history":
		for i, h := range *history {
			fmt.Fprintf(c.stdout, "%4d  %s\n", i+1, escapeControls(h, false))
		}
		return exitOK, false
	}
	return c.dispatch(words[0], words[1:]), false
}

// consoleHelp is the console's `help`: its commands from the table, its
// own, the tools, and the keys.
func (c *cmdline) consoleHelp() {
	fmt.Fprintf(c.stdout, "Commands, as on the command line without \"ramona\" (`help COMMAND` explains one):\n")
	writeCommandList(c.stdout, true)
	io.WriteString(c.stdout, `  TOOL [ARGS...]  run a [tool:TOOL] section's command
Console commands:
  history         the commands typed so far ([ramona:console] history keeps them)
  !N              run history entry N again
  exit [N], quit  leave the console; its exit code is N, else the last command's
`)
	if tools := c.toolNames(); len(tools) > 0 {
		fmt.Fprintf(c.stdout, "Tools in the configuration: %s\n", strings.Join(tools, ", "))
	}
	io.WriteString(c.stdout, consoleKeysText)
}

func (c *cmdline) toolNames() []string {
	var names []string
	for _, t := range c.cfg.Tools {
		names = append(names, t.Name)
	}
	return names
}

// consoleInput returns the console's source of lines (false at the end) and
// whether a person types them: the line editor when stdin and stdout are a
// terminal; else lines as they come, with a prompt when stdin is a
// character device.
func (c *cmdline) consoleInput(history *[]string) (next func() (string, bool), interactive bool) {
	if term := openTerminal(c.stdin, c.stdout); term != nil {
		return func() (string, bool) {
			term.ed.history = *history
			term.ed.complete = c.consoleCompleter()
			line, err := term.readLine("ramona> ")
			if err != nil {
				if err != io.EOF {
					c.errorf("console: %v", err)
				}
				return "", false
			}
			return line, true
		}, true
	}
	prompt := false
	if f, ok := c.stdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			prompt = true
		}
	}
	in := bufio.NewScanner(c.stdin)
	return func() (string, bool) {
		if prompt {
			fmt.Fprint(c.stdout, "ramona> ")
		}
		if !in.Scan() {
			if prompt {
				fmt.Fprintln(c.stdout)
			}
			return "", false
		}
		return in.Text(), true
	}, prompt
}

// consoleCompleter completes the first word of a line from the console's
// commands and the tools, and the words after a command that takes programs
// from the program names. Those are asked from the server at the first Tab
// of a prompt and kept until the next one; without a server they come from
// the configuration already loaded.
func (c *cmdline) consoleCompleter() func(before string) []string {
	var programs []string
	asked := false
	return func(before string) []string {
		words := strings.Fields(before)
		atNewWord := before == "" || strings.HasSuffix(before, " ") || strings.HasSuffix(before, "\t")
		if len(words) == 0 || len(words) == 1 && !atNewWord {
			return append(consoleWords(), c.toolNames()...)
		}
		current := ""
		if !atNewWord {
			current = words[len(words)-1]
		}
		if !takesPrograms(words[0]) || strings.HasPrefix(current, "-") {
			return nil
		}
		if !asked {
			programs, asked = c.programNames(), true
		}
		return programs
	}
}

// programNames asks the server for its programs' names (one status
// request); when no server answers, the configuration's.
func (c *cmdline) programNames() []string {
	var names []string
	if cl, err := c.connect(); err == nil {
		defer cl.close()
		cl.conn.SetDeadline(time.Now().Add(completionTimeout))
		var list []programStatus
		if r, err := cl.call(request{Cmd: "status"}, nil); err == nil && json.Unmarshal(r.Result, &list) == nil {
			for _, st := range list {
				names = append(names, st.Name)
			}
			return names
		}
	}
	for _, pc := range c.cfg.Programs {
		names = append(names, pc.Name)
	}
	return names
}

// historyMaxSize bounds how much of the history file is read.
const historyMaxSize = 4 << 20

func (c *cmdline) loadHistory() []string {
	if c.cfg.Console.History == "" {
		return nil
	}
	f, err := openSafe(c.cfg.Console.History, os.O_RDONLY, 0)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			c.errorf("history %s: %s", c.cfg.Console.History, pathErrText(err))
		}
		return nil
	}
	data, err := io.ReadAll(io.LimitReader(f, historyMaxSize))
	f.Close()
	if err != nil {
		return nil
	}
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

func (c *cmdline) appendHistory(line string) {
	if c.cfg.Console.History == "" {
		return
	}
	f, err := openSafe(c.cfg.Console.History, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		c.errorf("history %s: %s", c.cfg.Console.History, pathErrText(err))
		return
	}
	defer f.Close()
	fmt.Fprintln(f, line)
}
