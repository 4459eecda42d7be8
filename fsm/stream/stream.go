package stream

import (
	"errors"
	"strconv"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/core/proto"
	"github.com/petrel-io/petrel/filestore"
)

// Msg is a publish to apply.
type Msg struct {
	Subject string
	Header  []byte
	Data    []byte
	// Time is the message's timestamp (Unix ns), stamped once by whoever proposes it.
	Time int64
	// schedule: the checks found it a message schedule (schedule.go); it rolls up its subject.
	schedule bool
}

// Result is the answer to a publish: a PubAck, or the error that refused it.
type Result struct {
	Ack jsapi.PubAck
	Err *jsapi.Error
	// staged: a batch message kept for its commit, answered with an empty reply.
	staged bool
	// Batch lists the messages a committed atomic batch stored, in order.
	Batch []Stored
}

// Stream applies publishes to its store.
//
// Threading: a Stream belongs to its store's executor.
type Stream struct {
	cfg   jsapi.StreamConfig
	store filestore.Store
	dedup dedup
	// lastMsgID is the Nats-Msg-Id of the last message stored ("" if it had none), for
	// Nats-Expected-Last-Msg-Id.
	lastMsgID string
	// batches are the atomic batches being staged, by id (batch.go).
	batches map[string]*batch
	// schedules are the message schedules waiting to fire (schedule.go).
	schedules schedules
	// durable is the last sequence whose store completed without error: every message up to
	// it is durable (completions run in call order). Readers that must never see a message
	// a crash or a failed write could take back (consumers) stop there.
	durable env.Seq
}

// New takes a stream's configuration (checked, defaults filled) and its store, and rebuilds
// what the rules need from the stored messages: the duplicate window as of now, and the
// last msg id.
func New(cfg jsapi.StreamConfig, store filestore.Store, now int64) *Stream {
	s := &Stream{cfg: cfg, store: store, dedup: newDedup(), batches: map[string]*batch{}}
	s.durable = store.State().LastSeq // an opened store holds only what recovery made durable
	s.rebuild(now)
	s.rebuildSchedules(now)
	return s
}

// Store is the stream's message store.
func (s *Stream) Store() filestore.Store { return s.store }

// refuseBroken answers with the store's failure if a failed write broke it: a broken
// store's index is no ground for the rules (an expected last sequence judged against it was
// refused as wrong: sim seed 1756); the owner reopens it.
func (s *Stream) refuseBroken(done func(Result)) bool {
	err := s.store.Err()
	if err != nil {
		done(s.result(0, err))
	}
	return err != nil
}

// Durable is the last sequence known durable: what a store completion confirmed, or what
// the store held when it was opened.
func (s *Stream) Durable() env.Seq { return s.durable }

// StoredBy notes that the store itself made a message durable at seq (an expiry's subject
// delete marker), so readers bounded by Durable reach it.
func (s *Stream) StoredBy(seq env.Seq) { s.stored(seq, nil) }

// stored notes a store's completion for seq.
func (s *Stream) stored(seq env.Seq, err error) {
	if err == nil && seq > s.durable {
		s.durable = seq
	}
}

// Config is the stream's configuration.
func (s *Stream) Config() jsapi.StreamConfig { return s.cfg }

// SetConfig replaces the configuration (already checked as an update) and applies its
// limits to the store.
func (s *Stream) SetConfig(cfg jsapi.StreamConfig, done func(error)) error {
	s.cfg = cfg
	return s.store.SetLimits(Limits(cfg), done)
}

// rebuild reads the messages of the last duplicate window, newest first, for their msg ids.
func (s *Stream) rebuild(now int64) {
	st := s.store.State()
	if st.Msgs == 0 {
		return
	}
	var found []*filestore.Msg
	window := int64(s.cfg.Duplicates)
	for seq := st.LastSeq; seq >= st.FirstSeq && seq > 0; {
		m, err := s.store.LoadPrev(filestore.AllSubjects, seq)
		if err != nil {
			break // nothing older, or a damaged record: the store reports it
		}
		if seq == st.LastSeq || m.Seq == st.LastSeq {
			s.lastMsgID = proto.HeaderValue(m.Header, hdrMsgID)
		}
		if window <= 0 || m.Time+window < now {
			break
		}
		found = append(found, m)
		seq = m.Seq - 1
	}
	for i := len(found) - 1; i >= 0; i-- {
		if id := proto.HeaderValue(found[i].Header, hdrMsgID); id != "" {
			s.dedup.add(id, uint64(found[i].Seq), found[i].Time, true)
		}
	}
}

// Apply stores m if the stream's rules allow it; done gets the answer (see the package doc).
func (s *Stream) Apply(m Msg, done func(Result)) {
	if s.refuseBroken(done) {
		return
	}
	if id := proto.HeaderValue(m.Header, hdrBatchID); id != "" {
		s.applyBatch(m, id, done)
		return
	}
	if r, refused := s.check(&m); refused {
		done(r)
		return
	}
	id := proto.HeaderValue(m.Header, hdrMsgID)
	if id != "" && s.cfg.Duplicates > 0 {
		s.dedup.expire(m.Time, int64(s.cfg.Duplicates))
		if e := s.dedup.byID[id]; e != nil {
			if e.durable {
				done(duplicateAck(s.cfg.Name, e.seq))
			} else {
				e.waiters = append(e.waiters, done)
			}
			return
		}
	}
	s.store1(m, id, done)
}

