package filestore

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// ack records a Store's completion.
type ack struct {
	seq    env.Seq
	err    error
	called int
	order  int // position among all completions the test saw
}

// acks hands out completions that record themselves and the order they ran in.
type acks struct{ n int }

func (a *acks) store(st Store, subject, data string) *ack {
	x := &ack{}
	st.Store(subject, nil, []byte(data), StoreOpts{}, func(seq env.Seq, err error) {
		a.n++
		x.seq, x.err, x.order = seq, err, a.n
		x.called++
	})
	return x
}

func (a *acks) done(x *ack) func(error) {
	return func(err error) {
		a.n++
		x.err, x.order = err, a.n
		x.called++
	}
}

// TestPipelineAcksAfterOwnSync: with a sync held in flight the store keeps taking and
// writing mutations, starts no second sync beside it, and completes each batch only when
// the sync that covers it returns, in call order. A power loss while the second sync is held
// keeps the first batch and may lose the second.
func TestPipelineAcksAfterOwnSync(t *testing.T) {
	h := newHarness(t, 40, Config{})
	st := h.openFile()
	var a acks
	h.gate.held = true
	first := []*ack{a.store(st, "a", "a1"), a.store(st, "a", "a2")}
	h.settle()
	if len(h.gate.queue) != 1 || first[0].called+first[1].called != 0 {
		t.Fatalf("after the first batch: %d syncs held, acks %d %d; want 1 held, none acked",
			len(h.gate.queue), first[0].called, first[1].called)
	}
	second := []*ack{a.store(st, "b", "b1"), a.store(st, "b", "b2"), a.store(st, "b", "b3")}
	h.settle()
	if len(h.gate.queue) != 1 {
		t.Fatalf("%d syncs held while one was in flight, want 1", len(h.gate.queue))
	}
	if m, err := st.LoadMsg(4); err != nil || string(m.Data) != "b2" {
		t.Fatalf("read during the sync: %v %v", m, err)
	}
	disk, err := h.n.Disk.ReadFile(blockName("data/stream", 1))
	if err != nil || !strings.Contains(string(disk), "b3") {
		t.Fatalf("the second batch was not written while the first sync was in flight (%v)", err)
	}
	if !h.gate.release() {
		t.Fatal("nothing to release")
	}
	h.settle()
	for i, x := range first {
		if x.called != 1 || x.err != nil || x.seq != env.Seq(i+1) || x.order != i+1 {
			t.Fatalf("first batch ack %d: %+v", i, *x)
		}
	}
	for i, x := range second {
		if x.called != 0 {
			t.Fatalf("second batch ack %d ran before its own sync returned", i)
		}
	}
	if len(h.gate.queue) != 1 {
		t.Fatalf("the second batch's sync did not start when the first returned (%d held)", len(h.gate.queue))
	}
	h.crash(true)
	st = h.openFile()
	for seq := env.Seq(1); seq <= 2; seq++ {
		if _, err := st.LoadMsg(seq); err != nil {
			t.Fatalf("acknowledged seq %d lost in a power loss: %v", seq, err)
		}
	}
	if got := st.State().LastSeq; got < 2 || got > 5 {
		t.Fatalf("last seq %d after the crash, want 2..5", got)
	}
}

// TestPipelineSyncFailureHalts: a sync that fails on the sync executor halts the node, and
// the batch it covered is never acknowledged; what was acknowledged before survives.
func TestPipelineSyncFailureHalts(t *testing.T) {
	h := newHarness(t, 44, Config{})
	st := h.openFile()
	h.mustStore(st, "a", "kept")
	var a acks
	h.gate.held = true
	x1, x2 := a.store(st, "b", "x1"), a.store(st, "b", "x2")
	h.settle()
	if len(h.gate.queue) != 1 {
		t.Fatalf("%d syncs held, want 1", len(h.gate.queue))
	}
	h.n.Disk.FailNext("sync", env.ErrIO)
	h.gate.open()
	h.settle()
	if h.n.Up() || x1.called+x2.called != 0 {
		t.Fatalf("after a failed fsync on the sync executor: node up %v, acks %d %d", h.n.Up(), x1.called, x2.called)
	}
	h.crash(true)
	st = h.openFile()
	if m, err := st.LoadMsg(1); err != nil || string(m.Data) != "kept" {
		t.Fatalf("acknowledged message after the halt and a power loss: %v %v", m, err)
	}
}

// TestPipelineCompletesInOrder: after the held sync returns, its batch completes first, then
// the next batch, whatever kinds of mutation they hold.
func TestPipelineCompletesInOrder(t *testing.T) {
	h := newHarness(t, 41, Config{})
	st := h.openFile()
	for i := 0; i < 4; i++ {
		h.mustStore(st, "a", fmt.Sprint(i))
	}
	var a acks
	h.gate.held = true
	x1, x2 := a.store(st, "b", "x1"), a.store(st, "b", "x2")
	h.settle()
	rm := &ack{}
	if err := st.RemoveMsg(1, a.done(rm)); err != nil {
		t.Fatal(err)
	}
	cp := &ack{}
	if _, err := st.Compact(3, a.done(cp)); err != nil {
		t.Fatal(err)
	}
	x3 := a.store(st, "b", "x3")
	h.settle()
	h.gate.open()
	h.settle()
	for i, x := range []*ack{x1, x2, rm, cp, x3} {
		if x.called != 1 || x.err != nil || x.order != i+1 {
			t.Fatalf("completion %d: %+v, want the %d-th, once, without error", i, *x, i+1)
		}
	}
}

