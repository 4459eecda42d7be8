package workload

import (
	"errors"
	"sort"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/filestore"
)

// Limits under faults. A seed may give the store a per-subject limit, a message or byte
// limit (discarding old messages or refusing new ones), a MaxAge, per-message TTLs, or none.
// An acknowledged message may then be gone for a reason the checker can prove, and for no
// other:
//   - evicted (never when the limit refuses new messages instead): at least
//     MaxMsgsPerSubject later messages on its subject, or MaxMsgs later messages in all, are
//     acknowledged or stored now; or later ones fill MaxBytes to within one message. (The
//     store removes oldest first and stops once under the limit, so it is left fuller than
//     that; the messages it removed after this one, not acknowledged, may be gone for good.)
//     A later message that was neither acknowledged nor survived is no cause: a removal must
//     not outlive what caused it;
//   - expired: its deadline (timestamp plus TTL, or plus MaxAge) is at or before the latest
//     wall-clock time the store was ever shown (the clock may jump back; the store may have
//     acted on the later reading).

// fsLimits is the seed's choice of limits and what the checker learned to judge them.
type fsLimits struct {
	limits filestore.Limits
	ttls   bool // writers give some messages a TTL of their own

	subjOf    map[env.Seq]string   // acknowledged sequence → subject
	size      map[env.Seq]int      // acknowledged sequence → size as MaxBytes counts it
	bySubject map[string][]env.Seq // acknowledged sequences per subject, ascending
	all       []env.Seq            // acknowledged sequences, ascending
	deadline  map[env.Seq]int64    // acknowledged sequence → wall-clock expiry (Unix ns)
	maxWall   int64                // the latest Now the store was given
	// overfull: a message lost to a transient read error came back at this recovery, so the
	// store may hold more than its limits allow, and recovery evicts the oldest to fit them
	// even under DiscardNew (checked while the recovery's messages are verified).
	overfull bool
}

// fsWrite is what a writer stored: the subject, the size as MaxBytes counts it, the TTL, and
// the node's wall clock just before the call (the store stamps the message at or after it).
type fsWrite struct {
	subject string
	size    int
	time    int64
	ttl     time.Duration
}

const (
	fsTTLMin = 50 * time.Millisecond
	fsTTLMax = 3 * time.Second
)

func (l *fsLimits) choose(r env.Rand) {
	l.subjOf, l.bySubject, l.deadline, l.size = map[env.Seq]string{}, map[string][]env.Seq{}, map[env.Seq]int64{}, map[env.Seq]int{}
	switch r.Intn(5) {
	case 0: // drawn apart, so the seeds that drew the other cases keep them
		l.chooseBytesOrNew(r)
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

// chooseBytesOrNew picks no limit, a byte limit discarding old messages, or a limit that
// refuses new messages.
func (l *fsLimits) chooseBytesOrNew(r env.Rand) {
	switch r.Intn(3) {
	case 1:
		l.limits.MaxBytes = uint64(env.Between(r, 8<<10, 128<<10))
	case 2:
		l.limits.Discard = filestore.DiscardNew
		switch r.Intn(3) {
		case 0:
			l.limits.MaxMsgs = uint64(env.Between(r, 50, 400))
		case 1:
			l.limits.MaxBytes = uint64(env.Between(r, 16<<10, 128<<10))
		default:
			l.limits.MaxMsgsPerSubject = uint64(env.Between(r, 1, 6))
			l.limits.DiscardNewPerSubject = true
		}
	}
}

// compactKeep is how many of the newest acknowledged messages a compaction keeps: fewer
// than the store holds when it refuses new messages, so compactions make room for writers.
func (l *fsLimits) compactKeep(keep int) int {
	if l.limits.Discard != filestore.DiscardNew {
		return keep
	}
	if n := l.limits.MaxMsgs; n > 0 {
		keep = min(keep, int(n)/2)
	}
	if b := l.limits.MaxBytes; b > 0 {
		keep = min(keep, int(b)/(2*fsMsgSizeMax))
	}
	if k := l.limits.MaxMsgsPerSubject; k > 0 {
		keep = min(keep, fsWriters*fsSubjectsPerWriter*int(k)/2)
	}
	return keep
}

// refused reports whether err is the limit refusing a new message, which the seed's limits
// allow.
func (l *fsLimits) refused(err error) bool {
	return l.limits.Discard == filestore.DiscardNew &&
		(errors.Is(err, filestore.ErrMaxMsgs) || errors.Is(err, filestore.ErrMaxBytes) || errors.Is(err, filestore.ErrMaxMsgsPerSubj))
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

// acked records an acknowledged message's subject, size and expiry deadline.
func (l *fsLimits) acked(seq env.Seq, w fsWrite) {
	switch {
	case w.ttl > 0:
		l.deadline[seq] = w.time + int64(w.ttl)
	case w.ttl == 0 && l.limits.MaxAge > 0:
		l.deadline[seq] = w.time + int64(l.limits.MaxAge)
	}
	l.subjOf[seq] = w.subject
	l.size[seq] = w.size
	l.bySubject[w.subject] = insertSeq(l.bySubject[w.subject], seq)
	l.all = insertSeq(l.all, seq)
}

func (l *fsLimits) expired(seq env.Seq) bool {
	d, ok := l.deadline[seq]
	return ok && d <= l.maxWall
}

func (l *fsLimits) evicts() bool {
	old := l.limits.Discard == filestore.DiscardOld || l.overfull
	return l.limits.MaxMsgsPerSubject > 0 && (old || !l.limits.DiscardNewPerSubject) ||
		old && (l.limits.MaxMsgs > 0 || l.limits.MaxBytes > 0)
}

// fsStored is a message the store holds now.
type fsStored struct {
	subject string
	size    int
}

// evicted reports whether the acknowledged messages and those stored now above seq are
// enough to have pushed seq out.
func (l *fsLimits) evicted(seq env.Seq, stored map[env.Seq]fsStored) bool {
	lim := &l.limits
	subject := l.subjOf[seq]
	onSubject, inAll := countAbove(l.bySubject[subject], seq), countAbove(l.all, seq)
	bytes := 0
	if lim.MaxBytes > 0 {
		for _, s := range l.all[len(l.all)-inAll:] {
			bytes += l.size[s]
		}
	}
	for s, m := range stored {
		if _, acked := l.subjOf[s]; !acked {
			inAll++
			bytes += m.size
			if m.subject == subject {
				onSubject++
			}
		}
	}
	if k := lim.MaxMsgsPerSubject; k > 0 && (lim.Discard == filestore.DiscardOld || !lim.DiscardNewPerSubject) && onSubject >= int(k) {
		return true
	}
	if lim.Discard != filestore.DiscardOld && !l.overfull {
		return false
	}
	return lim.MaxMsgs > 0 && inAll >= int(lim.MaxMsgs) || lim.MaxBytes > 0 && bytes+fsMsgSizeMax > int(lim.MaxBytes)
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

// fsMsgSize is a message's size as the store's MaxBytes counts it: subject, headers and data,
// plus 16 bytes (nats-server's accounting, and the file store's msgOverheadBytes).
func fsMsgSize(subject string, hdr, data int) int { return len(subject) + hdr + data + 16 }

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
