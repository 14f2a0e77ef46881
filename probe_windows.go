// Exec probes on Windows: not yet. The configuration check refuses them at
// load (probeUnsupported), so none runs; tcp:// and http:// probes work.
package main

import (
	"context"
	"errors"
	"syscall"
	"time"
)

// probeUnsupported is why a probe form cannot run here; "" when it can.
func probeUnsupported(k probeKind) string {
	if k == probeExec {
		return "exec probes do not run on Windows yet; probe the port with tcp:// or http://"
	}
	return ""
}

func (ex *execProbe) run(ctx context.Context, command string, timeout time.Duration) error {
	return errors.New(probeUnsupported(probeExec))
}

// childWaiter has nothing to wait for without exec probes.
type childWaiter struct{}

func newChildWaiter() *childWaiter { return &childWaiter{} }

func (w *childWaiter) deliver(pid int, ws syscall.WaitStatus) bool { return false }
