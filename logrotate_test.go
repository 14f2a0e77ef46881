//go:build unix

// Tests for logrotate.go: rotation numbering and byte-exact contents with and
// without gzip, rotation racing a blocked compressor, Reopen after external
// rotation, disk faults (lost bytes, one report per streak, resumption, retry
// pacing), Tail across files and blocks, Ring, followers, and a write benchmark.
package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// checkNoGoroutineLeak fails the test if, once every later cleanup has run,
// more goroutines are alive than when it was called.
func checkNoGoroutineLeak(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Errorf("goroutines: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
				return
			}
			runtime.Gosched()
		}
	})
}

// errorLog records what a LogFile reports through onError.
type errorLog struct {
	mu   sync.Mutex
	errs []error
}

func (e *errorLog) record(err error) {
	e.mu.Lock()
	e.errs = append(e.errs, err)
	e.mu.Unlock()
}

func (e *errorLog) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.errs)
}

func (e *errorLog) last() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.errs) == 0 {
		return nil
	}
	return e.errs[len(e.errs)-1]
}

// newTestLog opens a LogFile that is closed (and checked for leaked
// goroutines) at the end of the test.
func newTestLog(t *testing.T, path string, policy LogPolicy) (*LogFile, *errorLog) {
	t.Helper()
	checkNoGoroutineLeak(t)
	errs := &errorLog{}
	l := openLogFile(path, policy, nil, errs.record)
	t.Cleanup(func() { l.Close() })
	return l, errs
}

// line returns the i-th test line: 10 bytes including the newline.
func line(i int) []byte { return fmt.Appendf(nil, "%09d\n", i) }

// lines returns the test lines from..to-1 concatenated.
func lines(from, to int) []byte {
	var b []byte
	for i := from; i < to; i++ {
		b = append(b, line(i)...)
	}
	return b
}

