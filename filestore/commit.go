package filestore

import (
	"fmt"

	"github.com/petrel-io/petrel/core/env"
)

// Group commit, pipelined.
//
// A mutation changes the index and appends its records at once, and queues its completion
// (waiting). A commit, posted to the store's executor, ends the batch: it writes the records
// and, under SyncAlways in the file store, hands one sync covering them to a second executor
// (the sync executor, which does nothing else). When that sync returns nil the result is
// posted back, and only then do the batch's completions run. While the sync is in flight the
// store keeps taking mutations and writing their records; the next sync starts as soon as the
// previous one returned, covering everything written meanwhile. So the fsync of one batch
// overlaps the gathering, encoding and writing of the next, instead of alternating with it.
//
// Why this is safe: a sync covers every write that returned before it was called (the env
// contract), and a batch's records are written before its sync is posted, so a completion
// runs only after a sync covering its mutation returned nil. At most one sync is in flight,
// so no two syncs of one file overlap (the contract forbids it: they could split one
// write-back error). A failed sync halts the node, so the completions waiting on it never
// run. Completions run in call order: while a sync is in flight nothing else completes, and
// when it returns its batch completes before anything queued after it. A file is closed or
// removed only on the store's executor with no sync in flight, and a dead block is removed
// only after a sync cut after its last deletion was written (syncJob.deadThrough).

// syncJob is one sync for the sync executor: the block files written since their last sync
// and, when a block file was created or removed, the store's directory. It is built on the
// store's executor and only read on the sync executor, which touches nothing else of the
// store's.
type syncJob struct {
	fsys    env.FS
	dir     string
	files   []env.File
	ids     []uint32 // the files' block ids, for errors
	syncDir bool
	// deadThrough: blocks up to this id were dead when the job was cut, so the records that
	// killed them are covered by it; they may be removed once it returned.
	deadThrough uint32
	// sealedThrough: blocks up to this id were no longer appended to when the job was cut,
	// so once it returns they are durable in full (fileBackend.durableThrough).
	sealedThrough uint32
	// evictions: deletions by limits whose causes this job makes durable; logged after it.
	evictions []uint64
	// batches: atomic batches whose members this job makes durable; their records are
	// appended after it, and their completions wait for the job that covers those.
	batches []*batchMark
}

// run syncs the job's files, then the directory. A failed sync halts the node: the kernel may
// have dropped the pages it could not write, so no later sync can make them durable, and the
// completions waiting on them must never run.
func (j *syncJob) run() {
	for i, f := range j.files {
		if err := f.Sync(); err != nil {
			env.Halt(fmt.Errorf("filestore %s: sync block %d: %w", j.dir, j.ids[i], err))
		}
	}
	if j.syncDir {
		if err := j.fsys.SyncDir(j.dir); err != nil {
			env.Halt(fmt.Errorf("filestore %s: sync directory: %w", j.dir, err))
		}
	}
}

// enqueue registers a completion for the next commit (done may be nil).
func (s *store) enqueue(done func(error)) {
	if done != nil {
		s.waiting = append(s.waiting, done)
	}
	s.mutations++
	if s.gatherTimer != nil && len(s.waiting) >= s.lastBatch {
		s.gatherDone() // the group is whole: no need to wait out the timer
		return
	}
	s.postCommit()
}

// Err implements Store.
func (s *store) Err() error { return s.usable() }

// Flush implements Store. With no completion waiting, no commit posted and no sync in
// flight, every earlier mutation's completion has run; else done waits in line behind them.
func (s *store) Flush(done func(error)) {
	if err := s.usable(); err != nil {
		done(err)
		return
	}
	if !s.commitPosted && !s.syncing && len(s.waiting) == 0 && s.gatherTimer == nil {
		done(nil)
		return
	}
	s.waiting = append(s.waiting, done)
	s.postCommit()
}

// gatherDone ends a commit's wait for the rest of its group.
func (s *store) gatherDone() {
	if s.gatherTimer == nil {
		return
	}
	s.gatherTimer.Stop()
	s.gatherTimer = nil
	s.gathered = true
	s.ex.Post(s.runCommit)
}

func (s *store) postCommit() {
	if !s.commitPosted {
		s.commitPosted = true
		s.commitSeen, s.commitHops = s.mutations, 0
		s.ex.Post(s.runCommit)
	}
}

