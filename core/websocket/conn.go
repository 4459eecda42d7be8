package websocket

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// Phase is a Conn's lifecycle; it only moves forward.
type Phase uint8

const (
	PhaseHandshake Phase = iota // the HTTP upgrade is under way: no frames yet
	PhaseOpen                   // frames flow both ways
	// PhaseClosing: a close frame went out (a local Close, the answer to the peer's close
	// or to a violation) and the inner connection is closing gracefully, sending what it
	// holds; nothing more is written here or handed to the engine.
	PhaseClosing
	// PhaseClosed: the connection ended without (or after) the close handshake: aborted,
	// the peer went away, or the handshake failed.
	PhaseClosed
)

// Role is which end of the connection a Conn is: a server reads masked frames and writes
// unmasked ones, a client the reverse.
type Role uint8

const (
	RoleServer Role = iota
	RoleClient
)

// ErrHandshakeTimeout: the handshake did not finish within its bound.
var ErrHandshakeTimeout = &HandshakeError{Reason: "handshake timed out"}

// Conn is a WebSocket connection over an inner env.Conn, and is itself an env.Conn: what
// the engine writes becomes binary frames, and the message bytes of the frames that
// arrive are handed to the engine's handler as a plain byte stream. A Conn first runs the
// handshake (Handshake), then the engine calls Start as with any connection.
//
// Concurrency: writes (Write, Queue, Flush, Close, Abort, SetCloseStatus) are safe from
// any executor and serialize on mu. Events and the handshake run on the executor given to
// Handshake, which must be the one later given to Start; fields marked (ex) belong to it.
type Conn struct {
	inner  env.Conn
	role   Role
	policy *Policy      // server side
	client ClientConfig // client side
	rand   env.Rand     // client side: the key and masking keys

	// (ex) handshake and read side.
	ex       env.Executor
	clock    env.Clock
	timer    env.Timer
	done     func(error) // pending Handshake completion
	hsBuf    []byte      // request or response bytes so far
	key      string      // client: the Sec-WebSocket-Key sent
	up       *Upgrade    // server: the accepted upgrade
	h        env.ConnHandler
	early    []byte // bytes that followed the handshake before Start (one read at most)
	ended    bool   // the inner connection ended before Start
	endErr   error
	deframer deframer
	scratch  []byte // message bytes handed to h.OnData, reused
	// A close frame arrived: the code and reason to answer with (set during a feed).
	peerClosed      bool
	peerCode        uint16
	peerCloseReason string

	// Write side, under mu.
	mu          sync.Mutex
	phase       Phase
	pending     []byte // plain bytes queued since the last frame was cut
	framer      framer
	closeCode   uint16
	closeReason string
	emitFn      func([]byte) // c.emit, bound once
	emitErr     error        // the first error the inner connection gave a queued frame
	pendingLen  atomic.Int64 // len(pending), for Buffered without the lock
	// userClosed: Close or Abort was called (by the engine); no event follows.
	userClosed atomic.Bool
}

// scratchKeepMax: a read buffer that grew past this (a big inflated message) is dropped
// after use rather than held by an idle connection.
const scratchKeepMax = 64 << 10

// NewServer wraps a connection a listener accepted; Handshake then reads the upgrade
// request and answers it under p.
func NewServer(inner env.Conn, p *Policy) *Conn {
	env.Assertf(p != nil, "websocket: NewServer without a policy")
	c := &Conn{inner: inner, role: RoleServer, policy: p}
	c.emitFn = c.emit
	return c
}

// Phase reports where the connection is in its lifecycle.
func (c *Conn) Phase() Phase {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.phase
}

// PeerClose is the status and reason of the peer's close frame (CloseNoStatus when it sent
// none), once OnClose(nil) reported it; 0 before. Read it on the events' executor.
func (c *Conn) PeerClose() (code uint16, reason string) {
	return c.peerCode, c.peerCloseReason
}

// Upgrade is what a server accepted, once Handshake succeeded (nil before, and on a
// client).
func (c *Conn) Upgrade() *Upgrade { return c.up }

// Handshake runs the upgrade on ex: a server reads the request and answers 101 or an HTTP
// error, a client sends its request and checks the 101. done runs on ex once, with nil
// when frames may flow (the engine then writes and calls Start) or the reason it failed
// (the connection is then closed). timeout bounds the handshake on clock.
func (c *Conn) Handshake(ex env.Executor, clock env.Clock, timeout time.Duration, done func(error)) {
	env.Assertf(c.done == nil && c.ex == nil, "websocket: Handshake called twice")
	c.ex, c.clock, c.done = ex, clock, done
	c.timer = clock.AfterFunc(timeout, ex, c.timedOut)
	if c.role == RoleClient {
		c.sendRequest()
	}
	c.inner.Start(ex, events{c})
}

