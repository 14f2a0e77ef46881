// killby on Windows: KILL is TerminateJobObject for a program's tree (or
// TerminateProcess for one pid); every other signal is a CTRL_C event on the
// program's own console, sent by `ramona exec-ctrlc PID...`, a helper that
// attaches to that console. CTRL_BREAK to a process group does not reach
// programs under Wine 8 and needs a shared console; README explains.
package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

var (
	procFreeConsole              = kernel32.NewProc("FreeConsole")
	procAttachConsole            = kernel32.NewProc("AttachConsole")
	procSetConsoleCtrlHandler    = kernel32.NewProc("SetConsoleCtrlHandler")
	procGenerateConsoleCtrlEvent = kernel32.NewProc("GenerateConsoleCtrlEvent")
)

const (
	ctrlCEvent                    = 0
	detachedProcess               = 0x00000008
	jobObjectBasicProcessIDList   = 3
	processTerminate              = 0x0001
	processSetQuota               = 0x0100
	processQueryLimitedInfomation = 0x1000
	stillActive                   = 259
)

// containmentWithoutCgroups is what the server says at start about how it
// holds program trees.
const containmentWithoutCgroups = "each program runs in a job object; a stop ends its whole process tree, and so does the server's exit, however it ends"

// signalGroup sends sig to the tree of the spawn whose main process is pgid.
func signalGroup(pgid int, sig syscall.Signal) error {
	j := jobOf(pgid)
	if j == nil {
		return syscall.ESRCH
	}
	switch sig {
	case 0:
		return nil
	case syscall.SIGKILL:
		return j.terminate()
	}
	targets := []int{pgid}
	for _, pid := range j.pids() {
		if pid != pgid && !isConsoleHost(pid) { // attaching to conhost itself hangs under Wine
			targets = append(targets, pid)
		}
	}
	return sendCtrlC(targets)
}

// signalProcess sends sig to one process (anything but KILL reaches every
// process on its console).
func signalProcess(pid int, sig syscall.Signal) error {
	h, err := syscall.OpenProcess(processTerminate|processQueryLimitedInfomation, false, uint32(pid))
	if err != nil {
		return syscall.ESRCH
	}
	defer syscall.CloseHandle(h)
	var code uint32
	if syscall.GetExitCodeProcess(h, &code) == nil && code != stillActive {
		return syscall.ESRCH
	}
	switch sig {
	case 0:
		return nil
	case syscall.SIGKILL:
		return syscall.TerminateProcess(h, 1)
	}
	return sendCtrlC([]int{pid})
}

// groupAlive reports whether any process of the spawn's job still runs.
func groupAlive(pgid int) bool {
	return pgid > 0 && jobOf(pgid) != nil
}

// pids lists the job's processes.
func (j *processJob) pids() []int {
	var list struct {
		assigned, listed uint32
		ids              [64]uintptr
	}
	r, _, _ := procQueryInformationJobObj.Call(uintptr(j.handle), jobObjectBasicProcessIDList, uintptr(unsafe.Pointer(&list)), unsafe.Sizeof(list), 0)
	if r == 0 && list.listed == 0 {
		return nil
	}
	pids := make([]int, 0, list.listed)
	for _, id := range list.ids[:min(int(list.listed), len(list.ids))] {
		pids = append(pids, int(id))
	}
	return pids
}

// sendCtrlC starts the exec-ctrlc helper for the console of the first of
// pids that still has one, off the caller's goroutine (starting a process
// takes a while, and the loop must not wait): the kill sequence's next step
// follows if the event changes nothing.
func sendCtrlC(pids []int) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	args := append(append([]string(nil), reexecPrefix...), "exec-ctrlc")
	for _, pid := range pids {
		args = append(args, strconv.Itoa(pid))
	}
	go func() { // ends when the helper has sent the event, or after ctrlCHelperTimeout
		ctx, cancel := context.WithTimeout(context.Background(), ctrlCHelperTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, self, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: detachedProcess}
		cmd.WaitDelay = time.Second
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		runningHelpers.starting()
		err := cmd.Start()
		if err == nil {
			helperJob().hold(cmd.Process.Pid)
		}
		runningHelpers.started(cmd.Process)
		if err == nil {
			err = cmd.Wait()
			runningHelpers.remove(cmd.Process)
		}
		if err != nil {
			if log := ctrlCLog.Load(); log != nil {
				log.Warnf("server: the CTRL_C helper for pids %v failed (%v): %s; the next kill step follows after stoptimeout", pids, err, strings.TrimSpace(out.String()))
			}
		}
	}()
	return nil
}

