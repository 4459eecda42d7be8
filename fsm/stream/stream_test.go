package stream

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/core/proto"
	"github.com/petrel-io/petrel/filestore"
	"github.com/petrel-io/petrel/sim"
)

// rig runs one stream over a file store on a simulated node that can crash.
type rig struct {
	t   *testing.T
	w   *sim.World
	n   *sim.Node
	e   *env.Env
	ex  env.Executor
	cfg jsapi.StreamConfig
	s   *Stream
}

func newRig(t *testing.T, cfg jsapi.StreamConfig) *rig {
	quiet := sim.Quiet()
	r := &rig{t: t, w: sim.NewWorld(1, sim.Options{Profile: &quiet}), cfg: cfg}
	r.n = r.w.AddNode("n1", sim.NodeConfig{Crashable: true}, func(e *env.Env) {
		r.e, r.ex = e, e.Exec.New("stream")
	})
	r.open()
	return r
}

func (r *rig) open() {
	r.run(func() {
		sc := StoreConfig(r.cfg)
		sc.Dir, sc.Executor = "js/"+r.cfg.Name, r.ex
		st, err := filestore.OpenFile(r.e, sc)
		if err != nil {
			r.t.Fatalf("open store: %v", err)
		}
		r.s = New(r.cfg, st, r.e.Clock.Now().UnixNano())
	})
}

// run runs fn on the stream's executor and lets everything it started finish.
func (r *rig) run(fn func()) {
	r.ex.Post(fn)
	r.w.RunUntil(r.w.Now() + 10*time.Millisecond)
}

// publish applies one message and returns its answer once durable.
func (r *rig) publish(subj string, hdr string, data string) Result {
	r.t.Helper()
	var got *Result
	r.run(func() {
		m := Msg{Subject: subj, Data: []byte(data), Time: r.e.Clock.Now().UnixNano()}
		if hdr != "" {
			m.Header = []byte("NATS/1.0\r\n" + hdr + "\r\n\r\n")
		}
		r.s.Apply(m, func(res Result) { got = &res })
	})
	if got == nil {
		r.t.Fatalf("publish %s: no answer", subj)
	}
	return *got
}

func (r *rig) wantSeq(res Result, seq uint64, dup bool) {
	r.t.Helper()
	if res.Err != nil || res.Ack.Sequence != seq || res.Ack.Duplicate != dup || res.Ack.Stream != r.cfg.Name {
		r.t.Fatalf("got %+v err %v, want seq %d duplicate %v", res.Ack, res.Err, seq, dup)
	}
}

func (r *rig) wantErr(res Result, code jsapi.ErrCode, text string) {
	r.t.Helper()
	if res.Err == nil || res.Err.ErrCode != code || (text != "" && res.Err.Description != text) {
		r.t.Fatalf("got %+v err %+v, want code %d %q", res.Ack, res.Err, code, text)
	}
}

func baseConfig() jsapi.StreamConfig {
	return jsapi.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Retention: jsapi.LimitsRetention,
		MaxMsgs: -1, MaxBytes: -1, MaxMsgsPerSubject: -1, Discard: jsapi.DiscardOld,
		Storage: jsapi.FileStorage, Replicas: 1, Duplicates: 2 * time.Minute}
}

func TestDuplicateWindow(t *testing.T) {
	r := newRig(t, baseConfig())
	r.wantSeq(r.publish("s.a", "Nats-Msg-Id: one", "1"), 1, false)
	r.wantSeq(r.publish("s.a", "Nats-Msg-Id: one", "again"), 1, true)
	r.wantSeq(r.publish("s.a", "Nats-Msg-Id: two", "2"), 2, false)
	// The window survives a restart: ids are read back from the stored messages.
	r.n.Crash(true)
	r.n.Restart()
	r.open()
	r.wantSeq(r.publish("s.b", "Nats-Msg-Id: two", "x"), 2, true)
	// Past the window an id is new again.
	r.w.RunUntil(r.w.Now() + 3*time.Minute)
	r.wantSeq(r.publish("s.b", "Nats-Msg-Id: one", "late"), 3, false)
}

func TestDuplicateOfUndurableWaits(t *testing.T) {
	r := newRig(t, baseConfig())
	var answers []Result
	r.run(func() {
		now := r.e.Clock.Now().UnixNano()
		hdr := []byte("NATS/1.0\r\nNats-Msg-Id: x\r\n\r\n")
		for range 3 {
			r.s.Apply(Msg{Subject: "s.a", Header: hdr, Time: now}, func(res Result) { answers = append(answers, res) })
		}
		if len(answers) != 0 {
			t.Fatalf("answered before the message was durable: %+v", answers)
		}
	})
	if len(answers) != 3 || answers[0].Ack.Duplicate || !answers[1].Ack.Duplicate || answers[2].Ack.Sequence != 1 {
		t.Fatalf("answers %+v", answers)
	}
	if st := r.s.Store().State(); st.Msgs != 1 {
		t.Fatalf("stored %d copies", st.Msgs)
	}
}

