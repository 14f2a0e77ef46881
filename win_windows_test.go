// Tests of the Windows port, run under Wine by TestWindowsUnderWine
// (wine_linux_test.go) or on Windows with `go test -run '^TestWin' .`. The
// test binary is also ramona ("ramona-test-main") and the programs
// ("ramona-test-helper NAME"); temp dirs are removed file by file (Wine 8
// cannot os.RemoveAll) and the control channel is tcp (no AF_UNIX in Wine).
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain dispatches on os.Args[1] before the testing package sees any flag.
func TestMain(m *testing.M) {
	reexecPrefix = []string{"ramona-test-main"}
	if len(os.Args) > 2 && os.Args[1] == "ramona-test-helper" {
		os.Exit(runWinHelper(os.Args[2], os.Args[3:]))
	}
	if len(os.Args) > 1 && os.Args[1] == "ramona-test-main" {
		os.Exit(run(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// winHelperSleep is "forever" for a helper.
const winHelperSleep = 10 * time.Minute

// runWinHelper is one supervised program:
//   - sleep: says ready, exits 0 on CTRL_C (saying so), else sleeps;
//   - tree: starts a sleep child, says "child PID", ignores CTRL_C;
//   - crash N: says so after a second and exits N;
//   - spam N: writes N lines of 100 bytes, says "spam done", sleeps.
func runWinHelper(name string, args []string) int {
	switch name {
	case "sleep":
		interrupts := make(chan os.Signal, 1)
		signal.Notify(interrupts, os.Interrupt)
		fmt.Println("ready")
		select {
		case <-interrupts:
			fmt.Println("got interrupt")
			return 0
		case <-time.After(winHelperSleep):
			return 0
		}
	case "tree":
		signal.Ignore(os.Interrupt)
		self, _ := os.Executable()
		child := exec.Command(self, "ramona-test-helper", "sleep")
		child.Stdout, child.Stderr = os.Stdout, os.Stderr
		if err := child.Start(); err != nil {
			fmt.Println("tree: cannot start a child:", err)
			return 1
		}
		fmt.Printf("child %d\n", child.Process.Pid)
		time.Sleep(winHelperSleep)
		return 0
	case "crash":
		code, _ := strconv.Atoi(args[0])
		time.Sleep(time.Second)
		fmt.Printf("crashing with %d\n", code)
		return code
	case "spam":
		n, _ := strconv.Atoi(args[0])
		line := strings.Repeat("x", 90)
		for i := range n {
			fmt.Printf("%08d %s\n", i, line)
		}
		fmt.Println("spam done")
		time.Sleep(winHelperSleep)
		return 0
	}
	fmt.Fprintf(os.Stderr, "ramona-test-helper: no helper %q\n", name)
	return 99
}

// winTempDir is t.TempDir that Wine can remove.
func winTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ramona-win-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeTree(t, dir) })
	return dir
}

// removeTree removes dir with os.Remove, deepest names first.
func removeTree(t *testing.T, dir string) {
	var names []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		names = append(names, path)
		return nil
	})
	slices.Reverse(names)
	for _, n := range names {
		if err := os.Remove(n); err != nil && !os.IsNotExist(err) {
			t.Logf("cleanup: %v", err)
		}
	}
}

// winServer is `ramona daemon` running as a child of the test.
type winServer struct {
	t      *testing.T
	dir    string
	conf   string
	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{}
}

// freeLoopbackPort is a tcp port that nothing listened on a moment ago.
func freeLoopbackPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// winSelf is this test binary, as a command= value.
func winSelf(t *testing.T) string {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return "'" + self + "'"
}

