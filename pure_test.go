// Direct table tests of the pure functions that the end-to-end tests only
// reach through real processes: the backoff schedule, the start order by
// priority, which exits are expected, which programs status expects to run,
// the uptime column, and socket URIs.
package main

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestBackoffDelay(t *testing.T) {
	for _, tc := range []struct {
		attempt int
		want    time.Duration
	}{
		{0, backoffFirst}, {1, backoffFirst}, {2, 2 * backoffFirst}, {3, 4 * backoffFirst},
		{6, 32 * backoffFirst}, {7, backoffMax}, {8, backoffMax}, {1000, backoffMax},
	} {
		if got := backoffDelay(tc.attempt); got != tc.want {
			t.Errorf("backoffDelay(%d) = %v, want %v", tc.attempt, got, tc.want)
		}
	}
}

func TestByPriority(t *testing.T) {
	t.Parallel()
	prog := func(name string, priority int) *Program {
		return &Program{cfg: &ProgramConfig{Name: name, Priority: priority}}
	}
	for _, tc := range []struct {
		progs []*Program
		want  string
	}{
		{nil, ""},
		{[]*Program{prog("a", 1)}, "[a]"},
		// highest first; the configuration's order within a priority
		{[]*Program{prog("low", 1), prog("high", 10), prog("mid1", 5), prog("mid2", 5)}, "[high] [mid1 mid2] [low]"},
		{[]*Program{prog("b", -3), prog("a", -3), prog("c", 0)}, "[c] [b a]"},
	} {
		var groups []string
		for _, g := range byPriority(tc.progs, func(p *Program) int { return p.cfg.Priority }) {
			groups = append(groups, "["+strings.Join(namesOf(g), " ")+"]")
		}
		if got := strings.Join(groups, " "); got != tc.want {
			t.Errorf("byPriority = %s, want %s", got, tc.want)
		}
	}
}

func TestExitExpected(t *testing.T) {
	t.Parallel()
	pc := &ProgramConfig{ExitCodes: []int{0, 2}}
	for _, tc := range []struct {
		st   exitStatus
		want bool
	}{
		{exitStatus{code: 0}, true},
		{exitStatus{code: 2}, true},
		{exitStatus{code: 1}, false},
		{exitStatus{signal: syscall.SIGTERM}, false}, // a signal never is, whatever exitcodes says
		{exitStatus{signal: syscall.SIGKILL, core: true}, false},
	} {
		if got := pc.exitExpected(&tc.st); got != tc.want {
			t.Errorf("exitExpected(%v) with exitcodes=0,2 = %v, want %v", &tc.st, got, tc.want)
		}
	}
	if (&ProgramConfig{}).exitExpected(&exitStatus{code: 0}) {
		t.Errorf("exit 0 is expected with an empty exitcodes")
	}
}

func TestShouldRun(t *testing.T) {
	t.Parallel()
	s := &Supervisor{}
	for _, tc := range []struct {
		state     State
		autostart bool
		launches  int
		want      bool
	}{
		{StateRunning, false, 1, true},
		{StateStarting, true, 1, true},
		{StateBackoff, true, 2, true},
		{StateFatal, false, 3, true},
		{StateCfgError, true, 0, true},
		{StateDisabled, true, 0, false},
		{StateStopped, true, 0, true},   // autostart, never started yet
		{StateStopped, true, 1, false},  // stopped on request or after an expected exit
		{StateStopped, false, 0, false}, // waits to be started by name
	} {
		p := &Program{state: tc.state, launches: tc.launches, cfg: &ProgramConfig{AutoStart: tc.autostart}}
		if got := s.shouldRun(p); got != tc.want {
			t.Errorf("shouldRun(%v, autostart %v, %d launches) = %v, want %v", tc.state, tc.autostart, tc.launches, got, tc.want)
		}
	}
}

