package consumer

import (
	"fmt"
	"maps"
	"slices"
)

// State is what survives a restart: what Encode writes and Decode reads, and what a
// replicated consumer's snapshot carries. Deadlines are not part of it: after a restart a
// pending message is due at Time plus its ack wait (or backoff), as in nats-server.
//
// Invariants (validate):
//   - AckFloor <= Delivered, both halves;
//   - every pending stream seq is in (AckFloor.Stream, Delivered.Stream] and its consumer seq
//     in (AckFloor.Consumer, Delivered.Consumer]; consumer seqs rise with stream seqs (first
//     deliveries go out in stream order);
//   - the floor is derived: Delivered when nothing is pending, else just below the lowest
//     pending message (its consumer seq minus one, its stream seq minus one);
//   - every redelivered stream seq is in [1, Delivered.Stream] with a count of at least 1.
type State struct {
	// Delivered is the highest consumer seq handed out and the highest stream seq delivered
	// (or skipped over by a purge or the start position).
	Delivered SeqPair
	// AckFloor: everything at or below is acknowledged, terminated, skipped or given up.
	AckFloor SeqPair
	// Pending maps a stream seq to its outstanding delivery (ack policies explicit and all).
	Pending map[uint64]Pending
	// Redelivered maps a stream seq to its deliveries beyond the first. A message given up
	// after max_deliver deliveries keeps an entry (of max_deliver) until it is acknowledged
	// or leaves the stream, as nats-server keeps it (num_redelivered counts it).
	Redelivered map[uint64]uint64
}

// SeqPair is a position in both sequences: the consumer's (one per delivery) and the
// stream's.
type SeqPair struct{ Consumer, Stream uint64 }

// Pending is an outstanding delivery.
type Pending struct {
	// Consumer is the consumer seq of the message's first delivery. nats-server keeps the
	// original (a redelivery does not change it), and the ack floor's consumer half comes from
	// it, which keeps the floor from moving backwards when a later message was redelivered.
	Consumer uint64
	// Time (Unix ns) is when the ack wait counts from: the last delivery or +WPI, or for a
	// -NAK with a delay the moment that makes the wait end after the delay (now - ack_wait +
	// delay, as nats-server stores it, so the delay survives a restart).
	Time int64
}

// Clone returns a deep copy: no map of the result aliases one of s.
func (s State) Clone() State {
	out := State{Delivered: s.Delivered, AckFloor: s.AckFloor}
	if len(s.Pending) > 0 {
		out.Pending = maps.Clone(s.Pending)
	}
	if len(s.Redelivered) > 0 {
		out.Redelivered = maps.Clone(s.Redelivered)
	}
	return out
}

// Equal reports whether two states hold the same values (a nil map equals an empty one).
func (s State) Equal(o State) bool {
	return s.Delivered == o.Delivered && s.AckFloor == o.AckFloor &&
		maps.Equal(s.Pending, o.Pending) && maps.Equal(s.Redelivered, o.Redelivered)
}

// pendingSeqs returns the pending stream seqs in ascending order.
func (s State) pendingSeqs() []uint64 {
	return slices.Sorted(maps.Keys(s.Pending))
}

// derivedFloor is the ack floor the pending set implies (see State).
func derivedFloor(delivered SeqPair, lowest uint64, p Pending, any bool) SeqPair {
	if !any {
		return delivered
	}
	return SeqPair{Consumer: p.Consumer - 1, Stream: lowest - 1}
}

// validate checks State's invariants; Decode rejects a state that breaks one, and New
// asserts them.
func (s State) validate() error {
	d, f := s.Delivered, s.AckFloor
	if f.Stream > d.Stream || f.Consumer > d.Consumer {
		return fmt.Errorf("ack floor %+v above delivered %+v", f, d)
	}
	seqs := s.pendingSeqs()
	var prev uint64
	for _, sseq := range seqs {
		p := s.Pending[sseq]
		if sseq <= f.Stream || sseq > d.Stream || p.Consumer <= f.Consumer || p.Consumer > d.Consumer {
			return fmt.Errorf("pending %d (consumer seq %d) outside floor %+v and delivered %+v", sseq, p.Consumer, f, d)
		}
		if p.Consumer <= prev {
			return fmt.Errorf("pending %d has consumer seq %d, not above the previous %d", sseq, p.Consumer, prev)
		}
		prev = p.Consumer
	}
	var want SeqPair
	if len(seqs) == 0 {
		want = derivedFloor(d, 0, Pending{}, false)
	} else {
		want = derivedFloor(d, seqs[0], s.Pending[seqs[0]], true)
	}
	if f != want {
		return fmt.Errorf("ack floor %+v, want %+v from delivered and pending", f, want)
	}
	for _, sseq := range slices.Sorted(maps.Keys(s.Redelivered)) {
		if n := s.Redelivered[sseq]; sseq == 0 || sseq > d.Stream || n == 0 {
			return fmt.Errorf("redelivered %d (count %d) outside [1, %d]", sseq, n, d.Stream)
		}
	}
	return nil
}
