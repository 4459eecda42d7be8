package filestore

import (
	"errors"
	"fmt"

	"github.com/petrel-io/petrel/core/env"
)

// LoadMsg implements Store.
func (s *store) LoadMsg(seq env.Seq) (*Msg, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	e := s.msgs.get(uint64(seq))
	if e == nil {
		return nil, fmt.Errorf("%w: seq %d", ErrNotFound, seq)
	}
	m, err := s.b.readMsg(uint64(seq), e, s.subjectOf(e).subject, nil)
	if err != nil {
		s.loseCorrupt(uint64(seq), err)
		return nil, err
	}
	return m, nil
}

// LoadNext implements Store.
func (s *store) LoadNext(f Filter, start env.Seq) (*Msg, error) {
	return s.load(f, uint64(max(start, 1)), true, nil)
}

// LoadNextShared implements Store.
func (s *store) LoadNextShared(f Filter, start env.Seq) (*Msg, error) {
	return s.load(f, uint64(max(start, 1)), true, &s.shared)
}

// LoadPrev implements Store.
func (s *store) LoadPrev(f Filter, start env.Seq) (*Msg, error) {
	return s.load(f, uint64(start), false, nil)
}

// LoadLast implements Store.
func (s *store) LoadLast(f Filter) (*Msg, error) {
	return s.load(f, s.last, false, nil)
}

// load finds the first (forward) or last (backward) match from start and reads it (into
// into, when set). A match whose record turns out corrupt leaves the index and the search
// goes on past it.
func (s *store) load(f Filter, start uint64, forward bool, into *Msg) (*Msg, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	for {
		seq, ok := s.find(f, start, forward)
		if !ok {
			return nil, ErrNotFound
		}
		e := s.msgs.get(seq)
		m, err := s.b.readMsg(seq, e, s.subjectOf(e).subject, into)
		if err == nil {
			return m, nil
		}
		if !errors.Is(err, ErrCorrupt) {
			return nil, err
		}
		s.loseCorrupt(seq, err)
	}
}

// find returns the sequence of the first message >= start (forward) or last <= start
// (backward) whose subject matches f.
func (s *store) find(f Filter, start uint64, forward bool) (uint64, bool) {
	if f.All() {
		return s.findIn(&s.msgs, start, forward)
	}
	if lit, ok := f.literal(); ok {
		ss := s.subjects.find(lit)
		if ss == nil {
			return 0, false
		}
		return findSet(&ss.seqs, start, forward)
	}
	var matched []*subjectState
	complete := s.subjects.match(f, func(ss *subjectState) bool {
		matched = append(matched, ss)
		return len(matched) <= filterSubjectsScanMax
	})
	if !complete {
		return s.scan(f, start, forward)
	}
	var best uint64
	found := false
	for _, ss := range matched {
		seq, ok := findSet(&ss.seqs, start, forward)
		if ok && (!found || (forward && seq < best) || (!forward && seq > best)) {
			best, found = seq, true
		}
	}
	return best, found
}

func (s *store) findIn(m *seqMap[entry, entryCodec], start uint64, forward bool) (uint64, bool) {
	if forward {
		seq, _, ok := m.next(start)
		return seq, ok
	}
	seq, _, ok := m.prev(start)
	return seq, ok
}

func findSet(m *seqMap[struct{}, noValues], start uint64, forward bool) (uint64, bool) {
	if forward {
		seq, _, ok := m.next(start)
		return seq, ok
	}
	seq, _, ok := m.prev(start)
	return seq, ok
}

// scan walks messages in order testing each subject against f: the better plan when a
// filter matches many subjects.
func (s *store) scan(f Filter, start uint64, forward bool) (uint64, bool) {
	var found uint64
	ok := false
	visit := func(seq uint64, e *entry) bool {
		if f.Matches(s.subjectOf(e).subject) {
			found, ok = seq, true
			return false
		}
		return true
	}
	if forward {
		s.msgs.ascend(start, visit)
	} else {
		s.msgs.descend(start, visit)
	}
	return found, ok
}

// SubjectsState implements Store.
func (s *store) SubjectsState(f Filter) map[string]SubjectState {
	out := map[string]SubjectState{}
	if s.usable() != nil {
		return out
	}
	s.subjects.match(f, func(ss *subjectState) bool {
		first, _, _ := ss.seqs.first()
		last, _, _ := ss.seqs.last()
		out[ss.subject] = SubjectState{Msgs: uint64(ss.seqs.len()), First: env.Seq(first), Last: env.Seq(last)}
		return true
	})
	return out
}

// NumPending implements Store.
func (s *store) NumPending(start env.Seq, f Filter, lastPerSubject bool) uint64 {
	if s.usable() != nil {
		return 0
	}
	from := uint64(max(start, 1))
	if f.All() && !lastPerSubject {
		return uint64(s.msgs.countFrom(from))
	}
	var n uint64
	s.subjects.match(f, func(ss *subjectState) bool {
		if lastPerSubject {
			if last, _, _ := ss.seqs.last(); last >= from {
				n++
			}
		} else {
			n += uint64(ss.seqs.countFrom(from))
		}
		return true
	})
	return n
}

// State implements Store.
func (s *store) State() State {
	st := State{
		Msgs: uint64(s.msgs.len()), Bytes: s.bytes,
		LastSeq: env.Seq(s.last), LastTime: s.lastTime,
		FirstSeq: env.Seq(s.last + 1), NumSubjects: uint64(s.subjects.count),
	}
	if first, e, ok := s.msgs.first(); ok {
		st.FirstSeq, st.FirstTime = env.Seq(first), e.time
		st.NumDeleted = s.last - first + 1 - st.Msgs
	}
	return st
}

// Deleted implements Store.
func (s *store) Deleted() []SeqRange {
	var out []SeqRange
	first, _, ok := s.msgs.first()
	if !ok {
		return nil
	}
	next := first
	s.msgs.ascend(first, func(seq uint64, _ *entry) bool {
		if next < seq {
			out = append(out, SeqRange{First: env.Seq(next), Last: env.Seq(seq - 1)})
		}
		next = seq + 1
		return true
	})
	if next <= s.last {
		out = append(out, SeqRange{First: env.Seq(next), Last: env.Seq(s.last)})
	}
	return out
}
