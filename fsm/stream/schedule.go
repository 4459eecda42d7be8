package stream

import (
	"container/heap"
	"strings"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/core/proto"
	"github.com/petrel-io/petrel/core/subject"
	"github.com/petrel-io/petrel/core/tzdb"
	"github.com/petrel-io/petrel/filestore"
)

// Message schedules (ADR-51, allow_msg_schedules): a message with "Nats-Schedule: <pattern>"
// and "Nats-Schedule-Target: <subject>" is kept (one per subject: it rolls up its subject)
// and, when its pattern fires, the stream stores a copy of its body on the target with
// Nats-Scheduler (the schedule's subject) and Nats-Schedule-Next (the next time, or "purge"
// for a one-off, which removes the schedule). Patterns: "@at <RFC 3339>", "@every
// <duration >= 1s>", "@yearly" and the like, or a six-field cron pattern (cron.go), read in
// UTC or in the zone Nats-Schedule-Time-Zone names (cron patterns only; see scheduleZone).
//
// Time is the entries' (the proposer's clock): Due takes "now" from the caller, so replicas
// that apply the same entries produce the same messages.

const (
	hdrSchedule         = "Nats-Schedule"
	hdrScheduleTarget   = "Nats-Schedule-Target"
	hdrScheduleSource   = "Nats-Schedule-Source"
	hdrScheduleTTL      = "Nats-Schedule-TTL"
	hdrScheduleRollup   = "Nats-Schedule-Rollup"
	hdrScheduleTimeZone = "Nats-Schedule-Time-Zone"
	hdrScheduler        = "Nats-Scheduler"
	hdrScheduleNext     = "Nats-Schedule-Next"
	scheduleNextPurge   = "purge"
)

// scheduleEntry is one waiting schedule.
type scheduleEntry struct {
	at      int64 // when it fires (Unix ns)
	seq     uint64
	subject string
	index   int
}

// schedules is a min-heap by time, with the entry of each schedule subject.
type schedules struct {
	heap      []*scheduleEntry
	bySubject map[string]*scheduleEntry
}

func (h *schedules) Len() int           { return len(h.heap) }
func (h *schedules) Less(i, j int) bool { return h.heap[i].at < h.heap[j].at }
func (h *schedules) Swap(i, j int) {
	h.heap[i], h.heap[j] = h.heap[j], h.heap[i]
	h.heap[i].index, h.heap[j].index = i, j
}
func (h *schedules) Push(x any) {
	e := x.(*scheduleEntry)
	e.index = len(h.heap)
	h.heap = append(h.heap, e)
}
func (h *schedules) Pop() any {
	e := h.heap[len(h.heap)-1]
	h.heap = h.heap[:len(h.heap)-1]
	return e
}

// set schedules subject's message seq to fire at at, replacing its earlier schedule.
func (h *schedules) set(subj string, seq uint64, at int64) {
	if h.bySubject == nil {
		h.bySubject = map[string]*scheduleEntry{}
	}
	if old := h.bySubject[subj]; old != nil {
		heap.Remove(h, old.index)
	}
	e := &scheduleEntry{at: at, seq: seq, subject: subj}
	h.bySubject[subj] = e
	heap.Push(h, e)
}

// parseSchedule is when a pattern next fires after a message stored at stored, seen at now.
// A cron pattern is read in loc and fires in it (nats-server's Nats-Schedule-Next shows the
// zone's offset); zoned says the message named a zone, which @at and @every refuse.
func parseSchedule(pattern string, loc *time.Location, zoned bool, stored, now int64) (next time.Time, repeat, ok bool) {
	switch {
	case strings.HasPrefix(pattern, "@at "):
		t, err := time.Parse(time.RFC3339, pattern[4:])
		return t, false, err == nil && !zoned
	case strings.HasPrefix(pattern, "@every "):
		d, err := time.ParseDuration(pattern[7:])
		if err != nil || d < time.Second || zoned {
			return time.Time{}, false, false
		}
		at := time.Unix(0, stored).UTC().Round(time.Second).Add(d)
		if n := time.Unix(0, now).UTC(); at.Before(n) {
			at = n.Round(time.Second).Add(d) // after a long pause it fires once, not many times
		}
		return at, true, true
	}
	c, err := parseCronPattern(cronAlias(pattern))
	if err != nil {
		return time.Time{}, false, false
	}
	t, found := c.next(time.Unix(0, max(stored, now)), loc)
	return t, true, found
}