func TestExpectedHeaders(t *testing.T) {
	r := newRig(t, baseConfig())
	r.wantSeq(r.publish("s.a", "Nats-Msg-Id: m1", "1"), 1, false)
	r.wantSeq(r.publish("s.b", "", "2"), 2, false)
	cases := []struct {
		name, subj, hdr string
		code            jsapi.ErrCode
		text            string
		seq             uint64
	}{
		{"other stream", "s.a", "Nats-Expected-Stream: T", jsapi.ErrStreamNotMatch, "expected stream does not match", 0},
		{"wrong last seq", "s.a", "Nats-Expected-Last-Sequence: 1", jsapi.ErrStreamWrongLastSequence, "wrong last sequence: 2", 0},
		{"wrong subject seq", "s.a", "Nats-Expected-Last-Subject-Sequence: 2", jsapi.ErrStreamWrongLastSequence, "wrong last sequence: 1", 0},
		{"new subject must be empty", "s.a", "Nats-Expected-Last-Subject-Sequence: 0", jsapi.ErrStreamWrongLastSequence, "wrong last sequence: 1", 0},
		{"subject named apart", "s.a", "Nats-Expected-Last-Subject-Sequence: 2\r\nNats-Expected-Last-Subject-Sequence-Subject: s.b", 0, "", 3},
		{"subject header alone", "s.a", "Nats-Expected-Last-Subject-Sequence-Subject: s.b", jsapi.ErrStreamExpectedLastSeqPerSubjectInvalid, "", 0},
		{"wrong last msg id", "s.a", "Nats-Expected-Last-Msg-Id: m1", jsapi.ErrStreamWrongLastMsgID, "wrong last msg ID: ", 0},
		{"right last seq", "s.c", "Nats-Expected-Last-Sequence: 3\r\nNats-Expected-Stream: S", 0, "", 4},
		{"empty subject", "s.new", "Nats-Expected-Last-Subject-Sequence: 0", 0, "", 5},
		{"ttl disabled", "s.a", "Nats-TTL: 5s", jsapi.ErrMessageTTLDisabled, "per-message TTL is disabled", 0},
		{"rollup not allowed", "s.a", "Nats-Rollup: sub", jsapi.ErrStreamRollupFailed, "rollup not permitted", 0},
	}
	for _, c := range cases {
		res := r.publish(c.subj, c.hdr, "v")
		if c.code != 0 {
			r.wantErr(res, c.code, c.text)
			continue
		}
		r.wantSeq(res, c.seq, false)
	}
	// The expectation headers are not stored.
	r.run(func() {
		m, err := r.s.Store().LoadMsg(4)
		if err != nil || m.Header != nil {
			t.Fatalf("stored %q err %v, want no header", m.Header, err)
		}
	})
}

func TestRollupAndTTL(t *testing.T) {
	cfg := baseConfig()
	cfg.AllowRollup, cfg.AllowMsgTTL = true, true
	r := newRig(t, cfg)
	for range 3 {
		r.publish("s.k", "", "old")
	}
	r.publish("s.other", "", "kept")
	r.wantSeq(r.publish("s.k", "Nats-Rollup: sub", "new"), 5, false)
	r.run(func() {
		if st := r.s.Store().State(); st.Msgs != 2 {
			t.Fatalf("after a subject rollup %d messages, want 2", st.Msgs)
		}
	})
	r.wantErr(r.publish("s.k", "Nats-TTL: soon", "x"), jsapi.ErrMessageTTLInvalid, "")
	r.wantErr(r.publish("s.k", "Nats-Rollup: some", "x"), jsapi.ErrStreamRollupFailed, `rollup value invalid: "some"`)
	r.wantSeq(r.publish("s.z", "Nats-Rollup: all", "only"), 6, false)
	r.run(func() {
		if st := r.s.Store().State(); st.Msgs != 1 || st.FirstSeq != 6 {
			t.Fatalf("after a rollup of all: %+v", st)
		}
	})
}

func TestRefusals(t *testing.T) {
	cfg := baseConfig()
	cfg.MaxMsgSize, cfg.MaxMsgs, cfg.Discard = 4, 1, jsapi.DiscardNew
	r := newRig(t, cfg)
	r.wantErr(r.publish("s.a", "", "too big"), jsapi.ErrStreamMessageTooBig, "message size exceeds maximum allowed")
	r.wantSeq(r.publish("s.a", "", "ok"), 1, false)
	r.wantErr(r.publish("s.a", "", "no"), jsapi.ErrStreamStoreFailed, "maximum messages exceeded")
	r.cfg.Sealed = true
	r.run(func() { _ = r.s.SetConfig(r.cfg, nil) }) // the limits did not change
	r.wantErr(r.publish("s.a", "", "x"), jsapi.ErrStreamSealed, "invalid operation on sealed stream")
	if !errors.Is(jsapi.NewError(jsapi.ErrStreamSealed), jsapi.E(jsapi.ErrStreamSealed)) {
		t.Fatal("errors.Is compares codes")
	}
}

