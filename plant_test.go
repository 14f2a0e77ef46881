//go:build unix

// The hostile local user of issue 19, files side: a throwaway account
// (useradd, userdel after) owns a world-writable log directory, pidfile
// directory and stash directory of a server run as root, and plants links,
// pipes and files of its own at every name the server creates. The tests
// assert that the targets stay untouched and that every refusal is in the
// server log and in status.
package main

import (
	"compress/gzip"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// planter is a throwaway unprivileged user who plants names.
type planter struct {
	t        *testing.T
	name     string
	uid, gid int
}

// newPlanter creates a throwaway user (newUnprivilegedUser), removed at the
// end of the test. Without root the test is skipped.
func newPlanter(t *testing.T) *planter {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the test creates a throwaway user with useradd and plants files as that user")
	}
	uid, gid := newUnprivilegedUser(t, "rmf")
	u, err := user.LookupId(strconv.Itoa(int(uid)))
	if err != nil {
		t.Fatal(err)
	}
	return &planter{t: t, name: u.Username, uid: int(uid), gid: int(gid)}
}

// run runs argv as the planter (no supplementary groups) and fails the
// test if it fails.
func (p *planter) run(argv ...string) {
	p.t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(p.uid), Gid: uint32(p.gid)}}
	if out, err := cmd.CombinedOutput(); err != nil {
		p.t.Fatalf("%s as %s: %v\n%s", strings.Join(argv, " "), p.name, err, out)
	}
}

// link plants a symbolic link at name pointing to target.
func (p *planter) link(target, name string) { p.t.Helper(); p.run("ln", "-s", target, name) }

// file plants a regular file of the planter's at name.
func (p *planter) file(name, content string) {
	p.t.Helper()
	p.run("sh", "-c", `printf '%s' "$1" > "$2"`, "sh", content, name)
}

// sharedDir makes dir owned by the planter and writable by everybody, as a
// careless operator might leave a log directory, and lets the planter reach
// it through base's parents up to the test's temporary directory.
func (p *planter) sharedDir(base, dir string) string {
	p.t.Helper()
	for d := filepath.Dir(base); d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		must(p.t, os.Chmod(d, 0o755))
	}
	must(p.t, os.Chmod(base, 0o755))
	must(p.t, os.MkdirAll(dir, 0o777))
	must(p.t, os.Chmod(dir, 0o777))
	must(p.t, os.Chown(dir, p.uid, p.gid))
	return dir
}

// victim is a root-owned file a planted link points at; it must never
// change.
type victim struct {
	path    string
	content string
	mtime   time.Time
}

func newVictim(t *testing.T, dir, name string) *victim {
	t.Helper()
	var nonce [8]byte
	rand.Read(nonce[:])
	v := &victim{path: filepath.Join(dir, name), content: "secret of " + name + " " + hex.EncodeToString(nonce[:]) + "\n"}
	must(t, os.WriteFile(v.path, []byte(v.content), 0o600))
	fi, err := os.Stat(v.path)
	must(t, err)
	v.mtime = fi.ModTime()
	return v
}

// check fails the test if the victim changed in any way.
func (v *victim) check(t *testing.T) {
	t.Helper()
	data, err := os.ReadFile(v.path)
	fi, serr := os.Stat(v.path)
	if err != nil || serr != nil || string(data) != v.content || !fi.ModTime().Equal(v.mtime) {
		t.Errorf("%s was written through a planted name: content %q (want %q), err %v %v", v.path, data, v.content, err, serr)
	}
}

// checkNotCopied fails the test if the victim's content appears in a file
// of dir (gzipped files are read uncompressed): a copy made by reading
// through a planted link.
func (v *victim) checkNotCopied(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	must(t, err)
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		if strings.HasSuffix(path, ".gz") {
			if zr, err := gzip.NewReader(strings.NewReader(string(data))); err == nil {
				data, _ = io.ReadAll(zr)
			}
		}
		if strings.Contains(string(data), strings.TrimSpace(v.content)) {
			t.Errorf("%s holds the content of %s, read through a planted link", path, v.path)
		}
	}
}

// isLinkTo reports whether name is still the symbolic link to target.
func isLinkTo(name, target string) bool {
	got, err := os.Readlink(name)
	return err == nil && got == target
}

