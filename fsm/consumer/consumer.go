package consumer

import (
	"slices"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
)

// Consumer is one consumer's delivery and ack state. It is a pure state machine: time comes
// in as arguments, it performs nothing, and the same calls in the same order leave the same
// state (so a replicated consumer can apply them from a log). It belongs to one executor.
//
// Invariant (checked after every mutating call, see check): State's invariants hold, Delivered
// and AckFloor never move backwards (SetStart, before any delivery, aside), every pending
// message has exactly one live timer, and order holds every pending stream seq, ascending.
type Consumer struct {
	cfg         jsapi.ConsumerConfig
	delivered   SeqPair
	floor       SeqPair
	pending     map[uint64]*entry
	redelivered map[uint64]uint64
	order       []uint64  // pending stream seqs ascending, with holes (see timers.go)
	timers      timerHeap // redelivery deadlines, lazily deleted
}

// entry is a pending message.
type entry struct {
	consumer uint64 // consumer seq of its first delivery
	time     int64  // what the ack wait counts from (Pending.Time)
	deadline int64  // when it is due for redelivery
	// immediate: -NAK without a delay made it due at once. Kept apart from time so that a
	// config change keeps it due; like nats-server's redelivery queue it is not persisted, so
	// after a restart the message waits out its ack wait again.
	immediate bool
}

// New returns a consumer with config cfg (defaults already filled in: ack_wait set when acks
// are expected, backoff's first entry as ack_wait) resuming from st. Pending messages become
// due at Time plus their ack wait (or backoff); deadlines are not part of the state.
func New(cfg jsapi.ConsumerConfig, st State) *Consumer {
	checkConfig(cfg)
	err := st.validate()
	env.Assertf(err == nil, "consumer: new from an invalid state: %v", err)
	env.Assertf(cfg.AckPolicy != jsapi.AckNone || len(st.Pending)+len(st.Redelivered) == 0,
		"consumer: ack policy none with %d pending, %d redelivered", len(st.Pending), len(st.Redelivered))
	c := &Consumer{
		cfg:         cloneConfig(cfg),
		delivered:   st.Delivered,
		floor:       st.AckFloor,
		pending:     make(map[uint64]*entry, len(st.Pending)),
		redelivered: make(map[uint64]uint64, len(st.Redelivered)),
	}
	for sseq, n := range st.Redelivered {
		c.redelivered[sseq] = n
	}
	c.order = st.pendingSeqs()
	for _, sseq := range c.order {
		p := st.Pending[sseq]
		e := &entry{consumer: p.Consumer, time: p.Time}
		e.deadline = p.Time + int64(c.wait(c.count(sseq)))
		c.pending[sseq] = e
	}
	c.rebuildTimers()
	c.check(c.position())
	return c
}

// checkConfig asserts what New and UpdateConfig need of a config with defaults filled in.
func checkConfig(cfg jsapi.ConsumerConfig) {
	switch cfg.AckPolicy {
	case jsapi.AckNone:
	case jsapi.AckAll, jsapi.AckExplicit:
		env.Assertf(cfg.AckWait > 0, "consumer: ack policy %s with ack_wait %v (defaults not filled in)", cfg.AckPolicy, cfg.AckWait)
	default:
		env.Assertf(false, "consumer: unknown ack policy %q", cfg.AckPolicy)
	}
	for i, d := range cfg.BackOff {
		env.Assertf(d > 0, "consumer: backoff[%d] = %v", i, d)
	}
}

func cloneConfig(cfg jsapi.ConsumerConfig) jsapi.ConsumerConfig {
	cfg.BackOff = slices.Clone(cfg.BackOff)
	return cfg
}

// UpdateConfig applies a changed config. Of what affects this state, ack_wait, backoff,
// max_deliver and max_ack_pending may change (the ack policy may not: nats-server refuses
// it). Deadlines are recomputed from each message's Time, as nats-server's pending check
// does; a message a -NAK made due at once stays due.
func (c *Consumer) UpdateConfig(cfg jsapi.ConsumerConfig) {
	checkConfig(cfg)
	env.Assertf(cfg.AckPolicy == c.cfg.AckPolicy, "consumer: ack policy changed from %s to %s", c.cfg.AckPolicy, cfg.AckPolicy)
	before := c.position()
	c.cfg = cloneConfig(cfg)
	c.compactOrder()
	for _, sseq := range c.order {
		if e := c.pending[sseq]; !e.immediate {
			e.deadline = e.time + int64(c.wait(c.count(sseq)))
		}
	}
	c.rebuildTimers()
	c.check(before)
}

