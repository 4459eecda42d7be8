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
	p.nc.e.Clock.AfterFunc(flowTick, p.nc.ex, func() { p.tick(c) })
}

// encodeFlowMsg is a nats workload message padded with zeros to size: the checker decodes
// it the same way, and a fast publisher spends no randomness per message.
func encodeFlowMsg(k natsMsgKey, subject string, size int) []byte {
	return encodeNatsMsgWith(k, subject, make([]byte, max(size-19-len(subject), 0)))
}

// flowSub subscribes once per connection and reads at its drawn pace.
type flowSub struct {
	nc   *natsConn
	st   *flowSubState
	chk  *natsChecker
	left int // bytes until the next pause
}

func newFlowSub(e *env.Env, st *flowSubState, chk *natsChecker) *flowSub {
	s := &flowSub{st: st, chk: chk, left: st.burst}
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
}

// read pauses the connection for st.pause after every st.burst bytes.
func (s *flowSub) read(c *natsclient.Client, n int) {
	if s.left -= n; s.left > 0 {
		return
	}
	s.left = s.st.burst
	c.PauseReads()
	s.nc.e.Clock.AfterFunc(s.st.pause, s.nc.ex, c.ResumeReads)
}
