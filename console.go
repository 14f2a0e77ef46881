// The interactive console: `ramona console` reads commands line by line
// (start, stop, status ... as on the command line), runs each over a fresh
// connection so that it carries on by itself across server restarts, and
// keeps a history file ([ramona:console] history) with `history` and `!N`.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

const consoleHelp = `Commands: start, stop, restart, status, tail, who, reload, notify, TOOL (as on the command line),
history (the last commands), !N (run history entry N again), help, exit.
`

func (c *cmdline) console(args []string) int {
	if len(args) > 0 {
		c.errorf("console takes no arguments")
		return exitUsage
	}
	history := c.loadHistory()
	interactive := false
	if f, ok := c.stdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			interactive = true
		}
	}
	if interactive {
		fmt.Fprintf(c.stdout, "ramona %s console; `help` lists the commands, `exit` leaves.\n", version)
	}
	in := bufio.NewScanner(c.stdin)
	last := exitOK
	for {
		if interactive {
			fmt.Fprint(c.stdout, "ramona> ")
		}
		if !in.Scan() {
			if interactive {
				fmt.Fprintln(c.stdout)
			}
			return last
		}
		line := strings.TrimSpace(in.Text())
		if n, ok := strings.CutPrefix(line, "!"); ok {
			i, err := strconv.Atoi(n)
			if err != nil || i < 1 || i > len(history) {
				c.errorf("no history entry %q", n)
				continue
			}
			line = history[i-1]
			fmt.Fprintln(c.stdout, line)
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		words, err := splitCommand(line, func(name string) (string, bool) { return "$" + name, true })
		if err != nil {
			c.errorf("%v", err)
			continue
		}
		history = append(history, line)
		c.appendHistory(line)
		switch words[0] {
		case "exit", "quit":
			return last
		case "help":
			io.WriteString(c.stdout, consoleHelp)
			continue
		case "history":
			for i, h := range history {
				fmt.Fprintf(c.stdout, "%4d  %s\n", i+1, h)
			}
			continue
		case "console", "daemon", "server":
			c.errorf("%s is not available inside the console", words[0])
			continue
		}
		last = c.dispatch(words[0], words[1:])
		if last != exitOK && !c.silent {
			fmt.Fprintf(c.stdout, "(exit %d)\n", last)
		}
	}
}

func (c *cmdline) loadHistory() []string {
	if c.cfg.Console.History == "" {
		return nil
	}
	data, err := os.ReadFile(c.cfg.Console.History)
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
	f, err := os.OpenFile(c.cfg.Console.History, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		c.errorf("history %s: %s", c.cfg.Console.History, pathErrText(err))
		return
	}
	defer f.Close()
	fmt.Fprintln(f, line)
}
