// Job objects, each program's process tree on Windows: a spawn's job has
// JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE, the program starts suspended, is
// assigned, then resumed (NtResumeProcess), so all it starts is inside.
// TerminateJobObject is SIGKILL for the tree; ActiveProcesses says whether
// anything runs. A dead server's job handles close, and the trees die.
package main

import (
	"errors"
	"strings"
	"sync"
	"syscall"
	"unsafe"
)

var (
	kernel32                       = syscall.NewLazyDLL("kernel32.dll")
	ntdll                          = syscall.NewLazyDLL("ntdll.dll")
	procCreateJobObjectW           = kernel32.NewProc("CreateJobObjectW")
	procSetInformationJobObject    = kernel32.NewProc("SetInformationJobObject")
	procQueryInformationJobObj     = kernel32.NewProc("QueryInformationJobObject")
	procAssignProcessToJobObject   = kernel32.NewProc("AssignProcessToJobObject")
	procTerminateJobObject         = kernel32.NewProc("TerminateJobObject")
	procNtResumeProcess            = ntdll.NewProc("NtResumeProcess")
	procQueryFullProcessImageNameW = kernel32.NewProc("QueryFullProcessImageNameW")
)

const (
	jobObjectBasicAccountingInformation = 1
	jobObjectExtendedLimitInformation   = 9
	jobObjectLimitKillOnJobClose        = 0x2000
)

// jobExtendedLimits is JOBOBJECT_EXTENDED_LIMIT_INFORMATION (144 bytes on
// amd64 and arm64).
type jobExtendedLimits struct {
	PerProcessUserTimeLimit int64
	PerJobUserTimeLimit     int64
	LimitFlags              uint32
	MinimumWorkingSetSize   uintptr
	MaximumWorkingSetSize   uintptr
	ActiveProcessLimit      uint32
	Affinity                uintptr
	PriorityClass           uint32
	SchedulingClass         uint32
	IoInfo                  [6]uint64
	ProcessMemoryLimit      uintptr
	JobMemoryLimit          uintptr
	PeakProcessMemoryUsed   uintptr
	PeakJobMemoryUsed       uintptr
}

// jobAccounting is JOBOBJECT_BASIC_ACCOUNTING_INFORMATION.
type jobAccounting struct {
	TotalUserTime, TotalKernelTime                int64
	ThisPeriodTotalUserTime, ThisPeriodKernelTime int64
	TotalPageFaultCount, TotalProcesses           uint32
	ActiveProcesses, TotalTerminatedProcesses     uint32
}

// processJob is one spawn's job.
type processJob struct {
	handle syscall.Handle
	closed bool
}

// jobs holds the job of every spawn that may still have processes, by the
// pid of its main process (the program's "process group" on Windows). The
// loop, the exit waiters and the kill helpers use it, hence the lock.
var jobs = struct {
	sync.Mutex
	byPid map[int]*processJob
}{byPid: map[int]*processJob{}}

// newProcessJob creates a job whose processes die when it is closed.
func newProcessJob() (*processJob, error) {
	h, _, err := procCreateJobObjectW.Call(0, 0)
	if h == 0 {
		return nil, errors.New("CreateJobObject: " + err.Error())
	}
	limits := jobExtendedLimits{LimitFlags: jobObjectLimitKillOnJobClose}
	r, _, err := procSetInformationJobObject.Call(h, jobObjectExtendedLimitInformation, uintptr(unsafe.Pointer(&limits)), unsafe.Sizeof(limits))
	if r == 0 {
		syscall.CloseHandle(syscall.Handle(h))
		return nil, errors.New("SetInformationJobObject: " + err.Error())
	}
	return &processJob{handle: syscall.Handle(h)}, nil
}

// assignAndResume puts the suspended process into the job and lets it run.
func (j *processJob) assignAndResume(process syscall.Handle) error {
	if r, _, err := procAssignProcessToJobObject.Call(uintptr(j.handle), uintptr(process)); r == 0 {
		return errors.New("AssignProcessToJobObject: " + err.Error())
	}
	if status, _, _ := procNtResumeProcess.Call(uintptr(process)); status != 0 {
		return errors.New("NtResumeProcess: NTSTATUS " + hex32(uint32(status)))
	}
	return nil
}

// active is the number of processes in the job.
func (j *processJob) active() int {
	var acct jobAccounting
	r, _, _ := procQueryInformationJobObj.Call(uintptr(j.handle), jobObjectBasicAccountingInformation, uintptr(unsafe.Pointer(&acct)), unsafe.Sizeof(acct), 0)
	if r == 0 {
		return 0
	}
	return int(acct.ActiveProcesses)
}

// running reports whether the job has a process other than the console
// host of the program's console: Windows starts conhost.exe in the job of
// the process that owns a new console, and it ends by itself once the last
// process on the console has gone (or with the job's handle).
func (j *processJob) running() bool {
	n := j.active()
	if n == 0 {
		return false
	}
	pids := j.pids()
	if len(pids) < n {
		return true // more than one query lists
	}
	for _, pid := range pids {
		if !isConsoleHost(pid) {
			return true
		}
	}
	return false
}

// isConsoleHost reports whether pid runs conhost.exe.
func isConsoleHost(pid int) bool {
	h, err := syscall.OpenProcess(processQueryLimitedInfomation, false, uint32(pid))
	if err != nil {
		return false
	}
	defer syscall.CloseHandle(h)
	buf := make([]uint16, 1024)
	size := uint32(len(buf))
	if r, _, _ := procQueryFullProcessImageNameW.Call(uintptr(h), 0, uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&size))); r == 0 {
		return false
	}
	name := syscall.UTF16ToString(buf[:size])
	return strings.EqualFold(name[strings.LastIndexAny(name, `\/`)+1:], "conhost.exe")
}

// terminate kills every process of the job with exit code 1 (what
// taskkill /F gives).
func (j *processJob) terminate() error {
	if r, _, err := procTerminateJobObject.Call(uintptr(j.handle), 1); r == 0 {
		return err
	}
	return nil
}

func (j *processJob) close() {
	if !j.closed {
		j.closed = true
		syscall.CloseHandle(j.handle)
	}
}

// registerJob records the job of the spawn whose main process is pid.
func registerJob(pid int, j *processJob) {
	jobs.Lock()
	jobs.byPid[pid] = j
	jobs.Unlock()
}

// jobOf is the job of the spawn whose main process is pid; nil once it is
// gone. A job found empty (but for its console host) is closed and
// forgotten, so its number can never reach a later process.
func jobOf(pid int) *processJob {
	jobs.Lock()
	defer jobs.Unlock()
	j := jobs.byPid[pid]
	if j != nil && !j.running() {
		j.close()
		delete(jobs.byPid, pid)
		return nil
	}
	return j
}

func hex32(v uint32) string {
	const digits = "0123456789abcdef"
	b := []byte("0x00000000")
	for i := 9; i >= 2; i-- {
		b[i] = digits[v&15]
		v >>= 4
	}
	return string(b)
}
