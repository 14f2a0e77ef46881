//go:build unix

// End-to-end tests of output capture with real programs: every byte before
// the EXITED banner, a grandchild keeping the pipe open, rotation under a
// running program, reopening on SIGHUP, lost bytes when the disk refuses,
// <console> output with prefixes, tail -f across a restart.
package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestEveryByteBeforeExitedBanner(t *testing.T) {
	t.Parallel()
	const size = 8 << 20 // eight times the pipe's capacity (pipeSize)
	r := newTestRamona(t, fmt.Sprintf(`
[program:spam]
starttimeout=0
logmaxsize=<inf>
stdout=<logdir>
stderr=<logdir>
command=%s
`, helperCommand(t, "spam", fmt.Sprint(size))))
	r.start()
	r.waitState("spam", "STOPPED", 60*time.Second)
	out, err := os.ReadFile(filepath.Join(r.dir, "log", "spam-out.log"))
	if err != nil {
		t.Fatal(err)
	}
	if want := spamContent(size); !bytes.Equal(out, want) {
		t.Fatalf("stdout log has %d bytes, want %d (first difference at %d)", len(out), len(want), firstDiff(out, want))
	}
	banners, _ := os.ReadFile(filepath.Join(r.dir, "log", "spam-err.log"))
	if !strings.Contains(string(banners), "spam EXITED on") {
		t.Errorf("no EXITED banner: %q", banners)
	}
	r.stopAll()
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestMergedStreamsEveryByteThenBanner(t *testing.T) {
	t.Parallel()
	const size = 8 << 20
	r := newTestRamona(t, fmt.Sprintf(`
[program:spam]
starttimeout=0
logmaxsize=<inf>
command=%s
`, helperCommand(t, "spam", fmt.Sprint(size))))
	r.start()
	r.waitState("spam", "STOPPED", 60*time.Second)
	log, _ := os.ReadFile(filepath.Join(r.dir, "log", "spam.log"))
	start := bytes.Index(log, []byte("]=-\n"))
	end := bytes.LastIndex(log, []byte("-=[ spam EXITED"))
	if start < 0 || end < 0 || !bytes.Equal(log[start+4:end], spamContent(size)) {
		t.Fatalf("the merged log is not banner, every byte, banner (%d bytes)", len(log))
	}
	r.stopAll()
}

func TestGrandchildHoldingPipeDoesNotHangExit(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:daemonizer]
starttimeout=0
stoptimeout=20s
killby=TERM
command=%s
`, helperCommand(t, "orphan-maker", "1h")))
	r.start()
	// orphan-maker exits at once; its child ignores SIGTERM and keeps the
	// pipe open. The exit must still be handled within the drain bound.
	r.waitState("daemonizer", "STOPPED", 20*time.Second)
	log := r.serverLog()
	if !strings.Contains(log, "output stays open") {
		t.Errorf("the server log does not say why the exit went on without EOF:\n%s", log)
	}
	if !strings.Contains(log, "outlived the main process") {
		t.Errorf("the leftover group member was not taken care of:\n%s", log)
	}
	r.stopAll() // the orphan gets SIGKILL at the end of the shutdown
}

func TestRotationUnderRunningProgram(t *testing.T) {
	t.Parallel()
	const size = 3 << 20
	r := newTestRamona(t, fmt.Sprintf(`
[program:spam]
starttimeout=0
logmaxsize=512KiB
logbackups=2
logcompress=yes
stdout=<logdir>
stderr=<null>
command=%s
`, helperCommand(t, "spam", fmt.Sprint(size))))
	r.start()
	r.waitState("spam", "STOPPED", 60*time.Second)
	r.stopAll() // closing the log waits for compression
	base := filepath.Join(r.dir, "log", "spam.log")
	var all []byte
	for _, name := range []string{base + ".2.gz", base + ".1", base} {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if strings.HasSuffix(name, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			data, _ = io.ReadAll(zr)
		}
		if len(data) > 512<<10+64<<10 {
			t.Errorf("%s has %d bytes, over logmaxsize", name, len(data))
		}
		all = append(all, data...)
	}
	if _, err := os.Stat(base + ".3.gz"); err == nil {
		t.Errorf("more than logbackups=2 backups kept")
	}
	want := spamContent(size)
	if !bytes.HasSuffix(want, all) || len(all) < 3*(512<<10)/2 {
		t.Errorf("the current file and its backups are not the end of the output (%d bytes)", len(all))
	}
}

func TestSighupReopensMovedLog(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:lines]
starttimeout=0
command=%s
`, helperCommand(t, "echo-lines", "100000", "20ms")))
	srv := r.start()
	log := filepath.Join(r.dir, "log", "lines.log")
	waitFor(t, "output", 10*time.Second, func() bool { data, _ := os.ReadFile(log); return strings.Contains(string(data), "line 3\n") })
	if err := os.Rename(log, log+".moved"); err != nil { // what logrotate does
		t.Fatal(err)
	}
	srv.signal(syscall.SIGHUP)
	waitFor(t, "a new log file at the old path", 10*time.Second, func() bool {
		data, err := os.ReadFile(log)
		return err == nil && strings.Contains(string(data), "line ")
	})
	r.stopAll()
}

