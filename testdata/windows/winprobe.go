//go:build ignore

// Winprobe finds out which Windows facilities Ramona's port can rely on when
// it runs under Wine (or on Windows): pipes, console control events, job
// objects, sockets, renaming open log files, services. It is one program with
// one subcommand per probe; it re-executes itself as the child programs.
// testdata/windows/run-probes builds it (GOOS=windows) and runs every probe.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// Exact lower-case names: the syscall package then loads them from system32
// only (they are in Go's list of system DLLs), never from the current dir.
var (
	kernel32 = syscall.NewLazyDLL("kernel32.dll")
	ntdll    = syscall.NewLazyDLL("ntdll.dll")
	advapi32 = syscall.NewLazyDLL("advapi32.dll")
	iphlpapi = syscall.NewLazyDLL("iphlpapi.dll")

	procCreateJobObjectW          = kernel32.NewProc("CreateJobObjectW")
	procSetInformationJobObject   = kernel32.NewProc("SetInformationJobObject")
	procQueryInformationJobObject = kernel32.NewProc("QueryInformationJobObject")
	procAssignProcessToJobObject  = kernel32.NewProc("AssignProcessToJobObject")
	procTerminateJobObject        = kernel32.NewProc("TerminateJobObject")
	procIsProcessInJob            = kernel32.NewProc("IsProcessInJob")
	procGenerateConsoleCtrlEvent  = kernel32.NewProc("GenerateConsoleCtrlEvent")
	procAllocConsole              = kernel32.NewProc("AllocConsole")
	procFreeConsole               = kernel32.NewProc("FreeConsole")
	procAttachConsole             = kernel32.NewProc("AttachConsole")
	procSetConsoleCtrlHandler     = kernel32.NewProc("SetConsoleCtrlHandler")
	procGetConsoleWindow          = kernel32.NewProc("GetConsoleWindow")
	procGetConsoleProcessList     = kernel32.NewProc("GetConsoleProcessList")
	procNtResumeProcess           = ntdll.NewProc("NtResumeProcess")
	procK32GetProcessMemoryInfo   = kernel32.NewProc("K32GetProcessMemoryInfo")
	// syscall's own wrappers of these two have the wrong key type (uint32).
	procCreateIoCompletionPort    = kernel32.NewProc("CreateIoCompletionPort")
	procGetQueuedCompletionStatus = kernel32.NewProc("GetQueuedCompletionStatus")

	procStartServiceCtrlDispatcherW   = advapi32.NewProc("StartServiceCtrlDispatcherW")
	procRegisterServiceCtrlHandlerExW = advapi32.NewProc("RegisterServiceCtrlHandlerExW")
	procSetServiceStatus              = advapi32.NewProc("SetServiceStatus")
	procOpenSCManagerW                = advapi32.NewProc("OpenSCManagerW")
	procCreateServiceW                = advapi32.NewProc("CreateServiceW")
	procOpenServiceW                  = advapi32.NewProc("OpenServiceW")
	procStartServiceW                 = advapi32.NewProc("StartServiceW")
	procControlService                = advapi32.NewProc("ControlService")
	procQueryServiceStatus            = advapi32.NewProc("QueryServiceStatus")
	procDeleteService                 = advapi32.NewProc("DeleteService")
	procCloseServiceHandle            = advapi32.NewProc("CloseServiceHandle")
	procChangeServiceConfig2W         = advapi32.NewProc("ChangeServiceConfig2W")

	procGetExtendedTcpTable = iphlpapi.NewProc("GetExtendedTcpTable")
)

const (
	createSuspended       = 0x00000004
	createNewProcessGroup = 0x00000200
	createNewConsole      = 0x00000010
	ctrlCEvent            = 0
	ctrlBreakEvent        = 1

	processSetQuota        = 0x0100
	processSuspendResume   = 0x0800
	processQueryLimited    = 0x1000
	processQueryInfo       = 0x0400
	processVMRead          = 0x0010
	jobLimitKillOnJobClose = 0x2000

	jobObjectBasicAccountingInformation = 1
	jobObjectBasicProcessIDList         = 3
	jobObjectAssociateCompletionPort    = 7
	jobObjectExtendedLimitInformation   = 9

	fileShareRead   = 0x1
	fileShareWrite  = 0x2
	fileShareDelete = 0x4
	fileAppendData  = 0x4
	fileReadAttrs   = 0x80

	errorFailedServiceControllerConnect = 1063
)

// The C structs, laid out as on windows/amd64.
type jobBasicLimit struct {
	PerProcessUserTimeLimit int64
	PerJobUserTimeLimit     int64
	LimitFlags              uint32
	MinimumWorkingSetSize   uintptr
	MaximumWorkingSetSize   uintptr
	ActiveProcessLimit      uint32
	Affinity                uintptr
	PriorityClass           uint32
	SchedulingClass         uint32
}

type jobExtendedLimit struct {
	Basic                 jobBasicLimit
	IoCounters            [6]uint64
	ProcessMemoryLimit    uintptr
	JobMemoryLimit        uintptr
	PeakProcessMemoryUsed uintptr
	PeakJobMemoryUsed     uintptr
}

type jobBasicAccounting struct {
	TotalUserTime             int64
	TotalKernelTime           int64
	ThisPeriodTotalUserTime   int64
	ThisPeriodTotalKernelTime int64
	TotalPageFaultCount       uint32
	TotalProcesses            uint32
	ActiveProcesses           uint32
	TotalTerminatedProcesses  uint32
}

type serviceStatus struct {
	ServiceType             uint32
	CurrentState            uint32
	ControlsAccepted        uint32
	Win32ExitCode           uint32
	ServiceSpecificExitCode uint32
	CheckPoint              uint32
	WaitHint                uint32
}

type serviceTableEntry struct {
	name *uint16
	proc uintptr
}

var failures int

func report(ok bool, name, format string, args ...any) {
	word := "PASS"
	if !ok {
		word = "FAIL"
		failures++
	}
	fmt.Printf("%s %s: %s\n", word, name, fmt.Sprintf(format, args...))
}

func info(name, format string, args ...any) {
	fmt.Printf("INFO %s: %s\n", name, fmt.Sprintf(format, args...))
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: winprobe PROBE [ARGS]; probes: hello exit exec ctrlbreak job jobholder waitgone tcp unix rename service scm")
		os.Exit(2)
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "hello":
		fmt.Printf("hello from %s/%s, %s\n", runtime.GOOS, runtime.GOARCH, runtime.Version())
		fmt.Fprintln(os.Stderr, "hello on stderr")
		return
	case "exit":
		code, _ := strconv.Atoi(args[0])
		os.Exit(code)
	case "panic":
		panic("winprobe panics on purpose")
	case "exec":
		probeExec()
	case "ctrlbreak":
		probeCtrlBreak()
	case "job":
		probeJob()
	case "jobholder":
		jobHolder()
	case "waitgone":
		waitGone(args)
	case "tcp":
		probeTCP()
	case "tcppeer":
		tcpPeer()
	case "unix":
		probeUnix()
	case "rename":
		probeRename()
	case "service":
		runService(args)
	case "scm":
		probeSCM(args)
	case "child-echo":
		childEcho(args)
	case "child-wait-break":
		childWaitBreak(args)
	case "child-tree":
		childTree()
	case "child-sleep":
		time.Sleep(60 * time.Second)
		os.Exit(4)
	default:
		fmt.Fprintf(os.Stderr, "winprobe: unknown probe %q\n", os.Args[1])
		os.Exit(2)
	}
	if failures > 0 {
		os.Exit(1)
	}
}

