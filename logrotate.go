// Logrotate owns the log files ramona writes: LogFile (one program stream or
// the server's own log, with size rotation, gzip of older backups off the
// writing path, lost-byte accounting and self-healing after disk errors, and
// every name opened by safefile's rules, never through a planted link), Ring
// (the in-memory tail of streams that go to <null> or the console), the
// backwards line reader behind Tail, and the Followers behind `tail -f`.
package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// defaultRingSize is the size of the Ring callers keep for a stream that
	// has no log file.
	defaultRingSize = 64 << 10
	// defaultRetryInterval is how often a failing LogFile tries the disk again.
	defaultRetryInterval = time.Second
	// tailBlockSize is how much Tail reads per step when walking a file
	// backwards.
	tailBlockSize = 64 << 10
	// tailMaxBytes bounds one tail: the last n lines, but never more than
	// this many bytes from the end.
	tailMaxBytes = 10 << 20
	// followerMaxBytes is how far behind the output a follower (tail -f,
	// the web frontend's follow) may fall before it is dropped.
	followerMaxBytes = 4 << 20
)

// LogFile is an append-only log at a fixed path. Write never fails toward the
// caller: bytes that cannot reach the disk are counted by Lost, the first
// error of each failure streak goes to onError, and later writes retry the
// disk at most once per retryInterval. Rotation and compression errors are
// reported the same way; a failed rotation keeps writing to the current file.
//
// Rotation: a write that would make the file exceed MaxSize first moves
// F -> F.1 -> F.2 ... A write is never split: a single write larger than
// MaxSize goes whole into a fresh file, which is then over the limit.
// With Compress, backups .2 and older are gzipped by a background
// goroutine (see compressLoop); F.1 always stays plain.
//
// Every name is opened with openSafe: a link, another user's file or a pipe
// planted at the log's name or a backup's is refused (the write counts as
// lost and the refusal is the error of the streak), and the log is retried
// like after any error, so writing resumes once the operator removed it.
// A character device (/dev/null) is written but never rotated.
//
// Lost and Problem never wait for the mutex (a write holds it while the disk
// works): the supervisor's loop reads them for status.
type LogFile struct {
	path string

	// now and retryInterval pace the retries after a failure; tests replace them.
	now           func() time.Time
	retryInterval time.Duration
	// beforeCompress, when set, runs in the compressor goroutine after it has
	// opened a plain backup and before it reads it; tests use it to hold a
	// compression in progress.
	beforeCompress func(plain string)

	lost    atomic.Int64           // bytes that could not be written
	problem atomic.Pointer[string] // what Problem says; nil for nothing

	mu            sync.Mutex
	owners        []int       // who besides root and the server may own the file: a program's user
	onError       func(error) // may be nil; called without mu, also from the compressor goroutine
	policy        LogPolicy
	file          *os.File  // nil while failing, before the first open, or after Close
	device        bool      // file is a character device: no size, no rotation
	size          int64     // bytes in file, counted by Write, never stat'ed per write
	failing       error     // the error that started the current failure streak; nil once a write succeeded
	retryAt       time.Time // while file is nil: earliest next attempt to open
	rotateFailing error     // the rotation error of the current streak; nil once one succeeded
	rotateRetryAt time.Time // after a failed rotation: earliest next attempt
	closed        bool
	shown         [2]error // failing and rotateFailing as problem shows them
	follow        followerSet
	jobs          []*compressJob // pending compressions, oldest first
	compressDone  chan struct{}  // non-nil while a compressor runs; closed when it returns
	discarding    sync.WaitGroup // closes of removed files (see discardLocked)
}

// compressJob is one plain backup waiting for gzip. index follows the backup
// through every shift; pruned marks a backup that rotation deleted meanwhile.
type compressJob struct {
	index  int
	pruned bool
}

