package filestore

import (
	"encoding/binary"
	"slices"
)

// Packed chunks. A chunk of the message index holds 48 bytes per message open (a key and an
// entry); packed, a key is a varint delta from the one before and an entry a handful of
// varints, most of them deltas from the entry before (times a few microseconds apart,
// records back to back in one block): about 12 bytes. A stream of millions of messages
// keeps them all in the index, so this is most of its store's memory; nats-server keeps
// per-block indexes on disk instead, which is where a later step may go.

// valueCodec packs a seqMap's values; its methods must not depend on the codec's value (the
// zero value is used).
type valueCodec[V any] interface {
	// put appends v to dst, given the value before it in its chunk (zero for the first).
	put(dst []byte, prev, v *V) []byte
	// get reads into v a value that put wrote after prev, and returns the bytes it read; ok
	// is false if src ends too soon.
	get(src []byte, prev, v *V) (n int, ok bool)
}

// packedChunk is a chunk's keys and values in a codec's bytes.
type packedChunk struct {
	data        []byte
	n           int
	first, last uint64
}

// chunk returns chunk ci open, opening it (and packing the least recently opened one) if
// needed.
func (m *seqMap[V, C]) chunk(ci int) *seqChunk[V] {
	c := m.chunks[ci]
	if c.pk != nil {
		c.keys, c.vals = decodeChunk[V, C](c.pk)
		c.pk = nil
	}
	if ci < len(m.chunks)-1 {
		m.touch(c)
	}
	return c
}

// touch makes c the most recently opened chunk; beyond seqOpenMax, the least recent one is
// packed (unless it is now the last chunk, which pushes keep open).
func (m *seqMap[V, C]) touch(c *seqChunk[V]) {
	if k := len(m.open); k > 0 && m.open[k-1] == c {
		return
	}
	m.forget(c)
	m.open = append(m.open, c)
	if len(m.open) <= seqOpenMax {
		return
	}
	old := m.open[0]
	m.open = slices.Delete(m.open, 0, 1)
	if old != m.chunks[len(m.chunks)-1] {
		old.pk = encodeChunk[V, C](old.keys, old.vals)
		old.keys, old.vals = nil, nil
	}
}

// forget takes c off the open list (it is leaving the map, or moving to its end).
func (m *seqMap[V, C]) forget(c *seqChunk[V]) {
	if i := slices.Index(m.open, c); i >= 0 {
		m.open = slices.Delete(m.open, i, i+1)
	}
}

func encodeChunk[V any, C valueCodec[V]](keys []uint64, vals []V) *packedChunk {
	var codec C
	data := make([]byte, 0, len(keys)*24)
	var prevKey uint64
	var prev V
	for i, k := range keys {
		data = binary.AppendUvarint(data, k-prevKey)
		data = codec.put(data, &prev, &vals[i])
		prevKey, prev = k, vals[i]
	}
	return &packedChunk{data: slices.Clone(data), n: len(keys), first: keys[0], last: keys[len(keys)-1]}
}

func decodeChunk[V any, C valueCodec[V]](pk *packedChunk) ([]uint64, []V) {
	var codec C
	keys, vals := make([]uint64, pk.n), make([]V, pk.n)
	src := pk.data
	var key uint64
	var prev V
	for i := range keys {
		d, n := binary.Uvarint(src)
		if n <= 0 {
			assertf(false, "seqmap: packed chunk %d..%d: key %d of %d unreadable", pk.first, pk.last, i, pk.n)
		}
		key += d
		keys[i] = key
		used, ok := codec.get(src[n:], &prev, &vals[i])
		if !ok {
			assertf(false, "seqmap: packed chunk %d..%d: value %d of %d unreadable", pk.first, pk.last, i, pk.n)
		}
		src = src[n+used:]
		prev = vals[i]
	}
	if len(src) != 0 || keys[0] != pk.first || keys[pk.n-1] != pk.last {
		assertf(false, "seqmap: packed chunk %d..%d decodes to %d..%d with %d bytes left", pk.first, pk.last, keys[0], keys[pk.n-1], len(src))
	}
	return keys, vals
}

// noValues is the codec of a set (a map to struct{}): keys only.
type noValues struct{}

func (noValues) put(dst []byte, _, _ *struct{}) []byte         { return dst }
func (noValues) get(_ []byte, _, _ *struct{}) (n int, ok bool) { return 0, true }

// entryCodec packs index entries: time as a delta from the entry before, the record's place
// as a delta from the end of the record before when both are in one block, its length as a
// delta from the message's size (the record's framing is nearly constant).
type entryCodec struct{}

func (entryCodec) put(dst []byte, prev, e *entry) []byte {
	dst = binary.AppendVarint(dst, e.time-prev.time)
	dst = binary.AppendVarint(dst, e.ttl)
	dst = binary.AppendUvarint(dst, uint64(e.subj))
	dst = binary.AppendUvarint(dst, uint64(e.size))
	dst = append(dst, e.flags)
	dst = binary.AppendVarint(dst, int64(e.block)-int64(prev.block))
	if e.block == prev.block {
		dst = binary.AppendVarint(dst, int64(e.off)-int64(prev.off)-int64(prev.rlen))
	} else {
		dst = binary.AppendUvarint(dst, uint64(e.off))
	}
	return binary.AppendVarint(dst, int64(e.rlen)-int64(e.size))
}

func (entryCodec) get(src []byte, prev, e *entry) (int, bool) {
	r := stateReader{b: src}
	e.time = prev.time + r.varint()
	e.ttl = r.varint()
	e.subj = uint32(r.uvarint())
	e.size = uint32(r.uvarint())
	e.flags = r.byte()
	e.block = uint32(int64(prev.block) + r.varint())
	if e.block == prev.block {
		e.off = uint32(int64(prev.off) + int64(prev.rlen) + r.varint())
	} else {
		e.off = uint32(r.uvarint())
	}
	e.rlen = uint32(int64(e.size) + r.varint())
	return len(src) - len(r.b), !r.bad
}
