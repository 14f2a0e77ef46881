// The loop's side of readiness and health probes (SPEC section 10): with
// ready=PROBE a STARTING program is probed from its spawn on (first soon,
// then backing off to once a second) until a probe succeeds (RUNNING) or
// readytimeout ends the start; with healthcheck= a RUNNING program is
// probed every healthinterval, and healthretries failures in a row make it
// unhealthy: logged, notified, stopped with its kill sequence and started
// again like a program that died. Each program has one probe timer, armed
// only when it has a probe; a try runs in the timer's goroutine (probe.go)
// and posts its result: one wake-up of the loop per try.
package main

import (
	"context"
	"fmt"
	"os"
	"time"
)

const (
	readyProbeFirst = 50 * time.Millisecond // after the spawn, the first ready probe
	readyProbeMax   = time.Second           // ready probes back off to this interval
)

// healthState is a program's health verdict.
type healthState int

const (
	healthStarting  healthState = iota // no verdict yet since the last start on request
	healthHealthy                      // the last check succeeded
	healthUnhealthy                    // healthretries checks failed in a row; until one succeeds
)

var healthNames = [...]string{"starting", "healthy", "unhealthy"}

func (h healthState) String() string { return healthNames[h] }

// probeState is a program's probing: its one timer, the try in flight,
// and the verdict so far. Only the loop touches it.
type probeState struct {
	timer    loopTimer          // armed: waiting for the next try, or trying
	cancel   context.CancelFunc // abandons the try of the armed timer (an exec probe is killed)
	tries    int                // ready probes since the spawn
	lastFail string             // why the last probe failed
	failures int                // health checks failed in a row
	health   healthState
	reason   string // while unhealthy: why
}

// afresh forgets the verdict: a start on request starts with none.
func (ps *probeState) afresh() {
	ps.health, ps.reason, ps.failures = healthStarting, "", 0
}

// stopProbes stops p's probing: its timer, and the try in flight, which is
// abandoned (an exec probe killed).
func (s *Supervisor) stopProbes(p *Program) {
	ps := &p.probe
	ps.timer.stop()
	if ps.cancel != nil {
		ps.cancel()
		ps.cancel = nil
	}
}

// armProbe arms p's probe timer: after d, probe is tried off the loop, in
// the timer's own goroutine, and only its result comes to the loop (to
// done), unless probing was stopped or re-armed meanwhile: one wake-up of
// the loop per try. What the try needs is taken now, on the loop.
func (s *Supervisor) armProbe(p *Program, d time.Duration, probe Probe, done func(err error)) {
	s.stopProbes(p)
	ps := &p.probe
	ctx, cancel := context.WithCancel(context.Background())
	ps.cancel = cancel
	timeout := p.cfg.HealthTimeout
	var ex *execProbe
	if probe.Kind == probeExec {
		ex = s.execProbeOf(p.cfg)
	}
	s.armOff(&ps.timer, d, func() func() { // at most timeout, or until abandoned
		err := runProbe(ctx, probe, timeout, ex)
		cancel()
		return func() {
			ps.cancel = nil
			done(err)
		}
	})
}

// execProbeOf is what an exec probe of pc runs with: the program's
// environment (without NOTIFY_SOCKET: a probe does not speak for the
// program), directory and user.
func (s *Supervisor) execProbeOf(pc *ProgramConfig) *execProbe {
	env := programEnv(pc, "program:"+pc.Name, s.cfg, s.environ, "", s.serverID)
	return &execProbe{env: env, directory: pc.Directory, baseDir: pc.BaseDir, waiter: s.children,
		// As the program (which could not have been spawned as another user
		// than root's own unless the server is root).
		asUser: pc.User != "" && os.Geteuid() == 0, uid: pc.UID, gid: pc.GID, groups: pc.Groups}
}

// startReadyProbes: p was spawned with ready=PROBE; probe it until it is
// ready. Its deadline, readytimeout, is the program's state timer.
func (s *Supervisor) startReadyProbes(p *Program) {
	p.probe.tries = 0
	p.probe.lastFail = ""
	s.armProbe(p, readyProbeFirst, p.cfg.ReadyProbe, func(err error) { s.readyResult(p, err) })
}

