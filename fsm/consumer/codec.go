package consumer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/petrel-io/petrel/core/env"
	"maps"
	"slices"
)

// ErrDamaged classifies a state that fails its checksum, its framing or its invariants.
var ErrDamaged = errors.New("consumer state damaged")

const (
	codecMagic0, codecMagic1 = 'P', 'C'
	codecVersion             = 1
	checksumBytes            = 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Encode returns the state's compact binary form (see the package doc for the layout).
// Pending and redelivered entries go in ascending stream seq, so equal states encode to
// equal bytes.
func (s State) Encode() []byte {
	if env.Invariants {
		err := s.validate()
		env.Assertf(err == nil, "consumer: encode of an invalid state: %v", err)
	}
	return s.encodeUnchecked()
}

// encodeUnchecked encodes any state, valid or not (tests build damaged ones with it).
func (s State) encodeUnchecked() []byte {
	return encodeParts(s.Delivered, s.AckFloor, s.pendingSeqs(), func(sseq uint64) Pending { return s.Pending[sseq] }, s.Redelivered)
}

// Encode is c.State().Encode() without building the State: the pending seqs come from the
// order, ascending already. A durable consumer saves its state at every turn that changed
// it, and copying the pending set into a map and sorting it again cost more than the
// deliveries of the turn.
func (c *Consumer) Encode() []byte {
	seqs := make([]uint64, 0, len(c.pending))
	for _, sseq := range c.order {
		if c.pending[sseq] != nil {
			seqs = append(seqs, sseq)
		}
	}
	b := encodeParts(c.delivered, c.floor, seqs, func(sseq uint64) Pending {
		e := c.pending[sseq]
		return Pending{Consumer: e.consumer, Time: e.time}
	}, c.redelivered)
	if env.Invariants {
		env.Assertf(string(b) == string(c.State().Encode()), "consumer: Encode differs from State().Encode()")
	}
	return b
}

// encodeParts encodes a state given its pending seqs in ascending order.
func encodeParts(delivered, floor SeqPair, seqs []uint64, pending func(uint64) Pending, redelivered map[uint64]uint64) []byte {
	body := make([]byte, 0, 16+12*len(seqs)+6*len(redelivered))
	body = binary.AppendUvarint(body, delivered.Consumer)
	body = binary.AppendUvarint(body, delivered.Stream)
	body = binary.AppendUvarint(body, floor.Consumer)
	body = binary.AppendUvarint(body, floor.Stream)
	body = binary.AppendUvarint(body, uint64(len(seqs)))
	prevSeq, prevConsumer, prevTime := floor.Stream, floor.Consumer, int64(0)
	for _, sseq := range seqs {
		p := pending(sseq)
		body = binary.AppendUvarint(body, sseq-prevSeq)
		body = binary.AppendUvarint(body, p.Consumer-prevConsumer)
		body = binary.AppendVarint(body, p.Time-prevTime)
		prevSeq, prevConsumer, prevTime = sseq, p.Consumer, p.Time
	}
	body = binary.AppendUvarint(body, uint64(len(redelivered)))
	prevSeq = 0
	for _, sseq := range slices.Sorted(maps.Keys(redelivered)) {
		body = binary.AppendUvarint(body, sseq-prevSeq)
		body = binary.AppendUvarint(body, redelivered[sseq])
		prevSeq = sseq
	}
	out := make([]byte, 0, 3+binary.MaxVarintLen64+len(body)+checksumBytes)
	out = append(out, codecMagic0, codecMagic1, codecVersion)
	out = binary.AppendUvarint(out, uint64(len(body)))
	out = append(out, body...)
	return binary.LittleEndian.AppendUint32(out, crc32.Checksum(out, castagnoli))
}

// Decode parses an encoded state. Any damage (a wrong checksum, length or version, a
// malformed field, a state that breaks State's invariants) is an error wrapping ErrDamaged.
func Decode(b []byte) (State, error) {
	if len(b) > stateBytesMax {
		return State{}, fmt.Errorf("%w: %d bytes, more than %d", ErrDamaged, len(b), stateBytesMax)
	}
	if len(b) < 4+checksumBytes {
		return State{}, fmt.Errorf("%w: %d bytes", ErrDamaged, len(b))
	}
	data, sum := b[:len(b)-checksumBytes], binary.LittleEndian.Uint32(b[len(b)-checksumBytes:])
	if got := crc32.Checksum(data, castagnoli); got != sum {
		return State{}, fmt.Errorf("%w: checksum %08x, stored %08x", ErrDamaged, got, sum)
	}
	if data[0] != codecMagic0 || data[1] != codecMagic1 || data[2] != codecVersion {
		return State{}, fmt.Errorf("%w: header % x (want version %d)", ErrDamaged, data[:3], codecVersion)
	}
	r := reader{b: data[3:]}
	if n := r.uvarint(); r.err == nil && n != uint64(len(r.b)) {
		return State{}, fmt.Errorf("%w: body of %d bytes, length says %d", ErrDamaged, len(r.b), n)
	}
	st := r.state()
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%d bytes after the state", len(r.b))
	}
	if r.err == nil {
		r.err = st.validate()
	}
	if r.err != nil {
		return State{}, fmt.Errorf("%w: %w", ErrDamaged, r.err)
	}
	return st, nil
}

// reader parses varints, keeping the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errors.New("malformed varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errors.New("malformed varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// add returns base+delta, failing on overflow or a zero delta (entries strictly ascend).
func (r *reader) add(base, delta uint64) uint64 {
	if r.err == nil && (delta == 0 || base+delta < base) {
		r.err = fmt.Errorf("sequence delta %d from %d", delta, base)
	}
	return base + delta
}

// count reads an entry count, bounded by the bytes left (each entry takes at least min).
func (r *reader) count(min int) int {
	n := r.uvarint()
	if r.err == nil && n > uint64(len(r.b)/min) {
		r.err = fmt.Errorf("%d entries in %d bytes", n, len(r.b))
	}
	if r.err != nil {
		return 0
	}
	return int(n)
}

func (r *reader) state() State {
	var st State
	st.Delivered = SeqPair{Consumer: r.uvarint(), Stream: r.uvarint()}
	st.AckFloor = SeqPair{Consumer: r.uvarint(), Stream: r.uvarint()}
	if n := r.count(3); n > 0 {
		st.Pending = make(map[uint64]Pending, n)
		seq, consumer, t := st.AckFloor.Stream, st.AckFloor.Consumer, int64(0)
		for i := 0; i < n && r.err == nil; i++ {
			seq = r.add(seq, r.uvarint())
			consumer = r.add(consumer, r.uvarint())
			t += r.varint()
			st.Pending[seq] = Pending{Consumer: consumer, Time: t}
		}
	}
	if n := r.count(2); n > 0 {
		st.Redelivered = make(map[uint64]uint64, n)
		var seq uint64
		for i := 0; i < n && r.err == nil; i++ {
			seq = r.add(seq, r.uvarint())
			st.Redelivered[seq] = r.uvarint()
		}
	}
	return st
}
