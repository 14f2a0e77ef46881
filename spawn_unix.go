//go:build unix

// Starting a program's process on Unix: its session, user switch,
// parent-death signal (Linux), its cgroup (clone3 into it, or a move right
// after), pipes, and the exec shim that sets umask and the core-dump limit
// before exec.
package main

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// spawn starts one process of p with its pipes and readers. Errors are
// spawn failures (missing binary, bad directory, user switch impossible).
func (s *Supervisor) spawn(p *Program) (*instance, error) {
	pc := p.cfg
	cmd, err := s.prepareSpawn(p)
	if err != nil {
		return nil, err
	}
	path, argv, env, dir, notifyAddr := cmd.path, cmd.argv, cmd.env, cmd.dir, cmd.notifyAddr
	sys := programSysProcAttr(pc.ProcessGroup)
	if pc.User != "" {
		if euid := os.Geteuid(); euid == 0 {
			sys.Credential = &syscall.Credential{Uid: pc.UID, Gid: pc.GID, Groups: pc.Groups}
		} else if uint32(euid) != pc.UID {
			return nil, fmt.Errorf("cannot run as user %s: the server runs as uid %d, and only root can switch users", pc.User, euid)
		}
	}
	execPath := path
	if pc.Umask >= 0 || pc.CoreDump || (pc.Watchdog > 0 && notifyAddr != "") {
		umask := "-"
		if pc.Umask >= 0 {
			umask = fmt.Sprintf("%03o", pc.Umask)
		}
		core := "0"
		if pc.CoreDump {
			core = "1"
		}
		execPath = s.selfExe
		argv = append(append(append([]string{s.selfExe}, reexecPrefix...), "exec-shim", umask, core, path), argv...)
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
			intoCgroup(sys, fd)
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
	stdin, err := devNull()
	if err != nil {
		return fail(err)
	}
	outR, outW, err := outputPipe()
	if err != nil {
		return fail(err)
	}
	errR, errW := outR, outW
	if !p.logs.merged() {
		if errR, errW, err = outputPipe(); err != nil {
			outR.Close()
			syscall.Close(outW)
			return fail(err)
		}
	}
	if pc.LogBanners {
		p.logs.banner(fmt.Sprintf("-=[ %s STARTING by Ramona on %s ]=-\n", pc.Name, time.Now().Format("2006-01-02 15:04:05")))
	}
	attr := &syscall.ProcAttr{
		Dir:   dir,
		Env:   env,
		Files: []uintptr{stdin.Fd(), uintptr(outW), uintptr(errW)},
		Sys:   sys,
	}
	pid, err := syscall.ForkExec(execPath, argv, attr)
	if err == syscall.ENOSYS && spawnsIntoCgroup(sys) { // no clone3: a kernel before 5.7, or qemu-user
		s.cg.clone3Missing()
		notIntoCgroup(sys)
		pid, err = syscall.ForkExec(execPath, argv, attr)
	}
	syscall.Close(outW)
	if errW != outW {
		syscall.Close(errW)
	}
	if err != nil {
		outR.Close()
		if errR != outR {
			errR.Close()
		}
		return fail(fmt.Errorf("cannot start %s: %v", path, err))
	}
	if cg != nil && !spawnsIntoCgroup(sys) {
		cg = s.enterCgroup(p, cg, pid)
	}
	inst := &instance{prog: p, pid: pid, started: time.Now(), cg: cg}
	if cg != nil {
		cg.spawned()
	}
	if pc.ProcessGroup {
		inst.pgid = pid
		s.guard.add(pid)
	}
	s.byPid[pid] = inst
	s.startReaders(inst, outR, errR)
	return inst, nil
}
