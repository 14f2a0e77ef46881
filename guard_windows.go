// The group guard on Windows: not needed. Every program runs in a job object
// with JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE (jobobject_windows.go), and when
// the server dies, however it dies, Windows closes its handles and kills
// every job's processes. These no-ops keep the supervisor's calls portable.
package main

import (
	"fmt"
	"os"
	"time"
)

type groupGuard struct{}

// startGroupGuard starts nothing: nil guard, no error.
func startGroupGuard(selfExe string, lock *os.File) (*groupGuard, error) { return nil, nil }

func (g *groupGuard) add(pgid int)                 {}
func (g *groupGuard) pid() int                     { return 0 }
func (g *groupGuard) remove(pgid int)              {}
func (g *groupGuard) watchCgroup(dir string)       {}
func (g *groupGuard) watchMarker(marker string)    {}
func (g *groupGuard) close()                       {}
func (g *groupGuard) awaitExit(time.Duration) bool { return true }

func runExecGuard() int {
	fmt.Fprintln(os.Stderr, "ramona exec-guard: not used on Windows (job objects do its work)")
	return 2
}
