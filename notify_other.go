//go:build !linux

// The notify protocol where there is no abstract datagram socket with
// sender credentials (macOS, FreeBSD, Windows): the server opens no notify
// socket and says at start that ready=notify and watchdog cannot work (the
// same warning as when Linux refuses the socket); README says so.
package main

import (
	"errors"
	"runtime"
)

func openNotifySocket() (*notifySocket, error) {
	return nil, errors.New("the notify protocol (NOTIFY_SOCKET) needs Linux; this is " + runtime.GOOS)
}

func (s *Supervisor) readNotify(ns *notifySocket) {}

// readSender knows only the pid here: MAINPID= never arrives without a
// notify socket.
func readSender(pid int) senderInfo { return senderInfo{pid: pid} }