// readLog returns the content of name, gunzipped if it ends in .gz.
func readLog(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(name, ".gz") {
		return data
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return plain
}

// dirNames lists the names in dir, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// expectFiles checks that dir holds exactly the files in want (name ->
// content, .gz names gunzipped).
func expectFiles(t *testing.T, dir string, want map[string][]byte) {
	t.Helper()
	var wantNames []string
	for name := range want {
		wantNames = append(wantNames, name)
	}
	slices.Sort(wantNames)
	if got := dirNames(t, dir); !slices.Equal(got, wantNames) {
		t.Fatalf("files: got %q, want %q", got, wantNames)
	}
	for _, name := range wantNames {
		if got := readLog(t, filepath.Join(dir, name)); !bytes.Equal(got, want[name]) {
			t.Fatalf("%s: got %q, want %q", name, got, want[name])
		}
	}
}

// rotatedFiles is what the directory should hold after writing lines
// 0..written-1 of 10 bytes each with MaxSize 100 (10 lines per file).
func rotatedFiles(written, backups int, compress bool) map[string][]byte {
	current := (written - 1) / 10 * 10
	files := map[string][]byte{"app.log": lines(current, written)}
	for k := 1; current-10*k >= 0 && (backups < 0 || k <= backups); k++ {
		name := fmt.Sprintf("app.log.%d", k)
		if compress && k >= 2 {
			name += ".gz"
		}
		files[name] = lines(current-10*k, current-10*(k-1))
	}
	return files
}

func TestRotationSequence(t *testing.T) {
	for _, backups := range []int{3, -1} {
		for _, compress := range []bool{false, true} {
			t.Run(fmt.Sprintf("backups=%d,compress=%v", backups, compress), func(t *testing.T) {
				dir := t.TempDir()
				l, errs := newTestLog(t, filepath.Join(dir, "app.log"), LogPolicy{MaxSize: 100, Backups: backups, Compress: compress})
				for i := range 75 {
					l.Write(line(i))
					l.waitCompressed()
					expectFiles(t, dir, rotatedFiles(i+1, backups, compress))
				}
				if backups < 0 {
					// Every byte, once, in order, across all files.
					var all []byte
					for k := 7; k >= 1; k-- {
						name := fmt.Sprintf("app.log.%d", k)
						if compress && k >= 2 {
							name += ".gz"
						}
						all = append(all, readLog(t, filepath.Join(dir, name))...)
					}
					all = append(all, readLog(t, filepath.Join(dir, "app.log"))...)
					if !bytes.Equal(all, lines(0, 75)) {
						t.Fatalf("concatenated backups differ from what was written")
					}
				}
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
				if errs.count() != 0 || l.Lost() != 0 {
					t.Fatalf("errors %v, lost %d", errs.errs, l.Lost())
				}
			})
		}
	}
}

func TestMaxSizeZeroNeverRotates(t *testing.T) {
	dir := t.TempDir()
	l, _ := newTestLog(t, filepath.Join(dir, "app.log"), LogPolicy{MaxSize: 0, Backups: 3, Compress: true})
	for i := range 1000 {
		l.Write(line(i))
	}
	l.Close()
	expectFiles(t, dir, map[string][]byte{"app.log": lines(0, 1000)})
}

func TestBackupsZeroTruncates(t *testing.T) {
	dir := t.TempDir()
	l, _ := newTestLog(t, filepath.Join(dir, "app.log"), LogPolicy{MaxSize: 100, Backups: 0, Compress: true})
	for i := range 25 {
		l.Write(line(i))
	}
	l.Close()
	expectFiles(t, dir, map[string][]byte{"app.log": lines(20, 25)})
}

// Removed backups (and with Backups=0 the rotated file itself) are closed
// off the writing path; Close waits for those closes, so no descriptor of a
// removed file outlives the log.
func TestRemovedLogFilesClosedByClose(t *testing.T) {
	t.Parallel()
	for _, backups := range []int{0, 2} {
		t.Run(fmt.Sprintf("backups=%d", backups), func(t *testing.T) {
			dir := t.TempDir()
			l, errs := newTestLog(t, filepath.Join(dir, "app.log"), LogPolicy{MaxSize: 100, Backups: backups})
			for i := range 200 {
				l.Write(line(i))
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if open := openRemovedFiles(t, dir); len(open) > 0 {
				t.Fatalf("still open after Close: %v", open)
			}
			want := map[string][]byte{"app.log": lines(190, 200)} // 10 lines of 10 bytes a file
			for k := 1; k <= backups; k++ {
				want[fmt.Sprintf("app.log.%d", k)] = lines(190-10*k, 200-10*k)
			}
			expectFiles(t, dir, want)
			if errs.count() != 0 || l.Lost() != 0 {
				t.Fatalf("errors %v, lost %d", errs.errs, l.Lost())
			}
		})
	}
}

// openRemovedFiles lists this process's descriptors of removed files that
// were in dir (from /proc/self/fd; the test skips where there is none).
func openRemovedFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	var open []string
	for _, e := range entries {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err == nil && strings.HasPrefix(target, dir+"/") && strings.HasSuffix(target, " (deleted)") {
			open = append(open, target)
		}
	}
	return open
}

// A write is never split: a write larger than MaxSize goes whole into a fresh
// file, and an empty file is never rotated.
func TestLargeWriteGoesWholeIntoOneFile(t *testing.T) {
	dir := t.TempDir()
	l, _ := newTestLog(t, filepath.Join(dir, "app.log"), LogPolicy{MaxSize: 100, Backups: -1})
	big := bytes.Repeat([]byte("0123456789abcdefghi\n"), 15) // 300 bytes
	l.Write(big)                                             // into the empty file, no rotation
	l.Write(line(1))                                         // rotates the 300 bytes away
	l.Write(lines(2, 5))
	l.Write(big) // 40+300 > 100: rotates first
	l.Close()
	expectFiles(t, dir, map[string][]byte{
		"app.log.2": big,
		"app.log.1": lines(1, 5),
		"app.log":   big,
	})
}

// blockFirstCompression makes the compressor stop before reading its first
// backup until release is closed; started receives the plain name it holds.
func blockFirstCompression(l *LogFile) (started <-chan string, release chan struct{}) {
	startedC := make(chan string, 1)
	release = make(chan struct{})
	var once sync.Once
	l.beforeCompress = func(plain string) {
		once.Do(func() {
			startedC <- plain
			<-release
		})
	}
	return startedC, release
}

func TestRotationWhileCompressing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	l, errs := newTestLog(t, path, LogPolicy{MaxSize: 100, Backups: 5, Compress: true})
	started, release := blockFirstCompression(l)
	for i := range 30 {
		l.Write(line(i))
	}
	if got := <-started; got != path+".2" {
		t.Fatalf("compressing %s, want %s.2", got, path)
	}
	// Two more rotations while lines 0-9 are being compressed.
	for i := 30; i < 50; i++ {
		l.Write(line(i))
	}
	for k, from := range []int{40, 30, 20, 10, 0} {
		name := path
		if k > 0 {
			name += fmt.Sprintf(".%d", k)
		}
		if got := readLog(t, name); !bytes.Equal(got, lines(from, from+10)) {
			t.Fatalf("%s during compression: got %q", name, got)
		}
	}
	close(release)
	l.waitCompressed()
	expectFiles(t, dir, rotatedFiles(50, 5, true))
	// And the numbering goes on right after the compressor caught up.
	for i := 50; i < 80; i++ {
		l.Write(line(i))
	}
	l.Close()
	expectFiles(t, dir, rotatedFiles(80, 5, true))
	if errs.count() != 0 || l.Lost() != 0 {
		t.Fatalf("errors %v, lost %d", errs.errs, l.Lost())
	}
}

