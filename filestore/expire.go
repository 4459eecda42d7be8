package filestore

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// Expiry: MaxAge and per-message TTLs are enforced by a timer the store arms on its own
// executor through env.Clock, for the earliest deadline it knows. The store reads time only
// through that Clock (Now for message timestamps and deadlines), so the simulator controls
// expiry like everything else. A wall clock that jumps makes a timer fire early (the pass
// finds nothing and re-arms) or late; expiryRecheckMax bounds how late.

// expiryRecheckMax bounds a timer's delay so that a wall clock stepped forward is noticed
// within this long.
const expiryRecheckMax = 30 * time.Second

// markerReasonHeader names the header of a subject delete marker (ADR-43).
const markerReasonHeader = "Nats-Marker-Reason"

// ttlItem is a message with a TTL and the wall-clock time (Unix ns) it expires.
type ttlItem struct {
	expire int64
	seq    uint64
}

// ttlHeap is a min-heap ordered by (expire, seq): the order is total, so expiry removes
// messages in the same order on every run. Items of messages removed otherwise stay until
// they reach the top and are discarded then.
type ttlHeap []ttlItem

func (h ttlItem) before(o ttlItem) bool {
	return h.expire < o.expire || (h.expire == o.expire && h.seq < o.seq)
}

func (h *ttlHeap) push(it ttlItem) {
	*h = append(*h, it)
	q := *h
	for i := len(q) - 1; i > 0; {
		p := (i - 1) / 2
		if !q[i].before(q[p]) {
			break
		}
		q[i], q[p] = q[p], q[i]
		i = p
	}
}

func (h *ttlHeap) pop() ttlItem {
	q := *h
	top := q[0]
	last := len(q) - 1
	q[0] = q[last]
	q = q[:last]
	for i := 0; ; {
		l := 2*i + 1
		if l >= len(q) {
			break
		}
		m := l
		if r := l + 1; r < len(q) && q[r].before(q[l]) {
			m = r
		}
		if !q[m].before(q[i]) {
			break
		}
		q[i], q[m] = q[m], q[i]
		i = m
	}
	*h = q
	return top
}

// live reports whether a heap item still describes a live message's TTL.
func (s *store) live(it ttlItem) bool {
	e := s.msgs.get(it.seq)
	return e != nil && e.ttl > 0 && e.time+e.ttl == it.expire
}

// expire removes every message whose TTL or MaxAge has passed (at most expiryBatchMax per
// pass), stores subject delete markers if configured, and re-arms the timer.
func (s *store) expire() {
	if s.usable() != nil {
		return
	}
	now := s.e.Clock.Now().UnixNano()
	var doomed []uint64
	for len(s.ttls) > 0 && s.ttls[0].expire <= now && len(doomed) < expiryBatchMax {
		if it := s.ttls.pop(); s.live(it) {
			doomed = append(doomed, it.seq)
		}
	}
	if maxAge := int64(s.cfg.Limits.MaxAge); maxAge > 0 {
		cutoff := now - maxAge
		s.msgs.ascend(0, func(seq uint64, e *entry) bool {
			if e.ttl != 0 {
				return true // its own TTL (or never) governs it, not MaxAge
			}
			if e.time > cutoff || len(doomed) >= expiryBatchMax {
				return false
			}
			doomed = append(doomed, seq)
			return true
		})
	}
	if len(doomed) == 0 {
		s.armExpiry()
		return
	}
	sort.Slice(doomed, func(i, j int) bool { return doomed[i] < doomed[j] })
	var emptied []emptiedSubject
	for _, seq := range doomed {
		e := s.msgs.get(seq)
		subject, isMarker := s.subjectOf(e).subject, e.flags&entryMarker != 0
		s.removeMsg(seq, logged)
		if !isMarker && s.subjects.find(subject) == nil {
			emptied = append(emptied, emptiedSubject{subject, seq})
		}
	}
	markers := s.storeMarkers(emptied)
	s.postCommit()
	if len(markers) > 0 && s.cfg.Marked != nil {
		// A completion of the commit just posted: the owner hears of the markers once they
		// are durable (never inside SetLimits, where expire also runs).
		s.waiting = append(s.waiting, func(err error) {
			if err == nil {
				s.cfg.Marked(markers)
			}
		})
	}
	if len(doomed) >= expiryBatchMax {
		s.ex.Post(s.expire)
		return
	}
	s.armExpiry()
}