func self() string {
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	return exe
}

// ---- children ----

// childEcho copies stdin to stdout, says where it runs on stderr, exits args[0].
func childEcho(args []string) {
	n, err := io.Copy(os.Stdout, os.Stdin)
	wd, _ := os.Getwd()
	fmt.Fprintf(os.Stderr, "copied=%d err=%v PROBE_VAR=%s cwd=%s\n", n, err, os.Getenv("PROBE_VAR"), wd)
	code, _ := strconv.Atoi(args[0])
	os.Exit(code)
}

// childWaitBreak prints "ready PID", then "got interrupt PID" when a console
// control event reaches it. With "tree" it first starts one more of itself
// (same process group, same stdout).
func childWaitBreak(args []string) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	if len(args) > 0 && args[0] == "tree" {
		c := exec.Command(self(), "child-wait-break")
		c.Stdout = os.Stdout
		if err := c.Start(); err != nil {
			fmt.Printf("grandchild start: %v\n", err)
		}
	}
	fmt.Printf("ready %d\n", os.Getpid())
	select {
	case <-sig:
		fmt.Printf("got interrupt %d\n", os.Getpid())
		os.Exit(0)
	case <-time.After(10 * time.Second):
		fmt.Printf("timeout %d\n", os.Getpid())
		os.Exit(3)
	}
}

// childTree starts a grandchild, prints "tree CHILDPID GRANDCHILDPID", sleeps.
func childTree() {
	c := exec.Command(self(), "child-sleep")
	if err := c.Start(); err != nil {
		fmt.Printf("grandchild start: %v\n", err)
		os.Exit(5)
	}
	fmt.Printf("tree %d %d\n", os.Getpid(), c.Process.Pid)
	time.Sleep(60 * time.Second)
	os.Exit(4)
}

// ---- exec with pipes ----

func probeExec() {
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	c := exec.Command(self(), "child-echo", "7")
	c.Stdin = bytes.NewReader(data)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	c.Env = append(os.Environ(), "PROBE_VAR=hello world")
	c.Dir = os.TempDir()
	start := time.Now()
	err := c.Run()
	took := time.Since(start)
	var ee *exec.ExitError
	code := -1
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	}
	report(bytes.Equal(out.Bytes(), data), "exec.stdout", "1 MiB through stdin->child->stdout pipes, got %d bytes back in %v", out.Len(), took.Round(time.Millisecond))
	report(code == 7, "exec.exitcode", "child exit 7 seen as %d (%v)", code, err)
	report(strings.Contains(errb.String(), "PROBE_VAR=hello world") && strings.Contains(errb.String(), "cwd="+os.TempDir()),
		"exec.stderr-env-dir", "stderr %q", strings.TrimSpace(errb.String()))

	// The way Ramona spawns: os.StartProcess with pipes it made, then Wait.
	r, w, err := os.Pipe()
	if err != nil {
		report(false, "exec.startprocess", "pipe: %v", err)
		return
	}
	p, err := os.StartProcess(self(), []string{self(), "hello"}, &os.ProcAttr{Files: []*os.File{nil, w, w}})
	w.Close()
	if err != nil {
		report(false, "exec.startprocess", "start: %v", err)
		return
	}
	got, _ := io.ReadAll(r)
	st, err := p.Wait()
	report(err == nil && st.ExitCode() == 0 && strings.Contains(string(got), "hello from windows"), "exec.startprocess",
		"os.StartProcess + os.Pipe: %q, exit %v", strings.TrimSpace(string(got)), st)
}

// ---- console control events ----

func consoleState() string {
	win, _, _ := procGetConsoleWindow.Call()
	var ids [16]uint32
	n, _, err := procGetConsoleProcessList.Call(uintptr(unsafe.Pointer(&ids[0])), 16)
	return fmt.Sprintf("GetConsoleWindow=%#x GetConsoleProcessList=%d (%v)", win, n, errnoOf(n, err))
}

func errnoOf(r uintptr, err error) any {
	if r != 0 {
		return "ok"
	}
	return err
}

// breakGroup starts child-wait-break (with "tree": two processes) in a new
// process group and sends CTRL_BREAK_EVENT to the group.
func breakGroup(label string, tree bool) {
	sendBreak(label, tree, createNewProcessGroup, func(pid int) (uintptr, error) {
		r, _, err := procGenerateConsoleCtrlEvent.Call(ctrlBreakEvent, uintptr(pid))
		return r, err
	})
}

