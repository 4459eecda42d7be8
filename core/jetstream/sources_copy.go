package jetstream

import (
	"fmt"

	"github.com/petrel-io/petrel/core/bus"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/core/proto"
	"github.com/petrel-io/petrel/filestore"
	"github.com/petrel-io/petrel/fsm/stream"
)

// take copies one delivered message, in delivery order.
func (l *sourceLink) take(m bus.Msg) {
	ack, ok := jsapi.ParseAck(m.Reply)
	if !ok || ack.Consumer != l.consumer {
		return // an older consumer's delivery
	}
	if ack.ConsumerSeq != l.dseq+1 {
		if l.cfg.External != nil {
			l.batch = 1 // the import dropped part of a batch: it answers one per request
		}
		l.fail(l.setupError(fmt.Sprintf("missed deliveries %d to %d", l.dseq+1, ack.ConsumerSeq-1)))
		return
	}
	l.dseq = ack.ConsumerSeq
	l.lag = ack.Pending
	l.pullGot++
	if l.pullLeft > 0 {
		l.pullLeft--
	}
	if ack.StreamSeq > l.last {
		l.store(m, ack)
	}
	l.pull()
}

// store hands a copy to the stream: a mirror's at the origin's sequence and time, a
// source's as a new message carrying its Nats-Stream-Source header.
func (l *sourceLink) store(m bus.Msg, ack jsapi.AckInfo) {
	env.Assertf(ack.StreamSeq > l.last && l.durable <= l.last, "jetstream: %s: copy %d after %d (durable %d)",
		l, ack.StreamSeq, l.last, l.durable)
	seq := ack.StreamSeq
	l.last, l.known = seq, true
	l.inflight++
	gen := l.gen
	// The stream's own subject transform applies to copies too, as in nats-server.
	msg := stream.Msg{Subject: l.st.ingestSubject(l.transform(m.Subject)), Header: m.Header, Data: m.Data}
	before := l.st.lastOnSubject(msg.Subject)
	done := func(r stream.Result) {
		l.st.afterStore(msg, r, before) // what a publish stored does, a copy does
		l.stored(gen, seq, r)
	}
	if l.mirror {
		msg.Time = ack.Timestamp
		l.st.fsm.StoreAt(msg, seq, done)
	} else {
		hdr := proto.RemoveHeaders(m.Header, sourceHeader)
		hdr = proto.RemoveHeaders(hdr, "Nats-Expected-") // the origin checked them
		hdr = proto.RemoveHeaders(hdr, "Nats-Batch-")    // a copy is not part of a batch
		msg.Header = proto.AppendHeader(hdr, sourceHeader, sourceHeaderValue(l.iname, seq, m.Subject))
		msg.Time = l.svc().now().UnixNano()
		l.st.fsm.Apply(msg, done)
	}
	l.st.settle()
	l.st.kick()
}

// transform applies the first of the source's subject transforms that matches.
func (l *sourceLink) transform(subject string) string {
	for _, tr := range l.trs {
		if dst, ok := tr.Map(subject); ok {
			return dst
		}
	}
	return subject
}

// stored takes the store's answer for the copy of origin sequence seq. Answers come in the
// order the copies were handed over.
func (l *sourceLink) stored(gen uint64, seq uint64, r stream.Result) {
	l.inflight--
	env.Assertf(l.inflight >= 0, "jetstream: %s: more store answers than copies", l)
	if l.phase == linkStopped {
		return
	}
	if r.Err == nil {
		l.durable = max(l.durable, seq)
		if l.phase == linkDraining {
			l.resumeIfDrained()
			return
		}
		l.pull()
		return
	}
	l.svc().env.Log.Logf(env.LevelWarn, "jetstream: %s: copy of %d: %s", l, seq, r.Err.Description)
	if gen == l.gen && l.phase != linkDraining {
		l.fail(r.Err)
		return
	}
	l.resumeIfDrained()
}

// startSources starts copying the stream's mirror or sources; it runs once the stream is
// open, on its executor.
func (st *streamActor) startSources(cfg jsapi.StreamConfig) {
	var links []*sourceLink
	if cfg.Mirror != nil {
		links = append(links, newSourceLink(st, *cfg.Mirror, true))
	}
	for _, src := range cfg.Sources {
		links = append(links, newSourceLink(st, *src, false))
	}
	st.recoverPositions(links)
	for _, l := range links {
		l.start()
	}
	st.links = append(st.links, links...)
}

// stopSources stops every link.
func (st *streamActor) stopSources() {
	for _, l := range st.links {
		l.stop()
	}
	st.links = nil
}

// updateSources follows an updated configuration: links whose index name stays go on, the
// others stop, new ones start where the store says they got to.
func (st *streamActor) updateSources(cfg jsapi.StreamConfig) {
	old := map[string]*sourceLink{}
	for _, l := range st.links {
		old[l.iname] = l
	}
	var kept, added []*sourceLink
	for _, src := range cfg.Sources {
		if l := old[sourceIndexName(src)]; l != nil {
			delete(old, l.iname)
			kept = append(kept, l)
			continue
		}
		added = append(added, newSourceLink(st, *src, false))
	}
	if cfg.Mirror != nil {
		if l := old[sourceIndexName(cfg.Mirror)]; l != nil {
			delete(old, l.iname)
			kept = append(kept, l)
		}
	}
	for _, l := range old {
		l.stop()
	}
	st.recoverPositions(added)
	for _, l := range added {
		l.start()
	}
	st.links = append(kept, added...)
}

// recoverPositions finds where each link got to in the store: a mirror's last sequence is
// its origin's; a source's is in the newest message whose Nats-Stream-Source names it.
func (st *streamActor) recoverPositions(links []*sourceLink) {
	store := st.fsm.Store()
	state := store.State()
	want := map[string]*sourceLink{}
	for _, l := range links {
		if l.mirror {
			l.last, l.durable, l.known = uint64(state.LastSeq), uint64(state.LastSeq), state.LastSeq > 0
			continue
		}
		want[l.iname] = l
	}
	seq := state.LastSeq
	for n := 0; len(want) > 0 && seq >= state.FirstSeq && seq > 0 && n < sourceScanMax; n++ {
		m, err := store.LoadPrev(filestore.AllSubjects, seq)
		if err != nil {
			break // nothing older, or damage the store reports
		}
		seq = m.Seq - 1
		iname, origin, ok := parseSourceHeader(proto.HeaderValue(m.Header, sourceHeader))
		if l := want[iname]; ok && l != nil {
			l.last, l.durable, l.known = origin, origin, true
			delete(want, iname)
		}
	}
}

// mirrorInfo and sourceInfos are StreamInfo's mirror and sources.
func (st *streamActor) mirrorInfo() *jsapi.StreamSourceInfo {
	for _, l := range st.links {
		if l.mirror {
			return l.info()
		}
	}
	return nil
}

func (st *streamActor) sourceInfos() []*jsapi.StreamSourceInfo {
	var out []*jsapi.StreamSourceInfo
	for _, l := range st.links {
		if !l.mirror {
			out = append(out, l.info())
		}
	}
	return out
}
