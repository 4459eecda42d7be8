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
//     cut as if it were torn;
//   - the hard state recovered is not behind the last one persisted, and the last segment
//     carries it on its own (checkRecoveredHard).

// frameVerifies decodes the mirrored frame at p[0:] independently of raft: it returns the
// frame's size and whether a copy verifies under a header that locates it.
func frameVerifies(p []byte) (int, bool) {
	_, n, ok := framePayload(p)
	return n, ok
}

// framePayload is frameVerifies that also returns the payload of the copy that verifies.
func framePayload(p []byte) ([]byte, int, bool) {
	if len(p) < 16 {
		return nil, 0, false
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
				return p[copyAt : copyAt+n], int(16 + 2*n), true
			}
		}
	}
	return nil, 0, false
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
	if h := c.lastHard[id]; h.Term != math.MaxUint64 {
		c.madeDurable[id] = h // the last hard state the previous incarnation persisted
	}
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
	if err == nil && len(rec.Segments) > 0 {
		c.checkRecoveredHard(id, rec, segs)
	}
	switch {
	case err == nil:
	case errors.As(err, &dmg):
		data := segs[path.Base(dmg.Segment)]
		_, good := frameVerifies(data[dmg.Offset:])
		env.Assertf(!good, "raft recovery: member %d refused %s at %d, where a good record starts", id, dmg.Segment, dmg.Offset)
		c.w.w.Note("raft: member %d refuses its damaged WAL: %v", id, err)
	}
}

// checkRecoveredHard asserts two rules about the hard state (term, vote) recovery found, the
// one the member's kept records end with (read with the checker's own decoder):
//   - it is not behind the last one the previous incarnation persisted: the term never goes
//     back, and within a term the vote never changes (a vote forgotten is a second vote);
//   - the segment recovery leaves the member writing in holds it on its own, durably: every
//     segment starts with the hard state so that ReleaseTo may delete the older ones once
//     snapshots cover their entries, and a term or vote that lived only in them would go
//     with them. This is checked now, at the moment recovery promises it, because the loss
//     itself needs a release and then a power loss before any hard-state record written
//     since the restart is synced, which the sweep does not reach (DESIGN.md section 9).
func (c *raftChecker) checkRecoveredHard(id raft.ID, rec raft.WALRecovery, segs map[string][]byte) {
	var want raft.HardState
	for _, s := range rec.Segments {
		if hs, ok := lastHardState(segs[s.Name], s.Records); ok {
			want = hs
		}
	}
	prev := c.madeDurable[id]
	env.Assertf(want.Term > prev.Term || want.Term == prev.Term && (prev.Vote == raft.None || want.Vote == prev.Vote),
		"raft recovery: member %d recovered term %d vote %d, but it had persisted term %d vote %d",
		id, want.Term, want.Vote, prev.Term, prev.Vote)
	c.madeDurable[id] = want
	last := rec.Segments[len(rec.Segments)-1]
	disk := c.w.w.Nodes()[int(id)-1].Disk
	data, err := disk.ReadDurable(path.Join("raft", "wal", last.Name))
	env.Assertf(err == nil, "raft recovery: member %d's last WAL segment is not durable after recovery: %v", id, err)
	got, _ := lastHardState(data, -1) // none reads as the empty hard state
	env.Assertf(got.Term == want.Term && got.Vote == want.Vote,
		"raft recovery: member %d's last WAL segment %s holds on its own term %d vote %d, recovery found term %d vote %d: releasing the older segments would lose them (recovery verdict %+v)",
		id, last.Name, got.Term, got.Vote, want.Term, want.Vote, last)
}

// lastHardState reads the records of a segment that verify (the first n, or all if n < 0)
// and returns the last hard state among them.
func lastHardState(data []byte, n int) (hs raft.HardState, found bool) {
	for off, k := 0, 0; n < 0 || k < n; k++ {
		payload, size, ok := framePayload(data[off:])
		if !ok {
			break
		}
		if h, ok := walHardState(payload); ok {
			hs, found = h, true
		}
		off += size
	}
	return hs, found
}

// walHardState decodes a hard-state record's payload as raft/doc.go draws it: type 1, then
// term, vote and commit as uvarints.
func walHardState(p []byte) (raft.HardState, bool) {
	if len(p) == 0 || p[0] != 1 {
		return raft.HardState{}, false
	}
	var v [3]uint64
	p = p[1:]
	for i := range v {
		x, n := binary.Uvarint(p)
		if n <= 0 {
			return raft.HardState{}, false
		}
		v[i], p = x, p[n:]
	}
	return raft.HardState{Term: env.Term(v[0]), Vote: raft.ID(v[1]), Commit: env.Index(v[2])}, len(p) == 0
}
