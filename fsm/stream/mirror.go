package stream

import (
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/proto"
	"github.com/petrel-io/petrel/filestore"
)

// StoreAt stores a mirrored message at its origin's sequence (seq, above the last stored;
// the sequences between count as deleted) with the origin's timestamp (m.Time). A mirror
// copies: the publish rules (expected headers, the duplicate window) were the origin's to
// apply, so none is checked here. Two are carried out, because they are what the origin
// did with the message: its Nats-TTL (when the mirror allows TTLs) and its rollup (when
// the mirror allows rollups), so a mirror of a KV bucket forgets what the bucket purged.
// done gets the answer once the message (and its rollup) is durable.
func (s *Stream) StoreAt(m Msg, seq uint64, done func(Result)) {
	env.Assertf(seq > 0, "stream %s: a mirrored message without a sequence", s.cfg.Name)
	if s.refuseBroken(done) {
		return
	}
	var ttl time.Duration
	if s.cfg.AllowMsgTTL {
		if v := proto.HeaderValue(m.Header, hdrTTL); v != "" {
			ttl, _ = filestore.ParseTTL(v) // one the origin took parses; anything else: no TTL
		}
	}
	rollup := ""
	if s.cfg.AllowRollup && !s.cfg.DenyPurge {
		rollup = proto.HeaderValue(m.Header, hdrRollup)
		if rollup != rollupSubject && rollup != rollupAll {
			rollup = ""
		}
	}
	finish := func(at env.Seq, err error) { done(s.result(uint64(at), err)) }
	before := s.store.State().LastSeq
	s.store.Store(m.Subject, m.Header, m.Data, filestore.StoreOpts{Seq: env.Seq(seq), Time: m.Time, TTL: ttl},
		func(at env.Seq, err error) {
			s.stored(at, err)
			if err != nil || rollup == "" {
				finish(at, err)
			}
		})
	if s.store.State().LastSeq == before {
		return // refused: the store's done carries the error
	}
	s.lastMsgID = proto.HeaderValue(m.Header, hdrMsgID)
	if rollup != "" {
		s.purgeAfter(rollupPurges(m.Subject, rollup), env.Seq(seq), finish)
	}
}
