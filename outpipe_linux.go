// Program output pipes on Linux: the read ends wait on an epoll instance of
// their own, one-shot, which itself waits in Go's poller; a pipe has a drain
// goroutine only while output flows, and a program writing in full flow is
// read in large chunks after short pauses instead of once per write. (In Go's
// poller a pipe stays registered edge-triggered, and each write of a fast
// program wakes a thread even while its reader is busy.)
package main

import (
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// outPipe is the server's end of one program output pipe.
type outPipe struct {
	fd      int
	id      int32 // the pipe's key in the poller (descriptors are reused, ids are not)
	poller  *pipePoller
	consume func([]byte)  // gets each chunk, from one goroutine at a time
	done    func(error)   // called once, at EOF (io.EOF) or a read error
	running atomic.Bool   // a drain owns the pipe
	missed  atomic.Bool   // the poller reported the pipe while a drain owned it
	size    int           // the pipe's capacity
	pause   time.Duration // the drain's pause in full flow (see adapt); owned by the drain
}

// outputPipe makes the pipe of one program stream: the read end is the
// server's (non-blocking, for the pipe poller), the write end a plain
// blocking descriptor for the child that the caller closes once it has
// forked. The pipe asks for pipeSize; the kernel may refuse (the limit is
// /proc/sys/fs/pipe-max-size for unprivileged servers), which only costs
// speed.
func outputPipe() (r *outPipe, w int, err error) {
	poller, err := thePipePoller()
	if err != nil {
		return nil, -1, err
	}
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC); err != nil {
		return nil, -1, os.NewSyscallError("pipe2", err)
	}
	if err := syscall.SetNonblock(fds[0], true); err != nil {
		syscall.Close(fds[0])
		syscall.Close(fds[1])
		return nil, -1, os.NewSyscallError("fcntl", err)
	}
	size, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fds[0]), syscall.F_SETPIPE_SZ, pipeSize)
	if errno != 0 {
		size, _, errno = syscall.Syscall(syscall.SYS_FCNTL, uintptr(fds[0]), syscall.F_GETPIPE_SZ, 0)
	}
	if errno != 0 {
		size = 64 << 10
	}
	return &outPipe{fd: fds[0], poller: poller, size: int(size), pause: flowPause}, fds[1], nil
}

// read hands the pipe's output to consume, chunk by chunk, until EOF or a
// read error, and then calls done; it returns at once. consume and done run
// on goroutines that exist while output flows.
func (p *outPipe) read(consume func([]byte), done func(error)) {
	p.consume, p.done = consume, done
	if err := p.poller.add(p); err != nil {
		syscall.Close(p.fd)
		done(err)
	}
}

// Close closes a pipe that was never read.
func (p *outPipe) Close() { syscall.Close(p.fd) }

// When the reads since the last pause brought at least flowMin bytes and
// the last found the pipe empty, the program writes in full flow and the
// reader has caught up with it: the drain pauses, so that the pipe fills and
// the next read takes a large chunk, instead of waking for each write. The
// pause adapts to the writer (adapt): it starts at flowPause and stays
// between 0 and maxFlowPause.
const (
	flowMin      = 4 << 10
	flowPause    = 250 * time.Microsecond
	minFlowPause = 50 * time.Microsecond
	maxFlowPause = 2 * time.Millisecond
)

// adapt sets the next pause from what the last one let in (got bytes): the
// pipe should fill to between an eighth and a half of its capacity, so that
// reads are large and the writer never waits for room.
func (p *outPipe) adapt(got int) {
	switch {
	case got > p.size/2:
		p.pause /= 2
		if p.pause < minFlowPause {
			p.pause = 0
		}
	case got < p.size/8:
		p.pause = min(max(2*p.pause, minFlowPause), maxFlowPause)
	}
}

// pausing counts the drains that pause in a system call of their own rather
// than on a runtime timer: cheaper (no timer wake-up, no scheduler hand-off),
// but each holds a thread, so only rawPauses at once.
var pausing atomic.Int32

const rawPauses = 4

func pause(d time.Duration) {
	if d <= 0 {
		return
	}
	if pausing.Add(1) <= rawPauses {
		ts := syscall.NsecToTimespec(int64(d))
		syscall.Nanosleep(&ts, nil)
	} else {
		time.Sleep(d)
	}
	pausing.Add(-1)
}

// yieldEvery is how long a drain runs before it yields to Go's scheduler.
// A drain in full flow lives as long as the program writes, nearly all of it
// in system calls, and never blocks in Go: the runtime's monitor takes a
// goroutine that has not been scheduled for 10 ms for a long-running one and
// takes its processor away at each check it finds it in a system call (they
// come every 20 µs then), which woke threads several thousand times per GiB
// of output. Yielding now and then keeps the drain an ordinary goroutine.
const yieldEvery = 4 * time.Millisecond

