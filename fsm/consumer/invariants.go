package consumer

import (
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
)

// position is what must never move backwards.
type position struct{ delivered, floor SeqPair }

func (c *Consumer) position() position { return position{c.delivered, c.floor} }

// check asserts the invariants after a mutating call that started at before. The cheap ones
// always run; the full scan (every pending entry, every timer) runs with the invariants
// build tag. Each assertion's arguments are built only when it fails: boxing them for every
// call cost an allocation per delivery and per ack.
func (c *Consumer) check(before position) {
	d, f := c.delivered, c.floor
	if !(f.Stream <= d.Stream && f.Consumer <= d.Consumer) {
		env.Assertf(false, "consumer: ack floor %+v above delivered %+v", f, d)
	}
	if !(d.Stream >= before.delivered.Stream && d.Consumer >= before.delivered.Consumer) {
		env.Assertf(false, "consumer: delivered moved back from %+v to %+v", before.delivered, d)
	}
	if !(f.Stream >= before.floor.Stream && f.Consumer >= before.floor.Consumer) {
		env.Assertf(false, "consumer: ack floor moved back from %+v to %+v", before.floor, f)
	}
	if !(c.acks() || (len(c.pending) == 0 && f == d)) {
		env.Assertf(false, "consumer: ack policy none with %d pending, floor %+v, delivered %+v", len(c.pending), f, d)
	}
	if sseq, ok := c.lowest(); ok {
		if e := c.pending[sseq]; !(sseq == f.Stream+1 && e.consumer == f.Consumer+1) {
			env.Assertf(false, "consumer: lowest pending %d (consumer seq %d) not just above floor %+v", sseq, e.consumer, f)
		}
	} else if f != d {
		env.Assertf(false, "consumer: nothing pending, floor %+v is not delivered %+v", f, d)
	}
	if !(len(c.timers) >= len(c.pending) && len(c.order) >= len(c.pending)) {
		env.Assertf(false, "consumer: %d timers and %d ordered for %d pending", len(c.timers), len(c.order), len(c.pending))
	}
	if env.Invariants {
		c.checkFull()
	}
}

// checkFull validates the whole state and the timer and order indexes against it.
func (c *Consumer) checkFull() {
	st := c.State()
	err := st.validate()
	env.Assertf(err == nil, "consumer: %v", err)
	env.Assertf(c.cfg.AckPolicy != jsapi.AckNone || len(c.redelivered) == 0, "consumer: ack policy none with redeliveries")
	timed := make(map[uint64]bool, len(c.pending))
	for _, t := range c.timers {
		if c.live(t) {
			timed[t.sseq] = true
		}
	}
	env.Assertf(len(timed) == len(c.pending), "consumer: %d pending messages have a live timer, of %d", len(timed), len(c.pending))
	seen := 0
	var prev uint64
	for _, sseq := range c.order {
		env.Assertf(sseq > prev, "consumer: order not ascending at %d after %d", sseq, prev)
		prev = sseq
		if c.pending[sseq] != nil {
			seen++
		}
	}
	env.Assertf(seen == len(c.pending), "consumer: order holds %d of %d pending", seen, len(c.pending))
	for sseq := range c.pending {
		_, ok := c.redelivered[sseq]
		env.Assertf(!ok || c.redelivered[sseq] > 0, "consumer: pending %d with a zero redelivery count", sseq)
	}
}
