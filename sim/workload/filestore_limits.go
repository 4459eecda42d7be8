package workload

import (
	"sort"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/filestore"
)

// Limits under faults. A seed may give the store a per-subject limit, a message limit, a
// MaxAge, per-message TTLs, or none. An acknowledged message may then be gone for a reason
// the checker can prove, and for no other:
//   - evicted: at least MaxMsgsPerSubject later messages on its subject, or MaxMsgs later
//     messages in all, are acknowledged or stored now. A later message that was neither
//     acknowledged nor survived is no cause: a removal must not outlive what caused it;
//   - expired: its deadline (timestamp plus TTL, or plus MaxAge) is at or before the latest
//     wall-clock time the store was ever shown (the clock may jump back; the store may have
//     acted on the later reading).

// fsLimits is the seed's choice of limits and what the checker learned to judge them.
type fsLimits struct {
	limits filestore.Limits
	ttls   bool // writers give some messages a TTL of their own

	subjOf    map[env.Seq]string    // acknowledged sequence → subject
	bySubject map[string][]env.Seq  // acknowledged sequences per subject, ascending
	all       []env.Seq             // acknowledged sequences, ascending
	deadline  map[env.Seq]int64     // acknowledged sequence → wall-clock expiry (Unix ns)
	stamp     map[uint64]fsStampTTL // payload id → timestamp and TTL it was stored with
	maxWall   int64                 // the latest Now the store was given
}

type fsStampTTL struct {
	time int64
	ttl  time.Duration
}

const (
	fsTTLMin = 50 * time.Millisecond
	fsTTLMax = 3 * time.Second
)

func (l *fsLimits) choose(r env.Rand) {
	l.subjOf, l.bySubject, l.deadline, l.stamp = map[env.Seq]string{}, map[string][]env.Seq{}, map[env.Seq]int64{}, map[uint64]fsStampTTL{}
	switch r.Intn(5) {
	case 1:
		l.limits.MaxMsgsPerSubject = uint64(env.Between(r, 1, 6))
	case 2:
		l.limits.MaxMsgs = uint64(env.Between(r, 20, 400))
	case 3:
		l.limits.MaxAge = time.Duration(env.Between(r, int64(fsTTLMin), int64(fsTTLMax)))
		l.ttls = r.Intn(2) == 0
	case 4:
		l.ttls = true
	}
}

// ttlFor picks a message's own TTL: none, never, or a short one.
func (l *fsLimits) ttlFor(r env.Rand) time.Duration {
	if !l.ttls {
		return 0
	}
	switch r.Intn(4) {
	case 0:
		return time.Duration(env.Between(r, int64(fsTTLMin), int64(fsTTLMax)))
	case 1:
		return filestore.TTLNever
	}
	return 0
}

// stored notes what a writer stored a payload with, read from the store's clock just
// before the call (the store stamps the message at or after that reading).
func (l *fsLimits) stored(id uint64, ts int64, ttl time.Duration) {
	l.stamp[id] = fsStampTTL{ts, ttl}
}

// acked records an acknowledged message's subject and expiry deadline.
func (l *fsLimits) acked(seq env.Seq, id uint64, subject string) {
	st := l.stamp[id]
	delete(l.stamp, id)
	switch {
	case st.ttl > 0:
		l.deadline[seq] = st.time + int64(st.ttl)
	case st.ttl == 0 && l.limits.MaxAge > 0:
		l.deadline[seq] = st.time + int64(l.limits.MaxAge)
	}
	l.subjOf[seq] = subject
	l.bySubject[subject] = insertSeq(l.bySubject[subject], seq)
	l.all = insertSeq(l.all, seq)
}

func (l *fsLimits) expired(seq env.Seq) bool {
	d, ok := l.deadline[seq]
	return ok && d <= l.maxWall
}

func (l *fsLimits) evicts() bool { return l.limits.MaxMsgsPerSubject > 0 || l.limits.MaxMsgs > 0 }

// evicted reports whether the acknowledged messages and those stored now above seq (stored:
// sequence → subject) are enough to have pushed seq out.
func (l *fsLimits) evicted(seq env.Seq, stored map[env.Seq]string) bool {
	subject := l.subjOf[seq]
	onSubject, inAll := countAbove(l.bySubject[subject], seq), countAbove(l.all, seq)
	for s, subj := range stored {
		if _, acked := l.subjOf[s]; !acked {
			inAll++
			if subj == subject {
				onSubject++
			}
		}
	}
	if k := l.limits.MaxMsgsPerSubject; k > 0 && onSubject >= int(k) {
		return true
	}
	return l.limits.MaxMsgs > 0 && inAll >= int(l.limits.MaxMsgs)
}

// forget drops what a durable compaction below floor made irrelevant.
func (l *fsLimits) forget(floor env.Seq) {
	for seq, subj := range l.subjOf {
		if seq < floor {
			delete(l.subjOf, seq)
			delete(l.deadline, seq)
			l.bySubject[subj] = l.bySubject[subj][countAtOrBelow(l.bySubject[subj], floor-1):]
		}
	}
	l.all = l.all[countAtOrBelow(l.all, floor-1):]
}

func insertSeq(s []env.Seq, seq env.Seq) []env.Seq {
	i := countAtOrBelow(s, seq)
	s = append(s, 0)
	copy(s[i+1:], s[i:])
	s[i] = seq
	return s
}

func countAtOrBelow(s []env.Seq, seq env.Seq) int {
	return sort.Search(len(s), func(i int) bool { return s[i] > seq })
}

func countAbove(s []env.Seq, seq env.Seq) int { return len(s) - countAtOrBelow(s, seq) }

// fsWallClock is the node's clock as the store sees it, remembering the latest wall time
// it handed out.
type fsWallClock struct {
	env.Clock
	l *fsLimits
}

func (c fsWallClock) Now() time.Time {
	t := c.Clock.Now()
	c.l.maxWall = max(c.l.maxWall, t.UnixNano())
	return t
}