// scheduleZone is the zone a schedule's cron fields are read in: UTC without
// Nats-Schedule-Time-Zone; zoned reports the header. nats-server takes any name
// time.LoadLocation does, which reads the host's zoneinfo; here the names are the embedded
// IANA database's (core/tzdb), the same on every host and in the simulator. "Local", the
// host's zone to nats-server, is UTC: replicas on hosts in other zones must agree.
func scheduleZone(hdr []byte) (loc *time.Location, zoned bool, e *jsapi.Error) {
	name, zoned := proto.HeaderValue(hdr, hdrScheduleTimeZone), proto.HasHeader(hdr, hdrScheduleTimeZone)
	switch {
	case !zoned || name == "Local":
		return time.UTC, zoned, nil
	case name == "":
		return nil, true, jsapi.E(jsapi.ErrMessageSchedulesTimeZoneInvalid)
	}
	loc, err := tzdb.Load(name)
	if err != nil {
		return nil, true, jsapi.E(jsapi.ErrMessageSchedulesTimeZoneInvalid)
	}
	return loc, true, nil
}

// nextFire is when the schedule message with headers hdr next fires; ok is false if its
// zone or pattern is invalid.
func nextFire(hdr []byte, stored, now int64) (next time.Time, repeat, ok bool) {
	loc, zoned, e := scheduleZone(hdr)
	if e != nil {
		return time.Time{}, false, false
	}
	return parseSchedule(proto.HeaderValue(hdr, hdrSchedule), loc, zoned, stored, now)
}

func cronAlias(p string) string {
	switch p {
	case "@yearly", "@annually":
		return "0 0 0 1 1 *"
	case "@monthly":
		return "0 0 0 1 * *"
	case "@weekly":
		return "0 0 0 * * 0"
	case "@daily", "@midnight":
		return "0 0 0 * * *"
	case "@hourly":
		return "0 0 * * * *"
	}
	return p
}

// checkSchedule holds a schedule message (or a produced one) to nats-server's rules.
// schedule reports that the message is a schedule (it rolls up its subject). As in
// nats-server, a bad zone is refused even without a pattern, and an empty pattern is no
// schedule.
func (s *Stream) checkSchedule(subj string, hdr []byte, now int64) (schedule bool, e *jsapi.Error) {
	if e := s.checkProduced(subj, hdr); e != nil {
		return false, e
	}
	pattern := proto.HeaderValue(hdr, hdrSchedule)
	if pattern == "" && !proto.HasHeader(hdr, hdrScheduleTimeZone) {
		return false, nil
	}
	loc, zoned, e := scheduleZone(hdr)
	if e == nil && pattern != "" {
		if _, _, ok := parseSchedule(pattern, loc, zoned, now, now); !ok {
			e = jsapi.E(jsapi.ErrMessageSchedulesPatternInvalid)
		}
	}
	switch {
	case e != nil && !s.cfg.AllowMsgSchedules:
		return false, jsapi.E(jsapi.ErrMessageSchedulesDisabled)
	case e != nil || pattern == "":
		return false, e
	}
	return true, s.checkScheduleHeaders(subj, hdr)
}

// checkScheduleHeaders holds a valid schedule's other headers to nats-server's rules.
func (s *Stream) checkScheduleHeaders(subj string, hdr []byte) *jsapi.Error {
	target := proto.HeaderValue(hdr, hdrScheduleTarget)
	source := proto.HeaderValue(hdr, hdrScheduleSource)
	ttl := proto.HeaderValue(hdr, hdrScheduleTTL)
	_, ttlErr := filestore.ParseTTL(ttl)
	switch {
	case !s.cfg.AllowMsgSchedules:
		return jsapi.E(jsapi.ErrMessageSchedulesDisabled)
	case ttl != "" && ttlErr != nil:
		return jsapi.E(jsapi.ErrMessageSchedulesTTLInvalid)
	case ttl != "" && !s.cfg.AllowMsgTTL:
		return jsapi.E(jsapi.ErrMessageTTLDisabled)
	case proto.HasHeader(hdr, hdrScheduleRollup) && proto.HeaderValue(hdr, hdrScheduleRollup) != rollupSubject:
		return jsapi.E(jsapi.ErrMessageSchedulesRollupInvalid)
	case target == "" || !subject.ValidPublish(target) || target == subj || !s.holds(target):
		return jsapi.E(jsapi.ErrMessageSchedulesTargetInvalid)
	case source != "" && (source == target || source == subj || !subject.ValidPublish(source) || !s.holds(source)):
		return jsapi.E(jsapi.ErrMessageSchedulesSourceInvalid)
	case proto.HasHeader(hdr, hdrRollup) && proto.HeaderValue(hdr, hdrRollup) != rollupSubject:
		return jsapi.E(jsapi.ErrMessageSchedulesRollupInvalid)
	}
	return nil
}

