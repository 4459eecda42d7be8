package stream

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// The entry codec: a publish as a replicated log carries it (the same Msg an R1 stream
// applies directly). Layout, little-endian:
//
//	offset  size  field
//	0       1     version (1)
//	1       8     time (Unix ns)
//	9       4     subject length S
//	13      4     header length H
//	17      4     data length D
//	21      S     subject
//	21+S    H     header
//	21+S+H  D     data
//	end     4     CRC-32C of everything before
//
// Decode refuses anything else: a wrong version, lengths that do not add up, a checksum
// that does not hold.

const (
	entryVersion    = 1
	entryFixedBytes = 21
	entrySumBytes   = 4
	// entryPartMax bounds each variable part (a subject, a header, a payload) a decoder
	// accepts, far above max_payload, so a damaged length cannot ask for gigabytes.
	entryPartMax = 64 << 20
)

// ErrBadEntry classifies an entry that does not decode.
var ErrBadEntry = errors.New("stream: invalid entry")

var entryTable = crc32.MakeTable(crc32.Castagnoli)

// EncodeMsg appends m's entry to dst.
func EncodeMsg(dst []byte, m Msg) []byte {
	start := len(dst)
	dst = append(dst, entryVersion)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(m.Time))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(m.Subject)))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(m.Header)))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(m.Data)))
	dst = append(append(append(dst, m.Subject...), m.Header...), m.Data...)
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], entryTable))
}

// DecodeMsg reads an entry. The Msg's slices are copies.
func DecodeMsg(b []byte) (Msg, error) {
	if len(b) < entryFixedBytes+entrySumBytes {
		return Msg{}, fmt.Errorf("%w: %d bytes", ErrBadEntry, len(b))
	}
	body, sum := b[:len(b)-entrySumBytes], binary.LittleEndian.Uint32(b[len(b)-entrySumBytes:])
	if crc32.Checksum(body, entryTable) != sum {
		return Msg{}, fmt.Errorf("%w: checksum", ErrBadEntry)
	}
	if body[0] != entryVersion {
		return Msg{}, fmt.Errorf("%w: version %d", ErrBadEntry, body[0])
	}
	s := uint64(binary.LittleEndian.Uint32(body[9:]))
	h := uint64(binary.LittleEndian.Uint32(body[13:]))
	d := uint64(binary.LittleEndian.Uint32(body[17:]))
	if s > entryPartMax || h > entryPartMax || d > entryPartMax || entryFixedBytes+s+h+d != uint64(len(body)) {
		return Msg{}, fmt.Errorf("%w: lengths %d+%d+%d in %d bytes", ErrBadEntry, s, h, d, len(body))
	}
	m := Msg{Time: int64(binary.LittleEndian.Uint64(body[1:])), Subject: string(body[entryFixedBytes : entryFixedBytes+s])}
	if h > 0 {
		m.Header = append([]byte(nil), body[entryFixedBytes+s:entryFixedBytes+s+h]...)
	}
	if d > 0 {
		m.Data = append([]byte(nil), body[entryFixedBytes+s+h:]...)
	}
	return m, nil
}