// startWinServer writes a configuration with programs (INI text) and runs
// the server on it until it answers; a cleanup stops it.
func startWinServer(t *testing.T, programs string) *winServer {
	t.Helper()
	dir := winTempDir(t)
	conf := filepath.Join(dir, "ramona.conf")
	text := fmt.Sprintf("[general]\nlogdir=%s\n[ramona:server]\nconsoleuri=tcp://127.0.0.1:%d\n%s",
		filepath.Join(dir, "log"), freeLoopbackPort(t), programs)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	self, _ := os.Executable()
	ws := &winServer{t: t, dir: dir, conf: conf, out: &syncBuffer{}, exited: make(chan struct{})}
	ws.cmd = exec.Command(self, "ramona-test-main", "-c", conf, "daemon")
	ws.cmd.Stdout, ws.cmd.Stderr = ws.out, ws.out
	ws.cmd.WaitDelay = 10 * time.Second // Wine's own processes must not hold the test on a pipe
	if err := ws.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { // ends when the server has exited
		ws.cmd.Wait()
		close(ws.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-ws.exited:
		default:
			ws.ramona("stop")
			select {
			case <-ws.exited:
			case <-time.After(60 * time.Second):
				ws.cmd.Process.Kill()
				<-ws.exited
			}
		}
		t.Logf("server output:\n%s", ws.out.String())
	})
	waitFor(t, "the server to answer", 60*time.Second, func() bool {
		select {
		case <-ws.exited:
			t.Fatalf("the server exited: %v\n%s", ws.cmd.ProcessState, ws.out.String())
		default:
		}
		code, _ := ws.ramona("status")
		return code != exitNoServerForTest
	})
	return ws
}

// exitNoServerForTest is the exit code of a command that finds no server.
const exitNoServerForTest = 4

// ramona runs the command line in this process against the server.
func (ws *winServer) ramona(args ...string) (int, string) {
	var out bytes.Buffer
	code := run(append([]string{"-c", ws.conf}, args...), strings.NewReader(""), &out, &out)
	return code, out.String()
}

// status is one program's line of `status --json`.
func (ws *winServer) status(name string) programStatus {
	ws.t.Helper()
	st, err := ws.tryStatus(name)
	if err != nil {
		ws.t.Fatal(err)
	}
	return st
}

// tryStatus is status, with an error while no server answers.
func (ws *winServer) tryStatus(name string) (programStatus, error) {
	code, out := ws.ramona("status", "--json", name)
	var list []programStatus
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 1 {
		return programStatus{}, fmt.Errorf("status --json %s: exit %d, %v:\n%s", name, code, err, out)
	}
	return list[0], nil
}

// waitState waits until the server answers and name is in state.
func (ws *winServer) waitState(name, state string, limit time.Duration) programStatus {
	ws.t.Helper()
	var st programStatus
	var err error
	waitFor(ws.t, name+" "+state, limit, func() bool {
		st, err = ws.tryStatus(name)
		return err == nil && st.State == state
	})
	return st
}

// log is a program's log file (stdout and stderr joined, the default).
func (ws *winServer) log(name string) string {
	return readShared(filepath.Join(ws.dir, "log", name+".log"))
}

// readShared reads a file the way Ramona's own readers do, sharing delete
// access: a reader without it (os.ReadFile) would make the server's
// rotation of the file fail while it reads.
func readShared(path string) string {
	f, err := openSafe(path, os.O_RDONLY, 0)
	if err != nil {
		return ""
	}
	defer f.Close()
	var b bytes.Buffer
	b.ReadFrom(f)
	return b.String()
}

// processAlive reports whether pid runs.
func processAlive(pid int) bool {
	h, err := syscall.OpenProcess(processQueryLimitedInfomation, false, uint32(pid))
	if err != nil {
		return false
	}
	defer syscall.CloseHandle(h)
	var code uint32
	return syscall.GetExitCodeProcess(h, &code) == nil && code == stillActive
}

func waitGone(t *testing.T, pids ...int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("pids %v to end", pids), 30*time.Second, func() bool {
		for _, pid := range pids {
			if processAlive(pid) {
				return false
			}
		}
		return true
	})
}