// newLogFile is the log at path, not opened yet: the first write (or Open)
// opens it, creating it if needed. The directory must exist; LogFile never
// creates it. owners are the users besides root and the server who may own
// an existing file (a program's user=).
func newLogFile(path string, policy LogPolicy, owners []int, onError func(error)) *LogFile {
	return &LogFile{
		path:          path,
		owners:        owners,
		onError:       onError,
		now:           time.Now,
		retryInterval: defaultRetryInterval,
		policy:        policy,
	}
}

// openLogFile is newLogFile opened now. It never fails: an error goes to
// onError and the file is retried on later writes.
func openLogFile(path string, policy LogPolicy, owners []int, onError func(error)) *LogFile {
	l := newLogFile(path, policy, owners, onError)
	l.Open()
	return l
}

// Open opens the file now unless it is open, failing, or closed.
func (l *LogFile) Open() {
	l.mu.Lock()
	var err error
	if !l.closed && l.file == nil && !l.now().Before(l.retryAt) {
		err = l.openLocked()
	}
	l.publishLocked()
	l.mu.Unlock()
	l.report(err)
}

// Configure changes the rotation settings, who may own the file and where
// errors go; they apply from the next write.
func (l *LogFile) Configure(policy LogPolicy, owners []int, onError func(error)) {
	l.mu.Lock()
	l.policy, l.owners, l.onError = policy, owners, onError
	l.mu.Unlock()
}

// Path returns the path the log is written to.
func (l *LogFile) Path() string { return l.path }

// Lost returns how many bytes could not be written so far.
func (l *LogFile) Lost() int64 { return l.lost.Load() }

// failure is the error of the current failure streak, nil while writing works.
func (l *LogFile) failure() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failing
}

// Problem describes what keeps the log from working as configured now (it
// cannot be written, or it cannot rotate), or returns "".
func (l *LogFile) Problem() string {
	if p := l.problem.Load(); p != nil {
		return *p
	}
	return ""
}

// publishLocked makes Problem say the current failure, when it changed.
func (l *LogFile) publishLocked() {
	now := [2]error{l.failing, l.rotateFailing}
	if l.closed {
		now = [2]error{}
	}
	if now == l.shown {
		return
	}
	l.shown = now
	switch {
	case now[0] != nil:
		text := fmt.Sprintf("log file %s: %v", l.path, now[0])
		l.problem.Store(&text)
	case now[1] != nil:
		text := fmt.Sprintf("log file %s: %v", l.path, now[1])
		l.problem.Store(&text)
	default:
		l.problem.Store(nil)
	}
}

// Write appends p to the file, rotating first if needed, and copies p to the
// followers. It always returns len(p), nil.
func (l *LogFile) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	l.mu.Lock()
	err := l.writeLocked(p)
	if len(l.follow.list) > 0 {
		l.follow.broadcast(p)
	}
	l.publishLocked()
	l.mu.Unlock()
	if err != nil {
		l.report(err)
	}
	return len(p), nil
}

// writeLocked does the disk part of Write. It returns the error to report,
// if this write starts a failure streak.
func (l *LogFile) writeLocked(p []byte) error {
	if l.closed {
		l.lost.Add(int64(len(p)))
		return nil
	}
	if l.file == nil {
		if l.now().Before(l.retryAt) {
			l.lost.Add(int64(len(p)))
			return nil
		}
		if err := l.openLocked(); err != nil {
			l.lost.Add(int64(len(p)))
			return err
		}
	}
	var rotateErr error
	if l.policy.MaxSize > 0 && !l.device && l.size > 0 && l.size+int64(len(p)) > l.policy.MaxSize &&
		!l.now().Before(l.rotateRetryAt) {
		rotateErr = l.rotateLocked()
		if l.file == nil { // the fresh file could not be opened
			l.lost.Add(int64(len(p)))
			return rotateErr
		}
	}
	n, err := l.file.Write(p)
	l.size += int64(n)
	if err != nil {
		l.lost.Add(int64(len(p) - n))
		return errors.Join(rotateErr, l.failLocked(err))
	}
	l.failing = nil
	return rotateErr
}

