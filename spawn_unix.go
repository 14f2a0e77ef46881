//go:build unix

// Starting a program's process on Unix: its session, user switch,
// parent-death signal (Linux), the exec shim that sets umask and the
// core-dump limit before exec, its cgroup (clone3 into it, or a move right
// after), its standard streams and the fork.
package main

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// spawn starts one process of p with its pipes and readers. Errors are
// spawn failures (missing binary, bad directory, user switch impossible).
// Its phases: what to execute (spawnCommand), where it starts (its spawn
// cgroup), its standard streams (openStdio), the fork, and the records
// and readers of the new instance (track).
func (s *Supervisor) spawn(p *Program) (*instance, error) {
	pc := p.cfg
	plan, err := s.spawnCommand(pc)
	if err != nil {
		return nil, err
	}
	// With cgroups the process starts inside its spawn's cgroup (clone3
	// CLONE_INTO_CGROUP): there is no moment at which it runs outside.
	var cg *instanceCgroup
	if s.cg != nil {
		ic, fd, err := s.newInstanceCgroup(p)
		if err != nil {
			return nil, err
		}
		defer syscall.Close(fd)
		if !s.cg.noClone3 {
			intoCgroup(plan.sys, fd)
		}
		cg = ic
	} else {
		s.warnLimitsOff(p)
	}
	fail := func(err error) (*instance, error) {
		if cg != nil {
			cg.abandon()
		}
		return nil, err
	}
	stdio, err := openStdio(p.logs.merged())
	if err != nil {
		return fail(err)
	}
	if pc.LogBanners {
		p.logs.banner(fmt.Sprintf("-=[ %s STARTING by Ramona on %s ]=-\n", pc.Name, time.Now().Format("2006-01-02 15:04:05")))
	}
	ready := p.logs.jobs.idle() // the readers write after the banner, and after the files were opened
	attr := &syscall.ProcAttr{
		Dir:   plan.dir,
		Env:   plan.env,
		Files: []uintptr{stdio.stdin.Fd(), uintptr(stdio.outW), uintptr(stdio.errW)},
		Sys:   plan.sys,
	}
	pid, err := syscall.ForkExec(plan.execPath, plan.argv, attr)
	if err == syscall.ENOSYS && spawnsIntoCgroup(plan.sys) { // no clone3: a kernel before 5.7, or qemu-user
		s.cg.clone3Missing()
		notIntoCgroup(plan.sys)
		pid, err = syscall.ForkExec(plan.execPath, plan.argv, attr)
	}
	stdio.closeChildEnds()
	if err != nil {
		stdio.closeReadEnds()
		return fail(fmt.Errorf("cannot start %s: %v", plan.path, err))
	}
	if cg != nil && !spawnsIntoCgroup(plan.sys) {
		cg = s.enterCgroup(p, cg, pid)
	}
	return s.track(p, pid, cg, stdio.outR, stdio.errR, ready), nil
}

// platformPlan adds what Unix needs to a spawn's plan: the process
// attributes (session, parent-death signal, user) and the exec shim when
// the program wants a umask, a core size or WATCHDOG_PID.
func (s *Supervisor) platformPlan(pc *ProgramConfig, plan *spawnPlan, rc resolvedCommand, notifyAddr string) error {
	plan.sys = programSysProcAttr(pc.ProcessGroup)
	if pc.User != "" {
		if euid := os.Geteuid(); euid == 0 {
			plan.sys.Credential = &syscall.Credential{Uid: pc.UID, Gid: pc.GID, Groups: pc.Groups}
		} else if uint32(euid) != pc.UID {
			return fmt.Errorf("cannot run as user %s: the server runs as uid %d, and only root can switch users", pc.User, euid)
		}
	}
	if pc.Umask >= 0 || pc.CoreDump || (pc.Watchdog > 0 && notifyAddr != "") {
		umask := "-"
		if pc.Umask >= 0 {
			umask = fmt.Sprintf("%03o", pc.Umask)
		}
		core := "0"
		if pc.CoreDump {
			core = "1"
		}
		plan.execPath = s.selfExe
		plan.argv = append(append(append([]string{s.selfExe}, reexecPrefix...), "exec-shim", umask, core, rc.path), rc.argv...)
	}
	return nil
}

// stdio is a spawn's standard streams: /dev/null in, and one output pipe
// for stdout and stderr when they are merged, else two. The write ends are
// the child's; the read ends the output readers'.
type stdio struct {
	stdin      *os.File
	outR, errR *outPipe
	outW, errW int
}

func openStdio(merged bool) (*stdio, error) {
	stdin, err := devNull()
	if err != nil {
		return nil, err
	}
	st := &stdio{stdin: stdin}
	if st.outR, st.outW, err = outputPipe(); err != nil {
		return nil, err
	}
	st.errR, st.errW = st.outR, st.outW
	if !merged {
		if st.errR, st.errW, err = outputPipe(); err != nil {
			st.outR.Close()
			syscall.Close(st.outW)
			return nil, err
		}
	}
	return st, nil
}

// closeChildEnds closes the write ends once the child has its copies.
func (st *stdio) closeChildEnds() {
	syscall.Close(st.outW)
	if st.errW != st.outW {
		syscall.Close(st.errW)
	}
}

// closeReadEnds closes the read ends when no child was started.
func (st *stdio) closeReadEnds() {
	st.outR.Close()
	if st.errR != st.outR {
		st.errR.Close()
	}
}
