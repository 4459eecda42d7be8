package workload

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/core/proto"
	"github.com/petrel-io/petrel/sim/natsclient"
)

// jsPublisher is a publisher's state across connections.
type jsPublisher struct {
	chk  *jsChecker
	idx  int
	n    int    // msg ids used
	last *jsMsg // the last message published, repeated now and then on purpose
	// retry is a message whose answer was lost: it is sent again, same id and payload.
	retry   *jsMsg
	retries int
	// lastSeq is the sequence of this publisher's last first acknowledgement: its next
	// ones must be higher.
	lastSeq uint64
	// subjLast: per subject, the last sequence acknowledged on it, when the publisher knows
	// it (it alone publishes there), for Nats-Expected-Last-Subject-Sequence.
	subjLast map[string]uint64
}

// jsPubRetries: a publish whose answer is lost is sent again this many times, then given
// up (its fate unknown).
const jsPubRetries = 3

func (c *jsChecker) publisher(idx int) *jsPublisher {
	p := &jsPublisher{chk: c, idx: idx, subjLast: map[string]uint64{}}
	c.pubs[idx] = p
	return p
}

func (pb *jsPublisher) setup(p *jsPeer, done func(bool)) {
	p.createStream(jsStream, pb.chk.spec.streamConfig(), done)
}

func (pb *jsPublisher) step(p *jsPeer, done func()) {
	r := p.e.Rand
	switch {
	case pb.retry != nil:
		pb.publish(p, pb.retry, true, done)
	case pb.last != nil && r.Intn(10) == 0:
		pb.publish(p, pb.last, false, done) // a repeat on purpose: must be a duplicate
	case r.Intn(8) == 0 && len(pb.chk.acked) > 0:
		pb.verify(p, done)
	default:
		pb.n++
		subj := fmt.Sprintf("ord.%d.%d", pb.idx, r.Intn(pb.chk.spec.subjectsPer))
		pb.last = pb.chk.newMsg(jsMsgID(pb.idx, pb.n), subj, r)
		pb.publish(p, pb.last, false, done)
	}
}

// publish sends m with its msg id and, on a first send now and then, an expected-sequence
// header: the subject's last sequence as this publisher knows it, or ORD's last as the
// checker knows it (often stale: another publisher got there first).
func (pb *jsPublisher) publish(p *jsPeer, m *jsMsg, retry bool, done func()) {
	pb.chk.sending(m)
	hdr := proto.AppendHeader(nil, "Nats-Msg-Id", m.id)
	expLast, expSubj := int64(-1), int64(-1)
	if !retry {
		switch p.e.Rand.Intn(8) {
		case 0:
			expSubj = int64(pb.subjLast[m.subject])
			hdr = proto.AppendHeader(hdr, "Nats-Expected-Last-Subject-Sequence", strconv.FormatInt(expSubj, 10))
		case 1:
			expLast = int64(pb.chk.maxAcked())
			hdr = proto.AppendHeader(hdr, "Nats-Expected-Last-Sequence", strconv.FormatInt(expLast, 10))
		}
	}
	p.request(m.subject, hdr, m.payload, jsReqTimeout, func(ans *natsclient.Msg, boot int) {
		if pb.chk.unsure(boot) {
			ans = nil
		}
		pb.answered(p, m, ans, expLast, expSubj)
		done()
	})
}

func (pb *jsPublisher) answered(p *jsPeer, m *jsMsg, ans *natsclient.Msg, expLast, expSubj int64) {
	if ans == nil || ans.Status() != "" {
		pb.lostAnswer(m)
		return
	}
	var r jsapi.PubAckResponse
	err := json.Unmarshal(ans.Data, &r)
	env.Assertf(err == nil, "jetstream: PubAck for %s does not decode: %v: %q", m.id, err, ans.Data)
	if r.Error != nil {
		if errors.Is(r.Error, jsapi.E(jsapi.ErrStreamWrongLastSequence)) {
			p.e.Probe.Hit("jetstream.workload.wrong-last-seq")
			pb.retry, pb.retries = nil, 0 // refused for certain: nothing stored
			return
		}
		pb.lostAnswer(m) // a store failure: it may or may not be stored
		return
	}
	env.Assertf(r.PubAck != nil, "jetstream: PubAck for %s with neither ack nor error: %q", m.id, ans.Data)
	pb.chk.pubAck(m, r.PubAck, expLast, expSubj)
	if r.Duplicate {
		p.e.Probe.Hit("jetstream.workload.duplicate")
	} else {
		env.Assertf(r.Sequence > pb.lastSeq || pb.chk.rotted(), "jetstream: publisher %d acknowledged %s at seq %d after seq %d",
			pb.idx, m.id, r.Sequence, pb.lastSeq)
		pb.lastSeq = max(pb.lastSeq, r.Sequence)
		pb.subjLast[m.subject] = max(pb.subjLast[m.subject], r.Sequence)
	}
	pb.retry, pb.retries = nil, 0
}

// lostAnswer: the publish may or may not be stored; send it again (same id), a few times.
func (pb *jsPublisher) lostAnswer(m *jsMsg) {
	if pb.retry == m {
		pb.retries++
	} else {
		pb.retry, pb.retries = m, 0
	}
	if pb.retries >= jsPubRetries {
		pb.retry, pb.retries = nil, 0
	}
	// The subject's last sequence is unknown now: the message may be stored.
	delete(pb.subjLast, m.subject)
}

// verify reads back an acknowledged message with STREAM.MSG.GET.
func (pb *jsPublisher) verify(p *jsPeer, done func()) {
	seqs := env.SortedKeys(pb.chk.acked)
	seq := seqs[p.e.Rand.Intn(len(seqs))]
	var r jsapi.MsgGetResponse
	body := mustJSON(map[string]any{"seq": seq})
	p.apiRequest(jsapi.Prefix+"STREAM.MSG.GET."+jsStream, body, &r, func(ok bool, e *jsapi.Error, boot int) {
		switch {
		case !ok || pb.chk.unsure(boot):
		case e == nil:
			env.Assertf(r.Message != nil && r.Message.Sequence == seq, "jetstream: MSG.GET of seq %d answered %+v", seq, r.Message)
			pb.chk.served("MSG.GET", seq, r.Message.Subject, r.Message.Data)
			p.e.Probe.Hit("jetstream.workload.read-back")
		case errors.Is(e, jsapi.E(jsapi.ErrNoMessageFound)):
			pb.chk.missing("MSG.GET", seq)
		}
		done()
	})
}

// maxAcked is the highest sequence acknowledged so far.
func (c *jsChecker) maxAcked() uint64 {
	var hi uint64
	for seq := range c.acked {
		hi = max(hi, seq)
	}
	return hi
}
