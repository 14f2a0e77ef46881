//go:build unix

// Tests of the interactive console: commands from standard input against a
// running server, history with !N, carrying on across a server restart, the
// exit code of a piped session, completion from the server, and the line
// editor in a real terminal: tmux, driven with send-keys and read with
// capture-pane.
package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestConsoleRunsCommandsAndKeepsHistory(t *testing.T) {
	r := newTestRamona(t, fmt.Sprintf(`
[ramona:console]
history=./history

[program:one]
starttimeout=0
command=%s
`, helperCommand(t, "sleep", "1h")))
	r.start()
	r.waitState("one", "RUNNING", 10*time.Second)
	var out, errOut bytes.Buffer
	input := "status one\nbogus\nhistory\n!1\nexit\n"
	code := run([]string{"-c", r.conf, "console"}, strings.NewReader(input), &out, &errOut)
	t.Logf("console: exit %d\n%s\n%s", code, &out, &errOut)
	if strings.Count(out.String(), "RUNNING") != 2 {
		t.Errorf("status and !1 should both show RUNNING:\n%s", &out)
	}
	if !strings.Contains(errOut.String(), "unknown command \"bogus\"; `help` lists the commands") || !strings.Contains(out.String(), "(exit 2)") {
		t.Errorf("an unknown command is not reported")
	}
	if !strings.Contains(out.String(), "   1  status one") {
		t.Errorf("history does not list the commands:\n%s", &out)
	}
	data, _ := os.ReadFile(filepath.Join(r.dir, "history"))
	if string(data) != "status one\nbogus\nhistory\nstatus one\nexit\n" {
		t.Errorf("history file: %q", data)
	}

	// The console carries on when the server goes away and comes back.
	r.stopAll()
	t.Setenv("RAMONA_TEST_ID", r.id) // the background server started below is tracked too
	out.Reset()
	run([]string{"-c", r.conf, "console"}, strings.NewReader("status\nstart -S\nstatus one\n"), &out, &errOut)
	if !strings.Contains(out.String(), "(exit 4)") || !strings.Contains(out.String(), "server started") {
		t.Errorf("console across a server restart:\n%s\n%s", &out, &errOut)
	}
	// `start -S` above started a background server: stop it.
	if code, _, _ := r.cli("stop"); code != 0 {
		t.Errorf("stop of the console-started server: exit %d", code)
	}
}

// consoleRun runs a piped console with input and returns its exit code and output.
func consoleRun(t *testing.T, conf, input string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run([]string{"-c", conf, "console"}, strings.NewReader(input), &out, &errOut)
	t.Logf("console <<%q: exit %d\n%s\n%s", input, code, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestConsolePipedExitCode: a piped session exits with the last command's
// code, or N of `exit N`; lines that run nothing keep it.
func TestConsolePipedExitCode(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, progSection("one", helperCommand(t, "sleep", "1h")))
	r.start()
	r.waitState("one", "RUNNING", 20*time.Second)
	for _, tc := range []struct {
		input string
		code  int
	}{
		{"", exitOK},
		{"status one\n", exitOK},
		{"bogus\nstatus one\n", exitOK},
		{"status one\nbogus\n", exitUsage},
		{"status one\nbogus\n\n# a comment\n", exitUsage},
		{"bogus\nhelp\n", exitOK},
		{"stop -S one\nstatus one\n", exitNotAll},
		{"status one\nexit\nstatus\n", exitNotAll},
		{"bogus\nquit\n", exitUsage},
		{"exit 7\nbogus\n", 7},
		{"exit 0\n", exitOK},
		{"exit x\n", exitUsage},
		{"exit 256\nexit 1 2\nstatus one\n", exitNotAll},
		{"!99\n", exitUsage},
		{"status 'one\n", exitUsage},
	} {
		if code, _, _ := consoleRun(t, r.conf, tc.input); code != tc.code {
			t.Errorf("console <<%q: exit %d; want %d", tc.input, code, tc.code)
		}
	}
	_, _, errOut := consoleRun(t, r.conf, "exit x\n")
	if !strings.Contains(errOut, "usage: exit [N]") {
		t.Errorf("exit x: %q; want the usage of exit", errOut)
	}
}

func TestConsoleHelp(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, "[tool:backup]\ncommand=true\n")
	_, out, _ := consoleRun(t, r.conf, "help\n")
	for _, want := range []string{"start [-n] [-i] [-f] [-S] [PROG...]", "status [--json]", "history", "!N",
		"exit [N], quit", "the last command's", "Ctrl-R", "Tab completes", "Tools in the configuration: backup"} {
		if !strings.Contains(out, want) {
			t.Errorf("console help lacks %q:\n%s", want, out)
		}
	}
	_, _, errOut := consoleRun(t, r.conf, "bogus\n")
	if !strings.Contains(errOut, "`help` lists the commands") || strings.Contains(errOut, "ramona help") {
		t.Errorf("an unknown command in the console: %q; want it to point to `help`", errOut)
	}
	if _, _, errOut := r.cli("bogus"); !strings.Contains(errOut, "see `ramona help`") {
		t.Errorf("an unknown command on the command line: %q; want it to point to `ramona help`", errOut)
	}
}

