package filestore

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/petrel-io/petrel/core/env"
)

// readAheadStore opens a file store on a counting FS and stores n small messages.
func readAheadStore(t *testing.T, seed uint64, cfg Config, n int) (*harness, *countingFS, Store) {
	t.Helper()
	h := newHarness(t, seed, cfg)
	st, fs := h.openCounting(t)
	for i := 1; i <= n; i++ {
		st.Store("a", nil, []byte(readAheadPayload(i)), StoreOpts{}, func(env.Seq, error) {})
	}
	h.settle()
	return h, fs, st
}

func readAheadPayload(seq int) string {
	return fmt.Sprintf("message %05d %s", seq, bytes.Repeat([]byte{'x'}, 80))
}

// walk loads every message in order with LoadNext and checks each, keeping them all; it
// checks them again at the end, so a message that shared a window's bytes would show.
func walk(t *testing.T, st Store, from, to int) {
	t.Helper()
	var kept []*Msg
	for seq := from; seq <= to; seq++ {
		m, err := st.LoadNext(AllSubjects, env.Seq(seq))
		if err != nil || int(m.Seq) != seq || string(m.Data) != readAheadPayload(seq) || m.Subject != "a" {
			t.Fatalf("load next %d: %v %v", seq, m, err)
		}
		kept = append(kept, m)
	}
	for i, m := range kept {
		if string(m.Data) != readAheadPayload(from+i) {
			t.Fatalf("seq %d changed after later reads: %q", from+i, m.Data)
		}
	}
}

// TestReadAheadSequential: an in-order walk reads a window per pread, not a record, and
// every message it returns is the caller's own copy.
func TestReadAheadSequential(t *testing.T) {
	const n = 3000
	_, fs, st := readAheadStore(t, 41, Config{}, n)
	fs.reads = 0
	walk(t, st, 1, n)
	rlen := int(st.(*store).msgs.get(1).rlen)
	if windows := n*rlen/readAheadBytes + 2; fs.reads > windows {
		t.Fatalf("%d reads for %d sequential loads of %d-byte records, want at most %d", fs.reads, n, rlen, windows)
	}
}

// TestReadAheadNotForRandomReads: loads that do not continue the previous one read their
// record alone.
func TestReadAheadNotForRandomReads(t *testing.T) {
	const n = 200
	_, fs, st := readAheadStore(t, 42, Config{}, n)
	fs.reads = 0
	for seq := n; seq >= 1; seq -= 2 {
		m, err := st.LoadMsg(env.Seq(seq))
		if err != nil || string(m.Data) != readAheadPayload(seq) {
			t.Fatalf("load %d: %v %v", seq, m, err)
		}
	}
	if fs.reads != n/2 {
		t.Fatalf("%d reads for %d backward loads", fs.reads, n/2)
	}
	if b := st.(*store).b.(*fileBackend); cap(b.window.buf) != 0 {
		t.Fatalf("a window of %d bytes allocated for random reads", cap(b.window.buf))
	}
}

// TestReadAheadFlipInLoadedBytes: a bit flipped by the read that loaded a window (the disk
// intact) fails that record's check when it is served; the window is dropped and the record
// read again from the file, so nothing is lost or reported.
func TestReadAheadFlipInLoadedBytes(t *testing.T) {
	const n = 1000
	h, fs, st := readAheadStore(t, 43, Config{}, n)
	fs.flipAtLeast = readAheadBytes / 2
	before := h.w.Coverage()[probeReadWindowReject]
	walk(t, st, 1, n)
	if fs.flipAtLeast != 0 {
		t.Fatal("no window load to flip a bit in")
	}
	if h.w.Coverage()[probeReadWindowReject] != before+1 {
		t.Fatal("the flipped bit was never met")
	}
	if d := st.Damage(); len(d) != 0 {
		t.Fatalf("a read fault reported as damage: %v", d)
	}
}

