//go:build ignore

// Stamp is the child of the restart-latency benchmark: the first thing its
// main does is read the wall clock and append "PID NANOSECONDS" to the file
// named by its argument; then it waits for a signal. The time from a kill -9
// of the previous instance to this stamp is the supervisor's restart latency
// (plus exec and Go runtime start-up, which compare.go measures separately
// as the floor). Built by compare.sh: go build -o DIR/stamp testdata/bench/stamp.go
package main

import (
	"os"
	"strconv"
	"syscall"
	"time"
)

func main() {
	now := time.Now().UnixNano()
	if len(os.Args) < 2 {
		os.Stderr.WriteString("usage: stamp FILE\n")
		os.Exit(2)
	}
	line := strconv.Itoa(os.Getpid()) + " " + strconv.FormatInt(now, 10) + "\n"
	fd, err := syscall.Open(os.Args[1], syscall.O_WRONLY|syscall.O_CREAT|syscall.O_APPEND|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		os.Stderr.WriteString("stamp: " + err.Error() + "\n")
		os.Exit(1)
	}
	syscall.Write(fd, []byte(line))
	syscall.Close(fd)
	for {
		syscall.Pause() // SIGTERM and SIGKILL end it (Go re-raises unhandled SIGTERM)
	}
}
