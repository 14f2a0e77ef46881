// Safe files: the rules for every file Ramona creates or appends to in a
// directory that another user may be able to write (program logs and their
// backups, the server log, the pidfile, the mail stash, the console history,
// the keys of `tls init`). A name is never followed through a symbolic link,
// what is opened must be ours (refusedFileError says why not and what to do),
// and a file written whole goes to an unpredictable temporary name first.
package main

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
)

// refusedFileError is a file Ramona will not open: a link, another user's
// file, a file with more than one name, or no file at all (a pipe, a
// directory). It is never written through; the operator has to act.
type refusedFileError struct {
	what string // "is a symbolic link (to /etc/passwd)"
	fix  string // "remove the link"
}

func (e *refusedFileError) Error() string {
	return "refused: it " + e.what + "; " + e.fix
}

// describeOwner names a uid for messages: "uid 1001 (alice)".
func describeOwner(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return fmt.Sprintf("uid %d (%s)", uid, u.Username)
	}
	return fmt.Sprintf("uid %d", uid)
}

// trustedOwner reports whether uid may own a file Ramona opens: root, the
// server's own user, or one of extra (a program's user= for its logs).
func trustedOwner(uid int, extra []int) bool {
	if uid == 0 || uid == os.Geteuid() {
		return true
	}
	for _, u := range extra {
		if uid == u {
			return true
		}
	}
	return false
}

// refuseOpened checks what a name led to: a regular file with one link and
// a trusted owner, or a character device (/dev/null: only root makes
// those). It returns nil when the file may be used.
func refuseOpened(fi os.FileInfo, uid, links int, extra []int) *refusedFileError {
	mode := fi.Mode()
	switch {
	case mode&os.ModeSymlink != 0:
		return &refusedFileError{"is a symbolic link", "remove the link; Ramona never writes through one"}
	case mode&os.ModeCharDevice != 0:
		return nil
	case mode&os.ModeNamedPipe != 0:
		return &refusedFileError{"is a named pipe", "remove it"}
	case mode&os.ModeSocket != 0:
		return &refusedFileError{"is a socket", "remove it"}
	case mode.IsDir():
		return &refusedFileError{"is a directory", "remove it or name another file"}
	case !mode.IsRegular():
		return &refusedFileError{"is not a regular file (" + mode.Type().String() + ")", "remove it"}
	case !trustedOwner(uid, extra):
		return &refusedFileError{"belongs to " + describeOwner(uid) + ", neither root nor the server's " + describeOwner(os.Geteuid()),
			"remove it, or chown it if it really is this program's log"}
	case links > 1:
		return &refusedFileError{fmt.Sprintf("has %d hard links, so it is also another file", links), "remove it"}
	}
	return nil
}

// refuseExisting describes what is at path when openSafe would refuse it (a
// link, another user's file ...), for a file that is replaced rather than
// opened; nil when nothing is there or it is fine.
func refuseExisting(path string) *refusedFileError {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		return refuseLink(path)
	}
	uid, links := fileOwnerLinks(fi)
	return refuseOpened(fi, uid, links, nil)
}

// refuseLink explains an open that failed on a name that is not a file
// (O_NOFOLLOW fails with ELOOP on a link, a non-blocking open of a pipe
// without reader with ENXIO); nil when the name is something else.
func refuseLink(path string) *refusedFileError {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		what := "is a symbolic link"
		if target, err := os.Readlink(path); err == nil {
			what += " (to " + target + ")"
		}
		return &refusedFileError{what, "remove the link; Ramona never writes through one"}
	}
	if fi.Mode()&(os.ModeNamedPipe|os.ModeSocket) != 0 {
		return refuseOpened(fi, -1, 1, nil)
	}
	return nil
}

// newTempFile creates an empty file with an unpredictable name next to
// path (O_EXCL, so nothing planted there is opened) with mode perm.
func newTempFile(path string, perm os.FileMode) (*os.File, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}

// replaceFile writes data to path through a new temporary file that is
// synced and renamed over path: whatever path was (a link included) is
// replaced, never opened.
func replaceFile(path string, data []byte, perm os.FileMode) error {
	f, err := newTempFile(path, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
