//go:build unix

// Safe files on Unix: openSafe opens a name with O_NOFOLLOW (a planted link
// fails), O_NONBLOCK (a planted pipe cannot block the opener) and
// O_CLOEXEC, then checks the opened file itself, by fstat, so no rename
// between a check and the open can swap it.
package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
)

// openSafe opens path with flag (os.O_RDONLY, or O_WRONLY|O_APPEND|O_CREATE
// for a log) and perm for a created file. The result is a regular file with
// one link owned by root, the server's user or one of extraOwners, or a
// character device; anything else is a *refusedFileError and stays closed.
func openSafe(path string, flag int, perm os.FileMode, extraOwners ...int) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, perm)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.ENXIO) {
			if refused := refuseLink(path); refused != nil {
				return nil, refused
			}
		}
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	uid, links := fileOwnerLinks(fi)
	if refused := refuseOpened(fi, uid, links, extraOwners); refused != nil {
		f.Close()
		return nil, refused
	}
	return f, nil
}

// fileOwnerLinks is the owner and link count of fi (-1 and 1 when the
// system does not say).
func fileOwnerLinks(fi os.FileInfo) (uid, links int) {
	uid, links = -1, 1
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		uid, links = int(st.Uid), int(st.Nlink)
	}
	return uid, links
}

// listenUnixMode binds a unix socket at path that has mode from its first
// moment: the umask during the bind gives it, so no chmod by name (which
// would follow a link swapped in after the bind) is needed. An abstract
// address (@name) has no file and no mode. Only call it before other
// goroutines create files: the umask is the process's.
func listenUnixMode(path string, mode os.FileMode) (net.Listener, error) {
	old := syscall.Umask(int(0o777 &^ mode.Perm()))
	l, err := net.Listen("unix", path)
	syscall.Umask(old)
	return l, err
}

// sharedDirWarning describes dir when users other than its owner may create
// names in it, where they can plant what Ramona then refuses; "" otherwise.
func sharedDirWarning(dir string) string {
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm()&0o022 == 0 {
		return ""
	}
	who := "every user"
	if fi.Mode().Perm()&0o002 == 0 {
		who = "its group"
	}
	return fmt.Sprintf("the directory %s (mode %04o) is writable by %s, who can plant links and files there that Ramona refuses to use; "+
		"make it writable by the server's user only (chmod go-w)", dir, fi.Mode().Perm(), who)
}
