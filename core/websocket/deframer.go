package websocket

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
)

// deframer turns the bytes of one direction of a connection into message bytes. It is
// incremental: the stream may be cut anywhere, and each call to feed carries on where the
// last one stopped. It is owned by one executor.
//
// Data frames' payloads are unmasked as they arrive and appended to the caller's buffer, so
// an uncompressed message is never held whole. A compressed message is gathered until its
// last frame (deflate needs the whole message) and then inflated, both bounded by
// messageMax. Control frames are gathered (at most ControlPayloadMax bytes) and handed to
// onControl whole.
type deframer struct {
	wantMask   bool // the peer is a client: every frame must be masked
	deflate    bool // permessage-deflate was negotiated: RSV1 marks compressed messages
	messageMax int
	onControl  func(op Opcode, payload []byte) error // runs during feed; may stop it

	// Partial header: the first headLen bytes of the current header.
	head    [headerBytesMax]byte
	headLen int
	// The frame whose payload is being read. Invariant: inPayload implies remaining is the
	// number of its payload bytes not yet seen.
	cur       header
	inPayload bool
	remaining uint64
	maskPos   int

	// Message state across frames. Invariant: fragmented is true between a data frame
	// without FIN and the continuation frame that carries FIN.
	fragmented bool
	compressed bool   // the current message is compressed
	gathered   []byte // compressed message bytes so far (bounded by messageMax)
	control    []byte // the current control frame's payload so far
	stopped    bool   // a close frame or an error ended the stream: nothing more is read

	pool   *flatePool // inflaters, shared by the listener's connections
	source bytes.Reader
}

// compressedTail ends a compressed message for Go's inflater: the 0x00 0x00 0xff 0xff
// that RFC 7692 7.2.2 says the sender removed, then an empty final stored block so the
// inflater reports a clean end instead of an unexpected EOF.
var compressedTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// feed reads p and appends the message bytes it completes to out. It stops early when a
// control frame's handler stops it (a close frame) or at the first violation, returned as
// a *ProtocolError; bytes before the violation are in out.
func (d *deframer) feed(p []byte, out []byte) ([]byte, error) {
	// A frame whose payload is empty finishes as soon as its header does, so the loop
	// also runs when no bytes are left but such a frame is pending.
	for (len(p) > 0 || d.inPayload && d.remaining == 0) && !d.stopped {
		var err error
		if !d.inPayload {
			p, err = d.readHeader(p)
		} else {
			p, out, err = d.readPayload(p, out)
		}
		if err != nil {
			d.stopped = true
			return out, err
		}
	}
	return out, nil
}

// stop makes feed ignore everything after the current frame.
func (d *deframer) stop() { d.stopped = true }

// readHeader gathers header bytes; once the header is whole it checks it and starts the
// payload.
func (d *deframer) readHeader(p []byte) ([]byte, error) {
	if d.headLen < 2 {
		n := copy(d.head[d.headLen:2], p)
		d.headLen += n
		p = p[n:]
		if d.headLen < 2 {
			return p, nil
		}
		if err := d.checkFirstBytes(); err != nil {
			return p, err
		}
	}
	need := headerLen(d.head[1])
	n := copy(d.head[d.headLen:need], p)
	d.headLen += n
	p = p[n:]
	if d.headLen < need {
		return p, nil
	}
	return p, d.startFrame()
}

