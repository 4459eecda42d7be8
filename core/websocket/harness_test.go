package websocket

import (
	"bytes"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// fakeConn is an inner connection that records what is written and lets a test deliver
// events by hand.
type fakeConn struct {
	out     bytes.Buffer // bytes "sent"
	queued  []byte
	h       env.ConnHandler
	ex      env.Executor
	closed  bool
	aborted bool
	flushes int
}

func (f *fakeConn) Start(ex env.Executor, h env.ConnHandler) { f.ex, f.h = ex, h }
func (f *fakeConn) Write(p []byte) error {
	if err := f.Queue(p); err != nil {
		return err
	}
	f.Flush()
	return nil
}
func (f *fakeConn) Queue(p []byte) error {
	if f.closed {
		return env.ErrConnClosed
	}
	f.queued = append(f.queued, p...)
	return nil
}
func (f *fakeConn) Flush() {
	f.flushes++
	f.out.Write(f.queued)
	f.queued = nil
}
func (f *fakeConn) Buffered() int { return len(f.queued) }
func (f *fakeConn) Close() error {
	if !f.closed {
		f.Flush()
	}
	f.closed = true
	return nil
}
func (f *fakeConn) Abort()                                  { f.closed, f.aborted, f.queued = true, true, nil }
func (f *fakeConn) SetWriteDeadline(time.Duration)          {}
func (f *fakeConn) PauseReads()                             {}
func (f *fakeConn) ResumeReads()                            {}
func (f *fakeConn) NotifyDrained(int, env.Executor, func()) {}
func (f *fakeConn) LocalAddr() string                       { return "127.0.0.1:8080" }
func (f *fakeConn) RemoteAddr() string                      { return "127.0.0.1:50000" }

// take returns and clears what was sent so far.
func (f *fakeConn) take() []byte {
	b := append([]byte(nil), f.out.Bytes()...)
	f.out.Reset()
	return b
}

// queueEx runs posted functions when the test drains it.
type queueEx struct{ fns []func() }

func (q *queueEx) Post(fn func()) { q.fns = append(q.fns, fn) }
func (q *queueEx) drain() {
	for len(q.fns) > 0 {
		fn := q.fns[0]
		q.fns = q.fns[1:]
		fn()
	}
}

// fakeClock fires timers when the test says so.
type fakeClock struct {
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	d       time.Duration
	ex      env.Executor
	fn      func()
	stopped bool
}

func (t *fakeTimer) Stop() bool { was := !t.stopped; t.stopped = true; return was }

func (c *fakeClock) Now() time.Time      { return c.now }
func (c *fakeClock) Mono() time.Duration { return 0 }
func (c *fakeClock) AfterFunc(d time.Duration, ex env.Executor, fn func()) env.Timer {
	t := &fakeTimer{d: d, ex: ex, fn: fn}
	c.timers = append(c.timers, t)
	return t
}

// fire posts every timer not stopped.
func (c *fakeClock) fire() {
	for _, t := range c.timers {
		if !t.stopped {
			t.stopped = true
			t.ex.Post(t.fn)
		}
	}
}

// recorder is the engine's handler in adapter tests.
type recorder struct {
	data   bytes.Buffer
	closed bool
	err    error
	onData func([]byte)
}

func (r *recorder) OnData(p []byte) {
	r.data.Write(p)
	if r.onData != nil {
		r.onData(p)
	}
}
func (r *recorder) OnClose(err error) { r.closed, r.err = true, err }

// serverRig is a server-side Conn on a fake connection, with the handshake's result.
type serverRig struct {
	inner *fakeConn
	ex    *queueEx
	clock *fakeClock
	conn  *Conn
	done  bool
	err   error
}

func newServerRig(cfg ServerConfig) *serverRig {
	p, err := NewPolicy(cfg)
	if err != nil {
		panic(err)
	}
	r := &serverRig{inner: &fakeConn{}, ex: &queueEx{}, clock: &fakeClock{now: time.Date(2026, 12, 2, 5, 12, 3, 0, time.UTC)}}
	r.conn = NewServer(r.inner, p)
	r.conn.Handshake(r.ex, r.clock, time.Second, func(err error) { r.done, r.err = true, err })
	return r
}

// send delivers bytes from the peer and runs what they cause.
func (r *serverRig) send(p []byte) {
	r.inner.h.OnData(p)
	r.ex.drain()
}

const goodRequest = "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

// open completes a good handshake and starts a recorder as the engine.
func (r *serverRig) open(request string) *recorder {
	r.send([]byte(request))
	if !r.done || r.err != nil {
		panic("handshake did not succeed")
	}
	r.inner.take()
	rec := &recorder{}
	r.conn.Start(r.ex, rec)
	return rec
}