// wait is how long the ack wait of a message's count-th delivery lasts: backoff[count-1]
// (its last entry repeated) when backoff is set, else ack_wait.
func (c *Consumer) wait(count uint64) time.Duration {
	if n := uint64(len(c.cfg.BackOff)); n > 0 {
		return c.cfg.BackOff[min(count, n)-1]
	}
	return c.cfg.AckWait
}

// count is how many times a pending message was delivered.
func (c *Consumer) count(sseq uint64) uint64 { return c.redelivered[sseq] + 1 }

func (c *Consumer) acks() bool { return c.cfg.AckPolicy != jsapi.AckNone }

// Deliver records a delivery of stream seq sseq at now and returns its consumer seq and how
// many times the message has now been delivered. A stream seq above Delivered is a first
// delivery (the actor skips what the filter leaves out); one at or below it is a
// redelivery, allowed only for a pending message that has not reached max_deliver: for any
// other (acknowledged since it fell due, given up) Deliver records nothing and returns
// (0, 0), and the actor must not send it. With ack policy none a delivery is acknowledged
// at once.
func (c *Consumer) Deliver(sseq uint64, now int64) (dseq, count uint64) {
	env.Assertf(sseq > 0, "consumer: deliver of stream seq 0")
	before := c.position()
	defer c.check(before)
	if sseq > c.delivered.Stream {
		return c.deliverFirst(sseq, now), 1
	}
	e := c.pending[sseq]
	if e == nil || c.MaxDelivered(sseq) {
		return 0, 0
	}
	c.delivered.Consumer++
	c.redelivered[sseq]++
	e.time, e.immediate = now, false
	count = c.count(sseq)
	c.setDeadline(sseq, e, now+int64(c.wait(count)))
	return c.delivered.Consumer, count
}

func (c *Consumer) deliverFirst(sseq uint64, now int64) uint64 {
	c.delivered = SeqPair{Consumer: c.delivered.Consumer + 1, Stream: sseq}
	if !c.acks() {
		c.floor = c.delivered
		return c.delivered.Consumer
	}
	e := &entry{consumer: c.delivered.Consumer, time: now}
	c.pending[sseq] = e
	c.order = append(c.order, sseq)
	c.setDeadline(sseq, e, now+int64(c.wait(1)))
	c.refloor()
	return c.delivered.Consumer
}

// Ack acknowledges stream seq sseq; dseq is the consumer seq from the ack subject. With ack
// policy explicit it acknowledges that message, with all every pending message at or
// below it. A stale ack (of an earlier delivery of a message since redelivered) still
// acknowledges it, as in nats-server: the stream seq decides, and dseq is not consulted.
// An ack that acknowledges nothing pending (old, duplicate, above Delivered, policy none)
// returns false; acking a message given up after max_deliver drops its redelivered entry,
// as nats-server does, and still returns false.
func (c *Consumer) Ack(sseq, dseq uint64) bool {
	before := c.position()
	defer c.check(before)
	switch {
	case !c.acks() || sseq == 0 || sseq > c.delivered.Stream:
		return false
	case c.cfg.AckPolicy == jsapi.AckAll:
		return c.ackThrough(sseq)
	}
	if c.pending[sseq] == nil {
		delete(c.redelivered, sseq)
		return false
	}
	c.remove(sseq)
	c.noteRemoved()
	c.refloor()
	return true
}

// ackThrough acknowledges every pending message at or below sseq (ack policy all).
func (c *Consumer) ackThrough(sseq uint64) bool {
	acked := false
	for len(c.order) > 0 && c.order[0] <= sseq {
		if c.pending[c.order[0]] != nil {
			c.remove(c.order[0])
			acked = true
		}
		c.order = c.order[1:]
	}
	for s := range c.redelivered {
		if s <= sseq { // given-up messages below the ack are acknowledged too
			delete(c.redelivered, s)
		}
	}
	c.noteRemoved()
	c.refloor()
	return acked
}