// drain reads until the pipe is empty, then arms the poller and ends; the
// poller starts the next drain. Buffers come from readBuffers only for a
// read and go back after consume. A drain that paused for a writer in full
// flow and then finds the pipe empty pauses once more before it ends: a
// writer that falls behind for a moment (descheduled, or waiting on its
// own input) would otherwise cost an end, a report and a new drain each
// time.
func (p *outPipe) drain() {
	p.missed.Store(false) // what the poller reported is read below
	got := 0              // bytes read since the drain started or paused
	flowing := false      // the drain has paused for a writer in full flow
	lingered := false     // the last read found the pipe empty and the drain paused
	scheduled := time.Now()
	for {
		buf := readBuffers.Get().(*[]byte)
		n, err := syscall.Read(p.fd, *buf)
		if n > 0 {
			full := n == len(*buf)
			p.consume((*buf)[:n])
			readBuffers.Put(buf)
			lingered = false
			if now := time.Now(); now.Sub(scheduled) >= yieldEvery {
				runtime.Gosched()
				scheduled = now
			}
			if got += n; !full && got >= flowMin {
				p.adapt(got)
				pause(p.pause)
				flowing = true
				got = 0
			}
			continue
		}
		readBuffers.Put(buf)
		switch err {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			if flowing && !lingered {
				lingered = true
				pause(max(p.pause, minFlowPause))
				continue
			}
			if err := p.poller.arm(p); err != nil {
				p.finish(err)
				return
			}
			p.running.Store(false)
			// A report that came while this drain owned the pipe set missed
			// before it found the pipe owned; from the Store on, a report
			// starts a drain of its own.
			if p.missed.Swap(false) && p.running.CompareAndSwap(false, true) {
				continue
			}
			return
		case nil:
			p.finish(io.EOF)
		default:
			p.finish(os.NewSyscallError("read", err))
		}
		return
	}
}

// finish takes the pipe out of the poller, closes it and calls done.
func (p *outPipe) finish(err error) {
	p.poller.remove(p)
	syscall.Close(p.fd)
	p.done(err)
}

// pipePoller is the epoll instance of every output pipe and the goroutine
// that waits on it in Go's poller (created with the first pipe, it lives as
// long as the server). Each pipe is registered one-shot: after it was
// reported readable it is silent until its drain, having emptied it, arms
// it again.
type pipePoller struct {
	epfd   int
	mu     sync.Mutex
	pipes  map[int32]*outPipe // by id
	nextID int32
}

var thePipePoller = sync.OnceValues(func() (*pipePoller, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	pp := &pipePoller{epfd: epfd, pipes: map[int32]*outPipe{}}
	if err := syscall.SetNonblock(epfd, true); err != nil {
		syscall.Close(epfd)
		return nil, os.NewSyscallError("fcntl", err)
	}
	raw, err := os.NewFile(uintptr(epfd), "epoll").SyscallConn()
	if err != nil {
		syscall.Close(epfd)
		return nil, err
	}
	go pp.run(raw) // ends never: the poller serves the server's whole life
	return pp, nil
})

const pipeEvents = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT

// add registers p, armed: its first output (or EOF) starts a drain.
func (pp *pipePoller) add(p *outPipe) error {
	pp.mu.Lock()
	for {
		pp.nextID++
		if _, used := pp.pipes[pp.nextID]; !used {
			break
		}
	}
	p.id = pp.nextID
	pp.pipes[p.id] = p
	pp.mu.Unlock()
	ev := syscall.EpollEvent{Events: pipeEvents, Fd: p.id}
	if err := syscall.EpollCtl(pp.epfd, syscall.EPOLL_CTL_ADD, p.fd, &ev); err != nil {
		pp.mu.Lock()
		delete(pp.pipes, p.id)
		pp.mu.Unlock()
		return os.NewSyscallError("epoll_ctl", err)
	}
	return nil
}

// arm asks for one report when p is readable; if it is already, the report
// comes at once (EPOLL_CTL_MOD looks at the current state).
func (pp *pipePoller) arm(p *outPipe) error {
	ev := syscall.EpollEvent{Events: pipeEvents, Fd: p.id}
	if err := syscall.EpollCtl(pp.epfd, syscall.EPOLL_CTL_MOD, p.fd, &ev); err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	return nil
}

func (pp *pipePoller) remove(p *outPipe) {
	syscall.EpollCtl(pp.epfd, syscall.EPOLL_CTL_DEL, p.fd, nil)
	pp.mu.Lock()
	delete(pp.pipes, p.id)
	pp.mu.Unlock()
}

// run waits in Go's poller until the epoll instance has reports (its
// descriptor is readable then), and dispatches them.
func (pp *pipePoller) run(raw syscall.RawConn) {
	events := make([]syscall.EpollEvent, 128)
	for {
		var n int
		raw.Read(func(fd uintptr) bool {
			var err error
			n, err = syscall.EpollWait(int(fd), events, 0)
			return err == nil && n > 0
		})
		pp.dispatch(events[:n])
	}
}

// dispatch starts a drain for each reported pipe that has none.
func (pp *pipePoller) dispatch(events []syscall.EpollEvent) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	for _, ev := range events {
		p := pp.pipes[ev.Fd]
		if p == nil {
			continue // finished since
		}
		p.missed.Store(true) // before the test, for a drain about to end (see drain)
		if p.running.CompareAndSwap(false, true) {
			go p.drain() // ends when the pipe is empty (or at EOF)
		}
	}
}
