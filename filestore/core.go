package filestore

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// store implements Store for both backends. It owns the in-memory index (messages by
// sequence, subjects in a token trie), applies limits, expiry, purges and the durability
// protocol; the backend only persists records and reads them back. Sharing this part means
// the file store and the memory store cannot disagree on what a limit or a filter means;
// the rapid model test checks both against an independent plain model.
//
// Invariants (checked by checkInvariants under the invariants build tag):
//   - msgs holds exactly the live messages, all with sequence <= last;
//   - each live message appears in its subject's sequence set and nowhere else;
//   - bytes is the sum of the live messages' sizes; subjects.count the non-empty subjects.
type store struct {
	e   *env.Env
	cfg Config
	ex  env.Executor
	b   backend

	msgs     seqMap[entry, entryCodec]
	subjects subjectTree
	bytes    uint64
	last     uint64
	lastTime int64

	ttls        ttlHeap
	expiryTimer env.Timer
	expiryAt    int64 // wall-clock deadline the timer is armed for (0: none)

	// Group commit and its pipeline (commit.go). Completions run in call order: first
	// inflight's, when its sync returns, then waiting's.
	waiting      []func(error) // completions of mutations no sync covers yet, in call order
	inflight     []func(error) // completions the sync in flight covers
	syncEx       env.Executor  // runs the file store's syncs under SyncAlways; else nil
	syncing      bool          // a sync is in flight on syncEx (at most one)
	closing      bool          // Close ran while a sync was in flight: finish when it returns
	syncEnd      time.Duration // Clock.Mono when the last sync returned
	pace         pacer         // when the next sync starts
	commitWanted bool          // a commit ran while a sync was in flight: its batch needs one
	commitPosted bool
	failed       error // the write error that broke the store, or nil
	closed       bool
	commits      uint64
	mutations    uint64 // mutations so far: a commit yields while this moves
	commitSeen   uint64 // mutations when the pending commit was (re)posted
	commitHops   int    // times the pending commit has yielded
	lastBatch    int    // completions the previous commit covered
	gatherTimer  env.Timer
	gathered     bool // the pending commit has had its wait

	shared Msg // what LoadNextShared returns
}

// subjectOf is the subject state of a live message's entry.
func (s *store) subjectOf(e *entry) *subjectState { return s.subjects.get(e.subj) }

// entry is the index's record of one live message. It holds no pointer (its subject is an
// id, a memory store keeps the bytes on its own), so the collector never traces the index:
// with millions of messages, tracing it was a fifth of a busy server's CPU.
type entry struct {
	time  int64
	ttl   int64  // nanoseconds; 0: none, -1: never expires
	subj  uint32 // subjectTree id; 0 until indexed
	size  uint32 // logical size, see msgSize
	flags uint8
	// Where the file backend keeps the message.
	block uint32
	off   uint32
	rlen  uint32
}

const (
	entryMarker = 1 // a subject delete marker: its own expiry leaves no new marker
	// entryBatch: set only while appending a member of an atomic batch (its record's
	// flagBatch); never kept in the index.
	entryBatch = 2
)

// backend persists the store's records. Every method runs on the store's executor.
type backend interface {
	// appendMsg persists a new message (buffered until commit) and records where in e.
	appendMsg(seq uint64, e *entry, subject string, hdr, data []byte) error
	// readMsg returns a fresh copy of a live message, or an error wrapping ErrCorrupt. With
	// into set it fills into instead, its bytes possibly the backend's own (a shared load).
	// known is the subject the index holds for it: a decoded equal subject shares its string.
	readMsg(seq uint64, e *entry, known string, into *Msg) (*Msg, error)
	// removed: a live message left the index; how says whether and when the backend
	// persists the deletion.
	removed(seq uint64, e *entry, how removal)
	// erase overwrites the message's stored bytes with random ones.
	erase(seq uint64, e *entry) error
	// appendMarker persists a sequence-range marker.
	appendMarker(m marker) error
	// endBatch: the members of the atomic batch m, just appended, are complete; the backend
	// commits them (batch.go) and sets m.recorded once nothing can keep a part of them only.
	endBatch(m *batchMark)
	// abandonBatches forgets the batches no sync covers yet (Close with a sync in flight).
	abandonBatches()
	// prewrite hands appended bytes to the OS ahead of a commit (no sync).
	prewrite() error
	// writeAll ends the batch with a commit record and hands every appended byte to the OS
	// (no sync).
	writeAll() error
	// startCommit ends the batch (a commit record) and hands every appended byte to the OS.
	// Under SyncAlways it returns the sync that makes all of it durable, for the store to
	// run on its sync executor, or nil when everything written is durable already; under
	// SyncEvery it arms the periodic sync instead and returns nil. Errors are write errors.
	startCommit() (*syncJob, error)
	// synced runs on the store's executor after job's syncs all returned nil, before the
	// next job is cut.
	synced(job *syncJob)
	// close makes everything durable and releases files. No sync may be in flight.
	close() error
	damage() []Damage
}