// TestReadAheadRotAfterLoad: rot on disk after a window was loaded is not seen through that
// window (its copy is what was written, and verifies); the next load of the region sees it,
// and the record is reported corrupt, never served.
func TestReadAheadRotAfterLoad(t *testing.T) {
	const n = 1000
	h, _, st := readAheadStore(t, 44, Config{}, n)
	walk(t, st, 1, 10) // the window now holds from seq 2 on
	e := st.(*store).msgs.get(20)
	h.n.Disk.FlipBitAt(blockFile, int64(e.off)+recordHeaderBytes+4, 2)
	walk(t, st, 11, 25) // seq 20 from the window: intact
	walk(t, st, 26, n)  // past the window: it moves on
	if w := &st.(*store).b.(*fileBackend).window; w.off <= int64(e.off) {
		t.Fatal("the window still holds seq 20: the test proves nothing")
	}
	if _, err := st.LoadMsg(1); err != nil {
		t.Fatal(err) // before the window: read alone
	}
	_, err := st.LoadMsg(20) // continues seq 1 closely enough to load a window at seq 20
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Seq != 20 {
		t.Fatalf("rotten seq 20 after a new load: %v", err)
	}
	if m, err := st.LoadNext(AllSubjects, 20); err != nil || m.Seq != 21 {
		t.Fatalf("next after the rotten one: %v %v", m, err)
	}
	if d := st.Damage(); len(d) != 1 || d[0].Seq != 20 || d[0].Kind != DamageCorrupt {
		t.Fatalf("damage %v", d)
	}
}

// TestReadAheadErase: an erase wipes the window, so the erased payload stays in no buffer.
func TestReadAheadErase(t *testing.T) {
	const n = 50
	h, _, st := readAheadStore(t, 45, Config{}, n)
	walk(t, st, 1, 5)
	b := st.(*store).b.(*fileBackend)
	secret := []byte(readAheadPayload(7))
	if !bytes.Contains(b.window.buf, secret) {
		t.Fatal("the window does not hold seq 7: the test proves nothing")
	}
	if err := h.waitDone(func(done func(error)) error { return st.EraseMsg(7, done) }); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b.window.buf[:cap(b.window.buf)], secret) {
		t.Fatal("erased payload still in the read window")
	}
	if _, err := st.LoadMsg(7); !errors.Is(err, ErrNotFound) {
		t.Fatalf("erased message: %v", err)
	}
	walk(t, st, 8, n)
}

// TestReadAheadAcrossWritesAndRemovals: reads that follow appends see the new records (a
// window never reaches past the written end), and a block removed under a window takes the
// window with it.
func TestReadAheadAcrossWritesAndRemovals(t *testing.T) {
	h, _, st := readAheadStore(t, 46, Config{BlockBytes: 4096}, 10)
	walk(t, st, 1, 10)
	for i := 11; i <= 60; i++ {
		st.Store("a", nil, []byte(readAheadPayload(i)), StoreOpts{}, func(env.Seq, error) {})
		if i%7 == 0 {
			h.settle()
			walk(t, st, i-6, i) // the last ones may still be pending, unwritten
		}
	}
	h.settle()
	walk(t, st, 50, 60)
	b := st.(*store).b.(*fileBackend)
	first := b.blocks[0]
	walk(t, st, 1, 3)
	if b.window.blk != first {
		t.Fatal("the window is not in the first block: the test proves nothing")
	}
	if _, err := h.waitDoneN(func(done func(error)) (uint64, error) { return st.Compact(40, done) }); err != nil {
		t.Fatal(err)
	}
	h.settle()
	if b.blocks[0] == first {
		t.Fatal("the first block was not removed: the test proves nothing")
	}
	if b.window.blk == first || b.window.lastBlk == first {
		t.Fatal("the window still refers to a removed block")
	}
	walk(t, st, 40, 60)
}

func (h *harness) waitDoneN(call func(done func(error)) (uint64, error)) (uint64, error) {
	h.t.Helper()
	var n uint64
	err := h.waitDone(func(done func(error)) error {
		var err error
		n, err = call(done)
		return err
	})
	return n, err
}

// TestSharedLoadsAllocateNothing: a walk with LoadNextShared served from the read window
// allocates nothing (the message and its bytes are the store's), and each message is right
// until the next load.
func TestSharedLoadsAllocateNothing(t *testing.T) {
	if env.Invariants {
		t.Skip("the invariants build checks the window at every load")
	}
	const n = 3000
	_, _, st := readAheadStore(t, 47, Config{}, n)
	for seq := 1; seq <= n; seq++ {
		m, err := st.LoadNextShared(AllSubjects, env.Seq(seq))
		if err != nil || int(m.Seq) != seq || string(m.Data) != readAheadPayload(seq) || m.Subject != "a" {
			t.Fatalf("shared load %d: %v %v", seq, m, err)
		}
	}
	seq, bad := 0, 0
	load := func() {
		seq = seq%n + 1
		if m, err := st.LoadNextShared(AllSubjects, env.Seq(seq)); err != nil || int(m.Seq) != seq {
			bad++
		}
	}
	if allocs := testing.AllocsPerRun(2*n, load); allocs > 0.01 || bad > 0 {
		t.Fatalf("%.3f allocations per shared load, %d wrong", allocs, bad)
	}
}
