package filestore

import (
	"crypto/cipher"
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/klauspost/compress/s2"

	"github.com/petrel-io/petrel/core/env"
)

// Record framing; doc.go draws it as a table.
const (
	recordMagic        = 0x91C42EA7 // bytes A7 2E C4 91 on disk: not ASCII, so rare in text payloads
	recordHeaderBytes  = 48         // fixed header, its own checksum included
	recordTrailerBytes = 4
	recordOverhead     = recordHeaderBytes + recordTrailerBytes
	headerCheckedBytes = 44 // the header bytes its checksum covers
)

// Record kinds.
const (
	kindMsg     = 1 // a message
	kindCommit  = 2 // deleted sequence ranges, and the last sequence and time at this point
	kindMarker  = 3 // a sequence-range marker (Compact, Truncate, Purge, Restore)
	kindErased  = 4 // a message record overwritten by EraseMsg: same length, random body
	kindSnapEnd = 5 // the last record of a snapshot stream
	kindBatch   = 6 // an atomic batch's commit: its members (flagBatch) before it are kept
)

// Record flags.
const (
	flagCompressed = 1 << 0 // headers+data after the subject are S2-compressed
	flagEncrypted  = 1 << 1 // the body is nonce | AEAD-sealed(subject | payload)
	flagMarkerMsg  = 1 << 2 // a subject delete marker
	flagBatch      = 1 << 3 // a member of an atomic batch: kept only if its batch record follows
	flagsKnown     = flagCompressed | flagEncrypted | flagMarkerMsg | flagBatch
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// recordHeader is the decoded fixed header of a record.
type recordHeader struct {
	length  uint32 // whole record: header + body + trailer
	kind    uint8
	flags   uint8
	subjLen uint16 // plaintext lengths of a message's subject, headers and data
	hdrLen  uint32
	seq     uint64
	time    int64
	ttl     int64
	dataLen uint32
}

func (h *recordHeader) put(b []byte, seed uint32) {
	binary.LittleEndian.PutUint32(b[0:], recordMagic)
	binary.LittleEndian.PutUint32(b[4:], h.length)
	b[8], b[9] = h.kind, h.flags
	binary.LittleEndian.PutUint16(b[10:], h.subjLen)
	binary.LittleEndian.PutUint32(b[12:], h.hdrLen)
	binary.LittleEndian.PutUint64(b[16:], h.seq)
	binary.LittleEndian.PutUint64(b[24:], uint64(h.time))
	binary.LittleEndian.PutUint64(b[32:], uint64(h.ttl))
	binary.LittleEndian.PutUint32(b[40:], h.dataLen)
	binary.LittleEndian.PutUint32(b[44:], crc32.Update(seed, castagnoli, b[:headerCheckedBytes]))
}

// parseHeader decodes and verifies a record header at the start of b. ok is false unless the
// magic, the header checksum and the sanity of every field hold; a record that passes may
// still extend past the end of b (a torn tail).
func parseHeader(b []byte, seed uint32) (recordHeader, bool) {
	if len(b) < recordHeaderBytes || binary.LittleEndian.Uint32(b) != recordMagic {
		return recordHeader{}, false
	}
	if crc32.Update(seed, castagnoli, b[:headerCheckedBytes]) != binary.LittleEndian.Uint32(b[44:]) {
		return recordHeader{}, false
	}
	h := recordHeader{
		length: binary.LittleEndian.Uint32(b[4:]), kind: b[8], flags: b[9],
		subjLen: binary.LittleEndian.Uint16(b[10:]), hdrLen: binary.LittleEndian.Uint32(b[12:]),
		seq: binary.LittleEndian.Uint64(b[16:]), time: int64(binary.LittleEndian.Uint64(b[24:])),
		ttl: int64(binary.LittleEndian.Uint64(b[32:])), dataLen: binary.LittleEndian.Uint32(b[40:]),
	}
	if h.length < recordOverhead || h.length > recordBytesMax || h.kind < kindMsg || h.kind > kindBatch ||
		h.flags&^flagsKnown != 0 || uint64(h.hdrLen)+uint64(h.dataLen) > recordBytesMax {
		return recordHeader{}, false
	}
	return h, true
}

// checkRecord verifies a whole record's trailing checksum; rec is exactly h.length bytes.
func checkRecord(rec []byte, seed uint32) bool {
	n := len(rec) - recordTrailerBytes
	return crc32.Update(seed, castagnoli, rec[:n]) == binary.LittleEndian.Uint32(rec[n:])
}

// sealer holds what encoding a record needs beyond its fields: the block's checksum seed,
// its AEAD (nil: plaintext), a source of nonces and scratch space.
type sealer struct {
	seed     uint32
	aead     cipher.AEAD
	compress bool
	nonce    func([]byte)
	scratch  []byte // plaintext body while sealing
	packed   []byte // compressed payload
}

// msgRecordLen returns the length of the record encodeMsg will produce, compressing the
// payload into s.packed if that pays. It must be called right before encodeMsg.
func (s *sealer) msgRecordLen(subject string, hdr, data []byte) (length int, flags uint8) {
	payload := len(hdr) + len(data)
	if s.compress && payload > 0 {
		s.scratch = append(append(s.scratch[:0], hdr...), data...)
		s.packed = s2.Encode(s.packed[:cap(s.packed)], s.scratch)
		// Keep the compressed form only when it saves an eighth: decompressing costs reads.
		if len(s.packed) < payload-payload/8 {
			flags |= flagCompressed
			payload = len(s.packed)
		}
	}
	body := len(subject) + payload
	if s.aead != nil {
		flags |= flagEncrypted
		body += s.aead.NonceSize() + s.aead.Overhead()
	}
	return recordOverhead + body, flags
}

// encodeMsg appends a message record to dst. length and flags come from msgRecordLen.
func (s *sealer) encodeMsg(dst []byte, length int, flags uint8, seq uint64, e *entry, subject string, hdr, data []byte) []byte {
	if e.flags&entryMarker != 0 {
		flags |= flagMarkerMsg
	}
	if e.flags&entryBatch != 0 {
		flags |= flagBatch
	}
	h := recordHeader{
		length: uint32(length), kind: kindMsg, flags: flags, subjLen: uint16(len(subject)),
		hdrLen: uint32(len(hdr)), seq: seq, time: e.time, ttl: e.ttl, dataLen: uint32(len(data)),
	}
	start := len(dst)
	dst = grow(dst, recordHeaderBytes)
	h.put(dst[start:], s.seed)
	if flags&flagEncrypted == 0 {
		dst = append(dst, subject...)
		if flags&flagCompressed != 0 {
			dst = append(dst, s.packed...)
		} else {
			dst = append(append(dst, hdr...), data...)
		}
	} else {
		plain := append(s.scratch[:0], subject...)
		if flags&flagCompressed != 0 {
			plain = append(plain, s.packed...)
		} else {
			plain = append(append(plain, hdr...), data...)
		}
		n := s.aead.NonceSize()
		dst = grow(dst, n)
		nonce := dst[len(dst)-n:]
		s.nonce(nonce)
		var ad [headerCheckedBytes]byte // a copy: Seal's output must not overlap its AD
		copy(ad[:], dst[start:])
		dst = s.aead.Seal(dst, nonce, plain, ad[:])
		s.scratch = plain[:0]
	}
	return appendTrailer(dst, start, s.seed, length)
}

// encodeMeta appends a record whose body is not a message (commits, markers, snapshot end):
// never compressed or encrypted, since it holds only sequence numbers. seq and time go into
// the header fields of the same names.
func encodeMeta(dst []byte, kind uint8, seq uint64, time int64, body []byte, seed uint32) []byte {
	length := recordOverhead + len(body)
	h := recordHeader{length: uint32(length), kind: kind, seq: seq, time: time, dataLen: uint32(len(body))}
	start := len(dst)
	dst = grow(dst, recordHeaderBytes)
	h.put(dst[start:], seed)
	dst = append(dst, body...)
	return appendTrailer(dst, start, seed, length)
}

// encodeErased returns the record that replaces an erased one: the same length, so the
// records after it stay where they are, with a random body and valid checksums, so recovery
// reads it as "a message that was deleted" rather than as damage. It keeps the sequence and
// time: replay needs them to know the last sequence, which the erased message may have been.
func encodeErased(length int, seq uint64, time int64, seed uint32, fill func([]byte)) []byte {
	rec := make([]byte, 0, length)
	h := recordHeader{length: uint32(length), kind: kindErased, seq: seq, time: time, dataLen: uint32(length - recordOverhead)}
	rec = grow(rec, recordHeaderBytes)
	h.put(rec, seed)
	rec = grow(rec, length-recordOverhead)
	fill(rec[recordHeaderBytes:])
	return appendTrailer(rec, 0, seed, length)
}

func appendTrailer(dst []byte, start int, seed uint32, length int) []byte {
	sum := crc32.Update(seed, castagnoli, dst[start:])
	dst = binary.LittleEndian.AppendUint32(dst, sum)
	if len(dst)-start != length {
		assertf(false, "filestore: record encoded to %d bytes, announced %d", len(dst)-start, length)
	}
	return dst
}

func grow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), 2*cap(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

// decodeOpts says how decodeMsg builds its Msg.
type decodeOpts struct {
	// known is the subject the index holds for the message, if any: an equal subject shares
	// that string rather than allocating its own.
	known string
	// borrowed: rec is not the caller's to keep (a read window's bytes), so a payload left
	// in place is copied out, unless into is set.
	borrowed bool
	// into, when set, is filled and returned instead of a new Msg, its bytes left wherever
	// they are (a shared load, see Store.LoadNextShared).
	into *Msg
}

// decodeMsg turns a verified message record (header and checksum already checked) into a
// Msg. It fails on a body inconsistent with the header or one that does not authenticate.
func decodeMsg(rec []byte, h recordHeader, aead cipher.AEAD, o decodeOpts) (*Msg, error) {
	borrowed := o.borrowed && o.into == nil
	body := rec[recordHeaderBytes : len(rec)-recordTrailerBytes]
	if h.flags&flagEncrypted != 0 {
		if aead == nil {
			return nil, fmt.Errorf("encrypted record in a block without a key")
		}
		n := aead.NonceSize()
		if len(body) < n+aead.Overhead() {
			return nil, fmt.Errorf("encrypted body of %d bytes is too short", len(body))
		}
		plain, err := aead.Open(nil, body[:n], body[n:], rec[:headerCheckedBytes])
		if err != nil {
			return nil, fmt.Errorf("authentication failed: %w", err)
		}
		body, borrowed = plain, false
	}
	if len(body) < int(h.subjLen) {
		return nil, fmt.Errorf("body of %d bytes shorter than its subject (%d)", len(body), h.subjLen)
	}
	subject := o.known
	if string(body[:h.subjLen]) != o.known {
		subject = string(body[:h.subjLen])
	}
	payload := body[h.subjLen:]
	want := int(h.hdrLen) + int(h.dataLen)
	if h.flags&flagCompressed != 0 {
		n, err := s2.DecodedLen(payload)
		if err != nil || n != want {
			return nil, fmt.Errorf("compressed payload decodes to %d bytes, want %d (%v)", n, want, err)
		}
		out, err := s2.Decode(make([]byte, n), payload)
		if err != nil {
			return nil, fmt.Errorf("decompress: %w", err)
		}
		payload, borrowed = out, false
	}
	if len(payload) != want {
		return nil, fmt.Errorf("payload of %d bytes, header says %d", len(payload), want)
	}
	if borrowed && want > 0 {
		payload = append(make([]byte, 0, want), payload...)
	}
	m := o.into
	if m == nil {
		m = &Msg{}
	}
	*m = Msg{Subject: subject, Seq: env.Seq(h.seq), Time: h.time, TTL: durationOf(h.ttl)}
	if h.hdrLen > 0 {
		m.Header = payload[:h.hdrLen:h.hdrLen]
	}
	if h.dataLen > 0 {
		m.Data = payload[h.hdrLen:want:want]
	}
	return m, nil
}

// Commit records carry sorted, distinct deleted sequences as ranges: uvarint count, then
// per range uvarint(first - previous last) and uvarint(last - first).

func encodeDeleteBody(seqs []uint64) (body []byte, rest []uint64) {
	body = binary.AppendUvarint(nil, 0) // count, patched below
	var prev uint64
	ranges := 0
	for len(seqs) > 0 && ranges < deleteRecordRangesMax {
		first, last := seqs[0], seqs[0]
		n := 1
		for n < len(seqs) && seqs[n] == last+1 {
			last = seqs[n]
			n++
		}
		body = binary.AppendUvarint(body, first-prev)
		body = binary.AppendUvarint(body, last-first)
		prev, seqs = last, seqs[n:]
		ranges++
	}
	head := binary.AppendUvarint(nil, uint64(ranges))
	return append(head, body[1:]...), seqs
}

// decodeDeleteBody calls fn for every range; it rejects bodies that do not parse exactly.
func decodeDeleteBody(body []byte, fn func(first, last uint64)) error {
	count, n := binary.Uvarint(body)
	if n <= 0 || count > deleteRecordRangesMax {
		return fmt.Errorf("bad range count")
	}
	body = body[n:]
	var prev uint64
	for i := uint64(0); i < count; i++ {
		gap, n1 := binary.Uvarint(body)
		if n1 <= 0 {
			return fmt.Errorf("range %d: bad start", i)
		}
		span, n2 := binary.Uvarint(body[n1:])
		if n2 <= 0 {
			return fmt.Errorf("range %d: bad span", i)
		}
		first := prev + gap
		last := first + span
		if gap == 0 || first < prev || last < first {
			return fmt.Errorf("range %d: overflow or overlap", i)
		}
		fn(first, last)
		prev, body = last, body[n1+n2:]
	}
	if len(body) != 0 {
		return fmt.Errorf("%d trailing bytes", len(body))
	}
	return nil
}

// Marker bodies: flags (bit 0 reset), floor, last, last time; little-endian, 25 bytes.
const markerBodyBytes = 25

func encodeMarkerBody(m marker) []byte {
	b := make([]byte, markerBodyBytes)
	if m.reset {
		b[0] = 1
	}
	binary.LittleEndian.PutUint64(b[1:], m.floor)
	binary.LittleEndian.PutUint64(b[9:], m.last)
	binary.LittleEndian.PutUint64(b[17:], uint64(m.lastTime))
	return b
}

func decodeMarkerBody(b []byte) (marker, error) {
	if len(b) != markerBodyBytes || b[0] > 1 {
		return marker{}, fmt.Errorf("bad marker body")
	}
	return marker{
		reset: b[0] == 1, floor: binary.LittleEndian.Uint64(b[1:]),
		last: binary.LittleEndian.Uint64(b[9:]), lastTime: int64(binary.LittleEndian.Uint64(b[17:])),
	}, nil
}

// Batch bodies: the first and last sequence of the committed batch; little-endian, 16 bytes.
const batchBodyBytes = 16

func encodeBatchBody(first, last uint64) []byte {
	b := make([]byte, batchBodyBytes)
	binary.LittleEndian.PutUint64(b, first)
	binary.LittleEndian.PutUint64(b[8:], last)
	return b
}

func decodeBatchBody(b []byte) (first, last uint64, err error) {
	if len(b) != batchBodyBytes {
		return 0, 0, fmt.Errorf("batch body of %d bytes", len(b))
	}
	first, last = binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])
	if first == 0 || last < first {
		return 0, 0, fmt.Errorf("batch range %d..%d", first, last)
	}
	return first, last, nil
}
