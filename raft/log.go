package raft

import (
	"errors"
	"fmt"

	"github.com/petrel-io/petrel/core/env"
)

// raftLog is the member's log: the persisted part (Storage) followed by the part not yet
// persisted (unstable).
//
// Invariants (asserted in check):
//   - applied <= committed <= lastIndex();
//   - committed >= firstIndex()-1 (the snapshot is committed);
//   - unstable.offset <= storage's last index + 1 (no gap between the two parts).
type raftLog struct {
	storage   Storage
	unstable  unstable
	committed env.Index
	applied   env.Index
	// maxApplyBytes caps the committed entries one Ready hands out.
	maxApplyBytes uint64
}

// unstable holds entries (and possibly a snapshot) received or proposed but not yet
// persisted. entries[i] has index offset+i.
type unstable struct {
	snapshot *Snapshot
	entries  []Entry
	offset   env.Index
}

func newLog(storage Storage, maxApplyBytes uint64) (*raftLog, error) {
	first, err := storage.FirstIndex()
	if err != nil {
		return nil, fmt.Errorf("raft: load log: %w", err)
	}
	last, err := storage.LastIndex()
	if err != nil {
		return nil, fmt.Errorf("raft: load log: %w", err)
	}
	l := &raftLog{storage: storage, maxApplyBytes: maxApplyBytes}
	l.unstable.offset = last + 1
	l.committed, l.applied = first-1, first-1
	return l, nil
}

func (l *raftLog) String() string {
	return fmt.Sprintf("committed=%d applied=%d unstable.offset=%d len(unstable)=%d",
		l.committed, l.applied, l.unstable.offset, len(l.unstable.entries))
}

// check asserts the invariants. It runs after every step, so the arguments are boxed for
// the message only when a check fails.
func (l *raftLog) check() {
	if last := l.lastIndex(); l.applied > l.committed || l.committed > last {
		env.Assertf(false, "raft log: applied %d <= committed %d <= last %d violated", l.applied, l.committed, last)
	}
	if first := l.firstIndex(); l.committed+1 < first {
		env.Assertf(false, "raft log: committed %d before first index %d", l.committed, first)
	}
}

func (l *raftLog) firstIndex() env.Index {
	if s := l.unstable.snapshot; s != nil {
		return s.Meta.Index + 1
	}
	i, err := l.storage.FirstIndex()
	env.Assertf(err == nil, "raft log: storage first index: %v", err)
	return i
}

func (l *raftLog) lastIndex() env.Index {
	if n := len(l.unstable.entries); n > 0 {
		return l.unstable.offset + env.Index(n) - 1
	}
	if s := l.unstable.snapshot; s != nil {
		return s.Meta.Index
	}
	i, err := l.storage.LastIndex()
	env.Assertf(err == nil, "raft log: storage last index: %v", err)
	return i
}

// stableLastIndex is the last index already persisted (what the leader may count as its own
// durable copy). While a snapshot waits to be persisted nothing counts.
func (l *raftLog) stableLastIndex() env.Index {
	if l.unstable.snapshot != nil {
		return 0
	}
	i, err := l.storage.LastIndex()
	env.Assertf(err == nil, "raft log: storage last index: %v", err)
	return min(i, l.unstable.offset-1)
}

// term returns the term of entry i, ErrCompacted or ErrUnavailable.
func (l *raftLog) term(i env.Index) (env.Term, error) {
	if s := l.unstable.snapshot; s != nil && i == s.Meta.Index {
		return s.Meta.Term, nil
	}
	if i >= l.unstable.offset {
		if k := i - l.unstable.offset; k < env.Index(len(l.unstable.entries)) {
			return l.unstable.entries[k].Term, nil
		}
		return 0, ErrUnavailable
	}
	if l.unstable.snapshot != nil {
		return 0, ErrCompacted // everything before a pending snapshot is gone
	}
	return l.storage.Term(i)
}

// termOr returns the term of i, or 0 when it is not available.
func (l *raftLog) termOr(i env.Index) env.Term {
	t, err := l.term(i)
	if err != nil {
		return 0
	}
	return t
}

func (l *raftLog) lastTerm() env.Term {
	t, err := l.term(l.lastIndex())
	env.Assertf(err == nil, "raft log: term of last index: %v", err)
	return t
}

func (l *raftLog) matchTerm(i env.Index, t env.Term) bool {
	got, err := l.term(i)
	return err == nil && got == t
}

// isUpToDate reports whether a log ending at (lastIndex, lastTerm) is at least as complete
// as this one: the election restriction that keeps committed entries in every leader's log.
func (l *raftLog) isUpToDate(lastIndex env.Index, lastTerm env.Term) bool {
	mine := l.lastTerm()
	return lastTerm > mine || (lastTerm == mine && lastIndex >= l.lastIndex())
}

// slice returns entries [lo, hi) limited to maxBytes (at least one entry).
func (l *raftLog) slice(lo, hi env.Index, maxBytes uint64) ([]Entry, error) {
	if lo >= hi {
		return nil, nil
	}
	if lo < l.firstIndex() {
		return nil, ErrCompacted
	}
	if hi > l.lastIndex()+1 {
		return nil, ErrUnavailable
	}
	var out []Entry
	if lo < l.unstable.offset {
		stored, err := l.storage.Entries(lo, min(hi, l.unstable.offset), maxBytes)
		if err != nil {
			return nil, err
		}
		if env.Index(len(stored)) < min(hi, l.unstable.offset)-lo {
			return stored, nil // cut short by maxBytes
		}
		out = stored
	}
	if hi > l.unstable.offset {
		from := max(lo, l.unstable.offset)
		ents := l.unstable.entries[from-l.unstable.offset : hi-l.unstable.offset]
		if len(out) > 0 {
			combined := make([]Entry, 0, len(out)+len(ents))
			out = append(append(combined, out...), ents...)
		} else {
			out = ents
		}
	}
	return limitSize(out, maxBytes), nil
}

