package filestore

import (
	"fmt"
	"path"
	"sort"

	"github.com/petrel-io/petrel/core/env"
)

// fileBackend keeps a store's records in block files under one directory: the log of every
// message, deletion and marker, in order. New records go to the active (newest) block; at
// BlockBytes a new block starts. Blocks whose messages are all gone are removed from the
// front only: a block's deletion records may refer to messages in any earlier block, and
// removing blocks oldest first keeps every deletion around for as long as its message is.
type fileBackend struct {
	e       *env.Env
	st      *store
	dir     string
	blocks  []*block // ascending id
	byID    map[uint32]*block
	active  *block   // nil until the first append when the newest block cannot take writes
	dirty   []*block // blocks with pending or unsynced bytes
	deletes []uint64 // deletions not yet encoded into a record
	// appended: messages were appended since the last commit record.
	appended bool
	// dirDirty: a block file was created or removed since the last directory sync.
	dirDirty  bool
	syncTimer env.Timer
	damages   []Damage
	zeros     []byte // preallocate's source of zeros
	// unsyncedBytes counts bytes written since the last sync was cut; syncBytes is its
	// smoothed value per sync, which decides whether preallocating pays.
	unsyncedBytes, syncBytes int64
	// durableThrough: every block up to this id is synced in full (recorded in the header
	// of each new block, for recovery).
	durableThrough uint32
	// evictions: deletions by limits whose causes are not yet in a sync job (see evicted).
	evictions []uint64
	// recovery: the report recovery builds for Config.Recovered (nil when nobody asked).
	recovery *Recovery
	// batches: atomic batches appended whose members no sync job covers yet (batch.go).
	batches []*batchMark
	// uncommitted: during recovery, batch members replayed with no batch record after them.
	uncommitted map[uint64]struct{}
	// window: bytes read ahead for sequential loads (readahead.go).
	window readWindow
}

// OpenFile opens (creating if needed) the file store in cfg.Dir and recovers its content:
// every block is scanned, damage is reported (Damage) and skipped, torn tails are cut, and
// what was recovered is made durable before OpenFile returns. It must run on cfg.Executor
// (or before anything else uses that executor).
func OpenFile(e *env.Env, cfg Config) (Store, error) {
	if err := cfg.validate(true); err != nil {
		return nil, err
	}
	b := &fileBackend{e: e, dir: path.Clean(cfg.Dir), byID: map[uint32]*block{}}
	s := newStore(e, cfg, b)
	b.st = s
	if cfg.Recovered != nil {
		b.recovery = &Recovery{}
	}
	if err := b.recover(); err != nil {
		b.closeFiles()
		return nil, fmt.Errorf("filestore: open %s: %w", b.dir, err)
	}
	if cfg.Sync == SyncAlways {
		s.syncEx = e.Exec.New(b.dir + " sync")
	}
	b.reportRecovery()
	s.afterRecovery()
	return s, nil
}

// writable returns the active block, creating the first one if needed.
func (b *fileBackend) writable() (*block, error) {
	if b.active != nil {
		return b.active, nil
	}
	return b.rotate()
}

// reserve returns the block a record of length bytes goes to, rotating first when the
// active block is full (a record larger than a block still gets a block of its own).
func (b *fileBackend) reserve(length int) (*block, error) {
	blk, err := b.writable()
	if err != nil {
		return nil, err
	}
	if blk.size > blockDataStart && blk.size+int64(length) > b.st.cfg.BlockBytes {
		return b.rotate()
	}
	return blk, nil
}