func TestCounters(t *testing.T) {
	cfg := baseConfig()
	cfg.AllowMsgCounter = true
	r := newRig(t, cfg)
	for _, c := range []struct {
		incr, want string
	}{{"1", "1"}, {"+41", "42"}, {"-50", "-8"}, {"100000000000000000000000000000", "99999999999999999999999999992"}} {
		res := r.publish("s.c", "Nats-Incr: "+c.incr, "")
		if res.Err != nil || res.Ack.Value != c.want {
			t.Fatalf("incr %s: %+v %v, want %s", c.incr, res.Ack, res.Err, c.want)
		}
	}
	r.wantErr(r.publish("s.c", "", "x"), jsapi.ErrMessageIncrMissing, "")
	r.wantErr(r.publish("s.c", "Nats-Incr: two", ""), jsapi.ErrMessageIncrInvalid, "")
	r.wantErr(r.publish("s.c", "Nats-Incr: 2", "body"), jsapi.ErrMessageIncrPayload, "")
	r.wantErr(r.publish("s.c", "Nats-Incr: 2\r\nNats-Expected-Last-Sequence: 4", ""), jsapi.ErrMessageIncrInvalid, "")
	res := r.publish("s.other", "Nats-Incr: 5", "")
	if res.Ack.Value != "5" {
		t.Fatalf("a new subject starts at 0: %+v", res)
	}
	r.run(func() {
		m, err := r.s.Store().LoadMsg(4)
		if err != nil || string(m.Data) != `{"val":"99999999999999999999999999992"}` {
			t.Fatalf("stored %q %v", m.Data, err)
		}
	})
	plain := newRig(t, baseConfig())
	plain.wantErr(plain.publish("s.c", "Nats-Incr: 1", ""), jsapi.ErrMessageIncrDisabled, "")
}

func TestAtomicBatch(t *testing.T) {
	cfg := baseConfig()
	cfg.AllowAtomicPublish = true
	r := newRig(t, cfg)
	r.publish("s.x", "", "before")
	msg := func(id string, seq int, extra string) string {
		h := "Nats-Batch-Id: " + id + "\r\nNats-Batch-Sequence: " + strconv.Itoa(seq)
		if extra != "" {
			h += "\r\n" + extra
		}
		return h
	}
	if res := r.publish("s.a", msg("b1", 1, "Nats-Expected-Last-Sequence: 1"), "1"); !res.Staged() {
		t.Fatalf("first batch message: %+v", res)
	}
	r.publish("s.b", msg("b1", 2, "Nats-Expected-Last-Subject-Sequence: 0"), "2")
	res := r.publish("s.a", msg("b1", 3, "Nats-Batch-Commit: 1\r\nNats-Expected-Last-Subject-Sequence: 2"), "3")
	if res.Err != nil || res.Ack.Sequence != 4 || res.Ack.BatchID != "b1" || res.Ack.BatchSize != 3 {
		t.Fatalf("commit: %+v %v", res.Ack, res.Err)
	}
	// A batch whose check fails stores nothing.
	r.publish("s.a", msg("b2", 1, ""), "x")
	r.wantErr(r.publish("s.a", msg("b2", 2, "Nats-Batch-Commit: 1\r\nNats-Expected-Last-Sequence: 1"), "y"), jsapi.ErrStreamWrongLastSequence, "wrong last sequence: 5")
	r.run(func() {
		if st := r.s.Store().State(); st.LastSeq != 4 || st.Msgs != 4 {
			t.Fatalf("a refused batch left messages: %+v", st)
		}
	})
	r.wantErr(r.publish("s.a", msg("b3", 2, ""), "gap"), jsapi.ErrAtomicPublishIncompleteBatch, "")
	r.publish("s.a", msg("b4", 1, ""), "1")
	r.wantErr(r.publish("s.a", msg("b4", 3, ""), "gap"), jsapi.ErrAtomicPublishIncompleteBatch, "")
	r.wantErr(r.publish("s.a", msg("b5", 1, "Nats-Batch-Commit: yes"), ""), jsapi.ErrAtomicPublishInvalidBatchCommit, "")
	r.wantErr(r.publish("s.a", "Nats-Batch-Id: b6", ""), jsapi.ErrAtomicPublishMissingSeq, "")
	// "eob" ends a batch without adding itself.
	r.publish("s.a", msg("b7", 1, ""), "only")
	res = r.publish("s.a", msg("b7", 2, "Nats-Batch-Commit: eob"), "")
	if res.Err != nil || res.Ack.BatchSize != 1 || res.Ack.Sequence != 5 {
		t.Fatalf("eob commit: %+v %v", res.Ack, res.Err)
	}
	plain := newRig(t, baseConfig())
	plain.wantErr(plain.publish("s.a", msg("b", 1, ""), ""), jsapi.ErrAtomicPublishDisabled, "")
}

