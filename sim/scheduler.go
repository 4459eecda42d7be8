package sim

import (
	"fmt"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// eventKind names what an event is, for the trace.
type eventKind uint8

const (
	kindExec eventKind = iota + 1
	kindTimer
	kindDeliver
	kindFin
	kindReset
	kindSyn
	kindDialDone
	kindCrash
	kindRestart
	kindFault
	kindWorkload
	kindLog
	kindHistory
)

var kindNames = map[eventKind]string{
	kindExec: "exec", kindTimer: "timer", kindDeliver: "deliver", kindFin: "fin",
	kindReset: "reset", kindSyn: "syn", kindDialDone: "dialdone", kindCrash: "crash",
	kindRestart: "restart", kindFault: "fault", kindWorkload: "workload", kindLog: "log",
	kindHistory: "history",
}

func (k eventKind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind%d", uint8(k))
}

// event is one scheduled piece of work. Ties at one instant are broken by tie (a seeded draw)
// and then by seq, which is unique, so the order is total and fixed by the seed.
type event struct {
	at   time.Duration
	tie  uint64
	seq  uint64
	kind eventKind
	node int32 // index of the node concerned, -1 for the world
	arg  int64 // a kind-specific detail for the trace (a connection id, a length, ...)
	fn   func()
}

func (a *event) before(b *event) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	if a.tie != b.tie {
		return a.tie < b.tie
	}
	return a.seq < b.seq
}

// eventQueue is a binary min-heap of events. A hand-written heap avoids container/heap's
// interface calls on the simulator's hottest path.
type eventQueue struct {
	items []event
}

func (q *eventQueue) len() int { return len(q.items) }

func (q *eventQueue) push(e event) {
	q.items = append(q.items, e)
	i := len(q.items) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if !q.items[i].before(&q.items[parent]) {
			break
		}
		q.items[i], q.items[parent] = q.items[parent], q.items[i]
		i = parent
	}
}

func (q *eventQueue) peek() *event { return &q.items[0] }

func (q *eventQueue) pop() event {
	top := q.items[0]
	last := len(q.items) - 1
	q.items[0] = q.items[last]
	q.items[last] = event{}
	q.items = q.items[:last]
	i, n := 0, last
	for {
		left := 2*i + 1
		if left >= n {
			break
		}
		least := left
		if right := left + 1; right < n && q.items[right].before(&q.items[left]) {
			least = right
		}
		if !q.items[least].before(&q.items[i]) {
			break
		}
		q.items[i], q.items[least] = q.items[least], q.items[i]
		i = least
	}
	return top
}

// sameInstantEventsMax bounds how many events may run without virtual time advancing. Past
// it the world is spinning (a busy loop of posts), which is a bug worth a failing seed.
const sameInstantEventsMax = 5_000_000

// scheduler owns virtual time and the event queue.
type scheduler struct {
	now      time.Duration
	queue    eventQueue
	seq      uint64
	rng      *env.PRNG
	executed uint64
	sameAt   int // events run at the current instant
}

func (s *scheduler) schedule(at time.Duration, kind eventKind, node int, arg int64, fn func()) {
	env.Assertf(at >= s.now, "sim: event %v scheduled at %v, in the past (now %v)", kind, at, s.now)
	s.seq++
	s.queue.push(event{at: at, tie: s.rng.Uint64(), seq: s.seq, kind: kind, node: int32(node), arg: arg, fn: fn})
}

// next removes the earliest event, advancing time to it; ok is false when the queue is empty
// or the earliest event lies after limit.
func (s *scheduler) next(limit time.Duration) (e event, ok bool) {
	if s.queue.len() == 0 || s.queue.peek().at > limit {
		return event{}, false
	}
	e = s.queue.pop()
	if e.at == s.now {
		s.sameAt++
		env.Assertf(s.sameAt < sameInstantEventsMax,
			"sim: %d events at t=%v without time advancing (livelock; last kind %v node %d)", s.sameAt, s.now, e.kind, e.node)
	} else {
		s.now, s.sameAt = e.at, 0
	}
	s.executed++
	return e, true
}
