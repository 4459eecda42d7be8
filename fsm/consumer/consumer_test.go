package consumer

import (
	"slices"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/jsapi"
)

const sec = int64(time.Second)

func config(policy jsapi.AckPolicy, mods ...func(*jsapi.ConsumerConfig)) jsapi.ConsumerConfig {
	cfg := jsapi.ConsumerConfig{AckPolicy: policy, AckWait: 30 * time.Second, MaxDeliver: -1, MaxAckPending: 1000}
	for _, m := range mods {
		m(&cfg)
	}
	if len(cfg.BackOff) > 0 {
		cfg.AckWait = cfg.BackOff[0] // as nats-server fills it in
	}
	return cfg
}

func backoff(d ...time.Duration) func(*jsapi.ConsumerConfig) {
	return func(c *jsapi.ConsumerConfig) { c.BackOff = d }
}

func maxDeliver(n int) func(*jsapi.ConsumerConfig) {
	return func(c *jsapi.ConsumerConfig) { c.MaxDeliver = n }
}

// expect checks the positions and counts of c.
type expect struct {
	delivered, floor        SeqPair
	ackPending, redelivered int
}

func (w expect) check(t *testing.T, c *Consumer) {
	t.Helper()
	st := c.State()
	if st.Delivered != w.delivered || st.AckFloor != w.floor {
		t.Fatalf("delivered %+v floor %+v, want %+v %+v", st.Delivered, st.AckFloor, w.delivered, w.floor)
	}
	if len(st.Pending) != w.ackPending || len(st.Redelivered) != w.redelivered {
		t.Fatalf("pending %d redelivered %d, want %d %d", len(st.Pending), len(st.Redelivered), w.ackPending, w.redelivered)
	}
	reported := len(st.Redelivered)
	if c.cfg.MaxDeliver == 1 {
		reported = 0 // nats-server reports none with max_deliver 1
	}
	if c.NumAckPending() != len(st.Pending) || c.NumRedelivered() != reported {
		t.Fatalf("counts disagree with the state: %+v", st)
	}
}

func mustDeliver(t *testing.T, c *Consumer, sseq uint64, now int64, dseq, count uint64) {
	t.Helper()
	if d, n := c.Deliver(sseq, now); d != dseq || n != count {
		t.Fatalf("deliver %d: consumer seq %d count %d, want %d %d", sseq, d, n, dseq, count)
	}
}

