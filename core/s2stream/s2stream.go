// Package s2stream frames bytes in the S2 stream format (the framing of klauspost/compress's
// s2.Writer and s2.Reader: a stream identifier, then chunks of at most 4 MB of data, each
// with a masked CRC-32C), push-style, for compressed routes: an Encoder turns the bytes of
// one flush into chunks, and a Decoder is fed whatever each socket read gave it. Neither
// starts goroutines or holds a reader, so the engine and the simulator can run them.
package s2stream

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/klauspost/compress/s2"
)

// Chunk types and sizes of the stream format.
const (
	chunkCompressed   = 0x00
	chunkUncompressed = 0x01
	chunkPadding      = 0xfe
	chunkStreamID     = 0xff
	streamMagic       = "S2sTwO"

	headerLen = 4 // type byte, 3-byte little-endian length
	crcLen    = 4
	// maxBlock is the most uncompressed data one chunk holds (the format's limit).
	maxBlock = 4 << 20
	// writeBlock is the most this encoder puts in one chunk (s2.Writer's default).
	writeBlock = 1 << 20
)

// Level is how hard an Encoder compresses.
type Level uint8

const (
	// Uncompressed frames the data without compressing it (nats-server's s2_uncompressed).
	Uncompressed Level = iota
	Fast
	Better
	Best
)

// ErrCorrupt is returned by a Decoder for bytes that are not a valid stream.
var ErrCorrupt = errors.New("s2stream: corrupt stream")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// crc is the format's masked CRC-32C of uncompressed data.
func crc(p []byte) uint32 {
	c := crc32.Checksum(p, castagnoli)
	return (c>>15 | c<<17) + 0xa282ead8
}

// Encoder frames data; the zero value is not usable (NewEncoder).
type Encoder struct {
	level   Level
	started bool
	block   []byte // scratch for a compressed block
}

// NewEncoder returns an encoder at level.
func NewEncoder(level Level) *Encoder { return &Encoder{level: level} }

// Append appends p, framed, to dst: the stream identifier first if this is the encoder's
// first output, then one chunk per block. A block that does not shrink is kept uncompressed.
func (e *Encoder) Append(dst, p []byte) []byte {
	if !e.started {
		e.started = true
		dst = appendHeader(dst, chunkStreamID, len(streamMagic))
		dst = append(dst, streamMagic...)
	}
	for len(p) > 0 {
		n := min(len(p), writeBlock)
		dst = e.appendChunk(dst, p[:n])
		p = p[n:]
	}
	return dst
}

func (e *Encoder) appendChunk(dst, block []byte) []byte {
	sum := crc(block)
	if e.level != Uncompressed {
		e.block = e.encode(e.block[:cap(e.block)], block)
		if len(e.block) < len(block) {
			dst = appendHeader(dst, chunkCompressed, crcLen+len(e.block))
			dst = binary.LittleEndian.AppendUint32(dst, sum)
			return append(dst, e.block...)
		}
	}
	dst = appendHeader(dst, chunkUncompressed, crcLen+len(block))
	dst = binary.LittleEndian.AppendUint32(dst, sum)
	return append(dst, block...)
}

func (e *Encoder) encode(dst, block []byte) []byte {
	if need := s2.MaxEncodedLen(len(block)); len(dst) < need {
		dst = make([]byte, need)
	}
	switch e.level {
	case Better:
		return s2.EncodeBetter(dst, block)
	case Best:
		return s2.EncodeBest(dst, block)
	default:
		return s2.Encode(dst, block)
	}
}

func appendHeader(dst []byte, kind byte, n int) []byte {
	return append(dst, kind, byte(n), byte(n>>8), byte(n>>16))
}

// Decoder takes a stream in pieces of any size.
type Decoder struct {
	in      []byte // bytes of an incomplete chunk
	out     []byte
	started bool
	err     error
}

// Feed decodes what p completes and returns the data, valid until the next Feed. Bytes of
// a chunk not yet complete are kept. Once it returns an error, every call returns it.
func (d *Decoder) Feed(p []byte) ([]byte, error) {
	if d.err != nil {
		return nil, d.err
	}
	d.out = d.out[:0]
	buf := p
	if len(d.in) > 0 {
		d.in = append(d.in, p...)
		buf = d.in
	}
	for len(buf) >= headerLen {
		n := int(buf[1]) | int(buf[2])<<8 | int(buf[3])<<16
		if len(buf) < headerLen+n {
			break
		}
		if err := d.chunk(buf[0], buf[headerLen:headerLen+n]); err != nil {
			d.err = err
			return nil, err
		}
		buf = buf[headerLen+n:]
	}
	// Keep the incomplete rest; copy first when it is p's, which the caller reuses.
	if len(d.in) > 0 {
		d.in = append(d.in[:0], buf...)
	} else {
		d.in = append(d.in, buf...)
	}
	return d.out, nil
}

func (d *Decoder) chunk(kind byte, body []byte) error {
	if kind == chunkStreamID {
		if string(body) != streamMagic {
			return fmt.Errorf("%w: stream identifier %q", ErrCorrupt, body)
		}
		d.started = true
		return nil
	}
	if !d.started {
		return fmt.Errorf("%w: chunk 0x%02x before the stream identifier", ErrCorrupt, kind)
	}
	switch {
	case kind == chunkCompressed || kind == chunkUncompressed:
		return d.data(kind, body)
	case kind == chunkPadding || kind >= 0x80:
		return nil // skippable
	default:
		return fmt.Errorf("%w: unskippable chunk 0x%02x", ErrCorrupt, kind)
	}
}

func (d *Decoder) data(kind byte, body []byte) error {
	if len(body) < crcLen {
		return fmt.Errorf("%w: chunk of %d bytes", ErrCorrupt, len(body))
	}
	sum, data := binary.LittleEndian.Uint32(body), body[crcLen:]
	start := len(d.out)
	if kind == chunkUncompressed {
		if len(data) > maxBlock {
			return fmt.Errorf("%w: block of %d bytes", ErrCorrupt, len(data))
		}
		d.out = append(d.out, data...)
	} else {
		n, err := s2.DecodedLen(data)
		if err != nil || n > maxBlock {
			return fmt.Errorf("%w: compressed block of %d bytes: %v", ErrCorrupt, n, err)
		}
		d.out = growTo(d.out, start+n)
		if _, err := s2.Decode(d.out[start:], data); err != nil {
			return fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
	}
	if crc(d.out[start:]) != sum {
		return fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	return nil
}

// growTo returns b extended to length n, reallocating when its capacity is short.
func growTo(b []byte, n int) []byte {
	if n <= cap(b) {
		return b[:n]
	}
	grown := make([]byte, n, max(n, 2*cap(b)))
	copy(grown, b)
	return grown
}
