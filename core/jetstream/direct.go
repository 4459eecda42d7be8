package jetstream

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/petrel-io/petrel/core/bus"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/core/proto"
	"github.com/petrel-io/petrel/filestore"
)

// Direct gets (ADR-31) answer with the raw messages and Nats-* headers instead of JSON: one
// message; a batch from a sequence or time (each with Nats-Num-Pending and
// Nats-Last-Sequence, then "204 EOB"); or the last message of each of several subjects
// (multi_last, up to a sequence or time). Errors are status messages.

// directGet takes a DIRECT.GET request on the stream's executor.
func (st *streamActor) directGet(m bus.Msg) {
	if st.phase != streamRunning || m.Reply == "" {
		return
	}
	out := &directReplies{st: st, reply: m.Reply}
	defer out.send()
	if checkLevel(m.Header) != nil {
		out.status(412, "Required Api Level")
		return
	}
	var req jsapi.MsgGetRequest
	tail := m.Subject[min(len(m.Subject), len(directPrefix)+len(st.name)):]
	switch {
	case tail != "" && len(m.Data) > 0:
		out.status(408, "Bad Request")
		return
	case tail != "":
		req.LastFor = tail[1:]
	case len(m.Data) == 0:
		out.status(408, "Empty Request")
		return
	case json.Unmarshal(m.Data, &req) != nil:
		out.status(408, "Malformed Request")
		return
	}
	if code, text := checkDirect(&req); code != 0 {
		out.status(code, text)
		return
	}
	switch {
	case len(req.MultiLastFor) > 0:
		st.directMulti(out, &req)
	case req.Batch > 0:
		st.directBatch(out, &req)
	default:
		msg, e := st.load(&req)
		if e != nil {
			out.status(404, "Message Not Found")
			return
		}
		out.msg(msg, req.NoHeaders, nil)
	}
}

// checkDirect: something asked for, and no two ways of asking at once.
func checkDirect(req *jsapi.MsgGetRequest) (int, string) {
	if req.Seq == 0 && req.LastFor == "" && req.NextFor == "" && len(req.MultiLastFor) == 0 && req.StartTime == nil {
		return 408, "Empty Request"
	}
	conflict := (req.Seq > 0 && req.LastFor != "") || (req.Seq > 0 && req.StartTime != nil) ||
		(req.StartTime != nil && req.LastFor != "") || (req.LastFor != "" && req.NextFor != "") ||
		(req.LastFor != "" && req.Batch > 0) || (len(req.MultiLastFor) > 0 && (req.LastFor != "" || req.NextFor != "")) ||
		(req.UpToSeq > 0 && req.UpToTime != nil)
	if conflict {
		return 408, "Bad Request"
	}
	return 0, ""
}

// directReplies holds a direct get's answers until the state they were read from is
// durable (Store.Flush): a read never shows a write a crash or a failed write could take
// back, so a later read cannot show it gone. A store that fails meanwhile drops them: the
// client's request times out, as for a server that crashed.
type directReplies struct {
	st    *streamActor
	reply string
	msgs  [][2][]byte // header, data
}

func (r *directReplies) status(code int, text string, kv ...string) {
	r.msgs = append(r.msgs, [2][]byte{proto.StatusHeader(code, text, kv...), nil})
}

// msg adds one stored message as a direct get answers it; extra are the batch headers
// (Nats-Num-Pending, Nats-Last-Sequence), nil for a single get.
func (r *directReplies) msg(msg *filestore.Msg, noHeaders bool, extra []string) {
	var hdr []byte
	if !noHeaders {
		hdr = proto.AppendHeader(msg.Header, "Nats-Stream", r.st.name)
		hdr = proto.AppendHeader(hdr, "Nats-Subject", msg.Subject)
		hdr = proto.AppendHeader(hdr, "Nats-Sequence", strconv.FormatUint(uint64(msg.Seq), 10))
		hdr = proto.AppendHeader(hdr, "Nats-Time-Stamp", unixTime(msg.Time).Format(time.RFC3339Nano))
		for i := 0; i+1 < len(extra); i += 2 {
			hdr = proto.AppendHeader(hdr, extra[i], extra[i+1])
		}
	}
	r.msgs = append(r.msgs, [2][]byte{hdr, msg.Data})
}

// send sends the answers once what they were read from is durable.
func (r *directReplies) send() {
	r.st.fsm.Store().Flush(func(err error) {
		if err != nil {
			return
		}
		for _, m := range r.msgs {
			r.st.svc().bus.Publish(r.st.acc.name, r.reply, "", m[0], m[1])
		}
	})
}