// store1 hands m to the store and registers its msg id before the store is durable, so a
// duplicate arriving meanwhile waits for it.
func (s *Stream) store1(m Msg, id string, done func(Result)) {
	value := ""
	if s.cfg.AllowMsgCounter {
		body, v, e := s.count(m.Subject, m.Header)
		if e != nil {
			done(Result{Ack: jsapi.PubAck{Stream: s.cfg.Name}, Err: e})
			return
		}
		m.Data, value = body, v
	}
	ttl, rollup := s.ttlOf(m.Header), proto.HeaderValue(m.Header, hdrRollup)
	hdr := proto.RemoveHeaders(m.Header, hdrExpectedPrefix)
	if m.schedule && rollup == "" {
		// A schedule replaces the one before it on its subject, and is stored saying so, as
		// nats-server stores it.
		rollup, hdr = rollupSubject, proto.AppendHeader(hdr, hdrRollup, rollupSubject)
	}
	purges := rollupPurges(m.Subject, rollup)
	if proto.HeaderValue(m.Header, hdrScheduleNext) == scheduleNextPurge {
		// a one-off schedule that fired is done
		purges = append(purges, filestore.PurgeOpts{Subject: proto.HeaderValue(m.Header, hdrScheduler)})
	}
	before := s.store.State().LastSeq
	var entry *dedupEntry
	finish := func(seq env.Seq, err error) {
		r := s.result(uint64(seq), err)
		if r.Err == nil {
			r.Ack.Value = value
		}
		done(r)
		if entry != nil {
			s.dedup.settle(entry, r) // the duplicates that waited are answered after it
		}
	}
	s.store.Store(m.Subject, hdr, m.Data, filestore.StoreOpts{Time: m.Time, TTL: ttl}, func(seq env.Seq, err error) {
		s.stored(seq, err)
		if err != nil || len(purges) == 0 {
			finish(seq, err)
		}
	})
	after := s.store.State().LastSeq
	if after == before {
		return // refused: the store's done carries the error
	}
	env.Assertf(after == before+1, "stream %s: a store moved the last sequence from %d to %d", s.cfg.Name, before, after)
	s.lastMsgID = id
	if id != "" && s.cfg.Duplicates > 0 {
		entry = s.dedup.add(id, uint64(after), m.Time, false)
	}
	if m.schedule {
		s.noteSchedule(m, uint64(after))
	}
	s.purgeAfter(purges, after, finish)
}

// rollupPurges is what a rollup of the message on subj removes.
func rollupPurges(subj, rollup string) []filestore.PurgeOpts {
	switch rollup {
	case rollupSubject:
		return []filestore.PurgeOpts{{Keep: 1, Subject: subj}}
	case rollupAll:
		return []filestore.PurgeOpts{{Keep: 1}}
	}
	return nil
}

// purgeAfter removes what the new message at seq replaces (a rollup; a one-off schedule
// that fired); the publish is answered once the purges are durable too, so an acknowledged
// rollup cannot come undone in a crash.
func (s *Stream) purgeAfter(purges []filestore.PurgeOpts, seq env.Seq, finish func(env.Seq, error)) {
	for i, opts := range purges {
		last := i == len(purges)-1
		_, err := s.store.Purge(opts, func(err error) {
			if last || err != nil {
				finish(seq, err)
			}
		})
		if err != nil {
			finish(seq, err)
			return
		}
	}
}

func (s *Stream) result(seq uint64, err error) Result {
	if err != nil {
		return Result{Ack: jsapi.PubAck{Stream: s.cfg.Name}, Err: storeError(err)}
	}
	return Result{Ack: jsapi.PubAck{Stream: s.cfg.Name, Sequence: seq}}
}

// storeError is a store failure as the API reports it: 10077 with the store's own words
// (nats-server's texts for the limits), or "message too large".
func storeError(err error) *jsapi.Error {
	if errors.Is(err, filestore.ErrMsgTooBig) {
		return jsapi.NewError(jsapi.ErrStreamStoreFailed, "message too large")
	}
	return jsapi.NewError(jsapi.ErrStreamStoreFailed, err.Error())
}

// ttlOf is the message's Nats-TTL (check already refused a bad one).
func (s *Stream) ttlOf(hdr []byte) time.Duration {
	v := proto.HeaderValue(hdr, hdrTTL)
	if v == "" {
		return 0
	}
	d, err := filestore.ParseTTL(v)
	env.Assertf(err == nil, "stream %s: TTL %q passed the check but does not parse: %v", s.cfg.Name, v, err)
	return d
}

func formatSeq(seq uint64) string { return strconv.FormatUint(seq, 10) }
