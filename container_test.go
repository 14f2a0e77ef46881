//go:build unix

// Ramona as PID 1 of a real container: Debian's podman (with runc and the
// cgroupfs manager, which work on this machine kind) runs a FROM scratch
// image of the static binary, busybox and examples/container.conf. The
// container sees no cgroup2 here, so this is also the fallback mode as PID 1.
package main

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// podmanCmd runs podman with the runtime and cgroup manager this machine
// kind needs.
type podmanCmd struct {
	t    *testing.T
	bin  string
	runc string
}

func (p podmanCmd) run(args ...string) (string, int) {
	p.t.Helper()
	argv := append([]string{"--runtime", p.runc, "--cgroup-manager=cgroupfs"}, args...)
	out, err := exec.Command(p.bin, argv...).CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	}
	p.t.Fatalf("podman %s: %v", strings.Join(args, " "), err)
	return "", -1
}

// must runs podman and fails the test unless it exits 0.
func (p podmanCmd) must(args ...string) string {
	p.t.Helper()
	out, code := p.run(args...)
	if code != 0 {
		p.t.Fatalf("podman %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// needStaticBusybox returns the path of a statically linked busybox.
func needStaticBusybox(t *testing.T) string {
	t.Helper()
	path := needPeer(t, "busybox", "busybox-static")
	needPeerCheck(t, "a static busybox", "busybox-static", func() error {
		f, err := elf.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				return fmt.Errorf("%s is dynamically linked", path)
			}
		}
		return nil
	})
	return path
}

func TestPodmanContainer(t *testing.T) {
	skipInShort(t, "podman (an image built and a container run)")
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("podman with runc and cgroupfs runs as root here")
	}
	pm := podmanCmd{t: t, bin: needPeer(t, "podman", "podman"), runc: needPeer(t, "runc", "runc")}
	busybox := needStaticBusybox(t)
	goTool, err := exec.LookPath("go") // go test puts its GOROOT/bin first on PATH
	if err != nil {
		t.Fatalf("the go command to build the image's binary: %v", err)
	}
	id := strings.ToLower(newTestID())
	ctx := t.TempDir()
	build := exec.Command(goTool, "build", "-ldflags=-s -w", "-o", filepath.Join(ctx, "ramona"), ".") // as .ci/run builds it: its cache serves
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("static build: %v\n%s", err, out)
	}
	example, err := os.ReadFile("examples/container.conf")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"container.conf": string(example),
		// A program whose child leaves its session (setsid) and outlives it.
		"escaper.conf": `[program:escaper]
command=/bin/busybox sh -c '/bin/busybox setsid /bin/busybox sleep 1000007 & echo "escaper: started"; exec /bin/busybox sleep 1000008'
stdout=<console>
stderr=<console>
`,
		// The essential program fails for good with exit code 7.
		"exit7.conf": `[program:app]
command=/bin/busybox sh -c 'echo "app: failing"; sleep 1; exit 7'
autorestart=no
`,
		"Containerfile": `FROM scratch
COPY ramona /ramona
COPY busybox /bin/busybox
COPY container.conf /etc/ramona/ramona.conf
COPY escaper.conf exit7.conf /etc/ramona/
ENV PATH=/bin
ENTRYPOINT ["/ramona", "-c", "/etc/ramona/ramona.conf"]
CMD ["daemon"]
`,
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(ctx, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(busybox)
	if err == nil {
		err = os.WriteFile(filepath.Join(ctx, "busybox"), data, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	image := "localhost/ramona-test-" + id
	pm.must("build", "-q", "-t", image, ctx)
	t.Cleanup(func() { pm.run("rmi", "-f", image) })
	limits := []string{"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"}

	// An orderly life: output as NAME | line, status answers, stop is clean.
	name := "ramona-test-" + id
	t.Cleanup(func() { pm.run("rm", "-f", "-t", "0", name) })
	pm.must(append(append([]string{"run", "-d", "--name", name}, limits...), image, "-c", "/etc/ramona/escaper.conf", "daemon")...)
	var logs string
	waitFor(t, "the programs' lines in podman logs", lcWait, func() bool {
		logs, _ = pm.run("logs", name)
		return strings.Contains(logs, "web | web: serving") && strings.Contains(logs, "app | app: running") &&
			strings.Contains(logs, "migrate | migrate: schema up to date") && strings.Contains(logs, "escaper | escaper: started")
	})
	waitFor(t, "every program RUNNING (podman exec ramona status exits 0)", lcWait, func() bool {
		_, code := pm.run("exec", name, "/ramona", "-c", "/etc/ramona/ramona.conf", "-c", "/etc/ramona/escaper.conf", "-s", "status")
		return code == 0
	})
	out, code := pm.run("exec", name, "/ramona", "-c", "/etc/ramona/ramona.conf", "-c", "/etc/ramona/escaper.conf", "status")
	if code != 0 || !strings.Contains(out, "CPU") || !strings.Contains(out, "MEM") {
		t.Errorf("podman exec status: exit %d\n%s", code, out)
	}
	escapee := hostProcess("/bin/busybox sleep 1000007")
	if escapee == 0 {
		t.Fatalf("the escaper's child is not running:\n%s", logs)
	}
	pm.must("stop", "-t", "30", name)
	if state := strings.TrimSpace(pm.must("inspect", "--format", "{{.State.ExitCode}}", name)); state != "0" {
		t.Errorf("container exit code after podman stop: %s; want 0 (an orderly stop within the grace period)", state)
	}
	logs, _ = pm.run("logs", name)
	for _, want := range []string{"server: got SIGTERM", "that programs left behind (reparented to the server)", "sleep 1000007",
		"server: all programs stopped; exiting with status 0"} {
		if !strings.Contains(logs, want) {
			t.Errorf("podman logs lack %q:\n%s", want, logs)
		}
	}
	if pid := hostProcess("/bin/busybox sleep 1000007"); pid != 0 {
		t.Errorf("the escaped grandchild (host pid %d) outlived the container", pid)
	}

	// An essential program's exit code becomes the container's.
	failing := name + "-exit"
	t.Cleanup(func() { pm.run("rm", "-f", "-t", "0", failing) })
	out, code = pm.run(append(append([]string{"run", "--name", failing}, limits...), image, "-c", "/etc/ramona/exit7.conf", "daemon")...)
	if code != 7 || !strings.Contains(out, "app | app: failing") || !strings.Contains(out, "exiting with status 7") {
		t.Errorf("podman run with a failing essential program: exit %d; want 7\n%s", code, out)
	}
}

// hostProcess returns the pid of a live process whose command line is cmd,
// or 0.
func hostProcess(cmd string) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil {
			continue
		}
		if procCmdline(pid) == cmd && !gone(pid) {
			return pid
		}
	}
	return 0
}