// TestPipelineCloseWithSyncInFlight: Close while a sync is in flight returns at once, syncs
// nothing beside it, and finishes when it returns: the completions run in order with their
// outcome, everything written is durable, and the files are released without touching the
// directory (the owner may have opened the store again by then). Opening again before the
// old store finished works, and the late finish does not disturb the new store.
func TestPipelineCloseWithSyncInFlight(t *testing.T) {
	for _, reopen := range []bool{false, true} {
		h := newHarness(t, 42, Config{BlockBytes: 512, Limits: Limits{MaxMsgs: 3}})
		st := h.openFile()
		for i := 0; i < 20; i++ {
			h.mustStore(st, "a", strings.Repeat("x", 40))
		}
		var a acks
		h.gate.held = true
		b1, b2 := a.store(st, "b", "b1"), a.store(st, "b", "b2")
		h.settle()
		b3 := a.store(st, "b", "b3")
		if err := st.Close(); err != nil {
			t.Fatalf("close with a sync in flight: %v", err)
		}
		late := a.store(st, "b", "late")
		if _, err := st.LoadMsg(21); !errors.Is(err, ErrClosed) {
			t.Fatalf("load after close: %v", err)
		}
		h.settle()
		if b1.called+b2.called+b3.called+late.called != 0 || len(h.gate.queue) != 1 {
			t.Fatalf("close did not wait for the sync in flight: acks %d %d %d %d, %d held",
				b1.called, b2.called, b3.called, late.called, len(h.gate.queue))
		}
		var st2 Store
		if reopen {
			h.gate.held = false
			st2 = h.openFile()
			h.settle()
		}
		blocks, _ := h.e.FS.List("data/stream")
		h.gate.open()
		h.settle()
		for i, x := range []*ack{b1, b2, b3} {
			if x.called != 1 || x.err != nil || x.order != i+1 {
				t.Fatalf("reopen=%v: ack %d after the sync returned: %+v", reopen, i, *x)
			}
		}
		if late.called != 1 || !errors.Is(late.err, ErrClosed) || late.order != 4 {
			t.Fatalf("reopen=%v: store after close: %+v", reopen, *late)
		}
		if after, _ := h.e.FS.List("data/stream"); fmt.Sprint(after) != fmt.Sprint(blocks) {
			t.Fatalf("reopen=%v: the closed store's late finish changed the directory: %v, then %v", reopen, blocks, after)
		}
		if !reopen {
			st2 = h.openFile()
		}
		if m, err := st2.LoadMsg(23); err != nil || string(m.Data) != "b3" {
			t.Fatalf("reopen=%v: reopened store: %v %v", reopen, m, err)
		}
		for i := 0; i < 10; i++ {
			h.mustStore(st2, "c", strings.Repeat("z", 40))
		}
		if names, _ := h.e.FS.List("data/stream"); len(names) > 3 {
			t.Fatalf("reopen=%v: dead blocks kept: %v", reopen, names)
		}
		h.crash(true)
		st2 = h.openFile()
		if got := st2.State(); got.LastSeq != 33 || got.Msgs != 3 {
			t.Fatalf("reopen=%v: after a power loss: %+v", reopen, got)
		}
	}
}

// TestPipelineKeepsDeadBlockUntilDeletionSynced: a block whose last message is removed while
// a sync is in flight stays until a sync cut after the removal's record returned; the sync
// already in flight does not cover it.
func TestPipelineKeepsDeadBlockUntilDeletionSynced(t *testing.T) {
	h := newHarness(t, 43, Config{BlockBytes: 512})
	st := h.openFile()
	for i := 1; i <= 12; i++ {
		h.mustStore(st, "a", strings.Repeat("y", 60))
	}
	first := blockName("data/stream", 1)
	var a acks
	h.gate.held = true
	a.store(st, "b", "1")
	a.store(st, "b", "2")
	h.settle() // a sync in flight, cut while block 1 was live
	var removals []*ack
	removed := 0
	for seq := env.Seq(1); ; seq++ {
		if m, err := st.LoadMsg(seq); err != nil || m.Subject != "a" {
			break
		}
		e := st.(*store).msgs.get(uint64(seq))
		if e.block != 1 {
			break
		}
		x := &ack{}
		if err := st.RemoveMsg(seq, a.done(x)); err != nil {
			t.Fatal(err)
		}
		removals = append(removals, x)
		removed++
	}
	if removed < 2 {
		t.Fatalf("block 1 held %d messages, want at least 2", removed)
	}
	h.settle()
	h.gate.release()
	h.settle()
	if _, err := h.e.FS.Stat(first); err != nil {
		t.Fatalf("block 1 was removed when a sync that did not cover its deletions returned: %v", err)
	}
	if len(h.gate.queue) != 1 || removals[0].called != 0 {
		t.Fatalf("the deletions' sync is not the one held (%d held, ack %d)", len(h.gate.queue), removals[0].called)
	}
	h.gate.open()
	h.settle()
	h.mustStore(st, "c", "z") // the next commit removes it (its removal waits for no sync)
	h.mustStore(st, "c", "z")
	if _, err := h.e.FS.Stat(first); !env.IsNotExist(err) {
		t.Fatalf("dead block 1 kept after its deletions were synced: %v", err)
	}
}