func TestLostBytesCountedWhenDiskRefuses(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:full]
starttimeout=0
stdout=/dev/full
stderr=<null>
command=%s
`, helperCommand(t, "echo-lines", "100000", "5ms")))
	r.start()
	var st programStatus
	waitFor(t, "lost bytes in status", 20*time.Second, func() bool {
		st = r.status()["full"]
		return st.LostBytes > 0
	})
	if st.State != "RUNNING" {
		t.Errorf("a full disk stopped the program: %+v", st)
	}
	if !strings.Contains(r.serverLog(), "/dev/full") {
		t.Errorf("the server log does not name the failing log file")
	}
	_, out, _ := r.cli("status", "full")
	if !strings.Contains(out, "bytes lost") {
		t.Errorf("status does not show the loss: %q", out)
	}
	r.stopAll()
}

func TestConsoleOutputPrefixed(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:talker]
starttimeout=0
stdout=<console>
stderr=<console>
command=%s
`, helperCommand(t, "echo-lines", "3", "1ms")))
	r.start()
	waitFor(t, "prefixed lines on the server's output", 10*time.Second, func() bool {
		return strings.Contains(r.serverLog(), "talker | line 3\n")
	})
	if !strings.Contains(r.serverLog(), "talker | -=[ talker STARTING by Ramona") {
		t.Errorf("no prefixed banner")
	}
	// the in-memory tail serves <console> streams
	_, out, _ := r.cli("tail", "-l", "stdout", "talker")
	if !strings.Contains(out, "line 2\nline 3\n") {
		t.Errorf("tail of a console stream: %q", out)
	}
	r.stopAll()
}

func TestTailFollowAcrossRestart(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:blink]
starttimeout=0.1
autorestart=yes
command=%s
`, helperCommand(t, "exit", "1", "0.3s")))
	r.start()
	r.waitState("blink", "RUNNING", 10*time.Second)
	cl, err := dialServer(SocketURI{Scheme: "unix", Path: filepath.Join(r.dir, "r.sock")})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.close()
	got := make(chan string, 100)
	go func() { // ends when the connection is closed
		cl.call(request{Cmd: "tail", Names: []string{"blink"}, N: 1, Flags: requestFlags{Follow: true}}, func(rep reply) { got <- rep.Data })
		close(got)
	}()
	var seen strings.Builder
	deadline := time.After(30 * time.Second)
	for strings.Count(seen.String(), "blink STARTING") < 2 {
		select {
		case chunk := <-got:
			seen.WriteString(chunk)
		case <-deadline:
			t.Fatalf("tail -f did not follow across two restarts; got:\n%s", seen.String())
		}
	}
	cl.close()
	for range got { // the call returns once the connection is gone
	}
	r.stopAll()
}

func TestLogWritingResumesWhenPossible(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:later]
starttimeout=0
stdout=./later/out.log
stderr=<null>
command=%s
`, helperCommand(t, "echo-lines", "100000", "5ms")))
	r.start()
	waitFor(t, "bytes lost while the directory is missing", 20*time.Second, func() bool { return r.status()["later"].LostBytes > 0 })
	if err := os.Mkdir(filepath.Join(r.dir, "later"), 0o755); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "writing to resume", 20*time.Second, func() bool {
		data, _ := os.ReadFile(filepath.Join(r.dir, "later", "out.log"))
		return strings.Count(string(data), "\n") > 3
	})
	if st := r.status()["later"]; st.State != "RUNNING" || st.Launches != 1 {
		t.Errorf("the program was disturbed by the log fault: %+v", st)
	}
	r.stopAll()
}

func TestLogTimestampPrefixesCapturedLines(t *testing.T) {
	t.Parallel()
	r := newTestRamona(t, fmt.Sprintf(`
[program:stamped]
starttimeout=0
logtimestamp=yes
command=%s
`, helperCommand(t, "echo-lines", "3", "1ms")))
	r.start()
	log := r.waitProgramLog("stamped", "line 3\n")
	stamp := regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d) line \d\n`)
	if n := len(stamp.FindAllString(log, -1)); n != 3 {
		t.Errorf("%d of 3 lines carry an ISO-8601 timestamp:\n%s", n, log)
	}
	if !strings.HasPrefix(log, "-=[ stamped STARTING") {
		t.Errorf("the banner must not be stamped:\n%s", log)
	}
	r.stopAll()
}

// TestGrandchildOutputAfterReloadReachesTheLog: a program exits and leaves
// a process that still writes to its output pipe. A reload that changes
// the program, or removes it, comes before that process writes again: its
// output still reaches the log file (for the changed program, the file it
// keeps writing), none of it is counted as lost.
func TestGrandchildOutputAfterReloadReachesTheLog(t *testing.T) {
	needShell(t)
	t.Parallel()
	section := func(name, extra string) string {
		return fmt.Sprintf(`
[program:%[1]s]
starttimeout=0
autorestart=no
stoptimeout=1h
%[2]s
command=sh -c '(trap "" TERM; while [ ! -e %[1]s.go ]; do sleep 0.02; done; echo late output of %[1]s; exec sleep 3600) & echo started'
`, name, extra)
	}
	r := newTestRamona(t, section("changed", "")+section("removed", ""))
	r.start()
	for _, name := range []string{"changed", "removed"} {
		r.waitProgramLog(name, "started", "EXITED")
	}
	r.write(section("changed", "priority=7"))
	if code, _, _ := r.cli("reload"); code != 0 {
		t.Fatalf("reload: exit %d", code)
	}
	for _, name := range []string{"changed", "removed"} {
		if err := os.WriteFile(filepath.Join(r.dir, name+".go"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		r.waitProgramLog(name, "late output of "+name)
	}
	if st := r.status()["changed"]; st.LostBytes != 0 {
		t.Errorf("changed: lost_bytes %d after the reload; want 0", st.LostBytes)
	}
	r.stopAll()
}