// runCommit ends a batch, unless a sync is in flight: then it only writes what is ready, and
// the batch ends when that sync returns (syncDone).
//
// With no sync in flight, the commit yields while mutations keep arriving behind it: it
// posts itself again, behind them, up to commitYieldMax times, so writers woken together by
// the previous batch's completions regroup into one batch. A lone writer never waits:
// nothing arrives behind its commit. When the pacer runs grouped, a commit with fewer
// completions than the previous round also waits, once, up to commitGatherWait of the Clock
// for the rest of that round (a woken writer needs a scheduler turn before it can post
// again); it goes as soon as the round is whole, and a round of one never waits. When it
// runs pipelined, the commit goes once half the round is back (halfRoundBack).
func (s *store) runCommit() {
	if s.syncing {
		s.commitPosted = false
		s.commitWanted = true
		s.writeAhead()
		return
	}
	if s.failed == nil && !s.closed {
		if s.mutations != s.commitSeen && s.commitHops < commitYieldMax && !s.halfRoundBack() {
			s.commitSeen = s.mutations
			s.commitHops++
			s.ex.Post(s.runCommit)
			return
		}
		if s.gatherDue() {
			// Hand what is ready to the OS now: the copy overlaps the wait.
			if err := s.b.prewrite(); err != nil {
				s.fail(err)
			} else {
				s.gatherTimer = s.e.Clock.AfterFunc(commitGatherWait, s.ex, s.gatherDone)
				return
			}
		}
	}
	if s.gatherTimer != nil {
		s.gatherTimer.Stop()
		s.gatherTimer = nil
	}
	s.gathered = false
	s.commitPosted = false
	done, err := s.commit()
	s.complete(done, err)
}

// gatherDue reports whether the commit should wait for more of the round (see runCommit):
// all of it when grouped, half of it when pipelined.
func (s *store) gatherDue() bool {
	n := len(s.waiting)
	if s.syncEx == nil || s.gatherTimer != nil || s.gathered || n == 0 {
		return false
	}
	if s.pace.pipelined {
		return !s.halfRoundBack()
	}
	return n < s.lastBatch
}

// halfRoundBack: pipelined, a commit with no sync in flight goes once half the previous round
// is back. That splits a round that came back whole into the two alternating batches the
// pipeline needs: the other half arrives while the first half's sync is in flight.
func (s *store) halfRoundBack() bool {
	return s.pace.pipelined && 2*len(s.waiting) >= s.lastBatch
}

// writeAhead hands the records appended so far to the OS while a sync is in flight, so the
// next sync can start the moment that one returns.
func (s *store) writeAhead() {
	if s.usable() != nil {
		return
	}
	if err := s.b.prewrite(); err != nil {
		s.fail(err)
	}
}

// commit ends the batch with no sync in flight. Either it starts a sync covering the batch
// (whose completions then wait in inflight) or it returns the completions that may run now,
// with their outcome: their sync already returned, nothing needed one, or the store is
// closed or broken. A batch of at most one completion syncs right here, on the store's
// executor: with nothing to overlap, the hand-off to the sync executor and back would only
// add to a lone writer's wait.
func (s *store) commit() ([]func(error), error) {
	if n := len(s.waiting); n > 0 {
		s.lastBatch = n
	}
	s.commitWanted = false
	var err error
	var job *syncJob
	switch {
	case s.closed:
		err = ErrClosed // only calls made after Close wait here; each carries its own error
	case s.failed != nil:
		err = fmt.Errorf("%w: %w", ErrFailed, s.failed)
	default:
		if job, err = s.b.startCommit(); err != nil {
			s.fail(err)
			err = fmt.Errorf("%w: %w", ErrFailed, err)
		}
	}
	switch {
	case job == nil:
	case len(s.waiting) > 1:
		s.startSync(job)
		return nil, nil
	default:
		err = s.syncHere(job)
	}
	done := s.waiting
	s.waiting = nil
	return done, err
}

// syncHere runs job on the store's executor, and then, if it made atomic batches' members
// durable, the job that makes their records durable too (batch.go).
func (s *store) syncHere(job *syncJob) error {
	for job != nil {
		s.syncStarting()
		job.run()
		s.syncEnd = s.e.Clock.Mono()
		s.b.synced(job)
		if len(job.batches) == 0 || s.failed != nil {
			break
		}
		var err error
		if job, err = s.b.startCommit(); err != nil {
			s.fail(err)
		}
	}
	if s.failed != nil {
		return fmt.Errorf("%w: %w", ErrFailed, s.failed)
	}
	return nil
}

