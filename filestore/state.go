package filestore

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/petrel-io/petrel/core/env"
)

// Encoded state format (doc.go has the table): magic "PTRLST01"; uvarints msgs, bytes,
// first seq; first time (8 bytes LE); uvarint last seq; last time (8 bytes LE); uvarints
// num subjects, num deleted, range count, then per range uvarint(first - previous last) and
// uvarint(last - first); finally CRC32-C of everything before it.
const stateMagic = "PTRLST01"

// EncodedState implements Store.
func (s *store) EncodedState() []byte {
	st := s.State()
	b := append([]byte(nil), stateMagic...)
	b = binary.AppendUvarint(b, st.Msgs)
	b = binary.AppendUvarint(b, st.Bytes)
	b = binary.AppendUvarint(b, uint64(st.FirstSeq))
	b = binary.LittleEndian.AppendUint64(b, uint64(st.FirstTime))
	b = binary.AppendUvarint(b, uint64(st.LastSeq))
	b = binary.LittleEndian.AppendUint64(b, uint64(st.LastTime))
	b = binary.AppendUvarint(b, st.NumSubjects)
	b = binary.AppendUvarint(b, st.NumDeleted)
	ranges := s.Deleted()
	b = binary.AppendUvarint(b, uint64(len(ranges)))
	var prev uint64
	for _, r := range ranges {
		b = binary.AppendUvarint(b, uint64(r.First)-prev)
		b = binary.AppendUvarint(b, uint64(r.Last-r.First))
		prev = uint64(r.Last)
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// DecodeState reads an EncodedState, Deleted included. It rejects anything damaged.
func DecodeState(b []byte) (State, error) {
	bad := func(what string) (State, error) {
		return State{}, fmt.Errorf("%w: %s", ErrBadEncodedState, what)
	}
	if len(b) < len(stateMagic)+4 || string(b[:len(stateMagic)]) != stateMagic {
		return bad("no magic")
	}
	body := b[:len(b)-4]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(b[len(b)-4:]) {
		return bad("checksum mismatch")
	}
	r := stateReader{b: body[len(stateMagic):]}
	var st State
	st.Msgs, st.Bytes = r.uvarint(), r.uvarint()
	st.FirstSeq, st.FirstTime = env.Seq(r.uvarint()), r.int64()
	st.LastSeq, st.LastTime = env.Seq(r.uvarint()), r.int64()
	st.NumSubjects, st.NumDeleted = r.uvarint(), r.uvarint()
	n := r.uvarint()
	if r.bad || n > uint64(len(r.b)) {
		return bad("truncated")
	}
	var prev, total uint64
	for i := uint64(0); i < n && !r.bad; i++ {
		first := prev + r.uvarint()
		last := first + r.uvarint()
		if first <= prev && i > 0 || last < first {
			return bad("ranges overlap or overflow")
		}
		st.Deleted = append(st.Deleted, SeqRange{First: env.Seq(first), Last: env.Seq(last)})
		total += last - first + 1
		prev = last
	}
	if r.bad || len(r.b) != 0 || total != st.NumDeleted {
		return bad("ranges do not match the header")
	}
	return st, nil
}

// stateReader reads a state file's fields, and a packed index chunk's (seqpack.go), until
// one fails (bad, every later read 0).
type stateReader struct {
	b   []byte
	bad bool
}

func (r *stateReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	return r.took(n, v)
}

func (r *stateReader) varint() int64 {
	v, n := binary.Varint(r.b)
	return int64(r.took(n, uint64(v)))
}

// took moves past a varint of n bytes (n <= 0: none could be read) and returns v, or 0.
func (r *stateReader) took(n int, v uint64) uint64 {
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *stateReader) byte() byte {
	if len(r.b) == 0 {
		r.bad = true
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *stateReader) int64() int64 {
	if len(r.b) < 8 {
		r.bad = true
		return 0
	}
	v := int64(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}