// A backup that rotation deletes while it is being compressed leaves nothing
// behind: no .gz under a wrong number, no temporary file.
func TestRotationPrunesBackupBeingCompressed(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	l, errs := newTestLog(t, path, LogPolicy{MaxSize: 100, Backups: 3, Compress: true})
	started, release := blockFirstCompression(l)
	for i := range 30 {
		l.Write(line(i))
	}
	<-started
	for i := 30; i < 50; i++ { // lines 0-9 become backup 4, beyond Backups
		l.Write(line(i))
	}
	if _, err := os.Stat(path + ".4"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("backup 4 should be gone: %v", err)
	}
	close(release)
	l.waitCompressed()
	expectFiles(t, dir, rotatedFiles(50, 3, true))
	l.Close()
	if errs.count() != 0 {
		t.Fatalf("errors %v", errs.errs)
	}
}

// Turning Compress on compresses plain backups left from before.
func TestCompressAfterPolicyChange(t *testing.T) {
	dir := t.TempDir()
	l, _ := newTestLog(t, filepath.Join(dir, "app.log"), LogPolicy{MaxSize: 100, Backups: 4})
	for i := range 40 {
		l.Write(line(i))
	}
	expectFiles(t, dir, rotatedFiles(40, 4, false))
	l.Configure(LogPolicy{MaxSize: 100, Backups: 4, Compress: true}, nil, nil)
	for i := 40; i < 50; i++ {
		l.Write(line(i))
	}
	l.Close()
	expectFiles(t, dir, rotatedFiles(50, 4, true))
}