// TestPipelineCrashes runs many writers, each storing again as soon as its last store was
// acknowledged, on the simulator's interleavings, and crashes the node at a random moment
// (power loss or process crash; in a third of the seeds an fsync fails first, which halts
// it): every acknowledged message must survive, intact. It also checks that syncs were
// shared: far fewer syncs than messages.
func TestPipelineCrashes(t *testing.T) {
	total, totalSyncs, totalHanded, halts := 0, 0, 0, 0
	for seed := uint64(1); seed <= 40; seed++ {
		h := newHarness(t, 1000+seed, Config{BlockBytes: 4096})
		st, counting := h.openCounting(t)
		counting.fileSyncs = 0
		acked := map[env.Seq]string{}
		const writers = 16
		r := env.NewPRNG(seed)
		for w := 0; w < writers; w++ {
			ex := h.e.Exec.New(fmt.Sprintf("writer%d", w))
			var write func(n int)
			write = func(n int) {
				data := fmt.Sprintf("w%d-%d", w, n)
				h.ex.Post(func() {
					st.Store("w", nil, []byte(data), StoreOpts{}, func(seq env.Seq, err error) {
						if err != nil {
							t.Fatalf("seed %d: store: %v", seed, err)
						}
						acked[seq] = data
						// A short think time lets the clock move (the simulated disk takes
						// none), and spreads the writers over the sync's turns.
						h.e.Clock.AfterFunc(time.Duration(r.Intn(3))*time.Microsecond, ex, func() { write(n + 1) })
					})
				})
			}
			ex.Post(func() { write(0) })
		}
		span := time.Duration(200+r.Intn(1000)) * time.Microsecond
		if r.Intn(3) == 0 {
			// A failed fsync halts the node, from whichever executor ran it.
			h.w.After(time.Duration(r.Intn(int(span))), func() { h.n.Disk.FailNext("sync", env.ErrIO) })
		}
		h.advance(span)
		syncs, handedOff := counting.fileSyncs, h.gate.posted
		if !h.n.Up() {
			halts++
		}
		h.crash(r.Intn(2) == 0) // after a halt the node is down already: this boots it
		st = h.openFile()
		for seq, data := range acked {
			m, err := st.LoadMsg(seq)
			if err != nil || string(m.Data) != data {
				t.Fatalf("seed %d: acknowledged seq %d (%s) after the crash: %v %v", seed, seq, data, m, err)
			}
		}
		total += len(acked)
		totalSyncs += syncs
		totalHanded += handedOff
	}
	t.Logf("%d messages acknowledged, %d syncs (%.1f messages per sync), %d of them on the sync executor; %d halts",
		total, totalSyncs, float64(total)/float64(totalSyncs), totalHanded, halts)
	if total < 4*totalSyncs || totalHanded < totalSyncs/4 || halts == 0 {
		t.Fatalf("syncs were not shared, few went through the pipeline, or no fsync failed")
	}
}

// TestPacerPicksTheFasterWay feeds the pacer windows at made-up speeds: it must settle on
// the faster way, try the other now and then, and try a losing way less and less often.
func TestPacerPicksTheFasterWay(t *testing.T) {
	for _, tc := range []struct {
		name   string
		speeds [2]time.Duration // time per sync: grouped, pipelined
		want   bool             // settles on pipelined
	}{
		{"grouped faster", [2]time.Duration{100 * time.Microsecond, 180 * time.Microsecond}, false},
		{"pipelined faster", [2]time.Duration{200 * time.Microsecond, 60 * time.Microsecond}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p pacer
			now := time.Duration(0)
			p.restart(now)
			runs := [2]int{}
			for i := 0; i < 200*pacerWindowSyncs; i++ {
				w := p.way()
				runs[w]++
				now += tc.speeds[w]
				p.synced(now, 32)
			}
			if p.pipelined != tc.want {
				t.Fatalf("settled on pipelined=%v", p.pipelined)
			}
			want := 0
			if tc.want {
				want = 1
			}
			tries := runs[1-want] / pacerWindowSyncs
			if tries < 3 || tries > 200/pacerProbeEvery {
				t.Fatalf("the slower way ran %d windows of 200, want a few (it must be tried, less and less)", tries)
			}
			if p.probeEvery != pacerProbeEveryMax {
				t.Fatalf("probe interval %d after many losing tries, want %d", p.probeEvery, pacerProbeEveryMax)
			}
		})
	}
}
