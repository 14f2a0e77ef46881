// The programs' logs as the loop sees them: programLogs (a program's two
// streams), the registry of LogFiles by path (a file stays open while any
// program or output reader writes it: a reload that keeps the path keeps
// the file, and a grandchild's late output reaches it), and the ordered
// jobs that do their disk work off the loop: opening, banners, reopening,
// closing and its wait for compressions. The loop only queues; results
// that matter to it (a file is closed) are posted back.
package main

import (
	"strings"
	"sync"
)

// programLogs is a program's two streams; when one is merged into the
// other both fields point at the same stream. Banners go to stderr's.
type programLogs struct {
	cfg            *ProgramConfig // the configuration they were opened for
	stdout, stderr *outputStream
	files          []*logFileRef // its log files, once each
	jobs           jobChain      // its disk work, in order
	holds          int           // the program, and each spawn whose output readers still read
}

// logFileRef is one LogFile in the loop's registry (Supervisor.logFiles).
type logFileRef struct {
	path    string
	file    *LogFile
	holders int           // the programLogs that write it
	after   chan struct{} // the previous file of this path, closing when this one was made
	closed  chan struct{} // once its close began: closed when the close is done
}

// jobChain runs functions off the loop one after the other, in the order
// the loop queued them; only the loop queues.
type jobChain struct {
	last chan struct{} // closed when the job queued last is done; nil: none yet
	wg   *sync.WaitGroup
}

// then queues f after the jobs queued before.
func (c *jobChain) then(f func()) {
	prev, done := c.last, make(chan struct{})
	c.last = done
	c.wg.Add(1)
	go func() { // ends after its job, which waits for the one before
		defer c.wg.Done()
		if prev != nil {
			<-prev
		}
		f()
		close(done)
	}()
}

