//go:build unix

// The test harness: TestMain lets the test binary act as the ramona binary
// itself ("ramona-test-main ARGS"), so end-to-end tests need no go build of
// the product, and as the supervised child programs that need the package's
// code ("ramona-test-helper NAME ARGS", see runTestHelper); it builds the
// small helper program testdata/helper for the child programs tests start
// most often (buildHelperProgram). It also owns the utilities those tests share
// (server start/stop, in-process cli, waitFor, leftover-process checks);
// their self-tests are in harness_test.go.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestMain dispatches on os.Args[1] before the testing package sees any flag.
// testBackoffEnv sets the first backoff of a server the test binary runs
// (a duration), so that tests of backoff take milliseconds; testRamona's
// start sets it to testFirstBackoff unless the test asked for realBackoff.
const testBackoffEnv = "RAMONA_TEST_BACKOFF"

func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "ramona-test-helper":
			if len(os.Args) < 3 {
				fmt.Fprintln(os.Stderr, "ramona-test-helper: missing helper name")
				os.Exit(helperUnknown)
			}
			os.Exit(runTestHelper(os.Args[2], os.Args[3:]))
		case "ramona-test-main":
			// The server started by a test must re-execute itself (exec shim,
			// nested daemon) as the test binary too.
			reexecPrefix = []string{"ramona-test-main"}
			if d, err := time.ParseDuration(os.Getenv(testBackoffEnv)); err == nil && d > 0 {
				backoffFirst, backoffMax = d, 60*d // before the server starts: no goroutine reads them yet
			}
			os.Exit(run(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
		}
	}
	reexecPrefix = []string{"ramona-test-main"}
	limitFuzzMinimizing()
	raiseParallelism()
	// Under -race every exiting process sleeps 1 s (atexit_sleep_ms) unless
	// told otherwise; the helpers and servers inherit this environment.
	if g := os.Getenv("GORACE"); !strings.Contains(g, "atexit_sleep_ms") {
		os.Setenv("GORACE", strings.TrimSpace(g+" atexit_sleep_ms=0"))
	}
	buildHelperProgram()
	code := m.Run()
	removeHelperProgram()
	if code == 0 && os.Getenv("CI") == "true" && !testing.Short() && flag.Lookup("test.run").Value.String() == "" && flag.Lookup("test.skip").Value.String() == "" {
		// A full run, where no test skips for a missing peer or for
		// -short: every helper must have been used.
		if unused := unusedHelpers(); len(unused) > 0 {
			fmt.Printf("FAIL: test helpers no test runs: %s; remove them or test with them\n", strings.Join(unused, ", "))
			code = 1
		}
	}
	os.Exit(code)
}

// limitFuzzMinimizing makes -fuzzminimizetime 1000x (runs of the target)
// unless the command line sets it. The fuzzer minimizes every new interesting
// input, running the target up to n^2 times for n bytes and reporting
// 0 execs/s meanwhile (golang/go#51484, #48820); with the default of 60 s
// per input, FuzzLoadConfig (a few ms per input on a busy machine) spent most
// of a run minimizing: 3 799 execs in 60 s. A time limit kills the worker
// process when it runs out (the coordinator's deadline fires while the
// worker finishes its current run) and restarting one takes seconds; a count
// ends the minimizing inside the worker: 11 349 execs in 60 s on the same
// machine, the workers never restarted.
func limitFuzzMinimizing() {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.fuzzminimizetime" })
	if !set {
		flag.Set("test.fuzzminimizetime", "1000x")
	}
}

// testParallelPerCPU is how many parallel tests run at once per CPU unless
// -test.parallel says otherwise: go test's default is one per CPU, but the
// end-to-end tests mostly wait for the real processes they start (a program
// to reach RUNNING, a server to exit), so on a 2-core machine two at a time
// leave the CPUs idle; eight keep them busy without starving the deadlines.
// Under -race the processes themselves keep the CPUs busy (each server and
// helper is the instrumented test binary): more at once only stretches every
// deadline, so go test's default stays.
const testParallelPerCPU = 4