// The planter owns the log, pidfile and stash directories and plants a link
// at every name the server writes: program logs (merged, split), a backup
// that rotation shifts and compression reads, the temporary name the gzip
// of a backup used to have, the pidfile and its old temporary name, the
// mail stash; and a file of its own where a log goes. Nothing is written
// through any of them, each refusal is in the server log (and in status for
// logs), and a log writes again once the operator removed the link.
func TestPlantedNamesAreNeverWrittenThrough(t *testing.T) {
	t.Parallel()
	p := newPlanter(t)
	r := newTestRamona(t, "")
	logDir := p.sharedDir(r.dir, filepath.Join(r.dir, "log"))
	runDir := p.sharedDir(r.dir, filepath.Join(r.dir, "run"))
	stashDir := p.sharedDir(r.dir, filepath.Join(r.dir, "stash"))
	victims := map[string]*victim{}
	for _, name := range []string{"one", "two-out", "two-err", "rot", "gz", "pid", "pidtmp", "stash"} {
		victims[name] = newVictim(t, r.dir, "victim-"+name)
	}
	plant := map[string]string{ // planted name -> the victim it points at
		filepath.Join(logDir, "one.log"):            "one",
		filepath.Join(logDir, "two-out.log"):        "two-out",
		filepath.Join(logDir, "two-err.log"):        "two-err",
		filepath.Join(logDir, "rot.log.1"):          "rot",
		filepath.Join(logDir, "gz.log.2.gz.tmp"):    "gz",
		filepath.Join(runDir, "ramona.pid"):         "pid",
		filepath.Join(runDir, "ramona.pid.tmp"):     "pidtmp",
		filepath.Join(stashDir, "ramona-mail.json"): "stash",
	}
	for name, v := range plant {
		p.link(victims[v].path, name)
	}
	p.file(filepath.Join(logDir, "three.log"), "the planter's own file\n")

	writer := helperCommand(t, "echo-lines", "100000", "10ms")  // writes until stopped
	rotating := helperCommand(t, "echo-lines", "100000", "5ms") // rotates until stopped, however the server's reads coalesce its lines
	r.write(fmt.Sprintf("[ramona:server]\npidfile=run/ramona.pid\n\n"+
		"[ramona:notify]\ndelivery=smtp://127.0.0.1:%d\nreceiver=ops@example.com\nstashdir=stash\n\n", freePort(t)) +
		progSection("one", writer) +
		progSection("two", writer, "stdout=<logdir>", "stderr=<logdir>") +
		progSection("three", writer) +
		progSection("rot", rotating, "logmaxsize=300", "logbackups=20", "logcompress=on") +
		progSection("gz", rotating, "logmaxsize=300", "logbackups=3", "logcompress=on"))
	r.start()
	for _, st := range []string{"one", "two", "three", "rot", "gz"} {
		r.waitState(st, "RUNNING", lcWait)
	}
	logOf := func(name string) string { return filepath.Join(logDir, name) }
	// Once gz rotated and compressed several times (and the others wrote
	// for as long), nothing may have reached a victim.
	// While gz keeps rotating, a loaded machine's compressor may finish each
	// backup only after the next shift: it is gz.log.3.gz then.
	waitFor(t, "a compressed backup of gz", lcWait, func() bool {
		for _, name := range []string{"gz.log.2.gz", "gz.log.3.gz"} {
			if _, err := os.Stat(logOf(name)); err == nil {
				return true
			}
		}
		return false
	})
	for _, v := range victims {
		v.check(t)
		v.checkNotCopied(t, logDir)
	}

	// Logs: refused in the server log and in status, output counted as lost.
	for _, want := range []string{
		"one: log file " + logOf("one.log") + ": refused: it is a symbolic link (to " + victims["one"].path + ")",
		"two: log file " + logOf("two-out.log") + ": refused: it is a symbolic link (to " + victims["two-out"].path + ")",
		"two: log file " + logOf("two-err.log") + ": refused: it is a symbolic link (to " + victims["two-err"].path + ")",
		"three: log file " + logOf("three.log") + ": refused: it belongs to uid " + strconv.Itoa(p.uid) + " (" + p.name + ")",
	} {
		r.waitServerLog(want)
	}
	for name, wants := range map[string][]string{
		"one":   {"log file " + logOf("one.log") + ": refused: it is a symbolic link"},
		"two":   {"log file " + logOf("two-out.log") + ": refused", "log file " + logOf("two-err.log") + ": refused"},
		"three": {"log file " + logOf("three.log") + ": refused: it belongs to uid " + strconv.Itoa(p.uid)},
	} {
		st := r.waitStatus(name, "error and lost bytes for the refused log", func(st programStatus) bool {
			return st.LostBytes > 0 && strings.Contains(st.Error, wants[0])
		})
		for _, want := range wants {
			if !strings.Contains(st.Error, want) {
				t.Errorf("%s: status error %q lacks %q", name, st.Error, want)
			}
		}
	}
	if data, err := os.ReadFile(logOf("three.log")); err != nil || string(data) != "the planter's own file\n" {
		t.Errorf("the planter's three.log was written to: %q, %v", data, err)
	}

	// Rotation shifts the link at rot.log.1 to rot.log.2, which compression
	// refuses to read; the gzip of gz.log.2 goes to a temporary name of its
	// own, never to the planted gz.log.2.gz.tmp.
	// (The backup may have shifted on before the compressor got to it.)
	waitFor(t, "the server log to show the refused compression", lcWait, func() bool {
		for _, line := range strings.Split(r.serverLog(), "\n") {
			if strings.Contains(line, "rot: log file "+logOf("rot.log")+": compress "+logOf("rot.log.")) &&
				strings.HasSuffix(line, ": refused: it is a symbolic link (to "+victims["rot"].path+"); remove the link; Ramona never writes through one; the backup stays as it is") {
				return true
			}
		}
		return false
	})
	if !isLinkTo(logOf("gz.log.2.gz.tmp"), victims["gz"].path) {
		t.Errorf("the link planted at gz.log.2.gz.tmp was moved or replaced")
	}

	// The pidfile: the planted link is reported and replaced, never followed;
	// the old fixed temporary name is not used at all.
	r.waitServerLog("server: the pidfile " + filepath.Join(runDir, "ramona.pid") + " is a symbolic link (to " + victims["pid"].path + "); it is replaced by a new file, never written through")
	if data, err := os.ReadFile(filepath.Join(runDir, "ramona.pid")); err != nil || strings.TrimSpace(string(data)) != strconv.Itoa(r.server.cmd.Process.Pid) {
		t.Errorf("pidfile: %q, %v; want the server's pid %d", data, err, r.server.cmd.Process.Pid)
	}
	if !isLinkTo(filepath.Join(runDir, "ramona.pid.tmp"), victims["pidtmp"].path) {
		t.Errorf("the link planted at ramona.pid.tmp was moved or replaced")
	}

	// The stash: not read through the link; the next save replaces the link.
	r.waitServerLog("mail: the stash " + filepath.Join(stashDir, "ramona-mail.json") + " is not read: it is a symbolic link (to " + victims["stash"].path + "); starting with an empty digest")
	if code, _, _ := r.cli("notify", "-t", "daily", "for the digest"); code != 0 {
		t.Fatalf("notify -t daily: exit %d", code)
	}
	waitFor(t, "the stash to be saved as a file", lcWait, func() bool {
		fi, err := os.Lstat(filepath.Join(stashDir, "ramona-mail.json"))
		return err == nil && fi.Mode().IsRegular()
	})

	// The operator removes the link: one's log is written again and its
	// error leaves status.
	must(t, os.Remove(logOf("one.log")))
	r.waitStatus("one", "no error once the link is gone", func(st programStatus) bool { return st.Error == "" })
	r.waitProgramLog("one", "line ")

	r.stopAll()
	for _, v := range victims {
		v.check(t)
		v.checkNotCopied(t, logDir)
	}
}

