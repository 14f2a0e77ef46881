//go:build unix

// The small test helper program: the child programs the end-to-end tests
// start most often (a sleeper, a quick exit, a process that ignores SIGTERM,
// orphan makers...), as a binary of its own. The test binary builds it once
// per run (buildHelperProgram in main_test.go) and runs it as
// "PATH ramona-test-helper NAME ARGS", the argument shape of the helpers the
// test binary runs itself; main_test.go's testHelpers says which binary runs
// which helper and documents what each one does. It exists for speed: this
// binary starts in a third of the CPU time the 17 MB test binary takes, and
// a -short run starts it some 225 times. It imports only what a helper needs.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Exit codes besides the ones a helper is asked to return; the same
// numbers as the test binary's helperUsage and helperUnknown.
const (
	exitUsage   = 98 // a known helper with bad arguments
	exitUnknown = 99 // no such helper
)

// forever is how long helpers that must stay up until killed sleep.
const forever = time.Hour

// helpers maps a helper's name to its code; each gets its arguments and
// returns its exit code (usage errors are reported by parsing).
var helpers = map[string]func(args []string) int{
	"sleep":        sleepHelper,
	"exit":         exitHelper,
	"ignore-term":  ignoreTermHelper,
	"grandchild":   grandchildHelper,
	"orphan-maker": orphanMakerHelper,
	"double-fork":  doubleForkHelper("double-fork", false),
	"escape":       doubleForkHelper("escape", true),
	"env":          envHelper,
	"pwd-umask":    pwdUmaskHelper,
	"stamp":        stampHelper,
	"echo-lines":   echoLinesHelper,
	"fds":          fdsHelper,
	"signals":      signalsHelper,
}

func main() {
	if len(os.Args) < 3 || os.Args[1] != "ramona-test-helper" {
		fmt.Fprintln(os.Stderr, "usage: helper ramona-test-helper NAME [ARG...]")
		os.Exit(exitUnknown)
	}
	name, args := os.Args[2], os.Args[3:]
	run, ok := helpers[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "ramona-test-helper: unknown helper %q\n", name)
		os.Exit(exitUnknown)
	}
	os.Exit(run(args))
}

// usageError is a helper's bad command line.
type usageError struct{ msg string }

// parse runs a helper's argument parsing: a usageError it panics with
// becomes a message on stderr and exitUsage.
func parse(name string, args []string, minArgs, maxArgs int, body func() int) (code int) {
	defer func() {
		if e, ok := recover().(usageError); ok {
			fmt.Fprintf(os.Stderr, "ramona-test-helper %s %q: %s\n", name, args, e.msg)
			code = exitUsage
		}
	}()
	if len(args) < minArgs || len(args) > maxArgs {
		panic(usageError{fmt.Sprintf("want %d to %d arguments, got %d", minArgs, maxArgs, len(args))})
	}
	return body()
}

func durationArg(s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		panic(usageError{err.Error()})
	}
	return d
}

func intArg(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(usageError{err.Error()})
	}
	return n
}

// onceArg reads the optional "once": without it the helper sleeps forever
// after its output.
func onceArg(args []string) bool {
	if len(args) == 0 {
		return false
	}
	if args[0] != "once" {
		panic(usageError{fmt.Sprintf("unknown argument %q", args[0])})
	}
	return true
}

func sleepUnless(once bool) int {
	if !once {
		time.Sleep(forever)
	}
	return 0
}

func sleepHelper(args []string) int {
	return parse("sleep", args, 1, 1, func() int {
		d := durationArg(args[0])
		fmt.Printf("sleep: started pid=%d\n", os.Getpid())
		time.Sleep(d)
		return 0
	})
}

func exitHelper(args []string) int {
	return parse("exit", args, 1, 2, func() int {
		code := intArg(args[0])
		if len(args) == 2 {
			time.Sleep(durationArg(args[1]))
		}
		fmt.Fprintf(os.Stderr, "exit: %d\n", code)
		return code
	})
}

