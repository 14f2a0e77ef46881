// The Windows service: `wininstall [NAME]` registers `ramona -c FILE...
// daemon` (files made absolute), `winuninstall [NAME]` stops and removes it.
// Started by the service manager, `ramona daemon` runs as the service
// (runAsService): log to the server log file, states reported, STOP and
// SHUTDOWN an orderly stop. Pure syscall: advapi32 through NewLazyDLL.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

var (
	advapi32                         = syscall.NewLazyDLL("advapi32.dll")
	procOpenSCManagerW               = advapi32.NewProc("OpenSCManagerW")
	procCreateServiceW               = advapi32.NewProc("CreateServiceW")
	procOpenServiceW                 = advapi32.NewProc("OpenServiceW")
	procDeleteService                = advapi32.NewProc("DeleteService")
	procControlService               = advapi32.NewProc("ControlService")
	procQueryServiceStatus           = advapi32.NewProc("QueryServiceStatus")
	procCloseServiceHandle           = advapi32.NewProc("CloseServiceHandle")
	procChangeServiceConfig2W        = advapi32.NewProc("ChangeServiceConfig2W")
	procStartServiceCtrlDispatcherW  = advapi32.NewProc("StartServiceCtrlDispatcherW")
	procRegisterServiceCtrlHandlerEx = advapi32.NewProc("RegisterServiceCtrlHandlerExW")
	procSetServiceStatus             = advapi32.NewProc("SetServiceStatus")
)

const (
	scManagerAllAccess    = 0xF003F
	serviceAllAccess      = 0xF01FF
	serviceWin32OwnProc   = 0x10
	serviceAutoStart      = 2
	serviceErrorNormal    = 1
	serviceConfigDescr    = 1
	serviceControlStop    = 1
	serviceControlInterr  = 4
	serviceControlShutdwn = 5
	serviceStopped        = 1
	serviceStartPending   = 2
	serviceStopPending    = 3
	serviceRunning        = 4
	serviceAcceptStop     = 1
	serviceAcceptShutdown = 4
	errorServiceNotActive = 1062
	errorNotAService      = 1063 // ERROR_FAILED_SERVICE_CONTROLLER_CONNECT
	errorServiceExists    = 1073
	errorNoSuchService    = 1060
	serviceStopWaitHint   = 30 * time.Second
)

// serviceStatus is SERVICE_STATUS.
type serviceStatus struct {
	ServiceType             uint32
	CurrentState            uint32
	ControlsAccepted        uint32
	Win32ExitCode           uint32
	ServiceSpecificExitCode uint32
	CheckPoint              uint32
	WaitHint                uint32
}

// serviceTableEntry is SERVICE_TABLE_ENTRYW.
type serviceTableEntry struct {
	name *uint16
	proc uintptr
}

// serviceName is NAME, else the configuration's appname.
func (c *cmdline) serviceName(args []string) (string, bool) {
	switch {
	case len(args) > 1:
		c.errorf("usage: %s [NAME]", "wininstall|winuninstall")
		return "", false
	case len(args) == 1:
		return args[0], true
	}
	return c.cfg.AppName, true
}

