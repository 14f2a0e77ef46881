// macOS has no subreaper: orphans of programs go to launchd, and only the
// group guard (guard.go) stops them when the server ends. The server says so
// at start.
package main

import "errors"

// rlimInfinity is RLIM_INFINITY.
const rlimInfinity = 1<<63 - 1

func becomeSubreaper() error {
	return errors.New("macOS has no subreaper")
}
