package jetstream

import (
	"strconv"
	"time"

	acct "github.com/petrel-io/petrel/core/account"
	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/core/proto"
	"github.com/petrel-io/petrel/filestore"
	"github.com/petrel-io/petrel/fsm/stream"
)

// A stream's subject transform rewrites a publish's subject before it is stored, and its
// republish sends each stored message on to another subject (ADR-28), with the headers
// nats-server adds: Nats-Stream, Nats-Subject, Nats-Sequence, Nats-Time-Stamp and
// Nats-Last-Sequence (the subject's previous sequence).

// rewrites are a stream's transforms, built from its configuration (its executor's).
type rewrites struct {
	ingest      *acct.Transform
	republish   *acct.Transform
	headersOnly bool
}

func newRewrites(cfg jsapi.StreamConfig) (rewrites, error) {
	var r rewrites
	var err error
	if t := cfg.SubjectTransform; t != nil && t.Destination != "" {
		if r.ingest, err = acct.NewTransform(t.Source, t.Destination); err != nil {
			return r, err
		}
	}
	if rp := cfg.RePublish; rp != nil {
		if r.republish, err = acct.NewTransform(rp.Source, rp.Destination); err != nil {
			return r, err
		}
		r.headersOnly = rp.HeadersOnly
	}
	return r, nil
}

// validateMapping is jsapi's check of a transform, with the account layer's parser.
func validateMapping(source, destination string) error {
	_, err := acct.NewTransform(source, destination)
	return err
}

// ingestSubject is the subject a publish is stored under.
func (st *streamActor) ingestSubject(subj string) string {
	if st.rewrites.ingest != nil {
		if dst, ok := st.rewrites.ingest.Map(subj); ok {
			return dst
		}
	}
	return subj
}

// lastOnSubject is what Nats-Last-Sequence reports for a republish of a message on subj.
func (st *streamActor) lastOnSubject(subj string) uint64 {
	if st.rewrites.republish == nil {
		return 0
	}
	f, err := filestore.NewFilter(subj)
	if err != nil {
		return 0
	}
	m, err := st.fsm.Store().LoadLast(f)
	if err != nil {
		return 0
	}
	return uint64(m.Seq)
}

// republish sends a stored message on, when the stream republishes its subject.
func (st *streamActor) republish(msg stream.Msg, seq, last uint64) {
	if st.rewrites.republish == nil {
		return
	}
	dst, ok := st.rewrites.republish.Map(msg.Subject)
	if !ok {
		return
	}
	hdr := proto.RemoveHeaders(msg.Header, "Nats-Expected-")
	hdr = proto.AppendHeader(hdr, "Nats-Stream", st.name)
	hdr = proto.AppendHeader(hdr, "Nats-Subject", msg.Subject)
	hdr = proto.AppendHeader(hdr, "Nats-Sequence", strconv.FormatUint(seq, 10))
	hdr = proto.AppendHeader(hdr, "Nats-Time-Stamp", unixTime(msg.Time).Format(time.RFC3339Nano))
	hdr = proto.AppendHeader(hdr, "Nats-Last-Sequence", strconv.FormatUint(last, 10))
	data := msg.Data
	if st.rewrites.headersOnly {
		hdr = proto.AppendHeader(hdr, "Nats-Msg-Size", strconv.Itoa(len(data)))
		data = nil
	}
	st.svc().bus.Publish(st.acc.name, dst, "", hdr, data)
}