// checkProduced: a message carrying Nats-Schedule-Next must be a scheduler's product.
func (s *Stream) checkProduced(subj string, hdr []byte) *jsapi.Error {
	if !proto.HasHeader(hdr, hdrScheduleNext) {
		return nil
	}
	scheduler := proto.HeaderValue(hdr, hdrScheduler)
	if proto.HeaderValue(hdr, hdrScheduleNext) != scheduleNextPurge && !s.cfg.AllowMsgSchedules {
		return jsapi.E(jsapi.ErrMessageSchedulesSchedulerInvalid)
	}
	if scheduler == "" || scheduler == subj || !subject.ValidPublish(scheduler) {
		return jsapi.E(jsapi.ErrMessageSchedulesSchedulerInvalid)
	}
	return nil
}

// holds reports whether subj is one of the stream's subjects.
func (s *Stream) holds(subj string) bool {
	for _, f := range s.cfg.Subjects {
		if subject.Intersects(f, subj) {
			return true
		}
	}
	return false
}

// noteSchedule registers a stored schedule message.
func (s *Stream) noteSchedule(m Msg, seq uint64) {
	if at, _, ok := nextFire(m.Header, m.Time, m.Time); ok {
		s.schedules.set(m.Subject, seq, at.UnixNano())
	}
}

// NextSchedule is when the next schedule fires (Unix ns), if any is waiting.
func (s *Stream) NextSchedule() (int64, bool) {
	if len(s.schedules.heap) == 0 {
		return 0, false
	}
	return s.schedules.heap[0].at, true
}

// DueSchedules returns the messages the schedules due at now produce, to Apply in order.
func (s *Stream) DueSchedules(now int64) []Msg {
	var out []Msg
	for len(s.schedules.heap) > 0 && s.schedules.heap[0].at <= now {
		e := heap.Pop(&s.schedules).(*scheduleEntry)
		delete(s.schedules.bySubject, e.subject)
		sm, err := s.store.LoadMsg(env.Seq(e.seq))
		if err != nil || sm.Subject != e.subject {
			continue // the schedule went (purged, replaced, expired)
		}
		next, repeat, ok := nextFire(sm.Header, e.at, now)
		if !ok {
			continue
		}
		out = append(out, s.produce(sm, next, repeat, now))
		if repeat {
			s.schedules.set(e.subject, e.seq, next.UnixNano())
		}
	}
	return out
}

// produce is the message a schedule puts on its target.
func (s *Stream) produce(sm *filestore.Msg, next time.Time, repeat bool, now int64) Msg {
	body, hdrSrc := sm.Data, sm.Header
	if source := proto.HeaderValue(sm.Header, hdrScheduleSource); source != "" {
		if f, err := filestore.NewFilter(source); err == nil {
			if last, err := s.store.LoadLast(f); err == nil {
				body, hdrSrc = last.Data, last.Header
			}
		}
	}
	target := proto.HeaderValue(sm.Header, hdrScheduleTarget)
	ttl := proto.HeaderValue(sm.Header, hdrScheduleTTL)
	rollup := proto.HeaderValue(sm.Header, hdrScheduleRollup)
	hdr := proto.RemoveHeaders(hdrSrc, hdrSchedule) // Nats-Schedule, Nats-Schedule-*, Nats-Scheduler
	for _, h := range []string{hdrExpectedPrefix, hdrMsgID, hdrTTL, hdrRollup} {
		hdr = proto.RemoveHeaders(hdr, h)
	}
	hdr = proto.AppendHeader(hdr, hdrScheduler, sm.Subject)
	nextText := scheduleNextPurge
	if repeat {
		nextText = next.Format(time.RFC3339Nano) // in the schedule's zone, as nats-server writes it
	}
	hdr = proto.AppendHeader(hdr, hdrScheduleNext, nextText)
	if ttl != "" {
		hdr = proto.AppendHeader(hdr, hdrTTL, ttl)
	}
	if rollup != "" {
		hdr = proto.AppendHeader(hdr, hdrRollup, rollup)
	}
	return Msg{Subject: target, Header: hdr, Data: append([]byte(nil), body...), Time: now}
}

// rebuildSchedules finds the stored schedules (at start).
func (s *Stream) rebuildSchedules(now int64) {
	if !s.cfg.AllowMsgSchedules {
		return
	}
	for seq := env.Seq(0); ; {
		m, err := s.store.LoadNext(filestore.AllSubjects, seq+1)
		if err != nil {
			return
		}
		seq = m.Seq
		if proto.HeaderValue(m.Header, hdrSchedule) != "" {
			if at, _, ok := nextFire(m.Header, m.Time, now); ok {
				s.schedules.set(m.Subject, uint64(m.Seq), at.UnixNano())
			}
		}
	}
}
