package filestore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// countingFS counts syncs, to check group commit, bytes written and reads; it can flip a
// bit in what one read returns (the read at fault, the disk intact).
type countingFS struct {
	env.FS
	fileSyncs, dirSyncs int
	written             int64
	reads               int
	// flipAtLeast: flip one bit in what the next read of at least this many bytes returns
	// (0: none).
	flipAtLeast int
}

func (c *countingFS) SyncDir(dir string) error { c.dirSyncs++; return c.FS.SyncDir(dir) }
func (c *countingFS) Create(name string) (env.File, error) {
	f, err := c.FS.Create(name)
	return c.wrap(f, err)
}
func (c *countingFS) OpenRW(name string) (env.File, error) {
	f, err := c.FS.OpenRW(name)
	return c.wrap(f, err)
}
func (c *countingFS) wrap(f env.File, err error) (env.File, error) {
	if err != nil {
		return nil, err
	}
	return &countingFile{File: f, fs: c}, nil
}

type countingFile struct {
	env.File
	fs *countingFS
}

func (f *countingFile) Sync() error { f.fs.fileSyncs++; return f.File.Sync() }
func (f *countingFile) ReadAt(p []byte, off int64) (int, error) {
	f.fs.reads++
	n, err := f.File.ReadAt(p, off)
	if f.fs.flipAtLeast > 0 && len(p) >= f.fs.flipAtLeast {
		p[len(p)/2] ^= 0x10
		f.fs.flipAtLeast = 0
	}
	return n, err
}
func (f *countingFile) WriteAt(p []byte, off int64) (int, error) {
	f.fs.written += int64(len(p))
	return f.File.WriteAt(p, off)
}

// openCounting opens the harness's file store over a countingFS.
func (h *harness) openCounting(t tb) (Store, *countingFS) {
	counting := &countingFS{FS: h.e.FS}
	e := *h.e
	e.FS = counting
	st, err := OpenFile(&e, h.config())
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return st, counting
}

// TestGroupCommit: many stores queued on the executor share one fsync, and no completion
// runs before it.
func TestGroupCommit(t *testing.T) {
	h := newHarness(t, 20, Config{})
	st, counting := h.openCounting(t)
	h.settle()
	counting.fileSyncs, counting.dirSyncs = 0, 0
	acked := 0
	for i := 0; i < 100; i++ {
		st.Store("a", nil, []byte("x"), StoreOpts{}, func(seq env.Seq, err error) {
			if err != nil {
				t.Errorf("store: %v", err)
			}
			if counting.fileSyncs == 0 {
				t.Errorf("seq %d acknowledged before any fsync", seq)
			}
			acked++
		})
	}
	if acked != 0 || counting.fileSyncs != 0 {
		t.Fatalf("work done inside the calls: %d acked, %d syncs", acked, counting.fileSyncs)
	}
	h.settle()
	if acked != 100 || counting.fileSyncs != 1 {
		t.Fatalf("%d acked with %d fsyncs, want 100 with 1", acked, counting.fileSyncs)
	}
}

// TestGroupCommitPipelined: 100 writers, each storing again as soon as its last store was
// acknowledged, share syncs through the pipeline, and no completion runs before a sync that
// ran after its call. It reports the messages per fsync.
func TestGroupCommitPipelined(t *testing.T) {
	h := newHarness(t, 25, Config{})
	st, counting := h.openCounting(t)
	h.settle()
	counting.fileSyncs = 0
	const writers, each = 100, 20
	acked := 0
	for w := 0; w < writers; w++ {
		ex := h.e.Exec.New(fmt.Sprintf("writer%d", w))
		var write func(n int)
		write = func(n int) {
			if n == each {
				return
			}
			h.ex.Post(func() {
				before := counting.fileSyncs
				st.Store("a", nil, []byte("x"), StoreOpts{}, func(seq env.Seq, err error) {
					if err != nil || counting.fileSyncs == before {
						t.Fatalf("seq %d acknowledged (err %v) with no sync since its call", seq, err)
					}
					acked++
					ex.Post(func() { write(n + 1) })
				})
			})
		}
		ex.Post(func() { write(0) })
	}
	h.advance(10 * time.Millisecond)
	if acked != writers*each {
		t.Fatalf("%d of %d acknowledged", acked, writers*each)
	}
	perSync := float64(acked) / float64(counting.fileSyncs)
	t.Logf("%d messages, %d fsyncs: %.1f messages per fsync, %d syncs on the sync executor",
		acked, counting.fileSyncs, perSync, h.gate.posted)
	if perSync < 10 {
		t.Fatalf("%.1f messages per fsync with %d writers: the syncs were not shared", perSync, writers)
	}
}

