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

// jsKVClient does KV operations on KV_b the way the KV clients do them over the stream:
// put (a publish on $KV.b.<key>), create (expected last subject sequence 0), update
// (expected last subject sequence = the revision), delete (a KV-Operation: DEL marker),
// purge (a PURGE marker that rolls up the key), get (DIRECT.GET of the key's last message).
type jsKVClient struct {
	h   *jsKVHistory
	idx int
	n   int
	// revs: the last revision this client saw per key, for updates (often stale, on purpose).
	revs map[string]uint64
}

func newJSKVClient(h *jsKVHistory, idx int) *jsKVClient {
	return &jsKVClient{h: h, idx: idx, revs: map[string]uint64{}}
}

func (kc *jsKVClient) setup(p *jsPeer, done func(bool)) {
	p.createStream(jsKVStream, kvStreamConfig(), done)
}

func (kc *jsKVClient) step(p *jsPeer, done func()) {
	r := p.e.Rand
	key := fmt.Sprintf("k%d", r.Intn(jsKVKeys))
	in := jsKVIn{key: key}
	switch k := r.Intn(20); {
	case k < 6:
		kc.get(p, in, done)
		return
	case k < 8:
		kc.putThenGet(p, in, done)
		return
	case k < 11:
		in.kind = 'p'
	case k < 13:
		in.kind = 'c'
	case k < 17:
		in.kind, in.rev = 'u', kc.revs[key]
	case k < 19:
		in.kind = 'd'
	default:
		in.kind = 'r'
	}
	if in.kind != 'd' && in.kind != 'r' {
		kc.n++
		in.val = fmt.Sprintf("c%d-%d", kc.idx, kc.n)
	}
	kc.write(p, in, done)
}

// putThenGet puts a value and, without waiting for its PubAck, gets the key on the same
// connection: the server stores the put before it reads the get, so the read sees a write
// that is not durable yet, the window a crash must not reopen (a get answered before its
// value is durable; the random mix of clients reached it in few seeds). done runs once both
// answers (or their timeouts) are in.
func (kc *jsKVClient) putThenGet(p *jsPeer, in jsKVIn, done func()) {
	kc.n++
	in.kind, in.val = 'p', fmt.Sprintf("c%d-%d", kc.idx, kc.n)
	p.e.Probe.Hit("jetstream.workload.kv-put-then-get")
	left := 2
	both := func() {
		if left--; left == 0 {
			done()
		}
	}
	kc.write(p, in, both)
	kc.get(p, jsKVIn{key: in.key}, both)
}

// write publishes one KV write and records its outcome.
func (kc *jsKVClient) write(p *jsPeer, in jsKVIn, done func()) {
	var hdr []byte
	switch in.kind {
	case 'c':
		hdr = proto.AppendHeader(hdr, "Nats-Expected-Last-Subject-Sequence", "0")
	case 'u':
		hdr = proto.AppendHeader(hdr, "Nats-Expected-Last-Subject-Sequence", strconv.FormatUint(in.rev, 10))
	case 'd':
		hdr = proto.AppendHeader(hdr, "KV-Operation", "DEL")
	case 'r':
		hdr = proto.AppendHeader(hdr, "KV-Operation", "PURGE")
		hdr = proto.AppendHeader(hdr, "Nats-Rollup", "sub")
	}
	call := p.j.chk.now()
	p.request(jsKVPrefix+in.key, hdr, []byte(in.val), jsReqTimeout, func(m *natsclient.Msg, _ int) {
		out := kc.writeOutcome(p, in, m)
		if out.ok {
			kc.revs[in.key] = out.rev
		}
		kc.h.add(kc.idx, in, call, p.j.chk.now(), out)
		done()
	})
}

func (kc *jsKVClient) writeOutcome(p *jsPeer, in jsKVIn, m *natsclient.Msg) jsKVOut {
	if m == nil || m.Status() != "" {
		return jsKVOut{unknown: true}
	}
	var r jsapi.PubAckResponse
	err := json.Unmarshal(m.Data, &r)
	env.Assertf(err == nil, "jetstream: KV PubAck does not decode: %v: %q", err, m.Data)
	switch {
	case r.Error == nil:
		env.Assertf(r.PubAck != nil && r.Sequence > 0 && !r.Duplicate, "jetstream: KV write %c %s answered %q", in.kind, in.key, m.Data)
		p.e.Probe.Hit("jetstream.workload.kv-write")
		return jsKVOut{ok: true, rev: r.Sequence}
	case errors.Is(r.Error, jsapi.E(jsapi.ErrStreamWrongLastSequence)):
		p.e.Probe.Hit("jetstream.workload.kv-refused")
		return jsKVOut{}
	}
	p.e.Probe.Hit("jetstream.workload.kv-store-error")
	return jsKVOut{unknown: true} // a store failure: it may or may not be stored
}

// get reads a key's last message with DIRECT.GET.
func (kc *jsKVClient) get(p *jsPeer, in jsKVIn, done func()) {
	in.kind = 'g'
	call := p.j.chk.now()
	subj := jsapi.Prefix + "DIRECT.GET." + jsKVStream + "." + jsKVPrefix + in.key
	p.request(subj, nil, nil, jsReqTimeout, func(m *natsclient.Msg, _ int) {
		out := jsKVOut{unknown: true}
		switch {
		case m == nil:
		case m.Status() == "404":
			out = jsKVOut{}
		case m.Status() == "":
			out = kc.found(m)
			kc.revs[in.key] = out.rev
		}
		kc.h.add(kc.idx, in, call, p.j.chk.now(), out)
		done()
	})
}

func (kc *jsKVClient) found(m *natsclient.Msg) jsKVOut {
	seq, err := strconv.ParseUint(proto.HeaderValue(m.Header, "Nats-Sequence"), 10, 64)
	env.Assertf(err == nil && seq > 0, "jetstream: DIRECT.GET answer without a sequence: %q", m.Header)
	op := proto.HeaderValue(m.Header, "KV-Operation")
	return jsKVOut{found: true, del: op == "DEL" || op == "PURGE", val: string(m.Data), rev: seq}
}