// nextExpiry returns the earliest wall-clock deadline (Unix ns) of a TTL or MaxAge, or 0.
func (s *store) nextExpiry() int64 {
	for len(s.ttls) > 0 && !s.live(s.ttls[0]) {
		s.ttls.pop()
	}
	var next int64
	if len(s.ttls) > 0 {
		next = s.ttls[0].expire
	}
	if maxAge := int64(s.cfg.Limits.MaxAge); maxAge > 0 {
		s.msgs.ascend(0, func(_ uint64, e *entry) bool {
			if e.ttl != 0 {
				return true
			}
			if d := e.time + maxAge; next == 0 || d < next {
				next = d
			}
			return false
		})
	}
	return next
}

// armExpiry makes sure a timer will run expire at or before the earliest deadline.
func (s *store) armExpiry() {
	if s.closed || s.failed != nil || (s.cfg.Limits.MaxAge == 0 && len(s.ttls) == 0) {
		return
	}
	next := s.nextExpiry()
	if next == 0 || (s.expiryTimer != nil && s.expiryAt <= next) {
		return
	}
	if s.expiryTimer != nil {
		s.expiryTimer.Stop()
	}
	now := s.e.Clock.Now().UnixNano()
	delay := min(max(time.Duration(next-now), 0), expiryRecheckMax)
	s.expiryAt = now + int64(delay)
	s.expiryTimer = s.e.Clock.AfterFunc(delay, s.ex, func() {
		s.expiryTimer, s.expiryAt = nil, 0
		s.expire()
	})
}

// ParseTTL reads a Nats-TTL header value as nats-server does: "never" (in any case), a
// number of seconds (digits only), or a Go duration of at least a second, counted in whole
// seconds ("1500ms" is 1s). Zero means no TTL. Anything else is an error.
func ParseTTL(v string) (time.Duration, error) {
	if strings.EqualFold(v, "never") {
		return TTLNever, nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		if d < time.Second {
			return 0, fmt.Errorf("%w: %q is under a second", errBadTTL, v)
		}
		return d.Truncate(time.Second), nil
	}
	if v == "" || strings.Trim(v, "0123456789") != "" {
		return 0, fmt.Errorf("%w: %q", errBadTTL, v)
	}
	secs, err := strconv.ParseInt(v, 10, 64)
	if err != nil || secs > int64(time.Duration(1<<63-1)/time.Second) {
		return 0, fmt.Errorf("%w: %q", errBadTTL, v)
	}
	return time.Duration(secs) * time.Second, nil
}

var errBadTTL = errors.New("filestore: invalid TTL")

// emptiedSubject is a subject an expiry left without messages.
type emptiedSubject struct {
	subject string
	last    uint64 // the subject's message whose expiry emptied it
}

// storeMarkers stores a subject delete marker for each emptied subject, when the stream
// keeps them, and returns them.
func (s *store) storeMarkers(emptied []emptiedSubject) []Marker {
	ttl := s.cfg.Limits.SubjectDeleteMarkerTTL
	if ttl <= 0 || len(emptied) == 0 {
		return nil
	}
	var markers []Marker
	hdr := []byte("NATS/1.0\r\n" + markerReasonHeader + ": MaxAge\r\nNats-TTL: " + ttl.String() + "\r\nNats-Rollup: sub\r\n\r\n")
	for _, em := range emptied {
		seq, err := s.storeMsg(em.subject, hdr, nil, StoreOpts{TTL: ttl}, entryMarker)
		if err != nil {
			// Limits (DiscardNew) may refuse a marker; the removal itself stands.
			s.e.Log.Logf(env.LevelWarn, "filestore %s: subject delete marker on %q: %v", s.cfg.Dir, em.subject, err)
			continue
		}
		markers = append(markers, Marker{Seq: env.Seq(seq), Prev: env.Seq(em.last)})
	}
	return markers
}