// directBatch sends up to batch messages from seq (or start_time), matching next_by_subj,
// within max_bytes, then EOB.
func (st *streamActor) directBatch(out *directReplies, req *jsapi.MsgGetRequest) {
	store := st.fsm.Store()
	f := filestore.AllSubjects
	if req.NextFor != "" {
		var err error
		if f, err = filestore.NewFilter(req.NextFor); err != nil {
			out.status(408, "Bad Request")
			return
		}
	}
	seq := env.Seq(req.Seq)
	if req.StartTime != nil {
		seq = st.seqAtTime(req.StartTime.UnixNano())
	}
	pending := store.NumPending(seq, f, false)
	var last uint64
	bytes := 0
	for i := 0; i < req.Batch; i++ {
		msg, err := store.LoadNext(f, seq)
		if err != nil {
			if i == 0 {
				out.status(404, "Message Not Found")
				return
			}
			break
		}
		pending = max(pending, 1) - 1
		out.msg(msg, req.NoHeaders, []string{"Nats-Num-Pending", strconv.FormatUint(pending, 10),
			"Nats-Last-Sequence", strconv.FormatUint(last, 10)})
		last, seq = uint64(msg.Seq), msg.Seq+1
		if bytes += len(msg.Subject) + len(msg.Header) + len(msg.Data); req.MaxBytes > 0 && bytes >= req.MaxBytes {
			break
		}
	}
	pending = store.NumPending(seq, f, false)
	out.status(204, "EOB", "Nats-Num-Pending", strconv.FormatUint(pending, 10),
		"Nats-Last-Sequence", strconv.FormatUint(last, 10))
}

// directMulti sends the last message (at or below up_to) of each subject matching the
// multi_last filters, oldest first, then EOB.
func (st *streamActor) directMulti(out *directReplies, req *jsapi.MsgGetRequest) {
	store := st.fsm.Store()
	upTo := env.Seq(req.UpToSeq)
	if req.UpToTime != nil {
		upTo = st.seqAtTime(req.UpToTime.UnixNano())
		if upTo <= store.State().FirstSeq {
			out.status(404, "No Results")
			return
		}
		upTo--
	}
	if upTo == 0 {
		upTo = store.State().LastSeq
	}
	seqs, err := st.lastsUpTo(req.MultiLastFor, upTo)
	switch {
	case err != nil:
		out.status(408, "Bad Request")
		return
	case len(seqs) > directMultiMax:
		out.status(413, "Too Many Results")
		return
	case len(seqs) == 0:
		out.status(404, "No Results")
		return
	}
	var last uint64
	sent, bytes := 0, 0
	for i, seq := range seqs {
		msg, err := store.LoadMsg(env.Seq(seq))
		if err != nil {
			continue // removed meanwhile, or damaged (the store reports it)
		}
		out.msg(msg, req.NoHeaders, []string{"Nats-Num-Pending", strconv.Itoa(len(seqs) - i - 1),
			"Nats-Last-Sequence", strconv.FormatUint(last, 10)})
		last = seq
		sent++
		bytes += len(msg.Subject) + len(msg.Header) + len(msg.Data)
		if (req.MaxBytes > 0 && bytes >= req.MaxBytes) || (req.Batch > 0 && sent >= req.Batch) {
			break
		}
	}
	out.status(204, "EOB", "Nats-Num-Pending", strconv.Itoa(len(seqs)-sent),
		"Nats-Last-Sequence", strconv.FormatUint(last, 10), "Nats-UpTo-Sequence", strconv.FormatUint(uint64(upTo), 10))
}

// lastsUpTo lists, ascending, the last sequence at or below upTo of each subject matching
// filters.
func (st *streamActor) lastsUpTo(filters []string, upTo env.Seq) ([]uint64, error) {
	f, err := filestore.NewFilter(filters...)
	if err != nil {
		return nil, err
	}
	store := st.fsm.Store()
	var out []uint64
	for subj, ss := range store.SubjectsState(f) {
		if ss.Last <= upTo {
			out = append(out, uint64(ss.Last))
			continue
		}
		sf, err := filestore.NewFilter(subj)
		if err != nil {
			continue
		}
		if m, err := store.LoadPrev(sf, upTo); err == nil {
			out = append(out, uint64(m.Seq))
		}
	}
	sortSeqs(out)
	return out, nil
}
