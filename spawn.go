// Spawning a program: its environment ([env] plus RAMONA_CONFIG,
// RAMONA_SECTION and RAMONA_SERVER_ID), $VAR expansion of command and
// directory and PATH lookup (resolveCommand, which tools use too), pipes,
// process group and session, its cgroup, user switch, parent-death signal,
// and the exec shim that sets umask and the core-dump limit before exec.
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

// resolvedCommand is what a program's or a tool's command resolves to
// before it runs.
type resolvedCommand struct {
	argv    []string // the command's words, $VARs expanded; nil when it cannot be split
	missing []string // $VARs in the command that are not set (they expand to nothing)
	dir     string   // the working directory
	path    string   // the executable argv[0] names, found on the environment's PATH
}

// resolveCommand resolves a command line and its directory with the
// environment it will run with, the same way for programs (spawn) and
// tools: the words, the working directory, which must exist, and the
// executable, found on that environment's PATH relative to the directory.
func resolveCommand(command, directory, baseDir string, lookup func(string) (string, bool)) (rc resolvedCommand, err error) {
	if rc.argv, rc.missing, err = splitCommandMissing(command, lookup); err != nil {
		return resolvedCommand{}, err
	}
	if rc.dir, err = workDir(directory, baseDir, lookup); err != nil {
		return rc, err
	}
	pathVar, _ := lookup("PATH")
	rc.path, err = lookPath(rc.argv[0], pathVar, rc.dir)
	return rc, err
}

// workDir is the working directory: directory= with $VARs expanded,
// relative to the configuration file's, else that directory itself.
func workDir(directory, baseDir string, lookup func(string) (string, bool)) (string, error) {
	dir := baseDir
	if directory != "" {
		dir = resolvePath(expandVars(directory, func(k string) string { v, _ := lookup(k); return v }), baseDir)
	}
	if fi, err := os.Stat(dir); err != nil {
		return dir, fmt.Errorf("directory %s: %s", dir, pathErrText(err))
	} else if !fi.IsDir() {
		return dir, fmt.Errorf("directory %s: not a directory", dir)
	}
	return dir, nil
}

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
	if err == syscall.ENOSYS && plan.sys.UseCgroupFD { // no clone3: a kernel before 5.7, or qemu-user
		s.cg.clone3Missing()
		plan.sys.UseCgroupFD = false
		pid, err = syscall.ForkExec(plan.execPath, plan.argv, attr)
	}
	stdio.closeChildEnds()
	if err != nil {
		stdio.closeReadEnds()
		return fail(fmt.Errorf("cannot start %s: %v", plan.path, err))
	}
	if cg != nil && !plan.sys.UseCgroupFD {
		cg = s.enterCgroup(p, cg, pid)
	}
	return s.track(p, pid, cg, stdio, ready), nil
}

// spawnPlan is what spawn executes: the resolved command, through the exec
// shim when it needs one, its environment and the process attributes.
type spawnPlan struct {
	execPath string   // what is executed: the command, or this binary as the exec shim
	path     string   // the command's executable
	argv     []string // execPath's arguments
	dir      string
	env      []string
	sys      *syscall.SysProcAttr
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

// spawnCommand resolves what p's process executes: its command (the web
// frontend is this binary again), with the user it runs as, and the exec
// shim that sets umask and core size before the command's exec.
func (s *Supervisor) spawnCommand(pc *ProgramConfig) (*spawnPlan, error) {
	notifyAddr := ""
	if s.notify != nil {
		notifyAddr = s.notify.addr
	}
	plan := &spawnPlan{env: programEnv(pc, s.cfg, s.environ, notifyAddr, s.serverID)}
	lookup := envLookup(plan.env)
	var rc resolvedCommand
	var err error
	if pc.HTTPFrontend {
		// The web frontend is this binary again: ramona -c FILES... httpfend NAME.
		rc.argv = append([]string{s.selfExe}, reexecPrefix...)
		for _, f := range s.cfg.Files {
			rc.argv = append(rc.argv, "-c", f)
		}
		rc.argv = append(rc.argv, "httpfend", pc.Name)
		rc.path = s.selfExe
		rc.dir, err = workDir(pc.Directory, pc.BaseDir, lookup)
	} else {
		rc, err = resolveCommand(pc.Command, pc.Directory, pc.BaseDir, lookup)
		for _, name := range rc.missing {
			s.log.Warnf("%s: $%s in the command is not set; it expands to nothing", pc.Name, name)
		}
	}
	if err != nil {
		return nil, err
	}
	plan.execPath, plan.path, plan.argv, plan.dir = rc.path, rc.path, rc.argv, rc.dir
	cred, err := programCredential(pc)
	if err != nil {
		return nil, err
	}
	plan.sys = &syscall.SysProcAttr{Setsid: pc.ProcessGroup, Pdeathsig: syscall.SIGKILL, Credential: cred}
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
	return plan, nil
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

// track records a started process as p's instance, in its cgroup and
// process group, and starts the readers of its output, which write once
// ready (the banners and files queued before) has come.
func (s *Supervisor) track(p *Program, pid int, cg *instanceCgroup, st *stdio, ready <-chan struct{}) *instance {
	pc := p.cfg
	inst := &instance{prog: p, pid: pid, started: time.Now(), cg: cg, logs: p.logs}
	if cg != nil {
		cg.spawned()
	}
	if pc.ProcessGroup {
		inst.pgid = pid
		s.guard.add(pid)
	}
	s.byPid[pid] = inst
	inst.readers = 1
	s.holdLogs(p.logs) // until the readers end
	outScan, errScan := s.logScanners(pc, st.errR == st.outR)
	s.readOutput(inst, st.outR, ready, p.logs.stdout, pc.LogTimestamp, outScan) // until EOF: when every holder of the pipe closed it
	if st.errR != st.outR {
		inst.readers++
		s.readOutput(inst, st.errR, ready, p.logs.stderr, pc.LogTimestamp, errScan) // until EOF, as above
	}
	return inst
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