// A rotation that cannot rename keeps writing to the current file, reports
// once, and rotates as soon as it can.
func TestRotationFailureKeepsWriting(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	// A non-empty directory at app.log.1 cannot be replaced by a file.
	if err := os.MkdirAll(filepath.Join(path+".1", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	l, errs := newTestLog(t, path, LogPolicy{MaxSize: 100, Backups: 1})
	l.retryInterval = 0
	for i := range 30 {
		l.Write(line(i))
	}
	if errs.count() != 1 || !strings.HasPrefix(errs.last().Error(), "rotate: ") {
		t.Fatalf("want one rotate error, got %v", errs.errs)
	}
	if got := readLog(t, path); !bytes.Equal(got, lines(0, 30)) || l.Lost() != 0 {
		t.Fatalf("current file %q, lost %d", got, l.Lost())
	}
	if err := os.RemoveAll(path + ".1"); err != nil {
		t.Fatal(err)
	}
	l.Write(line(30))
	l.Close()
	expectFiles(t, dir, map[string][]byte{"app.log.1": lines(0, 30), "app.log": lines(30, 31)})
	if errs.count() != 1 {
		t.Fatalf("errors %v", errs.errs)
	}
}

func TestReopenAfterExternalRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	l, _ := newTestLog(t, path, LogPolicy{})
	l.Write([]byte("a\n"))
	if err := os.Rename(path, path+".old"); err != nil {
		t.Fatal(err)
	}
	l.Write([]byte("b\n")) // still the moved file, until Reopen
	l.Reopen()
	l.Write([]byte("c\n"))
	l.Close()
	expectFiles(t, dir, map[string][]byte{"app.log.old": []byte("a\nb\n"), "app.log": []byte("c\n")})
}

func TestReopenAfterDelete(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	l, _ := newTestLog(t, path, LogPolicy{MaxSize: 100, Backups: 2})
	l.Write([]byte("a\n"))
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	l.Reopen()
	l.Write([]byte("b\n"))
	l.Close()
	expectFiles(t, dir, map[string][]byte{"app.log": []byte("b\n")})
}

// faultCase is a way to make the log path unwritable and writable again.
type faultCase struct {
	name   string
	path   func(dir string) string
	spoil  func(t *testing.T, dir string) // make the path fail
	repair func(t *testing.T, dir string) // make it work again
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func faultCases(t *testing.T) []faultCase {
	cases := []faultCase{
		{
			name: "missing directory",
			path: func(dir string) string { return filepath.Join(dir, "sub", "app.log") },
			spoil: func(t *testing.T, dir string) {
				must(t, os.RemoveAll(filepath.Join(dir, "sub")))
			},
			repair: func(t *testing.T, dir string) { must(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755)) },
		},
		{
			name: "parent is a file (ENOTDIR)",
			path: func(dir string) string { return filepath.Join(dir, "sub", "app.log") },
			spoil: func(t *testing.T, dir string) {
				must(t, os.RemoveAll(filepath.Join(dir, "sub")))
				must(t, os.WriteFile(filepath.Join(dir, "sub"), nil, 0o644))
			},
			repair: func(t *testing.T, dir string) {
				must(t, os.Remove(filepath.Join(dir, "sub")))
				must(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
			},
		},
	}
	cases = append(cases, faultCase{
		name: "a link planted at the name (refused)",
		path: func(dir string) string { return filepath.Join(dir, "app.log") },
		spoil: func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "app.log"))
			must(t, os.Symlink(filepath.Join(dir, "elsewhere"), filepath.Join(dir, "app.log")))
		},
		repair: func(t *testing.T, dir string) { must(t, os.Remove(filepath.Join(dir, "app.log"))) },
	})
	if os.Geteuid() == 0 {
		// Root cannot bypass ENOSPC: the path is a device node like
		// /dev/full (a link to /dev/full would be refused).
		cases = append(cases, faultCase{
			name: "disk full (ENOSPC)",
			path: func(dir string) string { return filepath.Join(dir, "app.log") },
			spoil: func(t *testing.T, dir string) {
				os.Remove(filepath.Join(dir, "app.log"))
				must(t, syscall.Mknod(filepath.Join(dir, "app.log"), syscall.S_IFCHR|0o666, 1<<8|7)) // the full device, 1:7
			},
			repair: func(t *testing.T, dir string) { must(t, os.Remove(filepath.Join(dir, "app.log"))) },
		})
	}
	// chmod stops only non-root users; find out by trying.
	probe := t.TempDir()
	must(t, os.Chmod(probe, 0o555))
	if f, err := os.Create(filepath.Join(probe, "probe")); err == nil {
		f.Close()
		t.Logf("running as root: chmod 0555 does not stop writes, read-only directory case skipped")
	} else {
		cases = append(cases, faultCase{
			name: "read-only directory (EACCES)",
			path: func(dir string) string { return filepath.Join(dir, "sub", "app.log") },
			spoil: func(t *testing.T, dir string) {
				os.Remove(filepath.Join(dir, "sub", "app.log"))
				must(t, os.MkdirAll(filepath.Join(dir, "sub"), 0o755))
				must(t, os.Chmod(filepath.Join(dir, "sub"), 0o555))
			},
			repair: func(t *testing.T, dir string) { must(t, os.Chmod(filepath.Join(dir, "sub"), 0o755)) },
		})
	}
	must(t, os.Chmod(probe, 0o755))
	return cases
}

