//go:build unix

// Tests of the programs' logs as the loop holds them (logfiles.go): the
// loop goes on answering while a log's backup is being compressed and a
// reload takes the program away; a grandchild's output after a reload
// reaches the log file the program keeps.
package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLoopAnswersWhileARemovedProgramsLogCompresses: a large log has
// rotated and the compression of its backup is held; a reload removes the
// program, whose log must be closed, which waits for that compression.
// Both the reload and a status are answered before the compression may go
// on: the order of events, not a time, is what is checked.
func TestLoopAnswersWhileARemovedProgramsLogCompresses(t *testing.T) {
	cs, _, _ := inProcessServer(t, "[program:big]\ncommand=/bin/true\nlogmaxsize=2MiB\nlogbackups=3\nlogcompress=on\n", func(*ctlServer) {})
	s := cs.s
	held, release := make(chan string, 1), make(chan struct{})
	got := make(chan *LogFile, 1)
	s.post(func() {
		l := s.logsOf(s.progs["big"]).stderr.file
		l.beforeCompress = func(plain string) {
			held <- plain
			<-release
		}
		got <- l
	})
	log := <-got
	chunk := []byte(strings.Repeat("x", 1023) + "\n")
	for range 8 << 10 { // 8 MiB through 2 MiB files: .1 and .2, and .2 goes to gzip
		log.Write(chunk)
	}
	var plain string
	select {
	case plain = <-held:
	case <-time.After(20 * time.Second):
		t.Fatal("no compression began after four rotations")
	}

	if err := os.WriteFile(s.files[0], []byte("[general]\nlogdir=./log\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	reloaded, status := newReplySink(), newReplySink()
	s.requestReload(reloadRequest{sink: reloaded})
	s.post(func() { s.handle(&clientConn{}, request{Cmd: "status"}, status) })
	for what, sink := range map[string]*replySink{"reload": reloaded, "status": status} {
		r, ok := finalReply(sink)
		if !ok {
			close(release)
			t.Fatalf("the loop did not answer %s while a compression was held", what)
		}
		var list []programStatus
		json.Unmarshal(r.Result, &list)
		t.Logf("%s answered while %s waits for gzip: exit %d %s, %d programs", what, filepath.Base(plain), r.Exit, r.Error, len(list))
	}
	if _, err := os.Stat(plain + ".gz"); err == nil {
		t.Errorf("%s.gz exists before its compression was let go", plain)
	}
	close(release)
	waitFor(t, plain+".gz", 20*time.Second, func() bool { _, err := os.Stat(plain + ".gz"); return err == nil })
	waitFor(t, "the log to be closed and forgotten", 20*time.Second, func() bool {
		n := make(chan int, 1)
		s.post(func() { n <- len(s.logFiles) })
		return <-n == 0
	})
}
