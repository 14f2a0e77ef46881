// The one deadline type of the loop. Every deadline of a program (start
// timeout, backoff, kill steps, output drain, watchdog, extend-timeout,
// the next ready or health probe) and the server's orphan sweep is a
// loopTimer: when it fires, its function
// runs on the loop, and only if the timer was not stopped or armed again
// since; its generation is inside, so no caller keeps a counter of its own.
package main

import "time"

// loopTimer is one deadline owned by the loop. Its zero value is a stopped
// timer. Only the loop arms, stops or reads it.
type loopTimer struct {
	t   *time.Timer
	gen uint64 // bumped by every stop and arm: a firing of an older arming is stale
}

// arm (re)sets the deadline to d from now; f then runs on the loop unless
// the timer was stopped or armed again meanwhile. The timer's goroutine
// only posts: it never touches state.
func (s *Supervisor) arm(lt *loopTimer, d time.Duration, f func()) {
	lt.stop()
	gen := lt.gen
	lt.t = time.AfterFunc(d, func() {
		s.post(func() {
			if lt.gen == gen {
				lt.t = nil
				f()
			}
		})
	})
}

// armOff is arm for work that must not run on the loop (a health probe):
// after d, work runs in the timer's own goroutine, and the function it
// returns runs on the loop unless the timer was stopped or armed again
// meanwhile. The loop wakes once, for the result; the timer counts as armed
// until then. work must only read what it was given when armed.
func (s *Supervisor) armOff(lt *loopTimer, d time.Duration, work func() func()) {
	lt.stop()
	gen := lt.gen
	lt.t = time.AfterFunc(d, func() { // ends when work has
		then := work()
		s.post(func() {
			if lt.gen == gen {
				lt.t = nil
				then()
			}
		})
	})
}

// stop cancels the deadline; a firing already on its way is ignored.
func (lt *loopTimer) stop() {
	if lt.t != nil {
		lt.t.Stop()
		lt.t = nil
	}
	lt.gen++
}

// armed reports whether the deadline is pending.
func (lt *loopTimer) armed() bool { return lt.t != nil }
