package workload

import (
	"fmt"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/sim/natsclient"
)

// flowPub publishes checksummed messages on f<n>.a and f<n>.b as fast as its rate budget
// and the network allow: it writes ahead at most flowPubBuffered bytes.
type flowPub struct {
	nc        *natsConn
	chk       *natsChecker
	idx       int
	rate      int64 // bytes per second offered
	size      int   // payload bytes
	end       time.Duration
	faultsEnd time.Duration
	gen       uint32
	seq       uint64
	budget    int64
	// Progress, checked in strict seeds: unsent bytes after the last tick's writes, and when
	// the network last took some.
	lastBuffered int
	movedAt      time.Duration
}

func newFlowPub(e *env.Env, chk *natsChecker, idx int, rate int64, size int, faultsEnd, end time.Duration) *flowPub {
	p := &flowPub{chk: chk, idx: idx, rate: rate, size: size, faultsEnd: faultsEnd, end: end}
	p.nc = &natsConn{e: e, ex: e.Exec.New("pub"), addr: fmt.Sprintf("s1:%d", flowPort), opts: natsclient.Options{Name: fmt.Sprintf("p%d", idx+1)},
		up: p.up, down: func() { chk.connLost(idx, p.gen) }}
	return p
}

func (p *flowPub) start() { p.nc.start() }

func (p *flowPub) up(c *natsclient.Client) {
	p.gen++
	p.tick(c)
}

// tick adds a millisecond's budget (at most two) and publishes what the budget and the
// write-ahead bound allow.
func (p *flowPub) tick(c *natsclient.Client) {
	if c.Closed() || p.chk.now() >= p.end {
		return
	}
	rate := p.rate
	if p.chk.now() >= p.faultsEnd && !p.chk.strict {
		rate = flowTrickle // faults are over: enough to show delivery resumed
	}
	perTick := rate * int64(flowTick) / int64(time.Second)
	p.checkProgress(c)
	p.budget = min(p.budget+perTick, 2*perTick)
	subjects := [2]string{fmt.Sprintf("f%d.a", p.idx+1), fmt.Sprintf("f%d.b", p.idx+1)}
	for p.budget > 0 && c.Buffered() < flowPubBuffered {
		p.seq++
		key := natsMsgKey{client: p.idx, gen: p.gen, seq: p.seq}
		subj := subjects[p.seq%2]
		p.chk.published(key, subj)
		msg := encodeFlowMsg(key, subj, p.size)
		c.Publish(subj, "", nil, msg)
		p.budget -= int64(len(msg))
	}
	p.lastBuffered = c.Buffered()
	p.nc.e.Clock.AfterFunc(flowTick, p.nc.ex, func() { p.tick(c) })
}

// checkProgress: in strict seeds, a publisher with unsent bytes sees the network take some
// within flowStallBound (it adds bytes only in ticks, so a drop since the last tick's
// writes is progress).
func (p *flowPub) checkProgress(c *natsclient.Client) {
	now, b := p.chk.now(), c.Buffered()
	if b == 0 || b < p.lastBuffered || p.movedAt == 0 {
		p.movedAt = now
		return
	}
	env.Assertf(!p.chk.strict || now-p.movedAt <= flowStallBound,
		"flow: publisher p%d had %d bytes unsent and none taken for %v (bound %v)", p.idx+1, b, now-p.movedAt, flowStallBound)
}

// encodeFlowMsg is a nats workload message padded with zeros to size: the checker decodes
// it the same way, and a fast publisher spends no randomness per message.
func encodeFlowMsg(k natsMsgKey, subject string, size int) []byte {
	return encodeNatsMsgWith(k, subject, make([]byte, max(size-19-len(subject), 0)))
}

// flowSub subscribes once per connection and reads at its drawn pace.
type flowSub struct {
	nc    *natsConn
	st    *flowSubState
	chk   *natsChecker
	left  int // bytes until the next pause
	e     *env.Env
	stuck *natsclient.Client // the connection whose reads stopped on purpose (stuckAt); its bursts' pauses must not resume them
}

func newFlowSub(e *env.Env, st *flowSubState, chk *natsChecker) *flowSub {
	s := &flowSub{st: st, chk: chk, left: st.burst}
	s.e = e
	s.nc = &natsConn{e: e, ex: e.Exec.New("sub"), addr: fmt.Sprintf("s1:%d", flowPort), opts: natsclient.Options{Name: st.name},
		up: s.up, down: func() { chk.connLost(st.idx, st.gen) }}
	return s
}

func (s *flowSub) start() { s.nc.start() }

func (s *flowSub) up(c *natsclient.Client) {
	s.st.gen++
	var key natsSubKey
	sub := c.Subscribe(s.st.spec, "", func(m *natsclient.Msg) {
		s.st.received++
		s.chk.delivered(key, m)
	})
	key = natsSubKey{client: s.st.idx, gen: s.st.gen, sid: sub.Sid}
	s.chk.subscribed(key, natsSubSpec{pattern: s.st.spec})
	c.Flush(func() { s.chk.confirmed([]natsSubKey{key}) })
	if s.st.burst > 0 {
		c.OnRead = func(n int) { s.read(c, n) }
	}
	if s.st.gen == 1 && s.st.stuckFor > 0 {
		s.e.Clock.AfterFunc(max(s.st.stuckAt-s.chk.now(), 0), s.nc.ex, func() { s.getStuck(c) })
	}
}

// getStuck stops reading for stuckFor: the server holds what arrives, slows the
// publishers (each pause bounded), and cuts the connection off at max_pending.
func (s *flowSub) getStuck(c *natsclient.Client) {
	if c.Closed() {
		return
	}
	s.stuck = c
	c.PauseReads()
	s.e.Clock.AfterFunc(s.st.stuckFor, s.nc.ex, func() {
		s.stuck = nil
		c.ResumeReads()
	})
}

// read pauses the connection for st.pause after every st.burst bytes.
func (s *flowSub) read(c *natsclient.Client, n int) {
	if s.left -= n; s.left > 0 {
		return
	}
	s.left = s.st.burst
	c.PauseReads()
	s.nc.e.Clock.AfterFunc(s.st.pause, s.nc.ex, func() {
		if s.stuck != c {
			c.ResumeReads()
		}
	})
}
