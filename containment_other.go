//go:build !linux

// Containment where there are no cgroups and no /proc to read: cgroups are
// always off, a program's CPU and memory read as zero, and the server finds
// no reparented processes to stop at exit; the guard kills process groups
// only (on Windows job objects hold the trees). The same function set as
// cgroup_linux.go and proctree_linux.go.
package main

import (
	"os"
	"strconv"
	"syscall"
	"time"
)

type cgroupTree struct {
	base        string
	controllers map[string]bool
	noClone3    bool
}

const cgroupEmptyWait = 10 * time.Second

func openCgroups(cfg *Config, log *serverLog) (*cgroupTree, string, error) {
	return nil, "cgroups exist only on Linux", nil
}

func (t *cgroupTree) makeProgram(pc *ProgramConfig) (*programCgroup, []string, error) {
	return nil, nil, errNoCgroups
}

func (t *cgroupTree) makeInstance(pcg *programCgroup, n int, emptied func()) (string, int, error) {
	return "", -1, errNoCgroups
}

func (t *cgroupTree) killAll() error     { return errNoCgroups }
func (t *cgroupTree) clone3Missing()     {}
func (t *cgroupTree) close()             {}
func (t *cgroupTree) lockFile() *os.File { return nil }

var errNoCgroups = syscall.ENOSYS

func intoCgroup(sys *syscall.SysProcAttr, fd int)            {}
func spawnsIntoCgroup(sys *syscall.SysProcAttr) bool         { return false }
func notIntoCgroup(sys *syscall.SysProcAttr)                 {}
func killCgroup(dir string) error                            { return errNoCgroups }
func signalCgroup(dir string, sig syscall.Signal)            {}
func removeCgroupTree(dir string) error                      { return nil }
func waitCgroupEmpty(dir string, timeout time.Duration) bool { return true }
func readUsage(qs []usageQuery) []usage                      { return make([]usage, len(qs)) }
func adoptedOrphans(except map[int]bool) []int               { return nil }
func describeProcess(pid int) string                         { return strconv.Itoa(pid) }
func killMarked(marker string)                               {}
func moveIntoCgroup(dir string, pid int) error               { return errNoCgroups }