func TestWriteFaults(t *testing.T) {
	for _, fc := range faultCases(t) {
		t.Run(fc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := fc.path(dir)
			fc.spoil(t, dir)
			l, errs := newTestLog(t, path, LogPolicy{MaxSize: 1000, Backups: 2})
			l.retryInterval = 0     // retry on every write
			l.retryAt = time.Time{} // including the next one

			// A streak: every byte lost, one report.
			var lost int64
			for i := range 5 {
				n, err := l.Write(line(i))
				if n != 10 || err != nil {
					t.Fatalf("Write returned %d, %v", n, err)
				}
				lost += 10
			}
			if l.Lost() != lost || errs.count() != 1 {
				t.Fatalf("lost %d (want %d), errors %v", l.Lost(), lost, errs.errs)
			}
			t.Logf("reported: %v", errs.last())

			// Writing resumes by itself.
			fc.repair(t, dir)
			l.Write(line(5))
			l.Write(line(6))
			if got := readLog(t, path); !bytes.Equal(got, lines(5, 7)) {
				t.Fatalf("after fix: %q", got)
			}

			// A new fault after success is a new streak: reported again.
			fc.spoil(t, dir)
			l.Reopen()
			for i := 7; i < 10; i++ {
				l.Write(line(i))
			}
			lost += 30
			if l.Lost() != lost || errs.count() != 2 {
				t.Fatalf("lost %d (want %d), errors %v", l.Lost(), lost, errs.errs)
			}
			fc.repair(t, dir)
			l.Write(line(10))
			l.Close()
			if got := readLog(t, path); !bytes.Equal(got, line(10)) { // spoil removed the old file
				t.Fatalf("after second fix: %q", got)
			}
			if l.Lost() != lost {
				t.Fatalf("lost %d, want %d", l.Lost(), lost)
			}
		})
	}
}

func TestDiskFullErrorIsENOSPC(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	checkNoGoroutineLeak(t)
	var got error
	l := openLogFile("/dev/full", LogPolicy{}, nil, func(err error) { got = err })
	l.Write([]byte("x\n"))
	l.Close()
	if !errors.Is(got, syscall.ENOSPC) || l.Lost() != 2 {
		t.Fatalf("error %v, lost %d", got, l.Lost())
	}
}

// After a failure the disk is tried again at most once per retryInterval.
func TestRetryIsPaced(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "app.log")
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	checkNoGoroutineLeak(t)
	errs := &errorLog{}
	l := openLogFile(path, LogPolicy{}, nil, errs.record) // fails: no directory
	defer l.Close()
	l.now = func() time.Time { return clock }
	l.retryAt = clock.Add(time.Second) // as if the failure happened at clock
	must(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))

	clock = clock.Add(999 * time.Millisecond)
	l.Write([]byte("early\n")) // not retried yet: lost
	if l.Lost() != 6 {
		t.Fatalf("lost %d", l.Lost())
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("file created before the retry interval: %v", err)
	}
	clock = clock.Add(time.Millisecond)
	l.Write([]byte("on time\n"))
	if got := readLog(t, path); string(got) != "on time\n" || errs.count() != 1 {
		t.Fatalf("got %q, errors %v", got, errs.errs)
	}
}

// naiveTail is the reference: split into lines, a last line without '\n'
// counts, keep the last n.
// TestTailStartBound: with a byte bound, the tail is what naiveTail says when
// that fits, else the first line that starts within the bound (or the bound
// itself, mid-line), and it says that it cut; for every split of the stream
// between F.1 and F and every block size.
func TestTailStartBound(t *testing.T) {
	t.Parallel()
	inputs := []string{
		"", "a", "\n", "a\n", "\n\n\n", "a\nb", "a\nb\n", "one\n\ntwo\nthree\n",
		"long line without newline", "x\nlong line number two\nshort\n\n", "ab\ncd\nef\ngh\n",
	}
	reference := func(data []byte, n int, bound int) ([]byte, bool) {
		full := naiveTail(data, n)
		if len(full) <= bound {
			return full, false
		}
		from := len(data) - bound
		for i := from; i < len(data); i++ {
			if i > 0 && data[i-1] == '\n' {
				return data[i:], true
			}
		}
		return data[from:], true
	}
	for _, in := range inputs {
		data := []byte(in)
		for split := 0; split <= len(data); split++ {
			older, newer := data[:split], data[split:]
			sources := []tailSource{
				{bytes.NewReader(newer), int64(len(newer))},
				{bytes.NewReader(older), int64(len(older))},
			}
			for _, block := range []int{1, 2, 3, 64} {
				for n := 1; n <= 6; n++ {
					for bound := 0; bound <= len(data)+1; bound++ {
						start, cut := tailStart(sources, n, int64(bound), block)
						got, _ := io.ReadAll(tailFrom(sources, start))
						want, wantCut := reference(data, n, bound)
						if !bytes.Equal(got, want) || cut != wantCut {
							t.Fatalf("%q split %d block %d n %d bound %d: got %q (cut %v), want %q (cut %v)",
								in, split, block, n, bound, got, cut, want, wantCut)
						}
					}
				}
			}
		}
	}
}