func (c *Conn) timedOut() {
	if c.done == nil {
		return
	}
	c.inner.Abort()
	c.setPhase(PhaseClosed)
	c.finish(ErrHandshakeTimeout)
}

// finish reports the handshake's outcome once.
func (c *Conn) finish(err error) {
	done := c.done
	c.done = nil
	c.hsBuf = nil
	c.timer.Stop()
	done(err)
}

// fail ends a handshake that went wrong: answer (if there is one) then close.
func (c *Conn) fail(answer []byte, err error) {
	c.mu.Lock()
	c.phase = PhaseClosed
	c.mu.Unlock()
	if answer != nil {
		_ = c.inner.Write(answer) // best effort: the connection closes either way
	}
	_ = c.inner.Close() // nothing more to do about a close that fails
	c.finish(err)
}

func (c *Conn) setPhase(p Phase) {
	c.mu.Lock()
	env.Assertf(p >= c.phase, "websocket: phase %d after %d", p, c.phase)
	c.phase = p
	c.mu.Unlock()
}

// open switches to frames once the handshake succeeded; rest is what followed the
// handshake in the same read.
func (c *Conn) open(rest []byte, compress, wantMask bool, frameMax int, wholeCompressed bool) {
	messageMax, pool := MessageBytesMaxDefault, &flatePool{}
	if c.policy != nil {
		messageMax, pool = c.policy.cfg.MessageBytesMax, c.policy.flate
	}
	c.mu.Lock()
	c.phase = PhaseOpen
	c.framer = framer{
		mask: c.role == RoleClient, rand: c.rand, deflate: compress, frameMax: frameMax,
		wholeCompressed: wholeCompressed, pool: pool,
	}
	c.mu.Unlock()
	c.deframer = deframer{wantMask: wantMask, deflate: compress, messageMax: messageMax, onControl: c.onControl, pool: pool}
	c.early = append(c.early, rest...)
	c.finish(nil)
}

// Start implements env.Conn: message bytes go to h from now on, those that arrived
// before first. ex must be the executor the handshake ran on.
func (c *Conn) Start(ex env.Executor, h env.ConnHandler) {
	env.Assertf(ex == c.ex, "websocket: Start on another executor than the handshake's")
	env.Assertf(c.h == nil && c.done == nil, "websocket: Start twice or before the handshake finished")
	c.h = h
	if len(c.early) > 0 {
		early := c.early
		c.early = nil
		c.read(early)
	}
	if c.ended && !c.userClosed.Load() {
		c.ended = false
		c.peerEnded(c.endErr)
	}
}

// events receives the inner connection's events, on ex.
type events struct{ c *Conn }

func (e events) OnData(p []byte) {
	c := e.c
	switch {
	case c.done != nil:
		c.handshakeData(p)
	case c.userClosed.Load():
	case c.h == nil:
		c.early = append(c.early, p...)
	default:
		c.read(p)
	}
}

func (e events) OnClose(err error) {
	c := e.c
	switch {
	case c.done != nil:
		c.setPhase(PhaseClosed)
		if err == nil {
			err = errors.New("peer closed the connection")
		}
		c.finish(&HandshakeError{Reason: err.Error()})
	case c.h == nil:
		c.ended, c.endErr = true, err
	default:
		c.peerEnded(err)
	}
}

// peerEnded reports the end of the connection to the engine, unless the engine closed it
// first (no event follows a local Close).
func (c *Conn) peerEnded(err error) {
	c.setPhase(PhaseClosed)
	if !c.userClosed.Load() {
		c.h.OnClose(err)
	}
}

// read deframes p and hands the message bytes to the engine, then acts on a close frame
// or a violation that came after them.
func (c *Conn) read(p []byte) {
	out, err := c.deframer.feed(p, c.scratch[:0])
	if len(out) > 0 {
		c.h.OnData(out)
	}
	c.scratch = out[:0]
	if cap(out) > scratchKeepMax {
		c.scratch = nil
	}
	switch {
	case c.userClosed.Load():
		// The engine closed or aborted us while taking the data.
	case err != nil:
		var pe *ProtocolError
		if errors.As(err, &pe) {
			c.closeWith(pe.Code, pe.Text)
		} else {
			_ = c.inner.Close() // the connection is ending either way
		}
		c.peerEnded(err)
	case c.peerClosed:
		c.closeWith(c.peerCode, c.peerCloseReason)
		c.peerEnded(nil)
	}
}

// onControl acts on a whole control frame, during a feed: a ping is answered, a close
// frame stops the stream (read answers it once the data before it is delivered).
func (c *Conn) onControl(op Opcode, payload []byte) error {
	switch op {
	case OpPing:
		c.writeControl(OpPong, payload)
	case OpClose:
		code, reason, err := parseClose(payload)
		if err != nil {
			return err
		}
		c.peerClosed, c.peerCode, c.peerCloseReason = true, code, reason
		c.deframer.stop()
	}
	return nil
}
