package raft

import (
	"encoding/binary"
	"fmt"

	"github.com/petrel-io/petrel/core/env"
)

// Records on disk (WAL records and snapshot files) use a mirrored frame: the payload is
// stored twice, each copy with its own length and checksum, so that one flipped bit (rot at
// rest) never destroys a record, and a torn write is told apart from data by its checksums.
//
//	| len A u32 | crc A u32 | len B u32 | crc B u32 | payload (len) | payload (len) |
//
// crc = CRC-32C over the 4 length bytes then the payload. A reader trusts a copy only when
// its checksum matches; either header may locate either copy.
const mirrorHeader = 16

// maxRecordBytes bounds one record: a corrupt length must not make recovery allocate
// unbounded memory. Snapshots are records too, hence the generous bound.
const maxRecordBytes = 1 << 30

func mirrorCRC(payload []byte) uint32 {
	var l [4]byte
	binary.LittleEndian.PutUint32(l[:], uint32(len(payload)))
	c := checksum(l[:])
	return crcUpdate(c, payload)
}

// appendMirrored appends payload as one mirrored frame.
func appendMirrored(buf, payload []byte) []byte {
	crc := mirrorCRC(payload)
	for range 2 {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(len(payload)))
		buf = binary.LittleEndian.AppendUint32(buf, crc)
	}
	buf = append(buf, payload...)
	return append(buf, payload...)
}

// readMirrored decodes the frame at the start of p. It returns the payload (aliasing p), the
// frame's size, and ok=false when no copy verifies (a torn or rotten record, or the end).
func readMirrored(p []byte) (payload []byte, size int, ok bool) {
	payload, size, ok, _ = readMirroredRepair(p)
	return payload, size, ok
}

// readMirroredRepair is readMirrored that also reports whether the first header or the
// first copy failed, so the mirror served the record.
func readMirroredRepair(p []byte) (payload []byte, size int, ok, repaired bool) {
	if len(p) < mirrorHeader {
		return nil, 0, false, false
	}
	for h := 0; h < 2; h++ {
		n := binary.LittleEndian.Uint32(p[8*h:])
		crc := binary.LittleEndian.Uint32(p[8*h+4:])
		// The whole frame must be there: a frame cut short is a write the crash tore.
		if n == 0 || n > maxRecordBytes || uint64(len(p)) < mirrorHeader+2*uint64(n) {
			continue
		}
		size := mirrorHeader + 2*int(n)
		if a := p[mirrorHeader : mirrorHeader+int(n)]; mirrorCRC(a) == crc {
			return a, size, true, h == 1 || binary.LittleEndian.Uint64(p) != binary.LittleEndian.Uint64(p[8:])
		}
		if b := p[mirrorHeader+int(n) : size]; mirrorCRC(b) == crc {
			return b, size, true, true
		}
	}
	return nil, 0, false, false
}

// WAL record types (the first payload byte).
const (
	recHardState byte = 1 // term, vote, commit
	recEntry     byte = 2 // one log entry; it replaces any entry at or after its index
	recSnapReset byte = 3 // a snapshot from the leader was installed: the log restarts after it
)

func hardStateRecord(buf []byte, h HardState) []byte {
	p := []byte{recHardState}
	p = binary.AppendUvarint(p, uint64(h.Term))
	p = binary.AppendUvarint(p, uint64(h.Vote))
	p = binary.AppendUvarint(p, uint64(h.Commit))
	return appendMirrored(buf, p)
}

func entryRecord(buf, scratch []byte, e *Entry) ([]byte, []byte) {
	scratch = appendEntry(append(scratch[:0], recEntry), e)
	return appendMirrored(buf, scratch), scratch
}

func snapResetRecord(buf []byte, m SnapshotMeta) []byte {
	return appendMirrored(buf, appendSnapMeta([]byte{recSnapReset}, &m))
}

// walRecord is one decoded record.
type walRecord struct {
	kind  byte
	hard  HardState
	entry Entry
	snap  SnapshotMeta
}

func decodeWALRecord(p []byte) (walRecord, error) {
	d := decoder{p: p}
	r := walRecord{kind: d.byte()}
	switch r.kind {
	case recHardState:
		r.hard = HardState{Term: env.Term(d.uvarint()), Vote: ID(d.uvarint()), Commit: env.Index(d.uvarint())}
	case recEntry:
		r.entry = d.entry()
	case recSnapReset:
		r.snap = d.snapMeta()
	default:
		d.fail("record type %d", r.kind)
	}
	if err := d.finish(); err != nil {
		return walRecord{}, fmt.Errorf("wal record: %w", err)
	}
	return r, nil
}