func naiveTail(data []byte, n int) []byte {
	if n <= 0 {
		return nil
	}
	var ls [][]byte
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			ls = append(ls, data)
			break
		}
		ls = append(ls, data[:i+1])
		data = data[i+1:]
	}
	return bytes.Join(ls[max(len(ls)-n, 0):], nil)
}

func TestLastLinesMatchesReference(t *testing.T) {
	t.Parallel()
	inputs := []string{
		"", "a", "\n", "a\n", "\n\n\n", "a\nb", "a\nb\n", "one\n\ntwo\nthree",
		"long line without newline", "x\nlong line number two\nshort\n\n",
	}
	for _, in := range inputs {
		data := []byte(in)
		for split := 0; split <= len(data); split++ { // data[:split] is F.1, data[split:] is F
			older, newer := data[:split], data[split:]
			sources := []tailSource{
				{bytes.NewReader(newer), int64(len(newer))},
				{bytes.NewReader(older), int64(len(older))},
			}
			for _, block := range []int{1, 2, 3, 7, 64} {
				for n := 0; n <= 8; n++ {
					got := lastLines(sources, n, block)
					if want := naiveTail(data, n); !bytes.Equal(got, want) {
						t.Fatalf("%q split %d block %d n %d: got %q, want %q", in, split, block, n, got, want)
					}
				}
			}
		}
	}
}

func TestTail(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	l, _ := newTestLog(t, path, LogPolicy{MaxSize: 100, Backups: 3, Compress: true})
	if got := l.Tail(5); len(got) != 0 {
		t.Fatalf("empty file: %q", got)
	}
	for i := range 35 {
		l.Write(line(i))
	}
	l.waitCompressed()
	for _, c := range []struct {
		n    int
		want []byte
	}{
		{0, nil},
		{1, lines(34, 35)},
		{5, lines(30, 35)},  // exactly the current file
		{7, lines(28, 35)},  // into F.1
		{15, lines(20, 35)}, // all of F and F.1
		{100, lines(20, 35)},
	} {
		if got := l.Tail(c.n); !bytes.Equal(got, c.want) {
			t.Fatalf("Tail(%d) = %q, want %q", c.n, got, c.want)
		}
	}
	l.Write([]byte("no newline"))
	if got, want := l.Tail(2), append(line(34), "no newline"...); !bytes.Equal(got, want) {
		t.Fatalf("Tail(2) = %q, want %q", got, want)
	}
	l.Close()
	if got := l.Tail(1); string(got) != "no newline" {
		t.Fatalf("Tail after Close = %q", got)
	}
}

// Tail right after a rotation: the current file is empty, all comes from F.1.
func TestTailAfterRotationReadsF1(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	l, _ := newTestLog(t, path, LogPolicy{MaxSize: 100, Backups: 1})
	for i := range 10 {
		l.Write(line(i))
	}
	must(t, os.Rename(path, path+".1")) // as a rotation would leave it
	l.Reopen()
	if got := l.Tail(3); !bytes.Equal(got, lines(7, 10)) {
		t.Fatalf("Tail(3) = %q", got)
	}
}

func TestTailLargerThanBlock(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	l, _ := newTestLog(t, path, LogPolicy{})
	const count = 3 * tailBlockSize / 10 // three blocks of lines
	var all []byte
	for i := range count {
		all = append(all, line(i)...)
	}
	l.Write(all)
	for _, n := range []int{1, 10, tailBlockSize / 10, tailBlockSize/10 + 1, count - 1, count, count + 5} {
		if got := l.Tail(n); !bytes.Equal(got, naiveTail(all, n)) {
			t.Fatalf("Tail(%d): %d bytes, want %d", n, len(got), len(naiveTail(all, n)))
		}
	}
}

// ringModel is what a Ring of max bytes should hold after everything in
// written: the last max bytes, moved forward to a line start if one follows
// before the end.
func ringModel(written []byte, max int) []byte {
	cut := len(written) - max
	if cut <= 0 {
		return written
	}
	if written[cut-1] != '\n' {
		if i := bytes.IndexByte(written[cut:], '\n'); i >= 0 && cut+i+1 < len(written) {
			cut += i + 1
		}
	}
	return written[cut:]
}