func mustBool(t *testing.T, what string, got, want bool) {
	t.Helper()
	if got != want {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

// ackRuleCases: each runs on a fresh consumer of its config.
var ackRuleCases = []struct {
	name string
	cfg  jsapi.ConsumerConfig
	run  func(t *testing.T, c *Consumer)
}{
	{"none: a delivery is acknowledged at once", config(jsapi.AckNone), func(t *testing.T, c *Consumer) {
		mustDeliver(t, c, 3, 0, 1, 1)
		mustDeliver(t, c, 7, 0, 2, 1)
		expect{delivered: SeqPair{2, 7}, floor: SeqPair{2, 7}}.check(t, c)
		mustBool(t, "ack", c.Ack(7, 2), false)
		mustBool(t, "nak", c.Nak(7, 0, 0), false)
		if _, ok := c.NextDeadline(); ok {
			t.Fatal("a deadline with ack policy none")
		}
	}},
	{"explicit: only that one; the floor waits for the lowest", config(jsapi.AckExplicit), func(t *testing.T, c *Consumer) {
		for s := uint64(1); s <= 3; s++ {
			mustDeliver(t, c, s, 0, s, 1)
		}
		mustBool(t, "ack 2", c.Ack(2, 2), true)
		expect{delivered: SeqPair{3, 3}, floor: SeqPair{0, 0}, ackPending: 2}.check(t, c)
		mustBool(t, "ack 1", c.Ack(1, 1), true)
		expect{delivered: SeqPair{3, 3}, floor: SeqPair{2, 2}, ackPending: 1}.check(t, c)
		mustBool(t, "ack 3", c.Ack(3, 3), true)
		expect{delivered: SeqPair{3, 3}, floor: SeqPair{3, 3}}.check(t, c)
	}},
	{"explicit: duplicate, old and future acks are no-ops", config(jsapi.AckExplicit), func(t *testing.T, c *Consumer) {
		mustDeliver(t, c, 1, 0, 1, 1)
		mustDeliver(t, c, 2, 0, 2, 1)
		mustBool(t, "ack 1", c.Ack(1, 1), true)
		mustBool(t, "ack 1 again", c.Ack(1, 1), false)
		mustBool(t, "ack 9", c.Ack(9, 9), false)
		mustBool(t, "ack 0", c.Ack(0, 0), false)
		expect{delivered: SeqPair{2, 2}, floor: SeqPair{1, 1}, ackPending: 1}.check(t, c)
	}},
	{"all: acks every pending at or below", config(jsapi.AckAll), func(t *testing.T, c *Consumer) {
		for s := uint64(1); s <= 4; s++ {
			mustDeliver(t, c, s*2, 0, s, 1)
		}
		mustBool(t, "ack 5 (not a delivered seq)", c.Ack(5, 0), true)
		expect{delivered: SeqPair{4, 8}, floor: SeqPair{2, 5}, ackPending: 2}.check(t, c)
		mustBool(t, "ack 4 (below the floor)", c.Ack(4, 2), false)
		mustBool(t, "ack 9 (above delivered)", c.Ack(9, 5), false)
		mustBool(t, "ack 8", c.Ack(8, 4), true)
		expect{delivered: SeqPair{4, 8}, floor: SeqPair{4, 8}}.check(t, c)
	}},
	{"a gap of messages not for this consumer does not hold the floor", config(jsapi.AckExplicit), func(t *testing.T, c *Consumer) {
		mustDeliver(t, c, 1, 0, 1, 1)
		mustDeliver(t, c, 5, 0, 2, 1)
		mustBool(t, "ack 1", c.Ack(1, 1), true)
		expect{delivered: SeqPair{2, 5}, floor: SeqPair{1, 4}, ackPending: 1}.check(t, c)
		mustBool(t, "ack 5", c.Ack(5, 2), true)
		expect{delivered: SeqPair{2, 5}, floor: SeqPair{2, 5}}.check(t, c)
		mustDeliver(t, c, 9, 0, 3, 1)
		expect{delivered: SeqPair{3, 9}, floor: SeqPair{2, 8}, ackPending: 1}.check(t, c)
	}},
	{"a stale ack of an earlier delivery still acks", config(jsapi.AckExplicit), func(t *testing.T, c *Consumer) {
		mustDeliver(t, c, 1, 0, 1, 1)
		mustDeliver(t, c, 2, 0, 2, 1)
		mustDeliver(t, c, 1, 40*sec, 3, 2)
		expect{delivered: SeqPair{3, 2}, floor: SeqPair{0, 0}, ackPending: 2, redelivered: 1}.check(t, c)
		mustBool(t, "stale ack", c.Ack(1, 1), true)
		// The floor's consumer half comes from the first delivery of the lowest pending.
		expect{delivered: SeqPair{3, 2}, floor: SeqPair{1, 1}, ackPending: 1}.check(t, c)
	}},
	{"a redelivery keeps the first consumer seq; the floor never moves back", config(jsapi.AckExplicit), func(t *testing.T, c *Consumer) {
		for s := uint64(1); s <= 3; s++ {
			mustDeliver(t, c, s, 0, s, 1)
		}
		mustDeliver(t, c, 2, 40*sec, 4, 2)
		if p := c.State().Pending[2]; p.Consumer != 2 || p.Time != 40*sec {
			t.Fatalf("pending 2 = %+v", p)
		}
		mustBool(t, "ack 1", c.Ack(1, 1), true)
		expect{delivered: SeqPair{4, 3}, floor: SeqPair{1, 1}, ackPending: 2, redelivered: 1}.check(t, c)
		mustBool(t, "ack 2", c.Ack(2, 4), true)
		expect{delivered: SeqPair{4, 3}, floor: SeqPair{2, 2}, ackPending: 1}.check(t, c)
	}},
	{"term counts as acked", config(jsapi.AckExplicit), func(t *testing.T, c *Consumer) {
		mustDeliver(t, c, 1, 0, 1, 1)
		mustBool(t, "term", c.Term(1), true)
		mustBool(t, "term again", c.Term(1), false)
		expect{delivered: SeqPair{1, 1}, floor: SeqPair{1, 1}}.check(t, c)
		if _, ok := c.Due(100 * sec); ok {
			t.Fatal("terminated message due")
		}
	}},
	{"term with ack policy all acks everything below, as nats-server", config(jsapi.AckAll), func(t *testing.T, c *Consumer) {
		mustDeliver(t, c, 1, 0, 1, 1)
		mustDeliver(t, c, 2, 0, 2, 1)
		mustDeliver(t, c, 3, 0, 3, 1)
		mustBool(t, "term 2", c.Term(2), true)
		expect{delivered: SeqPair{3, 3}, floor: SeqPair{2, 2}, ackPending: 1}.check(t, c)
	}},
	{"skip: a deleted pending message stops holding the floor", config(jsapi.AckExplicit), func(t *testing.T, c *Consumer) {
		mustDeliver(t, c, 1, 0, 1, 1)
		mustDeliver(t, c, 2, 0, 2, 1)
		mustDeliver(t, c, 1, 40*sec, 3, 2)
		c.Skip(1)
		expect{delivered: SeqPair{3, 2}, floor: SeqPair{1, 1}, ackPending: 1}.check(t, c)
		c.Skip(7) // never delivered: nothing
		expect{delivered: SeqPair{3, 2}, floor: SeqPair{1, 1}, ackPending: 1}.check(t, c)
	}},
	{"skip below: a purge past delivered moves delivered and floor", config(jsapi.AckExplicit), func(t *testing.T, c *Consumer) {
		mustDeliver(t, c, 1, 0, 1, 1)
		mustDeliver(t, c, 3, 0, 2, 1)
		mustDeliver(t, c, 5, 0, 3, 1)
		c.SkipBelow(4)
		expect{delivered: SeqPair{3, 5}, floor: SeqPair{2, 4}, ackPending: 1}.check(t, c)
		c.SkipBelow(10)
		expect{delivered: SeqPair{3, 9}, floor: SeqPair{3, 9}}.check(t, c)
		mustDeliver(t, c, 10, 0, 4, 1)
	}},
	{"set start: the first seq to deliver", config(jsapi.AckExplicit), func(t *testing.T, c *Consumer) {
		c.SetStart(100)
		expect{delivered: SeqPair{0, 99}, floor: SeqPair{0, 99}}.check(t, c)
		mustDeliver(t, c, 100, 0, 1, 1)
		expect{delivered: SeqPair{1, 100}, floor: SeqPair{0, 99}, ackPending: 1}.check(t, c)
	}},
	{"max ack pending", config(jsapi.AckExplicit, func(c *jsapi.ConsumerConfig) { c.MaxAckPending = 2 }), func(t *testing.T, c *Consumer) {
		mustDeliver(t, c, 1, 0, 1, 1)
		mustBool(t, "can deliver at 1", c.CanDeliver(), true)
		mustDeliver(t, c, 2, 0, 2, 1)
		mustBool(t, "can deliver at 2", c.CanDeliver(), false)
		c.Ack(1, 1)
		mustBool(t, "can deliver after an ack", c.CanDeliver(), true)
	}},
}

func TestAckRules(t *testing.T) {
	for _, tc := range ackRuleCases {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, New(tc.cfg, State{})) })
	}
}

