package netstack

import (
	"os"
	"runtime"
	"sync"

	"github.com/petrel-io/petrel/core/env"
)

// executors makes serial executors that share the node's logger and halt hook.
type executors struct {
	log  env.Logger
	halt func(error)
}

// defaultHalt ends the process at once: a node that halts must not keep serving, and what it
// has not synced must not be trusted. Code 2 is what an unrecovered panic exits with, so a
// supervisor treats a halt like any other abnormal stop and restarts the node.
func defaultHalt(error) { os.Exit(2) }

func newExecutors(log env.Logger, halt func(error)) *executors {
	if halt == nil {
		halt = defaultHalt
	}
	return &executors{log: log, halt: halt}
}

// New implements env.Executors.
func (x *executors) New(name string) env.Executor {
	return &serial{name: name, owner: x}
}

// serial is a serial queue that owns no goroutine. Whoever finds it idle starts a drainer,
// which runs batches until the queue is empty. The draining flag keeps functions from
// overlapping and turns a Post from inside a running function into a plain enqueue.
//
// Post hands the drain to a new goroutine: draining on the poster's goroutine would run other
// actors' code while the poster may hold locks, which deadlocks or stalls it. netstack's own
// goroutines (readers, dialers, acceptors, timers), which hold nothing, drain inline through
// postInline and save the hand-off on the hot read path.
type serial struct {
	name  string
	owner *executors

	mu       sync.Mutex
	queue    []func()
	spare    []func() // the previous batch's slice, reused to avoid an allocation per batch
	draining bool
}

// Post implements env.Executor.
func (s *serial) Post(fn func()) {
	if s.enqueue(fn) {
		go s.drain(drainLinger)
	}
}

// postInline queues fn and, if the executor was idle, drains it on the calling goroutine.
// Only goroutines that hold no locks and run no executor's functions may use it.
func (s *serial) postInline(fn func()) {
	if s.enqueue(fn) {
		s.drain(0)
	}
}

// postInline posts fn to ex from one of netstack's own goroutines.
func postInline(ex env.Executor, fn func()) {
	if s, ok := ex.(*serial); ok {
		s.postInline(fn)
		return
	}
	ex.Post(fn)
}

// drainLinger is how many times a drainer that Post started yields (runtime.Gosched) with its
// queue empty before it exits. Goroutines that a batch just woke (writers acknowledged by one
// commit, say) post again within a scheduler turn; a drainer still there takes their
// functions, where otherwise each Post that found the executor idle would start a goroutine
// whose stack then grows again in its first deep call (copystack was 5% of the file store
// benchmark's CPU; its 64-writer cases gained 10-20% from one yield). Inline drains
// (postInline) do not linger: their goroutine has its own work to get back to.
const drainLinger = 1

// enqueue adds fn and reports whether the caller must start draining.
func (s *serial) enqueue(fn func()) bool {
	env.Assertf(fn != nil, "executor %s: Post(nil)", s.name)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, fn)
	if s.draining {
		return false
	}
	s.draining = true
	return true
}

// drain runs batches until the queue is empty and stays so through linger yields. It loops
// rather than recursing so that a long chain of posts never grows the stack.
func (s *serial) drain(linger int) {
	idle := 0
	for {
		batch := s.take(idle >= linger)
		if batch == nil {
			if idle >= linger {
				return
			}
			idle++
			runtime.Gosched()
			continue
		}
		idle = 0
		for i, fn := range batch {
			batch[i] = nil // release the closure as soon as it has run
			s.run(fn)
		}
		s.recycle(batch)
	}
}

// take swaps the queue out, or, when there is nothing left and this is the drainer's last
// look, clears the draining flag. Both happen under the lock so that a concurrent Post either
// sees draining set (and its function is in a later batch) or sees it clear (and drains
// itself).
func (s *serial) take(last bool) []func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 {
		if last {
			s.draining = false
		}
		return nil
	}
	batch := s.queue
	s.queue, s.spare = s.spare, nil
	return batch
}

func (s *serial) recycle(batch []func()) {
	s.mu.Lock()
	s.spare = batch[:0]
	s.mu.Unlock()
}

// run calls fn, turning a halt into the host's fail-stop and letting every other panic crash
// the process. The deferred handler re-panics from inside the panicking frames, so the crash
// trace still shows where the original panic happened.
func (s *serial) run(fn func()) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if h, ok := r.(env.HaltError); ok {
			s.owner.log.Logf(env.LevelError, "executor %s: %v", s.name, h)
			s.owner.halt(h)
			return
		}
		s.owner.log.Logf(env.LevelError, "executor %s: panic: %v", s.name, r)
		panic(r)
	}()
	fn()
}
