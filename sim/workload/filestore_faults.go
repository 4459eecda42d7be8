package workload

import (
	"encoding/binary"
	"hash/crc32"
	"sort"
	"strings"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/sim"
)

// The filestore workload's own targeted damage, on top of the seed's fault profile, aimed at
// the layers that random faults rarely reach (a random flip seldom lands in a record that is
// read next, and a power loss seldom finds records written and not yet synced):
//   - power losses aimed at the window between a write and its sync: right after the store
//     writes records, a power loss is scheduled at the same instant, so it lands before or
//     after the sync as the scheduler orders them;
//   - torn tails: at a boot, a block that held records written and never synced is cut
//     inside them (a power loss may keep any prefix of unsynced writes; after a process crash
//     the machine may lose power before the restart syncs them);
//   - rotten records at recovery: at a boot, a bit is flipped in the body of a message record
//     recovery is about to read (or two bits in its header, beyond the single-bit repair);
//   - rotten records after indexing: now and then, a bit is flipped in the body of an
//     acknowledged message the running store has indexed, and the message is read at once,
//     so the read path's checksum must reject it;
//   - sealed tails: at a boot, two bits in the header of the last record of a block synced in
//     full, which recovery must report and keep, not cut as torn (filestore_sealed.go).
//
// The checker knows which acknowledged messages it rotted: each one lost must be named by the
// store's damage report ("lost because rotten, and reported"), never silently missing.
type fsDamager struct {
	c      *Filestore
	w      *sim.World
	r      *env.PRNG // the damage's own draws, so the seed's other draws stay as they were
	until  time.Duration
	track  fsTracker
	rotted map[env.Seq]bool // acknowledged messages whose record the workload rotted
	// crashEvery: a power loss follows about one record write in crashEvery (0: never).
	crashEvery int
	crashes    int // power losses the disk has seen, at the last boot
	boots      int
	// sealed draws the damage aimed at sealed blocks (filestore_sealed.go), from a stream of
	// its own so that seeds it leaves alone keep their other damage as it was.
	sealed *env.PRNG
	atBoot fsBoot // what the checker knew at the last boot, before recovery
}

const (
	fsDamageCrashesMax = 2 // targeted power losses per seed, so writers still make progress
	fsRotPeriodMax     = 2 * time.Second
)

func (d *fsDamager) init(c *Filestore, w *sim.World, until time.Duration) {
	d.c, d.w, d.until = c, w, until
	d.r = env.NewPRNG(w.Seed ^ 0x64616d616765)      // "damage"
	d.sealed = env.NewPRNG(w.Seed ^ 0x7365616c6564) // "sealed"
	d.rotted = map[env.Seq]bool{}
	d.track = fsTracker{files: map[string]*fsTrack{}, unsynced: map[uint64]*fsTrack{}, written: d.written}
	if d.r.Intn(3) == 0 {
		d.crashEvery = int(env.Between(d.r, 100, 600))
	}
}

func (d *fsDamager) faultsOn() bool { return d.w.Now() < d.until }

// written runs after the store wrote records to a block file: maybe aim a power loss here.
func (d *fsDamager) written() {
	if d.crashEvery == 0 || !d.faultsOn() || d.c.node.Disk.Stats.Crashes >= fsDamageCrashesMax || d.r.Intn(d.crashEvery) != 0 {
		return
	}
	n := d.c.node
	d.w.At(d.w.Now(), func() {
		if n.Up() && d.faultsOn() {
			d.w.Hit("filestore.workload.crash-in-write-window")
			n.Crash(true)
			d.w.After(time.Duration(env.Between(d.r, 1, 100))*time.Millisecond, n.Restart)
		}
	})
}

// boot damages the disk the way the last crash may have, before the store recovers.
func (d *fsDamager) boot(e *env.Env) {
	d.boots++
	d.noteBoot()
	if d.c.node == nil {
		return // the first boot, inside AddNode: nothing on disk yet
	}
	powerLoss := d.c.node.Disk.Stats.Crashes > d.crashes
	d.crashes = d.c.node.Disk.Stats.Crashes
	if d.boots == 1 || !d.faultsOn() {
		d.track.settle(d.c.node.Disk, powerLoss)
		d.noteDurable(e.FS)
		return
	}
	if d.r.Intn(4) != 0 {
		// After a process crash too: the machine may lose power before the restart syncs
		// what the page cache kept.
		d.tear(e)
	}
	d.track.settle(d.c.node.Disk, powerLoss)
	if d.r.Intn(2) == 0 {
		d.rotAtRest(e)
	}
	d.noteDurable(e.FS)
	d.rotSealedTail(e.FS)
}