var bo = backoff(5*time.Second, 20*time.Second, 60*time.Second)

// deadlineCases: each delivers stream seq 1 at time 0, runs ops, and expects the deadline.
var deadlineCases = []struct {
	name string
	cfg  jsapi.ConsumerConfig
	ops  func(c *Consumer)
	want int64
}{
	{"ack wait after the delivery", config(jsapi.AckExplicit), func(c *Consumer) {}, 30 * sec},
	{"backoff: the first entry for the first delivery", config(jsapi.AckExplicit, bo), func(c *Consumer) {}, 5 * sec},
	{"backoff: entry n-1 for the nth delivery", config(jsapi.AckExplicit, bo), func(c *Consumer) {
		c.Deliver(1, 10*sec)
	}, 30 * sec},
	{"backoff: the last entry repeats", config(jsapi.AckExplicit, bo), func(c *Consumer) {
		c.Deliver(1, 10*sec)
		c.Deliver(1, 40*sec)
		c.Deliver(1, 100*sec)
	}, 160 * sec},
	{"nak with a delay: now+delay", config(jsapi.AckExplicit), func(c *Consumer) {
		c.Nak(1, 2*sec, 7*time.Second)
	}, 9 * sec},
	{"nak with a delay on the first delivery with backoff: now+delay", config(jsapi.AckExplicit, bo), func(c *Consumer) {
		c.Nak(1, 2*sec, 7*time.Second)
	}, 9 * sec},
	{"nak with a delay and backoff later: now+delay+backoff[n-1]-backoff[0]", config(jsapi.AckExplicit, bo), func(c *Consumer) {
		c.Deliver(1, 10*sec)
		c.Nak(1, 12*sec, 7*time.Second)
	}, 12*sec + 7*sec + 20*sec - 5*sec},
	{"nak without a delay: due at once", config(jsapi.AckExplicit, bo), func(c *Consumer) {
		c.Nak(1, 3*sec, 0)
	}, 3 * sec},
	{"progress: now+ack wait", config(jsapi.AckExplicit), func(c *Consumer) {
		c.Progress(1, 25*sec)
	}, 55 * sec},
	{"progress after a nak: the nak is forgotten", config(jsapi.AckExplicit), func(c *Consumer) {
		c.Nak(1, 1*sec, 0)
		c.Progress(1, 2*sec)
	}, 32 * sec},
	{"config change: a new ack wait applies to the stored time", config(jsapi.AckExplicit), func(c *Consumer) {
		c.UpdateConfig(config(jsapi.AckExplicit, func(c *jsapi.ConsumerConfig) { c.AckWait = 10 * time.Second }))
	}, 10 * sec},
	{"config change: a nak's due-at-once stays", config(jsapi.AckExplicit), func(c *Consumer) {
		c.Nak(1, 4*sec, 0)
		c.UpdateConfig(config(jsapi.AckExplicit, func(c *jsapi.ConsumerConfig) { c.AckWait = 10 * time.Second }))
	}, 4 * sec},
	{"restart: due at Time plus the wait; a nak's due-at-once is not kept", config(jsapi.AckExplicit, bo), func(c *Consumer) {
		c.Deliver(1, 10*sec)
		c.Nak(1, 11*sec, 0)
		*c = *New(c.cfg, c.State())
	}, 30 * sec},
	{"restart: a nak's delay is kept", config(jsapi.AckExplicit), func(c *Consumer) {
		c.Nak(1, 2*sec, 100*time.Second)
		*c = *New(c.cfg, c.State())
	}, 102 * sec},
}