// raiseParallelism sets -test.parallel to testParallelPerCPU per CPU unless
// the command line set it or the race detector is on; call it after
// flag.Parse (limitFuzzMinimizing).
func raiseParallelism() {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set && !raceDetector {
		flag.Set("test.parallel", strconv.Itoa(testParallelPerCPU*runtime.GOMAXPROCS(0)))
	}
}

// Helper exit codes other than the ones a helper is asked to return.
const (
	helperUsage   = 98 // a known helper with bad arguments
	helperUnknown = 99 // no such helper
)

// helperLongSleep is "forever" for helpers that must stay up until killed.
const helperLongSleep = time.Hour

// runTestHelper runs the child program name (os.Args[2] of a re-executed test
// binary) and returns its exit code. Every helper is small and deterministic,
// and is run as "BINARY ramona-test-helper NAME ARGS" by one of two binaries
// (helperBinary says which). The test binary runs these:
//
//	spam BYTES        writes spamContent(BYTES) to stdout in 64 KiB writes, exits 0
//	hog MIB           starts "hog-child MIB" in a new session and sleeps 1h; stdout "hog: pid=N"
//	hog-child MIB     allocates MIB MiB and writes to every page, stdout "hog-child: ready",
//	                  then burns CPU until killed
//	cgroup-escape [stay]  stdout "cgroup-escape: in CG" (its cgroup v2 path, read first
//	                  thing), then unless stay tries to move itself to the hierarchy root:
//	                  "cgroup-escape: moved" or "cgroup-escape: refused: ERR"; sleeps 1h
//	rlimit-core [once] stdout "core=SOFTLIMIT\n" (a number or "unlimited"); sleeps 1h unless once
//	ctl-burst ADDR N PROG  N tcp connections to ADDR, each sending hello and `stop PROG` at
//	                  once and closing unread; stdout "burst: N sent\n" (attacker_test.go)
//	ctl-flood ADDR N [silent]  N tcp connections to ADDR, each sending hello (none when
//	                  silent); stdout "flood: N open, M failed\n"; holds them until stdin ends
//	http-req METHOD URL [HEADER...]  one HTTP request ("Key: value" headers; a POST sends
//	                  name=one); stdout "HTTP CODE\n" and the body
//	late-server NAME D PORT FILE  appends "NAME started PID UNIXNANO\n" to FILE, sleeps D, listens
//	                  on 127.0.0.1:PORT, appends "NAME listening PID UNIXNANO\n" and creates
//	                  NAME.listening in its directory; then answers GET /healthz with 200, or
//	                  503 while NAME.sick exists there (health_test.go)
//
// The small helper program testdata/helper (buildHelperProgram builds it once a
// run) runs the ones tests start most often; it starts in a third of the CPU
// time the test binary takes:
//
//	sleep D           stdout "sleep: started pid=N\n", sleeps D, exits 0 (dies on SIGTERM)
//	exit N [D]        sleeps D (default 0), stderr "exit: N\n", exits N
//	ignore-term D     ignores SIGTERM and SIGINT, then stdout "ignore-term: ready\n", sleeps D
//	grandchild D      starts "ignore-term D" in its own process group without waiting for it,
//	                  stdout "grandchild: pid=N" (N: the grandchild), sleeps D
//	double-fork D     runs "orphan-maker D 3", which starts "ignore-term D" and exits at once;
//	                  stdout "double-fork: pid=N" (N: the orphan), sleeps D
//	escape D          double-fork, but the orphan calls setsid first (a new session and
//	                  group, as daemons do); stdout "escape: pid=N", sleeps D
//	orphan-maker D [FD [setsid]]  starts "ignore-term D" (stdout: this stdout; in a new
//	                  session with setsid), reports "orphan-maker: pid=N\n" on fd FD
//	                  (default 1), exits 0 without waiting
//	env [once]        stdout: the environment sorted, one VAR=value a line; sleeps 1h unless once
//	pwd-umask [once]  stdout "cwd=DIR umask=0022\n"; sleeps 1h unless once
//	stamp FILE        appends "PID UNIXNANO\n" (its start time) to FILE, sleeps 1h
//	echo-lines N D    stdout "line 1\n" ... "line N\n", D between lines, then sleeps 1h
//	fds [once]        stdout "fd N TARGET\n" for each open descriptor but the Go runtime's own
//	                  cgroup files, in order; sleeps 1h unless once
//	signals FILE ROLE [CHILDROLE]  with CHILDROLE, first starts "signals FILE CHILDROLE" in its
//	                  process group; stdout "signals: ROLE ready\n", then at the first of SIGHUP,
//	                  SIGINT, SIGQUIT, SIGTERM, SIGUSR1 or SIGUSR2 appends "ROLE SIGNAME\n" to
//	                  FILE and exits 0
//
// The ignore-term processes started by grandchild and orphan-maker inherit the
// environment, stdout and stderr, and the process group.
func runTestHelper(name string, args []string) int {
	h, ok := testHelpers[name]
	if !ok || h.run == nil {
		fmt.Fprintf(os.Stderr, "ramona-test-helper: the test binary has no helper %q\n", name)
		return helperUnknown
	}
	return h.run(&helperArgs{name: name, args: args})
}