// tear cuts a block that held unsynced records inside them.
func (d *fsDamager) tear(e *env.Env) {
	for _, name := range env.SortedKeys(d.track.files) {
		t := d.track.files[name]
		data, err := d.c.node.Disk.ReadFile(name)
		if err != nil {
			continue // its creation was lost with the directory entry
		}
		end := min(int64(len(data)), t.written)
		if end <= t.synced+1 {
			continue
		}
		cut := t.synced + 1 + int64(d.r.Intn(int(end-t.synced-1)))
		f, err := e.FS.OpenRW(name)
		if err != nil {
			continue
		}
		if f.Truncate(cut) == nil {
			d.w.Hit("filestore.workload.torn-tail")
			d.w.Note("filestore: tore %s at %d (synced to %d, written to %d)", name, cut, t.synced, end)
		}
		_ = f.Close() // a truncate needs no sync: recovery syncs what it keeps
	}
}

// rotAtRest flips a bit in the body of a message record of a block recovery will read; the
// newest block half the time.
func (d *fsDamager) rotAtRest(e *env.Env) {
	names := d.blockNames(e.FS)
	if len(names) == 0 {
		return
	}
	name := names[len(names)-1]
	if d.r.Intn(2) == 0 {
		name = names[d.r.Intn(len(names))]
	}
	recs := d.records(name)
	if len(recs) == 0 {
		return
	}
	rec := recs[d.r.Intn(len(recs))]
	if d.r.Intn(4) == 0 && !d.beforeDamage(name, rec) {
		// Two bits in one record header: beyond the single-bit repair, so recovery must skip
		// to the next valid header and report the bytes between as unreadable. Not in front
		// of bytes that are damaged already: recovery would find no header between the two
		// faults and report one region for both records (seed 588, two lost and one reported).
		for _, bit := range []int{d.r.Intn(44 * 8 / 2), 44*8/2 + d.r.Intn(44*8/2)} {
			d.c.node.Disk.FlipBitAt(name, rec.off+int64(bit/8), uint(bit%8))
		}
		d.w.Hit("filestore.workload.rot-header")
		return
	}
	d.rot(name, rec)
	d.w.Hit("filestore.workload.rot-at-rest")
}

// beforeDamage reports whether rec, an intact record, is followed by bytes that are neither
// an intact record nor zeros.
func (d *fsDamager) beforeDamage(name string, rec fsRecord) bool {
	data, err := d.c.node.Disk.ReadFile(name)
	if err != nil {
		return false
	}
	seed, _ := blockSeed(data)
	next := rec.off + rec.length
	_, intact := recordIntact(data, next, seed)
	return !intact && !allZeroBytes(data[min(next, int64(len(data))):])
}

// rotIndexed flips a bit in the record of an acknowledged message the running store has
// indexed, and reads it at once: the read path's checksum must reject it.
func (d *fsDamager) rotIndexed(s *fsServer) {
	c := d.c
	if s.st == nil || len(c.acked) == 0 || !d.faultsOn() {
		return
	}
	seq := env.Seq(1 + d.r.Intn(int(maxSeq(c.acked))))
	if _, ok := c.acked[seq]; !ok || c.lost[seq] {
		return
	}
	for _, name := range d.blockNames(s.e.FS) {
		for _, rec := range d.records(name) {
			if rec.seq == uint64(seq) {
				d.rot(name, rec)
				d.w.Hit("filestore.workload.rot-indexed")
				if c.verifyOne(s.st, seq) != nil {
					s.failed()
				}
				return
			}
		}
	}
}

func (d *fsDamager) rot(name string, rec fsRecord) {
	off := rec.off + recordHeaderSize + int64(d.r.Intn(int(rec.length-recordHeaderSize-4)))
	d.c.node.Disk.FlipBitAt(name, off, uint(d.r.Intn(8)))
	d.rotted[env.Seq(rec.seq)] = true
	d.w.Note("filestore: rotted seq %d in %s at %d", rec.seq, name, off)
}