// winInstall is `ramona wininstall [NAME]`.
func (c *cmdline) winInstall(args []string) int {
	name, ok := c.serviceName(args)
	if !ok {
		return exitUsage
	}
	exe, err := os.Executable()
	if err != nil {
		c.errorf("wininstall: cannot find my own executable: %v", err)
		return exitFailed
	}
	cmdLine := []string{syscall.EscapeArg(exe)}
	for _, a := range reexecPrefix {
		cmdLine = append(cmdLine, syscall.EscapeArg(a))
	}
	for _, f := range c.cfg.Files {
		abs, err := filepath.Abs(f)
		if err != nil {
			c.errorf("wininstall: %s: %v", f, err)
			return exitFailed
		}
		cmdLine = append(cmdLine, "-c", syscall.EscapeArg(abs))
	}
	cmdLine = append(cmdLine, "daemon")
	m, err := openServiceManager()
	if err != nil {
		c.errorf("wininstall: %v (an administrator may install services)", err)
		return exitFailed
	}
	defer procCloseServiceHandle.Call(m)
	display := "Ramona (" + name + ")"
	h, _, err := procCreateServiceW.Call(m, utf16Arg(name), utf16Arg(display), serviceAllAccess, serviceWin32OwnProc,
		serviceAutoStart, serviceErrorNormal, utf16Arg(strings.Join(cmdLine, " ")), 0, 0, 0, 0, 0)
	if h == 0 {
		if errors.Is(err, syscall.Errno(errorServiceExists)) {
			c.errorf("wininstall: a service named %s exists already; remove it first (ramona winuninstall %s) or give another NAME", name, name)
		} else {
			c.errorf("wininstall: cannot create the service %s: %v", name, err)
		}
		return exitFailed
	}
	defer procCloseServiceHandle.Call(h)
	descr := utf16Ptr("Ramona supervises the programs of " + strings.Join(c.cfg.Files, ", "))
	procChangeServiceConfig2W.Call(h, serviceConfigDescr, uintptr(unsafe.Pointer(&descr)))
	c.say("installed the service %s: %s", name, strings.Join(cmdLine, " "))
	c.say("it starts with Windows; start it now with: sc start %s", name)
	return exitOK
}

// winUninstall is `ramona winuninstall [NAME]`: stops the service if it
// runs (waiting for the orderly stop of its programs), then removes it.
func (c *cmdline) winUninstall(args []string) int {
	name, ok := c.serviceName(args)
	if !ok {
		return exitUsage
	}
	m, err := openServiceManager()
	if err != nil {
		c.errorf("winuninstall: %v (an administrator may remove services)", err)
		return exitFailed
	}
	defer procCloseServiceHandle.Call(m)
	h, _, err := procOpenServiceW.Call(m, utf16Arg(name), serviceAllAccess)
	if h == 0 {
		if errors.Is(err, syscall.Errno(errorNoSuchService)) {
			c.errorf("winuninstall: there is no service named %s", name)
		} else {
			c.errorf("winuninstall: cannot open the service %s: %v", name, err)
		}
		return exitFailed
	}
	defer procCloseServiceHandle.Call(h)
	var st serviceStatus
	if r, _, err := procControlService.Call(h, serviceControlStop, uintptr(unsafe.Pointer(&st))); r == 0 && !errors.Is(err, syscall.Errno(errorServiceNotActive)) {
		c.errorf("winuninstall: cannot stop the service %s: %v", name, err)
		return exitFailed
	}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		if r, _, err := procQueryServiceStatus.Call(h, uintptr(unsafe.Pointer(&st))); r == 0 {
			c.errorf("winuninstall: cannot query the service %s: %v", name, err)
			return exitFailed
		}
		if st.CurrentState == serviceStopped {
			break
		}
		if time.Now().After(deadline) {
			c.errorf("winuninstall: the service %s did not stop within 5 minutes (state %d); it was not removed", name, st.CurrentState)
			return exitFailed
		}
		time.Sleep(200 * time.Millisecond)
	}
	if r, _, err := procDeleteService.Call(h); r == 0 {
		c.errorf("winuninstall: cannot remove the service %s: %v", name, err)
		return exitFailed
	}
	c.say("removed the service %s", name)
	return exitOK
}

func openServiceManager() (uintptr, error) {
	m, _, err := procOpenSCManagerW.Call(0, 0, scManagerAllAccess)
	if m == 0 {
		return 0, fmt.Errorf("cannot open the service manager: %v", err)
	}
	return m, nil
}

func utf16Ptr(s string) *uint16 {
	p, _ := syscall.UTF16PtrFromString(s)
	return p
}

func utf16Arg(s string) uintptr { return uintptr(unsafe.Pointer(utf16Ptr(s))) }

