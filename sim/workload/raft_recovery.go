package workload

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"path"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/raft"
)

// The recovery-verdict checker: at each boot the workload keeps a copy of the member's WAL
// segments as recovery will read them, and when recovery reports (raft.RecoveryObserver)
// it re-reads those bytes with a decoder of its own and asserts the verdicts:
//   - every record recovery kept verifies (one copy matches its checksum), and the kept
//     records tile the kept bytes exactly;
//   - every byte recovery dropped is reported (only the last segment loses bytes, with a
//     reason), and the first record it dropped really does not verify;
//   - recovery that refuses names a record that really does not verify; and a record that
//     the workload rotted in both copies after it was synced (raftRot) is refused, never
//     cut as if it were torn.

// frameVerifies decodes the mirrored frame at p[0:] independently of raft: it returns the
// frame's size and whether a copy verifies under a header that locates it.
func frameVerifies(p []byte) (int, bool) {
	if len(p) < 16 {
		return 0, false
	}
	for h := 0; h < 2; h++ {
		n := uint64(binary.LittleEndian.Uint32(p[8*h:]))
		crc := binary.LittleEndian.Uint32(p[8*h+4:])
		if n == 0 || uint64(len(p)) < 16+2*n {
			continue
		}
		for c := 0; c < 2; c++ {
			copyAt := 16 + uint64(c)*n
			sum := crc32.Update(0, castagnoliTable, p[8*h:8*h+4])
			if crc32.Update(sum, castagnoliTable, p[copyAt:copyAt+n]) == crc {
				return int(16 + 2*n), true
			}
		}
	}
	return 0, false
}

// snapshotWAL copies the member's WAL segments before recovery reads them.
func (r *Raft) snapshotWAL(e *env.Env, id raft.ID) {
	disk := r.w.Nodes()[int(id)-1].Disk
	names, err := e.FS.List(path.Join("raft", "wal"))
	segs := map[string][]byte{}
	if err == nil {
		for _, n := range names {
			if data, err := disk.ReadFile(path.Join("raft", "wal", n)); err == nil {
				segs[n] = data
			}
		}
	}
	r.check.preRecovery[id] = segs
}

// Recovered implements raft.RecoveryObserver.
func (c *raftChecker) Recovered(id raft.ID, rec raft.WALRecovery, err error) {
	segs := c.preRecovery[id]
	delete(c.preRecovery, id)
	c.lastHard[id] = raft.HardState{Term: math.MaxUint64} // the boot's Ready is not a write
	c.recoveries++
	for i, s := range rec.Segments {
		data, ok := segs[s.Name]
		env.Assertf(ok && int64(len(data)) == s.Size, "raft recovery: member %d reports %s of %d bytes, the disk held %d",
			id, s.Name, s.Size, len(data))
		off := 0
		for k := 0; k < s.Records; k++ {
			n, ok := frameVerifies(data[off:])
			env.Assertf(ok, "raft recovery: member %d kept record %d of %s at %d, which does not verify", id, k, s.Name, off)
			off += n
		}
		env.Assertf(int64(off) == s.Kept, "raft recovery: member %d kept %d records of %s ending at %d, reported %d",
			id, s.Records, s.Name, off, s.Kept)
		if s.Dropped() > 0 && err == nil {
			env.Assertf(i == len(rec.Segments)-1 && s.Torn != "", "raft recovery: member %d dropped %d bytes of %s unreported",
				id, s.Dropped(), s.Name)
			_, good := frameVerifies(data[off:])
			env.Assertf(!good, "raft recovery: member %d cut %s at %d, where a good record starts", id, s.Name, off)
		}
	}
	var dmg *raft.WALDamageError
	if !errors.As(err, &dmg) {
		dmg = nil
	}
	c.judgeRot(id, rec, dmg, err)
	switch {
	case err == nil:
	case errors.As(err, &dmg):
		data := segs[path.Base(dmg.Segment)]
		_, good := frameVerifies(data[dmg.Offset:])
		env.Assertf(!good, "raft recovery: member %d refused %s at %d, where a good record starts", id, dmg.Segment, dmg.Offset)
		c.w.w.Note("raft: member %d refuses its damaged WAL: %v", id, err)
	}
}
