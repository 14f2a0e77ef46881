//go:build unix

// Log rotation's platform part on Unix: a backup about to be removed is
// opened first (by safefile's rules), so that the removal only unlinks its
// name and the freeing of its pages happens at a later close.
package main

import "os"

// openToDiscard opens the file at name for discardLocked, or returns nil
// (gone, refused by openSafe: a link or another user's file is removed by
// name alone).
func openToDiscard(name string, owners []int) *os.File {
	f, err := openSafe(name, os.O_RDONLY, 0, owners...)
	if err != nil {
		return nil
	}
	return f
}