// marker is a sequence-range record: on replay it removes messages below floor (all of
// them when reset) and above last, then sets the last sequence and time. Compact, Truncate,
// Purge-all and Restore are markers.
type marker struct {
	reset    bool
	floor    uint64
	last     uint64
	lastTime int64
}

// msgSize is a message's logical size for MaxBytes and State.Bytes.
func msgSize(subject string, hdr, data []byte) uint64 {
	return MsgSize(subject, hdr, data)
}

// MsgSize is what a message counts for in State.Bytes and the byte limits.
func MsgSize(subject string, hdr, data []byte) uint64 {
	return uint64(len(subject)+len(hdr)+len(data)) + msgOverheadBytes
}

func newStore(e *env.Env, cfg Config, b backend) *store {
	return &store{e: e, cfg: cfg, ex: cfg.Executor, b: b}
}

// usable reports why the store cannot be used, or nil.
func (s *store) usable() error {
	if s.closed {
		return ErrClosed
	}
	if s.failed != nil {
		return fmt.Errorf("%w: %w", ErrFailed, s.failed)
	}
	return nil
}

// Store implements Store.
func (s *store) Store(subject string, hdr, data []byte, opts StoreOpts, done func(env.Seq, error)) {
	assertf(done != nil, "filestore: Store with nil done")
	seq, err := s.storeMsg(subject, hdr, data, opts, 0)
	if err != nil {
		s.enqueue(func(error) { done(0, err) })
		return
	}
	s.enqueue(func(commitErr error) {
		if commitErr != nil {
			done(0, commitErr)
			return
		}
		done(env.Seq(seq), nil)
	})
}

// storeMsg validates, persists and indexes one message, then applies the limits.
func (s *store) storeMsg(subject string, hdr, data []byte, opts StoreOpts, flags uint8) (uint64, error) {
	if err := s.usable(); err != nil {
		return 0, err
	}
	size, err := checkMsg(subject, hdr, data)
	if err != nil {
		return 0, err
	}
	seq := s.last + 1
	if opts.Seq != 0 {
		if uint64(opts.Seq) <= s.last {
			return 0, fmt.Errorf("%w: %d <= %d", ErrSeqNotAfterLast, opts.Seq, s.last)
		}
		seq = uint64(opts.Seq)
	}
	if err := s.checkDiscardNew(subject, size); err != nil {
		return 0, err
	}
	return seq, s.put(seq, subject, hdr, data, opts, flags)
}

// checkMsg holds a message to what any store takes, and returns its size.
func checkMsg(subject string, hdr, data []byte) (uint64, error) {
	if !validSubject(subject) {
		return 0, fmt.Errorf("%w: %q", ErrBadSubject, subject)
	}
	size := msgSize(subject, hdr, data)
	if size > recordBytesMax-1024 {
		return 0, fmt.Errorf("%w: %d bytes", ErrMsgTooBig, size)
	}
	return size, nil
}

// put persists and indexes a checked message at seq, then applies the limits.
func (s *store) put(seq uint64, subject string, hdr, data []byte, opts StoreOpts, flags uint8) error {
	ts := opts.Time
	if ts == 0 {
		ts = s.e.Clock.Now().UnixNano()
	}
	ttl := int64(opts.TTL)
	if ttl < 0 {
		ttl = -1
	}
	if bytes.Contains(hdr, []byte(markerReasonHeader)) {
		flags |= entryMarker
	}
	e := entry{time: ts, ttl: ttl, size: uint32(msgSize(subject, hdr, data)), flags: flags}
	if err := s.b.appendMsg(seq, &e, subject, hdr, data); err != nil {
		s.fail(err)
		return fmt.Errorf("%w: %w", ErrFailed, err)
	}
	e.flags &^= entryBatch
	s.enforceLimits(s.index(seq, e, subject))
	s.armExpiry()
	return nil
}

// index adds a persisted message to the in-memory index and returns its subject's state.
func (s *store) index(seq uint64, e entry, subject string) *subjectState {
	ss := s.subjects.insert(subject)
	e.subj = ss.id
	ss.seqs.push(seq, struct{}{})
	s.msgs.push(seq, e)
	s.bytes += uint64(e.size)
	s.last, s.lastTime = seq, e.time
	if e.ttl > 0 {
		s.ttls.push(ttlItem{expire: e.time + e.ttl, seq: seq})
	}
	return ss
}