// sendBreak starts child-wait-break with flags and calls send with its pid
// once it is ready.
func sendBreak(label string, tree bool, flags uint32, send func(pid int) (uintptr, error)) {
	args := []string{"child-wait-break"}
	want := 1
	if tree {
		args = append(args, "tree")
		want = 2
	}
	c := exec.Command(self(), args...)
	c.SysProcAttr = &syscall.SysProcAttr{CreationFlags: flags}
	stdout, err := c.StdoutPipe()
	if err != nil {
		report(false, label, "pipe: %v", err)
		return
	}
	if err := c.Start(); err != nil {
		report(false, label, "start: %v", err)
		return
	}
	lines := make(chan string, 16)
	go func() { // ends at EOF of the child's stdout
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	ready, got := 0, 0
	var seen []string
	deadline := time.After(30 * time.Second)
	for ready < want {
		select {
		case l, ok := <-lines:
			if !ok {
				report(false, label, "child ended before ready: %q", seen)
				return
			}
			seen = append(seen, l)
			if strings.HasPrefix(l, "ready") {
				ready++
			}
		case <-deadline:
			report(false, label, "no ready line: %q", seen)
			c.Process.Kill()
			return
		}
	}
	start := time.Now()
	r, cerr := send(c.Process.Pid)
	if r == 0 {
		c.Process.Kill() // nothing was sent: do not wait for the child's timeout
	}
	for l := range lines {
		seen = append(seen, l)
		if strings.HasPrefix(l, "got interrupt") {
			got++
		}
	}
	werr := c.Wait()
	report(got == want, label, "GenerateConsoleCtrlEvent -> %v; %d of %d processes saw it in %v; child %v; lines %q",
		errnoOf(r, cerr), got, want, time.Since(start).Round(time.Millisecond), werr, seen)
}

// sendEvent returns a sender of event to the child's own group (toGroup0
// false) or to every process on the console (group 0; the parent ignores
// CTRL_C meanwhile and its Notify channel catches a CTRL_BREAK).
func sendEvent(event uintptr, toGroup0 bool) func(pid int) (uintptr, error) {
	return func(pid int) (uintptr, error) {
		target := uintptr(pid)
		if toGroup0 {
			target = 0
			procSetConsoleCtrlHandler.Call(0, 1)
			defer procSetConsoleCtrlHandler.Call(0, 0)
			defer time.Sleep(500 * time.Millisecond) // delivery runs on a new thread
		}
		r, _, err := procGenerateConsoleCtrlEvent.Call(event, target)
		return r, err
	}
}

func probeCtrlBreak() {
	own := make(chan os.Signal, 4)
	signal.Notify(own, os.Interrupt)
	info("ctrlbreak.console", "before: %s", consoleState())
	breakGroup("ctrlbreak.inherited-console", false)

	r, _, err := procAllocConsole.Call()
	info("ctrlbreak.allocconsole", "AllocConsole -> %v; after: %s", errnoOf(r, err), consoleState())
	if r == 0 {
		r, _, err = procFreeConsole.Call()
		info("ctrlbreak.freeconsole", "FreeConsole -> %v; after: %s", errnoOf(r, err), consoleState())
		r, _, err = procAllocConsole.Call()
		info("ctrlbreak.allocconsole-again", "AllocConsole -> %v; after: %s", errnoOf(r, err), consoleState())
	}
	breakGroup("ctrlbreak.break-to-new-group", false)
	breakGroup("ctrlbreak.break-to-new-group-of-two", true)
	// Windows itself disables CTRL_C in a new group; this says what Wine does.
	sendBreak("ctrlbreak.ctrl-c-to-new-group", false, createNewProcessGroup, sendEvent(ctrlCEvent, false))
	noHandler()
	select {
	case <-own:
		report(false, "ctrlbreak.parent-untouched", "the parent got the children's event too")
	default:
		report(true, "ctrlbreak.parent-untouched", "the parent (another group) did not get it")
	}

	sendBreak("ctrlbreak.break-to-group-0", false, 0, sendEvent(ctrlBreakEvent, true))
	sendBreak("ctrlbreak.ctrl-c-to-group-0", false, 0, sendEvent(ctrlCEvent, true))
	sendBreak("ctrlbreak.ctrl-c-to-group-0-tree", true, 0, sendEvent(ctrlCEvent, true))

	// The other way: the child gets its own console; the parent attaches to
	// it, sends the event to every process on it (group 0), and detaches.
	for _, ev := range []struct {
		name  string
		event uintptr
	}{{"break", ctrlBreakEvent}, {"ctrl-c", ctrlCEvent}} {
		sendBreak("ctrlbreak.attachconsole-"+ev.name, false, createNewConsole, func(pid int) (uintptr, error) {
			procFreeConsole.Call()
			defer procAllocConsole.Call()
			defer procFreeConsole.Call()
			if r, _, err := procAttachConsole.Call(uintptr(pid)); r == 0 {
				return 0, fmt.Errorf("AttachConsole: %w", err)
			}
			return sendEvent(ev.event, true)(pid)
		})
	}
	for len(own) > 0 {
		<-own
	}
}

// noHandler: a child without a handler, whose default action ends it.
func noHandler() {
	c := exec.Command(self(), "child-sleep")
	c.SysProcAttr = &syscall.SysProcAttr{CreationFlags: createNewProcessGroup}
	if err := c.Start(); err != nil {
		report(false, "ctrlbreak.no-handler", "start: %v", err)
		return
	}
	time.Sleep(time.Second) // let the Go runtime install its console handler
	start := time.Now()
	r, _, cerr := procGenerateConsoleCtrlEvent.Call(ctrlBreakEvent, uintptr(c.Process.Pid))
	if r == 0 {
		c.Process.Kill() // nothing was sent: do not wait for the child's timeout
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }() // ends when the child does
	select {
	case werr := <-done:
		report(r != 0, "ctrlbreak.no-handler", "GenerateConsoleCtrlEvent -> %v; child ended in %v: %v (exit %#x)",
			errnoOf(r, cerr), time.Since(start).Round(time.Millisecond), werr, uint32(c.ProcessState.ExitCode()))
	case <-time.After(10 * time.Second):
		c.Process.Kill()
		<-done
		report(false, "ctrlbreak.no-handler", "GenerateConsoleCtrlEvent -> %v; child still alive after 10s", errnoOf(r, cerr))
	}
}

// ---- job objects ----

func newKillOnCloseJob() (syscall.Handle, error) {
	h, _, err := procCreateJobObjectW.Call(0, 0)
	if h == 0 {
		return 0, fmt.Errorf("CreateJobObjectW: %w", err)
	}
	var lim jobExtendedLimit
	lim.Basic.LimitFlags = jobLimitKillOnJobClose
	r, _, err := procSetInformationJobObject.Call(h, jobObjectExtendedLimitInformation, uintptr(unsafe.Pointer(&lim)), unsafe.Sizeof(lim))
	if r == 0 {
		syscall.CloseHandle(syscall.Handle(h))
		return 0, fmt.Errorf("SetInformationJobObject(KILL_ON_JOB_CLOSE, size %d): %w", unsafe.Sizeof(lim), err)
	}
	return syscall.Handle(h), nil
}

// startTreeInJob starts child-tree suspended in its own process group, puts
// it in job, resumes it, and returns the child and grandchild pids.
func startTreeInJob(job syscall.Handle, suspended bool) (*exec.Cmd, [2]int, error) {
	var pids [2]int
	flags := uint32(createNewProcessGroup)
	if suspended {
		flags |= createSuspended
	}
	c := exec.Command(self(), "child-tree")
	c.SysProcAttr = &syscall.SysProcAttr{CreationFlags: flags}
	stdout, err := c.StdoutPipe()
	if err != nil {
		return nil, pids, err
	}
	if err := c.Start(); err != nil {
		return nil, pids, err
	}
	ph, err := syscall.OpenProcess(processSetQuota|syscall.PROCESS_TERMINATE|processSuspendResume|processQueryLimited, false, uint32(c.Process.Pid))
	if err != nil {
		c.Process.Kill()
		return nil, pids, fmt.Errorf("OpenProcess: %w", err)
	}
	defer syscall.CloseHandle(ph)
	if r, _, err := procAssignProcessToJobObject.Call(uintptr(job), uintptr(ph)); r == 0 {
		c.Process.Kill()
		return nil, pids, fmt.Errorf("AssignProcessToJobObject: %w", err)
	}
	if suspended {
		if st, _, _ := procNtResumeProcess.Call(uintptr(ph)); st != 0 {
			c.Process.Kill()
			return nil, pids, fmt.Errorf("NtResumeProcess: status %#x", st)
		}
	}
	line, err := readLine(stdout, 30*time.Second)
	if err != nil {
		c.Process.Kill()
		return nil, pids, err
	}
	if _, err := fmt.Sscanf(line, "tree %d %d", &pids[0], &pids[1]); err != nil {
		return nil, pids, fmt.Errorf("child said %q", line)
	}
	return c, pids, nil
}

func readLine(r io.Reader, limit time.Duration) (string, error) {
	ch := make(chan string, 1)
	go func() { // ends at the first line or EOF
		sc := bufio.NewScanner(r)
		sc.Scan()
		ch <- sc.Text()
	}()
	select {
	case l := <-ch:
		return l, nil
	case <-time.After(limit):
		return "", errors.New("no line from the child")
	}
}

// gone waits up to limit for pid to end and says how it ended.
func gone(pid int, limit time.Duration) (bool, string) {
	h, err := syscall.OpenProcess(syscall.SYNCHRONIZE|processQueryLimited, false, uint32(pid))
	if err != nil {
		return true, fmt.Sprintf("pid %d gone (OpenProcess: %v)", pid, err)
	}
	defer syscall.CloseHandle(h)
	ev, _ := syscall.WaitForSingleObject(h, uint32(limit/time.Millisecond))
	var code uint32
	syscall.GetExitCodeProcess(h, &code)
	if ev != syscall.WAIT_OBJECT_0 {
		return false, fmt.Sprintf("pid %d still running after %v", pid, limit)
	}
	return true, fmt.Sprintf("pid %d ended with %d", pid, code)
}

func inJob(pid int, job syscall.Handle) string {
	h, err := syscall.OpenProcess(processQueryInfo, false, uint32(pid))
	if err != nil {
		return err.Error()
	}
	defer syscall.CloseHandle(h)
	var in int32
	r, _, err := procIsProcessInJob.Call(uintptr(h), uintptr(job), uintptr(unsafe.Pointer(&in)))
	if r == 0 {
		return "IsProcessInJob: " + err.Error()
	}
	return strconv.FormatBool(in != 0)
}

func accounting(job syscall.Handle) string {
	var acc jobBasicAccounting
	r, _, err := procQueryInformationJobObject.Call(uintptr(job), jobObjectBasicAccountingInformation, uintptr(unsafe.Pointer(&acc)), unsafe.Sizeof(acc), 0)
	if r == 0 {
		return "QueryInformationJobObject: " + err.Error()
	}
	return fmt.Sprintf("active=%d total=%d terminated=%d user=%v kernel=%v", acc.ActiveProcesses, acc.TotalProcesses,
		acc.TotalTerminatedProcesses, time.Duration(acc.TotalUserTime*100), time.Duration(acc.TotalKernelTime*100))
}

// members lists the job's pids with each one's working set and CPU time:
// what status would show as the program's MEM and CPU on Windows.
func members(job syscall.Handle) string {
	var list struct {
		Assigned, InList uint32
		IDs              [64]uintptr
	}
	r, _, err := procQueryInformationJobObject.Call(uintptr(job), jobObjectBasicProcessIDList, uintptr(unsafe.Pointer(&list)), unsafe.Sizeof(list), 0)
	if r == 0 {
		return "JobObjectBasicProcessIdList: " + err.Error()
	}
	var parts []string
	for _, id := range list.IDs[:list.InList] {
		h, err := syscall.OpenProcess(processQueryLimited|processVMRead, false, uint32(id))
		if err != nil {
			parts = append(parts, fmt.Sprintf("%d: %v", id, err))
			continue
		}
		var mem struct {
			Cb                                                 uint32
			PageFaultCount                                     uint32
			PeakWorkingSetSize, WorkingSetSize                 uintptr
			QuotaPeakPagedPoolUsage, QuotaPagedPoolUsage       uintptr
			QuotaPeakNonPagedPoolUsage, QuotaNonPagedPoolUsage uintptr
			PagefileUsage, PeakPagefileUsage                   uintptr
		}
		mem.Cb = uint32(unsafe.Sizeof(mem))
		mr, _, merr := procK32GetProcessMemoryInfo.Call(uintptr(h), uintptr(unsafe.Pointer(&mem)), uintptr(mem.Cb))
		var c, e, k, u syscall.Filetime
		terr := syscall.GetProcessTimes(h, &c, &e, &k, &u)
		syscall.CloseHandle(h)
		cpu := time.Duration((int64(k.HighDateTime)<<32|int64(k.LowDateTime))+(int64(u.HighDateTime)<<32|int64(u.LowDateTime))) * 100
		parts = append(parts, fmt.Sprintf("%d: rss=%dKiB (%v) cpu=%v (%v)", id, mem.WorkingSetSize>>10, errnoOf(mr, merr), cpu, terr))
	}
	return fmt.Sprintf("%d assigned: %s", list.Assigned, strings.Join(parts, "; "))
}

// jobPort attaches a completion port to job: the job then reports each new
// process, each exit and "no process left" (what cgroup.events does on Linux).
func jobPort(job syscall.Handle) (syscall.Handle, error) {
	p, _, err := procCreateIoCompletionPort.Call(uintptr(syscall.InvalidHandle), 0, 0, 1)
	if p == 0 {
		return 0, fmt.Errorf("CreateIoCompletionPort: %w", err)
	}
	port := syscall.Handle(p)
	assoc := struct {
		Key  uintptr
		Port syscall.Handle
	}{1, port}
	if r, _, err := procSetInformationJobObject.Call(uintptr(job), jobObjectAssociateCompletionPort, uintptr(unsafe.Pointer(&assoc)), unsafe.Sizeof(assoc)); r == 0 {
		syscall.CloseHandle(port)
		return 0, fmt.Errorf("JobObjectAssociateCompletionPortInformation: %w", err)
	}
	return port, nil
}

// portMessages reads job messages until ACTIVE_PROCESS_ZERO or limit.
func portMessages(port syscall.Handle, limit time.Duration) []string {
	names := map[uint32]string{1: "END_OF_JOB_TIME", 4: "ACTIVE_PROCESS_ZERO", 6: "NEW_PROCESS", 7: "EXIT_PROCESS", 8: "ABNORMAL_EXIT_PROCESS"}
	var msgs []string
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		var msg uint32
		var key uintptr
		var ov uintptr // for job messages: the pid, not an OVERLAPPED
		if r, _, _ := procGetQueuedCompletionStatus.Call(uintptr(port), uintptr(unsafe.Pointer(&msg)), uintptr(unsafe.Pointer(&key)), uintptr(unsafe.Pointer(&ov)), 1000); r == 0 {
			continue
		}
		msgs = append(msgs, fmt.Sprintf("%s(pid %d)", names[msg], ov))
		if msg == 4 {
			break
		}
	}
	return msgs
}