// rotate creates the next block file and makes it active. Its header records the store's
// last sequence, so sequence numbering survives the removal of every earlier block.
func (b *fileBackend) rotate() (*block, error) {
	id := uint32(1)
	if n := len(b.blocks); n > 0 {
		id = b.blocks[n-1].id + 1
	}
	cfg := &b.st.cfg
	h := blockHeader{id: id, cipher: cfg.Cipher, last: b.st.last, lastTime: b.st.lastTime, durable: b.durableThrough}
	b.e.Rand.Fill(h.salt[:])
	blk := &block{id: id, name: blockName(b.dir, id), hdr: h}
	if err := b.initSealer(blk); err != nil {
		return nil, err
	}
	f, err := b.e.FS.Create(blk.name)
	if err != nil {
		return nil, fmt.Errorf("create block %d: %w", id, err)
	}
	blk.f = f
	size := blockDataStart
	if b.active != nil {
		// Hand the scratch buffers on: only the active block encodes. The old block still
		// holds this batch's first records, so its pending buffer stays; start the new one at
		// the size a batch has needed, rather than growing it by doubling (under load that
		// copying cost a fifth of the encode time of large messages).
		blk.seal.scratch, blk.seal.packed = b.active.seal.scratch, b.active.seal.packed
		b.active.seal.scratch, b.active.seal.packed = nil, nil
		size = max(size, cap(b.active.pending))
	}
	blk.pending = append(make([]byte, 0, size), blk.hdr.encode()...)
	blk.size = blockDataStart
	b.blocks = append(b.blocks, blk)
	b.byID[id] = blk
	b.active = blk
	b.dirDirty = true
	b.markDirty(blk)
	return blk, nil
}

// preallocate makes the block's file hold written zeros up to at least end, in stretches
// that double what the block holds (at least preallocBytesMin, at most BlockBytes). Why:
// appending to a file changes its size and block map, so every fsync of an append waits for
// a journal commit, while an overwrite of blocks already written needs only the data and a
// cache flush (File.Sync is fdatasync on Linux): on the development VM that halves the cost
// of a small batch's fsync. Recovery treats an all-zero tail as room, not damage.
//
// It pays only while syncs are small: writing zeros first costs about a microsecond per KiB
// (page allocation, the copy, the write-back), a journal commit about a hundred, so once
// the syncs average more than preallocSyncBytesMax (large messages, big batches) blocks
// grow by plain appends again (with zeros first, 16 KiB messages from 64 writers fell from
// 41-55% of the raw loop to 31-45%: the zeros cost the page allocation an append costs).
//
// It zeroes only what lies past the logical end, so it never touches a record, and it runs
// before the records that will land there are written. It is best effort: a failed write of
// zeros costs speed, not data (the records are written and synced as before), so it is
// logged and the block is not extended again.
func (b *fileBackend) preallocate(blk *block, end int64) {
	limit := b.st.cfg.BlockBytes
	if end <= blk.alloc || blk.alloc >= limit || b.syncBytes > preallocSyncBytesMax {
		return
	}
	to := min(limit, max(end, 2*blk.alloc, preallocBytesMin))
	for off := max(blk.alloc, blk.size); off < to; {
		n := min(to-off, zeroChunkBytes)
		if len(b.zeros) < int(n) {
			b.zeros = make([]byte, zeroChunkBytes)
		}
		if _, err := blk.f.WriteAt(b.zeros[:n], off); err != nil {
			b.e.Log.Logf(env.LevelWarn, "filestore %s: preallocate block %d at %d: %v", b.dir, blk.id, off, err)
			blk.alloc = limit
			return
		}
		off += n
	}
	blk.alloc = to
	blk.unsync = true
	b.markDirty(blk)
}

// initSealer sets up a block's checksum seed and, for an encrypted block, its AEAD.
func (b *fileBackend) initSealer(blk *block) error {
	cfg := &b.st.cfg
	blk.seal = sealer{seed: seedOf(blk.hdr.salt), compress: cfg.Compression == CompressionS2, nonce: b.e.Rand.Fill}
	if blk.hdr.cipher == CipherNone {
		return nil
	}
	if len(cfg.Key) == 0 {
		return fmt.Errorf("%w: block %d is encrypted and no key is configured", ErrBadKey, blk.id)
	}
	aead, check, err := blockAEAD(blk.hdr.cipher, cfg.Key, blk.hdr.salt)
	if err != nil {
		return fmt.Errorf("block %d: %w", blk.id, err)
	}
	if blk.hdr.keyCheck == 0 {
		blk.hdr.keyCheck = check // a new block: record the check value
	} else if blk.hdr.keyCheck != check {
		return fmt.Errorf("%w: block %d", ErrBadKey, blk.id)
	}
	blk.seal.aead = aead
	return nil
}