func ignoreTermHelper(args []string) int {
	return parse("ignore-term", args, 1, 1, func() int {
		d := durationArg(args[0])
		signal.Ignore(syscall.SIGTERM, syscall.SIGINT)
		fmt.Println("ignore-term: ready")
		time.Sleep(d)
		return 0
	})
}

func grandchildHelper(args []string) int {
	return parse("grandchild", args, 1, 1, func() int {
		d := durationArg(args[0])
		p, err := startSelf([]*os.File{nil, os.Stdout, os.Stderr}, nil, "ignore-term", args[0])
		if err != nil {
			fmt.Fprintln(os.Stderr, "grandchild:", err)
			return 1
		}
		fmt.Printf("grandchild: pid=%d\n", p.Pid)
		p.Release() // never waited for: orphaned when this process dies
		time.Sleep(d)
		return 0
	})
}

func orphanMakerHelper(args []string) int {
	return parse("orphan-maker", args, 1, 3, func() int {
		durationArg(args[0])
		fd := 1
		if len(args) > 1 {
			fd = intArg(args[1])
		}
		setsid := len(args) > 2
		if setsid && args[2] != "setsid" {
			panic(usageError{fmt.Sprintf("unknown argument %q", args[2])})
		}
		if fd > 2 {
			// Inherited without close-on-exec: the orphan must not hold it, or
			// the reader never sees EOF.
			syscall.CloseOnExec(fd)
		}
		p, err := startSelf([]*os.File{nil, os.Stdout, os.Stderr}, &syscall.SysProcAttr{Setsid: setsid}, "ignore-term", args[0])
		if err != nil {
			fmt.Fprintln(os.Stderr, "orphan-maker:", err)
			return 1
		}
		fmt.Fprintf(os.NewFile(uintptr(fd), "report"), "orphan-maker: pid=%d\n", p.Pid)
		p.Release()
		return 0
	})
}

// doubleForkHelper is double-fork, or with setsid escape: it runs
// "orphan-maker D 3" and reports the orphan that one left behind.
func doubleForkHelper(name string, setsid bool) func(args []string) int {
	return func(args []string) int {
		return parse(name, args, 1, 1, func() int {
			d := durationArg(args[0])
			pid, err := doubleFork(args[0], setsid)
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
				return 1
			}
			fmt.Printf("%s: pid=%d\n", name, pid)
			time.Sleep(d)
			return 0
		})
	}
}

// doubleFork runs "orphan-maker d 3" with a pipe as its fd 3, waits for it
// (it exits at once) and returns the pid of the orphan it reported; with
// setsid the orphan has its own session.
func doubleFork(d string, setsid bool) (int, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	args := []string{d, "3"}
	if setsid {
		args = append(args, "setsid")
	}
	p, err := startSelf([]*os.File{nil, os.Stdout, os.Stderr, w}, nil, "orphan-maker", args...)
	w.Close()
	if err != nil {
		return 0, err
	}
	report, rerr := io.ReadAll(r) // EOF when orphan-maker exits: the orphan lacks fd 3
	state, werr := p.Wait()
	if err := errors.Join(rerr, werr); err != nil {
		return 0, err
	}
	if !state.Success() {
		return 0, fmt.Errorf("orphan-maker: %v", state)
	}
	var pid int
	if _, err := fmt.Sscanf(string(report), "orphan-maker: pid=%d\n", &pid); err != nil {
		return 0, fmt.Errorf("orphan-maker reported %q: %v", report, err)
	}
	return pid, nil
}

// startSelf starts this program as helper name with the given files (a nil
// first one becomes /dev/null), this environment and, unless sys says
// otherwise, this process group. The caller owns the process.
func startSelf(files []*os.File, sys *syscall.SysProcAttr, name string, args ...string) (*os.Process, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	if files[0] == nil {
		devnull, err := os.Open(os.DevNull)
		if err != nil {
			return nil, err
		}
		defer devnull.Close()
		files = append([]*os.File{devnull}, files[1:]...)
	}
	argv := append([]string{exe, "ramona-test-helper", name}, args...)
	return os.StartProcess(exe, argv, &os.ProcAttr{Files: files, Sys: sys})
}

