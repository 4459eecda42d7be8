package raft

import (
	"errors"
	"fmt"

	"github.com/petrel-io/petrel/core/env"
)

// Errors of Storage, classified with errors.Is.
var (
	// ErrCompacted: the index asked for lies before the first retained entry; the entries
	// were folded into a snapshot.
	ErrCompacted = errors.New("raft: requested index is compacted")
	// ErrUnavailable: the index asked for lies past the last entry.
	ErrUnavailable = errors.New("raft: requested entry is not available")
	// ErrSnapOutOfDate: a snapshot older than the one held was offered.
	ErrSnapOutOfDate = errors.New("raft: snapshot is older than the one held")
)

// Storage is raft's read-only view of the persisted log. The application (the driver)
// writes to it only after the data is durable: entries and hard state from a Ready are
// persisted first, then made visible here, then Advance is called. Slices returned are
// owned by the storage and must not be modified.
type Storage interface {
	// InitialState returns the persisted hard state.
	InitialState() (HardState, error)
	// Entries returns the entries in [lo, hi), stopping early once they pass maxBytes (but
	// always returning at least one entry if any is in range). ErrCompacted if lo is before
	// FirstIndex, ErrUnavailable if hi-1 is after LastIndex.
	Entries(lo, hi env.Index, maxBytes uint64) ([]Entry, error)
	// Term returns the term of entry i, which may be FirstIndex()-1 (the snapshot's last
	// entry, whose term is retained).
	Term(i env.Index) (env.Term, error)
	// FirstIndex is the index of the first entry still available (snapshot index + 1).
	FirstIndex() (env.Index, error)
	// LastIndex is the index of the last entry (the snapshot index if there is none).
	LastIndex() (env.Index, error)
	// Snapshot returns the most recent snapshot; its Meta.Conf is the configuration at its
	// index.
	Snapshot() (Snapshot, error)
}

// MemoryStorage is a Storage held in memory: the driver mirrors its WAL into one, and tests
// use it alone. It is used by one executor at a time.
//
// Invariant: ents[0] is a placeholder at the snapshot's index and term, so ents[i] has index
// snap.Meta.Index + i.
type MemoryStorage struct {
	hard HardState
	snap Snapshot
	ents []Entry
}

// NewMemoryStorage returns an empty storage whose configuration is conf (the bootstrap
// configuration of a new group, or the empty one for a member that will be added later).
func NewMemoryStorage(conf ConfState) *MemoryStorage {
	return &MemoryStorage{snap: Snapshot{Meta: SnapshotMeta{Conf: conf.clone()}}, ents: make([]Entry, 1)}
}

func (s *MemoryStorage) InitialState() (HardState, error) { return s.hard, nil }

// SetHardState replaces the hard state.
func (s *MemoryStorage) SetHardState(h HardState) { s.hard = h }

func (s *MemoryStorage) offset() env.Index { return s.ents[0].Index }

func (s *MemoryStorage) FirstIndex() (env.Index, error) { return s.offset() + 1, nil }

func (s *MemoryStorage) LastIndex() (env.Index, error) {
	return s.offset() + env.Index(len(s.ents)) - 1, nil
}

func (s *MemoryStorage) Term(i env.Index) (env.Term, error) {
	off := s.offset()
	if i < off {
		return 0, ErrCompacted
	}
	if int(i-off) >= len(s.ents) {
		return 0, ErrUnavailable
	}
	return s.ents[i-off].Term, nil
}

func (s *MemoryStorage) Entries(lo, hi env.Index, maxBytes uint64) ([]Entry, error) {
	off := s.offset()
	if lo <= off {
		return nil, ErrCompacted
	}
	last, _ := s.LastIndex()
	if hi > last+1 {
		return nil, fmt.Errorf("raft: entries [%d, %d) past last index %d: %w", lo, hi, last, ErrUnavailable)
	}
	if lo >= hi {
		return nil, nil
	}
	ents := s.ents[lo-off : hi-off]
	return limitSize(ents, maxBytes), nil
}

func (s *MemoryStorage) Snapshot() (Snapshot, error) { return s.snap, nil }

// ApplySnapshot replaces the storage's content with snap: the log restarts after it.
func (s *MemoryStorage) ApplySnapshot(snap Snapshot) error {
	if snap.Meta.Index < s.snap.Meta.Index {
		return ErrSnapOutOfDate
	}
	s.snap = snap
	s.ents = []Entry{{Term: snap.Meta.Term, Index: snap.Meta.Index}}
	return nil
}

// CreateSnapshot records a snapshot of the application's state at index i (which must be in
// the log) with configuration conf, without dropping entries (see Compact).
func (s *MemoryStorage) CreateSnapshot(i env.Index, conf ConfState, data []byte) (Snapshot, error) {
	if i <= s.snap.Meta.Index {
		return Snapshot{}, ErrSnapOutOfDate
	}
	t, err := s.Term(i)
	if err != nil {
		return Snapshot{}, fmt.Errorf("raft: snapshot at %d: %w", i, err)
	}
	s.snap = Snapshot{Meta: SnapshotMeta{Index: i, Term: t, Conf: conf.clone()}, Data: data}
	return s.snap, nil
}

// Compact drops the entries before i, which must be covered by the snapshot. Entry i
// becomes the placeholder.
func (s *MemoryStorage) Compact(i env.Index) error {
	off := s.offset()
	if i <= off {
		return ErrCompacted
	}
	last, _ := s.LastIndex()
	env.Assertf(i <= last, "raft: compact %d past last index %d", i, last)
	env.Assertf(i <= s.snap.Meta.Index, "raft: compact %d past snapshot %d", i, s.snap.Meta.Index)
	ents := make([]Entry, 1, 1+len(s.ents)-int(i-off)-1)
	ents[0] = Entry{Index: i, Term: s.ents[i-off].Term}
	s.ents = append(ents, s.ents[i-off+1:]...)
	return nil
}

// Append adds entries that follow, or overwrite part of, the log: an entry at an index
// already held replaces it and everything after it.
func (s *MemoryStorage) Append(ents []Entry) error {
	if len(ents) == 0 {
		return nil
	}
	off := s.offset()
	first := ents[0].Index
	last, _ := s.LastIndex()
	if first+env.Index(len(ents))-1 <= off {
		return nil // all compacted already
	}
	if first <= off {
		ents = ents[off+1-first:]
		first = off + 1
	}
	if first > last+1 {
		return fmt.Errorf("raft: append at %d leaves a gap after %d: %w", first, last, ErrUnavailable)
	}
	keep := s.ents[:first-off]
	if int(first-off) < len(s.ents) {
		// Overwriting: copy, so slices handed out earlier keep the entries they saw.
		keep = append(make([]Entry, 0, len(keep)+len(ents)), keep...)
	}
	s.ents = append(keep, ents...)
	return nil
}

// limitSize returns the longest prefix of ents within maxBytes, but at least one entry.
func limitSize(ents []Entry, maxBytes uint64) []Entry {
	if len(ents) == 0 {
		return ents
	}
	size := ents[0].size()
	for i := 1; i < len(ents); i++ {
		size += ents[i].size()
		if size > maxBytes {
			return ents[:i]
		}
	}
	return ents
}