// ctrlCHelperTimeout bounds a CTRL_C helper's life: it attaches, sends and
// exits in well under a second; one that hangs is terminated (under Wine a
// helper that attached to conhost.exe itself hung, so signalGroup never
// names a console host).
const ctrlCHelperTimeout = 10 * time.Second

// ctrlCHelperLife is how long the helper itself lives at most.
const ctrlCHelperLife = 3 * time.Second

// helperJob is a kill-on-close job of the server's own helpers: none
// outlives the server, however it ends.
var helperJob = sync.OnceValue(func() *processJob {
	j, err := newProcessJob()
	if err != nil {
		return nil
	}
	return j
})

// hold puts the running process pid into the job (best effort: a helper
// that is not in it still ends by its timeout).
func (j *processJob) hold(pid int) {
	if j == nil {
		return
	}
	h, err := syscall.OpenProcess(processSetQuota|processTerminate, false, uint32(pid))
	if err != nil {
		return
	}
	procAssignProcessToJobObject.Call(uintptr(j.handle), uintptr(h))
	syscall.CloseHandle(h)
}

// runningHelpers are the CTRL_C helpers being started or still running;
// the server ends them before it exits (endHelpers), so none outlives it.
// A helper counts from before its start: a server that exited while Wine
// was still creating the helper's process left that process hung in its
// start, outside every job.
var runningHelpers helperSet

type helperSet struct {
	mu      sync.Mutex
	pending int // starts in progress
	procs   map[*os.Process]bool
}

// starting counts a helper whose process is about to be created.
func (h *helperSet) starting() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pending++
}

// started ends what starting began: p is the helper's process, or nil
// when it could not be started.
func (h *helperSet) started(p *os.Process) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pending--
	if p == nil {
		return
	}
	if h.procs == nil {
		h.procs = map[*os.Process]bool{}
	}
	h.procs[p] = true
}

func (h *helperSet) remove(p *os.Process) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.procs, p)
}

func (h *helperSet) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.pending + len(h.procs)
}

// endHelpers waits up to wait for the helpers being started or running to
// finish, then terminates the running rest.
func (h *helperSet) endHelpers(wait time.Duration) {
	deadline := time.Now().Add(wait)
	for h.count() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for p := range h.procs {
		p.Kill()
	}
}

// ctrlCLog is the server log, where a failed CTRL_C helper is reported
// (set by spawn; nil in a process that never spawned).
var ctrlCLog atomic.Pointer[serverLog]

// runExecCtrlC is `ramona exec-ctrlc PID...`: it attaches to the console of
// the first PID that has one and sends CTRL_C to every process on it.
func runExecCtrlC(args []string) int {
	// It must never linger: whatever it is doing, it exits after
	// ctrlCHelperLife.
	time.AfterFunc(ctrlCHelperLife, func() {
		fmt.Fprintf(os.Stderr, "ramona exec-ctrlc: no answer from the console of %v within %v; giving up\n", args, ctrlCHelperLife)
		os.Exit(3)
	})
	procFreeConsole.Call()
	for _, a := range args {
		pid, err := strconv.Atoi(a)
		if err != nil {
			continue
		}
		if r, _, _ := procAttachConsole.Call(uintptr(pid)); r == 0 {
			continue
		}
		procSetConsoleCtrlHandler.Call(0, 1) // this helper ignores the event itself
		if r, _, err := procGenerateConsoleCtrlEvent.Call(ctrlCEvent, 0); r == 0 {
			fmt.Fprintf(os.Stderr, "ramona exec-ctrlc: GenerateConsoleCtrlEvent: %v\n", err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(os.Stderr, "ramona exec-ctrlc: none of %v has a console to attach to\n", args)
	return 1
}
