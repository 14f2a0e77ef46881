// Readiness and watchdog through systemd's notify protocol: attributing a
// message to a program by its sender (the socket and its reader are
// notify_linux.go's), READY=1 / STATUS= / WATCHDOG=1 / MAINPID= /
// EXTEND_TIMEOUT_USEC= on the loop, watchdog deadlines, and the server's
// own messages to the NOTIFY_SOCKET it was started with.
package main

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

const notifyMaxDatagram = 4096

// notifySocket is the server's end of the notify protocol.
type notifySocket struct {
	conn *net.UnixConn
	addr string // what programs get as NOTIFY_SOCKET
}

// senderInfo is where a notify message came from (or the process a MAINPID=
// names), read from /proc off the loop.
type senderInfo struct {
	pid       int
	ancestors []int // pid, its parent, ... up to pid 1
	pgid, sid int
}

// notifyMessage is one datagram with what /proc says of the processes it
// names, read off the loop: its sender, and the process of each MAINPID=.
type notifyMessage struct {
	from     senderInfo
	text     string
	mainPIDs map[int]senderInfo
}

func readNotifyMessage(pid int, text string) notifyMessage {
	msg := notifyMessage{from: readSender(pid), text: text}
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, "MAINPID="); ok {
			if pid, err := strconv.Atoi(v); err == nil && pid > 1 {
				if msg.mainPIDs == nil {
					msg.mainPIDs = map[int]senderInfo{}
				}
				msg.mainPIDs[pid] = readSender(pid)
			}
		}
	}
	return msg
}

// senderProgram finds the program whose process tree holds the sender: its
// main pid, its process group or session, or a descendant of its main pid.
func (s *Supervisor) senderProgram(from senderInfo) *Program {
	for _, p := range s.order {
		if p.inst == nil || p.inst.status != nil {
			continue
		}
		if p.pgid > 0 && (from.pgid == p.pgid || from.sid == p.pgid) {
			return p
		}
		for _, a := range from.ancestors {
			if a == p.inst.pid {
				return p
			}
		}
	}
	return nil
}

// notifyMessage applies one datagram's assignments to the sender's program.
func (s *Supervisor) notifyMessage(msg notifyMessage) {
	p := s.senderProgram(msg.from)
	if p == nil {
		s.log.Debugf("notify: ignored a message from pid %d, which belongs to no running program: %q", msg.from.pid, msg.text)
		return
	}
	name := p.cfg.Name
	for _, line := range strings.Split(msg.text, "\n") {
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		switch key {
		case "READY":
			if value == "1" {
				s.notifyReady(p)
			}
		case "STATUS":
			p.statusText = value
			s.log.Debugf("%s: STATUS=%s", name, value)
		case "WATCHDOG":
			if value == "1" {
				s.watchdogPing(p)
			} else if value == "trigger" {
				s.watchdogExpired(p, "the program triggered its watchdog (WATCHDOG=trigger)")
			}
		case "WATCHDOG_USEC":
			if usec, err := strconv.ParseUint(value, 10, 63); err == nil && usec > 0 {
				p.watchdogPeriod = time.Duration(usec) * time.Microsecond
				s.log.Infof("%s: watchdog period set to %s by the program", name, p.watchdogPeriod)
				s.watchdogPing(p)
			}
		case "EXTEND_TIMEOUT_USEC":
			usec, err := strconv.ParseUint(value, 10, 63)
			if err != nil {
				continue
			}
			extra := time.Duration(usec) * time.Microsecond
			switch {
			case p.state == StateStarting && p.cfg.Ready == ReadyNotify:
				s.log.Infof("%s: start timeout extended by %s", name, extra)
				s.arm(&p.deadline, extra, func() { s.startTimedOut(p) })
			case p.state == StateStopping && p.kill != nil:
				s.log.Infof("%s: stop timeout extended by %s", name, extra)
				s.nextKillStep(p.kill, extra)
			}
		case "STOPPING":
			if value == "1" {
				s.log.Infof("%s: says it is stopping (STOPPING=1)", name)
			}
		case "RELOADING":
			if value == "1" {
				s.log.Infof("%s: says it is reloading (RELOADING=1)", name)
			}
		case "MAINPID":
			s.notifyMainPID(p, value, msg.mainPIDs)
		}
	}
}

// notifyReady: READY=1 makes a ready=notify program RUNNING.
func (s *Supervisor) notifyReady(p *Program) {
	if p.cfg.Ready != ReadyNotify {
		s.log.Debugf("%s: READY=1 ignored (ready=timeout)", p.cfg.Name)
		return
	}
	if p.state == StateStarting {
		s.becameRunning(p)
	}
}

