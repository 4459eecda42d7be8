package websocket

import (
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// pendingKeepMax: a pending buffer that grew past this (a burst for a slow reader) is
// given back once framed rather than held by the connection.
const pendingKeepMax = 64 << 10

// Write implements env.Conn: p and anything queued before it go out as frames now.
func (c *Conn) Write(p []byte) error {
	if err := c.Queue(p); err != nil {
		return err
	}
	c.Flush()
	return nil
}

// Queue implements env.Conn: p waits, unframed, for the next Flush or Write, so that many
// queued writes become one frame (one compressed message when compression is on).
func (c *Conn) Queue(p []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.phase != PhaseOpen:
		return env.ErrConnClosed
	case c.emitErr != nil:
		return c.emitErr
	}
	c.pending = append(c.pending, p...)
	c.pendingLen.Store(int64(len(c.pending)))
	return nil
}

// Flush implements env.Conn: what is queued is framed and handed to the inner connection.
func (c *Conn) Flush() {
	c.mu.Lock()
	c.cutFramesLocked()
	c.mu.Unlock()
	c.inner.Flush()
}

// cutFramesLocked frames the pending bytes onto the inner connection's queue.
func (c *Conn) cutFramesLocked() {
	if len(c.pending) == 0 {
		return
	}
	c.framer.frames(c.pending, c.emitFn)
	c.pending = c.pending[:0]
	if cap(c.pending) > pendingKeepMax {
		c.pending = nil
	}
	c.pendingLen.Store(0)
}

// emit queues one piece of a frame on the inner connection (under mu, so pieces keep
// their order). A failure means the connection is going away; its OnClose follows.
func (c *Conn) emit(p []byte) {
	if err := c.inner.Queue(p); err != nil && c.emitErr == nil {
		c.emitErr = err
	}
}

// writeControl sends a control frame at once, ahead of nothing still unframed: pending
// data is framed first so the stream keeps its order.
func (c *Conn) writeControl(op Opcode, payload []byte) {
	c.mu.Lock()
	if c.phase != PhaseOpen {
		c.mu.Unlock()
		return
	}
	c.cutFramesLocked()
	c.framer.control(op, payload, c.emitFn)
	c.mu.Unlock()
	c.inner.Flush()
}

// SetCloseStatus sets the status and reason the close frame of a later Close carries
// (by default 1000 with no reason). The engine maps its close reasons to statuses.
func (c *Conn) SetCloseStatus(code uint16, reason string) {
	c.mu.Lock()
	c.closeCode, c.closeReason = code, reason
	c.mu.Unlock()
}

// Close implements env.Conn: what is queued goes out, then a close frame, then the inner
// connection closes (sending what it holds first). Idempotent.
func (c *Conn) Close() error {
	c.userClosed.Store(true)
	c.mu.Lock()
	code, reason := c.closeCode, c.closeReason
	c.mu.Unlock()
	if code == 0 {
		code = CloseNormal
	}
	c.closeWith(code, reason)
	return nil
}

// closeWith sends the close frame (once, and only on an open connection), then closes
// the inner connection.
func (c *Conn) closeWith(code uint16, reason string) {
	c.mu.Lock()
	switch c.phase {
	case PhaseOpen:
		c.cutFramesLocked()
		c.framer.control(OpClose, closePayload(code, reason), c.emitFn)
		c.phase = PhaseClosing
	case PhaseHandshake:
		c.phase = PhaseClosed
	}
	c.mu.Unlock()
	_ = c.inner.Close() // the connection is ending; a failed close changes nothing
}

// Abort implements env.Conn: drop what is queued and reset at once.
func (c *Conn) Abort() {
	c.userClosed.Store(true)
	c.mu.Lock()
	c.phase = PhaseClosed
	c.pending = nil
	c.pendingLen.Store(0)
	c.mu.Unlock()
	c.inner.Abort()
}

// Buffered implements env.Conn: the inner connection's unsent (framed) bytes plus the
// bytes queued here and not yet framed.
func (c *Conn) Buffered() int { return c.inner.Buffered() + int(c.pendingLen.Load()) }

// SetWriteDeadline implements env.Conn; the deadline is the transport's.
func (c *Conn) SetWriteDeadline(d time.Duration) { c.inner.SetWriteDeadline(d) }

// PauseReads implements env.Conn. The transport stops delivering, and since each of its
// deliveries becomes at most one of ours, so do we.
func (c *Conn) PauseReads() { c.inner.PauseReads() }

// ResumeReads implements env.Conn.
func (c *Conn) ResumeReads() { c.inner.ResumeReads() }

// NotifyDrained implements env.Conn: what is pending is framed at every Flush, and the
// engine asks after a flush, so the transport's output is what drains.
func (c *Conn) NotifyDrained(below int, ex env.Executor, fn func()) {
	c.inner.NotifyDrained(below, ex, fn)
}

// LocalAddr implements env.Conn.
func (c *Conn) LocalAddr() string { return c.inner.LocalAddr() }

// RemoteAddr implements env.Conn.
func (c *Conn) RemoteAddr() string { return c.inner.RemoteAddr() }

// TLSState describes the inner connection's TLS session (wss), or "" when there is none.
func (c *Conn) TLSState() (version, cipher string) {
	if tc, ok := c.inner.(env.TLSConn); ok {
		return tc.TLSState()
	}
	return "", ""
}

// Inner is the connection the frames travel on.
func (c *Conn) Inner() env.Conn { return c.inner }