// TestWinStartStatusStop: a program starts, shows RUNNING with its pid, and
// a stop reaches it as CTRL_C (its log says so) before any KILL.
func TestWinStartStatusStop(t *testing.T) {
	ws := startWinServer(t, fmt.Sprintf("[program:sleeper]\ncommand=%s ramona-test-helper sleep\nstarttimeout=1\nstoptimeout=20s\n", winSelf(t)))
	st := ws.waitState("sleeper", "RUNNING", 60*time.Second)
	if st.PID <= 0 || !processAlive(st.PID) {
		t.Fatalf("sleeper RUNNING with pid %d, which does not run", st.PID)
	}
	waitFor(t, "ready in the log", 30*time.Second, func() bool { return strings.Contains(ws.log("sleeper"), "ready\n") })
	if code, out := ws.ramona("stop", "sleeper"); code != 0 {
		t.Fatalf("stop sleeper: exit %d\n%s", code, out)
	}
	if st := ws.status("sleeper"); st.State != "STOPPED" {
		t.Fatalf("after stop: %+v", st)
	}
	waitGone(t, st.PID)
	if log := ws.log("sleeper"); !strings.Contains(log, "got interrupt") {
		t.Errorf("the program did not see CTRL_C; its log:\n%s", log)
	}
	if strings.Contains(ws.out.String(), "sending SIGKILL") {
		t.Errorf("the stop needed SIGKILL:\n%s", ws.out.String())
	}
	if code, out := ws.ramona("stop"); code != 0 {
		t.Fatalf("stop: exit %d\n%s", code, out)
	}
	select {
	case <-ws.exited:
	case <-time.After(60 * time.Second):
		t.Fatal("the server did not exit after stop")
	}
	if code := ws.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("the server exited %d", code)
	}
}

// TestWinTreeKilledWithJob: killby=KILL ends the program's whole tree (its
// job), and a killed server takes a program's tree with it.
func TestWinTreeKilledWithJob(t *testing.T) {
	conf := fmt.Sprintf("[program:tree]\ncommand=%s ramona-test-helper tree\nstarttimeout=1\nkillby=KILL\nstoptimeout=20s\n", winSelf(t))
	ws := startWinServer(t, conf)
	treePids := func(spawn int) (int, int) {
		st := ws.waitState("tree", "RUNNING", 60*time.Second)
		var children []int
		waitFor(t, "the child's pid in the log", 30*time.Second, func() bool {
			children = nil
			for _, line := range strings.Split(ws.log("tree"), "\n") {
				if v, ok := strings.CutPrefix(strings.TrimSpace(line), "child "); ok {
					n, _ := strconv.Atoi(v)
					children = append(children, n)
				}
			}
			return len(children) >= spawn
		})
		child := children[spawn-1]
		if !processAlive(st.PID) || !processAlive(child) {
			t.Fatalf("tree %d or its child %d does not run", st.PID, child)
		}
		return st.PID, child
	}
	main, child := treePids(1)
	if code, out := ws.ramona("stop", "tree"); code != 0 {
		t.Fatalf("stop tree: exit %d\n%s", code, out)
	}
	waitGone(t, main, child)

	// The server killed: the job's handle closes, and the tree ends.
	if code, out := ws.ramona("start", "tree"); code != 0 {
		t.Fatalf("start tree: exit %d\n%s", code, out)
	}
	main, child = treePids(2)
	ws.cmd.Process.Kill()
	<-ws.exited
	waitGone(t, main, child)
}

// TestWinRestartAfterCrash: a program that exits unexpectedly is started
// again, and status shows its exit code.
func TestWinRestartAfterCrash(t *testing.T) {
	ws := startWinServer(t, fmt.Sprintf("[program:crasher]\ncommand=%s ramona-test-helper crash 3\nstarttimeout=0.5\nautorestart=yes\nstartretries=100\n", winSelf(t)))
	waitFor(t, "a restart", 90*time.Second, func() bool { return ws.status("crasher").Restarts >= 1 })
	if log := ws.log("crasher"); strings.Count(log, "crashing with 3") < 1 {
		t.Errorf("the log lacks the crash:\n%s", log)
	}
	if out := ws.out.String(); !strings.Contains(out, "exit status 3") {
		t.Errorf("the server log does not name exit status 3:\n%s", out)
	}
}