func (b *fileBackend) markDirty(blk *block) {
	for _, d := range b.dirty {
		if d == blk {
			return
		}
	}
	b.dirty = append(b.dirty, blk)
}

func (b *fileBackend) appendMsg(seq uint64, e *entry, subject string, hdr, data []byte) error {
	blk, err := b.writable()
	if err != nil {
		return err
	}
	length, flags := blk.seal.msgRecordLen(subject, hdr, data)
	if blk.size > blockDataStart && blk.size+int64(length) > b.st.cfg.BlockBytes {
		if blk, err = b.rotate(); err != nil {
			return err
		}
		length, flags = blk.seal.msgRecordLen(subject, hdr, data)
	}
	b.preallocate(blk, blk.size+int64(length))
	off := blk.size
	blk.pending = blk.seal.encodeMsg(blk.pending, length, flags, seq, e, subject, hdr, data)
	blk.size += int64(length)
	e.block, e.off, e.rlen = blk.id, uint32(off), uint32(length)
	blk.live++
	b.appended = true
	b.markDirty(blk)
	return nil
}

// appendMeta appends a commit or marker record, twice: these records are few and small, and
// each one matters to many messages (a lost deletion would bring a message back), so one
// flipped bit must not cost one.
func (b *fileBackend) appendMeta(kind uint8, seq uint64, time int64, body []byte) error {
	length := 2 * (recordOverhead + len(body))
	blk, err := b.reserve(length)
	if err != nil {
		return err
	}
	b.preallocate(blk, blk.size+int64(length))
	n := len(blk.pending)
	blk.pending = encodeMeta(blk.pending, kind, seq, time, body, blk.seal.seed)
	blk.pending = encodeMeta(blk.pending, kind, seq, time, body, blk.seal.seed)
	blk.size += int64(len(blk.pending) - n)
	b.markDirty(blk)
	return nil
}

// removed counts the message out of its block and queues its deletion record: for the next
// commit (logged), never (unlogged), or (evicted) only once the sync that makes its cause
// durable has returned. The cause, appended just before, is in the next sync cut; cutSync
// hands the eviction to that job and jobDone queues it. Logged in the same batch, a power
// loss that kept some of the batch's sectors could keep the eviction and lose its cause, and
// with it an acknowledged message. An eviction still held back at a crash is made again at
// open, which applies the limits to what it recovered.
func (b *fileBackend) removed(seq uint64, e *entry, how removal) {
	blk := b.byID[e.block]
	if blk == nil || blk.live <= 0 {
		assertf(false, "filestore: seq %d in block %d, which holds no live message", seq, e.block)
	}
	blk.live--
	switch how {
	case logged:
		b.deletes = append(b.deletes, seq)
	case evicted:
		b.evictions = append(b.evictions, seq)
	}
}

// appendCommit logs the pending deletions and the store's last sequence and time. writeAll
// appends one per batch, so the last sequence survives even if the newest message's record
// is damaged; markers get one first, so a deletion is always logged before anything that
// could reuse its sequence.
func (b *fileBackend) appendCommit() error {
	if len(b.deletes) == 0 && !b.appended {
		return nil
	}
	seqs := b.deletes
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	for first := true; first || len(seqs) > 0; first = false {
		var body []byte
		body, seqs = encodeDeleteBody(seqs)
		if err := b.appendMeta(kindCommit, b.st.last, b.st.lastTime, body); err != nil {
			return err
		}
	}
	b.deletes = b.deletes[:0]
	b.appended = false
	return nil
}

func (b *fileBackend) appendMarker(m marker) error {
	if len(b.deletes) > 0 {
		if err := b.appendCommit(); err != nil {
			return err
		}
	}
	return b.appendMeta(kindMarker, m.last, m.lastTime, encodeMarkerBody(m))
}