// openLocked opens the path for appending. On failure the LogFile is left
// without a file and the error is returned if it starts a streak.
func (l *LogFile) openLocked() error {
	f, err := openSafe(l.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, l.policy.fileMode(), l.owners...)
	if err != nil {
		return l.failLocked(err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return l.failLocked(err)
	}
	l.file = f
	l.device = !info.Mode().IsRegular()
	l.size = info.Size()
	return nil
}

// failLocked closes the file so the next attempt reopens the path, schedules
// that attempt, and returns err only if it is the first of a streak.
func (l *LogFile) failLocked(err error) error {
	if l.file != nil {
		l.file.Close()
		l.file = nil
	}
	l.retryAt = l.now().Add(l.retryInterval)
	if l.failing != nil {
		return nil
	}
	l.failing = fmt.Errorf("%w; output is counted as lost until writing works again", err)
	return l.failing
}

// report hands err to onError; it must be called without mu held.
func (l *LogFile) report(err error) {
	if err == nil {
		return
	}
	l.mu.Lock()
	onError := l.onError
	l.mu.Unlock()
	if onError != nil {
		onError(err)
	}
}

// Reopen closes the file and opens the path again, creating it if it was
// moved away or deleted. Use it after an external rotation (SIGHUP).
func (l *LogFile) Reopen() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	if l.file != nil {
		l.file.Close()
		l.file = nil
	}
	err := l.openLocked()
	l.publishLocked()
	l.mu.Unlock()
	l.report(err)
}

// Close closes the file and every follower's channel, then waits for a
// running compression to finish. Later writes are counted as lost.
func (l *LogFile) Close() error {
	l.mu.Lock()
	var err error
	if !l.closed {
		l.closed = true
		if l.file != nil {
			err = l.file.Close()
			l.file = nil
		}
		l.follow.closeAll()
		l.publishLocked()
	}
	l.mu.Unlock()
	l.waitCompressed()
	l.discarding.Wait()
	return err
}

// waitCompressed returns once no compressor goroutine is running, that is
// when every pending compression is done.
func (l *LogFile) waitCompressed() {
	for {
		l.mu.Lock()
		done := l.compressDone
		l.mu.Unlock()
		if done == nil {
			return
		}
		<-done
	}
}

// backupName is the name of backup number index, plain or gzipped.
func (l *LogFile) backupName(index int, gzipped bool) string {
	name := l.path + "." + strconv.Itoa(index)
	if gzipped {
		name += ".gz"
	}
	return name
}

// backupFiles says which forms of one backup number exist on disk.
type backupFiles struct {
	index   int
	plain   bool
	gzipped bool
}

// listBackups returns the backups present on disk, highest number first.
func (l *LogFile) listBackups() ([]backupFiles, error) {
	entries, err := os.ReadDir(filepath.Dir(l.path))
	if err != nil {
		return nil, err
	}
	prefix := filepath.Base(l.path) + "."
	found := map[int]*backupFiles{}
	for _, entry := range entries {
		rest, ok := strings.CutPrefix(entry.Name(), prefix)
		if !ok {
			continue
		}
		digits, gzipped := strings.CutSuffix(rest, ".gz")
		index, err := strconv.Atoi(digits)
		if err != nil || index < 1 || strconv.Itoa(index) != digits {
			continue
		}
		b := found[index]
		if b == nil {
			b = &backupFiles{index: index}
			found[index] = b
		}
		if gzipped {
			b.gzipped = true
		} else {
			b.plain = true
		}
	}
	backups := make([]backupFiles, 0, len(found))
	for _, b := range found {
		backups = append(backups, *b)
	}
	slices.SortFunc(backups, func(a, b backupFiles) int { return b.index - a.index })
	return backups, nil
}

