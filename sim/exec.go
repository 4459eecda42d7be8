package sim

import (
	"fmt"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// executors hands out serial executors bound to one incarnation.
type executors struct{ p *proc }

func (x *executors) New(name string) env.Executor {
	x.p.executors++
	return &executor{p: x.p, name: name, id: x.p.executors}
}

// executor runs one posted function per scheduler event, so functions of different
// executors interleave in a seeded order while each executor stays FIFO.
type executor struct {
	p         *proc
	name      string
	id        int
	queue     []posted
	head      int
	scheduled bool
	busyUntil time.Duration // disk I/O it called completes then; nothing else runs before
}

func (x *executor) Post(fn func()) {
	if !x.p.alive {
		return
	}
	x.queue = append(x.queue, posted{fn: fn, at: x.p.node.w.effectAt()})
	if !x.scheduled {
		x.scheduled = true
		x.schedule()
	}
}

func (x *executor) schedule() {
	w := x.p.node.w
	at := w.effectAt()
	if d := w.Profile.ExecDelayMax; d > 0 {
		at += time.Duration(w.rng.Intn(int(d) + 1))
	}
	w.sched.schedule(at, kindExec, x.p.node.Index, int64(x.id), x.runOne)
}

func (x *executor) runOne() {
	if !x.p.alive {
		return
	}
	w := x.p.node.w
	if at := max(x.busyUntil, x.queue[x.head].at); at > w.sched.now {
		// still in a sync it called, or posted by a function that was: wait for it
		w.sched.schedule(at, kindExec, x.p.node.Index, int64(x.id), x.runOne)
		return
	}
	fn := x.queue[x.head].fn
	x.queue[x.head] = posted{}
	x.head++
	if x.head == len(x.queue) {
		x.queue, x.head = x.queue[:0], 0
		x.scheduled = false
	} else {
		x.schedule()
	}
	w.running = x
	fn()
	w.running = nil
}

// posted is a function waiting on an executor, and the earliest time it may run: a
// function posted by one that is busy with disk I/O takes effect when that I/O completes.
type posted struct {
	fn func()
	at time.Duration
}

// clock is a node's view of virtual time, skewed and drifting.
type clock struct{ p *proc }

func (c *clock) Now() time.Time {
	n := c.p.node
	return n.w.epoch.Add(n.localMono(n.w.sched.now) + n.skew + n.jumps)
}

func (c *clock) Mono() time.Duration {
	n := c.p.node
	return n.localMono(n.w.sched.now - c.p.bootAt)
}

func (c *clock) AfterFunc(d time.Duration, ex env.Executor, fn func()) env.Timer {
	t := &timer{}
	if d < 0 {
		d = 0
	}
	n := c.p.node
	p := c.p
	n.w.sched.schedule(n.w.effectAt()+n.virtualFor(d), kindTimer, n.Index, 0, func() {
		if !p.alive || t.stopped {
			return
		}
		t.fired = true
		ex.Post(func() {
			if t.stopped {
				return
			}
			t.ran = true
			fn()
		})
	})
	return t
}

type timer struct {
	stopped bool
	fired   bool // posted to its executor
	ran     bool
}

func (t *timer) Stop() bool {
	was := !t.stopped && !t.ran
	t.stopped = true
	return was
}

// logger feeds a node's log lines into the trace.
type logger struct{ p *proc }

func (l *logger) Enabled(level env.Level) bool { return level >= l.p.node.w.logLevel }

func (l *logger) Logf(level env.Level, format string, args ...any) {
	if !l.p.alive || !l.Enabled(level) {
		return
	}
	n := l.p.node
	n.w.trace.note(n.w.sched.now, kindLog, int32(n.Index), level.String()+" "+fmt.Sprintf(format, args...))
}