func (b *fileBackend) erase(seq uint64, e *entry) error {
	blk := b.byID[e.block]
	rec := encodeErased(int(e.rlen), seq, e.time, blk.seal.seed, b.e.Rand.Fill)
	off := int64(e.off)
	if off >= blk.written {
		copy(blk.pending[off-blk.written:], rec)
		return nil
	}
	b.window.wipe() // it may hold the bytes being erased, which must not outlive this
	if _, err := blk.f.WriteAt(rec, off); err != nil {
		return fmt.Errorf("erase seq %d in block %d: %w", seq, blk.id, err)
	}
	blk.unsync = true
	b.markDirty(blk)
	return nil
}

func (b *fileBackend) readMsg(seq uint64, e *entry, known string, into *Msg) (*Msg, error) {
	blk := b.byID[e.block]
	if blk == nil {
		assertf(false, "filestore: seq %d in unknown block %d", seq, e.block)
	}
	if m, ok := b.readWindowed(blk, seq, e, known, into); ok {
		return m, nil
	}
	var rec []byte
	for try := 0; try <= rereads; try++ {
		var err error
		if rec, err = blk.read(int64(e.off), int(e.rlen)); err != nil {
			return nil, fmt.Errorf("filestore: load seq %d: %w", seq, err)
		}
		if checkRecord(rec, blk.seal.seed) {
			break // intact; otherwise read again, in case the read itself was at fault
		}
	}
	corrupt := func(reason string) error {
		b.noteDamage(Damage{Kind: DamageCorrupt, Block: blk.id, Offset: int64(e.off), Length: int64(e.rlen),
			Seq: env.Seq(seq), Reason: "on read: " + reason})
		return &CorruptError{Block: blk.id, Offset: int64(e.off), Seq: env.Seq(seq)}
	}
	h, ok := parseHeader(rec, blk.seal.seed)
	if !ok {
		h, ok = b.repairOnRead(blk, rec, int64(e.off), seq)
	}
	if !ok || h.length != e.rlen || h.kind != kindMsg || h.seq != seq {
		b.e.Probe.Hit(probeReadHeader)
		return nil, corrupt("record header changed")
	}
	if !checkRecord(rec, blk.seal.seed) {
		b.e.Probe.Hit(probeReadChecksum)
		return nil, corrupt("record checksum mismatch")
	}
	m, err := decodeMsg(rec, h, blk.seal.aead, decodeOpts{known: known, into: into})
	if err != nil {
		b.e.Probe.Hit(probeReadUndecoded)
		return nil, corrupt(err.Error())
	}
	return m, nil
}

// repairOnRead corrects a single flipped bit in a record header found on read, as recovery
// would, in rec and on disk, if the whole record then checks.
func (b *fileBackend) repairOnRead(blk *block, rec []byte, off int64, seq uint64) (recordHeader, bool) {
	fixed, ok := repairHeader(rec, blk.seal.seed)
	if !ok {
		return recordHeader{}, false
	}
	saved := append([]byte(nil), rec[:recordHeaderBytes]...)
	copy(rec, fixed[:])
	h, _ := parseHeader(rec, blk.seal.seed)
	if int(h.length) != len(rec) || !checkRecord(rec, blk.seal.seed) {
		copy(rec, saved)
		return recordHeader{}, false
	}
	b.e.Probe.Hit(probeReadRepaired)
	b.noteDamage(Damage{Kind: DamageRepaired, Block: blk.id, Offset: off, Length: int64(len(rec)), Seq: env.Seq(seq),
		Reason: "on read: one flipped bit in the record header, corrected"})
	if off < blk.written {
		b.window.dropBlock(blk)
		if _, err := blk.f.WriteAt(fixed[:], off); err != nil {
			// The copy in hand is right; recovery will correct the disk next time.
			b.e.Log.Logf(env.LevelWarn, "filestore %s: write the repaired header of block %d: %v", b.dir, blk.id, err)
		} else {
			blk.unsync = true
			b.markDirty(blk)
		}
	}
	return h, true
}

func (b *fileBackend) noteDamage(d Damage) {
	b.damages = append(b.damages, d)
	b.e.Log.Logf(env.LevelError, "%v", d)
}

