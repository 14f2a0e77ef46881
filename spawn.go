// Spawning a program: its environment ([env] plus RAMONA_CONFIG,
// RAMONA_SECTION and RAMONA_SERVER_ID), $VAR expansion of command and
// directory, PATH lookup, pipes, process group and session, its cgroup,
// user switch, parent-death signal, and the exec shim that sets umask and
// the core-dump limit before exec.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// programEnv is the environment a program starts with: the server's, then
// its [env] set (an empty value removes a variable), its environment= key,
// then Ramona's own. With
// a notify address, NOTIFY_SOCKET is the server's socket and the watchdog
// variables are the program's own (WATCHDOG_PID "self" is filled in by the
// exec shim, which knows the pid). serverID, when set, marks every process
// the program starts as this server's (the guard's last resort without
// cgroups).
func programEnv(pc *ProgramConfig, cfg *Config, environ []string, notifyAddr, serverID string) []string {
	env := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := env[k]; !ok {
			order = append(order, k)
		}
		env[k] = v
	}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			set(k, v)
		}
	}
	if pc.User != "" {
		set("USER", pc.User)
		set("LOGNAME", pc.User)
		if pc.HomeDir != "" {
			set("HOME", pc.HomeDir)
		}
	}
	for _, v := range pc.Env {
		if v.Unset {
			delete(env, v.Name)
			continue
		}
		set(v.Name, v.Value)
	}
	for _, v := range pc.Environment {
		set(v.Name, v.Value)
	}
	set("RAMONA_CONFIG", strings.Join(cfg.Files, ":"))
	set("RAMONA_SECTION", "program:"+pc.Name)
	if serverID != "" {
		set("RAMONA_SERVER_ID", serverID)
	}
	if notifyAddr != "" {
		set("NOTIFY_SOCKET", notifyAddr)
		delete(env, "WATCHDOG_USEC")
		delete(env, "WATCHDOG_PID")
		if pc.Watchdog > 0 {
			set("WATCHDOG_USEC", strconv.FormatInt(pc.Watchdog.Microseconds(), 10))
			set("WATCHDOG_PID", "self")
		}
	}
	out := make([]string, 0, len(env))
	for _, k := range order {
		if v, ok := env[k]; ok {
			out = append(out, k+"="+v)
		}
	}
	return out
}

func envLookup(env []string) func(string) (string, bool) {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// lookPath finds a command the way a shell would, with the program's PATH; a
// name with a slash is relative to the program's directory.
func lookPath(name, path, dir string) (string, error) {
	if strings.Contains(name, "/") {
		full := name
		if !filepath.IsAbs(full) {
			full = filepath.Join(dir, full)
		}
		if err := checkExecutable(full); err != nil {
			return "", fmt.Errorf("command %s: %w", name, err)
		}
		return full, nil
	}
	for _, d := range filepath.SplitList(path) {
		if d == "" {
			d = "."
		}
		if !filepath.IsAbs(d) {
			d = filepath.Join(dir, d)
		}
		full := filepath.Join(d, name)
		if checkExecutable(full) == nil {
			return full, nil
		}
	}
	return "", fmt.Errorf("command %s: not found in PATH=%s", name, path)
}

func checkExecutable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return errors.New(pathErrText(err))
	}
	if fi.IsDir() {
		return errors.New("is a directory")
	}
	if fi.Mode()&0o111 == 0 {
		return errors.New("is not executable")
	}
	return nil
}

// programDir is the directory a program and its exec probes run in: its
// directory key with $VARs expanded from its environment, relative to its
// file; without the key, its file's directory.
func programDir(pc *ProgramConfig, lookup func(string) (string, bool)) string {
	if pc.Directory == "" {
		return pc.BaseDir
	}
	return resolvePath(expandVars(pc.Directory, func(k string) string { v, _ := lookup(k); return v }), pc.BaseDir)
}

// programCredential is the user a program and its exec probes run as; nil
// for the server's own.
func programCredential(pc *ProgramConfig) (*syscall.Credential, error) {
	if pc.User == "" {
		return nil, nil
	}
	if euid := os.Geteuid(); euid == 0 {
		return &syscall.Credential{Uid: pc.UID, Gid: pc.GID, Groups: pc.Groups}, nil
	} else if uint32(euid) != pc.UID {
		return nil, fmt.Errorf("cannot run as user %s: the server runs as uid %d, and only root can switch users", pc.User, euid)
	}
	return nil, nil
}