func (s *store) checkDiscardNew(subject string, size uint64) error {
	l := &s.cfg.Limits
	if l.MaxBytes > 0 && size > l.MaxBytes {
		return fmt.Errorf("%w: message of %d bytes exceeds the limit of %d", ErrMaxBytes, size, l.MaxBytes)
	}
	if l.Discard != DiscardNew {
		return nil
	}
	if l.MaxMsgs > 0 && uint64(s.msgs.len())+1 > l.MaxMsgs {
		return ErrMaxMsgs
	}
	if l.MaxBytes > 0 && s.bytes+size > l.MaxBytes {
		return ErrMaxBytes
	}
	if l.DiscardNewPerSubject && l.MaxMsgsPerSubject > 0 {
		if ss := s.subjects.find(subject); ss != nil && uint64(ss.seqs.len())+1 > l.MaxMsgsPerSubject {
			return ErrMaxMsgsPerSubj
		}
	}
	return nil
}

// removal says how the backend records a deletion.
type removal uint8

const (
	// logged: the deletion is persisted with the next commit.
	logged removal = iota
	// unlogged: nothing to persist (a marker covers it, or its record is unreadable).
	unlogged
	// evicted: a limit removed it for a message just stored; the deletion is persisted
	// only once that message is durable (see fileBackend.removed).
	evicted
)

// removeMsg deletes a live message from the index and tells the backend how.
func (s *store) removeMsg(seq uint64, how removal) {
	e := s.msgs.get(seq)
	if e == nil {
		assertf(false, "filestore: remove of absent seq %d", seq)
	}
	s.b.removed(seq, e, how)
	ss := s.subjectOf(e)
	removed := ss.seqs.remove(seq)
	if !removed {
		assertf(false, "filestore: seq %d missing from subject %q", seq, ss.subject)
	}
	if ss.seqs.len() == 0 {
		s.subjects.remove(ss.subject)
	}
	s.bytes -= uint64(e.size)
	s.msgs.remove(seq)
}

// RemoveMsg implements Store.
func (s *store) RemoveMsg(seq env.Seq, done func(error)) error {
	return s.remove(seq, done, false)
}

// EraseMsg implements Store.
func (s *store) EraseMsg(seq env.Seq, done func(error)) error {
	return s.remove(seq, done, true)
}

func (s *store) remove(seq env.Seq, done func(error), erase bool) error {
	if err := s.usable(); err != nil {
		return err
	}
	e := s.msgs.get(uint64(seq))
	if e == nil {
		return fmt.Errorf("%w: seq %d", ErrNotFound, seq)
	}
	if erase {
		if err := s.b.erase(uint64(seq), e); err != nil {
			s.fail(err)
			return fmt.Errorf("%w: erase seq %d: %w", ErrFailed, seq, err)
		}
	}
	s.removeMsg(uint64(seq), logged)
	s.enqueue(done)
	s.armExpiry()
	return nil
}

// fail breaks the store after a write error: nothing more is accepted, and pending
// completions learn the error at the next commit. The owner closes and reopens the store,
// which recovers from what the disk holds.
func (s *store) fail(err error) {
	if s.failed == nil {
		s.failed = err
		s.e.Log.Logf(env.LevelError, "filestore %s: write failed, store unusable until reopened: %v", s.cfg.Dir, err)
	}
	s.postCommit()
}

// Damage implements Store.
func (s *store) Damage() []Damage { return s.b.damage() }

// loseCorrupt takes a message whose record failed its checksum on read out of the index, so
// nothing serves it again; its bytes stay on disk for inspection, and recovery reports them
// again.
func (s *store) loseCorrupt(seq uint64, err error) {
	if errors.Is(err, ErrCorrupt) && s.msgs.get(seq) != nil {
		s.e.Log.Logf(env.LevelError, "filestore %s: %v", s.cfg.Dir, err)
		s.removeMsg(seq, unlogged)
	}
}

// checkInvariants asserts the index's structure (invariants build and tests).
func (s *store) checkInvariants() {
	s.msgs.checkInvariants()
	var total uint64
	s.msgs.ascend(0, func(seq uint64, e *entry) bool {
		if seq > s.last {
			assertf(false, "filestore: live seq %d above last %d", seq, s.last)
		}
		if e.subj == 0 || s.subjectOf(e).seqs.get(seq) == nil {
			assertf(false, "filestore: seq %d missing from its subject", seq)
		}
		total += uint64(e.size)
		return true
	})
	if total != s.bytes {
		assertf(false, "filestore: bytes %d, live messages sum to %d", s.bytes, total)
	}
	subjects, inSubjects := 0, 0
	s.subjects.match(AllSubjects, func(ss *subjectState) bool {
		subjects++
		inSubjects += ss.seqs.len()
		if ss.seqs.len() == 0 {
			assertf(false, "filestore: empty subject %q kept", ss.subject)
		}
		return true
	})
	if subjects != s.subjects.count {
		assertf(false, "filestore: %d subjects counted, %d recorded", subjects, s.subjects.count)
	}
	if inSubjects != s.msgs.len() {
		assertf(false, "filestore: %d seqs in subjects, %d messages", inSubjects, s.msgs.len())
	}
}

// durationOf converts an entry's ttl field for Msg.
func durationOf(ttl int64) time.Duration {
	if ttl < 0 {
		return TTLNever
	}
	return time.Duration(ttl)
}
