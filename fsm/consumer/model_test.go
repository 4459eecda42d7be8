package consumer

import (
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/jsapi"
	"pgregory.net/rapid"
)

// model is the naive twin of Consumer: plain maps scanned in full for every question, no
// heap, no order, the floor recomputed from scratch.
type model struct {
	cfg         jsapi.ConsumerConfig
	delivered   SeqPair
	floor       SeqPair
	pending     map[uint64]*modelEntry
	redelivered map[uint64]uint64
}

type modelEntry struct {
	first     uint64
	time      int64
	deadline  int64
	immediate bool
}

func newModel(cfg jsapi.ConsumerConfig) *model {
	return &model{cfg: cfg, pending: map[uint64]*modelEntry{}, redelivered: map[uint64]uint64{}}
}

func (m *model) waitFor(deliveries uint64) int64 {
	if b := m.cfg.BackOff; len(b) > 0 {
		i := int(deliveries) - 1
		if i >= len(b) {
			i = len(b) - 1
		}
		return int64(b[i])
	}
	return int64(m.cfg.AckWait)
}

func (m *model) deliveries(sseq uint64) uint64 { return m.redelivered[sseq] + 1 }

func (m *model) atMax(sseq uint64) bool {
	if m.cfg.MaxDeliver <= 0 {
		return false
	}
	n := m.redelivered[sseq]
	if m.pending[sseq] != nil {
		n++
	}
	return n >= uint64(m.cfg.MaxDeliver)
}

func (m *model) refloor() {
	m.floor = m.delivered
	low := uint64(0)
	for s := range m.pending {
		if low == 0 || s < low {
			low = s
		}
	}
	if low != 0 {
		m.floor = SeqPair{Consumer: m.pending[low].first - 1, Stream: low - 1}
	}
}

func (m *model) deliver(sseq uint64, now int64) (uint64, uint64) {
	if sseq > m.delivered.Stream {
		m.delivered = SeqPair{m.delivered.Consumer + 1, sseq}
		if m.cfg.AckPolicy != jsapi.AckNone {
			m.pending[sseq] = &modelEntry{first: m.delivered.Consumer, time: now, deadline: now + m.waitFor(1)}
		}
		m.refloor()
		return m.delivered.Consumer, 1
	}
	e := m.pending[sseq]
	if e == nil || m.atMax(sseq) {
		return 0, 0
	}
	m.delivered.Consumer++
	m.redelivered[sseq]++
	n := m.deliveries(sseq)
	*e = modelEntry{first: e.first, time: now, deadline: now + m.waitFor(n)}
	return m.delivered.Consumer, n
}

func (m *model) ack(sseq uint64) bool {
	if m.cfg.AckPolicy == jsapi.AckNone || sseq == 0 || sseq > m.delivered.Stream {
		return false
	}
	acked := false
	if m.cfg.AckPolicy == jsapi.AckExplicit {
		acked = m.pending[sseq] != nil
		delete(m.pending, sseq)
		delete(m.redelivered, sseq)
	} else {
		for s := range m.pending {
			if s <= sseq {
				acked = true
				delete(m.pending, s)
			}
		}
		for s := range m.redelivered {
			if s <= sseq {
				delete(m.redelivered, s)
			}
		}
	}
	m.refloor()
	return acked
}

func (m *model) nak(sseq uint64, now int64, delay time.Duration) bool {
	e := m.pending[sseq]
	if e == nil {
		return false
	}
	if delay > 0 {
		e.time = now - int64(m.cfg.AckWait) + int64(delay)
		e.deadline, e.immediate = e.time+m.waitFor(m.deliveries(sseq)), false
	} else {
		e.deadline, e.immediate = now, true
	}
	return true
}

func (m *model) progress(sseq uint64, now int64) bool {
	e := m.pending[sseq]
	if e == nil {
		return false
	}
	e.time, e.deadline, e.immediate = now, now+m.waitFor(m.deliveries(sseq)), false
	return true
}

func (m *model) giveUp(sseq uint64) bool {
	if m.pending[sseq] == nil || !m.atMax(sseq) {
		return false
	}
	delete(m.pending, sseq)
	m.redelivered[sseq] = uint64(m.cfg.MaxDeliver)
	m.refloor()
	return true
}

func (m *model) skip(sseq uint64) {
	if m.pending[sseq] != nil {
		delete(m.pending, sseq)
		m.refloor()
	}
	delete(m.redelivered, sseq)
}

