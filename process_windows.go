// The server process on Windows, where Unix process attributes do not
// exist: no umask (files get the directory's inherited ACL), no open-files
// limit (minfds has no meaning), no inherited descriptors to close (Go
// passes no handles to a child unless asked), no subreaper (each program's
// job object holds its tree), and no exec shim (umask= and coredump= have
// no effect; config warns).
package main

import (
	"fmt"
	"os"
)

func setServerUmask(mask int)         {}
func closeInheritedFDs()              {}
func markInheritedFDsCloseOnExec()    {}
func raiseOpenFiles(min uint64) error { return nil }
func becomeSubreaper() error          { return nil }

// runExecShim: the server never starts the shim on Windows.
func runExecShim(args []string) int {
	fmt.Fprintln(os.Stderr, "ramona exec-shim: not used on Windows")
	return 127
}
