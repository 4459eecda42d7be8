package websocket

import (
	"bytes"

	"github.com/petrel-io/petrel/core/env"
)

// framer turns outgoing bytes into frames. A client masks every frame with a fresh key
// from rand (RFC 6455 5.3); a server never masks. With permessage-deflate negotiated, a
// payload above compressMin becomes one compressed message, deflated afresh each time
// (no context takeover, as nats-server negotiates it). The caller serializes calls.
type framer struct {
	mask     bool
	rand     env.Rand // masking keys, for a client
	deflate  bool
	frameMax int
	// wholeCompressed keeps each compressed message in one frame (Safari cannot read
	// fragmented compressed messages).
	wholeCompressed bool

	pool     *flatePool // compressors, shared by the listener's connections
	deflated bytes.Buffer
	head     [headerBytesMax]byte
}

// syncMarker ends every flushed deflate stream; RFC 7692 7.2.1 has the sender remove it.
var syncMarker = []byte{0x00, 0x00, 0xff, 0xff}

// frames frames payload as one binary message and hands each piece, header then payload,
// to emit in order. It masks payload in place (the caller owns it and is done with it).
// Uncompressed, each frame is a whole message of at most frameMax bytes, as nats-server
// writes them; compressed, the message is split into continuation frames of at most
// frameMax bytes, only the first marked compressed (RFC 7692 6.1).
func (f *framer) frames(payload []byte, emit func([]byte)) {
	if len(payload) == 0 {
		return
	}
	if f.deflate && len(payload) > compressMin {
		f.compressed(payload, emit)
		return
	}
	for len(payload) > 0 {
		n := min(len(payload), f.frameMax)
		f.frame(header{fin: true, op: OpBinary}, payload[:n], emit)
		payload = payload[n:]
	}
}

func (f *framer) compressed(payload []byte, emit func([]byte)) {
	f.deflated.Reset()
	if f.deflated.Cap() > deflatedKeepMax {
		f.deflated = bytes.Buffer{}
	}
	if f.pool == nil {
		f.pool = &flatePool{}
	}
	w := f.pool.compressor(&f.deflated)
	// Writes to a bytes.Buffer cannot fail, so neither can these.
	_, _ = w.Write(payload)
	_ = w.Flush()
	f.pool.putCompressor(w)
	out := f.deflated.Bytes()
	env.Assertf(bytes.HasSuffix(out, syncMarker), "websocket: a flushed deflate stream ends with the sync marker")
	out = out[:len(out)-len(syncMarker)]
	limit := f.frameMax
	if f.wholeCompressed {
		limit = len(out)
	}
	first := true
	for {
		n := min(len(out), limit)
		op := OpContinuation
		if first {
			op = OpBinary
		}
		f.frame(header{fin: n == len(out), rsv1: first, op: op}, out[:n], emit)
		out, first = out[n:], false
		if len(out) == 0 {
			return
		}
	}
}

// control frames a control message.
func (f *framer) control(op Opcode, payload []byte, emit func([]byte)) {
	env.Assertf(op.control() && len(payload) <= ControlPayloadMax, "websocket: control frame %d of %d bytes", op, len(payload))
	f.frame(header{fin: true, op: op}, append([]byte(nil), payload...), emit)
}

// frame emits one frame's header and payload, masking the payload in place for a client.
func (f *framer) frame(h header, payload []byte, emit func([]byte)) {
	h.length = uint64(len(payload))
	if f.mask {
		h.masked = true
		key := f.rand.Uint64()
		h.key = [4]byte{byte(key), byte(key >> 8), byte(key >> 16), byte(key >> 24)}
		maskBytes(h.key, 0, payload)
	}
	emit(appendHeader(f.head[:0], h))
	if len(payload) > 0 {
		emit(payload)
	}
}
