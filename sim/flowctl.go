package sim

import "github.com/petrel-io/petrel/core/env"

// holding reports whether arriving bytes must wait: reads are paused, or earlier bytes are
// still waiting (order is kept).
func (e *connEnd) holding() bool {
	return e.paused || len(e.bounced) > 0 || len(e.held) > 0
}

// PauseReads implements env.Conn.
func (e *connEnd) PauseReads() { e.paused = true }

// ResumeReads implements env.Conn: what waited is posted in arrival order (bounced chunks
// were posted before anything held arrived), the window reopens, and a FIN that waited
// behind them follows.
func (e *connEnd) ResumeReads() {
	if !e.paused {
		return
	}
	e.paused = false
	if e.closed {
		return
	}
	for _, chunk := range e.bounced {
		e.post(chunk)
	}
	for _, chunk := range e.held {
		e.post(chunk)
	}
	e.bounced, e.held, e.heldBytes = nil, nil, 0
	if e.finHeld {
		e.finHeld = false
		e.postEnd()
	}
	e.peer().out.pump()
}

// NotifyDrained implements env.Conn.
func (e *connEnd) NotifyDrained(below int, ex env.Executor, fn func()) {
	e.drain = drainNotice{below: below, ex: ex, fn: fn}
	e.checkDrain()
}

// checkDrain fires the pending notification once the queue is short enough or the
// connection is over.
func (e *connEnd) checkDrain() {
	d := e.drain
	if d.fn == nil || (!e.closed && !e.done && !e.out.dead && len(e.out.queued) > d.below) {
		return
	}
	e.drain = drainNotice{}
	d.ex.Post(d.fn)
}
