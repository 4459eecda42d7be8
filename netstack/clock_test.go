package netstack

import (
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

func TestTimerFires(t *testing.T) {
	e, _ := newTestEnv(t)
	ex := e.Exec.New("timer")
	const d = 20 * time.Millisecond
	start := e.Clock.Mono()
	fired := make(chan time.Duration, 1)
	e.Clock.AfterFunc(d, ex, func() { fired <- e.Clock.Mono() })
	at := waitFor(t, fired, "the timer")
	if at-start < d {
		t.Fatalf("fired after %v, want at least %v", at-start, d)
	}
}

// A zero delay queues fn at once, ahead of what the caller posts next.
func TestTimerZeroDelayPostsInOrder(t *testing.T) {
	e, _ := newTestEnv(t)
	ex := e.Exec.New("timer")
	var order []string
	done := make(chan struct{})
	ex.Post(func() {
		e.Clock.AfterFunc(0, ex, func() { order = append(order, "timer") })
		ex.Post(func() {
			order = append(order, "post")
			close(done)
		})
	})
	waitFor(t, done, "both functions")
	if len(order) != 2 || order[0] != "timer" {
		t.Fatalf("order = %v, want [timer post]", order)
	}
}

// notifyingExecutor reports each Post, so a test knows when a firing timer has queued fn.
type notifyingExecutor struct {
	env.Executor
	posted chan struct{}
}

func (n notifyingExecutor) Post(fn func()) {
	n.Executor.Post(fn)
	n.posted <- struct{}{}
}

// The contract's hard case: the timer has fired and fn waits in the executor's queue behind
// the running function, which then calls Stop. Stop must report true and fn must never run.
func TestTimerStopFromExecutorCancelsQueuedFire(t *testing.T) {
	e, _ := newTestEnv(t)
	ex := e.Exec.New("timer")
	posted := make(chan struct{}, 1)
	nex := notifyingExecutor{Executor: ex, posted: posted}
	ran := make(chan struct{}, 1)
	var stopped bool
	runOn(t, ex, func() {
		tm := e.Clock.AfterFunc(time.Millisecond, nex, func() { ran <- struct{}{} })
		// Blocking here is test-only: it holds the executor so the firing must queue.
		waitFor(t, posted, "the timer to queue its function")
		stopped = tm.Stop()
	})
	runOn(t, ex, func() {}) // anything queued before this has run by now
	if !stopped {
		t.Fatal("Stop returned false for a fire still in the queue")
	}
	select {
	case <-ran:
		t.Fatal("the timer's function ran after Stop")
	default:
	}
}

func TestTimerStopAfterRunReturnsFalse(t *testing.T) {
	e, _ := newTestEnv(t)
	ex := e.Exec.New("timer")
	fired := make(chan struct{}, 1)
	tm := e.Clock.AfterFunc(time.Millisecond, ex, func() { fired <- struct{}{} })
	waitFor(t, fired, "the timer")
	if tm.Stop() {
		t.Fatal("Stop returned true after the function ran")
	}
}

func TestTimerStopBeforeFire(t *testing.T) {
	e, _ := newTestEnv(t)
	ex := e.Exec.New("timer")
	tm := e.Clock.AfterFunc(time.Hour, ex, func() { t.Error("stopped timer ran") })
	if !tm.Stop() {
		t.Fatal("Stop returned false for a pending timer")
	}
	if tm.Stop() {
		t.Fatal("second Stop returned true")
	}
}

func TestMonoDoesNotDecrease(t *testing.T) {
	e, _ := newTestEnv(t)
	prev := e.Clock.Mono()
	for range 1000 {
		now := e.Clock.Mono()
		if now < prev {
			t.Fatalf("Mono went from %v to %v", prev, now)
		}
		prev = now
	}
}