// Term stops redelivery of sseq and counts it as acknowledged. nats-server handles a +TERM
// as an ack under the consumer's policy (with ack policy all it acknowledges everything at
// or below it), and so does this.
func (c *Consumer) Term(sseq uint64) bool {
	return c.Ack(sseq, 0)
}

// Nak makes a pending message due for redelivery: after delay when positive, else at once.
// With a delay the wait is stored as nats-server stores it, Time = now - ack_wait + delay,
// so the message falls due at Time plus its ack wait: now+delay without backoff; with
// backoff nats-server's rule gives now + delay + backoff[count-1] - backoff[0], and so does
// this. It returns false when sseq is not pending.
func (c *Consumer) Nak(sseq uint64, now int64, delay time.Duration) bool {
	e := c.pending[sseq]
	if e == nil {
		return false
	}
	before := c.position()
	if delay > 0 {
		e.time, e.immediate = now-int64(c.cfg.AckWait)+int64(delay), false
		c.setDeadline(sseq, e, e.time+int64(c.wait(c.count(sseq))))
	} else {
		e.immediate = true
		c.setDeadline(sseq, e, now)
	}
	c.check(before)
	return true
}

// Progress (+WPI) restarts a pending message's ack wait at now. It returns false when sseq
// is not pending.
func (c *Consumer) Progress(sseq uint64, now int64) bool {
	e := c.pending[sseq]
	if e == nil {
		return false
	}
	before := c.position()
	e.time, e.immediate = now, false
	c.setDeadline(sseq, e, now+int64(c.wait(c.count(sseq))))
	c.check(before)
	return true
}

// GiveUp stops waiting for an ack of a pending message delivered max_deliver times (the
// actor calls it when Due returns such a message, and sends the max-deliveries advisory).
// nats-server gives up at the first delivery opportunity after the deadline (a pull request
// or a push delivery; at the deadline itself for max_deliver 1), and until then an ack still
// acknowledges the message: when to call it is the actor's choice. The message leaves the
// pending set (num_ack_pending), the ack floor may pass it, and it keeps a redelivered entry
// of max_deliver (num_redelivered) until acknowledged or gone from the stream. It returns
// false when sseq is not pending or has not reached max_deliver.
func (c *Consumer) GiveUp(sseq uint64) bool {
	if c.pending[sseq] == nil || !c.MaxDelivered(sseq) {
		return false
	}
	before := c.position()
	c.remove(sseq)
	c.noteRemoved()
	c.redelivered[sseq] = uint64(c.cfg.MaxDeliver)
	c.refloor()
	c.check(before)
	return true
}

// Skip records that the stream no longer holds sseq (purged, expired, deleted): a pending
// message stops being pending and forgets its redeliveries, and the ack floor may pass it.
func (c *Consumer) Skip(sseq uint64) {
	before := c.position()
	if c.pending[sseq] != nil {
		c.remove(sseq)
		c.noteRemoved()
		c.refloor()
	}
	delete(c.redelivered, sseq)
	c.check(before)
}

// SkipBelow records that the stream's first seq is now first (a purge): everything below it
// is skipped, and when that passes Delivered, Delivered.Stream (and with nothing pending
// the floor) moves to first-1, as nats-server moves its next-to-deliver position.
func (c *Consumer) SkipBelow(first uint64) {
	before := c.position()
	for len(c.order) > 0 && c.order[0] < first {
		if c.pending[c.order[0]] != nil {
			c.remove(c.order[0])
		}
		c.order = c.order[1:]
	}
	for s := range c.redelivered {
		if s < first {
			delete(c.redelivered, s)
		}
	}
	if first > 0 && first-1 > c.delivered.Stream {
		c.delivered.Stream = first - 1
	}
	c.noteRemoved()
	c.refloor()
	c.check(before)
}

// SetStart sets the first stream seq to deliver, before any delivery (the actor resolves the
// deliver policy): Delivered.Stream and the floor become first-1.
func (c *Consumer) SetStart(first uint64) {
	env.Assertf(first > 0, "consumer: start at stream seq 0")
	env.Assertf(c.delivered.Consumer == 0 && len(c.pending) == 0,
		"consumer: start set after %d deliveries", c.delivered.Consumer)
	c.delivered.Stream = first - 1
	c.floor = c.delivered
	c.check(c.position())
}