func (b *fileBackend) damage() []Damage { return append([]Damage(nil), b.damages...) }

// writeAll ends the batch with a commit record and hands every pending byte to the files.
// A write error is returned (the store fails); what a partial write left behind is a torn
// tail that recovery cuts off.
func (b *fileBackend) writeAll() error {
	if err := b.appendCommit(); err != nil {
		return err
	}
	return b.prewrite()
}

// prewrite hands every pending byte to the files, without a commit record.
func (b *fileBackend) prewrite() error {
	for _, blk := range b.dirty {
		if len(blk.pending) == 0 {
			continue
		}
		if _, err := blk.f.WriteAt(blk.pending, blk.written); err != nil {
			return fmt.Errorf("write block %d at %d: %w", blk.id, blk.written, err)
		}
		blk.written += int64(len(blk.pending))
		b.unsyncedBytes += int64(len(blk.pending))
		blk.pending = blk.pending[:0]
		if blk != b.active {
			blk.pending = nil // no more appends: keep no batch-sized buffer per old block
		}
		blk.unsync = true
	}
	return nil
}

// syncAll makes every written byte and every new or removed block file durable, on the
// store's executor: recovery, Close and SyncEvery's timer use it; the SyncAlways commit path
// runs the same syncs on the sync executor instead (startCommit). A failed sync halts the
// node, as syncJob.run explains.
func (b *fileBackend) syncAll() {
	assertf(!b.st.syncing, "filestore %s: syncAll beside a sync in flight", b.dir)
	if job := b.cutSync(); job != nil {
		job.run()
		b.jobDone(job)
	}
}

// writeAndSync writes everything pending and syncs it, on the store's executor.
func (b *fileBackend) writeAndSync() error {
	if err := b.writeAll(); err != nil {
		return err
	}
	b.syncAll()
	return nil
}

// cutSync returns the sync covering every byte written so far and the directory's pending
// entries, or nil when there is nothing to sync. The blocks it covers count as synced from
// now on: the job either returns nil or halts the node.
func (b *fileBackend) cutSync() *syncJob {
	var job *syncJob
	need := func() *syncJob {
		if job == nil {
			job = &syncJob{fsys: b.e.FS, dir: b.dir}
		}
		return job
	}
	for _, blk := range b.dirty {
		if !blk.unsync {
			continue
		}
		need()
		job.files = append(job.files, blk.f)
		job.ids = append(job.ids, blk.id)
		blk.unsync = false
	}
	b.dirty = b.dirty[:0]
	b.syncBytes += (b.unsyncedBytes - b.syncBytes) / 4
	b.unsyncedBytes = 0
	if b.dirDirty {
		need().syncDir = true
		b.dirDirty = false
	}
	if len(b.evictions) > 0 {
		// Without files to sync, the causes were durable already (evictions at open).
		need().evictions, b.evictions = b.evictions, nil
	}
	if len(b.batches) > 0 {
		need().batches, b.batches = b.batches, nil
	}
	if job != nil {
		job.deadThrough = b.deadThrough()
		switch n := len(b.blocks); {
		case b.active != nil:
			job.sealedThrough = b.active.id - 1 // every earlier block is written in full
		case n > 0:
			job.sealedThrough = b.blocks[n-1].id // no block takes appends
		}
	}
	return job
}

func (b *fileBackend) startCommit() (*syncJob, error) {
	if err := b.writeAll(); err != nil {
		return nil, err
	}
	if b.st.cfg.Sync == SyncEvery {
		if err := b.syncBatchesNow(); err != nil {
			return nil, err
		}
		b.armSyncTimer()
		return nil, nil
	}
	job := b.cutSync()
	if job == nil {
		// Nothing is unsynced and no sync is in flight: every deletion is durable.
		b.removeDeadBlocks(b.deadThrough())
	}
	return job, nil
}

func (b *fileBackend) synced(job *syncJob) {
	b.jobDone(job)
	b.removeDeadBlocks(job.deadThrough)
}