func TestFormatUptime(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0:00:00"},
		{999 * time.Millisecond, "0:00:00"},
		{61 * time.Second, "0:01:01"},
		{23*time.Hour + 59*time.Minute + 59*time.Second, "23:59:59"},
		{24 * time.Hour, "1d00:00:00"},
		{50*time.Hour + 3*time.Minute + 4*time.Second + 900*time.Millisecond, "2d02:03:04"},
	} {
		if got := formatUptime(tc.d); got != tc.want {
			t.Errorf("formatUptime(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestParseSocketURI(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		raw  string
		role uriRole
		want string // the URI as SocketURI's fields, or the error
	}{
		{"unix://.ramona.sock", uriListen, "unix /base/.ramona.sock mode 600"},
		{"unix:///run/r.sock;mode=0660", uriListen, "unix /run/r.sock mode 660"}, // the Python original's form
		{"unix:///run/r.sock?mode=0644", uriConnect, "unix /run/r.sock mode 644"},
		{"unix://@ramona", uriListen, "unix @ramona mode 600"},
		{"UNIX://x.sock", uriListen, "unix /base/x.sock mode 600"},
		{"tcp://127.0.0.1:7788", uriListen, "tcp 127.0.0.1:7788"},
		{"tcp://[::1]:0", uriListen, "tcp [::1]:0"},
		{"tcp://localhost:7788", uriWeb, "tcp localhost:7788"},
		{"tcp://10.0.0.1:7788", uriConnect, "tcp 10.0.0.1:7788"},
		{"tls://0.0.0.0:7788?cert=c.pem&key=k.pem&ca=/etc/ca.pem", uriListen, "tls 0.0.0.0:7788 /base/c.pem /base/k.pem /etc/ca.pem"},
		{"/tmp/x.sock", uriListen, `"/tmp/x.sock" is not an address; use unix://PATH, tcp://HOST:PORT or tls://HOST:PORT?cert=FILE&key=FILE&ca=FILE`},
		{"unix://", uriListen, `"unix://" names no socket path; use e.g. unix://.ramona.sock`},
		{"unix://x.sock?mode=999", uriListen, `mode "999" in "unix://x.sock?mode=999" is not an octal permission such as 0600`},
		{"unix://x.sock?mode=1777", uriListen, `mode "1777" in "unix://x.sock?mode=1777" is not an octal permission such as 0600`},
		{"tcp://7788", uriListen, `"tcp://7788" needs HOST:PORT, e.g. tcp://127.0.0.1:7788`},
		{"tcp://127.0.0.1:70000", uriListen, `port "70000" in "tcp://127.0.0.1:70000" is not a number 0-65535`},
		{"tcp://0.0.0.0:7788", uriListen, `"tcp://0.0.0.0:7788" is not a loopback address; plain tcp:// is only for 127.0.0.1, ::1 or localhost, use tls:// with client certificates for anything else`},
		{"tls://127.0.0.1:1?cert=c", uriConnect, `"tls://127.0.0.1:1?cert=c" needs cert=, key= and ca= (mutual TLS); ` + "`ramona tls init DIR` writes them"},
		{"tls://127.0.0.1:1?cert=c&key=k&ca=a", uriWeb, `"tls://127.0.0.1:1?cert=c&key=k&ca=a": the web frontend speaks plain HTTP; use tcp://HOST:PORT`},
		{"http://127.0.0.1:1", uriListen, `"http://127.0.0.1:1": unknown scheme http://; use unix://, tcp:// or tls://`},
		{"tcp://127.0.0.1:1?mode=0600", uriListen, `"tcp://127.0.0.1:1?mode=0600": unknown parameter "mode"; tcp:// takes none`},
		{"unix://x?a=1&b=2", uriListen, `"unix://x?a=1&b=2": unknown parameters "a", "b"; unix:// takes mode=`},
	} {
		u, err := parseSocketURI(tc.raw, "/base", tc.role)
		var got string
		switch {
		case err != nil:
			got = err.Error()
		case u.Scheme == "unix":
			got = fmt.Sprintf("%s %s mode %o", u.Scheme, u.Path, u.Mode)
		case u.Scheme == "tls":
			got = strings.Join([]string{u.Scheme, u.Addr, u.Cert, u.Key, u.CA}, " ")
		default:
			got = u.Scheme + " " + u.Addr
		}
		if got != tc.want {
			t.Errorf("parseSocketURI(%q):\n got %s\nwant %s", tc.raw, got, tc.want)
		}
	}
}