// entries returns entries from lo to the end, limited to maxBytes.
func (l *raftLog) entries(lo env.Index, maxBytes uint64) ([]Entry, error) {
	if lo > l.lastIndex() {
		return nil, nil
	}
	return l.slice(lo, l.lastIndex()+1, maxBytes)
}

// findConflict returns the index of the first entry of ents that is not in the log (a
// different term at that index, or past the end), or 0 if all are present.
func (l *raftLog) findConflict(ents []Entry) env.Index {
	for i := range ents {
		if !l.matchTerm(ents[i].Index, ents[i].Term) {
			return ents[i].Index
		}
	}
	return 0
}

// maybeAppend appends ents, which follow (prevIndex, prevTerm), if the log holds that
// entry; it commits up to min(commit, the last new index). It returns the last index the
// log now shares with the sender, the entries actually appended (those not already held),
// and whether it accepted.
func (l *raftLog) maybeAppend(prevIndex env.Index, prevTerm env.Term, commit env.Index, ents []Entry) (env.Index, []Entry, bool) {
	if !l.matchTerm(prevIndex, prevTerm) {
		return 0, nil, false
	}
	lastNew := prevIndex + env.Index(len(ents))
	var appended []Entry
	if ci := l.findConflict(ents); ci != 0 {
		env.Assertf(ci > l.committed, "raft log: entry %d conflicts with the committed prefix (committed %d)", ci, l.committed)
		appended = ents[ci-ents[0].Index:]
		l.append(appended...)
	}
	l.commitTo(min(commit, lastNew))
	return lastNew, appended, true
}

// append adds entries to the unstable part, overwriting any at or after the first one's
// index. It returns the new last index.
func (l *raftLog) append(ents ...Entry) env.Index {
	if len(ents) == 0 {
		return l.lastIndex()
	}
	after := ents[0].Index - 1
	env.Assertf(after >= l.committed, "raft log: append after %d would overwrite committed %d", after, l.committed)
	u := &l.unstable
	switch {
	case after+1 == u.offset+env.Index(len(u.entries)):
		u.entries = append(u.entries, ents...)
	case after+1 <= u.offset:
		// Replaces every unstable entry and the stored ones from after+1: the stored ones are
		// overwritten in storage when these are persisted.
		u.offset = after + 1
		u.entries = append([]Entry(nil), ents...)
	default:
		kept := u.entries[:after+1-u.offset]
		u.entries = append(append(make([]Entry, 0, len(kept)+len(ents)), kept...), ents...)
	}
	return l.lastIndex()
}

func (l *raftLog) commitTo(i env.Index) {
	if i <= l.committed {
		return
	}
	env.Assertf(i <= l.lastIndex(), "raft log: commit %d past last index %d (log lost or corrupted?)", i, l.lastIndex())
	l.committed = i
}

func (l *raftLog) appliedTo(i env.Index) {
	if i == 0 {
		return
	}
	env.Assertf(i <= l.committed && i >= l.applied, "raft log: applied %d out of range [%d, %d]", i, l.applied, l.committed)
	l.applied = i
}

// stableTo records that entries up to (i, t) are persisted.
func (l *raftLog) stableTo(i env.Index, t env.Term) {
	u := &l.unstable
	if i < u.offset || i >= u.offset+env.Index(len(u.entries)) {
		return
	}
	if u.entries[i-u.offset].Term != t {
		return // overwritten meanwhile: the newer entries still need persisting
	}
	u.entries = u.entries[i+1-u.offset:]
	u.offset = i + 1
	if len(u.entries) == 0 {
		u.entries = nil
	}
}

func (l *raftLog) stableSnapTo(i env.Index) {
	if s := l.unstable.snapshot; s != nil && s.Meta.Index == i {
		l.unstable.snapshot = nil
	}
}

// restore replaces the log with a snapshot (from the leader).
func (l *raftLog) restore(s Snapshot) {
	l.committed = s.Meta.Index
	l.unstable.snapshot = &s
	l.unstable.offset = s.Meta.Index + 1
	l.unstable.entries = nil
}

// nextCommitted returns committed entries not yet handed out for applying.
func (l *raftLog) nextCommitted(from env.Index) []Entry {
	lo := max(from, l.firstIndex())
	if lo > l.committed {
		return nil
	}
	ents, err := l.slice(lo, l.committed+1, l.maxApplyBytes)
	env.Assertf(err == nil, "raft log: committed entries [%d, %d]: %v", lo, l.committed, err)
	return ents
}

// snapshot returns the snapshot a lagging follower needs: the pending one or the stored one.
func (l *raftLog) snapshot() (Snapshot, error) {
	if s := l.unstable.snapshot; s != nil {
		return *s, nil
	}
	return l.storage.Snapshot()
}

// isCompactedOrMissing reports errors that mean a follower needs a snapshot.
func isCompactedOrMissing(err error) bool {
	return errors.Is(err, ErrCompacted) || errors.Is(err, ErrUnavailable)
}
