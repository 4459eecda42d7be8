package filestore

import (
	"fmt"
	"sort"

	"github.com/petrel-io/petrel/core/env"
)

// Purge implements Store.
func (s *store) Purge(opts PurgeOpts, done func(error)) (uint64, error) {
	if err := s.usable(); err != nil {
		return 0, err
	}
	if opts.Seq != 0 && opts.Keep != 0 {
		return 0, ErrBadPurge
	}
	f, err := NewFilter(opts.Subject)
	if opts.Subject == "" {
		f, err = AllSubjects, nil
	}
	if err != nil {
		return 0, err
	}
	if f.All() {
		return s.purgeAll(opts, done)
	}
	var doomed []uint64
	s.subjects.match(f, func(ss *subjectState) bool {
		n := ss.seqs.len()
		ss.seqs.ascend(0, func(seq uint64, _ *struct{}) bool {
			switch {
			case opts.Seq != 0 && seq >= uint64(opts.Seq):
				return false
			case opts.Keep != 0 && uint64(n) <= opts.Keep:
				return false
			}
			doomed = append(doomed, seq)
			n--
			return true
		})
		return true
	})
	// The subjects were visited in map order: sort so the deletion records are the same
	// bytes on every run.
	sort.Slice(doomed, func(i, j int) bool { return doomed[i] < doomed[j] })
	for _, seq := range doomed {
		s.removeMsg(seq, logged)
	}
	s.enqueue(done)
	s.armExpiry()
	return uint64(len(doomed)), nil
}

// purgeAll purges without a subject filter: everything, everything below a sequence
// (which is Compact), or all but the newest Keep.
func (s *store) purgeAll(opts PurgeOpts, done func(error)) (uint64, error) {
	switch {
	case opts.Seq != 0:
		return s.Compact(opts.Seq, done)
	case opts.Keep != 0:
		if uint64(s.msgs.len()) <= opts.Keep {
			s.enqueue(done)
			return 0, nil
		}
		kept := uint64(0)
		var floor uint64
		s.msgs.descend(s.last, func(seq uint64, _ *entry) bool {
			kept++
			floor = seq
			return kept < opts.Keep
		})
		return s.Compact(env.Seq(floor), done)
	}
	return s.Compact(env.Seq(s.last+1), done)
}

// Compact implements Store.
func (s *store) Compact(seq env.Seq, done func(error)) (uint64, error) {
	if err := s.usable(); err != nil {
		return 0, err
	}
	floor := uint64(max(seq, 1))
	doomed := uint64(s.msgs.countFrom(0) - s.msgs.countFrom(floor))
	if doomed == 0 && floor <= s.last+1 {
		s.enqueue(done) // nothing to remove and no sequence moves: no record needed
		return 0, nil
	}
	if err := s.logMarker(marker{floor: floor, last: max(s.last, floor-1), lastTime: s.lastTime}); err != nil {
		return 0, err
	}
	s.enqueue(done)
	s.armExpiry()
	return doomed, nil
}

// Truncate implements Store.
func (s *store) Truncate(seq env.Seq, done func(error)) error {
	if err := s.usable(); err != nil {
		return err
	}
	to := uint64(seq)
	if first := uint64(s.State().FirstSeq); to+1 < first {
		return fmt.Errorf("%w: %d, first is %d", ErrTruncateTooLow, seq, first)
	}
	if to >= s.last {
		s.enqueue(done)
		return nil
	}
	m := marker{last: to}
	if q, e, ok := s.msgs.prev(to); ok && q == to {
		m.lastTime = e.time
	}
	if err := s.logMarker(m); err != nil {
		return err
	}
	s.enqueue(done)
	s.armExpiry()
	return nil
}

// SetLimits implements Store.
func (s *store) SetLimits(l Limits, done func(error)) error {
	if err := s.usable(); err != nil {
		return err
	}
	if err := l.validate(); err != nil {
		return err
	}
	s.cfg.Limits = l
	if l.MaxMsgsPerSubject > 0 {
		var doomed []uint64
		s.subjects.match(AllSubjects, func(ss *subjectState) bool {
			excess := ss.seqs.len() - int(l.MaxMsgsPerSubject)
			ss.seqs.ascend(0, func(seq uint64, _ *struct{}) bool {
				if excess <= 0 {
					return false
				}
				doomed = append(doomed, seq)
				excess--
				return true
			})
			return true
		})
		sort.Slice(doomed, func(i, j int) bool { return doomed[i] < doomed[j] })
		for _, seq := range doomed {
			s.removeMsg(seq, logged)
		}
	}
	s.enforceLimits(nil)
	s.expire()
	s.enqueue(done)
	return nil
}

// enforceLimits removes what the limits no longer allow after a store into subj (evicted:
// logged once the new message is durable) or, with subj nil, a change of limits (logged at
// once: the change is the cause): the subject's oldest messages beyond MaxMsgsPerSubject,
// then the stream's oldest beyond MaxMsgs and MaxBytes. With DiscardNew the message was
// checked before storing, so only the per-subject limit can remove anything after a store.
func (s *store) enforceLimits(subj *subjectState) {
	l := &s.cfg.Limits
	how := logged
	if subj != nil {
		how = evicted
	}
	if subj != nil && l.MaxMsgsPerSubject > 0 {
		for uint64(subj.seqs.len()) > l.MaxMsgsPerSubject {
			first, _, _ := subj.seqs.first()
			s.removeMsg(first, how)
		}
	}
	for l.MaxMsgs > 0 && uint64(s.msgs.len()) > l.MaxMsgs {
		first, _, _ := s.msgs.first()
		s.removeMsg(first, how)
	}
	for l.MaxBytes > 0 && s.bytes > l.MaxBytes {
		first, _, _ := s.msgs.first()
		s.removeMsg(first, how)
	}
}