// TestConsoleCompleter: command and tool names first, program names from
// the server after a command that takes them, the configuration's without a
// server.
func TestConsoleCompleter(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, progSection("alpha", helperCommand(t, "sleep", "1h"))+progSection("beta", helperCommand(t, "sleep", "1h")))
	r.start()
	r.waitState("alpha", "RUNNING", 20*time.Second)
	// The local file has changed since (no reload): the names still come from the server.
	r.write(progSection("gamma", helperCommand(t, "sleep", "1h")) + "[tool:backup]\ncommand=true\n")
	cfg, err := loadConfig([]string{r.conf}, os.Environ())
	if err != nil {
		t.Fatal(err)
	}
	c := &cmdline{cfg: cfg, stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	complete := c.consoleCompleter()
	commandsAndTools := append(consoleWords(), "backup")
	for _, tc := range []struct {
		before string
		want   []string
	}{
		{"", commandsAndTools},
		{"sta", commandsAndTools},
		{"stop ", []string{"alpha", "beta"}},
		{"stop al", []string{"alpha", "beta"}},
		{"tail -f ", []string{"alpha", "beta"}},
		{"restart alpha b", []string{"alpha", "beta"}},
		{"stop -", nil},
		{"who ", nil},
		{"backup ", nil},
	} {
		if got := complete(tc.before); !slices.Equal(got, tc.want) {
			t.Errorf("complete(%q) = %q; want %q", tc.before, got, tc.want)
		}
	}
	r.stopAll()
	if got := c.consoleCompleter()("start "); !slices.Equal(got, []string{"gamma"}) {
		t.Errorf("complete without a server = %q; want the configuration's [gamma]", got)
	}
	if stdout, stderr := c.stdout.(*bytes.Buffer).String(), c.stderr.(*bytes.Buffer).String(); stdout+stderr != "" {
		t.Errorf("completion printed %q %q; it must not write over the line", stdout, stderr)
	}
}

// tmuxTerminal is a detached tmux session of its own tmux server (-L, a
// name unique to the test) whose one pane runs a command; t.Cleanup kills
// that server, and with it whatever still runs in the pane.
type tmuxTerminal struct {
	t      *testing.T
	tmux   string
	args   []string // -L SOCKET -f CONF
	target string
}

func newTmuxTerminal(t *testing.T, name string, cols, rows int, argv ...string) *tmuxTerminal {
	t.Helper()
	tmux := needPeer(t, "tmux", "tmux")
	dir := t.TempDir()
	conf := filepath.Join(dir, "tmux.conf")
	// No status line: the pane is the whole terminal. The pane stays when its command ends.
	if err := os.WriteFile(conf, []byte("set-option -g status off\nset-option -g remain-on-exit on\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tt := &tmuxTerminal{t: t, tmux: tmux, args: []string{"-L", name, "-f", conf}, target: "console"}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the terminal at the end:\n%s", tt.screenText())
		}
		exec.Command(tmux, append(tt.args, "kill-server")...).Run()
	})
	tt.run(append([]string{"new-session", "-d", "-s", tt.target, "-x", strconv.Itoa(cols), "-y", strconv.Itoa(rows)}, argv...)...)
	return tt
}