// startRot arms the periodic rot of indexed records for one incarnation.
func (d *fsDamager) startRot(s *fsServer) {
	if d.r.Intn(2) == 0 {
		return // half the incarnations rot nothing while running
	}
	var tick func()
	tick = func() {
		d.rotIndexed(s)
		s.e.Clock.AfterFunc(time.Duration(1+d.r.Intn(int(fsRotPeriodMax))), s.ex, tick)
	}
	s.e.Clock.AfterFunc(time.Duration(1+d.r.Intn(int(fsRotPeriodMax))), s.ex, tick)
}

func (d *fsDamager) blockNames(fsys env.FS) []string {
	names, err := fsys.List(fsDir)
	if err != nil {
		return nil
	}
	var out []string
	for _, n := range names {
		if strings.HasSuffix(n, ".blk") {
			out = append(out, fsDir+"/"+n)
		}
	}
	sort.Strings(out)
	return out
}

// records lists the intact message records of a block file, read by the checker's own parse.
func (d *fsDamager) records(name string) []fsRecord {
	data, err := d.c.node.Disk.ReadFile(name)
	if err != nil {
		return nil
	}
	var out []fsRecord
	for _, rec := range parseRecords(data) {
		if rec.kind == recordKindMsg && rec.length > recordHeaderSize+4 {
			out = append(out, rec)
		}
	}
	return out
}

// The checker's own reading of the block format (filestore/doc.go), written apart from the
// store's so that it can judge the store's verdicts: a block header copy is "PTRLBLK1", the
// fields, and a CRC32-C of its first 60 bytes at 60; a record is magic, length, kind, ...,
// a header checksum at 44 and a trailing checksum, both CRC32-C seeded by the CRC32-C of the
// block's salt.
const (
	blockHeaderSize  = 64
	recordsStart     = 2 * blockHeaderSize
	recordHeaderSize = 48
	recordMagicLE    = 0x91C42EA7
	recordKindMsg    = 1
)

type fsRecord struct {
	off, length int64
	kind        uint8
	seq         uint64
}

// blockSeed returns the record checksum seed of a block file from an intact header copy.
func blockSeed(data []byte) (uint32, bool) {
	h, ok := blockHeader(data)
	if !ok {
		return 0, false
	}
	return crc32.Checksum(h[16:32], castagnoliTable), true
}

// blockHeader returns an intact copy of a block file's header.
func blockHeader(data []byte) ([]byte, bool) {
	for c := 0; c < 2; c++ {
		h := data[min(len(data), c*blockHeaderSize):min(len(data), (c+1)*blockHeaderSize)]
		if len(h) == blockHeaderSize && string(h[:8]) == "PTRLBLK1" &&
			crc32.Checksum(h[:60], castagnoliTable) == binary.LittleEndian.Uint32(h[60:]) {
			return h, true
		}
	}
	return nil, false
}

// recordIntact reports whether a whole record at off passes both its checksums.
func recordIntact(data []byte, off int64, seed uint32) (fsRecord, bool) {
	if off+recordHeaderSize > int64(len(data)) || binary.LittleEndian.Uint32(data[off:]) != recordMagicLE {
		return fsRecord{}, false
	}
	h := data[off:]
	length := int64(binary.LittleEndian.Uint32(h[4:]))
	if length < recordHeaderSize+4 || off+length > int64(len(data)) ||
		crc32.Update(seed, castagnoliTable, h[:44]) != binary.LittleEndian.Uint32(h[44:]) ||
		crc32.Update(seed, castagnoliTable, h[:length-4]) != binary.LittleEndian.Uint32(h[length-4:]) {
		return fsRecord{}, false
	}
	return fsRecord{off: off, length: length, kind: h[8], seq: binary.LittleEndian.Uint64(h[16:])}, true
}

// parseRecords lists the intact records of a block file from its start to the first record
// that is not intact.
func parseRecords(data []byte) []fsRecord {
	seed, ok := blockSeed(data)
	if !ok {
		return nil
	}
	var out []fsRecord
	for off := int64(recordsStart); ; {
		rec, ok := recordIntact(data, off, seed)
		if !ok {
			return out
		}
		out = append(out, rec)
		off += rec.length
	}
}