func (s *Supervisor) readyResult(p *Program, err error) {
	if p.state != StateStarting {
		return
	}
	if err == nil {
		s.log.Infof("%s: ready: %s succeeded", p.cfg.Name, p.cfg.ReadyProbe.shown())
		s.becameRunning(p)
		return
	}
	ps := &p.probe
	ps.tries++
	ps.lastFail = err.Error()
	s.log.Debugf("%s: not ready yet: %s: %v", p.cfg.Name, p.cfg.ReadyProbe.shown(), err)
	delay := readyProbeFirst << min(ps.tries, 10)
	s.armProbe(p, min(delay, readyProbeMax), p.cfg.ReadyProbe, func(err error) { s.readyResult(p, err) })
}

// notReadyText says why a start timed out: no READY=1, or the last probe's
// failure.
func (s *Supervisor) notReadyText(p *Program) string {
	if p.cfg.Ready != ReadyProbe {
		return fmt.Sprintf("no READY=1 within %s", p.cfg.ReadyTimeout)
	}
	why := "no probe finished"
	if p.probe.lastFail != "" {
		why = p.probe.lastFail
	}
	return fmt.Sprintf("not ready within %s: %s: %s", p.cfg.ReadyTimeout, p.cfg.ReadyProbe.shown(), why)
}

// armHealth starts the health checks of a program that became RUNNING;
// without healthcheck= nothing is armed at all.
func (s *Supervisor) armHealth(p *Program) {
	s.stopProbes(p)
	if p.cfg.HealthCheck.Kind == probeNone {
		return
	}
	p.probe.failures = 0
	s.nextHealthCheck(p)
}

func (s *Supervisor) nextHealthCheck(p *Program) {
	s.armProbe(p, p.cfg.HealthInterval, p.cfg.HealthCheck, func(err error) { s.healthResult(p, err) })
}

func (s *Supervisor) healthResult(p *Program, err error) {
	if p.state != StateRunning {
		return
	}
	ps := &p.probe
	name, probe := p.cfg.Name, p.cfg.HealthCheck.shown()
	if err == nil {
		switch ps.health {
		case healthUnhealthy:
			s.log.Infof("%s: healthy again: %s succeeded", name, probe)
		case healthStarting:
			s.log.Infof("%s: healthy: %s succeeded", name, probe)
		default:
			if ps.failures > 0 {
				s.log.Infof("%s: health check %s succeeded after %d failure(s)", name, probe, ps.failures)
			}
		}
		ps.health, ps.reason, ps.failures = healthHealthy, "", 0
		s.nextHealthCheck(p)
		return
	}
	ps.failures++
	why := fmt.Sprintf("%s: %v", probe, err)
	if ps.failures < p.cfg.HealthRetries {
		s.log.Warnf("%s: health check failed (%d of %d in a row): %s", name, ps.failures, p.cfg.HealthRetries, why)
		s.nextHealthCheck(p)
		return
	}
	ps.health = healthUnhealthy
	ps.reason = fmt.Sprintf("%s (%d checks in a row)", why, ps.failures)
	s.log.Errorf("%s: unhealthy: %s; restarting it", name, ps.reason)
	s.notifyHealth(p, ps.reason)
	p.intend(heal, nil)
	s.beginKill(p, false)
}

// healthField is status's health: null without healthcheck=.
func (p *Program) healthField() *string {
	if p.cfg.HealthCheck.Kind == probeNone {
		return nil
	}
	h := p.probe.health.String()
	return &h
}

// restartUnhealthy: p was stopped for being unhealthy (its after-stop
// intent heal); it starts again as a program that died: at once, or after
// quick deaths in a row from BACKOFF.
func (s *Supervisor) restartUnhealthy(p *Program, desc string) {
	uptime := time.Duration(0)
	if p.lastExit != nil {
		uptime = p.lastExit.uptime
	}
	s.restartSoon(p, uptime, fmt.Sprintf("stopped for being unhealthy (%s)", desc), "unhealthy: "+p.probe.reason)
}
