package core

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// Publisher flow control. A fast publisher must not turn a healthy subscriber into a slow
// consumer: when a read of a publisher leaves a subscriber's unsent output above
// stallAbove, the publisher's reads pause (env.Conn.PauseReads: its TCP window closes and
// its own writes stall) until every such subscriber has drained to half of that, or for a
// bounded time, whichever comes first. The bound keeps one stuck subscriber from holding
// its publishers hostage for long: a subscriber that really does not keep up still reaches
// max_pending (or write_deadline) and is cut off, as in nats-server.
//
// nats-server gates at 75% of max_pending and stalls a producer 2 ms (5 ms once the
// subscriber is at max_pending), at most 10 ms per read. Petrel pauses once per read
// (reads are at most one 32 KiB buffer) for the same 2 or 5 ms, but gates far earlier
// (stallBytesMax): at 75% of the default 64 MiB a subscriber slower than its publisher
// would pin 48 MiB of output before any gate closed, and the process's memory with it.
const (
	// stallBytesMax caps the gate: a subscriber with more unsent output than this slows
	// its publishers, whatever max_pending is. It is far more than a subscriber that keeps
	// up ever holds (a socket buffer's worth) and small enough that a few lagging
	// subscribers cost megabytes, not hundreds of them.
	stallBytesMax = 2 << 20
	// stallMin and stallMax bound one pause; nats-server's 2 ms and 5 ms.
	stallMin = 2 * time.Millisecond
	stallMax = 5 * time.Millisecond
)

// stallAbove is the unsent output above which a subscriber slows its publishers.
func stallAbove(maxPending int64) int {
	return int(min(maxPending/4*3, stallBytesMax))
}

// stallDuration bounds one pause: stallMin, or stallMax once the subscriber has reached
// max_pending (nats-server's rule).
func stallDuration(pending, maxPending int64) time.Duration {
	if pending >= maxPending {
		return stallMax
	}
	return stallMin
}

// flowPhase is a publisher's flow-control state.
type flowPhase uint8

const (
	flowRunning flowPhase = iota // reads run
	flowStalled                  // reads paused until the gates open or the timer fires
)

// flow is a client's state as a publisher: (ex).
type flow struct {
	phase   flowPhase
	gen     uint64    // numbers stalls, so late gate openings and timers are ignored
	waiting int       // gates of this stall not yet open
	timer   env.Timer // ends the stall at its bound
	over    []*client // subscribers this read left above the gate
}

// gate is a client's state as a subscriber: publishers waiting for its output to drain.
// Publishers on any executor add themselves; the drain notification opens it.
type gate struct {
	mu      sync.Mutex
	closed  atomic.Bool // a drain notification is pending on the connection
	waiters []gateWaiter
}

type gateWaiter struct {
	pub *client
	gen uint64
}

// noteBacklog records, after a flush, a subscriber whose output is above the gate or whose
// gate is closed (once, though a PING mid-read flushes it twice). A closed gate stays closed
// until the subscriber drained to half the threshold: every publisher that reaches it then
// waits its turn, instead of the one whose stall happens to end first taking what the
// subscriber just freed, over and over.
func (c *client) noteBacklog(dst *client) {
	if !dst.gate.closed.Load() && dst.conn.Buffered() <= c.srv.stallAt {
		return
	}
	for _, o := range c.flow.over {
		if o == dst {
			return
		}
	}
	c.flow.over = append(c.flow.over, dst)
}

// stallIfBehind ends a read: when it left subscribers above the gate, reads pause until
// they drain or the bound passes (unless no_fast_producer_stall turned pauses off).
func (c *client) stallIfBehind() {
	f := &c.flow
	if len(f.over) == 0 || f.phase == flowStalled || c.closed.Load() || c.srv.cfg().NoFastProducerStall {
		clear(f.over)
		f.over = f.over[:0]
		return
	}
	s := c.srv
	f.phase, f.gen, f.waiting = flowStalled, f.gen+1, 0
	worst := int64(0)
	for i, dst := range f.over {
		f.over[i] = nil
		if dst.closed.Load() {
			continue
		}
		worst = max(worst, int64(dst.conn.Buffered()))
		dst.gate.wait(dst, c, f.gen, s.stallAt/2)
		f.waiting++
		dst.stalls.Add(1) // counted on the subscriber, as nats-server's /connz does
		s.stats.stalls.Add(1)
	}
	f.over = f.over[:0]
	c.conn.PauseReads()
	s.env.Probe.Hit("core.flow.stall")
	gen, bound := f.gen, stallDuration(worst, s.cfg().MaxPending)
	f.timer = s.env.Clock.AfterFunc(bound, c.ex, func() { c.stallTimedOut(gen, bound) })
	env.Assertf(f.phase == flowStalled && f.timer != nil, "client %d: stall without a bound", c.cid)
}

// gateOpened runs on the publisher's executor when one subscriber it waits for drained.
func (c *client) gateOpened(gen uint64) {
	f := &c.flow
	if f.phase != flowStalled || f.gen != gen {
		return
	}
	if f.waiting--; f.waiting <= 0 {
		c.srv.env.Probe.Hit("core.flow.gate-opened")
		c.endStall(gen)
	}
}

// endStall resumes reading; a stale call (an older stall's timer or gate) does nothing.
func (c *client) endStall(gen uint64) {
	f := &c.flow
	if f.phase != flowStalled || f.gen != gen {
		return
	}
	f.phase = flowRunning
	f.timer.Stop()
	if !c.finished {
		c.conn.ResumeReads()
	}
}

// stallTimedOut ends a stall at its bound, logged as nats-server logs it.
func (c *client) stallTimedOut(gen uint64, bound time.Duration) {
	if c.flow.phase == flowStalled && c.flow.gen == gen {
		c.srv.env.Probe.Hit("core.flow.stall-timeout")
		c.srv.log.Logf(env.LevelDebug, "%s:%d - cid:%d - Timed out of fast producer stall (%v)", c.host, c.port, c.cid, bound)
	}
	c.endStall(gen)
}

// stopFlow ends a stall when the client closes.
func (c *client) stopFlow() {
	if c.flow.phase == flowStalled {
		c.flow.phase = flowRunning
		c.flow.timer.Stop()
	}
}

// wait adds pub to the subscriber's waiters (or renews its stall number) and arms the
// drain notification.
func (g *gate) wait(sub, pub *client, gen uint64, below int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	found := false
	for i := range g.waiters {
		if g.waiters[i].pub == pub {
			g.waiters[i].gen, found = gen, true
		}
	}
	if !found {
		g.waiters = append(g.waiters, gateWaiter{pub: pub, gen: gen})
	}
	if !g.closed.Load() {
		g.closed.Store(true)
		sub.conn.NotifyDrained(below, sub.ex, sub.openGate)
	}
}

// openGate runs on the subscriber's executor once its output drained (or it closed): every
// waiting publisher hears it on its own executor.
func (c *client) openGate() {
	g := &c.gate
	g.mu.Lock()
	waiters := g.waiters
	g.waiters = nil
	g.closed.Store(false)
	g.mu.Unlock()
	for _, w := range waiters {
		w.pub.ex.Post(func() { w.pub.gateOpened(w.gen) })
	}
}

// StalledClients counts the times publishers were paused for their subscribers to drain
// (/varz stalled_clients).
func (s *Server) StalledClients() int64 { return s.stats.stalls.Load() }
