// The real programs some tests talk to (chromium, systemd-notify, openssl,
// aiosmtpd, tmux, podman, wine, supervisord ...): one place that decides what
// a test does when one is missing. On a developer's machine (CI unset) it
// skips with the Debian package to install; under CI (.ci/run sets CI=true
// after installing every peer) a missing peer fails, so CI never skips one.
package main

import (
	"os"
	"os/exec"
	"testing"
)

// needPeer returns the path of the executable name, or skips (fails under
// CI) naming pkg, the Debian package that provides it.
func needPeer(t testing.TB, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		missingPeer(t, name, pkg, err)
	}
	return path
}

// needPeerCheck is needPeer for a peer that is not one executable on PATH
// (a Python module, a kernel feature): check reports whether it is usable.
func needPeerCheck(t testing.TB, what, pkg string, check func() error) {
	t.Helper()
	if err := check(); err != nil {
		missingPeer(t, what, pkg, err)
	}
}

func missingPeer(t testing.TB, what, pkg string, err error) {
	t.Helper()
	msg := what + " is not available (Debian package " + pkg + "; .ci/run installs it): " + err.Error()
	if underCI() {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// needShell is needPeer for /bin/sh and the coreutils a shell command line
// in a test's configuration uses (sleep, printf): Essential packages on
// Debian, so only a stripped container lacks them.
func needShell(t testing.TB) {
	t.Helper()
	needPeer(t, "sh", "dash")
	needPeer(t, "sleep", "coreutils")
}

// skipInShort skips t under go test -short, naming what makes it heavy: a
// real program (Wine, podman, a browser, a database ...) that costs seconds
// of CPU to start. -short is the developer's quick loop; the full suite,
// which CI runs, never skips these.
func skipInShort(t testing.TB, what string) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short skips the test with " + what + "; go test without -short runs it")
	}
}

// underCI: the CI environment variable is set to anything but "" or "false".
func underCI() bool {
	v := os.Getenv("CI")
	return v != "" && v != "false" && v != "0"
}