// headerLen is the full header length the second header byte announces.
func headerLen(b1 byte) int {
	n := 2
	switch b1 & 0x7F {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&maskBit != 0 {
		n += 4
	}
	return n
}

// checkFirstBytes applies the rules the first two bytes decide, in nats-server's order so
// the close text matches.
func (d *deframer) checkFirstBytes() error {
	b0, b1 := d.head[0], d.head[1]
	op := Opcode(b0 & 0x0F)
	fin, rsv1 := b0&finBit != 0, b0&rsv1Bit != 0
	switch {
	case b0&(rsv2Bit|rsv3Bit) != 0:
		return protocolError("RSV2 and RSV3 must be clear")
	case rsv1 && !d.deflate:
		return protocolError("compressed frame received without negotiated permessage-deflate")
	case d.wantMask && b1&maskBit == 0:
		return protocolError("mask bit missing")
	case !d.wantMask && b1&maskBit != 0:
		return protocolError("masked frame from a server")
	}
	switch op {
	case OpPing, OpPong, OpClose:
		switch {
		case b1&0x7F > ControlPayloadMax:
			return protocolError("control frame length bigger than maximum allowed of %d bytes", ControlPayloadMax)
		case !fin:
			return protocolError("control frame does not have final bit set")
		case rsv1:
			return protocolError("control frame must not be compressed")
		}
	case OpText, OpBinary:
		if d.fragmented {
			return protocolError("new message started before final frame for previous message was received")
		}
	case OpContinuation:
		if !d.fragmented || rsv1 {
			return protocolError("invalid continuation frame")
		}
	default:
		return protocolError("unknown opcode %d", op)
	}
	return nil
}

// startFrame decodes the whole header into cur and updates the message state.
func (d *deframer) startFrame() error {
	b0, b1 := d.head[0], d.head[1]
	h := header{fin: b0&finBit != 0, rsv1: b0&rsv1Bit != 0, op: Opcode(b0 & 0x0F), masked: b1&maskBit != 0}
	rest := d.head[2:d.headLen]
	switch b1 & 0x7F {
	case 126:
		h.length, rest = uint64(binary.BigEndian.Uint16(rest)), rest[2:]
	case 127:
		h.length, rest = binary.BigEndian.Uint64(rest), rest[8:]
		if h.length>>63 != 0 {
			return protocolError("invalid 64-bit payload length")
		}
	default:
		h.length = uint64(b1 & 0x7F)
	}
	if h.masked {
		copy(h.key[:], rest)
	}
	d.headLen = 0
	d.cur, d.inPayload, d.remaining, d.maskPos = h, true, h.length, 0
	if h.op.control() {
		d.control = d.control[:0]
		return nil
	}
	if h.op != OpContinuation {
		d.compressed = h.rsv1
	}
	d.fragmented = !h.fin
	if h.length > uint64(d.messageMax) || d.compressed && uint64(len(d.gathered))+h.length > uint64(d.messageMax) {
		return &ProtocolError{Code: CloseMessageTooBig, Text: "message too big"}
	}
	return nil
}

// readPayload takes what p holds of the current frame's payload.
func (d *deframer) readPayload(p []byte, out []byte) ([]byte, []byte, error) {
	n := len(p)
	if uint64(n) > d.remaining {
		n = int(d.remaining)
	}
	chunk := p[:n]
	p = p[n:]
	d.remaining -= uint64(n)
	switch {
	case d.cur.op.control():
		d.control = d.unmaskInto(d.control, chunk)
	case d.compressed:
		d.gathered = d.unmaskInto(d.gathered, chunk)
	default:
		out = d.unmaskInto(out, chunk)
	}
	if d.remaining > 0 {
		return p, out, nil
	}
	d.inPayload = false
	switch {
	case d.cur.op.control():
		return p, out, d.onControl(d.cur.op, d.control)
	case d.compressed && d.cur.fin:
		var err error
		out, err = d.inflate(out)
		return p, out, err
	}
	return p, out, nil
}

// unmaskInto appends chunk to dst and unmasks the copy: the caller's buffer is left as it
// was (a host may reuse or inspect it).
func (d *deframer) unmaskInto(dst, chunk []byte) []byte {
	start := len(dst)
	dst = append(dst, chunk...)
	if d.cur.masked {
		d.maskPos = maskBytes(d.cur.key, d.maskPos, dst[start:])
	}
	return dst
}

// inflate decompresses the gathered message onto out, bounded by messageMax.
func (d *deframer) inflate(out []byte) ([]byte, error) {
	d.gathered = append(d.gathered, compressedTail...)
	d.source.Reset(d.gathered)
	if d.pool == nil {
		d.pool = &flatePool{}
	}
	inflater, err := d.pool.inflater(&d.source)
	if err != nil {
		return out, protocolError("invalid compressed message: %v", err)
	}
	defer d.pool.putInflater(inflater)
	start := len(out)
	for {
		out = growFor(out, inflateChunk)
		n, err := inflater.Read(out[len(out):cap(out)])
		out = out[:len(out)+n]
		if len(out)-start > d.messageMax {
			return out[:start], &ProtocolError{Code: CloseMessageTooBig, Text: "message too big"}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return out[:start], protocolError("invalid compressed message: %v", err)
		}
	}
	d.gathered = d.gathered[:0]
	if cap(d.gathered) > deflatedKeepMax {
		d.gathered = nil
	}
	d.compressed = false
	return out, nil
}

// growFor makes room for n more bytes beyond len(b).
func growFor(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	grown := make([]byte, len(b), 2*cap(b)+n)
	copy(grown, b)
	return grown
}
