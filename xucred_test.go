// Tests of xucred.go: struct xucred as macOS and FreeBSD lay it out, with
// and without FreeBSD's cr_pid, another version, a short buffer. They run
// on every platform, since the decoder is a pure function.
package main

import (
	"encoding/binary"
	"strings"
	"testing"
)

func TestParseXucred(t *testing.T) {
	t.Parallel()
	cred := make([]byte, 88) // FreeBSD amd64: version, uid, ngroups, groups[16], pad, cr_pid
	binary.NativeEndian.PutUint32(cred[0:], 0)
	binary.NativeEndian.PutUint32(cred[4:], 1001)
	binary.NativeEndian.PutUint16(cred[8:], 1)
	binary.NativeEndian.PutUint32(cred[12:], 1001)
	binary.NativeEndian.PutUint32(cred[80:], 4242)
	if uid, pid, err := parseXucred(cred, 0, true); err != nil || uid != 1001 || pid != 4242 {
		t.Errorf("freebsd: uid %d pid %d err %v; want 1001 4242", uid, pid, err)
	}
	if uid, pid, err := parseXucred(cred[:76], 77, false); err != nil || uid != 1001 || pid != 77 {
		t.Errorf("darwin: uid %d pid %d err %v; want 1001 and LOCAL_PEERPID's 77", uid, pid, err)
	}
	binary.NativeEndian.PutUint32(cred[0:], 3)
	if _, _, err := parseXucred(cred, 0, true); err == nil || !strings.Contains(err.Error(), "version 3") {
		t.Errorf("a struct of another version: %v", err)
	}
	if _, _, err := parseXucred(cred[:6], 0, true); err == nil || !strings.Contains(err.Error(), "too short") {
		t.Errorf("a short struct: %v", err)
	}
}