func probeJob() {
	// 0. What the job tells: members, memory, CPU, and events on a port.
	if job, err := newKillOnCloseJob(); err != nil {
		report(false, "job.port", "%v", err)
	} else {
		port, perr := jobPort(job)
		c, pids, err := startTreeInJob(job, true)
		if err != nil || perr != nil {
			report(false, "job.port", "%v %v", err, perr)
		} else {
			info("job.members", "%s", members(job))
			procTerminateJobObject.Call(uintptr(job), 9)
			c.Wait()
			msgs := portMessages(port, 10*time.Second)
			report(len(msgs) > 0 && strings.HasPrefix(msgs[len(msgs)-1], "ACTIVE_PROCESS_ZERO"), "job.port", "tree %v; completion port messages: %v", pids, msgs)
			syscall.CloseHandle(port)
		}
		syscall.CloseHandle(job)
	}

	// 1. TerminateJobObject ends child and grandchild.
	for _, suspended := range []bool{true, false} {
		label := "job.terminate"
		if !suspended {
			label = "job.terminate-assigned-after-start"
		}
		job, err := newKillOnCloseJob()
		if err != nil {
			report(false, label, "%v", err)
			continue
		}
		start := time.Now()
		c, pids, err := startTreeInJob(job, suspended)
		if err != nil {
			report(false, label, "%v", err)
			syscall.CloseHandle(job)
			continue
		}
		info(label, "tree %v up in %v; grandchild in job: %s; %s", pids, time.Since(start).Round(time.Millisecond), inJob(pids[1], job), accounting(job))
		start = time.Now()
		r, _, terr := procTerminateJobObject.Call(uintptr(job), 9)
		ok0, s0 := gone(pids[0], 10*time.Second)
		ok1, s1 := gone(pids[1], 10*time.Second)
		c.Wait()
		report(r != 0 && ok0 && ok1, label, "TerminateJobObject -> %v in %v: %s; %s; after: %s", errnoOf(r, terr), time.Since(start).Round(time.Millisecond), s0, s1, accounting(job))
		syscall.CloseHandle(job)
	}

	// 2. Closing the last job handle ends the tree (KILL_ON_JOB_CLOSE).
	job, err := newKillOnCloseJob()
	if err == nil {
		c, pids, err := startTreeInJob(job, true)
		if err != nil {
			report(false, "job.close-handle", "%v", err)
		} else {
			start := time.Now()
			syscall.CloseHandle(job)
			ok0, s0 := gone(pids[0], 10*time.Second)
			ok1, s1 := gone(pids[1], 10*time.Second)
			c.Wait()
			report(ok0 && ok1, "job.close-handle", "CloseHandle(job) in %v: %s; %s", time.Since(start).Round(time.Millisecond), s0, s1)
		}
	}

	// 3. The job's owner is killed (TerminateProcess): its handles close.
	c := exec.Command(self(), "jobholder")
	stdout, _ := c.StdoutPipe()
	if err := c.Start(); err != nil {
		report(false, "job.owner-killed", "start: %v", err)
		return
	}
	line, err := readLine(stdout, 30*time.Second)
	var pids [2]int
	if _, serr := fmt.Sscanf(line, "tree %d %d", &pids[0], &pids[1]); err != nil || serr != nil {
		report(false, "job.owner-killed", "jobholder said %q (%v)", line, err)
		c.Process.Kill()
		return
	}
	start := time.Now()
	c.Process.Kill()
	c.Wait()
	ok0, s0 := gone(pids[0], 10*time.Second)
	ok1, s1 := gone(pids[1], 10*time.Second)
	report(ok0 && ok1, "job.owner-killed", "TerminateProcess(owner) in %v: %s; %s", time.Since(start).Round(time.Millisecond), s0, s1)
}