// notifyMainPID moves the watched main process to another process of the
// program's tree (a daemon that forks and tells which pid is the service);
// procs is what /proc said of the named process when the message came.
func (s *Supervisor) notifyMainPID(p *Program, value string, procs map[int]senderInfo) {
	pid, err := strconv.Atoi(value)
	if err != nil || pid <= 1 || p.inst == nil || pid == p.inst.pid {
		return
	}
	if s.senderProgram(procs[pid]) != p {
		s.log.Warnf("%s: MAINPID=%d ignored: that process is not part of the program", p.cfg.Name, pid)
		return
	}
	s.log.Infof("%s: main pid is now %d (was %d)", p.cfg.Name, pid, p.inst.pid)
	delete(s.byPid, p.inst.pid)
	p.inst.pid = pid
	s.byPid[pid] = p.inst
}

// armWatchdog starts watching a RUNNING program with watchdog=D.
func (s *Supervisor) armWatchdog(p *Program) {
	if p.watchdogPeriod == 0 {
		p.watchdogPeriod = p.cfg.Watchdog
	}
	if p.watchdogPeriod > 0 {
		s.watchdogPing(p)
	}
}

func (s *Supervisor) watchdogPing(p *Program) {
	if p.watchdogPeriod == 0 || !(p.state == StateRunning || p.state == StateStarting) {
		return
	}
	p.lastPing = time.Now()
	period := p.watchdogPeriod
	s.arm(&p.watchdog, period, func() {
		if p.state == StateRunning {
			s.watchdogExpired(p, fmt.Sprintf("no WATCHDOG=1 for %s (watchdog=%s)", roundDuration(time.Since(p.lastPing)), period))
		}
	})
}

func (s *Supervisor) disarmWatchdog(p *Program) {
	p.watchdog.stop()
	p.watchdogPeriod = 0
}

// watchdogExpired: log it, report it, stop the program with its normal
// sequence and start it again.
func (s *Supervisor) watchdogExpired(p *Program, why string) {
	if p.state != StateRunning && p.state != StateStarting {
		return
	}
	s.log.Errorf("%s: watchdog: %s; restarting it", p.cfg.Name, why)
	s.reportWatchdog(p, why)
	p.intend(restart, nil)
	s.beginKill(p, false)
}

// reportWatchdog notifies notify_watchdog's target (notifications.go).
func (s *Supervisor) reportWatchdog(p *Program, why string) {
	s.notifyWatchdog(p, why)
}

// selfNotifier speaks the notify protocol to the service manager that
// started the server (systemd with Type=notify), when NOTIFY_SOCKET is set.
// One goroutine sends every message in the order the loop queued them
// (READY=1 before STOPPING=1, each with its STATUS=), and the WATCHDOG=1
// keep-alives between them; the loop only appends to the queue.
type selfNotifier struct {
	addr      string
	keepAlive time.Duration // WATCHDOG=1 this often; 0 for none

	mu    sync.Mutex // guards queue
	queue []string
	wake  chan struct{} // a token when queue has messages
	stop  chan struct{} // closed by close
	done  chan struct{} // closed when the sender has sent the last queued message
}

// newSelfNotifier starts the sender when the environment names a
// NOTIFY_SOCKET (nil otherwise; a nil selfNotifier sends nothing). It
// keeps alive at half the service manager's WATCHDOG_USEC, when that
// watchdog is ours (WATCHDOG_PID unset or our pid).
func newSelfNotifier(environ []string) *selfNotifier {
	var addr, wdPid string
	var usec uint64
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "NOTIFY_SOCKET":
			addr = v
		case "WATCHDOG_USEC":
			usec, _ = strconv.ParseUint(v, 10, 63)
		case "WATCHDOG_PID":
			wdPid = v
		}
	}
	if addr == "" {
		return nil
	}
	n := &selfNotifier{addr: addr, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	if usec > 0 && (wdPid == "" || wdPid == strconv.Itoa(os.Getpid())) {
		n.keepAlive = time.Duration(usec) * time.Microsecond / 2
	}
	go n.run() // ends when close is called, after the queue is sent
	return n
}

// send queues msg; it never blocks.
func (n *selfNotifier) send(msg string) {
	if n == nil {
		return
	}
	n.mu.Lock()
	n.queue = append(n.queue, msg)
	n.mu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// run is the sender goroutine.
func (n *selfNotifier) run() {
	defer close(n.done)
	var tick <-chan time.Time
	if n.keepAlive > 0 {
		t := time.NewTicker(n.keepAlive)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-n.wake:
			n.flush()
		case <-tick:
			n.write("WATCHDOG=1")
		case <-n.stop:
			n.flush()
			return
		}
	}
}

// flush sends the queued messages, oldest first.
func (n *selfNotifier) flush() {
	n.mu.Lock()
	msgs := n.queue
	n.queue = nil
	n.mu.Unlock()
	for _, msg := range msgs {
		n.write(msg)
	}
}

// write sends one datagram, bounded by a deadline; a service manager that
// is gone gets nothing.
func (n *selfNotifier) write(msg string) {
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: n.addr, Net: "unixgram"})
	if err != nil {
		return
	}
	defer conn.Close()
	conn.SetWriteDeadline(time.Now().Add(time.Second))
	conn.Write([]byte(msg))
}

// close sends what is queued and ends the sender.
func (n *selfNotifier) close() {
	if n != nil {
		close(n.stop)
		<-n.done
	}
}