func (m *model) skipBelow(first uint64) {
	for s := range m.pending {
		if s < first {
			delete(m.pending, s)
		}
	}
	for s := range m.redelivered {
		if s < first {
			delete(m.redelivered, s)
		}
	}
	if first > 0 && first-1 > m.delivered.Stream {
		m.delivered.Stream = first - 1
	}
	m.refloor()
}

func (m *model) recompute(keepImmediate bool) {
	for s, e := range m.pending {
		if !keepImmediate || !e.immediate {
			e.deadline, e.immediate = e.time+m.waitFor(m.deliveries(s)), false
		}
	}
}

func (m *model) due(now int64) (uint64, bool) {
	best, found := uint64(0), false
	for s, e := range m.pending {
		if e.deadline > now {
			continue
		}
		if b := m.pending[best]; !found || e.deadline < b.deadline || (e.deadline == b.deadline && s < best) {
			best, found = s, true
		}
	}
	return best, found
}

func (m *model) nextDeadline() (int64, bool) {
	var d int64
	found := false
	for _, e := range m.pending {
		if !found || e.deadline < d {
			d, found = e.deadline, true
		}
	}
	return d, found
}

func (m *model) state() State {
	st := State{Delivered: m.delivered, AckFloor: m.floor}
	for s, e := range m.pending {
		if st.Pending == nil {
			st.Pending = map[uint64]Pending{}
		}
		st.Pending[s] = Pending{Consumer: e.first, Time: e.time}
	}
	for s, n := range m.redelivered {
		if st.Redelivered == nil {
			st.Redelivered = map[uint64]uint64{}
		}
		st.Redelivered[s] = n
	}
	return st
}

// drawConfig draws a config with defaults filled in as nats-server fills them.
func drawConfig(t *rapid.T, policy jsapi.AckPolicy) jsapi.ConsumerConfig {
	cfg := jsapi.ConsumerConfig{AckPolicy: policy}
	cfg.AckWait = time.Duration(rapid.IntRange(1, 5).Draw(t, "ackWait")) * time.Second
	if rapid.Bool().Draw(t, "backoff") {
		for i := rapid.IntRange(1, 3).Draw(t, "backoffs"); i > 0; i-- {
			cfg.BackOff = append(cfg.BackOff, time.Duration(rapid.IntRange(1, 9).Draw(t, "step"))*time.Second)
		}
		cfg.AckWait = cfg.BackOff[0]
	}
	cfg.MaxDeliver = rapid.SampledFrom([]int{-1, 1, 2, 3}).Draw(t, "maxDeliver")
	cfg.MaxAckPending = rapid.SampledFrom([]int{-1, 2, 5}).Draw(t, "maxAckPending")
	return cfg
}

// modelRun drives a consumer and its model with the same operations.
type modelRun struct {
	c      *Consumer
	m      *model
	now    int64
	policy jsapi.AckPolicy
}

// TestModel runs random operation sequences against the consumer and the naive model and
// compares every answer, the state and the deadlines after each step; the consumer asserts
// its own invariants on every call (all of them with -tags invariants).
func TestModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		policy := rapid.SampledFrom([]jsapi.AckPolicy{jsapi.AckNone, jsapi.AckAll, jsapi.AckExplicit}).Draw(t, "policy")
		cfg := drawConfig(t, policy)
		r := &modelRun{c: New(cfg, State{}), m: newModel(cfg), policy: policy}
		if rapid.Bool().Draw(t, "setStart") {
			first := rapid.Uint64Range(1, 50).Draw(t, "first")
			r.c.SetStart(first)
			r.m.delivered, r.m.floor = SeqPair{0, first - 1}, SeqPair{0, first - 1}
		}
		t.Repeat(r.actions())
	})
}

func (r *modelRun) seq(t *rapid.T) uint64 {
	return rapid.Uint64Range(0, r.m.delivered.Stream+2).Draw(t, "sseq")
}

func same(t *rapid.T, what string, a, b any) {
	if a != b {
		t.Fatalf("%s: consumer %v, model %v", what, a, b)
	}
}

func (r *modelRun) deliver(t *rapid.T, what string, s uint64) {
	d1, n1 := r.c.Deliver(s, r.now)
	d2, n2 := r.m.deliver(s, r.now)
	same(t, what, [2]uint64{d1, n1}, [2]uint64{d2, n2})
}

