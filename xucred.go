// struct xucred, the peer credentials macOS and FreeBSD give for a unix
// socket (getsockopt LOCAL_PEERCRED, peer_bsd.go): decoded by a pure
// function here, so that every platform's tests check it.
package main

import (
	"encoding/binary"
	"fmt"
)

const xucredVersion = 0 // XUCRED_VERSION

// parseXucred decodes struct xucred: u_int cr_version; uid_t cr_uid; short
// cr_ngroups; gid_t cr_groups[16]; and on FreeBSD a pid_t cr_pid in the
// union that follows, at offset 80 on 64-bit systems. pid is what the
// caller knows already (macOS: LOCAL_PEERPID).
func parseXucred(b []byte, pid int, freebsd bool) (uid, gotPID int, err error) {
	if len(b) < 8 {
		return -1, 0, fmt.Errorf("LOCAL_PEERCRED: %d bytes, too short for struct xucred", len(b))
	}
	if v := binary.NativeEndian.Uint32(b[0:4]); v != xucredVersion {
		return -1, 0, fmt.Errorf("LOCAL_PEERCRED: struct xucred version %d, expected %d", v, xucredVersion)
	}
	if freebsd && len(b) >= 84 {
		pid = int(int32(binary.NativeEndian.Uint32(b[80:84])))
	}
	return int(binary.NativeEndian.Uint32(b[4:8])), pid, nil
}
