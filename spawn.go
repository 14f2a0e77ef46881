// Spawning a program, the part every platform shares: its environment
// ([env] plus RAMONA_CONFIG, RAMONA_SECTION and RAMONA_SERVER_ID), $VAR
// expansion of command and directory and PATH lookup (resolveCommand, which
// tools use too), the plan of what to execute, and the records and readers
// of a started instance (track). The platform's spawn (spawn_unix.go,
// spawn_windows.go) starts the process: its attributes, streams and fork.
package main

import (
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
// then Ramona's own (RAMONA_SECTION is section: program:NAME, or tool:NAME
// for a tool run with a program's environment). With a notify address, NOTIFY_SOCKET is the server's socket and the watchdog
// variables are the program's own (WATCHDOG_PID "self" is filled in by the
// exec shim, which knows the pid). serverID, when set, marks every process
// the program starts as this server's (the guard's last resort without
// cgroups).
func programEnv(pc *ProgramConfig, section string, cfg *Config, environ []string, notifyAddr, serverID string) []string {
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
	set("RAMONA_SECTION", section)
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
// name with a directory part is relative to the program's directory.
// hasDirPart and executableAt are the platform's (lookpath_unix.go,
// lookpath_windows.go).
func lookPath(name, path, dir string) (string, error) {
	if hasDirPart(name) {
		full := name
		if !filepath.IsAbs(full) {
			full = filepath.Join(dir, full)
		}
		found, err := executableAt(full)
		if err != nil {
			return "", fmt.Errorf("command %s: %w", name, err)
		}
		return found, nil
	}
	for _, d := range filepath.SplitList(path) {
		if d == "" {
			d = "."
		}
		if !filepath.IsAbs(d) {
			d = filepath.Join(dir, d)
		}
		if found, err := executableAt(filepath.Join(d, name)); err == nil {
			return found, nil
		}
	}
	return "", fmt.Errorf("command %s: not found in PATH=%s", name, path)
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

// spawnCommand resolves what p's process executes: its command (the web
// frontend is this binary again), with the user it runs as, and the exec
// shim that sets umask and core size before the command's exec.
func (s *Supervisor) spawnCommand(pc *ProgramConfig) (*spawnPlan, error) {
	notifyAddr := ""
	if s.notify != nil {
		notifyAddr = s.notify.addr
	}
	plan := &spawnPlan{env: programEnv(pc, "program:"+pc.Name, s.cfg, s.environ, notifyAddr, s.serverID)}
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
	if err := s.platformPlan(pc, plan, rc, notifyAddr); err != nil {
		return nil, err
	}
	return plan, nil
}

// track records a started process as p's instance, in its cgroup and
// process group, and starts the readers of its output, which write once
// ready (the banners and files queued before) has come.
func (s *Supervisor) track(p *Program, pid int, cg *instanceCgroup, outR, errR *outPipe, ready <-chan struct{}) *instance {
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
	outScan, errScan := s.logScanners(pc, errR == outR)
	s.readOutput(inst, outR, ready, p.logs.stdout, pc.LogTimestamp, outScan) // until EOF: when every holder of the pipe closed it
	if errR != outR {
		inst.readers++
		s.readOutput(inst, errR, ready, p.logs.stderr, pc.LogTimestamp, errScan) // until EOF, as above
	}
	return inst
}