// rotateLocked rotates and opens a fresh file. If the renames fail, writing
// continues to the current file (over MaxSize), the next attempt waits for
// retryInterval, and the error is returned only if it starts a streak of
// rotation failures. If the fresh file cannot be opened the LogFile fails as
// for any open error.
func (l *LogFile) rotateLocked() error {
	backups, err := l.shiftLocked()
	if err != nil {
		l.rotateRetryAt = l.now().Add(l.retryInterval)
		if l.rotateFailing != nil {
			return nil
		}
		l.rotateFailing = fmt.Errorf("rotate: %w; writing on to the current file", err)
		return l.rotateFailing
	}
	l.rotateFailing = nil
	if l.policy.Backups == 0 { // shiftLocked removed it
		l.closeLater(l.file)
	} else {
		l.file.Close()
	}
	l.file = nil
	err = l.openLocked()
	if l.policy.Compress {
		l.queueCompressionsLocked(backups)
	}
	return err
}

// shiftLocked shifts the backups up by one (deleting those that would go
// beyond Backups) and moves the file to F.1, or deletes it if Backups is 0.
// It returns the backups as they were before the shift. Every rename happens
// under mu, so numbering is always consistent; the compressor reads from a
// descriptor it opened under mu and names a file again only under mu, when it
// publishes its result. The first failed rename stops the shift.
func (l *LogFile) shiftLocked() ([]backupFiles, error) {
	backups, err := l.listBackups()
	if err != nil {
		return nil, err
	}
	keep := l.policy.Backups
	for _, b := range backups {
		if keep >= 0 && b.index+1 > keep {
			l.removeBackupLocked(b)
			continue
		}
		if b.gzipped {
			if err := os.Rename(l.backupName(b.index, true), l.backupName(b.index+1, true)); err != nil {
				return nil, err
			}
		}
		if b.plain {
			if err := os.Rename(l.backupName(b.index, false), l.backupName(b.index+1, false)); err != nil {
				return nil, err
			}
			for _, job := range l.jobs {
				if job.index == b.index && !job.pruned {
					job.index++
				}
			}
		}
	}
	if keep == 0 {
		err = os.Remove(l.path)
	} else {
		err = os.Rename(l.path, l.backupName(1, false))
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return backups, nil
}

// removeBackupLocked deletes a backup that a shift would push beyond Backups.
// A compression still working on it is told to throw its result away.
func (l *LogFile) removeBackupLocked(b backupFiles) {
	if b.plain {
		l.discardLocked(l.backupName(b.index, false))
		for _, job := range l.jobs {
			if job.index == b.index {
				job.pruned = true
			}
		}
	}
	if b.gzipped {
		l.discardLocked(l.backupName(b.index, true))
	}
}

// discardLocked removes the backup at name. Freeing a large file's pages
// and blocks takes milliseconds (4 to 8 ms for 50 MB here), and a rotation
// happens in the middle of a program's output; the kernel frees a removed
// file at its last close, so where the platform allows (openToDiscard) the
// file is opened first, its name removed now, and the close left to a
// goroutine of its own. Numbering stays exact: the name is gone before the
// shift goes on.
func (l *LogFile) discardLocked(name string) {
	f := openToDiscard(name, l.owners)
	os.Remove(name)
	if f != nil {
		l.closeLater(f)
	}
}

// closeLater closes f on a goroutine of its own; Close waits for it.
func (l *LogFile) closeLater(f *os.File) {
	l.discarding.Add(1)
	go func() { // ends with the close
		defer l.discarding.Done()
		f.Close()
	}()
}

// queueCompressionsLocked queues every plain backup numbered 2 or more that
// has no job yet (the one that just left F.1, and any left over from a policy
// change or a crash), and starts the compressor if it is not running.
func (l *LogFile) queueCompressionsLocked(shifted []backupFiles) {
	for _, b := range shifted {
		index := b.index + 1
		if !b.plain || index < 2 || (l.policy.Backups >= 0 && index > l.policy.Backups) {
			continue
		}
		queued := slices.ContainsFunc(l.jobs, func(job *compressJob) bool {
			return job.index == index && !job.pruned
		})
		if !queued {
			l.jobs = append(l.jobs, &compressJob{index: index})
		}
	}
	if len(l.jobs) > 0 && l.compressDone == nil {
		l.compressDone = make(chan struct{})
		go l.compressLoop(l.compressDone)
	}
}

// compressLoop gzips queued backups one at a time until the queue is empty.
// For each job it opens the plain backup under mu (so no shift can move the
// name between choosing and opening), then reads the descriptor without mu
// while writes and rotations go on: a shift renames the plain file, which does
// not disturb an open descriptor, and bumps job.index. The result goes to a
// temporary name that shifts never touch (a dot file with a random part,
// so nothing planted at a known name is ever opened); under mu again it is
// renamed to F.<current index>.gz and only then is the plain backup removed.
// A backup that openSafe refuses (a planted link) is reported and left alone.
func (l *LogFile) compressLoop(done chan struct{}) {
	defer close(done)
	for {
		l.mu.Lock()
		for len(l.jobs) > 0 && l.jobs[0].pruned {
			l.jobs = l.jobs[1:]
		}
		if len(l.jobs) == 0 {
			l.jobs = nil
			l.compressDone = nil
			l.mu.Unlock()
			return
		}
		job := l.jobs[0]
		plainName, gzName := l.backupName(job.index, false), l.backupName(job.index, true)
		source, err := openSafe(plainName, os.O_RDONLY, 0, l.owners...)
		hook := l.beforeCompress
		l.mu.Unlock()

		tmpName := ""
		if err == nil {
			if hook != nil {
				hook(plainName)
			}
			tmpName, err = gzipNextTo(gzName, source) // only names the temporary file
			source.Close()
		} else if errors.Is(err, os.ErrNotExist) {
			err = nil // removed by someone else: nothing to do
		}

		l.mu.Lock()
		l.jobs = slices.DeleteFunc(l.jobs, func(j *compressJob) bool { return j == job })
		switch {
		case tmpName == "":
		case err != nil || job.pruned:
			os.Remove(tmpName)
		default:
			err = os.Rename(tmpName, l.backupName(job.index, true))
			if err == nil {
				err = os.Remove(l.backupName(job.index, false))
			} else {
				os.Remove(tmpName)
			}
		}
		l.mu.Unlock()
		if err != nil {
			l.report(fmt.Errorf("compress %s: %w; the backup stays as it is", plainName, err))
		}
	}
}

// gzipNextTo writes the gzip of source to a new temporary file next to
// name (unpredictable, created with O_EXCL, with source's mode) and returns
// the temporary file's name; the caller renames it to name.
func gzipNextTo(name string, source *os.File) (string, error) {
	perm := defaultLogMode
	if fi, err := source.Stat(); err == nil {
		perm = fi.Mode().Perm()
	}
	out, err := newTempFile(name, perm)
	if err != nil {
		return "", err
	}
	zw := gzip.NewWriter(out)
	_, err = io.Copy(zw, source)
	if closeErr := zw.Close(); err == nil {
		err = closeErr
	}
	if closeErr := out.Close(); err == nil {
		err = closeErr
	}
	return out.Name(), err
}

// TailReader returns the last n lines of the log, reading the current file
// backwards and continuing into F.1 when the current file holds fewer than n
// lines, but never more than tailMaxBytes from the end; cut says that the n
// lines reached further back (see tailStart). The reader reads the files as
// they are now (a rotation meanwhile does not disturb it); close it when
// done. Gzipped backups are not read. A last line without '\n' counts.
func (l *LogFile) TailReader(n int) (r io.ReadCloser, cut bool) {
	if n <= 0 {
		return io.NopCloser(bytes.NewReader(nil)), false
	}
	// Open both names under mu so a rotation cannot slip between them; the
	// size taken now bounds what is read from the current file.
	l.mu.Lock()
	var sources []tailSource
	var files multiCloser
	for _, name := range []string{l.path, l.backupName(1, false)} {
		f, err := openSafe(name, os.O_RDONLY, 0, l.owners...)
		if err != nil {
			continue
		}
		files = append(files, f)
		info, err := f.Stat()
		if err != nil {
			continue
		}
		sources = append(sources, tailSource{f, info.Size()})
	}
	l.mu.Unlock()
	start, cut := tailStart(sources, n, tailMaxBytes, tailBlockSize)
	return struct {
		io.Reader
		io.Closer
	}{tailFrom(sources, start), files}, cut
}

// Tail is TailReader read into memory.
func (l *LogFile) Tail(n int) []byte {
	r, _ := l.TailReader(n)
	defer r.Close()
	data, _ := io.ReadAll(r)
	return data
}

// multiCloser closes every file it holds.
type multiCloser []*os.File

func (m multiCloser) Close() error {
	for _, f := range m {
		f.Close()
	}
	return nil
}

// Follow attaches a follower that receives a copy of every chunk written from
// now on, until it falls maxBytes behind; see Follower. After Close the
// follower has already ended.
func (l *LogFile) Follow(maxBytes int) *Follower {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := newFollower(&l.mu, &l.follow, maxBytes)
	if l.closed {
		f.end()
	} else {
		l.follow.list = append(l.follow.list, f)
	}
	return f
}

// tailSource is one file (or buffer) of the stream with the size to read.
type tailSource struct {
	r    io.ReaderAt
	size int64
}

// tailPos is a place in a stream made of tailSources: a byte of one of them.
type tailPos struct {
	source int // index in the sources, newest first
	offset int64
}

// tailStart finds where the last n lines of the stream begin; sources are its
// pieces, newest first. It reads backwards in blocks of blockSize, so memory
// is one block, and never further than maxBytes from the end (and the byte
// before, which tells whether they start at a line): when the n lines reach
// further back, the start is the first line that begins within maxBytes of
// the end, or exactly maxBytes back (mid-line) when no line begins there,
// and cut is true. A last line without '\n' counts.
func tailStart(sources []tailSource, n int, maxBytes int64, blockSize int) (start tailPos, cut bool) {
	if len(sources) == 0 {
		return tailPos{}, false
	}
	if n <= 0 {
		return tailPos{source: 0, offset: sources[0].size}, false // nothing: from the end
	}
	limit := maxBytes + 1
	newlines := 0
	var back int64         // bytes examined, from the end
	var lineStart *tailPos // the earliest line start seen
	atEnd := true          // the next byte examined is the very last of the stream
	buf := make([]byte, blockSize)
	for i, src := range sources {
		end := src.size
		for end > 0 && back < limit {
			begin := max(end-int64(blockSize), 0, end-(limit-back))
			block := buf[:end-begin]
			if _, err := src.r.ReadAt(block, begin); err != nil && err != io.EOF {
				return tailPos{source: i, offset: end}, false // what could be read so far
			}
			rest := block
			if atEnd {
				atEnd = false
				if rest[len(rest)-1] == '\n' {
					rest = rest[:len(rest)-1] // ends the last line, starts none
				}
			}
			for {
				j := bytes.LastIndexByte(rest, '\n')
				if j < 0 {
					break
				}
				newlines++
				lineStart = &tailPos{source: i, offset: begin + int64(j) + 1}
				if newlines == n {
					return *lineStart, false
				}
				rest = rest[:j]
			}
			back += end - begin
			end = begin
		}
		if back >= limit {
			break
		}
	}
	switch {
	case back <= maxBytes: // the whole stream fits
		return tailPos{source: len(sources) - 1}, false
	case lineStart != nil:
		return *lineStart, true
	}
	return tailPosAt(sources, maxBytes), true
}

// tailPosAt is the place dist bytes before the end of the stream.
func tailPosAt(sources []tailSource, dist int64) tailPos {
	for i, src := range sources {
		if dist <= src.size {
			return tailPos{source: i, offset: src.size - dist}
		}
		dist -= src.size
	}
	return tailPos{source: len(sources) - 1}
}

// tailFrom reads the stream from start to its end.
func tailFrom(sources []tailSource, start tailPos) io.Reader {
	var readers []io.Reader
	for i := min(start.source, len(sources)-1); i >= 0; i-- {
		var from int64
		if i == start.source {
			from = start.offset
		}
		readers = append(readers, io.NewSectionReader(sources[i].r, from, sources[i].size-from))
	}
	return io.MultiReader(readers...)
}

// lastLines returns the last n lines (at most tailMaxBytes) of the stream
// whose pieces are sources, newest first.
func lastLines(sources []tailSource, n int, blockSize int) []byte {
	start, _ := tailStart(sources, n, tailMaxBytes, blockSize)
	data, _ := io.ReadAll(tailFrom(sources, start))
	return data
}

// Ring keeps the last bytes of a stream that has no log file. When it must
// drop, it drops the oldest whole lines if a line boundary allows, so the
// buffer starts at a line start whenever possible. Ring has its own mutex
// because the stream's writer and the readers (Tail, Follow) are different
// goroutines.
type Ring struct {
	maxBytes int

	mu     sync.Mutex
	buf    []byte // at most 2*maxBytes long; live data is buf[start:]
	start  int
	follow followerSet
}

// newRing returns a Ring that keeps up to maxBytes bytes (defaultRingSize if
// maxBytes is not positive).
func newRing(maxBytes int) *Ring {
	if maxBytes <= 0 {
		maxBytes = defaultRingSize
	}
	return &Ring{maxBytes: maxBytes} // the buffer grows with use: a quiet program costs nothing
}

// Write keeps p (or its last maxBytes bytes) and copies it to the followers.
// It always returns len(p), nil.
func (r *Ring) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.mu.Lock()
	r.appendLocked(p)
	if len(r.follow.list) > 0 {
		r.follow.broadcast(p)
	}
	r.mu.Unlock()
	return len(p), nil
}

