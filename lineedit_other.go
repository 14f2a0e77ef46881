//go:build !linux

// The console's line editor where its terminal calls are not ported yet:
// no file counts as a terminal, so the console reads lines as they come
// (the piped behaviour), with a prompt when stdin is a character device.
package main

import "os"

type termState struct{}

func isTerminal(fd uintptr) bool                      { return false }
func makeRaw(fd uintptr) (*termState, error)          { return nil, os.ErrInvalid }
func restoreTerminal(fd uintptr, st *termState) error { return nil }
func terminalWidth(fd uintptr) int                    { return 0 }
func raiseSignal(sig os.Signal)                       {}
func suspendSelf()                                    {}

var terminalStopSignals []os.Signal
