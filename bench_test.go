// Benchmarks of the paths bench/compare.sh measures from outside: the status
// reply for many programs, as the loop builds it and the connection writes
// it, and as the command line reads and shows it. BenchmarkLoadConfig1000 (config_test.go) is the INI reader's. Timings
// are never assertions; run them with go test -run X -bench . -benchmem.
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// benchSupervisor is a supervisor of n RUNNING programs without processes,
// as the loop holds them once a start has settled.
func benchSupervisor(b *testing.B, n int) *Supervisor {
	b.Helper()
	dir := b.TempDir()
	var conf strings.Builder
	fmt.Fprintf(&conf, "[general]\nlogdir=%s\n", dir)
	for i := range n {
		fmt.Fprintf(&conf, "[program:p%04d]\ncommand=/bin/sleep 100000\nstarttimeout=1\nautorestart=yes\n", i)
	}
	path := filepath.Join(dir, "bench.conf")
	if err := os.WriteFile(path, []byte(conf.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	cfg, err := loadConfig([]string{path}, testEnviron)
	if err != nil {
		b.Fatal(err)
	}
	s := newSupervisor(cfg, testEnviron, &serverLog{w: io.Discard, level: LevelInfo}, nil, "")
	started := time.Now().Add(-time.Hour)
	for i, p := range s.order {
		p.state, p.launches = StateRunning, 1
		// Above any pid_max: no real process is counted as theirs.
		p.inst = &instance{prog: p, pid: 1<<30 + i, pgid: 1<<30 + i, started: started}
		p.pgid = p.inst.pgid
	}
	return s
}

// benchConfig1000 writes the configuration BenchmarkLoadConfig1000 reads.
func benchConfig1000(b *testing.B) string {
	b.Setenv("HOME", b.TempDir())
	var conf strings.Builder
	conf.WriteString("[general]\nappname=bench\nlogdir=log\n[env]\nA=1\nB=\n[ramona:notify]\nlogscan=error>now\n")
	for i := range 1000 {
		fmt.Fprintf(&conf, "[program:p%04d]\ncommand=/usr/bin/worker --id=%d --home=%%(here)s \"$HOME\"\n", i, i)
		fmt.Fprintf(&conf, "priority=%d\nstarttimeout=2s\nautorestart=unexpected\nexitcodes=0,2\nstdout=<logdir>\nstderr=<logdir>\n", i%10)
		fmt.Fprintf(&conf, "killby=TERM,KILL\nlogscan_stdout=panic>now,warn>daily\n\n")
	}
	path := filepath.Join(b.TempDir(), "bench.conf")
	if err := os.WriteFile(path, []byte(conf.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkLoadClientConfig1000 is what `status` reads of a 1000-program
// configuration: everything but the programs (BenchmarkLoadConfig1000 is
// the whole reading).
func BenchmarkLoadClientConfig1000(b *testing.B) {
	path := benchConfig1000(b)
	b.ReportAllocs()
	for b.Loop() {
		cfg, err := loadClientConfig([]string{path}, testEnviron)
		if err != nil || len(cfg.Programs) != 0 || cfg.Console.ServerURI.Scheme == "" && len(cfg.Files) != 1 {
			b.Fatalf("load: %v", err)
		}
	}
}

// BenchmarkStatusEncoding: `status` of 1000 programs, from the request on the
// loop to the reply frame on the connection. Without cgroups (as here) that
// includes one pass over /proc for the programs' CPU and memory, which costs
// as much as the machine has processes.
func BenchmarkStatusEncoding(b *testing.B) {
	s := benchSupervisor(b, 1000)
	c := &clientConn{transport: "unix"}
	b.ReportAllocs()
	size := 0
	for b.Loop() {
		sink := newReplySink()
		s.handle(c, request{Cmd: "status"}, sink)
		items, _ := sink.wait(nil)
		for _, r := range items {
			w := &byteCounter{}
			if err := writeFrame(w, r, maxReplyFrame); err != nil {
				b.Fatal(err)
			}
			size = w.n
		}
	}
	b.ReportMetric(float64(size), "frame-bytes")
}

// byteCounter is a connection that only counts what is written to it.
type byteCounter struct{ n int }

func (w *byteCounter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// BenchmarkStatusClient1000: the command line's part of `status` with 1000
// programs once the reply has come: the frame read and decoded, the list
// decoded, the table written.
func BenchmarkStatusClient1000(b *testing.B) {
	s := benchSupervisor(b, 1000)
	list := make([]programStatus, 0, len(s.order))
	for _, p := range s.order {
		st := s.status(p)
		st.CPUSeconds, st.MemoryBytes, st.Cgroup = 0.01, 1835008, "/sys/fs/cgroup/unified/ramona-bench/"+p.cfg.Name
		list = append(list, st)
	}
	result, err := encodeStatusWire(list)
	if err != nil {
		b.Fatal(err)
	}
	var frame bytes.Buffer
	if err := writeFrame(&frame, reply{ID: 1, Done: true, Result: result}, maxReplyFrame); err != nil {
		b.Fatal(err)
	}
	var out bytes.Buffer
	c := &cmdline{stdout: &out, stderr: io.Discard}
	b.ReportAllocs()
	for b.Loop() {
		var r reply
		if err := readFrame(bytes.NewReader(frame.Bytes()), &r, maxReplyFrame); err != nil {
			b.Fatal(err)
		}
		out.Reset()
		if code := c.showStatus(r, false); code != exitOK || out.Len() == 0 {
			b.Fatalf("status: exit %d, %d bytes", code, out.Len())
		}
	}
	b.ReportMetric(float64(frame.Len()), "frame-bytes")
}