// startSync hands job to the sync executor; the batch waiting now is what it covers.
func (s *store) startSync(job *syncJob) {
	assertf(!s.syncing && len(s.inflight) == 0, "filestore %s: a sync started beside another", s.cfg.Dir)
	s.syncStarting()
	s.syncing = true
	s.inflight, s.waiting = s.waiting, nil
	s.syncEx.Post(func() {
		job.run()
		s.ex.Post(func() { s.syncDone(job) })
	})
}

// syncStarting restarts the pacer's window after a pause of the writers, so the pause is
// charged to neither way.
func (s *store) syncStarting() {
	if now := s.e.Clock.Mono(); now-s.syncEnd > pacerIdleMax {
		s.pace.restart(now)
	}
}

// syncDone runs on the store's executor once the sync in flight returned nil (a failed one
// halted the node instead). If anything was written meanwhile, the next sync starts at once
// (pipelined) or once the writers this sync releases are back (grouped; see pacer). Then
// the batch's completions run, then any that may run after them.
func (s *store) syncDone(job *syncJob) {
	assertf(s.syncing, "filestore %s: a sync returned that was never started", s.cfg.Dir)
	s.syncing = false
	s.syncEnd = s.e.Clock.Mono()
	batch := s.inflight
	s.inflight = nil
	s.pace.synced(s.syncEnd, len(batch))
	if len(job.batches) > 0 && !s.closing {
		// The batches' records are appended now (synced) and go out with the next sync: what
		// this one covered completes after that one, still first in call order.
		s.waiting = append(batch, s.waiting...)
		batch = nil
		s.commitWanted = true
	}
	var done []func(error)
	var err error
	switch {
	case s.closing:
		// Nothing may be written once Close returned: the batches this sync covered and
		// those after it stay without a record (their completions fail; recovery drops them).
		s.closing = false
		s.b.abandonBatches()
		done, err = s.finishClose()
	case !s.commitWanted && len(s.waiting) == 0:
		s.b.synced(job)
		s.lastBatch = len(batch)
	case s.pace.pipelined:
		s.b.synced(job)
		done, err = s.commit()
	default:
		s.b.synced(job)
		s.lastBatch = len(s.waiting) + len(batch)
		s.postCommit()
	}
	s.complete(batch, nil)
	s.complete(done, err)
}

// complete runs completions in order, then (invariants build) checks the index now and then.
func (s *store) complete(done []func(error), err error) {
	for _, fn := range done {
		fn(err)
	}
	if env.Invariants && s.invariantsDue() {
		s.checkInvariants()
	}
}

// invariantsDue spaces out the full index check, which is linear in the store's size: always
// while the store is small, then at commits numbered by powers of two, so a long run pays
// O(n log n) for it in all.
func (s *store) invariantsDue() bool {
	s.commits++
	return s.msgs.len() <= 64 || s.commits&(s.commits-1) == 0
}

// Close implements Store. With no sync in flight it finishes at once. With one in flight it
// must not sync the same files beside it, and must not block: it writes everything and
// returns (nil, or the write error), and the last sync, the remaining completions (with the
// outcome) and the release of the files follow on the executor when that sync returns. It
// writes now because the owner may open the store again before then: the new store must
// find every record on disk, and nothing may be written to its files afterwards.
func (s *store) Close() error {
	if s.closed {
		return ErrClosed
	}
	s.closed = true
	if s.expiryTimer != nil {
		s.expiryTimer.Stop()
	}
	if s.gatherTimer != nil {
		s.gatherTimer.Stop()
		s.gatherTimer = nil
	}
	if s.syncing {
		s.closing = true
		if s.failed != nil {
			return fmt.Errorf("%w: %w", ErrFailed, s.failed)
		}
		if err := s.b.writeAll(); err != nil {
			s.fail(err)
			return fmt.Errorf("%w: %w", ErrFailed, err)
		}
		return nil
	}
	done, err := s.finishClose()
	s.complete(done, err)
	return err
}

// finishClose makes everything written durable (unless the store broke), releases the files
// and returns the completions still waiting, with the outcome.
func (s *store) finishClose() ([]func(error), error) {
	var err error
	if s.failed != nil {
		err = fmt.Errorf("%w: %w", ErrFailed, s.failed)
	}
	if cerr := s.b.close(); err == nil {
		err = cerr
	}
	done := s.waiting
	s.waiting = nil
	return done, err
}
