package filestore

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"path"
	"sort"

	"github.com/petrel-io/petrel/core/env"
)

// recover rebuilds the index from the block files: each block in id order, each intact
// record in file order, replayed into the store. Then it makes what it recovered durable:
// torn tails are cut, the records of the blocks that may hold unsynced bytes are rewritten,
// every file is synced and the directory too. Rewriting matters after a failed fsync: the kernel
// may keep serving pages it never wrote and that no later sync will write, and what recovery
// serves (and later records depend on, such as a deletion a limit made for a message it
// read) must not vanish at the next power loss. The newest block's header says which blocks
// were durable in full before it was created; only those after them are rewritten.
func (b *fileBackend) recover() error {
	fsys := b.e.FS
	if err := fsys.MkdirAll(b.dir); err != nil {
		return err
	}
	for d := b.dir; d != "." && d != "/"; d = path.Dir(d) {
		if err := fsys.SyncDir(path.Dir(d)); err != nil {
			return fmt.Errorf("sync %s: %w", path.Dir(d), err)
		}
	}
	names, err := fsys.List(b.dir)
	if err != nil {
		return err
	}
	var ids []uint32
	for _, name := range names {
		if id, ok := parseBlockName(name); ok {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for i, id := range ids {
		if err := b.recoverBlock(id, i == len(ids)-1); err != nil {
			return err
		}
	}
	b.dropUncommitted()
	if err := b.settleTails(); err != nil {
		return err
	}
	// Sync every block, not only those recovery changed: after a process crash the page
	// cache may hold records that were never synced, and recovery is about to serve them.
	for _, blk := range b.blocks {
		blk.unsync = true
		b.markDirty(blk)
	}
	if n := len(b.blocks); n > 0 {
		newest := b.blocks[n-1]
		for _, blk := range b.blocks {
			if blk.id > newest.hdr.durable {
				if err := b.rewriteBlock(blk); err != nil {
					return err
				}
			}
		}
		if newest.hdr.cipher == b.st.cfg.Cipher {
			b.active = newest
		}
	}
	b.dirDirty = true
	b.syncAll()
	return nil
}

// settleTails judges the bytes after the last record of each block that had some. In a block
// that may hold unsynced writes (after the newest header's durable id) they are a torn write:
// reported and cut, so no stale bytes sit behind new records. In a block that was synced in
// full before a newer block was created, no crash can have torn anything: they are damage
// (bits flipped in the last record's header, say), reported as unreadable and kept for
// inspection, not passed off as a torn write.
func (b *fileBackend) settleTails() error {
	var durable uint32
	if n := len(b.blocks); n > 0 {
		durable = b.blocks[n-1].hdr.durable
	}
	for _, blk := range b.blocks {
		t := blk.tail
		if t == nil {
			continue
		}
		blk.tail = nil
		if blk.id <= durable {
			b.e.Probe.Hit(probeSealedTail)
			b.noteDamage(Damage{Kind: DamageUnreadable, Block: blk.id, Offset: t.Offset, Length: t.Length,
				Reason: "bytes after the last record of a block synced in full: damage, not a torn write; kept"})
			continue
		}
		b.noteDamage(*t)
		blk.alloc = t.Offset
		if err := blk.f.Truncate(t.Offset); err != nil {
			return fmt.Errorf("cut the torn tail of block %d: %w", blk.id, err)
		}
		b.e.Probe.Hit(probeTornTail)
		blk.unsync = true
		b.markDirty(blk)
	}
	return nil
}

// rewriteBlock writes a block's records again, as recovery left them and with its header as
// recovery understood it, so the next sync persists them even if the page cache held them
// clean but unwritten. The zeros a preallocation left after them are not rewritten: if they
// were lost, the next records extend the file as an append would.
func (b *fileBackend) rewriteBlock(blk *block) error {
	data, err := readPrefix(blk.f, blk.size)
	if err != nil {
		return fmt.Errorf("reread block %d: %w", blk.id, err)
	}
	if len(data) >= blockDataStart && crc32.Checksum(data[blockDataStart:], castagnoli) != blk.scanSum {
		// The bytes differ from those the scan verified (a transient read error): writing
		// them back would make it permanent. Fail the open; the owner opens again.
		return fmt.Errorf("block %d read back unlike its scan (a transient read error?); not rewritten", blk.id)
	}
	if len(data) >= blockDataStart {
		copy(data, blk.hdr.encode())
	}
	if _, err := blk.f.WriteAt(data, 0); err != nil {
		return fmt.Errorf("rewrite block %d: %w", blk.id, err)
	}
	b.e.Probe.Hit(probeRewrite)
	blk.unsync = true
	b.markDirty(blk)
	return nil
}

// recoverBlock scans and replays one block file.
func (b *fileBackend) recoverBlock(id uint32, newest bool) error {
	name := blockName(b.dir, id)
	f, err := b.e.FS.OpenRW(name)
	if err != nil {
		return fmt.Errorf("open block %d: %w", id, err)
	}
	data, err := readAll(f)
	if err != nil {
		_ = f.Close() // the read error is what matters
		return fmt.Errorf("read block %d: %w", id, err)
	}
	hdr, copies, herr := parseBlockHeader(data)
	if copies == 0 {
		_ = f.Close() // nothing of it will be used
		if errors.Is(herr, errUnsupportedBlock) {
			return fmt.Errorf("block %d: %w", id, herr)
		}
		return b.unusableBlock(id, name, newest, int64(len(data)), herr)
	}
	blk := &block{id: id, name: name, f: f, hdr: hdr}
	if hdr.id != id {
		b.e.Probe.Hit(probeBlockHeader)
		b.noteDamage(Damage{Kind: DamageBlock, Block: id, Reason: fmt.Sprintf("header names block %d; using the file name", hdr.id)})
		blk.hdr.id = id
	}
	if err := b.initSealer(blk); err != nil {
		_ = f.Close() // the key error is what matters
		return err
	}
	if copies == 1 {
		// One copy was damaged: write both again so the next flip finds two.
		b.e.Probe.Hit(probeBlockHeader)
		b.noteDamage(Damage{Kind: DamageBlock, Block: id, Length: blockDataStart, Reason: "one header copy damaged; rewritten"})
		if _, err := f.WriteAt(blk.hdr.encode(), 0); err != nil {
			_ = f.Close() // the write error is what matters
			return fmt.Errorf("repair header of block %d: %w", id, err)
		}
		blk.unsync = true
	}
	b.blocks = append(b.blocks, blk)
	b.byID[id] = blk
	b.st.raiseLast(hdr.last, hdr.lastTime)
	res := scanRecords(data, blk.seal.seed, id)
	data, res = rescanOnDamage(f, data, res, blk.seal.seed, id)
	for _, d := range res.damage {
		if d.Kind == DamageTornTail {
			blk.tail = &d // judged once the newest header says which blocks were synced in full
			continue
		}
		if p := damageProbes[d.Kind]; p != "" {
			b.e.Probe.Hit(p)
		}
		b.noteDamage(d)
	}
	blk.alloc = int64(len(data))
	for _, rec := range res.records {
		if rec.repaired {
			if _, err := f.WriteAt(rec.rec[:recordHeaderBytes], rec.off); err != nil {
				return fmt.Errorf("write the repaired header at %d of block %d: %w", rec.off, id, err)
			}
			copy(data[rec.off:], rec.rec[:recordHeaderBytes])
			blk.unsync = true
		}
	}
	blk.size, blk.written = res.goodEnd, res.goodEnd
	if res.goodEnd <= int64(len(data)) {
		blk.scanSum = crc32.Checksum(data[blockDataStart:res.goodEnd], castagnoli)
	}
	if blk.unsync {
		b.markDirty(blk)
	}
	for _, rec := range res.records {
		if rec.intact {
			b.noteKept(blk, rec)
		}
		b.replay(blk, rec)
	}
	return nil
}

// rereads is how many times recovery and reads read damaged bytes again before they believe
// the damage: a read may return a flipped bit the disk does not hold (a bad cable, DRAM), and
// declaring its record lost would make a transient error permanent.
const rereads = 2

// rescanOnDamage reads a block whose scan found lossy damage again (rereads times at most)
// and keeps the read whose scan found the least. A failed re-read keeps what it has: the
// first read's verdict stands.
func rescanOnDamage(f env.File, data []byte, res scanResult, seed, id uint32) ([]byte, scanResult) {
	for range rereads {
		lossy := lossyDamage(res)
		if lossy == 0 {
			break
		}
		again, err := readPrefix(f, int64(len(data)))
		if err != nil {
			break
		}
		if r := scanRecords(again, seed, id); lossyDamage(r) < lossy {
			data, res = again, r
		}
	}
	return data, res
}

// lossyDamage counts what a scan would lose: everything but a corrected header.
func lossyDamage(r scanResult) int {
	n := 0
	for _, d := range r.damage {
		if d.Kind != DamageRepaired {
			n++
		}
	}
	return n
}

// unusableBlock handles a block with no intact header. The newest block in that state is a
// block whose creation a crash interrupted before anything in it was synced (a synced block
// has two header copies, and one flipped bit spares one): it is removed. An older one is
// kept, untouched, for inspection, and reported.
func (b *fileBackend) unusableBlock(id uint32, name string, newest bool, size int64, herr error) error {
	if newest {
		b.e.Probe.Hit(probeTornBlock)
		b.noteDamage(Damage{Kind: DamageTornTail, Block: id, Length: size, Reason: "newest block has no intact header (interrupted creation); removed"})
		if err := b.e.FS.Remove(name); err != nil {
			return fmt.Errorf("remove torn block %d: %w", id, err)
		}
		return nil
	}
	b.e.Probe.Hit(probeBlockHeader)
	b.noteDamage(Damage{Kind: DamageBlock, Block: id, Length: size, Reason: "no intact header: " + herr.Error()})
	return nil
}

// replay applies one record to the index. A framed record whose body failed its checksum
// (already reported by the scan) still proves that its message existed: replay treats it
// as that message immediately deleted, which keeps the last sequence right.
func (b *fileBackend) replay(blk *block, rec scannedRecord) {
	h := rec.hdr
	body := rec.rec[recordHeaderBytes : len(rec.rec)-recordTrailerBytes]
	if !rec.intact {
		if h.kind == kindMsg || h.kind == kindErased {
			b.st.replayErased(h.seq, h.time)
		}
		return
	}
	damaged := func(what string, err error) {
		b.noteDamage(Damage{Kind: DamageCorrupt, Block: blk.id, Offset: rec.off, Length: int64(h.length),
			Seq: envSeqIf(h.kind == kindMsg, h.seq), Reason: fmt.Sprintf("%s: %v", what, err)})
	}
	switch h.kind {
	case kindMsg:
		subject, err := recordSubject(rec.rec, h, blk.seal.aead)
		if err == nil && !validSubject(subject) {
			err = fmt.Errorf("invalid subject %q", subject)
		}
		if err != nil {
			b.e.Probe.Hit(probeBodyUnusable)
			damaged("message body unusable", err)
			b.st.replayErased(h.seq, h.time)
			return
		}
		e := entry{time: h.time, ttl: h.ttl, size: h.subjLen32() + h.hdrLen + h.dataLen + msgOverheadBytes,
			block: blk.id, off: uint32(rec.off), rlen: h.length}
		if h.flags&flagMarkerMsg != 0 {
			e.flags |= entryMarker
		}
		blk.live++
		b.st.replayMsg(h.seq, e, subject)
		b.replayBatchMember(h.seq, h.flags)
	case kindErased:
		b.st.replayErased(h.seq, h.time)
	case kindCommit:
		err := decodeDeleteBody(body, func(first, last uint64) {
			for _, seq := range b.st.msgs.keysBetween(first, last) {
				b.st.removeMsg(seq, unlogged)
			}
		})
		if err != nil {
			damaged("commit record", err)
			return
		}
		b.st.applyMarker(marker{last: h.seq, lastTime: h.time})
	case kindBatch:
		first, last, err := decodeBatchBody(body)
		if err != nil {
			damaged("batch record", err)
			return
		}
		b.replayBatch(first, last)
	case kindMarker:
		m, err := decodeMarkerBody(body)
		if err != nil {
			damaged("marker record", err)
			return
		}
		b.st.applyMarker(m)
	}
}

func (h recordHeader) subjLen32() uint32 { return uint32(h.subjLen) }

// recordSubject extracts a message record's subject without decompressing its payload.
func recordSubject(rec []byte, h recordHeader, aead interface {
	NonceSize() int
	Overhead() int
	Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error)
}) (string, error) {
	body := rec[recordHeaderBytes : len(rec)-recordTrailerBytes]
	if h.flags&flagEncrypted != 0 {
		if aead == nil {
			return "", fmt.Errorf("encrypted record in a block without a key")
		}
		n := aead.NonceSize()
		if len(body) < n+aead.Overhead() {
			return "", fmt.Errorf("encrypted body too short")
		}
		plain, err := aead.Open(nil, body[:n], body[n:], rec[:headerCheckedBytes])
		if err != nil {
			return "", fmt.Errorf("authentication failed: %w", err)
		}
		body = plain
	} else if h.flags&flagCompressed == 0 && len(body) != int(h.subjLen)+int(h.hdrLen)+int(h.dataLen) {
		return "", fmt.Errorf("body of %d bytes, header says %d", len(body), int(h.subjLen)+int(h.hdrLen)+int(h.dataLen))
	}
	if len(body) < int(h.subjLen) {
		return "", fmt.Errorf("body shorter than its subject")
	}
	return string(body[:h.subjLen]), nil
}

// readAll reads a whole file.
func readAll(f env.File) ([]byte, error) {
	size, err := f.Size()
	if err != nil {
		return nil, err
	}
	return readPrefix(f, size)
}

// readPrefix reads the file's first size bytes.
func readPrefix(f env.File, size int64) ([]byte, error) {
	data := make([]byte, size)
	if size == 0 {
		return data, nil
	}
	n, err := f.ReadAt(data, 0)
	if err != nil && !(errors.Is(err, io.EOF) && int64(n) == size) {
		return nil, err
	}
	return data, nil
}