// idle is closed when every job queued so far is done.
func (c *jobChain) idle() <-chan struct{} {
	if c.last == nil {
		return closedChan
	}
	return c.last
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// logsOf returns p's logs for its current configuration, opening them (and
// dropping those of an earlier configuration) when needed.
func (s *Supervisor) logsOf(p *Program) *programLogs {
	if p.logs != nil && p.logs.cfg == p.cfg {
		return p.logs
	}
	old := p.logs
	p.logs = s.openProgramLogs(p.cfg) // before the drop: a file both write stays open
	s.dropLogs(old)
	return p.logs
}

// openProgramLogs makes pc's streams. The files are opened by a job (the
// first write would open them too); a file another program or an earlier
// spawn still writes is shared.
func (s *Supervisor) openProgramLogs(pc *ProgramConfig) *programLogs {
	l := &programLogs{cfg: pc, holds: 1, jobs: jobChain{wg: &s.logJobs}}
	open := func(t OutputTarget, consoleErr bool) *outputStream {
		switch t.Kind {
		case OutFile:
			ref := s.acquireLogFile(t.Path, pc)
			l.files = append(l.files, ref)
			return &outputStream{file: ref.file}
		case OutConsole:
			return &outputStream{ring: newRing(ringSize), console: s.console.writer(pc.Name, consoleErr)}
		}
		return &outputStream{ring: newRing(ringSize)}
	}
	switch {
	case pc.Stdout.Kind == OutMerged:
		l.stderr = open(pc.Stderr, true)
		l.stdout = l.stderr
	case pc.Stderr.Kind == OutMerged:
		l.stdout = open(pc.Stdout, false)
		l.stderr = l.stdout
	default:
		l.stdout = open(pc.Stdout, false)
		l.stderr = open(pc.Stderr, true)
	}
	files := append([]*logFileRef(nil), l.files...)
	name, policy, owners := pc.Name, pc.Log, programOwners(pc)
	l.jobs.then(func() {
		for _, ref := range files {
			if ref.after != nil {
				<-ref.after // the file that had this path before is closed, its compressions done
			}
			path := ref.path
			ref.file.Configure(policy, owners, func(err error) { s.log.Errorf("%s: log file %s: %v", name, path, err) })
			ref.file.Open()
		}
	})
	return l
}

// acquireLogFile is the LogFile of path for one more writer: the open one
// of that path, or a new one (which opens once a closing one is done).
func (s *Supervisor) acquireLogFile(path string, pc *ProgramConfig) *logFileRef {
	ref := s.logFiles[path]
	if ref != nil && ref.closed == nil {
		ref.holders++
		return ref
	}
	fresh := &logFileRef{path: path, file: newLogFile(path, pc.Log, programOwners(pc), nil), holders: 1}
	if ref != nil {
		fresh.after = ref.closed
	}
	s.logFiles[path] = fresh
	return fresh
}

// programOwners is who besides root and the server may own the program's
// log files: its user=, who may have created them before.
func programOwners(pc *ProgramConfig) []int {
	if pc.User == "" {
		return nil
	}
	return []int{int(pc.UID)}
}

// holdLogs: a spawn's output readers write l until they end (dropLogs).
func (s *Supervisor) holdLogs(l *programLogs) { l.holds++ }

// dropLogs: one writer of l is done (the program left these logs behind,
// or a spawn's readers ended). After the last one, once l's jobs are done,
// files nobody else writes are closed, off the loop.
func (s *Supervisor) dropLogs(l *programLogs) {
	if l == nil {
		return
	}
	l.holds--
	if l.holds > 0 {
		return
	}
	l.jobs.then(func() {
		for _, o := range []*outputStream{l.stdout, l.stderr} {
			if o.console != nil {
				o.console.flush()
			}
		}
		s.post(func() { s.releaseLogFiles(l) })
	})
}

// releaseLogFiles closes the files of l that no one else writes; the close
// (which waits for compressions) runs off the loop.
func (s *Supervisor) releaseLogFiles(l *programLogs) {
	for _, ref := range l.files {
		ref.holders--
		if ref.holders > 0 {
			continue
		}
		ref.closed = make(chan struct{})
		s.logJobs.Add(1)
		go func() { // ends when the file is closed and its compressions are done
			defer s.logJobs.Done()
			ref.file.Close()
			close(ref.closed)
			s.post(func() {
				if s.logFiles[ref.path] == ref {
					delete(s.logFiles, ref.path)
				}
			})
		}()
	}
}

// closeLogsAtExit runs after the loop has ended: it waits for the jobs
// still queued (banners, closes) and closes every file still open.
func (s *Supervisor) closeLogsAtExit() {
	s.logJobs.Wait()
	for _, ref := range s.logFiles {
		ref.file.Close()
	}
}

// banner writes text to l's stderr stream, after l's earlier jobs.
func (l *programLogs) banner(text string) {
	l.jobs.then(func() { l.stderr.Write([]byte(text)) })
}

// reopen opens l's files again (after an external rotation), off the loop.
func (l *programLogs) reopen() {
	if l == nil {
		return
	}
	l.jobs.then(func() {
		for _, ref := range l.files {
			ref.file.Reopen()
		}
	})
}

func (l *programLogs) merged() bool { return l.stdout == l.stderr }

func (l *programLogs) stream(name string) *outputStream {
	if name == "stdout" {
		return l.stdout
	}
	return l.stderr
}

// lost is how many bytes of output could not be written; it never waits.
func (l *programLogs) lost() int64 {
	if l == nil {
		return 0
	}
	n := l.stderr.lost()
	if !l.merged() {
		n += l.stdout.lost()
	}
	return n
}

// problem describes what keeps the program's log files from working, one
// line per file, or returns ""; it never waits.
func (l *programLogs) problem() string {
	if l == nil {
		return ""
	}
	text := l.stderr.problem()
	if !l.merged() {
		text = joinLines(l.stdout.problem(), text)
	}
	return text
}

// joinLines joins the non-empty texts with newlines.
func joinLines(texts ...string) string {
	var lines []string
	for _, t := range texts {
		if t != "" {
			lines = append(lines, t)
		}
	}
	return strings.Join(lines, "\n")
}
