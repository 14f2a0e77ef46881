// Spawning a program, the part every platform shares: its environment
// ([env] plus RAMONA_CONFIG, RAMONA_SECTION and RAMONA_SERVER_ID), $VAR
// expansion of command and directory, the executable's lookup, and the
// readers of its output. The platform's spawn (spawn_unix.go,
// spawn_windows.go) starts the process.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
// name with a directory part is relative to the program's directory.
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

// spawnCommand is what a spawn runs, worked out the same way on every
// platform: the executable, its arguments, environment and directory.
type spawnCommand struct {
	path       string // the executable, found in the program's PATH
	argv       []string
	env        []string
	dir        string
	notifyAddr string // NOTIFY_SOCKET, "" without a notify socket
}

// prepareSpawn works out p's command; errors are spawn failures (missing
// binary, bad directory). The platform's spawn (spawn_unix.go,
// spawn_windows.go) then starts it.
func (s *Supervisor) prepareSpawn(p *Program) (*spawnCommand, error) {
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
	dir := pc.BaseDir
	if pc.Directory != "" {
		dir = resolvePath(expandVars(pc.Directory, func(k string) string { v, _ := lookup(k); return v }), pc.BaseDir)
	}
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
	return &spawnCommand{path: path, argv: argv, env: env, dir: dir, notifyAddr: notifyAddr}, nil
}

// startReaders starts the goroutines that copy an instance's output pipes
// (one when stdout and stderr are merged) into its logs.
func (s *Supervisor) startReaders(inst *instance, outR, errR *os.File) {
	pc := inst.prog.cfg
	p := inst.prog
	inst.readers = 1
	outScan, errScan := s.logScanners(pc, errR == outR)
	go s.readOutput(inst, outR, p.logs.stdout, pc.LogTimestamp, outScan) // ends at EOF: when every holder of the pipe closed it
	if errR != outR {
		inst.readers++
		go s.readOutput(inst, errR, p.logs.stderr, pc.LogTimestamp, errScan) // ends at EOF, as above
	}
}
