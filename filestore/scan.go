package filestore

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/petrel-io/petrel/core/env"
)

// Recovery reads each block file whole and scans it. The scan trusts nothing: a record is
// used only if its header passes its own checksum (so its length can be believed) and the
// whole record passes the trailing checksum. After a record whose header is intact but
// whose body fails, the scan skips exactly that record. After bytes with no valid header
// it resynchronises: it looks for the next offset that holds the magic and a header whose
// checksum (seeded by this block's salt) holds, and resumes there. So one flipped bit costs
// one record, and every intact record before and after it stays readable.

// scannedRecord is a record found by a scan: intact, or framed (its header intact, so its
// kind, sequence and time can be believed) with a body that fails its checksum.
type scannedRecord struct {
	off    int64
	hdr    recordHeader
	rec    []byte // aliases the scanned bytes, or a corrected copy when repaired
	intact bool
	// repaired: the header had one flipped bit, corrected in rec (recovery writes it back).
	repaired bool
}

// scanResult is what a scan found. goodEnd is the end of the last framed record (or the
// start of the record area): the bytes after it hold nothing recoverable, and recovery cuts
// them off (a torn tail, or damage to the last record's header), unless they are all zeros
// (zeroTail): the room a preallocation left, which recovery keeps.
type scanResult struct {
	records  []scannedRecord
	damage   []Damage
	goodEnd  int64
	zeroTail bool
}

// scanRecords scans the record area of a block whose header gave seed.
func scanRecords(data []byte, seed uint32, blockID uint32) scanResult {
	r := scanResult{goodEnd: blockDataStart}
	p := int64(blockDataStart)
	size := int64(len(data))
	for p < size {
		h, ok := parseHeader(data[p:], seed)
		rec, repaired := []byte(nil), false
		if !ok {
			var fixed [recordHeaderBytes]byte
			if fixed, ok = repairHeader(data[p:], seed); ok {
				h, _ = parseHeader(fixed[:], seed)
				if p+int64(h.length) <= size {
					rec = append(append([]byte(nil), fixed[:]...), data[p+recordHeaderBytes:p+int64(h.length)]...)
					repaired = true
				}
			}
		}
		if ok && p+int64(h.length) <= size {
			end := p + int64(h.length)
			if rec == nil {
				rec = data[p:end]
			}
			intact := checkRecord(rec, seed)
			r.records = append(r.records, scannedRecord{off: p, hdr: h, rec: rec, intact: intact, repaired: repaired && intact})
			if repaired && intact {
				r.damage = append(r.damage, Damage{Kind: DamageRepaired, Block: blockID, Offset: p, Length: int64(h.length),
					Seq: envSeqIf(h.kind == kindMsg, h.seq), Reason: "one flipped bit in the record header, corrected"})
			}
			if !intact {
				r.damage = append(r.damage, Damage{Kind: DamageCorrupt, Block: blockID, Offset: p,
					Length: int64(h.length), Seq: envSeqIf(h.kind == kindMsg, h.seq), Reason: "record checksum mismatch"})
			}
			r.goodEnd = end
			p = end
			continue
		}
		if ok {
			break // an intact header whose record runs past the end: a torn write
		}
		q := resync(data, p+1, seed)
		if q < 0 {
			break
		}
		r.damage = append(r.damage, Damage{Kind: DamageUnreadable, Block: blockID, Offset: p, Length: q - p,
			Reason: "no valid record header; resumed at the next one"})
		p = q
	}
	if r.goodEnd < size && allZero(data[r.goodEnd:]) {
		r.zeroTail = true // room a preallocation left
	} else if r.goodEnd < size {
		r.damage = append(r.damage, Damage{Kind: DamageTornTail, Block: blockID, Offset: r.goodEnd,
			Length: size - r.goodEnd, Reason: "no record after this offset"})
	}
	return r
}

// repairHeader looks for the single bit whose flip makes a valid record header of the first
// recordHeaderBytes of b, and returns the corrected header. CRC32-C over the 44 checked bytes
// has a Hamming distance of at least 6, so one flipped bit has exactly one correction and no
// other damage of fewer than five bits can pass for one; the record's own checksum, checked
// after, must agree too. A flipped bit in a header therefore costs nothing, even in the last
// record of a block, where it would otherwise be indistinguishable from a torn tail.
func repairHeader(b []byte, seed uint32) (fixed [recordHeaderBytes]byte, ok bool) {
	if len(b) < recordHeaderBytes {
		return fixed, false
	}
	copy(fixed[:], b)
	ok = repairOneBit(fixed[:], func(h []byte) bool {
		_, valid := parseHeader(h, seed)
		return valid
	})
	return fixed, ok
}

// repairOneBit flips, in place, the one bit of b whose flip makes valid(b) true, and reports
// whether there was exactly one such bit (b is left as it was otherwise).
func repairOneBit(b []byte, valid func([]byte) bool) bool {
	found := -1
	for bit := 0; bit < len(b)*8; bit++ {
		b[bit/8] ^= 1 << (bit % 8)
		if valid(b) {
			if found >= 0 {
				b[bit/8] ^= 1 << (bit % 8)
				return false // two candidates: not a single flipped bit
			}
			found = bit
		}
		b[bit/8] ^= 1 << (bit % 8)
	}
	if found < 0 {
		return false
	}
	b[found/8] ^= 1 << (found % 8)
	return true
}

// resync returns the first offset >= from holding a valid record header, or -1.
func resync(data []byte, from int64, seed uint32) int64 {
	var magic [4]byte
	binary.LittleEndian.PutUint32(magic[:], recordMagic)
	for from < int64(len(data)) {
		i := bytes.Index(data[from:], magic[:])
		if i < 0 {
			return -1
		}
		q := from + int64(i)
		if _, ok := parseHeader(data[q:], seed); ok {
			return q
		}
		from = q + 1
	}
	return -1
}

func allZero(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func envSeqIf(cond bool, seq uint64) env.Seq {
	if cond {
		return env.Seq(seq)
	}
	return 0
}

// BlockReport describes a block file as CheckBlock found it.
type BlockReport struct {
	// HeaderCopies is how many of the two header copies are intact (0: the block is
	// unusable).
	HeaderCopies int
	ID           uint32
	// Records counts intact records by kind name ("msg", "commit", "marker", "erased").
	Records map[string]int
	// Seqs lists the sequences of the intact message records, in file order.
	Seqs []uint64
	// Damage lists what the scan skipped or would cut off.
	Damage []Damage
}

// CheckBlock scans a block file's bytes without changing anything, as recovery would (it
// does not decrypt). It never panics, whatever the bytes: for tools and fuzzing.
func CheckBlock(data []byte) (BlockReport, error) {
	h, copies, err := parseBlockHeader(data)
	rep := BlockReport{HeaderCopies: copies, Records: map[string]int{}}
	if err != nil {
		return rep, fmt.Errorf("filestore: block header: %w", err)
	}
	rep.ID = h.id
	r := scanRecords(data, seedOf(h.salt), h.id)
	names := map[uint8]string{kindMsg: "msg", kindCommit: "commit", kindMarker: "marker", kindErased: "erased", kindSnapEnd: "snapend", kindBatch: "batch"}
	for _, rec := range r.records {
		if !rec.intact {
			continue
		}
		rep.Records[names[rec.hdr.kind]]++
		if rec.hdr.kind == kindMsg {
			rep.Seqs = append(rep.Seqs, rec.hdr.seq)
		}
	}
	rep.Damage = r.damage
	return rep, nil
}
