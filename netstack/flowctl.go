package netstack

import "github.com/petrel-io/petrel/core/env"

// drainNotice is a pending NotifyDrained: fn goes to ex once buffered <= below.
type drainNotice struct {
	below int
	ex    env.Executor
	fn    func()
}

// PauseReads implements env.Conn: the reader stops reading after the delivery in progress
// (a read already posted but not yet handled is sent back and posted again on resume).
func (c *conn) PauseReads() { c.readPaused.Store(true) }

// ResumeReads implements env.Conn.
func (c *conn) ResumeReads() {
	if c.readPaused.Swap(false) {
		c.wakeReader()
	}
}

// wakeReader lets a reader waiting out a pause look again. A stale token is harmless: the
// reader re-checks why it waits.
func (c *conn) wakeReader() {
	select {
	case c.resume <- struct{}{}:
	default:
	}
}

// waitWhilePaused blocks the reader goroutine while reads are paused and the connection is
// neither stopped nor closed.
func (c *conn) waitWhilePaused() {
	for c.readPaused.Load() && !c.stopped.Load() && !c.isClosed() {
		<-c.resume
	}
}

func (c *conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state == connClosed
}

// NotifyDrained implements env.Conn.
func (c *conn) NotifyDrained(below int, ex env.Executor, fn func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drain = drainNotice{below: below, ex: ex, fn: fn}
	c.checkDrainNoticeLocked()
}

// checkDrainNoticeLocked fires the pending notification once the output has drained far
// enough or the connection is gone. Posting under mu is allowed: Post never runs fn inline.
func (c *conn) checkDrainNoticeLocked() {
	d := c.drain
	if d.fn == nil || (c.state != connClosed && int(c.buffered.Load()) > d.below) {
		return
	}
	c.drain = drainNotice{}
	d.ex.Post(d.fn)
}