// spawn starts one process of p with its pipes and readers. Errors are
// spawn failures (missing binary, bad directory, user switch impossible).
func (s *Supervisor) spawn(p *Program) (*instance, error) {
	pc := p.cfg
	notifyAddr := ""
	if s.notify != nil {
		notifyAddr = s.notify.addr
	}
	env := programEnv(pc, s.cfg, s.environ, notifyAddr, s.serverID)
	lookup := envLookup(env)
	var argv []string
	if pc.HTTPFrontend {
		// The web frontend is this binary again: ramona -c FILES... httpfend NAME.
		argv = append([]string{s.selfExe}, reexecPrefix...)
		for _, f := range s.cfg.Files {
			argv = append(argv, "-c", f)
		}
		argv = append(argv, "httpfend", pc.Name)
	} else {
		var missing []string
		var err error
		if argv, missing, err = splitCommandMissing(pc.Command, lookup); err != nil {
			return nil, err
		}
		for _, name := range missing {
			s.log.Warnf("%s: $%s in the command is not set; it expands to nothing", pc.Name, name)
		}
	}
	dir := programDir(pc, lookup)
	if fi, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("directory %s: %s", dir, pathErrText(err))
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("directory %s: not a directory", dir)
	}
	path := s.selfExe
	if !pc.HTTPFrontend {
		pathVar, _ := lookup("PATH")
		var err error
		if path, err = lookPath(argv[0], pathVar, dir); err != nil {
			return nil, err
		}
	}
	cred, err := programCredential(pc)
	if err != nil {
		return nil, err
	}
	sys := &syscall.SysProcAttr{Setsid: pc.ProcessGroup, Pdeathsig: syscall.SIGKILL, Credential: cred}
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
	if err == syscall.ENOSYS && sys.UseCgroupFD { // no clone3: a kernel before 5.7, or qemu-user
		s.cg.clone3Missing()
		sys.UseCgroupFD = false
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
	if cg != nil && !sys.UseCgroupFD {
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
	inst.readers = 1
	outScan, errScan := s.logScanners(pc, errR == outR)
	go s.readOutput(inst, outR, p.logs.stdout, pc.LogTimestamp, outScan) // ends at EOF: when every holder of the pipe closed it
	if errR != outR {
		inst.readers++
		go s.readOutput(inst, errR, p.logs.stderr, pc.LogTimestamp, errScan) // ends at EOF, as above
	}
	return inst, nil
}

// runExecShim is `ramona exec-shim UMASK CORE PATH ARGV...`: it sets what
// SysProcAttr cannot (the umask, an unlimited core size, WATCHDOG_PID) and execs the
// program in place, so the pid Ramona watches stays the same.
func runExecShim(args []string) int {
	if len(args) < 4 {
		fmt.Fprintln(os.Stderr, "ramona exec-shim: usage: exec-shim UMASK CORE PATH ARGV...")
		return 127
	}
	umask, core, path, argv := args[0], args[1], args[2], args[3:]
	if umask != "-" {
		n, err := strconv.ParseUint(umask, 8, 32)
		if err != nil {
			fmt.Fprintf(os.Stderr, "ramona exec-shim: bad umask %q\n", umask)
			return 127
		}
		syscall.Umask(int(n))
	}
	if core == "1" {
		lim := &syscall.Rlimit{Cur: ^uint64(0), Max: ^uint64(0)}
		if err := syscall.Setrlimit(syscall.RLIMIT_CORE, lim); err != nil {
			var cur syscall.Rlimit
			if syscall.Getrlimit(syscall.RLIMIT_CORE, &cur) == nil {
				cur.Cur = cur.Max // not root: raise the soft limit as far as allowed
				syscall.Setrlimit(syscall.RLIMIT_CORE, &cur)
			}
		}
	}
	env := os.Environ()
	for i, kv := range env {
		if kv == "WATCHDOG_PID=self" {
			env[i] = "WATCHDOG_PID=" + strconv.Itoa(os.Getpid())
		}
	}
	err := syscall.Exec(path, argv, env)
	fmt.Fprintf(os.Stderr, "ramona exec-shim: cannot execute %s: %v\n", path, err)
	return 127
}
