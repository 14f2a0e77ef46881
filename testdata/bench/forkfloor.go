//go:build ignore

// Forkfloor measures the floor of starting N programs on this machine: a Go
// program doing nothing but N bare syscall.ForkExec of `/bin/sleep 100000`
// (stdin, stdout and stderr /dev/null), serially and spread over 2 and 4
// goroutines, with and without clone3 into a cgroup made per process (as a
// supervisor with a cgroup per spawn does).
// Every process is killed and reaped between the rows. Prints one markdown
// table; compare.go runs it for its "floor" rows.
//
//	go run testdata/bench/forkfloor.go [-n 1000] [-workers 1,2,4] [-cgroup DIR] [-lines]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

var (
	count      = flag.Int("n", 1000, "processes per row")
	workerList = flag.String("workers", "1,2,4", "goroutine counts, comma-separated")
	cgroupRoot = flag.String("cgroup", "", "a writable cgroup v2 directory for the clone3 rows (default: found from /proc/self/mountinfo; none: skip)")
	heldFDs    = flag.Int("fds", 0, "descriptors (close-on-exec) this program holds open while it starts them, as a supervisor holds its programs' pipes and logs")
	linesOut   = flag.Bool("lines", false, "print KEY SECONDS lines instead of a table (for compare.go): bare-W, cgroup-W for W goroutines")
)

func main() {
	flag.Parse()
	null, err := syscall.Open("/dev/null", syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	must(err)
	for range *heldFDs { // each start copies the descriptor table and each exec closes these again
		_, err := syscall.Open("/dev/null", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		must(err)
	}
	root := *cgroupRoot
	if root == "" {
		root = findCgroup2()
	}
	type row struct {
		key, name string
		took      time.Duration
	}
	var rows []row
	for _, w := range strings.Split(*workerList, ",") {
		workers, err := strconv.Atoi(w)
		must(err)
		rows = append(rows, row{"bare-" + w, fmt.Sprintf("fork+exec, %d goroutine(s)", workers), startAll(*count, workers, null, "")})
		if root != "" {
			rows = append(rows, row{"cgroup-" + w, fmt.Sprintf("fork+exec into a cgroup made per process (mkdir, clone3), %d goroutine(s)", workers), startAll(*count, workers, null, root)})
		}
	}
	if *linesOut {
		for _, r := range rows {
			fmt.Printf("%s %.4f\n", r.key, r.took.Seconds())
		}
		return
	}
	fmt.Printf("| %d × /bin/sleep | s | µs per process |\n|---|---:|---:|\n", *count)
	for _, r := range rows {
		fmt.Printf("| %s | %.3f | %.0f |\n", r.name, r.took.Seconds(), float64(r.took.Microseconds())/float64(*count))
	}
}

// startAll starts n sleeps over workers goroutines and returns the time
// that took; then kills and reaps them (and removes their cgroups).
func startAll(n, workers, null int, cgroupRoot string) time.Duration {
	base := ""
	if cgroupRoot != "" {
		base = filepath.Join(cgroupRoot, fmt.Sprintf("forkfloor.%d", os.Getpid()))
		must(os.Mkdir(base, 0o755))
	}
	pids := make([]int, n)
	var wg sync.WaitGroup
	t0 := time.Now()
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				sys := &syscall.SysProcAttr{Setsid: true}
				if base != "" {
					dir := filepath.Join(base, strconv.Itoa(i))
					must(os.Mkdir(dir, 0o755))
					fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
					must(err)
					sys.UseCgroupFD, sys.CgroupFD = true, fd
				}
				pid, err := syscall.ForkExec("/bin/sleep", []string{"sleep", "100000"}, &syscall.ProcAttr{
					Files: []uintptr{uintptr(null), uintptr(null), uintptr(null)}, Sys: sys,
				})
				must(err)
				if sys.UseCgroupFD {
					syscall.Close(sys.CgroupFD)
				}
				pids[i] = pid
			}
		})
	}
	wg.Wait()
	took := time.Since(t0)
	for _, pid := range pids {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	for _, pid := range pids {
		var ws syscall.WaitStatus
		syscall.Wait4(pid, &ws, 0, nil)
	}
	if base != "" {
		entries, _ := os.ReadDir(base)
		for _, e := range entries {
			syscall.Rmdir(filepath.Join(base, e.Name()))
		}
		syscall.Rmdir(base)
	}
	return took
}

// findCgroup2 is the cgroup v2 mount point ("" when there is none).
func findCgroup2() string {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		if _, rest, ok := strings.Cut(line, " - "); ok && strings.HasPrefix(rest, "cgroup2 ") {
			return strings.Fields(line)[4]
		}
	}
	return ""
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "forkfloor:", err)
		os.Exit(1)
	}
}
