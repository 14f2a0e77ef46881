//go:build unix

// Exec probes on Unix: the command runs with the program's environment,
// directory and user in a process group of its own, is killed with what it
// left behind at its timeout, and its exit status comes from the server's
// one reaper through childWaiter.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// run starts the command with the program's environment, directory and user
// in a process group of its own and waits for its exit; at timeout (or when
// ctx ends) the whole group is killed. Whatever the command left behind in
// its group is killed once it exited.
func (ex *execProbe) run(ctx context.Context, command string, timeout time.Duration) error {
	rc, err := resolveCommand(command, ex.directory, ex.baseDir, envLookup(ex.env))
	if err != nil {
		return err
	}
	path, argv := rc.path, rc.argv
	stdin, err := devNull()
	if err != nil {
		return err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	// The child gets SIGKILL if the thread that forked it ends (a Go thread
	// ends only when a locked goroutine returns): this one stays locked
	// until the probe is over.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	pid, exited, err := ex.waiter.start(func() (int, error) {
		return syscall.ForkExec(path, argv, &syscall.ProcAttr{
			Dir:   rc.dir,
			Env:   ex.env,
			Files: []uintptr{stdin.Fd(), w.Fd(), w.Fd()},
			Sys:   ex.sysProcAttr(),
		})
	})
	w.Close()
	if err != nil {
		r.Close()
		return fmt.Errorf("cannot start %s: %v", path, err)
	}
	var out []byte
	read := make(chan struct{})
	go func() { // ends at EOF, or at the read deadline set once the probe exited
		defer close(read)
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			if keep := min(n, probeOutputKept-len(out)); keep > 0 {
				out = append(out, buf[:keep]...)
			}
			if err != nil {
				return
			}
		}
	}()
	var ws syscall.WaitStatus
	killed := ""
	select {
	case ws = <-exited:
	case <-ctx.Done(): // runProbe's timeout, or the program is no longer watched
		killed = "abandoned: the program is no longer watched"
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			killed = fmt.Sprintf("killed after %s without an answer", timeout)
		}
	}
	syscall.Kill(-pid, syscall.SIGKILL) // the rest of its group, or all of it at timeout
	if killed != "" {
		select {
		case <-exited:
		case <-time.After(probeReapWait):
		}
	}
	r.SetReadDeadline(time.Now().Add(probeOutputWait))
	<-read
	r.Close()
	if killed != "" {
		return errors.New(killed)
	}
	if ws == lostWait {
		return errors.New("its exit status was collected by another waiter")
	}
	if ws.Exited() && ws.ExitStatus() == 0 {
		return nil
	}
	why := describeWait(ws)
	if text := strings.TrimSpace(string(out)); text != "" {
		text = strings.Join(strings.Fields(text), " ")
		if len(text) > probeReasonMax {
			text = strings.ToValidUTF8(text[:probeReasonMax], "") + "..."
		}
		why += ": " + text
	}
	return errors.New(why)
}

// probeUnsupported is why a probe form cannot run here; "" when it can.
func probeUnsupported(probeKind) string { return "" }

// sysProcAttr: a session (so a process group) of its own, SIGKILL when
// the server dies (Linux), and the program's user.
func (ex *execProbe) sysProcAttr() *syscall.SysProcAttr {
	sys := programSysProcAttr(true)
	if ex.asUser {
		sys.Credential = &syscall.Credential{Uid: ex.uid, Gid: ex.gid, Groups: ex.groups}
	}
	return sys
}

// lostWait stands for an exit status that wait4 could not give (ECHILD:
// something else collected it); wait4 without WUNTRACED never returns it.
const lostWait syscall.WaitStatus = 0xffff

// childWaiter hands the exit status of processes that are not programs
// (exec probes) from the one reaper to the goroutine that waits for them.
// A child is registered under the lock its fork runs in, so the reaper,
// which asks under the same lock, cannot see its exit first.
type childWaiter struct {
	mu      sync.Mutex
	waiting map[int]chan syscall.WaitStatus // by pid
	// Without a server's reaper (unit tests): a goroutine waits for each
	// child by its pid.
	reapEach bool
}

func newChildWaiter() *childWaiter {
	return &childWaiter{waiting: map[int]chan syscall.WaitStatus{}}
}

// start runs fork and registers the pid it returns.
func (w *childWaiter) start(fork func() (int, error)) (int, <-chan syscall.WaitStatus, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	pid, err := fork()
	if err != nil {
		return 0, nil, err
	}
	ch := make(chan syscall.WaitStatus, 1)
	w.waiting[pid] = ch
	if w.reapEach {
		go func() { // ends when the child has exited
			var ws syscall.WaitStatus
			for {
				_, err := syscall.Wait4(pid, &ws, 0, nil)
				if err == nil {
					break
				}
				if err != syscall.EINTR {
					ws = lostWait
					break
				}
			}
			w.deliver(pid, ws)
		}()
	}
	return pid, ch, nil
}

// deliver hands the status of a reaped pid to its waiter; false when no one
// waits for that pid (it is a program's, or an orphan's).
func (w *childWaiter) deliver(pid int, ws syscall.WaitStatus) bool {
	if w == nil {
		return false
	}
	w.mu.Lock()
	ch, ok := w.waiting[pid]
	delete(w.waiting, pid)
	w.mu.Unlock()
	if ok {
		ch <- ws
	}
	return ok
}
