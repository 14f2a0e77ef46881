// Starting a program's process on Windows: pipes for stdout and stderr, a
// console of its own without a window (CREATE_NO_WINDOW) for CTRL_C
// (kill_windows.go), and a job object
// for its whole tree (jobobject_windows.go): started suspended, assigned,
// then resumed. A goroutine per spawn waits for its exit (signals_windows.go).
// user=, umask= and coredump= do not apply on Windows.
package main

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

const (
	createSuspended = 0x00000004
	createNoWindow  = 0x08000000 // a console of its own, without a window
)

// platformPlan: Windows has no setuid, umask or core size for a program.
func (s *Supervisor) platformPlan(pc *ProgramConfig, plan *spawnPlan, rc resolvedCommand, notifyAddr string) error {
	if pc.User != "" {
		return fmt.Errorf("user=%s: Windows cannot switch users for one program; run the server (its service) as that account, or a second server", pc.User)
	}
	plan.sys = &syscall.SysProcAttr{CreationFlags: createSuspended | createNoWindow}
	return nil
}

// spawn starts one process of p with its pipes and readers. Errors are
// spawn failures (missing binary, bad directory, user= given).
func (s *Supervisor) spawn(p *Program) (*instance, error) {
	pc := p.cfg
	plan, err := s.spawnCommand(pc)
	if err != nil {
		return nil, err
	}
	s.warnLimitsOff(p)
	ctrlCLog.Store(s.log)
	stdin, err := devNull()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW := outR, outW
	if !p.logs.merged() {
		if errR, errW, err = os.Pipe(); err != nil {
			outR.Close()
			outW.Close()
			return nil, err
		}
	}
	closeWriters := func() {
		outW.Close()
		if errW != outW {
			errW.Close()
		}
	}
	closeReaders := func() {
		outR.Close()
		if errR != outR {
			errR.Close()
		}
	}
	job, err := newProcessJob()
	if err != nil {
		closeWriters()
		closeReaders()
		return nil, fmt.Errorf("cannot start %s: %v", plan.path, err)
	}
	if pc.LogBanners {
		p.logs.banner(fmt.Sprintf("-=[ %s STARTING by Ramona on %s ]=-\n", pc.Name, time.Now().Format("2006-01-02 15:04:05")))
	}
	ready := p.logs.jobs.idle() // the readers write after the banner, and after the files were opened
	attr := &syscall.ProcAttr{
		Dir:   plan.dir,
		Env:   plan.env,
		Files: []uintptr{stdin.Fd(), outW.Fd(), errW.Fd()},
		Sys:   plan.sys,
	}
	pid, handle, err := syscall.StartProcess(plan.execPath, plan.argv, attr)
	closeWriters()
	if err == nil {
		if aerr := job.assignAndResume(syscall.Handle(handle)); aerr != nil {
			syscall.TerminateProcess(syscall.Handle(handle), 1)
			syscall.CloseHandle(syscall.Handle(handle))
			err = aerr
		}
	}
	if err != nil {
		job.close()
		closeReaders()
		return nil, fmt.Errorf("cannot start %s: %v", plan.path, err)
	}
	registerJob(pid, job)
	outPipeR, errPipeR := &outPipe{f: outR}, &outPipe{f: errR}
	if errR == outR {
		errPipeR = outPipeR
	}
	inst := s.track(p, pid, nil, outPipeR, errPipeR, ready)
	go s.waitExit(pid, syscall.Handle(handle)) // ends when the process has exited
	return inst, nil
}
