//go:build unix

// Tests of safefile.go: what openSafe opens and what it refuses, with the
// reason; replaceFile never writing through a link; the shared-directory
// warning; and the log rules built on them (created mode, no rotation of a
// device, Tail not reading through a planted backup).
package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestOpenSafe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	must(t, os.WriteFile(victim, []byte("secret\n"), 0o600))
	at := func(name string) string { return filepath.Join(dir, name) }
	must(t, os.Symlink(victim, at("link")))
	must(t, os.Symlink(at("nowhere"), at("dangling")))
	must(t, syscall.Mkfifo(at("fifo"), 0o600))
	must(t, os.Mkdir(at("dir"), 0o755))
	must(t, os.WriteFile(at("mine"), []byte("mine\n"), 0o600))
	const appendFlags = os.O_WRONLY | os.O_APPEND | os.O_CREATE
	for _, tc := range []struct {
		name string
		flag int
		want string // "" opens
	}{
		{"mine", appendFlags, ""},
		{"new", appendFlags, ""},
		{"link", appendFlags, "refused: it is a symbolic link (to " + victim + "); remove the link; Ramona never writes through one"},
		{"link", os.O_RDONLY, "refused: it is a symbolic link (to " + victim + ")"},
		{"dangling", appendFlags, "refused: it is a symbolic link (to " + at("nowhere") + ")"},
		{"fifo", appendFlags, "refused: it is a named pipe; remove it"}, // no reader: must not block
		{"fifo", os.O_RDONLY, "refused: it is a named pipe; remove it"},
		{"dir", os.O_RDONLY, "refused: it is a directory; remove it or name another file"},
		{"dir", appendFlags, "is a directory"},
	} {
		f, err := openSafe(at(tc.name), tc.flag, 0o600)
		if f != nil {
			f.Close()
		}
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s (flags %#x): error %v; want %q", tc.name, tc.flag, err, tc.want)
		}
	}
	if _, err := os.Lstat(at("nowhere")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("opening the dangling link created its target: %v", err)
	}
	if data, _ := os.ReadFile(victim); string(data) != "secret\n" {
		t.Errorf("victim changed: %q", data)
	}
	if f, err := openSafe(os.DevNull, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err != nil {
		t.Errorf("%s: %v; a character device is fine", os.DevNull, err)
	} else {
		f.Close()
	}
}

// Owners and hard links need root to set up.
func TestOpenSafeOwnerAndLinks(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown a file to another uid and to link a file of root")
	}
	dir := t.TempDir()
	other := filepath.Join(dir, "other")
	must(t, os.WriteFile(other, nil, 0o600))
	must(t, os.Chown(other, 65534, 65534))
	if _, err := openSafe(other, os.O_WRONLY|os.O_APPEND, 0); err == nil || !strings.Contains(err.Error(), "refused: it belongs to uid 65534") {
		t.Errorf("a file of uid 65534: %v", err)
	}
	if f, err := openSafe(other, os.O_WRONLY|os.O_APPEND, 0, 65534); err != nil {
		t.Errorf("a file of uid 65534, the program's user: %v", err)
	} else {
		f.Close()
	}
	shadow := filepath.Join(dir, "shadow")
	must(t, os.WriteFile(shadow, []byte("root's\n"), 0o600))
	must(t, os.Link(shadow, filepath.Join(dir, "hardlink")))
	if _, err := openSafe(filepath.Join(dir, "hardlink"), os.O_WRONLY|os.O_APPEND, 0); err == nil || !strings.Contains(err.Error(), "refused: it has 2 hard links") {
		t.Errorf("a second name of root's file: %v", err)
	}
}

func TestReplaceFileReplacesALink(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	must(t, os.WriteFile(victim, []byte("secret\n"), 0o600))
	path := filepath.Join(dir, "app.pid")
	must(t, os.Symlink(victim, path))
	must(t, replaceFile(path, []byte("42\n"), 0o644))
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o644 {
		t.Fatalf("%s after replaceFile: %v, %v; want a regular file, mode 0644", path, fi, err)
	}
	if data, _ := os.ReadFile(path); string(data) != "42\n" {
		t.Errorf("content %q", data)
	}
	if data, _ := os.ReadFile(victim); string(data) != "secret\n" {
		t.Errorf("victim changed: %q", data)
	}
	if names := dirNames(t, dir); len(names) != 2 {
		t.Errorf("files left: %v; want app.pid and victim", names)
	}
}

func TestSharedDirWarning(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		mode os.FileMode
		want string
	}{
		{0o755, ""},
		{0o775, "(mode 0775) is writable by its group"},
		{0o777, "(mode 0777) is writable by every user"},
	} {
		must(t, os.Chmod(dir, tc.mode))
		got := sharedDirWarning(dir)
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("mode %04o: %q; want %q", tc.mode, got, tc.want)
		}
	}
}

// Logs are created with the policy's mode (0640 by default), and a
// compressed backup keeps the mode of its plain backup.
func TestLogFileModes(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	for _, tc := range []struct {
		mode, want os.FileMode
	}{
		{0, 0o640},
		{0o600, 0o600},
		{0o644, 0o644},
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, "app.log")
		l, errs := newTestLog(t, path, LogPolicy{MaxSize: 100, Backups: 3, Compress: true, Mode: tc.mode})
		for i := range 40 {
			l.Write(line(i))
		}
		l.Close()
		if errs.count() != 0 {
			t.Fatalf("errors %v", errs.errs)
		}
		for _, name := range []string{"app.log", "app.log.1", "app.log.2.gz"} {
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil || fi.Mode().Perm() != tc.want {
				t.Errorf("logmode %04o: %s is %v, %v; want mode %04o", tc.mode, name, fi.Mode(), err, tc.want)
			}
		}
	}
}

// A log that is a character device (as /dev/null is) is written but never
// rotated: renaming a device away would break it for everyone.
func TestLogFileDeviceIsNotRotated(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a device node")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "null")
	must(t, syscall.Mknod(path, syscall.S_IFCHR|0o666, 1<<8|3)) // the null device, 1:3
	l, errs := newTestLog(t, path, LogPolicy{MaxSize: 10, Backups: 3})
	for i := range 10 {
		l.Write(line(i))
	}
	l.Close()
	if names := dirNames(t, dir); len(names) != 1 || errs.count() != 0 || l.Lost() != 0 {
		t.Errorf("files %v, errors %v, lost %d; want only the device, no error", names, errs.errs, l.Lost())
	}
}

// Tail reads the current file and F.1; a link planted at F.1 is not read.
func TestTailDoesNotReadThroughAPlantedBackup(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	must(t, os.WriteFile(victim, []byte("secret\n"), 0o600))
	path := filepath.Join(dir, "app.log")
	must(t, os.Symlink(victim, path+".1"))
	l, _ := newTestLog(t, path, LogPolicy{})
	l.Write([]byte("mine\n"))
	if got := string(l.Tail(10)); got != "mine\n" {
		t.Errorf("Tail: %q; want only the log's own line", got)
	}
	l.Close()
}
