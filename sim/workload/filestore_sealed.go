package workload

import (
	"encoding/binary"
	"fmt"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/filestore"
)

// Sealed blocks: a crash tears only writes that no completed sync covered. The newest block
// header names the blocks the store had synced in full when it created that block (its
// durable id, filestore/doc.go). After them recovery cannot tell a torn write from a damaged
// last record and may cut either as torn; at or below it, bytes after the last record are
// damage (two flipped bits in its header, say), and cutting them as a torn write throws away
// synced bytes: an acknowledged message, when the last record was one, lost as if it had
// never been durable.
//
// The checker judges this with what it knows itself: the durable id by its own parse of the
// newest block header at boot (before recovery rewrites anything), and, from the FS wrapper,
// how far each block file was written and how far a sync that returned covered it before the
// crash. The workload aims damage at that situation at boots (rotSealedTail), which random
// flips reach in a few seeds in a hundred.

// fsBoot is what the checker knew at a boot, before the store recovered. A reopen without a
// crash (after a write error) is judged by it too: blocks sealed at the boot took no appends
// since, and a newer header could only name more blocks, so the judge sees less, not wrongly.
type fsBoot struct {
	tracks  map[string]fsTrack // each block file's writes and syncs before the crash
	durable uint32             // the newest intact block header's durable id (0: none)
}

// noteBoot records the tracker's view before the crash is settled (a power loss makes what
// survived count as synced, which would hide what a sync had covered).
func (d *fsDamager) noteBoot() {
	d.atBoot.tracks = make(map[string]fsTrack, len(d.track.files))
	for name, t := range d.track.files {
		d.atBoot.tracks[name] = fsTrack{written: t.written, synced: t.synced}
	}
	d.atBoot.durable = 0
}

// noteDurable reads the durable id the store's recovery will go by: that of the newest block
// file with an intact header copy. A header the checker cannot parse but recovery can repair
// only makes the checker's id smaller (older blocks name fewer), so it judges less, not wrongly.
func (d *fsDamager) noteDurable(fsys env.FS) {
	names := d.blockNames(fsys)
	for i := len(names) - 1; i >= 0; i-- {
		data, err := d.c.node.Disk.ReadFile(names[i])
		if h, ok := blockHeader(data); err == nil && ok {
			d.atBoot.durable = binary.LittleEndian.Uint32(h[48:])
			return
		}
	}
}

// rotSealedTail flips two bits (past the single-bit repair) in the header of the last record
// of the newest block at or below the durable id, when that block is intact to its end: one
// fault per record, so the loss it may cause is exactly one reported record.
func (d *fsDamager) rotSealedTail(fsys env.FS) {
	if d.atBoot.durable == 0 || d.sealed.Intn(2) != 0 {
		return
	}
	names := d.blockNames(fsys)
	for i := len(names) - 1; i >= 0; i-- {
		if blockFileID(names[i]) > d.atBoot.durable {
			continue
		}
		data, err := d.c.node.Disk.ReadFile(names[i])
		recs := parseRecords(data)
		if err != nil || len(recs) == 0 {
			return
		}
		last := recs[len(recs)-1]
		if !allZeroBytes(data[last.off+last.length:]) {
			return // damaged already
		}
		for _, bit := range []int{d.sealed.Intn(44 * 8 / 2), 44*8/2 + d.sealed.Intn(44*8/2)} {
			d.c.node.Disk.FlipBitAt(names[i], last.off+int64(bit/8), uint(bit%8))
		}
		d.w.Hit("filestore.workload.rot-sealed-tail")
		d.w.Note("filestore: rotted the header of the last record (seq %d) of sealed block %s", last.seq, names[i])
		return
	}
}

// judgeTails asserts that recovery's torn-tail verdicts agree with the syncs the checker saw:
// the blocks the newest header claims synced in full were (every write covered by a sync
// that returned before the crash), and no tail of one of them was cut as torn where a sync
// had covered it.
func (c *Filestore) judgeTails(rep filestore.Recovery) {
	boot := c.dmg.atBoot
	if boot.durable == 0 {
		return
	}
	for _, name := range env.SortedKeys(boot.tracks) {
		t := boot.tracks[name]
		env.Assertf(blockFileID(name) > boot.durable || t.written <= t.synced,
			"filestore: the newest block header says block %s was synced in full (durable %d), but its writes reached %d and a sync covered only %d",
			name, boot.durable, t.written, t.synced)
	}
	for _, d := range rep.Dropped {
		if d.Kind != filestore.DamageTornTail || d.Block > boot.durable {
			continue
		}
		t := boot.tracks[blockFileName(d.Block)]
		env.Assertf(d.Offset >= t.synced,
			"filestore: recovery cut %d bytes at block %d offset %d as a torn write, but a sync that returned had covered that block to %d and the newest header says it was synced in full (durable %d): damage passed off as a torn write",
			d.Length, d.Block, d.Offset, t.synced, boot.durable)
	}
}

func blockFileName(id uint32) string { return fmt.Sprintf("%s/%010d.blk", fsDir, id) }

// blockFileID returns the id a block file's name gives (names come from blockNames).
func blockFileID(name string) uint32 {
	var id uint32
	_, err := fmt.Sscanf(name, fsDir+"/%010d.blk", &id)
	env.Assertf(err == nil, "filestore: block file name %q: %v", name, err)
	return id
}