// A named pipe planted at a log's name with nobody reading would block the
// server's open for ever; it is refused at once and the server answers.
func TestPlantedPipeAtLogNameIsRefused(t *testing.T) {
	t.Parallel()
	p := newPlanter(t)
	r := newTestRamona(t, progSection("piped", helperCommand(t, "echo-lines", "100000", "10ms")))
	logDir := p.sharedDir(r.dir, filepath.Join(r.dir, "log"))
	p.run("mkfifo", filepath.Join(logDir, "piped.log"))
	r.start()
	cl := r.dial()
	cl.conn.SetDeadline(time.Now().Add(lcWait))
	var st map[string]programStatus
	waitFor(t, "status to show the refused pipe", lcWait, func() bool {
		st = statusOf(t, cl)
		return strings.Contains(st["piped"].Error, "refused: it is a named pipe")
	})
	cl.conn.SetDeadline(time.Time{})
	r.waitServerLog("piped: log file " + filepath.Join(logDir, "piped.log") + ": refused: it is a named pipe")
	r.stopAll()
}

// The background server's own log: a link planted at ramona.log makes the
// server refuse to start, saying why, rather than write through it.
func TestPlantedServerLogIsRefused(t *testing.T) {
	p := newPlanter(t)
	r := backgroundRamona(t, "")
	logDir := p.sharedDir(r.dir, filepath.Join(r.dir, "log"))
	v := newVictim(t, r.dir, "victim-server-log")
	p.link(v.path, filepath.Join(logDir, "ramona.log"))
	code, out, errOut := r.cli("start", "-S")
	want := "cannot write the server log " + filepath.Join(logDir, "ramona.log") + ": refused: it is a symbolic link (to " + v.path + ")"
	if code != exitFailed || !strings.Contains(errOut, want) || strings.Contains(out, "server started") {
		t.Errorf("start: exit %d, stdout %q, stderr %q; want %d and %q", code, out, errOut, exitFailed, want)
	}
	v.check(t)
}

