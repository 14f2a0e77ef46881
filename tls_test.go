//go:build unix

// Tests of the TLS control channel and of loopback tcp:// peers: `tls init`
// certificates, mutual TLS with the command line as client, a client
// without a certificate refused, the real `openssl s_client` as a peer
// (TLS 1.2+ only, client certificate required), and the uid rule on tcp://.
package main

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTLSInitWritesCertificates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if code := run([]string{"tls", "init", dir}, nil, &out, &errOut); code != 0 {
		t.Fatalf("tls init: exit %d: %s", code, &errOut)
	}
	for _, name := range []string{"ca.pem", "server.pem", "client.pem"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: %v %v", name, fi, err)
		}
	}
	for _, name := range []string{"ca-key.pem", "server-key.pem", "client-key.pem"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("private key %s must be 0600: %v %v", name, fi, err)
		}
	}
	if !strings.Contains(out.String(), "serveruri=tls://") {
		t.Errorf("tls init does not show how to configure it:\n%s", &out)
	}
	if code := run([]string{"tls", "init", dir}, nil, &out, &errOut); code != exitFailed || !strings.Contains(errOut.String(), "already exists") {
		t.Errorf("a second tls init over existing files: exit %d, %q", code, &errOut)
	}
}

func TestTLSControlChannel(t *testing.T) {
	t.Parallel()
	certs := t.TempDir()
	var out, errOut bytes.Buffer
	if code := run([]string{"tls", "init", certs}, nil, &out, &errOut); code != 0 {
		t.Fatalf("tls init: %s", &errOut)
	}
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	q := func(kind string) string {
		return fmt.Sprintf("cert=%s/%s.pem&key=%s/%s-key.pem&ca=%s/ca.pem", certs, kind, certs, kind, certs)
	}
	r := newTestRamona(t, "")
	r.writeWithURI(fmt.Sprintf("unix://r.sock,tls://%s?%s", addr, q("server")), fmt.Sprintf(`
[ramona:console]
serveruri=tls://%s?%s

[program:one]
starttimeout=0
command=%s
`, addr, q("client"), helperCommand(t, "sleep", "1h")))
	r.start()
	r.waitState("one", "RUNNING", 10*time.Second)
	code, who, _ := r.cli("who")
	if code != 0 || !strings.Contains(who, "* tls") || !strings.Contains(who, `cert "ramona client"`) {
		t.Errorf("who over TLS: exit %d\n%s", code, who)
	}

	// A client without a certificate is refused.
	pool, _ := loadCAPool(filepath.Join(certs, "ca.pem"))
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})
	if err == nil {
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		_, err = clientHandshake(conn)
		conn.Close()
	}
	if err == nil {
		t.Errorf("a client without a certificate got through")
	}
	waitFor(t, "the refusal in the server log", 10*time.Second, func() bool { return strings.Contains(r.serverLog(), "refused a tls connection") })

	// The real openssl as a peer: with the client certificate the handshake
	// works with TLS 1.2 or newer; without, or with TLS 1.1, it does not.
	openssl := needPeer(t, "openssl", "openssl")
	sclient := func(extra ...string) (string, error) {
		args := append([]string{"s_client", "-connect", addr, "-CAfile", filepath.Join(certs, "ca.pem"), "-verify_return_error"}, extra...)
		cmd := exec.Command(openssl, args...)
		cmd.Stdin = strings.NewReader("")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	good, err := sclient("-cert", filepath.Join(certs, "client.pem"), "-key", filepath.Join(certs, "client-key.pem"))
	if err != nil || !strings.Contains(good, "Verify return code: 0 (ok)") || !strings.Contains(good, "TLSv1.3") {
		t.Errorf("openssl s_client with the client certificate: %v\n%s", err, good)
	}
	if old, err := sclient("-tls1_1", "-cert", filepath.Join(certs, "client.pem"), "-key", filepath.Join(certs, "client-key.pem")); err == nil && strings.Contains(old, "Protocol  : TLSv1.1") {
		t.Errorf("TLS 1.1 was accepted:\n%s", old)
	}
	r.stopAll()
}

func TestLoopbackTCPPeerUID(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	r := newTestRamona(t, "")
	r.writeWithURI(fmt.Sprintf("tcp://127.0.0.1:%d", port), fmt.Sprintf(`
[program:one]
starttimeout=0
command=%s
`, helperCommand(t, "sleep", "1h")))
	r.server = startRamonaProcess(t, filepath.Join(r.dir, "server.log"), []string{"RAMONA_TEST_ID=" + r.id}, "-c", r.conf, "daemon")
	waitFor(t, "the server on tcp", 20*time.Second, func() bool {
		code, _, _ := r.cli("-s", "status")
		return code == 0 || code == exitNotAll
	})
	code, who, _ := r.cli("who")
	if code != 0 || !strings.Contains(who, fmt.Sprintf("uid %d", os.Geteuid())) {
		t.Errorf("who over tcp: exit %d, %q: the peer's uid is not known", code, who)
	}
	if os.Geteuid() == 0 {
		// Another uid on the same machine is refused, as on a unix socket.
		u := newThrowawayUser(t)
		if code, out := u.ramona(t, r, "status"); code != exitNoServer || !strings.Contains(out, "refused") {
			t.Errorf("status as uid %d over tcp: exit %d, %q; want a refusal", u.uid, code, out)
		}
		if !strings.Contains(r.serverLog(), fmt.Sprintf("has uid %d", u.uid)) {
			t.Errorf("the server log does not name the refused uid")
		}
	}
	r.stopAll()
}
