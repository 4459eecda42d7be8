package stream

import (
	"strconv"
	"testing"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/core/proto"
)

// batchMsg is the header block of batch message seq of batch id.
func batchMsg(id string, seq int, extra string) string {
	h := "Nats-Batch-Id: " + id + "\r\nNats-Batch-Sequence: " + strconv.Itoa(seq)
	if extra != "" {
		h += "\r\n" + extra
	}
	return h
}

// TestAtomicBatchDiscardNewWhole: a batch that reaches a DiscardNew limit partway stores
// nothing (it stored the messages before the one the limit refused).
func TestAtomicBatchDiscardNewWhole(t *testing.T) {
	cfg := baseConfig()
	cfg.AllowAtomicPublish, cfg.MaxMsgs, cfg.Discard = true, 3, jsapi.DiscardNew
	r := newRig(t, cfg)
	r.wantSeq(r.publish("s.x", "", "before"), 1, false)
	r.publish("s.a", batchMsg("b", 1, ""), "1")
	r.publish("s.a", batchMsg("b", 2, ""), "2")
	res := r.publish("s.a", batchMsg("b", 3, "Nats-Batch-Commit: 1"), "3")
	if res.Err == nil || res.Err.ErrCode != jsapi.ErrStreamStoreFailed {
		t.Fatalf("a batch past max_msgs: %+v %v", res.Ack, res.Err)
	}
	r.run(func() {
		if st := r.s.Store().State(); st.Msgs != 1 || st.LastSeq != 1 {
			t.Fatalf("a refused batch left messages: %+v", st)
		}
	})
}

// TestAtomicBatchStored: the stored messages keep their batch headers, the last one marked
// as the commit (also when "eob" committed), as nats-server stores them; counters in a batch
// add up; the commit's Result lists what was stored, with each subject's previous sequence.
func TestAtomicBatchStored(t *testing.T) {
	cfg := baseConfig()
	cfg.AllowAtomicPublish = true
	r := newRig(t, cfg)
	r.publish("s.a", "", "before")
	r.publish("s.a", batchMsg("b", 1, "Nats-Expected-Last-Sequence: 1"), "1")
	r.publish("s.b", batchMsg("b", 2, ""), "2")
	r.publish("s.a", batchMsg("b", 3, ""), "3")
	res := r.publish("s.a", batchMsg("b", 4, "Nats-Batch-Commit: eob"), "")
	if res.Err != nil || res.Ack.Sequence != 4 || len(res.Batch) != 3 {
		t.Fatalf("commit: %+v %v %d stored", res.Ack, res.Err, len(res.Batch))
	}
	for i, want := range []struct{ seq, last uint64 }{{2, 1}, {3, 0}, {4, 2}} {
		if got := res.Batch[i]; got.Seq != want.seq || got.Last != want.last {
			t.Fatalf("stored %d: seq %d last %d, want %+v", i, got.Seq, got.Last, want)
		}
	}
	r.run(func() {
		for seq, commit := range map[uint64]string{2: "", 3: "", 4: "1"} {
			m, err := r.s.Store().LoadMsg(env.Seq(seq))
			if err != nil {
				t.Fatal(err)
			}
			if proto.HeaderValue(m.Header, hdrBatchID) != "b" || proto.HeaderValue(m.Header, hdrBatchSeq) != strconv.FormatUint(seq-1, 10) ||
				proto.HeaderValue(m.Header, hdrBatchCommit) != commit || proto.HasHeader(m.Header, hdrExpectedLastSeq) {
				t.Fatalf("seq %d stored with headers %q", seq, m.Header)
			}
		}
	})

	cfg = baseConfig()
	cfg.AllowAtomicPublish, cfg.AllowMsgCounter = true, true
	c := newRig(t, cfg)
	c.publish("s.c", "Nats-Incr: 5", "")
	c.publish("s.c", batchMsg("n", 1, "Nats-Incr: 2"), "")
	res = c.publish("s.c", batchMsg("n", 2, "Nats-Incr: 3\r\nNats-Batch-Commit: 1"), "")
	if res.Err != nil || string(res.Batch[0].Msg.Data) != `{"val":"7"}` || string(res.Batch[1].Msg.Data) != `{"val":"10"}` {
		t.Fatalf("counters in a batch: %v %q %q", res.Err, res.Batch[0].Msg.Data, res.Batch[1].Msg.Data)
	}
}

// TestAtomicBatchRollup: a rollup inside a batch purges what came before it on its subject,
// and not the batch messages after it.
func TestAtomicBatchRollup(t *testing.T) {
	cfg := baseConfig()
	cfg.AllowAtomicPublish, cfg.AllowRollup = true, true
	r := newRig(t, cfg)
	r.publish("s.a", "", "old1")
	r.publish("s.a", "", "old2")
	r.publish("s.a", batchMsg("r", 1, "Nats-Rollup: sub"), "roll")
	res := r.publish("s.a", batchMsg("r", 2, "Nats-Batch-Commit: 1"), "after")
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	r.run(func() {
		if st := r.s.Store().State(); st.Msgs != 2 || st.FirstSeq != 3 || st.LastSeq != 4 {
			t.Fatalf("after a rollup in a batch: %+v", st)
		}
	})
}
