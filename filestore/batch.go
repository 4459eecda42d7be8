package filestore

import (
	"errors"
	"fmt"
	"sort"

	"github.com/petrel-io/petrel/core/env"
)

// Atomic batches (StoreBatch): a batch's messages are appended back to back, each record
// flagged flagBatch, and committed by a batch record (kind 6, naming the first and last
// sequence) that is appended only once a sync covering every member has returned. Recovery
// keeps a flagged message only if a batch record naming it follows it in the log; the
// members of a batch with no record are removed (and the removal logged). So:
//
//   - a crash before the members' sync may persist any subset of their sectors: no record
//     exists yet, so none of them is kept;
//   - once the record exists, every member was durable before it was written, so a member
//     missing later is bit rot, which costs that record only, as everywhere else;
//   - the batch is acknowledged only after a second sync, covering the record.
//
// Why not one record holding the whole batch: reads, erasure, deletion and the index all
// address messages by record; a batch record would need a second way to address each. Why
// not a checksum over the batch checked at recovery: a member that rots after the batch was
// acknowledged would then cost the whole batch, and recovery cannot tell rot from a torn
// write in a block that may hold unsynced bytes.
//
// Evictions a batch's members cause are logged only after the sync covering the batch
// record (one sync later than a single message's): logged beside the record, a power loss
// could keep the eviction and lose the record, and with it the cause.
//
// Under SyncEvery the members are synced at once when their batch is written (an fsync per
// batch), then the record is written unsynced: a power loss may lose the acknowledged batch
// (as SyncEvery loses acknowledged writes), never keep a part of it.

// batchMark is a batch whose members are appended; recorded once its batch record is.
type batchMark struct {
	first, last uint64
	recorded    bool
}

// probeBatchDropped: recovery removed the members of a batch that had no batch record.
const probeBatchDropped = "filestore.recover.batch-dropped"

var errEmptyBatch = errors.New("filestore: empty batch")

// StoreBatch implements Store.
func (s *store) StoreBatch(msgs []BatchMsg, done func(env.Seq, error)) {
	assertf(done != nil, "filestore: StoreBatch with nil done")
	first, mark, err := s.storeBatch(msgs)
	if err != nil {
		s.enqueue(func(error) { done(0, err) })
		return
	}
	s.enqueue(func(commitErr error) {
		switch {
		case commitErr != nil:
			done(0, commitErr)
		case !mark.recorded:
			done(0, ErrBatchNotDurable) // Close came between the members' sync and the record
		default:
			done(env.Seq(first), nil)
		}
	})
}

// storeBatch checks the whole batch, then appends and indexes it.
func (s *store) storeBatch(msgs []BatchMsg) (uint64, *batchMark, error) {
	if err := s.usable(); err != nil {
		return 0, nil, err
	}
	if len(msgs) == 0 {
		return 0, nil, errEmptyBatch
	}
	if err := s.checkBatch(msgs); err != nil {
		return 0, nil, err
	}
	first := s.last + 1
	for i, m := range msgs {
		err := s.put(first+uint64(i), m.Subject, m.Header, m.Data, StoreOpts{Time: m.Time, TTL: m.TTL}, entryBatch)
		if err != nil {
			return 0, nil, err // the store broke: no batch record will follow the members
		}
	}
	mark := &batchMark{first: first, last: first + uint64(len(msgs)) - 1}
	s.b.endBatch(mark)
	return first, mark, nil
}

