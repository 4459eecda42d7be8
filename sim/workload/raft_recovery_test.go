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
