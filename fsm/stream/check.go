package stream

import (
	"strconv"

	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/core/proto"
	"github.com/petrel-io/petrel/core/subject"
	"github.com/petrel-io/petrel/filestore"
)

// view is what the expectation headers are held against: the stream as it is, plus the
// messages of an atomic batch checked before this one (staged, not stored yet).
type view struct {
	s      *Stream
	staged []Msg
}

func (v view) lastSeq() uint64 { return uint64(v.s.store.State().LastSeq) + uint64(len(v.staged)) }

// lastOf is the last sequence on subj (a filter), counting the staged messages.
func (v view) lastOf(subj string) (uint64, *jsapi.Error) {
	for i := len(v.staged) - 1; i >= 0; i-- {
		if subject.Match(v.staged[i].Subject, subj) {
			return uint64(v.s.store.State().LastSeq) + uint64(i) + 1, nil
		}
	}
	return v.s.lastOfSubject(subj)
}

// check applies the rules that may refuse m before it is stored (the duplicate window
// aside). refused reports whether r is the answer.
func (s *Stream) check(m *Msg) (r Result, refused bool) {
	return s.checkIn(view{s: s}, m)
}

// checkIn is check against a view.
func (s *Stream) checkIn(v view, m *Msg) (r Result, refused bool) {
	refuse := func(e *jsapi.Error) (Result, bool) {
		return Result{Ack: jsapi.PubAck{Stream: s.cfg.Name}, Err: e}, true
	}
	switch {
	case s.cfg.Sealed:
		return refuse(jsapi.E(jsapi.ErrStreamSealed))
	case s.cfg.MaxMsgSize > 0 && len(m.Header)+len(m.Data) > int(s.cfg.MaxMsgSize):
		return refuse(jsapi.E(jsapi.ErrStreamMessageTooBig))
	case len(m.Header) > maxHeaderBytes:
		return refuse(jsapi.E(jsapi.ErrStreamHeaderExceedsMaximum))
	}
	if e := s.checkIncr(m.Header, m.Data); e != nil {
		return refuse(e)
	}
	if len(m.Header) == 0 {
		return Result{}, false
	}
	if e := v.checkExpected(m.Subject, m.Header); e != nil {
		return refuse(e)
	}
	if e := s.checkTTL(m.Header); e != nil {
		return refuse(e)
	}
	schedule, e := s.checkSchedule(m.Subject, m.Header, m.Time)
	if e != nil {
		return refuse(e)
	}
	m.schedule = schedule
	if e := s.checkRollup(m.Header); e != nil && !schedule {
		return refuse(e)
	}
	return Result{}, false
}

// checkExpected holds the Nats-Expected-* headers against the stream.
func (vw view) checkExpected(subj string, hdr []byte) *jsapi.Error {
	s := vw.s
	if v := proto.HeaderValue(hdr, hdrExpectedStream); v != "" && v != s.cfg.Name {
		return jsapi.E(jsapi.ErrStreamNotMatch)
	}
	if v, ok := headerSeq(hdr, hdrExpectedLastSeq); ok {
		if last := vw.lastSeq(); v != last {
			return jsapi.NewError(jsapi.ErrStreamWrongLastSequence, formatSeq(last))
		}
	}
	if v, ok := headerSeq(hdr, hdrExpectedLastSubjSeq); ok {
		if other := proto.HeaderValue(hdr, hdrExpectedSubjSeqSubj); other != "" {
			subj = other
		}
		last, err := vw.lastOf(subj)
		if err != nil {
			return err
		}
		if v != last {
			return jsapi.NewError(jsapi.ErrStreamWrongLastSequence, formatSeq(last))
		}
	}
	if _, ok := headerSeq(hdr, hdrExpectedLastSubjSeq); !ok && proto.HasHeader(hdr, hdrExpectedSubjSeqSubj) {
		return jsapi.E(jsapi.ErrStreamExpectedLastSeqPerSubjectInvalid)
	}
	if v := proto.HeaderValue(hdr, hdrExpectedLastMsgID); v != "" && v != s.lastMsgID {
		return jsapi.NewError(jsapi.ErrStreamWrongLastMsgID, s.lastMsgID)
	}
	return nil
}

// lastOfSubject is the sequence of the last message on subj (a filter: the last of all the
// subjects it matches), 0 if none.
func (s *Stream) lastOfSubject(subj string) (uint64, *jsapi.Error) {
	f, err := filestore.NewFilter(subj)
	if err != nil {
		return 0, nil // no message can be on an invalid subject
	}
	m, err := s.store.LoadLast(f)
	if err != nil {
		return 0, nil // none; a damaged last record is reported by the store, not served
	}
	return uint64(m.Seq), nil
}

// headerSeq reads a sequence header; a value that is not a number counts as absent, as in
// nats-server.
func headerSeq(hdr []byte, key string) (uint64, bool) {
	v := proto.HeaderValue(hdr, key)
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 10, 64)
	return n, err == nil
}

// checkTTL: Nats-TTL needs allow_msg_ttl and must parse.
func (s *Stream) checkTTL(hdr []byte) *jsapi.Error {
	v := proto.HeaderValue(hdr, hdrTTL)
	switch {
	case v == "":
		return nil
	case !s.cfg.AllowMsgTTL:
		return jsapi.E(jsapi.ErrMessageTTLDisabled)
	}
	if _, err := filestore.ParseTTL(v); err != nil {
		return jsapi.E(jsapi.ErrMessageTTLInvalid)
	}
	return nil
}

// checkRollup: Nats-Rollup needs allow_rollup_hdrs and is "sub" or "all".
func (s *Stream) checkRollup(hdr []byte) *jsapi.Error {
	v := proto.HeaderValue(hdr, hdrRollup)
	switch {
	case v == "":
		return nil
	case !s.cfg.AllowRollup:
		return jsapi.NewError(jsapi.ErrStreamRollupFailed, "rollup not permitted")
	case v != rollupSubject && v != rollupAll:
		return jsapi.NewError(jsapi.ErrStreamRollupFailed, "rollup value invalid: "+strconv.Quote(v))
	}
	return nil
}
