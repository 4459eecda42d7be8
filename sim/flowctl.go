package sim

import "github.com/petrel-io/petrel/core/env"

// holding reports whether arriving bytes must wait: reads are paused, or earlier bytes are
// still waiting (order is kept).
func (e *connEnd) holding() bool {
	return e.paused || len(e.bounced) > 0 || len(e.held) > 0
}

// PauseReads implements env.Conn.
func (e *connEnd) PauseReads() { e.paused = true }

// ResumeReads implements env.Conn: what waited is handed over one chunk per event, in
// arrival order (bounced chunks were posted before anything held arrived), each reopening
// the sender's window as the handler takes it; a FIN that waited behind them follows.
func (e *connEnd) ResumeReads() {
	if !e.paused {
		return
	}
	e.paused = false
	if !e.closed {
		e.postHeld()
	}
}

// postHeld posts the next delivery of waiting bytes (one at a time: a handler that pauses
// again leaves the rest where they are, not reposted).
func (e *connEnd) postHeld() {
	if e.drainer {
		return
	}
	if !e.holding() {
		if e.finHeld {
			e.finHeld = false
			e.postEnd()
		}
		return
	}
	e.drainer = true
	e.ex.Post(e.deliverHeld)
}

func (e *connEnd) deliverHeld() {
	e.drainer = false
	if e.closed || e.paused {
		return
	}
	var chunk []byte
	if len(e.bounced) > 0 {
		chunk, e.bounced = e.bounced[0], e.bounced[1:]
	} else {
		chunk, e.held = e.held[0], e.held[1:]
	}
	e.heldBytes -= len(chunk)
	e.h.OnData(chunk)
	e.peer().out.pump()
	e.postHeld()
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