// checkBatch holds every message to checkMsg and the whole batch to the limits a store
// refuses a message for, as if the earlier members were stored.
func (s *store) checkBatch(msgs []BatchMsg) error {
	l := &s.cfg.Limits
	var total uint64
	perSubject := map[string]uint64{}
	for i, m := range msgs {
		size, err := checkMsg(m.Subject, m.Header, m.Data)
		if err != nil {
			return fmt.Errorf("batch message %d: %w", i+1, err)
		}
		if l.MaxBytes > 0 && size > l.MaxBytes {
			return fmt.Errorf("%w: message of %d bytes exceeds the limit of %d", ErrMaxBytes, size, l.MaxBytes)
		}
		total += size
		perSubject[m.Subject]++
		if l.Discard == DiscardNew && l.DiscardNewPerSubject && l.MaxMsgsPerSubject > 0 {
			held := uint64(0)
			if ss := s.subjects.find(m.Subject); ss != nil {
				held = uint64(ss.seqs.len())
			}
			if held+perSubject[m.Subject] > l.MaxMsgsPerSubject {
				return ErrMaxMsgsPerSubj
			}
		}
	}
	if l.Discard != DiscardNew {
		return nil
	}
	if l.MaxMsgs > 0 && uint64(s.msgs.len())+uint64(len(msgs)) > l.MaxMsgs {
		return ErrMaxMsgs
	}
	if l.MaxBytes > 0 && s.bytes+total > l.MaxBytes {
		return ErrMaxBytes
	}
	return nil
}

// endBatch queues the batch's record for after the sync that covers its members
// (cutSync hands it to that sync, jobDone appends it).
func (b *fileBackend) endBatch(m *batchMark) {
	b.batches = append(b.batches, m)
}

// memory: nothing survives a crash, so the batch is whole as soon as it is appended.
func (m *memBackend) endBatch(mark *batchMark) { mark.recorded = true }
func (m *memBackend) abandonBatches()          {}

// recordBatches appends the batch records of the batches job made durable. A failed
// append breaks the store: the batches stay unrecorded and their completions get the error.
func (b *fileBackend) recordBatches(job *syncJob) {
	for _, m := range job.batches {
		if err := b.appendMeta(kindBatch, m.last, 0, encodeBatchBody(m.first, m.last)); err != nil {
			b.st.fail(fmt.Errorf("append the record of batch %d..%d: %w", m.first, m.last, err))
			return
		}
		m.recorded = true
	}
}

// abandonBatches forgets the batches not yet handed to a sync: Close ran with a sync in
// flight, so nothing may be written once that sync returns, and their records never will be.
func (b *fileBackend) abandonBatches() { b.batches = nil }

// syncBatchesNow (SyncEvery) syncs the members of the batches just written and appends their
// records, so a power loss cannot keep a part of a batch.
func (b *fileBackend) syncBatchesNow() error {
	if len(b.batches) == 0 {
		return nil
	}
	b.syncAll()
	return b.writeAll()
}

// replayBatchMember notes, during recovery, whether the message just replayed at seq is a
// batch member waiting for its record (a message without the flag at a sequence a member
// held replaces it: a lost Truncate marker, see replayMsg).
func (b *fileBackend) replayBatchMember(seq uint64, flags uint8) {
	if flags&flagBatch == 0 {
		delete(b.uncommitted, seq)
		return
	}
	if b.uncommitted == nil {
		b.uncommitted = map[uint64]struct{}{}
	}
	b.uncommitted[seq] = struct{}{}
}

// replayBatch commits, during recovery, the members before it of the batch a record names.
func (b *fileBackend) replayBatch(first, last uint64) {
	for seq := range b.uncommitted {
		if seq >= first && seq <= last {
			delete(b.uncommitted, seq)
		}
	}
}

// dropUncommitted removes, at the end of replay, the members of batches whose record never
// made it to disk, and logs the removal, so no later recovery depends on the record's absence.
func (b *fileBackend) dropUncommitted() {
	var seqs []uint64
	for seq := range b.uncommitted {
		if b.st.msgs.get(seq) != nil {
			seqs = append(seqs, seq)
		}
	}
	b.uncommitted = nil
	if len(seqs) == 0 {
		return
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	b.e.Probe.Hit(probeBatchDropped)
	b.e.Log.Logf(env.LevelWarn, "filestore %s: %d messages of an uncommitted atomic batch dropped (seq %d..%d)",
		b.dir, len(seqs), seqs[0], seqs[len(seqs)-1])
	for _, seq := range seqs {
		b.st.removeMsg(seq, logged)
	}
	if b.recovery != nil {
		b.recovery.Uncommitted = append(b.recovery.Uncommitted, seqs...)
	}
}