// jobHolder is a stand-in for the server: a kill-on-close job with a tree in
// it; it prints the tree's pids and waits to be killed.
func jobHolder() {
	job, err := newKillOnCloseJob()
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	_, pids, err := startTreeInJob(job, true)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Printf("tree %d %d\n", pids[0], pids[1])
	time.Sleep(60 * time.Second)
}

// waitGone: for each pid, wait up to 15 s for it to end.
func waitGone(args []string) {
	for _, a := range args {
		pid, _ := strconv.Atoi(a)
		ok, s := gone(pid, 15*time.Second)
		report(ok, "waitgone", "%s", s)
	}
}

// ---- sockets ----

func probeTCP() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		report(false, "tcp.listen", "%v", err)
		return
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() { // ends after one accept
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	start := time.Now()
	cl, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		report(false, "tcp.dial", "%v", err)
		return
	}
	defer cl.Close()
	sv := <-accepted
	if sv == nil {
		report(false, "tcp.accept", "accept failed")
		return
	}
	defer sv.Close()
	msg := bytes.Repeat([]byte("x"), 64<<10)
	go func() { cl.Write(msg) }() // ends when written
	got := make([]byte, len(msg))
	_, err = io.ReadFull(sv, got)
	report(err == nil && bytes.Equal(got, msg), "tcp.loopback", "listen %s, dial, 64 KiB across in %v (%v)", ln.Addr(), time.Since(start).Round(time.Millisecond), err)

	// Who is the peer? The owning pid of the client's port, then its user.
	port := cl.LocalAddr().(*net.TCPAddr).Port
	pid, err := tcpOwnerPid(port)
	if err != nil {
		report(false, "tcp.peer-pid", "GetExtendedTcpTable: %v", err)
	} else {
		report(pid == os.Getpid(), "tcp.peer-pid", "client port %d owned by pid %d (we are %d); its user: %s", port, pid, os.Getpid(), processUser(pid))
	}

	if ln6, err := net.Listen("tcp", "[::1]:0"); err != nil {
		info("tcp.ipv6", "listen [::1]:0: %v", err)
	} else {
		c6, err := net.Dial("tcp", ln6.Addr().String())
		info("tcp.ipv6", "listen %s; dial: %v", ln6.Addr(), err)
		if c6 != nil {
			c6.Close()
		}
		ln6.Close()
	}
}

// tcpPeer listens on 127.0.0.1, prints "port N", and says who the owner of
// the first connection is: run-probes connects from a Linux program, which
// Wine knows nothing about.
func tcpPeer() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		report(false, "tcppeer", "%v", err)
		return
	}
	defer ln.Close()
	fmt.Printf("port %d\n", ln.Addr().(*net.TCPAddr).Port)
	c, err := ln.Accept()
	if err != nil {
		report(false, "tcppeer", "accept: %v", err)
		return
	}
	defer c.Close()
	port := c.RemoteAddr().(*net.TCPAddr).Port
	pid, err := tcpOwnerPid(port)
	info("tcppeer", "a connection from %s: owning pid %d (%v); user: %s", c.RemoteAddr(), pid, err, processUser(pid))
}

