package stream

import (
	"strconv"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/core/proto"
)

// Atomic batch publish (ADR-50, allow_atomic): messages carrying Nats-Batch-Id and
// Nats-Batch-Sequence (1, 2, ...) are staged, each answered with an empty reply; the one
// with Nats-Batch-Commit ("1": it belongs to the batch; "eob": it only ends it) makes the
// stream check every staged message against the rules as if the earlier ones were stored,
// then store them all, or none. The commit's PubAck carries the last sequence, the batch id
// and the count. A gap, a repeat, a batch idle for batchIdleMax or larger than batchMsgsMax
// is abandoned.
//
// Crash atomicity: the batch's messages are stored in one turn of the store's executor and
// acknowledged after the fsync covering all of them; a crash before that fsync may keep a
// prefix of an unacknowledged batch (see DESIGN.md, JetStream, "Not yet").

const (
	hdrBatchID     = "Nats-Batch-Id"
	hdrBatchSeq    = "Nats-Batch-Sequence"
	hdrBatchCommit = "Nats-Batch-Commit"
	hdrBatchPrefix = "Nats-Batch-"
	batchIDMax     = 64
	batchMsgsMax   = 1000
	batchesMax     = 50              // batches in flight per stream
	batchIdleMax   = int64(10 * 1e9) // ns without a message before a batch is abandoned
)

// batch is a staged atomic batch.
type batch struct {
	msgs []Msg
	last int64 // time of its last message
}

// Staged is the answer to a batch message that was staged: an empty reply, no PubAck.
func (r Result) Staged() bool { return r.staged }

// applyBatch takes one message of an atomic batch.
func (s *Stream) applyBatch(m Msg, id string, done func(Result)) {
	s.expireBatches(m.Time)
	seq, hasSeq := headerSeq(m.Header, hdrBatchSeq)
	commit := proto.HeaderValue(m.Header, hdrBatchCommit)
	refuse := func(code jsapi.ErrCode, args ...string) {
		delete(s.batches, id)
		done(Result{Ack: jsapi.PubAck{Stream: s.cfg.Name}, Err: jsapi.NewError(code, args...)})
	}
	b := s.batches[id]
	switch {
	case !s.cfg.AllowAtomicPublish:
		refuse(jsapi.ErrAtomicPublishDisabled)
	case len(id) > batchIDMax:
		refuse(jsapi.ErrAtomicPublishInvalidBatchID)
	case !hasSeq:
		refuse(jsapi.ErrAtomicPublishMissingSeq)
	case proto.HasHeader(m.Header, hdrBatchCommit) && commit != "1" && commit != "eob":
		refuse(jsapi.ErrAtomicPublishInvalidBatchCommit)
	case b == nil && seq != 1:
		if seq > batchMsgsMax {
			refuse(jsapi.ErrAtomicPublishTooLargeBatch, strconv.Itoa(batchMsgsMax))
		} else {
			refuse(jsapi.ErrAtomicPublishIncompleteBatch)
		}
	case b == nil && len(s.batches) >= batchesMax:
		done(Result{Ack: jsapi.PubAck{Stream: s.cfg.Name}, Err: jsapi.E(jsapi.ErrAtomicPublishTooManyInflight)})
	case b != nil && seq != uint64(len(b.msgs))+1, seq == 1 && commit == "eob":
		refuse(jsapi.ErrAtomicPublishIncompleteBatch)
	case seq > batchMsgsMax:
		refuse(jsapi.ErrAtomicPublishTooLargeBatch, strconv.Itoa(batchMsgsMax))
	default:
		s.stage(m, id, commit, done)
	}
}

// stage keeps a batch message; a commit checks and stores the batch.
func (s *Stream) stage(m Msg, id, commit string, done func(Result)) {
	b := s.batches[id]
	if b == nil {
		b = &batch{}
		s.batches[id] = b
	}
	b.last = m.Time
	if commit != "eob" {
		m.Header = proto.RemoveHeaders(m.Header, hdrBatchPrefix)
		b.msgs = append(b.msgs, m)
	}
	if commit == "" {
		done(Result{staged: true})
		return
	}
	delete(s.batches, id)
	if e := s.checkBatch(b.msgs); e != nil {
		done(Result{Ack: jsapi.PubAck{Stream: s.cfg.Name}, Err: e})
		return
	}
	s.storeBatch(id, b.msgs, done)
}

// checkBatch holds every message to the rules as if those before it were stored.
func (s *Stream) checkBatch(msgs []Msg) *jsapi.Error {
	ids := map[string]bool{}
	for i := range msgs {
		m := &msgs[i]
		if proto.HasHeader(m.Header, hdrExpectedLastMsgID) {
			return jsapi.NewError(jsapi.ErrAtomicPublishUnsupportedHeaderBatch, hdrExpectedLastMsgID)
		}
		if id := proto.HeaderValue(m.Header, hdrMsgID); id != "" {
			if ids[id] || (s.cfg.Duplicates > 0 && s.dedup.byID[id] != nil) {
				return jsapi.E(jsapi.ErrAtomicPublishContainsDuplicateMessage)
			}
			ids[id] = true
		}
		if r, refused := s.checkIn(view{s: s, staged: msgs[:i]}, m); refused {
			return r.Err
		}
	}
	return nil
}

// storeBatch stores a checked batch in one turn and answers once all of it is durable.
func (s *Stream) storeBatch(id string, msgs []Msg, done func(Result)) {
	left := len(msgs)
	var failed *jsapi.Error
	var last uint64
	for _, m := range msgs {
		s.store1(m, proto.HeaderValue(m.Header, hdrMsgID), func(r Result) {
			if r.Err != nil && failed == nil {
				failed = r.Err
			}
			last = max(last, r.Ack.Sequence)
			if left--; left > 0 {
				return
			}
			if failed != nil {
				done(Result{Ack: jsapi.PubAck{Stream: s.cfg.Name}, Err: failed})
				return
			}
			done(Result{Ack: jsapi.PubAck{Stream: s.cfg.Name, Sequence: last, BatchID: id, BatchSize: uint64(len(msgs))}})
		})
	}
	env.Assertf(len(msgs) > 0, "stream %s: empty batch %q committed", s.cfg.Name, id)
}

// expireBatches abandons batches idle for batchIdleMax.
func (s *Stream) expireBatches(now int64) {
	for id, b := range s.batches {
		if now-b.last > batchIdleMax {
			delete(s.batches, id)
		}
	}
}
