// The Windows port under Wine: TestWindowsUnderWine cross-compiles this
// package's tests for windows/amd64 and runs their ^TestWin tests in a
// cached Wine prefix (.ci/wine-setup); TestWineServerRefusesOtherUsers
// attacks a Wine-hosted server's tcp port as a throwaway Linux user.
package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// winePrefix is the prefix the Wine tests share: RAMONA_WINEPREFIX, else
// one in the user's cache directory (made once, 20-40 s; checked in 1-2 s).
func winePrefix(t *testing.T) string {
	t.Helper()
	needPeer(t, "wine", "wine")
	needPeer(t, "wineserver", "wine")
	needPeer(t, "x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64-win32")
	prefix := os.Getenv("RAMONA_WINEPREFIX")
	if prefix == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			t.Fatal(err)
		}
		prefix = filepath.Join(cache, "ramona-wine")
	}
	// Without RAMONA_TEST_ID: the persistent wineserver and Wine's system
	// processes outlive the test by design.
	cmd := exec.Command("./.ci/wine-setup", prefix)
	cmd.Env = wineEnv(prefix, "")
	cmd.WaitDelay = 10 * time.Second
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf(".ci/wine-setup %s: %v\n%s", prefix, err, out)
	}
	return prefix
}

// wineEnv is this environment for a Wine command in prefix, with
// RAMONA_TEST_ID=id unless id is "".
func wineEnv(prefix, id string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RAMONA_TEST_ID=") && !strings.HasPrefix(kv, "WINEPREFIX=") && !strings.HasPrefix(kv, "WINEDEBUG=") {
			env = append(env, kv)
		}
	}
	env = append(env, "WINEPREFIX="+prefix, "WINEDEBUG=-all,err+all", "WINEDLLOVERRIDES=mscoree,mshtml=;winemenubuilder.exe=d")
	if id != "" {
		env = append(env, "RAMONA_TEST_ID="+id)
	}
	return env
}

// needWindowsTestBinary cross-compiles this package's tests for
// windows/amd64 into the test's temporary directory (the go build cache
// makes a second build a link).
func needWindowsTestBinary(t *testing.T) string {
	t.Helper()
	exe := filepath.Join(t.TempDir(), "ramona.test.exe")
	goTool, err := exec.LookPath("go") // go test puts its GOROOT/bin first on PATH
	if err != nil {
		t.Fatalf("the go command, to cross-compile the Windows tests: %v", err)
	}
	cmd := exec.Command(goTool, "test", "-c", "-o", exe, ".")
	cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go test -c for windows/amd64: %v\n%s", err, out)
	}
	return exe
}

// TestWindowsUnderWine runs the ^TestWin tests of the windows test binary in
// Wine; their output is this test's log.
func TestWindowsUnderWine(t *testing.T) {
	skipInShort(t, "Wine (the Windows tests cross-compiled and run in a Wine prefix)")
	t.Parallel() // mostly waits for Wine
	prefix := winePrefix(t)
	exe := needWindowsTestBinary(t)
	id := newLeftoverCheck(t)
	cmd := exec.Command("wine", exe, "-test.run", "^TestWin", "-test.v", "-test.timeout", "5m")
	cmd.Env = wineEnv(prefix, id)
	cmd.Dir = filepath.Dir(exe)
	cmd.WaitDelay = 10 * time.Second // Wine processes must not hold the test on a pipe
	out, err := cmd.CombinedOutput()
	t.Logf("wine %s -test.run ^TestWin -test.v:\n%s", filepath.Base(exe), out)
	if err != nil {
		t.Fatalf("the Windows tests failed under Wine: %v", err)
	}
	for _, name := range []string{"TestWinStartStatusStop", "TestWinTreeKilledWithJob", "TestWinRestartAfterCrash", "TestWinLogRotation", "TestWinService"} {
		if !bytes.Contains(out, []byte("--- PASS: "+name+" ")) {
			t.Errorf("%s did not pass under Wine", name)
		}
	}
}

// TestWineServerRefusesOtherUsers: a Windows server in Wine listening on
// tcp loopback refuses a Linux process of another user (Wine lists its
// socket with no Windows process), and serves its own Windows user.
func TestWineServerRefusesOtherUsers(t *testing.T) {
	skipInShort(t, "Wine (a Windows server in a Wine prefix)")
	t.Parallel() // mostly waits for Wine
	attacker := newThrowawayUser(t)
	prefix := winePrefix(t)
	exe := needWindowsTestBinary(t)
	id := newLeftoverCheck(t)
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} { // the attacker runs in dir
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	uri := fmt.Sprintf("tcp://127.0.0.1:%d", port)
	conf := filepath.Join(dir, "ramona.conf")
	if err := os.WriteFile(conf, []byte("[ramona:server]\nconsoleuri="+uri+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wine := func(args ...string) *exec.Cmd {
		cmd := exec.Command("wine", append([]string{exe, "ramona-test-main", "-c", conf}, args...)...)
		cmd.Env = wineEnv(prefix, id)
		cmd.Dir = dir
		cmd.WaitDelay = 10 * time.Second
		return cmd
	}
	server := wine("daemon")
	serverOut := &syncBuffer{}
	server.Stdout, server.Stderr = serverOut, serverOut
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { // ends when the server exits
		waitErr = server.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			wine("stop").Run()
			select {
			case <-exited:
			case <-time.After(60 * time.Second):
				server.Process.Kill()
				select {
				case <-exited:
				case <-time.After(30 * time.Second):
					t.Errorf("wine pid %d did not end after SIGKILL", server.Process.Pid)
				}
			}
		}
		t.Logf("server output:\n%s", serverOut.String())
	})
	var last string
	deadline := time.Now().Add(90 * time.Second)
	for {
		out, err := wine("status").CombinedOutput()
		if err == nil && strings.Contains(string(out), "NAME") {
			break
		}
		last = fmt.Sprintf("%v: %s", err, out)
		if time.Now().After(deadline) {
			t.Fatalf("the Windows server does not answer its own user; the last status said %s", last)
		}
		time.Sleep(500 * time.Millisecond)
	}
	code, out := attacker.runRamona(t, id, dir, "-c", conf, "status")
	if code == 0 || !strings.Contains(out, "refused") {
		t.Errorf("a Linux process of uid %d got in (exit %d):\n%s", attacker.uid, code, out)
	}
	if !strings.Contains(serverOut.String(), "refused a tcp connection") {
		t.Errorf("the server did not log the refusal:\n%s", serverOut.String())
	}
	if out, err := wine("stop").CombinedOutput(); err != nil {
		t.Fatalf("stop: %v\n%s", err, out)
	}
	select {
	case <-exited:
		if waitErr != nil {
			t.Errorf("the server exited with %v", waitErr)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the server did not exit after stop")
	}
}

// runRamona runs the Linux test binary as the ramona command line, as u in
// dir, and returns its exit code and output.
func (u localUser) runRamona(t *testing.T, id, dir string, args ...string) (int, string) {
	t.Helper()
	cmd := u.exec(id, append([]string{"ramona-test-main"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if cmd.ProcessState == nil {
		t.Fatalf("ramona %s as uid %d: %v", strings.Join(args, " "), u.uid, err)
	}
	t.Logf("ramona %s as uid %d: exit %d\n%s", strings.Join(args, " "), u.uid, cmd.ProcessState.ExitCode(), out)
	return cmd.ProcessState.ExitCode(), string(out)
}