// TestSyncEvery: the relaxed mode acknowledges before fsync and syncs on its timer.
func TestSyncEvery(t *testing.T) {
	h := newHarness(t, 21, Config{Sync: SyncEvery, SyncInterval: 100 * time.Millisecond})
	st, counting := h.openCounting(t)
	h.settle()
	counting.fileSyncs = 0
	h.mustStore(st, "a", "x")
	if counting.fileSyncs != 0 {
		t.Fatalf("SyncEvery synced before acknowledging")
	}
	h.advance(150 * time.Millisecond)
	if counting.fileSyncs != 1 {
		t.Fatalf("%d syncs after the interval, want 1", counting.fileSyncs)
	}
}

// TestWriteFailure: a failed write breaks the store (completions and later calls get
// ErrFailed); reopening recovers and the store works again.
func TestWriteFailure(t *testing.T) {
	h := newHarness(t, 22, Config{})
	st := h.openFile()
	h.mustStore(st, "a", "kept")
	h.n.Disk.FailNext("write", env.ErrNoSpace)
	if _, err := h.store(st, "a", "lost", StoreOpts{}); !errors.Is(err, ErrFailed) || !errors.Is(err, env.ErrNoSpace) {
		t.Fatalf("store during ENOSPC: %v", err)
	}
	if _, err := st.LoadMsg(1); !errors.Is(err, ErrFailed) {
		t.Fatalf("load on a failed store: %v", err)
	}
	if err := st.Close(); !errors.Is(err, ErrFailed) {
		t.Fatalf("close of a failed store: %v", err)
	}
	st = h.openFile()
	if m, err := st.LoadMsg(1); err != nil || string(m.Data) != "kept" {
		t.Fatalf("after reopen: %v %v", m, err)
	}
	if seq := h.mustStore(st, "a", "again"); seq != 2 {
		t.Fatalf("seq %d after reopen", seq)
	}
}

// TestSyncFailureHalts: a failed fsync halts the node; the completion never fires, so the
// write is never acknowledged.
func TestSyncFailureHalts(t *testing.T) {
	h := newHarness(t, 23, Config{})
	st := h.openFile()
	h.settle()
	h.n.Disk.FailNext("sync", env.ErrIO)
	acked := false
	st.Store("a", nil, []byte("x"), StoreOpts{}, func(env.Seq, error) { acked = true })
	h.settle()
	if acked || h.n.Up() {
		t.Fatalf("after a failed fsync: acked=%v, node up=%v", acked, h.n.Up())
	}
}

// TestDeadBlocksRemoved: with a message limit and small blocks, blocks whose messages are
// all gone are deleted from the front, and a restart still knows the sequence.
func TestDeadBlocksRemoved(t *testing.T) {
	h := newHarness(t, 24, Config{BlockBytes: 512, Limits: Limits{MaxMsgs: 5}})
	st := h.openFile()
	for i := 0; i < 200; i++ {
		h.mustStore(st, "a", strings.Repeat("x", 50))
	}
	names, _ := h.e.FS.List("data/stream")
	if len(names) > 6 {
		t.Fatalf("%d block files kept for 5 messages: %v", len(names), names)
	}
	h.crash(true)
	st = h.openFile()
	if got := st.State(); got.LastSeq != 200 || got.Msgs != 5 || got.FirstSeq != 196 {
		t.Fatalf("after restart: %+v", got)
	}
	// Purging everything leaves one block that still carries the sequence.
	if _, err := st.Purge(PurgeOpts{}, nil); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		h.mustStore(st, "b", strings.Repeat("y", 50))
	}
	if _, err := st.Purge(PurgeOpts{}, nil); err != nil {
		t.Fatal(err)
	}
	h.settle()
	h.crash(true)
	st = h.openFile()
	if got := st.State(); got.LastSeq != 230 || got.Msgs != 0 || got.FirstSeq != 231 {
		t.Fatalf("after purge and restart: %+v", got)
	}
}

// intCodec packs an int as a delta from the one before, for TestSeqMap.
type intCodec struct{}

func (intCodec) put(dst []byte, prev, v *int) []byte {
	return binary.AppendVarint(dst, int64(*v-*prev))
}

func (intCodec) get(src []byte, prev, v *int) (int, bool) {
	d, n := binary.Varint(src)
	*v = *prev + int(d)
	return n, n > 0
}