func TestDeadlines(t *testing.T) {
	for _, tc := range deadlineCases {
		t.Run(tc.name, func(t *testing.T) {
			c := New(tc.cfg, State{})
			c.Deliver(1, 0)
			tc.ops(c)
			got, ok := c.NextDeadline()
			if !ok || got != tc.want {
				t.Fatalf("deadline %v %v, want %v", time.Duration(got), ok, time.Duration(tc.want))
			}
			if s, ok := c.Due(tc.want - 1); ok {
				t.Fatalf("due before its deadline: %d", s)
			}
			if s, ok := c.Due(tc.want); !ok || s != 1 {
				t.Fatalf("not due at its deadline: %d %v", s, ok)
			}
		})
	}
}

func TestDueOrder(t *testing.T) {
	c := New(config(jsapi.AckExplicit), State{})
	c.Deliver(1, 10*sec) // due 40
	c.Deliver(2, 0)      // due 30
	c.Deliver(3, 0)      // due 30
	c.Deliver(4, 5*sec)  // due 35
	var got []uint64
	for {
		s, ok := c.Due(50 * sec)
		if !ok {
			break
		}
		got = append(got, s)
		c.Deliver(s, 50*sec)
	}
	if want := []uint64{2, 3, 4, 1}; !slices.Equal(got, want) {
		t.Fatalf("due order %v, want %v (oldest deadline first, then lowest seq)", got, want)
	}
	if d, _ := c.NextDeadline(); d != 80*sec {
		t.Fatalf("next deadline %v", time.Duration(d))
	}
}