// A stash file that another user wrote (here with a mail for the server to
// send) is not read.
func TestPlantedStashOfAnotherUserIsNotRead(t *testing.T) {
	t.Parallel()
	p := newPlanter(t)
	r := newTestRamona(t, "")
	stashDir := p.sharedDir(r.dir, filepath.Join(r.dir, "stash"))
	stash := filepath.Join(stashDir, "ramona-mail.json")
	p.file(stash, `{"version":1,"digest":{},"outbox":[{"to":["victim@example.com"],"subject":"from root","body":"forged"}]}`)
	r.write(fmt.Sprintf("[ramona:notify]\ndelivery=smtp://127.0.0.1:%d\nreceiver=ops@example.com\nstashdir=stash\n", freePort(t)))
	r.start()
	r.waitServerLog("mail: the stash " + stash + " is not read: it belongs to uid " + strconv.Itoa(p.uid) + " (" + p.name + ")")
	if strings.Contains(r.serverLog(), "unsent mail(s) from") {
		t.Errorf("the server read the planted stash:\n%s", r.serverLog())
	}
	r.stopAll()
}

// The console's history file: a planted link is refused, not appended to.
func TestPlantedConsoleHistoryIsRefused(t *testing.T) {
	t.Parallel()
	p := newPlanter(t)
	r := newTestRamona(t, "")
	dir := p.sharedDir(r.dir, filepath.Join(r.dir, "shared"))
	v := newVictim(t, r.dir, "victim-history")
	history := filepath.Join(dir, "history")
	p.link(v.path, history)
	r.write("[ramona:console]\nhistory=" + history + "\n")
	var out, errOut strings.Builder
	run([]string{"-c", r.conf, "console"}, strings.NewReader("help\n"), &out, &errOut)
	want := "history " + history + ": refused: it is a symbolic link (to " + v.path + ")"
	if !strings.Contains(errOut.String(), want) {
		t.Errorf("console stderr %q lacks %q", errOut.String(), want)
	}
	v.check(t)
}

// tls init into a directory the planter owns: a dangling link planted at a
// key's name is an error, and no key is written where it points.
func TestPlantedLinkAtTLSKeyIsRefused(t *testing.T) {
	t.Parallel()
	p := newPlanter(t)
	base := t.TempDir()
	dir := p.sharedDir(base, filepath.Join(base, "tls"))
	stolen := filepath.Join(p.sharedDir(base, filepath.Join(base, "planter")), "stolen-key.pem")
	p.link(stolen, filepath.Join(dir, "ca-key.pem"))
	var out, errOut strings.Builder
	code := run([]string{"tls", "init", dir}, strings.NewReader(""), &out, &errOut)
	if code == exitOK || !strings.Contains(errOut.String(), filepath.Join(dir, "ca-key.pem")+" already exists") {
		t.Errorf("tls init: exit %d, stderr %q; want an error that ca-key.pem exists", code, errOut.String())
	}
	if _, err := os.Lstat(stolen); err == nil {
		t.Errorf("tls init wrote %s through the planted link", stolen)
	}
}