// testHelpers is the registry of the helpers listed above runTestHelper;
// starts names the helpers a helper runs itself. A test marks the helpers
// it runs (useHelper); a full run fails when one was never used, as
// os/exec's tests do (TestMain).
var testHelpers map[string]testHelper

type testHelper struct {
	run    func(a *helperArgs) int // nil: the helper program runs it
	starts []string
}

func init() {
	testHelpers = map[string]testHelper{
		"spam":          {run: helperSpam},
		"hog":           {run: helperHog, starts: []string{"hog-child"}},
		"hog-child":     {run: helperHogChild},
		"cgroup-escape": {run: helperCgroupEscape},
		"rlimit-core":   {run: helperRlimitCore},
		"ctl-burst":     {run: helperCtlBurst},
		"ctl-flood":     {run: helperCtlFlood},
		"http-req":      {run: helperHTTPReq},
		"late-server":   {run: helperLateServer},
		// Run by the helper program (testdata/helper), not by this binary.
		"sleep":        {},
		"exit":         {},
		"ignore-term":  {},
		"grandchild":   {starts: []string{"ignore-term"}},
		"orphan-maker": {starts: []string{"ignore-term"}},
		"double-fork":  {starts: []string{"orphan-maker", "ignore-term"}},
		"escape":       {starts: []string{"orphan-maker", "ignore-term"}},
		"env":          {},
		"pwd-umask":    {},
		"stamp":        {},
		"echo-lines":   {},
		"fds":          {},
		"signals":      {},
	}
}

var usedHelpers sync.Map // helper name -> true

// useHelper marks a helper, and the helpers it starts, as used; it returns
// name.
func useHelper(name string) string {
	if _, seen := usedHelpers.LoadOrStore(name, true); seen {
		return name // and so are the helpers it starts
	}
	for _, child := range testHelpers[name].starts {
		useHelper(child)
	}
	return name
}

// unusedHelpers are the helpers no test ran.
func unusedHelpers() []string {
	var unused []string
	for name := range testHelpers {
		if _, ok := usedHelpers.Load(name); !ok {
			unused = append(unused, name)
		}
	}
	slices.Sort(unused)
	return unused
}

func helperSpam(a *helperArgs) int {
	n := a.int(0)
	if !a.ok(1, 1) {
		return helperUsage
	}
	if err := writeSpam(os.Stdout, n); err != nil {
		fmt.Fprintln(os.Stderr, "spam:", err)
		return 1
	}
	return 0
}

func helperHog(a *helperArgs) int {
	a.int(0)
	if !a.ok(1, 1) {
		return helperUsage
	}
	p, err := startSelf([]*os.File{nil, os.Stdout, os.Stderr}, &syscall.SysProcAttr{Setsid: true}, "hog-child", a.args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "hog:", err)
		return 1
	}
	fmt.Printf("hog: pid=%d\n", p.Pid)
	time.Sleep(helperLongSleep)
	return 0
}

func helperHogChild(a *helperArgs) int {
	mib := a.int(0)
	if !a.ok(1, 1) {
		return helperUsage
	}
	// Mapped outside the Go heap, so that the race detector keeps no
	// shadow of it: the resident set is the MiB asked for, plus the runtime.
	mem, err := syscall.Mmap(-1, 0, mib<<20, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hog-child:", err)
		return 1
	}
	for i := 0; i < len(mem); i += os.Getpagesize() {
		mem[i] = 1 // every page written: resident
	}
	fmt.Println("hog-child: ready")
	for n := 0; ; n++ {
		mem[n%len(mem)]++
	}
}