// TestMaxDeliver: what nats-server does once a message was delivered max_deliver times and
// its ack wait ran out: it leaves num_ack_pending, the ack floor passes it, and it stays in
// num_redelivered (with max_deliver as its count) until acknowledged or gone from the stream.
func TestMaxDeliver(t *testing.T) {
	c := New(config(jsapi.AckExplicit, maxDeliver(2)), State{})
	mustDeliver(t, c, 1, 0, 1, 1)
	mustDeliver(t, c, 2, 0, 2, 1)
	mustBool(t, "max delivered after 1", c.MaxDelivered(1), false)
	mustDeliver(t, c, 1, 30*sec, 3, 2)
	mustBool(t, "max delivered after 2", c.MaxDelivered(1), true)
	if s, ok := c.Due(60 * sec); !ok || s != 2 {
		t.Fatalf("due %d %v, want 2 first (its deadline is older)", s, ok)
	}
	mustBool(t, "give up 2 (delivered once of 2)", c.GiveUp(2), false)
	c.Deliver(2, 60*sec)
	if s, ok := c.Due(60 * sec); !ok || s != 1 {
		t.Fatalf("due %d %v, want the max-delivered 1", s, ok)
	}
	mustDeliver(t, c, 1, 60*sec, 0, 0) // refused
	mustBool(t, "give up 9 (not pending)", c.GiveUp(9), false)
	mustBool(t, "give up 1", c.GiveUp(1), true)
	expect{delivered: SeqPair{4, 2}, floor: SeqPair{1, 1}, ackPending: 1, redelivered: 2}.check(t, c)
	if n := c.State().Redelivered[1]; n != 2 {
		t.Fatalf("given-up redelivered count %d, want max_deliver", n)
	}
	mustBool(t, "max delivered after giving up", c.MaxDelivered(1), true)
	mustBool(t, "give up again", c.GiveUp(1), false)
	mustBool(t, "nak after giving up", c.Nak(1, 70*sec, 0), false)
	mustBool(t, "ack after giving up", c.Ack(1, 3), false)
	expect{delivered: SeqPair{4, 2}, floor: SeqPair{1, 1}, ackPending: 1, redelivered: 1}.check(t, c)
}

func TestMaxDeliverOneAndSkip(t *testing.T) {
	c := New(config(jsapi.AckExplicit, maxDeliver(1)), State{})
	c.Deliver(1, 0)
	mustBool(t, "max delivered", c.MaxDelivered(1), true)
	mustBool(t, "give up", c.GiveUp(1), true)
	expect{delivered: SeqPair{1, 1}, floor: SeqPair{1, 1}, redelivered: 1}.check(t, c)
	if c.NumRedelivered() != 0 {
		t.Fatalf("num_redelivered %d with max_deliver 1, nats-server reports 0", c.NumRedelivered())
	}
	c.Skip(1) // gone from the stream: its redelivered entry goes too
	expect{delivered: SeqPair{1, 1}, floor: SeqPair{1, 1}}.check(t, c)
}

func TestStateIsACopy(t *testing.T) {
	c := New(config(jsapi.AckExplicit), State{})
	c.Deliver(1, 0)
	c.Deliver(1, 40*sec)
	st := c.State()
	st.Pending[1] = Pending{Consumer: 99}
	st.Redelivered[1] = 99
	st2 := c.State()
	if st2.Pending[1].Consumer != 1 || st2.Redelivered[1] != 1 {
		t.Fatalf("State aliases the consumer's maps: %+v", st2)
	}
	in := st2.Clone()
	c2 := New(config(jsapi.AckExplicit), in)
	in.Pending[1] = Pending{Consumer: 98}
	if c2.State().Pending[1].Consumer != 1 {
		t.Fatal("New kept the caller's map")
	}
}

func TestNewRejectsInvalidState(t *testing.T) {
	bad := []State{
		{AckFloor: SeqPair{1, 1}},
		{Delivered: SeqPair{2, 2}, AckFloor: SeqPair{1, 1}},
		{Delivered: SeqPair{2, 2}, AckFloor: SeqPair{1, 1}, Pending: map[uint64]Pending{2: {Consumer: 3}}},
		{Delivered: SeqPair{2, 2}, AckFloor: SeqPair{2, 2}, Redelivered: map[uint64]uint64{3: 1}},
	}
	for i, st := range bad {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("state %d accepted: %+v", i, st)
				}
			}()
			New(config(jsapi.AckExplicit), st)
		}()
	}
}