func envHelper(args []string) int {
	return parse("env", args, 0, 1, func() int {
		once := onceArg(args)
		env := os.Environ()
		sort.Strings(env)
		os.Stdout.WriteString(strings.Join(append(env, ""), "\n"))
		return sleepUnless(once)
	})
}

func pwdUmaskHelper(args []string) int {
	return parse("pwd-umask", args, 0, 1, func() int {
		once := onceArg(args)
		wd, err := os.Getwd()
		if err != nil {
			fmt.Fprintln(os.Stderr, "pwd-umask:", err)
			return 1
		}
		mask := syscall.Umask(0)
		syscall.Umask(mask)
		fmt.Printf("cwd=%s umask=%04o\n", wd, mask)
		return sleepUnless(once)
	})
}

func stampHelper(args []string) int {
	start := time.Now()
	return parse("stamp", args, 1, 1, func() int {
		f, err := os.OpenFile(args[0], os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o644)
		if err == nil {
			_, err = fmt.Fprintf(f, "%d %d\n", os.Getpid(), start.UnixNano())
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "stamp:", err)
			return 1
		}
		time.Sleep(forever)
		return 0
	})
}

func echoLinesHelper(args []string) int {
	return parse("echo-lines", args, 2, 2, func() int {
		n, d := intArg(args[0]), durationArg(args[1])
		for i := 1; i <= n; i++ {
			if i > 1 {
				time.Sleep(d)
			}
			fmt.Printf("line %d\n", i)
		}
		time.Sleep(forever)
		return 0
	})
}

func fdsHelper(args []string) int {
	return parse("fds", args, 0, 1, func() int {
		once := onceArg(args)
		// Raw system calls: an os.File for the directory would start the
		// runtime's poller, whose descriptors would show up in the list.
		dir, err := syscall.Open("/proc/self/fd", syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fds:", err)
			return 1
		}
		buf := make([]byte, 8192)
		n, err := syscall.ReadDirent(dir, buf)
		syscall.Close(dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fds:", err)
			return 1
		}
		_, _, names := syscall.ParseDirent(buf[:n], -1, nil)
		var fds []int
		for _, name := range names {
			if fd, err := strconv.Atoi(name); err == nil && fd != dir {
				fds = append(fds, fd)
			}
		}
		sort.Ints(fds)
		var out strings.Builder
		for _, fd := range fds {
			target, _ := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
			if strings.HasPrefix(target, "/sys/fs/cgroup/") {
				continue // the helper's own Go runtime follows its CPU limit there
			}
			fmt.Fprintf(&out, "fd %d %s\n", fd, target)
		}
		os.Stdout.WriteString(out.String())
		return sleepUnless(once)
	})
}

// signalNames are the signals the signals helper waits for, by name.
var signalNames = map[os.Signal]string{
	syscall.SIGHUP: "SIGHUP", syscall.SIGINT: "SIGINT", syscall.SIGQUIT: "SIGQUIT",
	syscall.SIGTERM: "SIGTERM", syscall.SIGUSR1: "SIGUSR1", syscall.SIGUSR2: "SIGUSR2",
}

func signalsHelper(args []string) int {
	return parse("signals", args, 2, 3, func() int {
		file, role := args[0], args[1]
		caught := make(chan os.Signal, 1)
		for sig := range signalNames {
			signal.Notify(caught, sig)
		}
		if len(args) == 3 {
			p, err := startSelf([]*os.File{nil, os.Stdout, os.Stderr}, nil, "signals", file, args[2])
			if err != nil {
				fmt.Fprintln(os.Stderr, "signals:", err)
				return 1
			}
			p.Release() // it ends at its own signal
		}
		fmt.Printf("signals: %s ready\n", role)
		sig := <-caught
		f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o644)
		if err == nil {
			_, err = fmt.Fprintf(f, "%s %s\n", role, signalNames[sig])
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "signals:", err)
			return 1
		}
		return 0
	})
}