func helperCgroupEscape(a *helperArgs) int {
	stay := len(a.args) == 1 && a.args[0] == "stay"
	if len(a.args) == 1 && !stay {
		a.fail(fmt.Errorf("unknown argument %q", a.args[0]))
	}
	if !a.ok(0, 1) {
		return helperUsage
	}
	self, _ := os.ReadFile("/proc/self/cgroup")
	cg := ""
	for _, line := range strings.Split(string(self), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			cg = p
		}
	}
	fmt.Printf("cgroup-escape: in %s\n", cg)
	if stay {
		time.Sleep(helperLongSleep)
		return 0
	}
	err := leaveCgroup(string(self))
	if err != nil {
		fmt.Printf("cgroup-escape: refused: %v\n", err)
	} else {
		fmt.Println("cgroup-escape: moved")
	}
	time.Sleep(helperLongSleep)
	return 0
}

func helperRlimitCore(a *helperArgs) int {
	once := a.once()
	if !a.ok(0, 1) {
		return helperUsage
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_CORE, &lim); err != nil {
		fmt.Fprintln(os.Stderr, "rlimit-core:", err)
		return 1
	}
	fmt.Printf("core=%s\n", rlimitString(lim.Cur))
	return sleepUnless(once)
}

func helperCtlBurst(a *helperArgs) int {
	n := a.int(1)
	if !a.ok(3, 3) {
		return helperUsage
	}
	return ctlBurst(a.args[0], n, a.args[2])
}

func helperCtlFlood(a *helperArgs) int {
	n := a.int(1)
	silent := len(a.args) == 3 && a.args[2] == "silent"
	if len(a.args) == 3 && !silent {
		a.fail(fmt.Errorf("unknown argument %q", a.args[2]))
	}
	if !a.ok(2, 3) {
		return helperUsage
	}
	return ctlFlood(a.args[0], n, silent)
}

func helperHTTPReq(a *helperArgs) int {
	if !a.ok(2, 100) {
		return helperUsage
	}
	return httpRequest(a.args[0], a.args[1], a.args[2:])
}

// helperArgs parses a helper's positional arguments, remembering the first error.
type helperArgs struct {
	name string
	args []string
	err  error
}

func (a *helperArgs) fail(err error) {
	if a.err == nil {
		a.err = err
	}
}

func (a *helperArgs) int(i int) int {
	if i >= len(a.args) {
		a.fail(fmt.Errorf("missing argument %d", i+1))
		return 0
	}
	n, err := strconv.Atoi(a.args[i])
	if err != nil {
		a.fail(err)
	}
	return n
}

func (a *helperArgs) duration(i int) time.Duration {
	if i >= len(a.args) {
		a.fail(fmt.Errorf("missing argument %d", i+1))
		return 0
	}
	d, err := time.ParseDuration(a.args[i])
	if err != nil {
		a.fail(err)
	}
	return d
}

// once reports whether the optional first argument is "once".
func (a *helperArgs) once() bool {
	if len(a.args) == 0 {
		return false
	}
	if a.args[0] != "once" {
		a.fail(fmt.Errorf("unknown argument %q", a.args[0]))
	}
	return true
}

// ok checks the argument count and reports any parse error to stderr.
func (a *helperArgs) ok(minArgs, maxArgs int) bool {
	if len(a.args) < minArgs || len(a.args) > maxArgs {
		a.fail(fmt.Errorf("want %d to %d arguments, got %d", minArgs, maxArgs, len(a.args)))
	}
	if a.err != nil {
		fmt.Fprintf(os.Stderr, "ramona-test-helper %s %q: %v\n", a.name, a.args, a.err)
		return false
	}
	return true
}

func sleepUnless(once bool) int {
	if !once {
		time.Sleep(helperLongSleep)
	}
	return 0
}

