// Tests of the command table (verbs.go): the parser (short, long and
// clustered options, values, operands, --), the Python original's long
// options on every command that had them, usage lines that name every
// option, and help texts.
package main

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestParseCommandLines(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		line string
		want string // the invocation, as summary writes it; or the usage error
	}{
		{"start", "start names=[] flags={}"},
		{"start -fi web db", "start names=[web db] flags={Force NoWait}"},
		{"start web -f --immediate-return", "start names=[web] flags={Force NoWait}"},
		{"start --force-start --no-server-start --server-only", "start names=[] flags={Force} noServerStart serverOnly"},
		{"restart -n -i -f web", "restart names=[web] flags={Force NoWait} noServerStart"},
		{"stop -c -S", "stop names=[] flags={Core KeepServer}"},
		{"stop --core-dump --stop-and-stay --immediate-return", "stop names=[] flags={NoWait Core KeepServer}"},
		{"stop -E", "stop names=[] flags={} stopAndExit"},
		{"stop --stop-and-exit", "stop names=[] flags={} stopAndExit"},
		{"stop -E web", "stop -E stops every program and the server: no program names with it"},
		{"stop -E -S", "stop -E and -S: stop and exit, or stop and stay, not both"},
		{"status --json web", "status names=[web] flags={} json"},
		{"status -json", "status names=[] flags={} json"},
		{"tail -f -n 5 -l stdout web", "tail names=[web] flags={Follow} n=5 stream=stdout"},
		{"tail -fn5 web", "tail names=[web] flags={Follow} n=5"},
		{"tail --follow --lines=7 --log-stream stderr web", "tail names=[web] flags={Follow} n=7 stream=stderr"},
		{"tail --lines 7 web", "tail names=[web] flags={} n=7"},
		{"tail -- -web", "tail names=[-web] flags={}"},
		{"tail", "tail needs exactly one program name"},
		{"tail a b", "tail needs exactly one program name"},
		{"tail -n -3 web", "tail -n -3: not a number of lines"},
		{"tail -l web", "tail -l web: use stdout or stderr"},
		{"tail -n", "tail -n: needs a value (N)"},
		{"tail -x web", "tail -x: unknown option"},
		{"tail --bogus web", "tail --bogus: unknown option"},
		{"tail --follow=yes web", "tail --follow: takes no value"},
		{"notify -t daily -s hello disk is full", "notify names=[] flags={} text=\"disk is full\" subject=hello target=daily"},
		{"notify --target=now --subject x -- -5 degrees", "notify names=[] flags={} text=\"-5 degrees\" subject=x target=now"},
		{"who", "who names=[] flags={}"},
		{"who x", "who takes no arguments"},
		{"check x", "check takes no arguments: it checks the whole configuration"},
		{"daemon -S --background --origin=RAMONA_CONFIG", "daemon names=[] flags={} serverOnly background origin=RAMONA_CONFIG"},
		{"server -S web", "daemon names=[web] flags={} serverOnly"},
	} {
		words := strings.Fields(tc.line)
		v := verbNamed(words[0])
		if v == nil {
			t.Fatalf("%s: no such command", words[0])
		}
		in, help, err := v.parse(words[1:])
		got := ""
		switch {
		case err != nil:
			got = err.Error()
		case help:
			got = "help"
		default:
			got = describeInvocation(in)
		}
		if got != tc.want {
			t.Errorf("%q:\n got %s\nwant %s", tc.line, got, tc.want)
		}
	}
}

// describeInvocation writes what an invocation holds, for TestParseCommandLines.
func describeInvocation(in *invocation) string {
	r := in.req
	var flags []string
	for name, on := range map[string]bool{"Force": r.Flags.Force, "NoWait": r.Flags.NoWait, "Core": r.Flags.Core, "KeepServer": r.Flags.KeepServer, "Follow": r.Flags.Follow} {
		if on {
			flags = append(flags, name)
		}
	}
	order := []string{"Force", "NoWait", "Core", "KeepServer", "Follow"}
	slices.SortFunc(flags, func(a, b string) int { return slices.Index(order, a) - slices.Index(order, b) })
	s := r.Cmd + " names=[" + strings.Join(r.Names, " ") + "] flags={" + strings.Join(flags, " ") + "}"
	add := func(on bool, text string) {
		if on {
			s += " " + text
		}
	}
	add(r.N != 0, "n="+strconv.Itoa(r.N))
	add(r.Stream != "", "stream="+r.Stream)
	add(r.Text != "", "text=\""+r.Text+"\"")
	add(r.Subject != "", "subject="+r.Subject)
	add(r.Target != "", "target="+r.Target)
	add(in.noServerStart, "noServerStart")
	add(in.serverOnly, "serverOnly")
	add(in.stopAndExit, "stopAndExit")
	add(in.asJSON, "json")
	add(in.background, "background")
	add(in.origin != "", "origin="+in.origin)
	return s
}

// TestPythonLongOptions: every long option of the Python original's
// commands (ramona/console/cmd/*.py and its parser) is an alias of the
// same short option here.
func TestPythonLongOptions(t *testing.T) {
	t.Parallel()
	for cmd, options := range map[string][]string{
		"ramona":  {"-c --config", "-d --debug", "-s --silent"},
		"start":   {"-n --no-server-start", "-i --immediate-return", "-f --force-start", "-S --server-only"},
		"stop":    {"-i --immediate-return", "-c --core-dump", "-E --stop-and-exit", "-S --stop-and-stay"},
		"restart": {"-n --no-server-start", "-i --immediate-return", "-f --force-start"},
		"tail":    {"-l --log-stream", "-f --follow", "-n --lines"},
		"notify":  {"-t --target", "-s --subject"},
		"server":  {"-S --server-only"},
	} {
		v := verbNamed(cmd)
		if cmd == "ramona" {
			v = globalOptions
		}
		for _, pair := range options {
			short, long, _ := strings.Cut(pair, " ")
			o := v.optionNamed(strings.TrimPrefix(long, "--"))
			if o == nil || o.short != short[1] {
				t.Errorf("%s: %s is not an alias of %s", cmd, long, short)
			}
		}
	}
}

// TestUsageLinesNameEveryOption: a command's usage line shows each of its
// options, and its help lists them with their long names.
func TestUsageLinesNameEveryOption(t *testing.T) {
	t.Parallel()
	for _, v := range append(slices.Clone(verbs), globalOptions) {
		var help bytes.Buffer
		if v != globalOptions {
			v.writeHelp(&help, false)
		} else {
			v.writeOptions(&help)
		}
		for _, o := range v.options {
			if o.hidden {
				continue
			}
			name := "--" + o.long
			if o.short != 0 {
				name = "-" + string(o.short)
			}
			if !strings.Contains(v.usage, name) {
				t.Errorf("%s: usage %q does not show %s", v.name, v.usage, name)
			}
			if o.long != "" && !strings.Contains(help.String(), "--"+o.long) {
				t.Errorf("%s: help does not name --%s:\n%s", v.name, o.long, &help)
			}
		}
		if v == globalOptions {
			continue
		}
		if !v.hidden && v.summary == "" {
			t.Errorf("%s: no summary for the list of commands", v.name)
		}
		if v.run == nil {
			t.Errorf("%s: no client handler", v.name)
		}
		if v.onLoop != nil && v.offLoop != nil {
			t.Errorf("%s: both an on-loop and an off-loop server handler", v.name)
		}
	}
}
