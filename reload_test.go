//go:build unix

// Tests of reload's one path (reload.go): loads never overlap, each one is
// applied before the next begins, and the configuration applied last is
// the newest, whatever the order in which the reads would have finished.
package main

import (
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

func TestReloadsAreSerializedAndTheLatestWins(t *testing.T) {
	cs, _, _ := inProcessServer(t, "", func(*ctlServer) {})
	s := cs.s
	version := func(name string) *Config {
		dir := t.TempDir()
		conf := filepath.Join(dir, "r.conf")
		text := "[general]\nlogdir=./log\n\n[program:" + name + "]\ncommand=/bin/true\nautostart=no\n"
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := loadConfig([]string{conf}, testEnviron)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	older, newer := version("older"), version("newer")
	firstLoad, release := make(chan struct{}), make(chan struct{})
	var loads, inFlight, overlapped atomic.Int32
	loaded := make(chan func() (*Config, error), 1)
	loaded <- func() (*Config, error) {
		if inFlight.Add(1) > 1 {
			overlapped.Add(1)
		}
		defer inFlight.Add(-1)
		if loads.Add(1) == 1 { // the first read is slow, and reads what was on disk then
			close(firstLoad)
			<-release
			return older, nil
		}
		return newer, nil
	}
	set := make(chan struct{})
	s.post(func() { s.loadFiles = <-loaded; close(set) })
	<-set

	first, second := newReplySink(), newReplySink()
	s.requestReload(reloadRequest{sink: first})
	<-firstLoad
	s.requestReload(reloadRequest{sink: second}) // the file changed again meanwhile
	close(release)
	for i, sink := range []*replySink{first, second} {
		if _, ok := finalReply(sink); !ok {
			t.Fatalf("reload %d got no final reply within 20s", i+1)
		}
	}
	programs := make(chan []string, 1)
	s.post(func() { programs <- namesOf(s.order) })
	if got := <-programs; !slices.Equal(got, []string{"newer"}) {
		t.Errorf("programs after both reloads: %q; want the newer configuration's [newer]", got)
	}
	if n := overlapped.Load(); n > 0 {
		t.Errorf("%d loads overlapped another", n)
	}
	if n := loads.Load(); n != 2 {
		t.Errorf("%d loads for two requests, the second made while the first was read; want 2", n)
	}
}

// finalReply waits (at most 20 s) for the final reply a sink gets; false
// when none came. Any goroutine may call it.
func finalReply(sink *replySink) (reply, bool) {
	timeout := make(chan struct{})
	timer := time.AfterFunc(20*time.Second, func() { close(timeout) })
	defer timer.Stop()
	for {
		items, ok := sink.wait(timeout)
		if !ok {
			return reply{}, false
		}
		for _, r := range items {
			if r.Done {
				return r, true
			}
		}
	}
}