func rlimitString[T int64 | uint64](v T) string {
	if uint64(v) == rlimInfinity { // RLIM_INFINITY
		return "unlimited"
	}
	return strconv.FormatUint(uint64(v), 10)
}

// startSelf starts this binary as helper name with system attributes (a
// new session); a nil files[0] becomes /dev/null.
func startSelf(files []*os.File, sys *syscall.SysProcAttr, name string, args ...string) (*os.Process, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, err
	}
	defer devnull.Close()
	files = slices.Clone(files)
	if files[0] == nil {
		files[0] = devnull
	}
	argv := append([]string{exe, "ramona-test-helper", useHelper(name)}, args...)
	return os.StartProcess(exe, argv, &os.ProcAttr{Files: files, Sys: sys})
}

// spamLineLen is the length of every line of spamContent (while the line
// number has at most 8 digits, i.e. for the first 6.4 GB).
const spamLineLen = 64

// spamFill pads a spam line "line NNNNNNNN " to spamLineLen bytes.
const spamFill = "abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOPQRSTUV"

// spamContent is exactly what "spam n" writes: n bytes of the lines
// "line 00000000 <fill>\n", "line 00000001 <fill>\n", ..., each spamLineLen
// bytes long; the last line is cut short when n is not a multiple of it.
func spamContent(n int) []byte {
	var b bytes.Buffer
	b.Grow(n)
	writeSpam(&b, n) // a bytes.Buffer write never fails
	return b.Bytes()
}

// writeSpam writes spamContent(n) to w in writes of at most 64 KiB (whole lines
// but the last).
func writeSpam(w io.Writer, n int) error {
	const chunk = 64 << 10
	buf := make([]byte, 0, chunk+spamLineLen)
	for i := 0; n > 0; i++ {
		buf = fmt.Appendf(buf, "line %08d %s\n", i, spamFill)
		if len(buf) >= chunk || len(buf) >= n {
			k := min(len(buf), n, chunk)
			if _, err := w.Write(buf[:k]); err != nil {
				return err
			}
			n -= k
			buf = append(buf[:0], buf[k:]...)
		}
	}
	return nil
}

// ---- Utilities for end-to-end tests ----

// testBinary is the path of this test binary, which re-executes as helpers and as ramona.
func testBinary(t testing.TB) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("os.Executable: %v", err)
	}
	return exe
}

// helperProgramBuild is the one build of the helper program in a run.
var helperProgramBuild struct {
	dir, path string
	err       error
}

// buildHelperProgram builds the small helper program (testdata/helper) into
// a directory every user may read, so that programs running as another user
// (user=) and attackers can run it too. TestMain calls it before the tests
// run, in go test's environment: a test's t.Setenv("HOME") would send the
// build to an empty cache. It builds like the release binary (no cgo,
// -trimpath), whose compiled packages go's cache then holds.
func buildHelperProgram() {
	b := &helperProgramBuild
	goTool, err := exec.LookPath("go")
	if err != nil {
		b.err = fmt.Errorf("the tests build their helper program with go, which is not in PATH: %v", err)
		return
	}
	if b.dir, b.err = os.MkdirTemp("", "ramona-helper-"); b.err != nil {
		return
	}
	if b.err = os.Chmod(b.dir, 0o755); b.err != nil {
		return
	}
	b.path = filepath.Join(b.dir, "helper")
	build := exec.Command(goTool, "build", "-trimpath", "-o", b.path, "./testdata/helper")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		b.err = fmt.Errorf("%s: %v\n%s", strings.Join(build.Args, " "), err, out)
	}
}

// helperProgram is the path of the helper program buildHelperProgram built.
func helperProgram(t testing.TB) string {
	t.Helper()
	if b := &helperProgramBuild; b.err != nil || b.path == "" {
		t.Fatalf("the helper program was not built: %v", b.err)
	}
	return helperProgramBuild.path
}

// removeHelperProgram removes what helperProgram built; TestMain calls it
// once the tests have ended.
func removeHelperProgram() {
	if d := helperProgramBuild.dir; d != "" {
		os.RemoveAll(d)
	}
}

