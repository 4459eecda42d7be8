package stream

import (
	"testing"

	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/filestore"
)

// storeAt stores a mirrored message and returns its answer once durable.
func (r *rig) storeAt(seq uint64, subj, hdr, data string) Result {
	r.t.Helper()
	var got *Result
	r.run(func() {
		m := Msg{Subject: subj, Data: []byte(data), Time: int64(seq) * 1000}
		if hdr != "" {
			m.Header = []byte("NATS/1.0\r\n" + hdr + "\r\n\r\n")
		}
		r.s.StoreAt(m, seq, func(res Result) { got = &res })
	})
	if got == nil {
		r.t.Fatalf("store at %d: no answer", seq)
	}
	return *got
}

// A mirror keeps its origin's sequences and timestamps, gaps included, skips the publish
// rules, and carries out the origin's rollups.
func TestStoreAtKeepsOriginSequences(t *testing.T) {
	cfg := baseConfig()
	cfg.Subjects, cfg.AllowRollup = nil, true
	r := newRig(t, cfg)
	r.wantSeq(r.storeAt(3, "k.a", "Nats-Expected-Last-Sequence: 99", "1"), 3, false)
	r.wantSeq(r.storeAt(7, "k.a", "Nats-Msg-Id: x", "2"), 7, false)
	r.wantSeq(r.storeAt(8, "k.b", "Nats-Msg-Id: x", "3"), 8, false) // no duplicate window
	r.wantErr(r.storeAt(8, "k.b", "", "again"), jsapi.ErrStreamStoreFailed, "")
	r.run(func() {
		st := r.s.Store().State()
		if st.Msgs != 3 || st.FirstSeq != 3 || st.LastSeq != 8 {
			t.Fatalf("state %+v", st)
		}
		m, err := r.s.Store().LoadMsg(7)
		if err != nil || m.Time != 7000 || string(m.Data) != "2" {
			t.Fatalf("seq 7: %+v %v", m, err)
		}
	})
	r.wantSeq(r.storeAt(9, "k.a", "Nats-Rollup: sub", "4"), 9, false)
	r.run(func() {
		if n := r.s.Store().SubjectsState(mustFilter(t, "k.a"))["k.a"].Msgs; n != 1 {
			t.Fatalf("after the origin's rollup k.a has %d messages", n)
		}
	})
}

func mustFilter(t *testing.T, s string) filestore.Filter {
	f, err := filestore.NewFilter(s)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