func TestSchedules(t *testing.T) {
	cfg := baseConfig()
	cfg.AllowMsgSchedules, cfg.AllowMsgTTL = true, true
	r := newRig(t, cfg)
	now := r.w.Now()
	_ = now
	at := r.e.Clock.Now().Add(2 * time.Second).UTC().Format(time.RFC3339)
	res := r.publish("s.sched.once", "Nats-Schedule: @at "+at+"\r\nNats-Schedule-Target: s.out", "payload")
	if res.Err != nil {
		t.Fatalf("schedule: %v", res.Err)
	}
	r.publish("s.sched.tick", "Nats-Schedule: @every 1s\r\nNats-Schedule-Target: s.tick", "tick")
	r.wantErr(r.publish("s.bad", "Nats-Schedule: @every 10ms\r\nNats-Schedule-Target: s.out", ""), jsapi.ErrMessageSchedulesPatternInvalid, "")
	r.wantErr(r.publish("s.bad", "Nats-Schedule: @every 1s\r\nNats-Schedule-Target: other.x", ""), jsapi.ErrMessageSchedulesTargetInvalid, "")
	r.wantErr(r.publish("s.bad", "Nats-Schedule: @every 1s\r\nNats-Schedule-Target: s.bad", ""), jsapi.ErrMessageSchedulesTargetInvalid, "")
	r.wantErr(r.publish("s.bad", "Nats-Schedule: 0 0 * * *\r\nNats-Schedule-Target: s.out", ""), jsapi.ErrMessageSchedulesPatternInvalid, "")
	// Let 3.5 seconds pass, firing what is due each 100ms, as the stream actor's timer does.
	var produced []string
	for range 35 {
		r.w.RunUntil(r.w.Now() + 100*time.Millisecond)
		r.run(func() {
			for _, m := range r.s.DueSchedules(r.e.Clock.Now().UnixNano()) {
				produced = append(produced, m.Subject+"="+string(m.Data))
				r.s.Apply(m, func(Result) {})
			}
		})
	}
	once, ticks := 0, 0
	for _, p := range produced {
		switch p {
		case "s.out=payload":
			once++
		case "s.tick=tick":
			ticks++
		}
	}
	if once != 1 || ticks < 2 || ticks > 4 {
		t.Fatalf("produced %v", produced)
	}
	r.run(func() {
		f, _ := filestore.NewFilter("s.sched.once")
		if _, err := r.s.Store().LoadLast(f); err == nil {
			t.Fatal("a one-off schedule is still stored after it fired")
		}
		// A schedule is stored as the rollup of its subject it is, as nats-server stores it;
		// its products do not inherit the rollup.
		f, _ = filestore.NewFilter("s.sched.tick")
		m, err := r.s.Store().LoadLast(f)
		if err != nil || proto.HeaderValue(m.Header, "Nats-Rollup") != "sub" {
			t.Fatalf("the stored schedule: %v %q", err, m.Header)
		}
		f, _ = filestore.NewFilter("s.tick")
		if m, err = r.s.Store().LoadLast(f); err != nil || proto.HasHeader(m.Header, "Nats-Rollup") {
			t.Fatalf("a product: %v %q", err, m.Header)
		}
	})
	plain := newRig(t, baseConfig())
	plain.wantErr(plain.publish("s.a", "Nats-Schedule: @every 1s\r\nNats-Schedule-Target: s.b", ""), jsapi.ErrMessageSchedulesDisabled, "")
}

// A store broken by a failed write answers every publish with the store's failure, before
// any rule is judged against its index (a broken store opened at boot had lost messages from
// its index, and an update expecting the key's acknowledged revision was refused as a wrong
// last sequence: sim seed 1756).
func TestBrokenStoreRefusesBeforeRules(t *testing.T) {
	r := newRig(t, baseConfig())
	r.wantSeq(r.publish("s.a", "", "1"), 1, false)
	r.n.Disk.FailNext("write", errors.New("injected EIO"))
	r.wantErr(r.publish("s.b", "", "2"), jsapi.ErrStreamStoreFailed, "")
	r.wantErr(r.publish("s.a", "Nats-Expected-Last-Subject-Sequence: 7", "3"), jsapi.ErrStreamStoreFailed, "")
}