// TestWinLogRotation: a log rotates at logmaxsize while the server holds it
// open, keeps logbackups backups, and the newest line is in the live file.
func TestWinLogRotation(t *testing.T) {
	ws := startWinServer(t, fmt.Sprintf("[program:spam]\ncommand=%s ramona-test-helper spam 2000\nstarttimeout=0.5\nlogmaxsize=64KiB\nlogbackups=2\nlogcompress=off\n", winSelf(t)))
	logDir := filepath.Join(ws.dir, "log")
	waitFor(t, "spam done", 60*time.Second, func() bool { return strings.Contains(ws.log("spam"), "spam done") })
	for _, name := range []string{"spam.log.1", "spam.log.2"} {
		fi, err := os.Stat(filepath.Join(logDir, name))
		if err != nil {
			t.Fatalf("no backup %s: %v", name, err)
		}
		if fi.Size() < 32<<10 || fi.Size() > 80<<10 {
			t.Errorf("%s is %d bytes; want about 64 KiB", name, fi.Size())
		}
	}
	if _, err := os.Stat(filepath.Join(logDir, "spam.log.3")); err == nil {
		t.Errorf("spam.log.3 exists; logbackups=2")
	}
	if lost := ws.status("spam").LostBytes; lost != 0 {
		t.Errorf("%d bytes lost", lost)
	}
	// The last backup plus the live log hold the end of the output in order.
	tail := readShared(filepath.Join(logDir, "spam.log.1")) + ws.log("spam")
	if !strings.Contains(tail, fmt.Sprintf("%08d ", 1999)) {
		t.Errorf("the last line of output is missing")
	}
}

// TestWinService: wininstall registers the service, the service manager
// starts it (sc start) and it runs the programs with its log in the server
// log file; winuninstall stops it in order (the program sees CTRL_C) and
// removes it.
func TestWinService(t *testing.T) {
	dir := winTempDir(t)
	name := fmt.Sprintf("ramona-test-%d-%d", os.Getpid(), time.Now().UnixNano()%1000000)
	port := freeLoopbackPort(t)
	logDir := filepath.Join(dir, "log")
	conf := filepath.Join(dir, "ramona.conf")
	text := fmt.Sprintf("[general]\nlogdir=%s\n[ramona:server]\nconsoleuri=tcp://127.0.0.1:%d\n[program:sleeper]\ncommand=%s ramona-test-helper sleep\nstarttimeout=1\nstoptimeout=20s\n",
		logDir, port, winSelf(t))
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	ws := &winServer{t: t, dir: dir, conf: conf}
	if code, out := ws.ramona("wininstall", name); code != 0 {
		t.Fatalf("wininstall %s: exit %d\n%s", name, code, out)
	}
	installed := true
	t.Cleanup(func() {
		if installed {
			code, out := ws.ramona("winuninstall", name)
			t.Logf("cleanup: winuninstall %s: exit %d\n%s", name, code, out)
		}
		t.Logf("server log:\n%s", readShared(filepath.Join(logDir, "ramona.log")))
	})
	if code, out := ws.ramona("wininstall", name); code == 0 || !strings.Contains(out, "exists already") {
		t.Errorf("a second wininstall %s: exit %d\n%s", name, code, out)
	}
	sc := func(args ...string) (string, error) {
		cmd := exec.Command("sc", args...)
		cmd.WaitDelay = 10 * time.Second
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := sc("start", name); err != nil {
		t.Fatalf("sc start %s: %v\n%s", name, err, out)
	}
	st := ws.waitState("sleeper", "RUNNING", 90*time.Second)
	if out, err := sc("query", name); err != nil || !strings.Contains(out, "RUNNING") {
		t.Errorf("sc query %s: %v\n%s", name, err, out)
	}
	waitFor(t, "the server log file", 30*time.Second, func() bool {
		return strings.Contains(readShared(filepath.Join(logDir, "ramona.log")), "started, pid")
	})
	if code, out := ws.ramona("winuninstall", name); code != 0 {
		t.Fatalf("winuninstall %s: exit %d\n%s", name, code, out)
	}
	installed = false
	waitGone(t, st.PID)
	if log := ws.log("sleeper"); !strings.Contains(log, "got interrupt") {
		t.Errorf("the program did not see CTRL_C at the service's stop; its log:\n%s", log)
	}
	server := readShared(filepath.Join(logDir, "ramona.log"))
	for _, want := range []string{"got the service manager's STOP", "all programs stopped"} {
		if !strings.Contains(server, want) {
			t.Errorf("the server log lacks %q", want)
		}
	}
	if out, err := sc("query", name); err == nil {
		t.Errorf("sc query %s after winuninstall succeeded:\n%s", name, out)
	}
}
