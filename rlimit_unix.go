//go:build unix

// Process limits and the umask on Unix: the server's umask and open-files
// limit (minfds), and the exec shim that sets a program's umask and core
// size before it execs the program. FreeBSD's rlimit fields are int64,
// the others' uint64: the generic helpers below take either.
package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// setServerUmask sets the umask of the server process.
func setServerUmask(mask int) { syscall.Umask(mask) }

// rlimitSet stores v in a field of syscall.Rlimit, whatever its integer type.
func rlimitSet[T int64 | uint64](field *T, v uint64) { *field = T(v) }

// rlimitGet reads a field of syscall.Rlimit as uint64.
func rlimitGet[T int64 | uint64](v T) uint64 { return uint64(v) }

// raiseOpenFiles makes the open-files limit at least min ([ramona:server]
// minfds), as supervisord does; the programs inherit it. Only root can raise
// the hard limit.
func raiseOpenFiles(min uint64) error {
	if min == 0 {
		return nil
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("minfds: cannot read the open-files limit: %v", err)
	}
	if rlimitGet(lim.Max) < min {
		rlimitSet(&lim.Max, min)
	}
	rlimitSet(&lim.Cur, max(rlimitGet(lim.Cur), min))
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("minfds=%d: cannot raise the open-files limit that far (%v); lower minfds or raise the hard limit (ulimit -Hn, LimitNOFILE= in a systemd unit)", min, err)
	}
	return nil
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
		lim := &syscall.Rlimit{Cur: rlimInfinity, Max: rlimInfinity}
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