// appendLocked adds p and trims to maxBytes. Compaction copies at most
// maxBytes once per maxBytes written, so the cost per byte is constant.
func (r *Ring) appendLocked(p []byte) {
	if len(p) > r.maxBytes {
		// Only the last maxBytes of p survive; keep the byte before them too,
		// as it tells whether they start a line.
		r.buf = append(r.buf[:0], p[len(p)-r.maxBytes-1:]...)
		r.dropToLocked(1)
		return
	}
	if len(r.buf)+len(p) > 2*r.maxBytes {
		r.buf = r.buf[:copy(r.buf, r.buf[r.start:])]
		r.start = 0
	}
	r.buf = append(r.buf, p...)
	if len(r.buf)-r.start > r.maxBytes {
		r.dropToLocked(len(r.buf) - r.maxBytes)
	}
}

// dropToLocked starts the live data at cut or, if cut is mid-line and a line
// starts later before the end, at that line.
func (r *Ring) dropToLocked(cut int) {
	if r.buf[cut-1] != '\n' {
		if i := bytes.IndexByte(r.buf[cut:], '\n'); i >= 0 && cut+i+1 < len(r.buf) {
			cut += i + 1
		}
	}
	r.start = cut
}

// Tail returns the last n lines kept; a last line without '\n' counts.
func (r *Ring) Tail(n int) []byte {
	if n <= 0 {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	live := r.buf[r.start:]
	return lastLines([]tailSource{{bytes.NewReader(live), int64(len(live))}}, n, len(live)+1)
}

// TailReader is Tail as a reader; a Ring never holds more than tailMaxBytes.
func (r *Ring) TailReader(n int) (io.ReadCloser, bool) {
	return io.NopCloser(bytes.NewReader(r.Tail(n))), false
}

// Follow attaches a follower that receives a copy of every chunk written from
// now on, until it falls maxBytes behind; see Follower.
func (r *Ring) Follow(maxBytes int) *Follower {
	r.mu.Lock()
	defer r.mu.Unlock()
	f := newFollower(&r.mu, &r.follow, maxBytes)
	r.follow.list = append(r.follow.list, f)
	return f
}

// Follower receives every chunk written to a LogFile or Ring after Follow.
// It is attached to the writer object, so it survives rotation and Reopen.
// Chunks wait in its queue until the reader takes them (Ready, Take). A
// follower that falls more than maxBytes behind (its queue's bytes, plus
// followerChunkCost per chunk so that tiny writes count too) is dropped at
// once rather than slowing the writer or growing: its queue is emptied,
// Dropped reports true, and Take says it ended. Close (of the follower or of
// the writer) ends it too, after the chunks already queued.
type Follower struct {
	owner    *sync.Mutex  // the writer's mutex; guards set
	set      *followerSet // the writer's followers
	maxBytes int
	ready    chan struct{} // holds a token when Take has something to say

	mu      sync.Mutex // guards the fields below; taken after owner, never before
	queue   [][]byte
	queued  int // bytes in queue, plus followerChunkCost per chunk
	ended   bool
	dropped bool
}

// followerChunkCost is what one queued chunk costs beyond its bytes (its
// slice and allocation), counted against a follower's maxBytes.
const followerChunkCost = 64

// followerSet is the followers of one writer, guarded by the writer's mutex.
type followerSet struct {
	list []*Follower
}

func newFollower(owner *sync.Mutex, set *followerSet, maxBytes int) *Follower {
	return &Follower{owner: owner, set: set, maxBytes: max(maxBytes, 1), ready: make(chan struct{}, 1)}
}

// Ready has a value whenever Take has chunks or news of the end.
func (f *Follower) Ready() <-chan struct{} { return f.ready }

// Take returns the chunks queued so far, oldest first; open is false once
// the follower has ended (these are then its last chunks, if any).
func (f *Follower) Take() (chunks [][]byte, open bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	chunks, f.queue, f.queued = f.queue, nil, 0
	return chunks, !f.ended
}

// Dropped reports whether the follower was dropped for reading too slowly.
func (f *Follower) Dropped() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dropped
}