func TestRing(t *testing.T) {
	t.Parallel()
	r := newRing(100)
	for i := range 25 {
		r.Write(line(i))
	}
	if got := r.Tail(1000); !bytes.Equal(got, lines(15, 25)) {
		t.Fatalf("ring holds %q", got)
	}
	if got := r.Tail(3); !bytes.Equal(got, lines(22, 25)) {
		t.Fatalf("Tail(3) = %q", got)
	}
	// 7-byte lines: 14 whole lines fit, the 15th would be cut, so it goes.
	r = newRing(100)
	var written []byte
	for i := range 40 {
		l := fmt.Appendf(nil, "%06d\n", i)
		written = append(written, l...)
		r.Write(l)
	}
	if got := r.Tail(1000); !bytes.Equal(got, written[len(written)-98:]) {
		t.Fatalf("ring holds %q", got)
	}
	if got := newRing(0); got.maxBytes != defaultRingSize {
		t.Fatalf("default size %d", got.maxBytes)
	}
}

func TestRingMatchesModel(t *testing.T) {
	t.Parallel()
	chunks := []string{"a", "bc\n", "defghij", "\n", "klmnopqrstuvwxyz0123456789\n", "\n\n", "x", "long line ", "continues\nand\nmore\n"}
	for _, max := range []int{1, 5, 10, 16, 40} {
		r := newRing(max)
		var written []byte
		for round := range 30 {
			c := chunks[(round*7)%len(chunks)]
			if round%11 == 10 {
				c = strings.Repeat(c, 9) // bigger than the ring
			}
			written = append(written, c...)
			r.Write([]byte(c))
			want := ringModel(written, max)
			if got := r.Tail(1 << 20); !bytes.Equal(got, want) {
				t.Fatalf("max %d round %d: got %q, want %q", max, round, got, want)
			}
			for n := range 4 {
				if got := r.Tail(n); !bytes.Equal(got, naiveTail(want, n)) {
					t.Fatalf("max %d round %d Tail(%d): got %q", max, round, n, got)
				}
			}
		}
	}
}

// drain returns the chunks waiting in a follower's queue and whether the
// follower has ended. It never blocks.
func drain(f *Follower) (chunks [][]byte, closed bool) {
	chunks, open := f.Take()
	return chunks, !open
}

func TestFollowersAcrossRotationAndReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	l, _ := newTestLog(t, path, LogPolicy{MaxSize: 100, Backups: 2, Compress: true})
	l.Write([]byte("before follow\n"))
	a, b := l.Follow(1<<20), l.Follow(1<<20)
	var want [][]byte
	for i := range 50 {
		p := line(i)
		l.Write(p)
		want = append(want, line(i))
		p[0] = 'X' // the follower got a copy
		if i == 25 {
			l.Reopen()
		}
	}
	b.Close()
	b.Close() // twice is fine
	l.Write([]byte("after b left\n"))
	want = append(want, []byte("after b left\n"))

	gotB, closedB := drain(b)
	if !closedB || b.Dropped() || !slices.EqualFunc(gotB, want[:50], bytes.Equal) {
		t.Fatalf("b: %d chunks, closed %v, dropped %v", len(gotB), closedB, b.Dropped())
	}
	l.Close()
	gotA, closedA := drain(a)
	if !closedA || a.Dropped() || !slices.EqualFunc(gotA, want, bytes.Equal) {
		t.Fatalf("a: %d chunks, closed %v, dropped %v", len(gotA), closedA, a.Dropped())
	}
	if c := l.Follow(1); !isClosed(c) {
		t.Fatalf("Follow after Close should give an ended follower")
	}
}

func isClosed(f *Follower) bool {
	_, closed := drain(f)
	return closed
}

