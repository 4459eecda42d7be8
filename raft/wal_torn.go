package raft

import (
	"encoding/binary"
	"fmt"

	"github.com/petrel-io/petrel/core/env"
)

// Telling a torn tail from damage. Save writes each Ready with one write and syncs after
// it, so the bytes a crash may have lost are exactly those written since the last completed
// sync: a suffix of the last segment made of whole records. A crash leaves that suffix cut
// at some size, with each of its sectors either written or reading as zeros. So a record
// that does not verify is the torn end of the log only if the crash can explain it: the file
// ends inside it, or a sector's share of it (from the record's start, or the sector's, to
// the sector's end or the end of the file) reads as zeros, and the two copies differ only
// where one of them is zero. Anything else (a flipped length, a copy that differs in a
// non-zero byte) is rot or a bug: the records after it may have been synced, so cutting there
// could forget a vote or an acknowledged entry, and recovery refuses instead (ErrCorrupt).
// The first record of a segment is synced before anything else is written to it, so damage
// there is never torn, unless the segment holds nothing else (its creation was cut short).

// maxHeaderFrame is the largest first record of a segment (a hard state: a type byte and
// three uvarints, mirrored).
const maxHeaderFrame = mirrorHeader + 2*(1+3*binary.MaxVarintLen64)

// WALDamageError is ErrCorrupt with what recovery found: a record that does not verify and
// that a crash cannot explain.
type WALDamageError struct {
	Segment      string // file name
	Offset, Size int64  // where the record starts, and the segment's size
	Why          string
	// Recovery is the verdict on each segment up to and including the damaged one.
	Recovery WALRecovery
}

func (e *WALDamageError) Error() string {
	return fmt.Sprintf("%v: wal %s: damaged record at %d of %d: %s", ErrCorrupt, e.Segment, e.Offset, e.Size, e.Why)
}

// Unwrap makes a WALDamageError match ErrCorrupt.
func (e *WALDamageError) Unwrap() error { return ErrCorrupt }

// WALRecovery reports what OpenWAL kept and dropped, one entry per segment, oldest first, so
// callers (and checkers) can audit recovery's verdicts.
type WALRecovery struct {
	Segments []SegmentRecovery
}

// SegmentRecovery is recovery's verdict on one segment.
type SegmentRecovery struct {
	Name     string
	Size     int64 // bytes before recovery
	Kept     int64 // bytes of verified records kept, from the start
	Records  int   // records kept
	Repaired int   // kept records whose first copy failed, served by their mirror
	// Torn says why the bytes after Kept were judged a torn write and cut ("" if none).
	Torn string
	// Header is set when nothing of the segment was kept and recovery rewrote its first
	// record (the hard state) because its creation had been cut short.
	Header bool
}

// Dropped is how many bytes recovery cut off the segment.
func (s SegmentRecovery) Dropped() int64 { return s.Size - s.Kept }

// tornEvidence says why the frame at data[off:], which does not verify, looks like a write
// that a crash cut short; "" means it does not (see the comment at the top of the file).
func tornEvidence(data []byte, off int) string {
	if off == 0 && len(data) > maxHeaderFrame {
		return ""
	}
	p := data[off:]
	if len(p) < mirrorHeader {
		return "the file ends inside the record's header"
	}
	lenA, crcA := binary.LittleEndian.Uint32(p), binary.LittleEndian.Uint32(p[4:])
	lenB, crcB := binary.LittleEndian.Uint32(p[8:]), binary.LittleEndian.Uint32(p[12:])
	agree := lenA == lenB && crcA == crcB && lenA > 0 && lenA <= maxRecordBytes
	extent := mirrorHeader
	if agree {
		need := mirrorHeader + 2*uint64(lenA)
		if uint64(len(p)) < need {
			return "the file ends inside the record"
		}
		extent = int(need)
		a, b := p[mirrorHeader:mirrorHeader+lenA], p[mirrorHeader+lenA:need]
		for i := range a {
			if a[i] != b[i] && a[i] != 0 && b[i] != 0 {
				return "" // a write cut short leaves zeros, not different data
			}
		}
	}
	if s, ok := zeroSector(data, off, off+extent); ok {
		return fmt.Sprintf("sector %d reads as zeros (never written)", s)
	}
	return ""
}

// zeroSector finds a sector overlapping data[from:to] whose bytes from max(its start, from)
// to its end (or the end of data) are all zero: what a sector a crash did not write reads as.
func zeroSector(data []byte, from, to int) (int, bool) {
	for s := from / env.SectorSize; s*env.SectorSize < min(to, len(data)); s++ {
		lo, hi := max(s*env.SectorSize, from), min((s+1)*env.SectorSize, len(data))
		zero := true
		for _, c := range data[lo:hi] {
			if c != 0 {
				zero = false
				break
			}
		}
		if zero {
			return s, true
		}
	}
	return 0, false
}
