package sim

import (
	"fmt"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// conn is one simulated TCP connection: two ends, each sending on its own stream.
type conn struct {
	id   int
	ends [2]*connEnd // 0 dialed, 1 accepted
}

// connEnd is one side of a connection, owned by one incarnation of a node. It implements
// env.Conn.
type connEnd struct {
	c    *conn
	side int
	p    *proc
	addr string
	out  *stream

	ex      env.Executor
	h       env.ConnHandler
	early   [][]byte // data that arrived before Start
	started bool
	// closed: closed or aborted locally, or the process died. Posted events check it when
	// they run, so nothing is delivered after a local Close.
	closed bool
	// done: the network ended the connection (FIN, reset, timeout); OnClose is posted, or
	// waits for Start in endErr.
	done    bool
	endErr  error
	endWait bool

	// Flow control: while paused, arriving chunks wait in held, and chunks already posted
	// when the pause began come back to bounced (they precede held). Both count against
	// the sender's window, so a paused reader's peer sees back-pressure. A clean close
	// that arrives behind them waits too (finHeld).
	paused    bool
	bounced   [][]byte
	held      [][]byte
	heldBytes int
	finHeld   bool
	drainer   bool // a deliverHeld is posted
	drain     drainNotice
}

// drainNotice is a pending NotifyDrained.
type drainNotice struct {
	below int
	ex    env.Executor
	fn    func()
}

// stream is one direction of a connection. Bytes wait in queued (counted by Buffered) until
// the window has room and the link is open; then they leave in chunks of drawn sizes and
// arrive in order after the link's latency.
type stream struct {
	nw       *Network
	from, to *connEnd
	queued   []byte
	flushed  int // how much of queued was flushed (handed to the kernel), not only queued
	inflight int
	last     time.Duration // arrival time of the newest packet: arrivals strictly increase
	finWant  bool          // Close asked for a FIN after the queue drains
	finSent  bool          // the FIN (or the reset of rstWant) is on its way
	rstWant  bool          // the sender's process died: a reset follows the queue
	stalled  bool          // a half-open path: everything sent from now on vanishes
	unacked  bool          // bytes vanished into a dead machine: the sender will time out
	waitFrom time.Duration
	waiting  bool // a user-timeout check is scheduled
	dead     bool
	deadline time.Duration // SetWriteDeadline's bound, 0 for the profile's user timeout
}

// timeout is how long queued bytes may wait before the sender gives up.
func (s *stream) timeout() time.Duration {
	if s.deadline > 0 && s.deadline < s.nw.w.Profile.UserTimeout {
		return s.deadline
	}
	return s.nw.w.Profile.UserTimeout
}

func (nw *Network) connect(dialerProc *proc, l *listener) (dialer, acceptor *connEnd) {
	nw.conns++
	c := &conn{id: nw.conns}
	dn := dialerProc.node
	dialer = &connEnd{c: c, side: 0, p: dialerProc, addr: fmt.Sprintf("%s:%d", dn.Name, nw.nextPort(dn.Index))}
	acceptor = &connEnd{c: c, side: 1, p: l.p, addr: l.addr}
	c.ends = [2]*connEnd{dialer, acceptor}
	dialer.out = &stream{nw: nw, from: dialer, to: acceptor}
	acceptor.out = &stream{nw: nw, from: acceptor, to: dialer}
	nw.streams = append(nw.streams, dialer.out, acceptor.out)
	dialerProc.conns = append(dialerProc.conns, dialer)
	l.p.conns = append(l.p.conns, acceptor)
	return dialer, acceptor
}

func (e *connEnd) node() int         { return e.p.node.Index }
func (e *connEnd) peer() *connEnd    { return e.c.ends[1-e.side] }
func (e *connEnd) LocalAddr() string { return e.addr }
func (e *connEnd) RemoteAddr() string {
	return e.peer().addr
}

func (e *connEnd) Start(ex env.Executor, h env.ConnHandler) {
	env.Assertf(!e.started, "sim: conn %d side %d started twice", e.c.id, e.side)
	e.started, e.ex, e.h = true, ex, h
	for _, chunk := range e.early {
		e.post(chunk)
	}
	e.early = nil
	if e.endWait {
		e.endWait = false
		e.postEnd()
	}
}

func (e *connEnd) Write(p []byte) error {
	if err := e.Queue(p); err != nil {
		return err
	}
	e.Flush()
	return nil
}

// Queue holds bytes back until Flush: the simulator sends nothing a caller forgot to flush,
// so a missing Flush shows up as a liveness or delivery failure.
func (e *connEnd) Queue(p []byte) error {
	if e.closed || e.done {
		return fmt.Errorf("sim: write conn %d: %w", e.c.id, env.ErrConnClosed)
	}
	e.out.queued = append(e.out.queued, p...)
	return nil
}

func (e *connEnd) Flush() {
	sent := len(e.out.queued) > 0
	e.out.flushed = len(e.out.queued)
	e.out.pump()
	if sent {
		e.aimSend()
	}
}

func (e *connEnd) Buffered() int { return len(e.out.queued) }

func (e *connEnd) SetWriteDeadline(d time.Duration) { e.out.deadline = e.p.node.virtualFor(d) }

func (e *connEnd) Close() error {
	if e.closed {
		return nil
	}
	e.closed = true
	e.out.finWant = true
	e.out.pump()
	e.checkDrain()
	return nil
}

func (e *connEnd) Abort() {
	if e.closed {
		return
	}
	e.closed = true
	e.out.kill()
	e.out.nw.sendReset(e.node(), e.peer(), env.ErrReset)
}

// broken ends the connection from the network's side: a reset or a timeout.
func (e *connEnd) broken(why error) { e.end(why) }

// end records that the network ended the connection and posts OnClose (at Start, if the
// engine has not started the connection yet).
func (e *connEnd) end(why error) {
	if e.closed || e.done {
		return
	}
	e.done, e.endErr = true, why
	e.out.kill()
	if !e.started {
		e.endWait = true
		return
	}
	e.postEnd()
}

func (e *connEnd) postEnd() {
	why := e.endErr
	e.ex.Post(func() {
		if e.closed {
			return
		}
		if why == nil && e.holding() {
			e.finHeld = true // a FIN follows the bytes sent before it
			return
		}
		e.closed = true
		e.h.OnClose(why)
	})
}

// post hands a chunk to the handler on its executor. The closed check runs when the
// function does, so a local Close on the executor stops everything still queued; a pause
// that began after the post sends the chunk back, to wait with the held ones.
func (e *connEnd) post(chunk []byte) {
	e.ex.Post(func() {
		switch {
		case e.closed:
		case e.paused:
			e.bounced = append(e.bounced, chunk)
			e.heldBytes += len(chunk)
		default:
			e.h.OnData(chunk)
		}
	})
}

// arrive receives a chunk from the network; it reports false when nobody took it because
// the receiving machine is down (the sender will hear nothing).
func (e *connEnd) arrive(chunk []byte) bool {
	if e.closed || e.done {
		if !e.p.node.Up() {
			return false
		}
		// A live kernel answers data for a closed socket with a reset.
		e.out.nw.sendReset(e.node(), e.peer(), env.ErrReset)
		return true
	}
	if !e.started {
		e.early = append(e.early, chunk)
		return true
	}
	if e.holding() {
		e.held = append(e.held, chunk)
		e.heldBytes += len(chunk)
		return true
	}
	e.post(chunk)
	return true
}

func (e *connEnd) arriveFin() { e.end(nil) }

// kill stops a stream for good: nothing more leaves.
func (s *stream) kill() {
	s.dead = true
	s.queued = nil
	s.from.checkDrain()
}

// pump sends what the window and the link allow.
func (s *stream) pump() {
	nw := s.nw
	prof := &nw.w.Profile
	from, to := s.from.node(), s.to.node()
	if s.dead {
		return
	}
	if nw.links[from][to].blocked || s.stalled {
		if (len(s.queued) > 0 || s.unacked) && !s.waiting {
			s.waiting, s.waitFrom = true, nw.w.sched.now
			nw.w.sched.schedule(nw.w.sched.now+s.timeout(), kindReset, from, int64(s.from.c.id), s.checkTimeout)
		}
		return
	}
	s.waiting = false
	for len(s.queued) > 0 && s.windowOpen() {
		n := prof.drawChunk(nw.w.rng, len(s.queued), prof.Window-s.inflight-s.to.heldBytes)
		chunk := s.queued[:n:n]
		s.queued = s.queued[n:]
		s.flushed = max(0, s.flushed-n)
		if len(s.queued) == 0 {
			s.queued = nil
		}
		s.from.checkDrain()
		s.inflight += n
		at := s.nextArrival()
		to := s.to
		nw.w.sched.schedule(at, kindDeliver, to.node(), int64(n), func() {
			s.inflight -= n
			if !to.arrive(chunk) {
				s.stalled, s.unacked = true, true
			}
			s.pump()
		})
	}
	if len(s.queued) == 0 && s.rstWant && !s.finSent {
		s.finSent = true
		to := s.to
		nw.w.sched.schedule(s.nextArrival(), kindReset, to.node(), int64(s.from.c.id), func() { to.broken(env.ErrReset) })
	}
	if len(s.queued) == 0 && s.finWant && !s.finSent {
		s.finSent = true
		to := s.to
		nw.w.sched.schedule(s.nextArrival(), kindFin, to.node(), int64(s.from.c.id), to.arriveFin)
	}
}

// windowOpen reports whether the window has room to send. While the receiver holds bytes
// back (paused reads), the room it frees as it reads comes a chunk at a time; sending into
// each sliver would cut the stream into ever smaller packets (TCP's silly window syndrome),
// so the sender waits until a useful share of the window is free, as TCP does.
func (s *stream) windowOpen() bool {
	window := s.nw.w.Profile.Window
	free := window - s.inflight - s.to.heldBytes
	if s.to.heldBytes > 0 && len(s.queued) > free {
		return free >= min(s.nw.w.Profile.MaxChunk, window/2)
	}
	return free > 0
}

func (s *stream) nextArrival() time.Duration {
	at := s.nw.w.effectAt() + s.nw.latency(s.from.node(), s.to.node())
	if at <= s.last {
		at = s.last + 1
	}
	s.last = at
	return at
}

// checkTimeout fails the sender if its bytes have waited a whole user timeout.
func (s *stream) checkTimeout() {
	if s.dead || !s.waiting {
		return
	}
	if !s.from.p.alive {
		s.kill() // a dead process's kernel gives up on its unsent bytes
		return
	}
	nw := s.nw
	if nw.w.sched.now-s.waitFrom < s.timeout() {
		return
	}
	s.waiting = false
	s.from.broken(fmt.Errorf("sim: conn %d: %w", s.from.c.id, env.ErrTimeout))
}