func (r *modelRun) actions() map[string]func(*rapid.T) {
	c, m := func() *Consumer { return r.c }, r.m
	return map[string]func(*rapid.T){
		"deliverNew": func(t *rapid.T) {
			if !c().CanDeliver() {
				t.Skip("at max ack pending")
			}
			r.deliver(t, "deliver", m.delivered.Stream+rapid.Uint64Range(1, 3).Draw(t, "gap"))
		},
		"redeliverDue": func(t *rapid.T) {
			s, ok := c().Due(r.now)
			switch {
			case !ok:
				t.Skip("nothing due")
			case c().MaxDelivered(s):
				same(t, "give up", c().GiveUp(s), m.giveUp(s))
			default:
				r.deliver(t, "redeliver", s)
			}
		},
		"deliverAny": func(t *rapid.T) { r.deliver(t, "deliver any", max(r.seq(t), 1)) },
		"ack": func(t *rapid.T) {
			s := r.seq(t)
			same(t, "ack", c().Ack(s, rapid.Uint64().Draw(t, "dseq")), m.ack(s))
		},
		"term":   func(t *rapid.T) { s := r.seq(t); same(t, "term", c().Term(s), m.ack(s)) },
		"giveUp": func(t *rapid.T) { s := r.seq(t); same(t, "give up", c().GiveUp(s), m.giveUp(s)) },
		"nak": func(t *rapid.T) {
			s := r.seq(t)
			d := time.Duration(rapid.IntRange(-1, 10).Draw(t, "delay")) * time.Second
			same(t, "nak", c().Nak(s, r.now, d), m.nak(s, r.now, d))
		},
		"progress": func(t *rapid.T) { s := r.seq(t); same(t, "progress", c().Progress(s, r.now), m.progress(s, r.now)) },
		"skip": func(t *rapid.T) {
			s := r.seq(t)
			c().Skip(s)
			m.skip(s)
		},
		"skipBelow": func(t *rapid.T) {
			s := rapid.Uint64Range(0, m.delivered.Stream+4).Draw(t, "first")
			c().SkipBelow(s)
			m.skipBelow(s)
		},
		"advance": func(t *rapid.T) {
			r.now += int64(rapid.IntRange(0, 12).Draw(t, "halfSeconds")) * int64(time.Second) / 2
		},
		"updateConfig": func(t *rapid.T) {
			cfg := drawConfig(t, r.policy)
			c().UpdateConfig(cfg)
			m.cfg = cfg
			m.recompute(true)
		},
		"restart": func(t *rapid.T) {
			st, err := Decode(c().Encode())
			if err != nil {
				t.Fatalf("decode of an encoded state: %v", err)
			}
			r.c = New(m.cfg, st)
			m.recompute(false)
		},
		"": func(t *rapid.T) { compare(t, c(), m, r.now) },
	}
}

func compare(t *rapid.T, c *Consumer, m *model, now int64) {
	if got, want := c.State(), m.state(); !got.Equal(want) {
		t.Fatalf("state\n consumer %+v\n model    %+v", got, want)
	}
	s1, ok1 := c.Due(now)
	s2, ok2 := m.due(now)
	if s1 != s2 || ok1 != ok2 {
		t.Fatalf("due at %d: consumer %d %v, model %d %v", now, s1, ok1, s2, ok2)
	}
	d1, ok1 := c.NextDeadline()
	d2, ok2 := m.nextDeadline()
	if d1 != d2 || ok1 != ok2 {
		t.Fatalf("next deadline: consumer %d %v, model %d %v", d1, ok1, d2, ok2)
	}
	reported := len(m.redelivered)
	if m.cfg.MaxDeliver == 1 {
		reported = 0
	}
	if c.NumAckPending() != len(m.pending) || c.NumRedelivered() != reported {
		t.Fatalf("counts: consumer %d %d, model %d %d", c.NumAckPending(), c.NumRedelivered(), len(m.pending), reported)
	}
	if can := m.cfg.AckPolicy == jsapi.AckNone || m.cfg.MaxAckPending <= 0 || len(m.pending) < m.cfg.MaxAckPending; c.CanDeliver() != can {
		t.Fatalf("can deliver: consumer %v, model %v", c.CanDeliver(), can)
	}
	for s := m.floor.Stream; s <= m.delivered.Stream+1; s++ {
		if c.MaxDelivered(s) != m.atMax(s) {
			t.Fatalf("max delivered %d: consumer %v", s, c.MaxDelivered(s))
		}
	}
	if err := c.State().validate(); err != nil {
		t.Fatalf("invalid state: %v", err)
	}
	if got, want := c.Encode(), c.State().Encode(); string(got) != string(want) {
		t.Fatalf("Encode %x, State().Encode() %x", got, want)
	}
}