// remove drops a pending message and its redelivery count; its timer goes stale.
func (c *Consumer) remove(sseq uint64) {
	delete(c.pending, sseq)
	delete(c.redelivered, sseq)
}

// refloor sets the ack floor from the pending set: just below the lowest pending message,
// or Delivered when nothing is pending (a gap of messages not for this consumer does not
// hold it back).
func (c *Consumer) refloor() {
	if sseq, ok := c.lowest(); ok {
		c.floor = SeqPair{Consumer: c.pending[sseq].consumer - 1, Stream: sseq - 1}
		return
	}
	c.floor = c.delivered
}

// Due returns the pending message whose deadline (ack wait, backoff or -NAK delay) passed
// earliest, ties by lowest stream seq. It stays due until delivered again, acknowledged or
// given up. When MaxDelivered reports true for it the actor must not redeliver it but call
// GiveUp.
func (c *Consumer) Due(now int64) (sseq uint64, ok bool) {
	t, ok := c.earliest()
	if !ok || t.deadline > now {
		return 0, false
	}
	return t.sseq, true
}

// NextDeadline returns the earliest deadline of a pending message (perhaps already past), to
// arm a timer; false when nothing is pending.
func (c *Consumer) NextDeadline() (int64, bool) {
	t, ok := c.earliest()
	return t.deadline, ok
}

// MaxDelivered reports whether sseq has been delivered max_deliver times (never, with
// max_deliver unlimited): a pending one must not be redelivered, a given-up one is done.
func (c *Consumer) MaxDelivered(sseq uint64) bool {
	if c.cfg.MaxDeliver <= 0 {
		return false
	}
	n := c.redelivered[sseq]
	if c.pending[sseq] != nil {
		n++
	}
	return n >= uint64(c.cfg.MaxDeliver)
}

// CanDeliver reports whether a new message may go out: acknowledgements pending are below
// max_ack_pending (unlimited when not positive). Redeliveries do not wait for it
// (nats-server sends them before checking the limit).
func (c *Consumer) CanDeliver() bool {
	return !c.acks() || c.cfg.MaxAckPending <= 0 || len(c.pending) < c.cfg.MaxAckPending
}

// Acked reports whether the consumer is done with stream seq sseq: at or below the ack
// floor, or delivered and no longer pending (acknowledged, terminated, given up). A sequence
// the consumer's filter leaves out counts as done too once it is passed; the caller decides
// whether the consumer is interested in the message at all.
func (c *Consumer) Acked(sseq uint64) bool {
	return sseq <= c.floor.Stream || (sseq <= c.delivered.Stream && c.pending[sseq] == nil)
}

// PendingSince is when sseq's ack wait started counting (its last delivery, +WPI or NAK
// shift), if it is pending: for the ack metric's ack_time.
func (c *Consumer) PendingSince(sseq uint64) (int64, bool) {
	if e := c.pending[sseq]; e != nil {
		return e.time, true
	}
	return 0, false
}

// NumAckPending is CONSUMER.INFO's num_ack_pending.
func (c *Consumer) NumAckPending() int { return len(c.pending) }

// NumRedelivered is CONSUMER.INFO's num_redelivered: the redelivered entries, except that
// with max_deliver 1 nats-server reports 0 (nothing is ever redelivered; the entries of
// given-up messages are still kept in the state).
func (c *Consumer) NumRedelivered() int {
	if c.cfg.MaxDeliver == 1 {
		return 0
	}
	return len(c.redelivered)
}

// Delivered returns the delivered position (State().Delivered without the copy).
func (c *Consumer) Delivered() SeqPair { return c.delivered }

// AckFloor returns the ack floor (State().AckFloor without the copy).
func (c *Consumer) AckFloor() SeqPair { return c.floor }

// State returns a deep copy of the state: nothing in it aliases the consumer's maps.
func (c *Consumer) State() State {
	st := State{Delivered: c.delivered, AckFloor: c.floor}
	if len(c.pending) > 0 {
		st.Pending = make(map[uint64]Pending, len(c.pending))
		for sseq, e := range c.pending {
			st.Pending[sseq] = Pending{Consumer: e.consumer, Time: e.time}
		}
	}
	if len(c.redelivered) > 0 {
		st.Redelivered = make(map[uint64]uint64, len(c.redelivered))
		for sseq, n := range c.redelivered {
			st.Redelivered[sseq] = n
		}
	}
	return st
}