// jobDone records what a sync that returned made durable: the blocks it sealed, and the
// causes of the evictions it carries, which may now be logged.
// A job that made batches' members durable appends their records instead, and holds its
// evictions back for the next job, which makes those records durable (batch.go).
func (b *fileBackend) jobDone(job *syncJob) {
	b.durableThrough = max(b.durableThrough, job.sealedThrough)
	if len(job.batches) > 0 {
		b.recordBatches(job)
		b.evictions = append(b.evictions, job.evictions...)
		return
	}
	b.deletes = append(b.deletes, job.evictions...)
}

// armSyncTimer schedules the relaxed mode's periodic sync.
func (b *fileBackend) armSyncTimer() {
	if b.syncTimer != nil || len(b.dirty) == 0 && !b.dirDirty {
		return
	}
	b.syncTimer = b.e.Clock.AfterFunc(b.st.cfg.SyncInterval, b.st.ex, func() {
		b.syncTimer = nil
		if b.st.usable() != nil {
			return
		}
		if err := b.writeAndSync(); err != nil {
			b.st.fail(err)
			return
		}
		b.removeDeadBlocks(b.deadThrough())
	})
}

// deadThrough returns the id of the last block in the front run of blocks with no live
// message and nothing unwritten or unsynced (0 if there is none). The active block never
// counts.
func (b *fileBackend) deadThrough() uint32 {
	var through uint32
	for _, blk := range b.blocks {
		if blk.live > 0 || blk == b.active || blk.unsync || len(blk.pending) > 0 || blk == b.blocks[len(b.blocks)-1] {
			break
		}
		through = blk.id
	}
	return through
}

// removeDeadBlocks deletes dead blocks from the front, up to block id through, which the
// caller took from a sync that has returned: the records that killed them are durable. The
// removals become durable at a later directory sync, and until then a crash may bring a dead
// block back, which is harmless (the durable records still delete its messages).
func (b *fileBackend) removeDeadBlocks(through uint32) {
	for len(b.blocks) > 1 {
		blk := b.blocks[0]
		if blk.id > through || blk.live > 0 || blk == b.active || blk.unsync || len(blk.pending) > 0 {
			return
		}
		if err := blk.f.Close(); err != nil {
			b.e.Log.Logf(env.LevelWarn, "filestore %s: close dead block %d: %v", b.dir, blk.id, err)
		}
		if err := b.e.FS.Remove(blk.name); err != nil {
			// Leave it: a later pass retries, and a dead block costs only space.
			b.e.Log.Logf(env.LevelWarn, "filestore %s: remove dead block %d: %v", b.dir, blk.id, err)
			return
		}
		delete(b.byID, blk.id)
		b.window.dropBlock(blk)
		b.blocks = b.blocks[1:]
		b.dirDirty = true
	}
}

// close writes and syncs what is left and releases the files. It leaves dead blocks for the
// next open: when Close had to wait for a sync in flight, this runs after Close returned, and
// the owner may have opened the directory again by now.
func (b *fileBackend) close() error {
	if b.syncTimer != nil {
		b.syncTimer.Stop()
		b.syncTimer = nil
	}
	var err error
	if b.st.failed == nil {
		err = b.writeAndSync()
		// The sync released the evictions its batch caused (see evicted) and the records of
		// the atomic batches it covered (whose evictions wait one sync more): write and sync
		// those too, so limits raised before the next open do not bring the messages back
		// and the batches are whole.
		for i := 0; i < 2 && err == nil && (len(b.deletes) > 0 || len(b.evictions) > 0 || b.unwritten()); i++ {
			err = b.writeAndSync()
		}
	}
	b.closeFiles()
	return err
}

// unwritten reports whether a block holds appended bytes not handed to its file yet.
func (b *fileBackend) unwritten() bool {
	for _, blk := range b.dirty {
		if len(blk.pending) > 0 {
			return true
		}
	}
	return false
}

func (b *fileBackend) closeFiles() {
	b.window = readWindow{}
	for _, blk := range b.blocks {
		if blk.f != nil {
			// Everything needed is synced or deliberately abandoned; a close error changes
			// nothing about durability.
			_ = blk.f.Close()
		}
	}
}
