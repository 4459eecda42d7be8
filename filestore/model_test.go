package filestore

import (
	"sort"
	"time"
)

// model is the plain oracle of the rapid test: a map of messages and linear scans, written
// from the Store contract without looking at the store's code paths (no trie, no chunks, no
// heaps).
type model struct {
	msgs     map[uint64]mmsg
	last     uint64
	lastTime int64
	limits   Limits
	// evicted: messages a limit removed. The store logs an eviction only once its cause is
	// durable, so a crash may bring one back (and the open's limits remove it again).
	evicted map[uint64]mmsg
}

type mmsg struct {
	subject string
	hdr     string
	data    string
	time    int64
	ttl     int64
}

func newModel(l Limits) *model {
	return &model{msgs: map[uint64]mmsg{}, limits: l, evicted: map[uint64]mmsg{}}
}

// evict removes a message for a limit.
func (m *model) evict(seq uint64) {
	m.evicted[seq] = m.msgs[seq]
	delete(m.msgs, seq)
}

func (m *model) size(x mmsg) uint64 { return uint64(len(x.subject)+len(x.hdr)+len(x.data)) + 16 }

func (m *model) seqs() []uint64 {
	out := make([]uint64, 0, len(m.msgs))
	for s := range m.msgs {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func (m *model) bytes() uint64 {
	var n uint64
	for _, x := range m.msgs {
		n += m.size(x)
	}
	return n
}

func (m *model) subjectSeqs(match func(string) bool) []uint64 {
	var out []uint64
	for _, s := range m.seqs() {
		if match(m.msgs[s].subject) {
			out = append(out, s)
		}
	}
	return out
}

func (m *model) subjectCount(subject string) int {
	return len(m.subjectSeqs(func(s string) bool { return s == subject }))
}

// store returns the sequence or the error the store must give.
func (m *model) store(x mmsg, seq uint64) (uint64, error) {
	l := m.limits
	size := m.size(x)
	if seq == 0 {
		seq = m.last + 1
	} else if seq <= m.last {
		return 0, ErrSeqNotAfterLast
	}
	if l.MaxBytes > 0 && size > l.MaxBytes {
		return 0, ErrMaxBytes
	}
	if l.Discard == DiscardNew {
		switch {
		case l.MaxMsgs > 0 && uint64(len(m.msgs))+1 > l.MaxMsgs:
			return 0, ErrMaxMsgs
		case l.MaxBytes > 0 && m.bytes()+size > l.MaxBytes:
			return 0, ErrMaxBytes
		case l.DiscardNewPerSubject && l.MaxMsgsPerSubject > 0 && uint64(m.subjectCount(x.subject))+1 > l.MaxMsgsPerSubject:
			return 0, ErrMaxMsgsPerSubj
		}
	}
	m.msgs[seq] = x
	m.last, m.lastTime = seq, x.time
	if l.MaxMsgsPerSubject > 0 {
		for ss := m.subjectSeqs(func(s string) bool { return s == x.subject }); uint64(len(ss)) > l.MaxMsgsPerSubject; ss = ss[1:] {
			m.evict(ss[0])
		}
	}
	m.trimFront()
	return seq, nil
}

func (m *model) trimFront() {
	for m.limits.MaxMsgs > 0 && uint64(len(m.msgs)) > m.limits.MaxMsgs {
		m.evict(m.seqs()[0])
	}
	for m.limits.MaxBytes > 0 && m.bytes() > m.limits.MaxBytes {
		m.evict(m.seqs()[0])
	}
}

func (m *model) setLimits(l Limits, now int64) {
	m.limits = l
	if l.MaxMsgsPerSubject > 0 {
		bySubject := map[string][]uint64{}
		for _, s := range m.seqs() {
			bySubject[m.msgs[s].subject] = append(bySubject[m.msgs[s].subject], s)
		}
		for _, ss := range bySubject {
			for uint64(len(ss)) > l.MaxMsgsPerSubject {
				m.evict(ss[0])
				ss = ss[1:]
			}
		}
	}
	m.trimFront()
	m.expire(now)
}

func (m *model) expire(now int64) {
	for _, s := range m.seqs() {
		if x := m.msgs[s]; x.ttl > 0 && x.time+x.ttl <= now {
			delete(m.msgs, s)
		}
	}
	if age := int64(m.limits.MaxAge); age > 0 {
		for _, s := range m.seqs() {
			x := m.msgs[s]
			if x.ttl != 0 {
				continue
			}
			if x.time > now-age {
				break
			}
			delete(m.msgs, s)
		}
	}
}

func (m *model) compact(seq uint64) uint64 {
	floor := max(seq, 1)
	n := uint64(0)
	for _, s := range m.seqs() {
		if s < floor {
			delete(m.msgs, s)
			n++
		}
	}
	if floor > m.last+1 {
		m.last = floor - 1
	}
	return n
}

func (m *model) truncate(seq uint64) error {
	if seq+1 < m.firstSeq() {
		return ErrTruncateTooLow
	}
	if seq >= m.last {
		return nil
	}
	for _, s := range m.seqs() {
		if s > seq {
			delete(m.msgs, s)
		}
	}
	m.last, m.lastTime = seq, 0
	if x, ok := m.msgs[seq]; ok {
		m.lastTime = x.time
	}
	return nil
}

func (m *model) purge(f Filter, all bool, seq, keep uint64) uint64 {
	if all {
		switch {
		case seq != 0:
			return m.compact(seq)
		case keep != 0:
			ss := m.seqs()
			if uint64(len(ss)) <= keep {
				return 0
			}
			return m.compact(ss[uint64(len(ss))-keep])
		}
		return m.compact(m.last + 1)
	}
	bySubject := map[string][]uint64{}
	for _, s := range m.seqs() {
		if sub := m.msgs[s].subject; f.Matches(sub) {
			bySubject[sub] = append(bySubject[sub], s)
		}
	}
	n := uint64(0)
	for _, ss := range bySubject {
		for i, s := range ss {
			if (seq != 0 && s >= seq) || (keep != 0 && uint64(len(ss)-i) <= keep) {
				break
			}
			delete(m.msgs, s)
			n++
		}
	}
	return n
}

func (m *model) firstSeq() uint64 {
	if ss := m.seqs(); len(ss) > 0 {
		return ss[0]
	}
	return m.last + 1
}

func (m *model) state() State {
	ss := m.seqs()
	subjects := map[string]bool{}
	for _, x := range m.msgs {
		subjects[x.subject] = true
	}
	st := State{Msgs: uint64(len(ss)), Bytes: m.bytes(), FirstSeq: envSeq(int(m.last + 1)), LastSeq: envSeq(int(m.last)),
		LastTime: m.lastTime, NumSubjects: uint64(len(subjects))}
	if len(ss) > 0 {
		st.FirstSeq, st.FirstTime = envSeq(int(ss[0])), m.msgs[ss[0]].time
		st.NumDeleted = m.last - ss[0] + 1 - uint64(len(ss))
	}
	return st
}

func (m *model) deleted() []SeqRange {
	ss := m.seqs()
	if len(ss) == 0 {
		return nil
	}
	var out []SeqRange
	next := ss[0]
	for _, s := range ss {
		if next < s {
			out = append(out, SeqRange{First: envSeq(int(next)), Last: envSeq(int(s - 1))})
		}
		next = s + 1
	}
	if next <= m.last {
		out = append(out, SeqRange{First: envSeq(int(next)), Last: envSeq(int(m.last))})
	}
	return out
}

// find returns the first (forward) or last seq from start matching f, or 0.
func (m *model) find(f Filter, start uint64, forward bool) uint64 {
	ss := m.seqs()
	if forward {
		for _, s := range ss {
			if s >= start && f.Matches(m.msgs[s].subject) {
				return s
			}
		}
		return 0
	}
	for i := len(ss) - 1; i >= 0; i-- {
		if ss[i] <= start && f.Matches(m.msgs[ss[i]].subject) {
			return ss[i]
		}
	}
	return 0
}

func (m *model) numPending(start uint64, f Filter, lastPerSubject bool) uint64 {
	start = max(start, 1)
	last := map[string]uint64{}
	n := uint64(0)
	for _, s := range m.seqs() {
		sub := m.msgs[s].subject
		if !f.Matches(sub) {
			continue
		}
		last[sub] = s
		if s >= start {
			n++
		}
	}
	if !lastPerSubject {
		return n
	}
	n = 0
	for _, s := range last {
		if s >= start {
			n++
		}
	}
	return n
}

func (m *model) subjectsState(f Filter) map[string]SubjectState {
	out := map[string]SubjectState{}
	for _, s := range m.seqs() {
		sub := m.msgs[s].subject
		if !f.Matches(sub) {
			continue
		}
		st := out[sub]
		if st.Msgs == 0 {
			st.First = envSeq(int(s))
		}
		st.Msgs++
		st.Last = envSeq(int(s))
		out[sub] = st
	}
	return out
}

func (x mmsg) ttlDuration() time.Duration { return durationOf(x.ttl) }

func (m *model) clone() *model {
	c := *m
	c.msgs = make(map[uint64]mmsg, len(m.msgs))
	for k, v := range m.msgs {
		c.msgs[k] = v
	}
	c.evicted = make(map[uint64]mmsg, len(m.evicted))
	for k, v := range m.evicted {
		c.evicted[k] = v
	}
	return &c
}