// run runs a tmux command against this terminal's server.
func (tt *tmuxTerminal) run(args ...string) string {
	tt.t.Helper()
	cmd := exec.Command(tt.tmux, append(tt.args, args...)...)
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(e string) bool { return strings.HasPrefix(e, "TMUX=") }), "LC_ALL=C.UTF-8")
	out, err := cmd.CombinedOutput()
	if err != nil {
		tt.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// keys sends tmux key names (Enter, Left, C-r ...); text sends literal text.
func (tt *tmuxTerminal) keys(keys ...string) {
	tt.run(append([]string{"send-keys", "-t", tt.target}, keys...)...)
}

func (tt *tmuxTerminal) text(s string) { tt.run("send-keys", "-t", tt.target, "-l", s) }

// screen is the pane's rows, trailing blanks removed, and the cursor.
func (tt *tmuxTerminal) screen() (rows []string, x, y int) {
	tt.t.Helper()
	out := tt.run("capture-pane", "-p", "-t", tt.target)
	for _, row := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		rows = append(rows, strings.TrimRight(row, " "))
	}
	fmt.Sscanf(tt.run("display-message", "-p", "-t", tt.target, "#{cursor_x} #{cursor_y}"), "%d %d", &x, &y)
	return rows, x, y
}

func (tt *tmuxTerminal) screenText() string {
	out, _ := exec.Command(tt.tmux, append(tt.args, "capture-pane", "-p", "-t", tt.target)...).Output()
	return string(out)
}

// waitLine waits until the cursor's row is want (and, when x >= 0, the
// cursor in column x) and returns the screen's rows.
func (tt *tmuxTerminal) waitLine(want string, x int) []string {
	tt.t.Helper()
	var rows []string
	waitFor(tt.t, fmt.Sprintf("the cursor's row to be %q (cursor column %d)", want, x), 20*time.Second, func() bool {
		var cx, cy int
		rows, cx, cy = tt.screen()
		return cy < len(rows) && rows[cy] == want && (x < 0 || cx == x)
	})
	return rows
}

// waitScreen waits until some row of the screen holds want.
func (tt *tmuxTerminal) waitScreen(want string) []string {
	tt.t.Helper()
	var rows []string
	waitFor(tt.t, fmt.Sprintf("a row with %q on the screen", want), 20*time.Second, func() bool {
		rows, _, _ = tt.screen()
		return slices.ContainsFunc(rows, func(r string) bool { return strings.Contains(r, want) })
	})
	return rows
}

// consoleScript is the shell command of the pane: it records the terminal
// settings, runs the console (the test binary as ramona), then records the
// console's exit status and the settings again.
func consoleScript(t *testing.T, r *testRamona, tag string) []string {
	needShell(t) // sh and stty
	dir := shellQuote(r.dir)
	return []string{"/bin/sh", "-c", fmt.Sprintf(
		"stty -g >%[1]s/stty-before-%[2]s; RAMONA_TEST_ID=%[3]s %[4]s ramona-test-main -c %[5]s console; echo $? >%[1]s/exit-%[2]s; stty -g >%[1]s/stty-after-%[2]s",
		dir, tag, r.id, shellQuote(testBinary(t)), shellQuote(r.conf))}
}

// consoleEnded waits for the script's files and returns the console's exit
// status, and the terminal settings before and after it.
func consoleEnded(t *testing.T, r *testRamona, tag string) (status, before, after string) {
	t.Helper()
	read := func(name string) string {
		data, _ := os.ReadFile(filepath.Join(r.dir, name+"-"+tag))
		return strings.TrimSpace(string(data))
	}
	waitFor(t, "the console to end and the shell to record the terminal", 20*time.Second, func() bool {
		return read("stty-after") != ""
	})
	return read("exit"), read("stty-before"), read("stty-after")
}

// consolePid is the pid of the test's running `ramona console`.
func consolePid(t *testing.T, r *testRamona) int {
	t.Helper()
	for _, pid := range leftoverProcesses(r.id) {
		if strings.HasSuffix(procCmdline(pid), " console") {
			return pid
		}
	}
	t.Fatalf("no console process among %v", leftoverProcesses(r.id))
	return 0
}