// A follower that never reads is dropped when its queue would exceed its
// byte budget, without slowing the writer; its queue is freed at once. A
// reading follower is unaffected.
func TestSlowFollowerIsDropped(t *testing.T) {
	dir := t.TempDir()
	l, _ := newTestLog(t, filepath.Join(dir, "app.log"), LogPolicy{MaxSize: 1000, Backups: 1})
	r := newRing(100)
	for _, w := range []interface {
		io.Writer
		Follow(int) *Follower
	}{l, r} {
		chunkCost := len(line(0)) + followerChunkCost
		slow := w.Follow(3 * chunkCost) // three chunks fit, the fourth drops it
		fast := w.Follow(1)             // one chunk always fits into an empty queue
		var fastGot [][]byte
		for i := range 1000 { // would block forever if the writer waited
			w.Write(line(i))
			chunks, closed := drain(fast)
			if closed {
				t.Fatalf("reading follower was dropped")
			}
			fastGot = append(fastGot, chunks...)
		}
		if !slow.Dropped() || fast.Dropped() {
			t.Fatalf("slow dropped %v, fast dropped %v", slow.Dropped(), fast.Dropped())
		}
		if got, closed := drain(slow); !closed || len(got) != 0 {
			t.Fatalf("slow follower: %q, closed %v; want ended with its queue freed", got, closed)
		}
		if len(fastGot) != 1000 || !bytes.Equal(fastGot[999], line(999)) {
			t.Fatalf("fast follower got %d chunks", len(fastGot))
		}
		slow.Close() // after a drop: no effect
		fast.Close()
		if !isClosed(fast) {
			t.Fatalf("fast follower still open after Close")
		}
	}
}

// TestFollowerByteBound: the bound is in bytes, not chunks: big chunks drop a
// follower after a few MB, tiny ones count their own cost, and a follower
// that reads in time never falls behind.
func TestFollowerByteBound(t *testing.T) {
	t.Parallel()
	r := newRing(1 << 20)
	big := bytes.Repeat([]byte("x"), 64<<10)
	f := r.Follow(followerMaxBytes)
	fits := followerMaxBytes / (len(big) + followerChunkCost)
	for range fits {
		r.Write(big)
	}
	if f.Dropped() {
		t.Fatalf("dropped after %d chunks of 64 KiB; %d fit into %d bytes", fits, fits, followerMaxBytes)
	}
	r.Write(big)
	if !f.Dropped() {
		t.Fatalf("not dropped after %d chunks of 64 KiB (%d MiB behind)", fits+1, (fits+1)*len(big)>>20)
	}
	tiny := r.Follow(100 * (1 + followerChunkCost))
	for range 100 {
		r.Write([]byte("y"))
	}
	r.Write([]byte("y"))
	if !tiny.Dropped() {
		t.Fatalf("101 one-byte chunks fit into a budget of 100 chunk costs")
	}
	reader := r.Follow(len(big) + followerChunkCost)
	for range 100 {
		r.Write(big)
		if chunks, open := reader.Take(); !open || len(chunks) != 1 {
			t.Fatalf("a follower that reads after every write: %d chunks, open %v", len(chunks), open)
		}
	}
	select {
	case <-reader.Ready():
	default:
		t.Fatalf("Ready has no token although chunks were queued")
	}
}

// Writers, followers, Tail and rotation with compression, all at once; run
// with -race.
func TestConcurrentUse(t *testing.T) {
	dir := t.TempDir()
	l, errs := newTestLog(t, filepath.Join(dir, "app.log"), LogPolicy{MaxSize: 500, Backups: 3, Compress: true})
	f := l.Follow(1 << 20)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 200 {
				l.Write(line(w*1000 + i))
				if i%50 == 0 {
					l.Tail(3)
				}
			}
		})
	}
	wg.Wait()
	l.Close()
	got, closed := drain(f)
	if !closed || len(got) != 800 || errs.count() != 0 || l.Lost() != 0 {
		t.Fatalf("follower %d chunks (closed %v), errors %v, lost %d", len(got), closed, errs.errs, l.Lost())
	}
	for _, name := range dirNames(t, dir) {
		if strings.HasPrefix(name, ".") { // compression's temporary files
			t.Fatalf("left over %s", name)
		}
	}
}

func BenchmarkLogFileWrite(b *testing.B) {
	benchLine := []byte("0123456789abcdefghijklmnopqrstuvwxyz ramona benchmark line\n")
	chunk := bytes.Repeat(benchLine, 1+(64<<10)/len(benchLine))[:64<<10]
	l := openLogFile(filepath.Join(b.TempDir(), "bench.log"), LogPolicy{MaxSize: 50 << 20, Backups: 3}, nil, func(err error) { b.Error(err) })
	b.SetBytes(int64(len(chunk)))
	b.ResetTimer()
	for b.Loop() {
		l.Write(chunk)
	}
	b.StopTimer()
	l.Close()
}