// tcpOwnerPid finds the pid that owns local tcp port on 127.0.0.1.
func tcpOwnerPid(port int) (int, error) {
	const afInet, tcpTableOwnerPidAll = 2, 5
	size := uint32(1 << 16)
	for try := 0; try < 4; try++ {
		buf := make([]byte, size)
		r, _, _ := procGetExtendedTcpTable.Call(uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&size)), 0, afInet, tcpTableOwnerPidAll, 0)
		if r == 122 { // ERROR_INSUFFICIENT_BUFFER: size now holds the need
			continue
		}
		if r != 0 {
			return 0, syscall.Errno(r)
		}
		n := *(*uint32)(unsafe.Pointer(&buf[0]))
		for i := uint32(0); i < n; i++ {
			row := (*[6]uint32)(unsafe.Pointer(&buf[4+i*24]))
			local := int(row[2]&0xff)<<8 | int(row[2]>>8&0xff) // network byte order
			if local == port {
				return int(row[5]), nil
			}
		}
		return 0, fmt.Errorf("port %d not in the %d rows", port, n)
	}
	return 0, errors.New("table keeps growing")
}

func processUser(pid int) string {
	h, err := syscall.OpenProcess(processQueryLimited, false, uint32(pid))
	if err != nil {
		return "OpenProcess: " + err.Error()
	}
	defer syscall.CloseHandle(h)
	var tok syscall.Token
	if err := syscall.OpenProcessToken(h, syscall.TOKEN_QUERY, &tok); err != nil {
		return "OpenProcessToken: " + err.Error()
	}
	defer tok.Close()
	u, err := tok.GetTokenUser()
	if err != nil {
		return "GetTokenUser: " + err.Error()
	}
	sid, _ := u.User.Sid.String()
	acct, dom, _, _ := u.User.Sid.LookupAccount("")
	return fmt.Sprintf("%s (%s\\%s)", sid, dom, acct)
}

func probeUnix() {
	dir, _ := os.MkdirTemp("", "winprobe")
	defer removeTree(dir)
	path := filepath.Join(dir, "s.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		var errno syscall.Errno
		errors.As(err, &errno)
		report(true, "unix.listen", "net.Listen(unix): %v (errno %d)", err, uint32(errno))
		return
	}
	defer ln.Close()
	go func() { // ends after one accept
		c, err := ln.Accept()
		if err == nil {
			c.Write([]byte("hi"))
			c.Close()
		}
	}()
	c, err := net.Dial("unix", path)
	if err != nil {
		report(false, "unix.dial", "%v", err)
		return
	}
	got, _ := io.ReadAll(c)
	c.Close()
	report(string(got) == "hi", "unix.listen", "AF_UNIX works: listen and dial %s, read %q", path, got)
}

// ---- renaming an open log file ----

type opener func(path string) (*os.File, error)

func openShareDelete(path string, access, disposition uint32) (*os.File, error) {
	p, err := syscall.UTF16PtrFromString(path)
	if err != nil {
		return nil, err
	}
	h, err := syscall.CreateFile(p, access, fileShareRead|fileShareWrite|fileShareDelete, nil, disposition, syscall.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(h), path), nil
}

var writers = []struct {
	name string
	open opener
}{
	{"closed-before-rename", nil},
	{"os.OpenFile", func(p string) (*os.File, error) {
		return os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	}},
	{"CreateFile+SHARE_DELETE", func(p string) (*os.File, error) {
		return openShareDelete(p, fileAppendData|fileReadAttrs|syscall.SYNCHRONIZE, syscall.OPEN_ALWAYS)
	}},
	{"os.Root.OpenFile", func(p string) (*os.File, error) {
		root, err := os.OpenRoot(filepath.Dir(p))
		if err != nil {
			return nil, err
		}
		defer root.Close()
		return root.OpenFile(filepath.Base(p), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	}},
}

var readers = []struct {
	name string
	open opener
}{
	{"no-reader", nil},
	{"os.Open", os.Open},
	{"CreateFile+SHARE_DELETE", func(p string) (*os.File, error) {
		return openShareDelete(p, syscall.GENERIC_READ, syscall.OPEN_EXISTING)
	}},
}

func probeRename() {
	for _, w := range writers {
		for _, r := range readers {
			renameCase(w.name, w.open, r.name, r.open)
		}
	}
	replaceAndRemove()
	rotateAroundReader()
	probeRemove()
}

// rotateAroundReader: app.log.1 is held by a reader when app.log must become
// app.log.1. Move the held file aside under a unique name first (a rename
// needs only the reader's SHARE_DELETE), delete it there, then rename.
func rotateAroundReader() {
	for _, r := range readers[1:] {
		label := "rename.rotate-around-reader/" + r.name
		dir, _ := os.MkdirTemp("", "winprobe")
		log := filepath.Join(dir, "app.log")
		os.WriteFile(log, []byte("new\n"), 0o644)
		os.WriteFile(log+".1", []byte("old\n"), 0o644)
		rf, err := r.open(log + ".1")
		if err != nil {
			report(false, label, "%v", err)
			continue
		}
		aside := log + ".1.deleted-" + strconv.Itoa(os.Getpid())
		err1 := os.Rename(log+".1", aside)
		err2 := os.Remove(aside)
		err3 := os.Rename(log, log+".1")
		b, _ := os.ReadFile(log + ".1")
		got, _ := io.ReadAll(rf)
		rf.Close()
		_, serr := os.Stat(aside)
		info(label, "rename aside: %v; remove aside: %v; rename app.log -> app.log.1: %v (now %q); reader still reads %q; aside after the reader closed: %v",
			err1, err2, err3, b, got, serr)
		removeTree(dir)
	}

	// POSIX rename semantics (Windows 10 1607+): replace a target that a
	// reader holds open, with FileRenameInfoEx.
	dir, _ := os.MkdirTemp("", "winprobe")
	defer removeTree(dir)
	log := filepath.Join(dir, "app.log")
	os.WriteFile(log, []byte("new\n"), 0o644)
	os.WriteFile(log+".1", []byte("old\n"), 0o644)
	rf, err := readers[2].open(log + ".1")
	if err != nil {
		report(false, "rename.posix-semantics", "%v", err)
		return
	}
	defer rf.Close()
	info("rename.posix-semantics", "FileRenameInfoEx(REPLACE_IF_EXISTS|POSIX_SEMANTICS) onto an open app.log.1: %v", posixRename(log, log+".1"))
}

var (
	procSetFileInformationByHandle = kernel32.NewProc("SetFileInformationByHandle")
	procNtSetInformationFile       = ntdll.NewProc("NtSetInformationFile")
)

func posixRename(from, to string) error {
	f, err := openShareDelete(from, 0x10000|syscall.SYNCHRONIZE, syscall.OPEN_EXISTING) // DELETE access
	if err != nil {
		return err
	}
	defer f.Close()
	name, _ := syscall.UTF16FromString(to)
	// FILE_RENAME_INFO: Flags (union with ReplaceIfExists), RootDirectory,
	// FileNameLength in bytes, FileName.
	buf := make([]byte, 24+2*len(name))
	*(*uint32)(unsafe.Pointer(&buf[0])) = 0x1 | 0x2 // REPLACE_IF_EXISTS | POSIX_SEMANTICS
	*(*uint32)(unsafe.Pointer(&buf[16])) = uint32(2 * (len(name) - 1))
	copy(unsafe.Slice((*uint16)(unsafe.Pointer(&buf[20])), len(name)), name)
	const fileRenameInfoEx = 22
	if r, _, err := procSetFileInformationByHandle.Call(f.Fd(), fileRenameInfoEx, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf))); r == 0 {
		return err
	}
	return nil
}