// helperBinary is the binary that runs helper name: the helper program, or
// the test binary for the helpers it runs itself and for unknown names (it
// reports those).
func helperBinary(t testing.TB, name string) string {
	t.Helper()
	if h, ok := testHelpers[name]; ok && h.run == nil {
		return helperProgram(t)
	}
	return testBinary(t)
}

// helperArgv is the command line that runs helper name with args.
func helperArgv(t testing.TB, name string, args ...string) []string {
	t.Helper()
	return append([]string{helperBinary(t, name), "ramona-test-helper", useHelper(name)}, args...)
}

// helperCommand is a config value for command= that runs helper name with args:
// words quoted as in POSIX sh (shellQuote) and % doubled for the INI
// interpolation. An argument the INI format cannot carry (a newline, a ';'
// after white space, which starts an inline comment) fails the test.
func helperCommand(t testing.TB, name string, args ...string) string {
	t.Helper()
	words := helperArgv(t, name, args...)
	quoted := make([]string, len(words))
	for i, w := range words {
		if strings.ContainsAny(w, "\r\n") || strings.Contains(w, " ;") || strings.Contains(w, "\t;") {
			t.Fatalf("helperCommand: argument %q cannot be written in a config value", w)
		}
		quoted[i] = shellQuote(w)
	}
	return strings.ReplaceAll(strings.Join(quoted, " "), "%", "%%")
}

