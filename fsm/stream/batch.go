package stream

import (
	"strconv"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/core/proto"
	"github.com/petrel-io/petrel/filestore"
)

// Atomic batch publish (ADR-50, allow_atomic): messages carrying Nats-Batch-Id and
// Nats-Batch-Sequence (1, 2, ...) are staged, each answered with an empty reply; the one
// with Nats-Batch-Commit ("1": it belongs to the batch; "eob": it only ends it) makes the
// stream check every staged message against the rules as if the earlier ones were stored,
// then store them all, or none. The commit's PubAck carries the last sequence, the batch id
// and the count. A gap, a repeat, a batch idle for batchIdleMax or larger than batchMsgsMax
// is abandoned.
//
// The stored messages keep Nats-Batch-Id and Nats-Batch-Sequence, and the last one carries
// Nats-Batch-Commit: 1 (added when "eob" committed), as in nats-server.
//
// Crash atomicity: the batch goes to the store as one unit (filestore.StoreBatch), checked
// whole against the store's limits before anything is stored, and recovery keeps all of it
// or none of it; it is acknowledged once all of it is durable.

const (
	hdrBatchID     = "Nats-Batch-Id"
	hdrBatchSeq    = "Nats-Batch-Sequence"
	hdrBatchCommit = "Nats-Batch-Commit"
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
		b.msgs = append(b.msgs, m) // its Nats-Batch-* headers are stored, as nats-server does
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

// storeBatch stores a checked batch as one unit (filestore.StoreBatch: no crash keeps a part
// of it) and answers once all of it, and what its rollups purge, is durable.
func (s *Stream) storeBatch(id string, msgs []Msg, done func(Result)) {
	env.Assertf(len(msgs) > 0, "stream %s: empty batch %q committed", s.cfg.Name, id)
	refuse := func(e *jsapi.Error) { done(Result{Ack: jsapi.PubAck{Stream: s.cfg.Name}, Err: e}) }
	before := uint64(s.store.State().LastSeq)
	items, stored, purges, e := s.prepareBatch(msgs, before+1)
	if e != nil {
		refuse(e)
		return
	}
	var entries []*dedupEntry
	s.store.StoreBatch(items, func(first env.Seq, err error) {
		last := first + env.Seq(len(msgs)) - 1
		s.stored(last, err)
		r := s.result(uint64(last), err)
		finish := func(_ env.Seq, err error) {
			if err != nil {
				r = s.result(0, err)
			}
			if r.Err == nil {
				r.Ack.BatchID, r.Ack.BatchSize, r.Batch = id, uint64(len(msgs)), stored
			}
			done(r)
			for _, entry := range entries {
				s.dedup.settle(entry, r)
			}
		}
		if err != nil || len(purges) == 0 {
			finish(0, err)
			return
		}
		// The purges follow the batch's durability: logged beside it, a crash could keep
		// a purge and lose the batch (not committed yet) that caused it.
		s.purgeAfter(purges, env.Seq(r.Ack.Sequence), finish)
	})
	after := uint64(s.store.State().LastSeq)
	env.Assertf(after <= before+uint64(len(msgs)), "stream %s: a batch of %d moved the last sequence from %d to %d",
		s.cfg.Name, len(msgs), before, after)
	if after != before+uint64(len(msgs)) {
		// Refused as a whole, or a write broke the store partway (no batch record will
		// follow, so recovery drops the part): the store's done carries the error.
		return
	}
	for i, m := range msgs {
		msgID := proto.HeaderValue(m.Header, hdrMsgID)
		s.lastMsgID = msgID
		if msgID != "" && s.cfg.Duplicates > 0 {
			entries = append(entries, s.dedup.add(msgID, stored[i].Seq, m.Time, false))
		}
		if m.schedule {
			s.noteSchedule(m, stored[i].Seq)
		}
	}
}

// Stored is one message of a committed batch as stored: for what the stream does after
// storing (republish, interest retention).
type Stored struct {
	Msg Msg
	Seq uint64
	// Last is the sequence of the last message on its subject before it (0: none).
	Last uint64
}

// prepareBatch turns checked messages, to be stored from sequence first, into what the store
// takes: counters summed (each increment on the total the earlier ones left), the
// expectation headers stripped, the message carrying the commit marked as such; and the
// purges their rollups ask for, bounded by their own sequences.
func (s *Stream) prepareBatch(msgs []Msg, first uint64) ([]filestore.BatchMsg, []Stored, []filestore.PurgeOpts, *jsapi.Error) {
	items := make([]filestore.BatchMsg, len(msgs))
	stored := make([]Stored, len(msgs))
	var purges []filestore.PurgeOpts
	totals := map[string]string{} // counter values the batch has reached so far
	for i := range msgs {
		m := msgs[i]
		seq := first + uint64(i)
		last, _ := view{s: s, staged: msgs[:i]}.lastOf(m.Subject)
		if s.cfg.AllowMsgCounter {
			body, v, e := s.countFrom(m.Subject, m.Header, totals)
			if e != nil {
				return nil, nil, nil, e
			}
			m.Data, totals[m.Subject] = body, v
		}
		rollup := proto.HeaderValue(m.Header, hdrRollup)
		if m.schedule && rollup == "" {
			rollup = rollupSubject
		}
		switch rollup {
		case rollupSubject:
			purges = append(purges, filestore.PurgeOpts{Subject: m.Subject, Seq: env.Seq(seq)})
		case rollupAll:
			purges = append(purges, filestore.PurgeOpts{Seq: env.Seq(seq)})
		}
		if proto.HeaderValue(m.Header, hdrScheduleNext) == scheduleNextPurge {
			purges = append(purges, filestore.PurgeOpts{Subject: proto.HeaderValue(m.Header, hdrScheduler)})
		}
		m.Header = proto.RemoveHeaders(m.Header, hdrExpectedPrefix)
		if i == len(msgs)-1 && proto.HeaderValue(m.Header, hdrBatchCommit) != "1" {
			m.Header = proto.AppendHeader(m.Header, hdrBatchCommit, "1") // committed by "eob"
		}
		items[i] = filestore.BatchMsg{Subject: m.Subject, Header: m.Header, Data: m.Data, Time: m.Time, TTL: s.ttlOf(m.Header)}
		stored[i] = Stored{Msg: m, Seq: seq, Last: last}
	}
	return items, stored, purges, nil
}

// expireBatches abandons batches idle for batchIdleMax.
func (s *Stream) expireBatches(now int64) {
	for id, b := range s.batches {
		if now-b.last > batchIdleMax {
			delete(s.batches, id)
		}
	}
}
