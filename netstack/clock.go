package netstack

import (
	"sync/atomic"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// clock is the operating system's time. origin carries Go's monotonic reading, so Mono is
// immune to wall-clock steps.
type clock struct {
	origin time.Time
}

func newClock() *clock { return &clock{origin: time.Now()} }

// Now implements env.Clock.
func (c *clock) Now() time.Time { return time.Now() }

// Mono implements env.Clock.
func (c *clock) Mono() time.Duration { return time.Since(c.origin) }

// AfterFunc implements env.Clock. A d <= 0 posts directly rather than through the runtime
// timer, so that fn is queued ahead of anything the caller posts next, as the contract
// (and the simulator) order it.
func (c *clock) AfterFunc(d time.Duration, ex env.Executor, fn func()) env.Timer {
	t := &timer{ex: ex, fn: fn}
	if d <= 0 {
		ex.Post(t.fire)
		return t
	}
	t.rt = time.AfterFunc(d, func() { postInline(ex, t.fire) })
	return t
}

// Timer states. The state moves once, from pending to either fired or stopped; whichever of
// fire and Stop makes that move decides whether fn runs.
const (
	timerPending int32 = iota
	timerFired
	timerStopped
)

type timer struct {
	ex    env.Executor
	fn    func()
	rt    *time.Timer // nil when the timer was posted at once
	state atomic.Int32
}

// fire runs on the timer's executor. Checking the state here, rather than in the runtime
// timer's goroutine, is what lets a Stop on the same executor cancel a firing that is
// already queued.
func (t *timer) fire() {
	if t.state.CompareAndSwap(timerPending, timerFired) {
		t.fn()
	}
}

// Stop implements env.Timer. It returns true exactly when it prevented fn from running, from
// any goroutine; the contract only requires that on the timer's executor.
func (t *timer) Stop() bool {
	if t.rt != nil {
		t.rt.Stop() // saves a needless post; correctness rests on the state alone
	}
	return t.state.CompareAndSwap(timerPending, timerStopped)
}