// shellQuote returns s as one shell word: unchanged when it holds only
// characters that need no quoting, else in double quotes with \ " $ and `
// escaped by a backslash (POSIX sh double-quote rules).
func shellQuote(s string) string {
	safe := func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			strings.ContainsRune("-_./:=,+@%", r)
	}
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool { return !safe(r) }) {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if strings.ContainsRune("\\\"$`", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

var testIDCounter atomic.Int64

// newTestID is a marker unique to this test run, for RAMONA_TEST_ID=<id> in the
// environment of everything a test starts (see leftoverProcesses).
func newTestID() string {
	return fmt.Sprintf("t%d-%d", os.Getpid(), testIDCounter.Add(1))
}

// leftoverProcesses lists the live (non-zombie) processes, other than this
// one, whose initial environment holds exactly RAMONA_TEST_ID=<id>. Processes
// that vanish or cannot be read are skipped.
func leftoverProcesses(id string) []int {
	want := []byte("RAMONA_TEST_ID=" + id)
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err != nil || !slices.ContainsFunc(bytes.Split(env, []byte{0}), func(e []byte) bool { return bytes.Equal(e, want) }) {
			continue
		}
		if st, err := readProcStat(pid); err != nil || st.state == 'Z' {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

// procStat holds the fields of /proc/PID/stat the tests use.
type procStat struct {
	state byte // R, S, D, Z, T, ...
	ppid  int
	pgrp  int
}

func readProcStat(pid int) (procStat, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	// "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: no ')' in %q", pid, data)
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 3 || len(f[0]) != 1 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: bad fields %q", pid, data)
	}
	var st procStat
	st.state = f[0][0]
	if st.ppid, err = strconv.Atoi(f[1]); err == nil {
		st.pgrp, err = strconv.Atoi(f[2])
	}
	return st, err
}

// procCmdline is the command line of pid with spaces between arguments.
func procCmdline(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return strings.TrimSpace(string(bytes.ReplaceAll(data, []byte{0}, []byte{' '})))
}

// checkNoLeftovers fails the test if processes carrying RAMONA_TEST_ID=<id> are
// still alive 5 s after it is called, and SIGKILLs them. Call it from
// t.Cleanup, registered BEFORE the server or helpers are started so that it
// runs after their own cleanups (cleanups run last-registered first).
func checkNoLeftovers(t testing.TB, id string) {
	t.Helper()
	checkNoLeftoversWithin(t, id, 5*time.Second)
}

func checkNoLeftoversWithin(t testing.TB, id string, grace time.Duration) {
	t.Helper()
	deadline := time.Now().Add(grace)
	pids := leftoverProcesses(id)
	for len(pids) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		pids = leftoverProcesses(id)
	}
	if len(pids) == 0 {
		return
	}
	var b strings.Builder
	for _, pid := range pids {
		fmt.Fprintf(&b, "\n\tpid %d: %s", pid, procCmdline(pid))
		syscall.Kill(pid, syscall.SIGKILL)
	}
	t.Errorf("processes of test %s still alive %v after the test (now killed):%s", id, grace, &b)
	for deadline = time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if len(leftoverProcesses(id)) == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("processes of test %s survived SIGKILL: %v", id, leftoverProcesses(id))
}

// testServer is the test binary running as ramona in its own process group.
type testServer struct {
	t       testing.TB
	cmd     *exec.Cmd
	logPath string        // its stdout and stderr
	done    chan struct{} // closed when cmd.Wait has returned
	waitErr error         // cmd.Wait's error; read after done
}

// startRamonaProcess runs the test binary as "ramona ARGS" (as
// ramona-test-main) in its own process group, with os.Environ() plus
// extraEnv, its stdout and stderr appended to logPath. t.Cleanup stops it:
// SIGTERM, up to 10 s, then SIGKILL to its process group; the log goes to
// the test log if the test failed.
func startRamonaProcess(t testing.TB, logPath string, extraEnv []string, args ...string) *testServer {
	t.Helper()
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatalf("server log: %v", err)
	}
	defer logf.Close() // the child has its own copy once started
	cmd := exec.Command(testBinary(t), append([]string{"ramona-test-main"}, args...)...)
	cmd.Env = append(os.Environ(), extraEnv...)
	cmd.Stdin = nil
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = serverSysProcAttr()
	return newTestServer(t, cmd, logPath)
}

// newTestServer starts cmd (in its own process group) and registers the
// cleanup described at startRamonaProcess.
func newTestServer(t testing.TB, cmd *exec.Cmd, logPath string) *testServer {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %q: %v", cmd.Args, err)
	}
	s := &testServer{t: t, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() { // ends when the server exits
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	t.Logf("started %s: pid %d, log %s", strings.Join(cmd.Args[1:], " "), cmd.Process.Pid, logPath)
	t.Cleanup(s.cleanup)
	return s
}

func (s *testServer) cleanup() {
	t := s.t
	t.Helper()
	pid := s.cmd.Process.Pid
	select {
	case <-s.done:
	default:
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			t.Errorf("ramona pid %d still running 10s after SIGTERM; killing its process group", pid)
			syscall.Kill(-pid, syscall.SIGKILL)
			select {
			case <-s.done:
			case <-time.After(10 * time.Second):
				t.Errorf("ramona pid %d survived SIGKILL", pid)
			}
		}
	}
	if t.Failed() {
		data, err := os.ReadFile(s.logPath)
		if err != nil {
			t.Logf("server log: %v", err)
		} else {
			t.Logf("server log %s:\n%s", s.logPath, data)
		}
	}
}

// wait waits up to timeout for the server to exit and returns its exit code;
// an error when it is still running or was killed by a signal (code -1).
func (s *testServer) wait(timeout time.Duration) (exitCode int, err error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-s.done:
	case <-timer.C:
		select {
		case <-s.done:
		default:
			return -1, fmt.Errorf("ramona pid %d still running after %v", s.cmd.Process.Pid, timeout)
		}
	}
	ps := s.cmd.ProcessState
	if ps == nil {
		return -1, s.waitErr
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -1, fmt.Errorf("ramona pid %d killed by %v", s.cmd.Process.Pid, ws.Signal())
	}
	return ps.ExitCode(), nil
}

// signal sends sig to the server process (not its group); a failure fails the test.
func (s *testServer) signal(sig os.Signal) {
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Errorf("signal %v to ramona pid %d: %v", sig, s.cmd.Process.Pid, err)
	}
}

// cli runs "ramona -c confPath ARGS" in this process and returns its exit code
// and output. A server it starts in the background is the test binary
// (reexecPrefix) and inherits this environment: use t.Setenv("RAMONA_TEST_ID",
// id) first so that checkNoLeftovers sees it.
func cli(t testing.TB, confPath string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var outBuf, errBuf bytes.Buffer
	argv := append([]string{"-c", confPath}, args...)
	code = run(argv, strings.NewReader(""), &outBuf, &errBuf)
	t.Logf("ramona %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(argv, " "), code, &outBuf, &errBuf)
	return code, outBuf.String(), errBuf.String()
}