// probeRemove: os.Remove, os.RemoveAll and os.Root.Remove under Wine.
func probeRemove() {
	dir, _ := os.MkdirTemp("", "winprobe")
	os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644)
	report(os.Remove(filepath.Join(dir, "f")) == nil, "remove.os.Remove-file", "os.Remove of a file")
	report(os.Remove(dir) == nil, "remove.os.Remove-dir", "os.Remove of an empty dir")

	dir, _ = os.MkdirTemp("", "winprobe")
	os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644)
	err := os.RemoveAll(dir)
	_, serr := os.Stat(dir)
	info("remove.os.RemoveAll", "os.RemoveAll of a dir holding a file: %v; dir still there: %v", err, serr == nil)
	if root, err := os.OpenRoot(dir); err == nil {
		info("remove.os.Root.Remove", "os.Root.Remove of a file: %v", root.Remove("f"))
		root.Close()
	}
	if f, err := openShareDelete(filepath.Join(dir, "f"), 0x10000|syscall.SYNCHRONIZE, syscall.OPEN_EXISTING); err == nil {
		var iosb [2]uintptr
		flags := uint32(0x1 | 0x2 | 0x10) // DELETE | POSIX_SEMANTICS | IGNORE_READONLY_ATTRIBUTE, as Go asks
		const fileDispositionInformationEx = 64
		st, _, _ := procNtSetInformationFile.Call(f.Fd(), uintptr(unsafe.Pointer(&iosb)), uintptr(unsafe.Pointer(&flags)), 4, fileDispositionInformationEx)
		info("remove.why", "NtSetInformationFile(FileDispositionInformationEx) returns NTSTATUS %#x; Go falls back to the old call only on INVALID_INFO_CLASS, INVALID_PARAMETER or NOT_SUPPORTED", st)
		f.Close()
	}
	err = removeTree(dir)
	_, serr = os.Stat(dir)
	report(err == nil && serr != nil, "remove.removeTree", "walk + os.Remove: %v; gone: %v", err, serr != nil)
}

// removeTree is os.RemoveAll made of os.Remove calls (DeleteFileW and
// RemoveDirectoryW), which Wine 8 implements.
func removeTree(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if e.IsDir() {
			if err := removeTree(p); err != nil {
				return err
			}
			continue
		}
		if err := os.Remove(p); err != nil {
			return err
		}
	}
	return os.Remove(dir)
}