// TestConsoleInTerminal types into `ramona console` in a real terminal:
// editing with the arrows, history from the file with Up and Ctrl-R, Tab
// completion of a program name asked from the server, Ctrl-C, wide
// characters, a line longer than the terminal, and Ctrl-D, after which the
// terminal is as it was.
func TestConsoleInTerminal(t *testing.T) {
	skipInShort(t, "tmux (the console typed into a real terminal)")
	t.Parallel()
	r := newTestRamona(t, "[ramona:console]\nhistory=./history\n\n"+
		progSection("alpha", helperCommand(t, "sleep", "1h"))+
		progSection("beta", helperCommand(t, "sleep", "1h"), "autostart=no"))
	if err := os.WriteFile(filepath.Join(r.dir, "history"), []byte("who\nstatus beta\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r.start()
	r.waitState("alpha", "RUNNING", 20*time.Second)
	tt := newTmuxTerminal(t, "ramona-"+r.id, 80, 24, consoleScript(t, r, "1")...)
	tt.waitLine("ramona>", 8)

	// Left moves into the line; what is typed there goes in.
	tt.text("status alpa")
	tt.keys("Left")
	tt.text("h")
	tt.waitLine("ramona> status alpha", len("ramona> status alph"))
	tt.keys("Home")
	tt.waitLine("ramona> status alpha", 8)
	tt.keys("End", "Enter")
	rows := tt.waitLine("ramona>", 8)
	if !slices.ContainsFunc(rows, func(r string) bool { return strings.HasPrefix(r, "alpha") && strings.Contains(r, "RUNNING") }) {
		t.Errorf("status alpha did not run:\n%s", strings.Join(rows, "\n"))
	}

	// Up walks the history, the file's entries included; Down comes back.
	tt.keys("Up")
	tt.waitLine("ramona> status alpha", -1)
	tt.keys("Up")
	tt.waitLine("ramona> status beta", -1)
	tt.keys("Up")
	tt.waitLine("ramona> who", -1)
	tt.keys("Down", "Down", "Down")
	tt.waitLine("ramona>", 8)
	tt.keys("Up", "Up", "Up", "Enter")
	tt.waitScreen("* unix") // who lists the connection of this console
	tt.waitLine("ramona>", 8)

	// Tab completes the program name from the server; the server stops it.
	tt.text("stop al")
	tt.keys("Tab")
	tt.waitLine("ramona> stop alpha", len("ramona> stop alpha "))
	tt.keys("Enter")
	r.waitState("alpha", "STOPPED", 20*time.Second)
	tt.waitLine("ramona>", 8)
	// Several candidates are listed below the line, which stays as typed.
	tt.text("st")
	tt.keys("Tab")
	tt.waitScreen("start   status  stop")
	tt.waitLine("ramona> st", len("ramona> st"))

	// Ctrl-C drops the line; nothing runs and the history does not keep it.
	tt.keys("C-c")
	rows = tt.waitLine("ramona>", 8)
	if !slices.Contains(rows, "ramona> st^C") {
		t.Errorf("Ctrl-C: no `ramona> st^C` row:\n%s", strings.Join(rows, "\n"))
	}

	// Ctrl-R finds the newest entry with "beta"; Enter runs it.
	tt.keys("C-r")
	tt.waitLine("(reverse-i-search)`':", -1)
	tt.text("beta")
	tt.waitLine("(reverse-i-search)`beta': status beta", len("(reverse-i-search)`beta': status "))
	tt.keys("Enter")
	tt.waitScreen("(exit 3)") // beta is not running
	tt.waitLine("ramona>", 8)

	// Wide characters take two columns; the cursor steps over them whole.
	tt.text("echo 日本語")
	tt.keys("Left", "Left")
	tt.text("x")
	tt.waitLine("ramona> echo 日x本語", len("ramona> echo ")+3)
	tt.keys("C-u")
	tt.waitLine("ramona> 本語", 8)
	tt.keys("C-k")

	// A line longer than the terminal scrolls sideways on its one row.
	long := strings.Repeat("0123456789", 12)
	tt.text("echo " + long)
	tt.waitLine("ramona> "+long[120-71:], 79)
	tt.keys("C-a")
	tt.waitLine("ramona> echo "+long[:66], 8)
	tt.keys("C-e")
	rows = tt.waitLine("ramona> "+long[120-71:], 79)
	for _, row := range rows {
		if strings.Contains(row, "\x1b") || strings.Contains(row, "^[") {
			t.Errorf("an escape sequence reached the screen: %q", row)
		}
	}
	tt.keys("C-c")
	tt.waitLine("ramona>", 8)

	// Ctrl-D leaves with the last command's exit code; the terminal is as before.
	tt.keys("C-d")
	status, before, after := consoleEnded(t, r, "1")
	if status != "3" {
		t.Errorf("the console's exit status after `status beta` (3) and Ctrl-D: %s", status)
	}
	if before == "" || before != after {
		t.Errorf("terminal settings before the console %q, after %q", before, after)
	}
	data, _ := os.ReadFile(filepath.Join(r.dir, "history"))
	if want := "who\nstatus beta\nstatus alpha\nwho\nstop alpha\nstatus beta\n"; string(data) != want {
		t.Errorf("history file %q; want %q", data, want)
	}
	r.stopAll()
}

// TestConsoleTerminalRestoredOnSignal: SIGTERM while a line is being typed
// (raw mode) ends the console by that signal with the terminal put back.
func TestConsoleTerminalRestoredOnSignal(t *testing.T) {
	skipInShort(t, "tmux (the console typed into a real terminal)")
	t.Parallel()
	r := newTestRamona(t, "")
	tt := newTmuxTerminal(t, "ramona-"+r.id, 60, 10, consoleScript(t, r, "1")...)
	tt.waitLine("ramona>", 8)
	tt.text("half a line")
	tt.waitLine("ramona> half a line", -1)
	console := consolePid(t, r)
	if err := syscall.Kill(console, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	status, before, after := consoleEnded(t, r, "1")
	if status != strconv.Itoa(128+int(syscall.SIGTERM)) {
		t.Errorf("the console's exit status after SIGTERM: %s; want death by SIGTERM (143)", status)
	}
	if before == "" || before != after {
		t.Errorf("terminal settings before the console %q, after SIGTERM %q", before, after)
	}
}

// TestConsoleSuspendInTerminal: Ctrl-Z in the console stops it as in any
// program under a job-control shell (the terminal back in the shell's
// hands), and `fg` brings the line back, still being edited in raw mode.
func TestConsoleSuspendInTerminal(t *testing.T) {
	skipInShort(t, "tmux (the console typed into a real terminal)")
	t.Parallel()
	r := newTestRamona(t, "")
	bash := needPeer(t, "bash", "bash")
	script := fmt.Sprintf("RAMONA_TEST_ID=%s exec %s ramona-test-main -c %s console\n", r.id, shellQuote(testBinary(t)), shellQuote(r.conf))
	if err := os.WriteFile(filepath.Join(r.dir, "run-console"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	tt := newTmuxTerminal(t, "ramona-"+r.id, 80, 24, "/usr/bin/env", "-C", r.dir, "PS1=shell$ ", bash, "--norc", "--noprofile", "-i")
	tt.waitLine("shell$", 7)
	tt.text("sh run-console")
	tt.keys("Enter")
	tt.waitLine("ramona>", 8)
	tt.text("hel")
	tt.keys("C-z")
	tt.waitScreen("Stopped")
	tt.waitLine("shell$", 7)
	console := consolePid(t, r)
	if st, err := readProcStat(console); err != nil || st.state != 'T' {
		t.Errorf("the console (pid %d) after Ctrl-Z: %+v, %v; want stopped (T)", console, st, err)
	}
	tt.text("fg")
	tt.keys("Enter")
	waitFor(t, "the console to run again", 20*time.Second, func() bool {
		st, err := readProcStat(console)
		return err == nil && st.state != 'T'
	})
	// The console redraws its line once continued; End redraws it too, in
	// case the stop came later than suspendWait on a loaded machine.
	tt.keys("End")
	tt.waitLine("ramona> hel", len("ramona> hel"))
	tt.keys("Left")
	tt.text("l")
	tt.keys("End")
	tt.text("p")
	tt.waitLine("ramona> hellp", len("ramona> hellp"))
	tt.keys("BSpace", "BSpace")
	tt.text("p")
	tt.keys("Enter")
	tt.waitScreen("Console commands:")
	tt.waitLine("ramona>", 8)
	tt.keys("C-d")
	tt.waitLine("shell$", 7)
}
