//go:build windows

// A tiny test package compiled with GOOS=windows and run under Wine, to see
// how `go test -c` binaries and `go test -exec wine` pass output and exit
// codes back to Linux. testdata/windows/run-probes runs it.
package gotest

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"
)

func TestPass(t *testing.T) {
	t.Logf("running on %s/%s", runtime.GOOS, runtime.GOARCH)
	fmt.Println("stdout line from TestPass")
	fmt.Fprintln(os.Stderr, "stderr line from TestPass")
}

func TestFail(t *testing.T) {
	if os.Getenv("PROBE_FAIL") == "" {
		t.Skip("PROBE_FAIL unset")
	}
	t.Error("fails on purpose")
}

func TestExitCode(t *testing.T) {
	if s := os.Getenv("PROBE_EXIT"); s != "" {
		n, _ := strconv.Atoi(s)
		os.Exit(n)
	}
}

func TestTempDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(dir+`\f`, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("t.TempDir() = %s", dir)
}
