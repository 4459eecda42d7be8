package workload

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/raft"
	"github.com/petrel-io/petrel/sim"
)

// TestFrameVerifiesReadsRaftWAL: the recovery checker's own decoder agrees with raft's WAL
// format: every record of a real segment verifies and the records tile the file, hard
// states decode; one flipped bit is survived (the mirror); a flipped bit in each payload
// copy is not.
func TestFrameVerifiesReadsRaftWAL(t *testing.T) {
	quiet := sim.Quiet()
	w := sim.NewWorld(1, sim.Options{Profile: &quiet})
	var e *env.Env
	node := w.AddNode("n1", sim.NodeConfig{}, func(fresh *env.Env) { e = fresh })
	wal, _, err := raft.OpenWAL(e.FS, "raft/wal", raft.SnapshotMeta{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ents []raft.Entry
	for i := env.Index(1); i <= 5; i++ {
		ents = append(ents, raft.Entry{Term: 1, Index: i, Data: []byte(fmt.Sprintf("entry %d", i))})
	}
	if err := wal.Save(&raft.HardState{Term: 1, Vote: 2, Commit: 3}, ents, nil, true); err != nil {
		t.Fatal(err)
	}
	data, err := node.Disk.ReadFile("raft/wal/0000000000000001.wal")
	if err != nil {
		t.Fatal(err)
	}
	var offs []int
	for off := 0; off < len(data); {
		n, ok := frameVerifies(data[off:])
		if !ok {
			t.Fatalf("record at %d of %d does not verify", off, len(data))
		}
		offs = append(offs, off)
		off += n
	}
	if len(offs) != 7 { // the segment's hard state, five entries, the saved hard state
		t.Fatalf("%d records, want 7", len(offs))
	}
	if hs, ok := lastHardState(data, -1); !ok || hs != (raft.HardState{Term: 1, Vote: 2, Commit: 3}) {
		t.Fatalf("last hard state %+v (found %v), want the saved one", hs, ok)
	}
	if hs, ok := lastHardState(data, 1); !ok || hs != (raft.HardState{}) {
		t.Fatalf("first record's hard state %+v (found %v), want the empty one the segment starts with", hs, ok)
	}
	off := offs[3]
	n := int(binary.LittleEndian.Uint32(data[off:]))
	one := append([]byte(nil), data...)
	one[off+16+2] ^= 4
	if _, ok := frameVerifies(one[off:]); !ok {
		t.Fatal("one flipped bit: the mirror copy should verify")
	}
	one[off+16+n+2] ^= 8
	if _, ok := frameVerifies(one[off:]); ok {
		t.Fatal("a flipped bit in each copy still verifies")
	}
	if !pristine(data[off:off+16+2*n]) || pristine(one[off:off+16+2*n]) {
		t.Fatal("pristine misjudges a frame")
	}
}

// TestRecoveredHardRules: the recovery checker's hard-state rules pass on what recovery
// leaves after a segment roll cut before its first record (it writes the hard state back),
// and fire when that last segment is left empty (the planted raft-wal-empty-segment bug) or
// when the recovered vote differs from the one the member had persisted.
func TestRecoveredHardRules(t *testing.T) {
	quiet := sim.Quiet()
	w := sim.NewWorld(1, sim.Options{Profile: &quiet})
	var e *env.Env
	node := w.AddNode("r1", sim.NodeConfig{Crashable: true}, func(fresh *env.Env) { e = fresh })
	wal, _, err := raft.OpenWAL(e.FS, "raft/wal", raft.SnapshotMeta{}, 300)
	if err != nil {
		t.Fatal(err)
	}
	hs := raft.HardState{Term: 4, Vote: 2}
	for i := env.Index(1); wal.Segments() < 2; i++ {
		hs.Commit = i
		ents := []raft.Entry{{Type: raft.EntryNormal, Term: 4, Index: i, Data: []byte("x")}}
		if err := wal.Save(&hs, ents, nil, true); err != nil {
			t.Fatal(err)
		}
	}
	last := "raft/wal/0000000000000002.wal"
	f, err := e.FS.OpenRW(last)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(0); err != nil || f.Sync() != nil { // the roll's first write was lost
		t.Fatal(err)
	}
	node.Crash(false)
	node.Restart()
	c := newRaftChecker(&Raft{w: w})
	c.madeDurable[1] = hs
	segs := map[string][]byte{}
	for _, n := range []string{"0000000000000001.wal", "0000000000000002.wal"} {
		segs[n], _ = node.Disk.ReadFile("raft/wal/" + n)
	}
	wal, _, err = raft.OpenWAL(e.FS, "raft/wal", raft.SnapshotMeta{}, 300)
	if err != nil {
		t.Fatal(err)
	}
	rec := wal.Recovery()
	if !rec.Segments[1].Header {
		t.Fatalf("recovery did not rewrite the cut segment's first record: %+v", rec.Segments[1])
	}
	c.checkRecoveredHard(1, rec, segs) // must not fire
	fails := func(what string, check func()) {
		t.Helper()
		defer func() {
			if _, ok := recover().(env.AssertionError); !ok {
				t.Errorf("%s: the checker did not fire", what)
			}
		}()
		check()
	}
	c.madeDurable[1] = raft.HardState{Term: 4, Vote: 3}
	fails("a changed vote", func() { c.checkRecoveredHard(1, rec, segs) })
	c.madeDurable[1] = hs
	if f, err = e.FS.OpenRW(last); err != nil || f.Truncate(0) != nil || f.Sync() != nil {
		t.Fatal("emptying the last segment", err)
	}
	fails("an empty last segment", func() { c.checkRecoveredHard(1, rec, segs) })
}