// windowsService is the running service's state, shared by the dispatcher's
// callbacks and the server goroutine.
type windowsService struct {
	mu        sync.Mutex
	handle    uintptr
	status    serviceStatus
	run       func() int
	exitCode  int
	stopAsked bool
}

// theService is the one service this process runs (callbacks carry no
// context the Go side could use).
var theService *windowsService

// runAsService runs run as the service the service manager started, and
// reports true; when this process was not started by the service manager
// it returns at once, false.
func runAsService(run func() int) (int, bool) {
	theService = &windowsService{run: run}
	table := []serviceTableEntry{
		{name: utf16Ptr(""), proc: syscall.NewCallback(serviceMain)},
		{},
	}
	r, _, err := procStartServiceCtrlDispatcherW.Call(uintptr(unsafe.Pointer(&table[0])))
	if r == 0 {
		if errors.Is(err, syscall.Errno(errorNotAService)) {
			return 0, false
		}
		fmt.Fprintf(os.Stderr, "ramona: cannot connect to the service manager: %v\n", err)
		return exitFailed, true
	}
	return theService.exitCode, true
}

// serviceMain is the service's main function, on a dispatcher thread.
func serviceMain(argc, argv uintptr) uintptr {
	svc := theService
	h, _, _ := procRegisterServiceCtrlHandlerEx.Call(utf16Arg(""), syscall.NewCallback(serviceControl), 0)
	if h == 0 {
		return 0
	}
	svc.handle = h
	svc.report(serviceStartPending, 0, 10*time.Second)
	done := make(chan int, 1)
	go func() { done <- svc.run() }() // ends when the server has stopped every program
	svc.report(serviceRunning, 0, 0)
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	for {
		select {
		case code := <-done:
			svc.exitCode = code
			svc.report(serviceStopped, code, 0)
			return 0
		case <-ticker.C:
			svc.mu.Lock()
			stopping := svc.stopAsked
			svc.mu.Unlock()
			if stopping { // a long orderly stop: the manager sees progress
				svc.report(serviceStopPending, 0, serviceStopWaitHint)
			}
		}
	}
}

// serviceControl is the control handler: STOP and SHUTDOWN become a stop
// request to the server; INTERROGATE is answered with the current status.
func serviceControl(control, eventType, eventData, context uintptr) uintptr {
	svc := theService
	switch control {
	case serviceControlStop, serviceControlShutdwn:
		svc.mu.Lock()
		first := !svc.stopAsked
		svc.stopAsked = true
		svc.mu.Unlock()
		svc.report(serviceStopPending, 0, serviceStopWaitHint)
		if first {
			what := "the service manager's STOP"
			if control == serviceControlShutdwn {
				what = "the service manager's SHUTDOWN"
			}
			serverStopRequests <- what
		}
	case serviceControlInterr:
		svc.report(0, 0, 0)
	}
	return 0 // NO_ERROR
}

// report sends the service's state (0: the current one again) to the
// service manager; STOP_PENDING reports count their checkpoint up.
func (svc *windowsService) report(state uint32, exitCode int, waitHint time.Duration) {
	svc.mu.Lock()
	defer svc.mu.Unlock()
	st := &svc.status
	st.ServiceType = serviceWin32OwnProc
	if state != 0 {
		if state == st.CurrentState && (state == serviceStopPending || state == serviceStartPending) {
			st.CheckPoint++
		} else {
			st.CheckPoint = 0
		}
		st.CurrentState = state
		st.WaitHint = uint32(waitHint / time.Millisecond)
	}
	st.ControlsAccepted = 0
	if st.CurrentState == serviceRunning {
		st.ControlsAccepted = serviceAcceptStop | serviceAcceptShutdown
	}
	st.Win32ExitCode = 0
	if exitCode != 0 {
		st.Win32ExitCode = 1066 // ERROR_SERVICE_SPECIFIC_ERROR
		st.ServiceSpecificExitCode = uint32(exitCode)
	}
	procSetServiceStatus.Call(svc.handle, uintptr(unsafe.Pointer(st)))
}
