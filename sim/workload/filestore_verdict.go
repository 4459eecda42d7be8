package workload

import (
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/filestore"
)

// judgeRecovery checks recovery's verdicts (filestore.Recovery) against the block files as
// recovery left them, with the checker's own parse of the format:
//   - every record recovery kept passes both its checksums;
//   - every byte of a block is a kept record, a region recovery reported as dropped (a
//     corrupt record, unreadable bytes), or zeros (room a preallocation left): nothing was
//     dropped silently;
//   - a torn tail recovery reported was cut: nothing but zeros from its offset on.
func (c *Filestore) judgeRecovery(rep filestore.Recovery) {
	kept := map[uint32][]filestore.KeptRecord{}
	for _, k := range rep.Kept {
		kept[k.Block] = append(kept[k.Block], k)
	}
	dropped := map[uint32]map[int64]filestore.Damage{}
	for _, d := range rep.Dropped {
		if dropped[d.Block] == nil {
			dropped[d.Block] = map[int64]filestore.Damage{}
		}
		if old, dup := dropped[d.Block][d.Offset]; !dup || old.Kind == filestore.DamageRepaired {
			dropped[d.Block][d.Offset] = d
		}
	}
	unusable := map[uint32]bool{}
	for _, d := range rep.Dropped {
		if d.Kind == filestore.DamageBlock && d.Offset == 0 && len(kept[d.Block]) == 0 {
			unusable[d.Block] = true // no intact header: kept for inspection, reported
		}
	}
	for _, name := range c.dmg.blockNames(c.fsys) {
		id := blockFileID(name)
		if unusable[id] {
			continue
		}
		data, err := c.node.Disk.ReadFile(name)
		env.Assertf(err == nil, "filestore: read %s: %v", name, err)
		c.judgeBlock(id, data, kept[id], dropped[id])
	}
	c.judgeTails(rep)
	c.w.Hit("filestore.workload.recovery-judged")
}

// judgeBlock walks one block file from its first record to its end.
func (c *Filestore) judgeBlock(id uint32, data []byte, kept []filestore.KeptRecord, dropped map[int64]filestore.Damage) {
	seed, ok := blockSeed(data)
	env.Assertf(ok, "filestore: recovery kept records of block %d, whose header is not intact", id)
	at := map[int64]filestore.KeptRecord{}
	for _, k := range kept {
		_, intact := recordIntact(data, k.Offset, seed)
		env.Assertf(intact, "filestore: recovery kept the %s record of seq %d at block %d offset %d, which fails its checksum",
			k.Kind, k.Seq, id, k.Offset)
		at[k.Offset] = k
	}
	for p := int64(recordsStart); p < int64(len(data)); {
		if k, ok := at[p]; ok {
			p += k.Length
			continue
		}
		d, ok := dropped[p]
		switch {
		case ok && (d.Kind == filestore.DamageCorrupt || d.Kind == filestore.DamageUnreadable) && d.Length > 0:
			p += d.Length
			continue
		case ok && d.Kind == filestore.DamageTornTail:
			env.Assertf(allZeroBytes(data[p:]), "filestore: recovery reported a torn tail at block %d offset %d and kept it (%d bytes)",
				id, p, int64(len(data))-p)
		default:
			env.Assertf(allZeroBytes(data[p:]), "filestore: block %d offset %d: %d bytes recovery neither kept nor reported: dropped silently",
				id, p, int64(len(data))-p)
		}
		return
	}
}

// fsLoss is where the damage report that named a lost message put its record, and at which
// recovery it was lost.
type fsLoss struct {
	block uint32
	off   int64
	open  int
}

// noteNamed remembers where the damage report naming a just-lost message put its record.
func (c *Filestore) noteNamed(st filestore.Store, seq env.Seq) {
	for _, d := range st.Damage() {
		if d.Seq == seq && d.Kind == filestore.DamageCorrupt {
			c.named[seq] = fsLoss{d.Block, d.Offset, c.opens}
			return
		}
	}
}

// cameBack judges a lost message served again. A read may return a flipped bit the disk does
// not hold, so a record can fail its checksum once and pass at a later recovery: allowed
// only if the store named it when it lost it, a recovery ran since, and its record on disk,
// where the report put it, is intact. A message lost silently never comes back.
func (c *Filestore) cameBack(seq env.Seq) {
	l, named := c.named[seq]
	env.Assertf(named, "filestore: seq %d came back after being lost, and no damage named it when it was", seq)
	env.Assertf(l.open < c.opens, "filestore: seq %d came back after being lost, with no recovery between", seq)
	data, err := c.node.Disk.ReadFile(blockFileName(l.block))
	seed, ok := blockSeed(data)
	rec, intact := recordIntact(data, l.off, seed)
	env.Assertf(err == nil && ok && intact && rec.kind == recordKindMsg && rec.seq == uint64(seq),
		"filestore: seq %d came back after being lost, and its record at block %d offset %d is not intact on disk", seq, l.block, l.off)
	delete(c.lost, seq)
	delete(c.named, seq)
	c.lim.overfull = true
	c.w.Note("filestore: seq %d, lost to a transient read error, came back", seq)
	c.w.Hit("filestore.workload.transient-loss-back")
}

// reportsSeq reports whether the store's damage report names seq.
func reportsSeq(st filestore.Store, seq env.Seq) bool {
	for _, d := range st.Damage() {
		if d.Seq == seq && d.Kind == filestore.DamageCorrupt {
			return true
		}
	}
	return false
}

func allZeroBytes(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}