// TestSeqMap exercises the chunked map against a sorted slice, through chunk splits, merges
// and packing: every value is its key, so a value read from a chunk packed and opened again
// shows a codec or bookkeeping slip.
func TestSeqMap(t *testing.T) {
	var m seqMap[int, intCodec]
	var ref []uint64
	r := env.NewPRNG(1)
	next := uint64(1)
	walk := uint64(0) // a consumer's position: countFrom at every step, moving on a little
	for step := 0; step < 20000; step++ {
		if r.Intn(3) > 0 || len(ref) == 0 {
			next += uint64(1 + r.Intn(3))
			m.push(next, int(next))
			ref = append(ref, next)
		} else {
			i := r.Intn(len(ref))
			if r.Intn(2) == 0 {
				i = 0
			}
			if !m.remove(ref[i]) {
				t.Fatalf("remove %d failed", ref[i])
			}
			ref = append(ref[:i], ref[i+1:]...)
		}
		walk += uint64(r.Intn(3))
		if r.Intn(1000) == 0 {
			walk = uint64(r.Intn(int(next + 2))) // a jump, back or forward
		}
		if got, want := m.countFrom(walk), len(ref)-sort.Search(len(ref), func(i int) bool { return ref[i] >= walk }); got != want {
			t.Fatalf("step %d: countFrom(%d) = %d, want %d", step, walk, got, want)
		}
		if len(ref) > 0 { // a read anywhere: opens a packed chunk, packs another
			k := ref[r.Intn(len(ref))]
			if v := m.get(k); v == nil || *v != int(k) {
				t.Fatalf("step %d: get(%d) = %v", step, k, v)
			}
		}
		if step%500 == 0 {
			m.checkInvariants()
			probe := uint64(r.Intn(int(next + 2)))
			j := sort.Search(len(ref), func(i int) bool { return ref[i] >= probe })
			k, v, ok := m.next(probe)
			if (j < len(ref)) != ok || (ok && (k != ref[j] || *v != int(k))) {
				t.Fatalf("next(%d) = %d %v", probe, k, ok)
			}
			var seen []uint64
			m.ascend(probe, func(k uint64, v *int) bool {
				if *v != int(k) {
					t.Fatalf("ascend: %d holds %d", k, *v)
				}
				m.get(ref[r.Intn(len(ref))]) // reads meanwhile may pack the chunk being walked
				seen = append(seen, k)
				return true
			})
			if !slices.Equal(seen, ref[j:]) {
				t.Fatalf("ascend(%d) saw %d keys, want %d", probe, len(seen), len(ref)-j)
			}
			if got := m.countFrom(probe); got != len(ref)-j {
				t.Fatalf("countFrom(%d) = %d, want %d", probe, got, len(ref)-j)
			}
			jp := sort.Search(len(ref), func(i int) bool { return ref[i] > probe }) - 1
			k, _, ok = m.prev(probe)
			if (jp >= 0) != ok || (ok && k != ref[jp]) {
				t.Fatalf("prev(%d) = %d %v", probe, k, ok)
			}
		}
	}
	if m.len() != len(ref) {
		t.Fatalf("len %d, want %d", m.len(), len(ref))
	}
	packed := 0
	for _, c := range m.chunks {
		if c.pk != nil {
			packed++
		}
	}
	if packed < len(m.chunks)-1-seqOpenMax {
		t.Fatalf("%d of %d chunks packed: the rest should be", packed, len(m.chunks))
	}
}

// TestSubjectTreeMatch compares the trie's wildcard walk with a linear match.
func TestSubjectTreeMatch(t *testing.T) {
	var tree subjectTree
	var subjects []string
	for _, a := range []string{"a", "b", "c"} {
		for _, b := range []string{"x", "y"} {
			for _, c := range []string{"", ".1", ".2.z"} {
				s := a + "." + b + c
				subjects = append(subjects, s)
				tree.insert(s).seqs.push(1, struct{}{})
			}
		}
	}
	subjects = append(subjects, "a")
	tree.insert("a").seqs.push(1, struct{}{})
	for _, f := range [][]string{{">"}, {"a.>"}, {"*.x"}, {"*.*.1"}, {"a.*.>"}, {"b.y.2.z"}, {"a", "a.>"}, {"*"}, {"q.>"}} {
		flt := MustFilter(f...)
		var got []string
		tree.match(flt, func(ss *subjectState) bool { got = append(got, ss.subject); return true })
		var want []string
		for _, s := range subjects {
			if flt.Matches(s) {
				want = append(want, s)
			}
		}
		sort.Strings(got)
		sort.Strings(want)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("filter %v: got %v want %v", f, got, want)
		}
	}
	for _, s := range subjects {
		tree.remove(s)
	}
	if tree.count != 0 || len(tree.root.children) != 0 {
		t.Fatalf("tree not empty after removals: %d subjects, %d children", tree.count, len(tree.root.children))
	}
}

// TestCallsAfterClose: a Store after Close still gets its completion, with ErrClosed.
func TestCallsAfterClose(t *testing.T) {
	h := newHarness(t, 28, Config{})
	st := h.openFile()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := h.store(st, "a", "x", StoreOpts{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("store after close: %v", err)
	}
	if err := st.RemoveMsg(1, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("remove after close: %v", err)
	}
	if err := st.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second close: %v", err)
	}
}
