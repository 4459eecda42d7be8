package filestore

import (
	"fmt"

	"github.com/petrel-io/petrel/core/env"
)

// Read-ahead. A consumer walks a stream in order, one message per load; a pread per message
// cost a third of a pull consumer's delivery time. So a read that continues where the last
// one ended loads a window of the block file ahead of it, and the records after it come
// from memory: one pread per window instead of one per message.
//
// Correctness:
//   - Only bytes below the block's written end are loaded. The log is append-only: bytes
//     there change afterwards only by erase and by a header repaired on read, which drop the
//     window, and the block goes only by removal or close, which drop it too.
//   - The window holds raw file bytes, unverified. A record is served from it only if its
//     header and checksum verify at the time it is served, as a record read from the file
//     must; anything else drops the window and the record takes the ordinary read path,
//     which reads it from the file again, repairs or reports it. So corruption is detected
//     whether it came from the disk or from the read that loaded the window.
//   - Rot on disk after a window was loaded is not seen through that window: the copy in
//     memory is what was written and it verifies. The next load of that region (or the next
//     recovery) sees it, as with any cache, the kernel's page cache included.
//
// Memory: one window per store, allocated on the first sequential read and kept for reuse.

const (
	// readAheadBytes is the size of a window: a few hundred small messages per pread.
	readAheadBytes = 64 << 10
	// readAheadGapMax is how far past the previous read's end a read may start and still
	// count as sequential: a filtered consumer skips records, and a window serving only a
	// few of them would cost more than the single reads.
	readAheadGapMax = 8 << 10
	// readAheadRecordMax: larger records are read on their own; the window would hold
	// little else.
	readAheadRecordMax = readAheadBytes / 4
)

// readWindow is a copy of bytes [off, off+len(buf)) of block blk (nil: empty), and where the
// previous read ended, which decides whether the next one reads ahead.
type readWindow struct {
	blk     *block
	off     int64
	buf     []byte
	lastBlk *block
	lastEnd int64
}

// drop empties the window (its buffer is kept for the next load).
func (w *readWindow) drop() { w.blk = nil }

// dropBlock empties the window if it holds bytes of blk.
func (w *readWindow) dropBlock(blk *block) {
	if w.blk == blk {
		w.blk = nil
	}
	if w.lastBlk == blk {
		w.lastBlk = nil
	}
}

// wipe empties the window and zeroes its buffer: an erased message's bytes must not stay
// in memory either.
func (w *readWindow) wipe() {
	clear(w.buf[:cap(w.buf)])
	w.drop()
}

// lookup returns bytes [off, off+n) of blk if the window holds them, else nil.
func (w *readWindow) lookup(blk *block, off int64, n int) []byte {
	if w.blk != blk || blk == nil || off < w.off || off+int64(n) > w.off+int64(len(w.buf)) {
		return nil
	}
	start := off - w.off
	return w.buf[start : start+int64(n) : start+int64(n)]
}

// serve returns the record bytes [off, off+n) of blk from the window, loading it first if
// this read continues the previous one, or nil when the record is to be read on its own.
// The bytes are the window's: the caller copies what it keeps.
func (w *readWindow) serve(blk *block, off int64, n int) []byte {
	sequential := w.lastBlk == blk && off >= w.lastEnd && off-w.lastEnd <= readAheadGapMax
	w.lastBlk, w.lastEnd = blk, off+int64(n)
	if rec := w.lookup(blk, off, n); rec != nil {
		return rec
	}
	if !sequential || n > readAheadRecordMax || off+int64(n) > blk.written {
		return nil
	}
	if err := w.load(blk, off); err != nil {
		return nil // the ordinary read reports what is wrong
	}
	return w.lookup(blk, off, n)
}

// load fills the window from off up to readAheadBytes, never past the block's written end.
func (w *readWindow) load(blk *block, off int64) error {
	w.blk = nil
	size := min(int64(readAheadBytes), blk.written-off)
	if int64(cap(w.buf)) < size {
		w.buf = make([]byte, readAheadBytes)
	}
	w.buf = w.buf[:size]
	if _, err := blk.f.ReadAt(w.buf, off); err != nil {
		return fmt.Errorf("read ahead in block %d at %d: %w", blk.id, off, err)
	}
	w.blk, w.off = blk, off
	return nil
}

// readWindowed returns the message from the read window when its record is there (or the
// window can be loaded with it) and verifies in full; ok is false otherwise, and the
// caller reads it the ordinary way, which rereads, repairs and reports.
func (b *fileBackend) readWindowed(blk *block, seq uint64, e *entry, known string, into *Msg) (*Msg, bool) {
	rec := b.window.serve(blk, int64(e.off), int(e.rlen))
	if rec == nil {
		return nil, false
	}
	if env.Invariants {
		b.assertWindow()
	}
	h, ok := parseHeader(rec, blk.seal.seed)
	if ok && h.length == e.rlen && h.kind == kindMsg && h.seq == seq && checkRecord(rec, blk.seal.seed) {
		if m, err := decodeMsg(rec, h, blk.seal.aead, decodeOpts{known: known, borrowed: true, into: into}); err == nil {
			return m, true
		}
	}
	b.e.Probe.Hit(probeReadWindowReject)
	b.window.drop()
	return nil, false
}

// assertWindow checks, under the invariants build, that the window holds only bytes below
// its block's written end and that the block is still one of the store's.
func (b *fileBackend) assertWindow() {
	w := &b.window
	if w.blk == nil {
		return
	}
	assertf(b.byID[w.blk.id] == w.blk, "filestore: read window holds block %d, which the store no longer has", w.blk.id)
	assertf(w.off+int64(len(w.buf)) <= w.blk.written,
		"filestore: read window of block %d reaches %d, past its written end %d", w.blk.id, w.off+int64(len(w.buf)), w.blk.written)
}
