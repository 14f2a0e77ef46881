// Safe files on Windows: openSafe opens with CreateFile and
// FILE_FLAG_OPEN_REPARSE_POINT, so a planted link or junction is refused,
// never followed, then checks the handle (a regular file, one link). Every
// handle shares delete access, so rotation can rename a log that the server
// and readers hold. Owners are not checked: the directory's ACL decides.
package main

import (
	"fmt"
	"net"
	"os"
	"syscall"
)

const (
	fileFlagOpenReparsePoint = 0x00200000
	fileAttributeReparse     = 0x400
	accessSynchronize        = 0x00100000
	accessFileAppendData     = 0x0004
	accessFileReadAttributes = 0x0080
	accessFileWriteAttrs     = 0x0100
)

// openSafe opens path with flag (os.O_RDONLY, or O_WRONLY|O_APPEND|O_CREATE
// for a log) and perm (only its write bit matters on Windows). The result
// is a regular file with one link; anything else is a *refusedFileError and
// stays closed. extraOwners is ignored (see above).
func openSafe(path string, flag int, perm os.FileMode, extraOwners ...int) (*os.File, error) {
	name, err := syscall.UTF16PtrFromString(path)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	var access uint32
	switch {
	case flag&os.O_APPEND != 0:
		access = accessFileAppendData | accessFileReadAttributes | accessFileWriteAttrs | accessSynchronize
		if flag&os.O_RDWR != 0 {
			access |= syscall.GENERIC_READ
		}
	case flag&os.O_RDWR != 0:
		access = syscall.GENERIC_READ | syscall.GENERIC_WRITE
	case flag&os.O_WRONLY != 0:
		access = syscall.GENERIC_WRITE
	default:
		access = syscall.GENERIC_READ
	}
	var create uint32
	switch {
	case flag&(os.O_CREATE|os.O_EXCL) == os.O_CREATE|os.O_EXCL:
		create = syscall.CREATE_NEW
	case flag&(os.O_CREATE|os.O_TRUNC) == os.O_CREATE|os.O_TRUNC:
		create = syscall.CREATE_ALWAYS
	case flag&os.O_CREATE != 0:
		create = syscall.OPEN_ALWAYS
	case flag&os.O_TRUNC != 0:
		create = syscall.TRUNCATE_EXISTING
	default:
		create = syscall.OPEN_EXISTING
	}
	attrs := uint32(syscall.FILE_ATTRIBUTE_NORMAL)
	if perm != 0 && perm&0o200 == 0 {
		attrs = syscall.FILE_ATTRIBUTE_READONLY
	}
	share := uint32(syscall.FILE_SHARE_READ | syscall.FILE_SHARE_WRITE | syscall.FILE_SHARE_DELETE)
	h, err := syscall.CreateFile(name, access, share, nil, create, attrs|fileFlagOpenReparsePoint, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	var info syscall.ByHandleFileInformation
	if err := syscall.GetFileInformationByHandle(h, &info); err != nil {
		syscall.CloseHandle(h)
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	if info.FileAttributes&fileAttributeReparse != 0 {
		syscall.CloseHandle(h)
		if refused := refuseLink(path); refused != nil {
			return nil, refused
		}
		return nil, &refusedFileError{"is a reparse point (a link or junction)", "remove it; Ramona never writes through one"}
	}
	f := os.NewFile(uintptr(h), path)
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if refused := refuseOpened(fi, os.Geteuid(), int(info.NumberOfLinks), extraOwners); refused != nil {
		f.Close()
		return nil, refused
	}
	return f, nil
}

// fileOwnerLinks: Windows files have no owner uid here; the link count
// comes from the open handle in openSafe.
func fileOwnerLinks(fi os.FileInfo) (uid, links int) { return os.Geteuid(), 1 }

// listenUnixMode binds a unix socket (Windows 10 1803 and later). Windows
// has no file modes: who may connect is decided by the ACL of the socket's
// directory, and each peer is still identified at accept time
// (peer_windows.go); mode is not applied.
func listenUnixMode(path string, mode os.FileMode) (net.Listener, error) {
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("%v (unix sockets need Windows 10 1803 or later; tcp:// on loopback works everywhere)", err)
	}
	return l, nil
}

// sharedDirWarning: Windows has no mode bits to read; who may create files
// in a directory is its ACL's business (README, Windows).
func sharedDirWarning(dir string) string { return "" }