// Close detaches the follower and ends it; it is safe to call more than
// once and after the follower was dropped.
func (f *Follower) Close() {
	f.owner.Lock()
	defer f.owner.Unlock()
	if f.set.remove(f) {
		f.end()
	}
}

// push queues chunk, or drops the follower when that would put it more than
// maxBytes behind (a chunk into an empty queue always fits); false when the
// follower has ended and must leave the set.
func (f *Follower) push(chunk []byte) bool {
	f.mu.Lock()
	defer f.wake()
	defer f.mu.Unlock()
	if f.ended {
		return false
	}
	cost := len(chunk) + followerChunkCost
	if f.queued > 0 && f.queued+cost > f.maxBytes {
		f.queue, f.queued = nil, 0
		f.dropped, f.ended = true, true
		return false
	}
	f.queue = append(f.queue, chunk)
	f.queued += cost
	return true
}

// end marks the follower ended and wakes its reader.
func (f *Follower) end() {
	f.mu.Lock()
	f.ended = true
	f.mu.Unlock()
	f.wake()
}

func (f *Follower) wake() {
	select {
	case f.ready <- struct{}{}:
	default:
	}
}

// remove takes f out of the set and reports whether it was there.
func (s *followerSet) remove(f *Follower) bool {
	i := slices.Index(s.list, f)
	if i < 0 {
		return false
	}
	s.list = slices.Delete(s.list, i, i+1)
	return true
}

// broadcast queues one copy of p, shared by every follower, and drops those
// that fell too far behind. The writer's mutex is held.
func (s *followerSet) broadcast(p []byte) {
	chunk := bytes.Clone(p) // the followers only read it
	s.list = slices.DeleteFunc(s.list, func(f *Follower) bool { return !f.push(chunk) })
}

// closeAll ends every follower and empties the set.
func (s *followerSet) closeAll() {
	for _, f := range s.list {
		f.end()
	}
	s.list = nil
}
