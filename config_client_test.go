// The command line's reading for commands the server resolves names for
// (status, tail, who): the programs are left to the server, everything the
// client needs to reach it is read as always.
package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestClientConfigLeavesProgramsToTheServer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "r.conf")
	conf := "[ramona:console]\nserveruri=unix://" + dir + "/r.sock\n[program:a]\ncommand=/bin/true\n[program:b]\ncommand=\n[tool:t]\ncommand=/bin/true\n"
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	full, err := loadConfig([]string{path}, testEnviron)
	if err != nil || len(full.Programs) != 2 {
		t.Fatalf("the whole reading: %v, %d programs", err, len(full.Programs))
	}
	cl, err := loadClientConfig([]string{path}, testEnviron)
	if err != nil {
		t.Fatal(err)
	}
	if len(cl.Programs) != 0 || len(cl.Tools) != 1 || cl.Console.ServerURI != full.Console.ServerURI {
		t.Fatalf("client reading: %d programs, %d tools, server %v; want 0, 1, %v", len(cl.Programs), len(cl.Tools), cl.Console.ServerURI, full.Console.ServerURI)
	}
}