func renameCase(wname string, wopen opener, rname string, ropen opener) {
	label := fmt.Sprintf("rename.%s/%s", wname, rname)
	dir, _ := os.MkdirTemp("", "winprobe")
	defer removeTree(dir)
	log := filepath.Join(dir, "app.log")
	if err := os.WriteFile(log, []byte("one\n"), 0o644); err != nil {
		report(false, label, "%v", err)
		return
	}
	var wf, rf *os.File
	var err error
	if wopen != nil {
		if wf, err = wopen(log); err != nil {
			report(false, label, "writer open: %v", err)
			return
		}
		defer wf.Close()
	}
	if ropen != nil {
		if rf, err = ropen(log); err != nil {
			report(false, label, "reader open: %v", err)
			return
		}
		defer rf.Close()
	}
	err = os.Rename(log, log+".1")
	if err != nil {
		// Rotation cannot rename; it is a finding, not a probe failure.
		info(label, "os.Rename fails: %v", err)
		return
	}
	detail := "os.Rename ok"
	if wf != nil {
		_, werr := wf.WriteString("two\n")
		b, _ := os.ReadFile(log + ".1")
		detail += fmt.Sprintf("; old handle writes to the renamed file: %q (%v)", b, werr)
	}
	nf, err := os.OpenFile(log, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err == nil {
		nf.Close()
		detail += "; new app.log created"
	} else {
		detail += fmt.Sprintf("; new app.log: %v", err)
	}
	if rf != nil {
		b, rerr := io.ReadAll(rf)
		detail += fmt.Sprintf("; reader reads on: %q (%v)", b, rerr)
	}
	report(true, label, "%s", detail)
}

// replaceAndRemove: rotation also replaces app.log.1 (MoveFileEx
// REPLACE_EXISTING) and removes the oldest backup while readers hold them.
func replaceAndRemove() {
	for _, r := range readers[1:] {
		dir, _ := os.MkdirTemp("", "winprobe")
		log := filepath.Join(dir, "app.log")
		os.WriteFile(log, []byte("new\n"), 0o644)
		os.WriteFile(log+".1", []byte("old\n"), 0o644)
		rf, err := r.open(log + ".1")
		if err != nil {
			report(false, "rename.replace/"+r.name, "%v", err)
			continue
		}
		err = os.Rename(log, log+".1")
		info("rename.replace-open-target/"+r.name, "os.Rename(app.log, app.log.1) while app.log.1 is open: %v", err)
		rf.Close()
		removeTree(dir)

		dir, _ = os.MkdirTemp("", "winprobe")
		old := filepath.Join(dir, "app.log.5")
		os.WriteFile(old, []byte("oldest\n"), 0o644)
		rf, _ = r.open(old)
		err = os.Remove(old)
		_, serr := os.Stat(old)
		nf, cerr := os.OpenFile(old, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if nf != nil {
			nf.Close()
		}
		info("rename.remove-open/"+r.name, "os.Remove while open: %v; stat after: %v; create same name: %v", err, serr, cerr)
		rf.Close()
		removeTree(dir)
	}
}

// ---- services ----

const (
	serviceWin32OwnProcess = 0x10
	serviceStopped         = 1
	serviceStartPending    = 2
	serviceStopPending     = 3
	serviceRunning         = 4
	serviceAcceptStop      = 1
	serviceAcceptShutdown  = 4
	serviceControlStop     = 1
	serviceControlShutdown = 5
	scManagerAllAccess     = 0xF003F
	serviceAllAccess       = 0xF01FF
	serviceDemandStart     = 3
	serviceErrorNormal     = 1
)

var (
	svcName    string
	svcLog     *os.File
	svcHandle  uintptr
	svcStop    = make(chan uint32, 1)
	svcDone    = make(chan struct{})
	svcStarted time.Time
)

func svcLogf(format string, args ...any) {
	fmt.Fprintf(svcLog, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
}

func setStatus(state, accepts, checkpoint, waitHint uint32) {
	st := serviceStatus{ServiceType: serviceWin32OwnProcess, CurrentState: state, ControlsAccepted: accepts, CheckPoint: checkpoint, WaitHint: waitHint}
	r, _, err := procSetServiceStatus.Call(svcHandle, uintptr(unsafe.Pointer(&st)))
	svcLogf("SetServiceStatus(state %d) -> %v", state, errnoOf(r, err))
}

// serviceHandler runs on a service-manager thread for each control.
func serviceHandler(control, eventType, eventData, context uintptr) uintptr {
	svcLogf("control %d", control)
	switch control {
	case serviceControlStop, serviceControlShutdown:
		select {
		case svcStop <- uint32(control):
		default:
		}
		return 0
	case 4: // SERVICE_CONTROL_INTERROGATE
		return 0
	}
	return 120 // ERROR_CALL_NOT_IMPLEMENTED
}

// serviceMain runs on a thread the dispatcher creates, not a Go thread.
func serviceMain(argc, argv uintptr) uintptr {
	name, _ := syscall.UTF16PtrFromString(svcName)
	h, _, err := procRegisterServiceCtrlHandlerExW.Call(uintptr(unsafe.Pointer(name)), syscall.NewCallback(serviceHandler), 0)
	svcLogf("RegisterServiceCtrlHandlerExW -> %#x %v (argc %d)", h, errnoOf(h, err), argc)
	if h == 0 {
		close(svcDone)
		return 0
	}
	svcHandle = h
	setStatus(serviceStartPending, 0, 1, 5000)
	setStatus(serviceRunning, serviceAcceptStop|serviceAcceptShutdown, 0, 0)
	wd, _ := os.Getwd()
	svcLogf("running as pid %d in %s, start took %v", os.Getpid(), wd, time.Since(svcStarted).Round(time.Millisecond))
	control := <-svcStop
	svcLogf("stopping after control %d", control)
	setStatus(serviceStopPending, 0, 1, 5000)
	time.Sleep(200 * time.Millisecond) // stands in for stopping the programs
	setStatus(serviceStopped, 0, 0, 0)
	close(svcDone)
	return 0
}

// runService is the service program: winprobe service NAME LOGFILE.
func runService(args []string) {
	svcStarted = time.Now()
	svcName = args[0]
	var err error
	svcLog, err = os.OpenFile(args[1], os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	name, _ := syscall.UTF16PtrFromString(svcName)
	table := []serviceTableEntry{{name, syscall.NewCallback(serviceMain)}, {nil, 0}}
	r, _, err := procStartServiceCtrlDispatcherW.Call(uintptr(unsafe.Pointer(&table[0])))
	if r == 0 {
		if errno, _ := err.(syscall.Errno); errno == errorFailedServiceControllerConnect {
			svcLogf("not started by the service manager: %v", err)
		} else {
			svcLogf("StartServiceCtrlDispatcherW: %v", err)
		}
		os.Exit(1)
	}
	<-svcDone
	svcLogf("dispatcher returned; exiting")
}

func scmCall(p *syscall.LazyProc, args ...uintptr) (uintptr, error) {
	r, _, err := p.Call(args...)
	if r == 0 {
		return 0, fmt.Errorf("%s: %w", p.Name, err)
	}
	return r, nil
}

func queryState(svc uintptr) (uint32, error) {
	var st serviceStatus
	if _, err := scmCall(procQueryServiceStatus, svc, uintptr(unsafe.Pointer(&st))); err != nil {
		return 0, err
	}
	return st.CurrentState, nil
}

func waitState(svc uintptr, want uint32, limit time.Duration) (uint32, time.Duration) {
	start := time.Now()
	for {
		st, err := queryState(svc)
		if err != nil || st == want || time.Since(start) > limit {
			return st, time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// probeSCM does what `ramona wininstall` and `winuninstall` will: create,
// describe, start, stop and delete a service, from Go, through advapi32.
func probeSCM(args []string) {
	name := "winprobe-scm"
	if len(args) > 0 {
		name = args[0]
	}
	logPath := filepath.Join(filepath.Dir(self()), name+".log")
	os.Remove(logPath)
	u := func(s string) uintptr { p, _ := syscall.UTF16PtrFromString(s); return uintptr(unsafe.Pointer(p)) }
	// The command line the service manager runs: the program path quoted
	// (it may hold spaces), then the arguments.
	binPath := syscall.EscapeArg(self()) + " service " + name + " " + syscall.EscapeArg(logPath)

	start := time.Now()
	scm, err := scmCall(procOpenSCManagerW, 0, 0, scManagerAllAccess)
	if err != nil {
		report(false, "scm.open", "%v", err)
		return
	}
	defer procCloseServiceHandle.Call(scm)
	// A service left by an interrupted run goes first.
	if old, _ := scmCall(procOpenServiceW, scm, u(name), serviceAllAccess); old != 0 {
		var st serviceStatus
		procControlService.Call(old, serviceControlStop, uintptr(unsafe.Pointer(&st)))
		waitState(old, serviceStopped, 30*time.Second)
		procDeleteService.Call(old)
		procCloseServiceHandle.Call(old)
		info("scm.leftover", "deleted %s left by an earlier run", name)
	}
	svc, err := scmCall(procCreateServiceW, scm, u(name), u("Winprobe service"), serviceAllAccess, serviceWin32OwnProcess,
		serviceDemandStart, serviceErrorNormal, u(binPath), 0, 0, 0, 0, 0)
	report(err == nil, "scm.create", "CreateServiceW %q: %v (%v)", binPath, err, time.Since(start).Round(time.Millisecond))
	if err != nil {
		return
	}
	desc := struct{ text uintptr }{u("Probe of the service calls Ramona's wininstall will make")}
	_, err = scmCall(procChangeServiceConfig2W, svc, 1, uintptr(unsafe.Pointer(&desc)))
	report(err == nil, "scm.describe", "ChangeServiceConfig2W(SERVICE_CONFIG_DESCRIPTION): %v", err)

	_, err = scmCall(procStartServiceW, svc, 0, 0)
	st, took := waitState(svc, serviceRunning, 30*time.Second)
	report(err == nil && st == serviceRunning, "scm.start", "StartServiceW: %v; state %d (4 = RUNNING) after %v", err, st, took.Round(time.Millisecond))

	var status serviceStatus
	_, err = scmCall(procControlService, svc, serviceControlStop, uintptr(unsafe.Pointer(&status)))
	st, took = waitState(svc, serviceStopped, 30*time.Second)
	report(err == nil && st == serviceStopped, "scm.stop", "ControlService(STOP): %v; state %d (1 = STOPPED) after %v", err, st, took.Round(time.Millisecond))

	_, err = scmCall(procDeleteService, svc)
	report(err == nil, "scm.delete", "DeleteService: %v", err)
	procCloseServiceHandle.Call(svc)
	svc2, err := scmCall(procOpenServiceW, scm, u(name), serviceAllAccess)
	if svc2 != 0 {
		procCloseServiceHandle.Call(svc2)
	}
	report(svc2 == 0, "scm.deleted", "OpenServiceW after delete: %v", err)

	b, _ := os.ReadFile(logPath)
	report(bytes.Contains(b, []byte("dispatcher returned")), "scm.service-log", "the service's own log:\n%s", b)
}
