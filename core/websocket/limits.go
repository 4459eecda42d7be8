package websocket

import "time"

// Bounds, each with why. Every buffer the package keeps is bounded by one of these.
const (
	// ControlPayloadMax is RFC 6455's bound on a control frame's payload (5.5): ping, pong
	// and close payloads never exceed it, so their frames need no extended length.
	ControlPayloadMax = 125

	// headerBytesMax is the longest frame header: 2 bytes, an 8-byte length and a 4-byte
	// masking key.
	headerBytesMax = 14

	// FramePayloadMax bounds the payload of each frame this package writes. 65535 fits the
	// 16-bit length form, which nats.go reads without its frame-size check (it refuses
	// 64-bit lengths above 8 x max_payload), and keeps any one frame a small allocation
	// for the peer; a larger write becomes several frames.
	FramePayloadMax = 1<<16 - 1

	// BrowserFramePayloadMax is the frame size for browser clients (a User-Agent starting
	// "Mozilla/"): nats-server found browsers handle frames of at most 4 KiB better.
	BrowserFramePayloadMax = 4096

	// compressMin: payloads this small or smaller go uncompressed, as nats-server does;
	// deflate's block overhead would make them larger.
	compressMin = 64

	// MessageBytesMaxDefault bounds one inbound message (before and after inflating) when
	// Config leaves it zero: nats-server's bound for a max_payload of 1 MiB (8 x
	// max_payload, at most 64 MiB). Compressed messages are held whole until their last
	// frame, so without a bound a client could make the server buffer without end; an
	// inflated message could otherwise be a decompression bomb.
	MessageBytesMaxDefault = 8 << 20

	// MessageBytesCap is the largest bound MessageBytesFor returns, nats-server's 64 MiB.
	MessageBytesCap = 64 << 20

	// messageBytesPerPayload: a message may batch several max_payload operations.
	messageBytesPerPayload = 8

	// HandshakeBytesMax bounds the HTTP request (line and headers). Go's HTTP server, which
	// nats-server uses, allows 1 MiB; real upgrade requests are well under 8 KiB even with
	// a JWT cookie, and the handshake buffer is held per pending connection.
	HandshakeBytesMax = 64 << 10

	// responseBytesMax bounds the server's 101 response the client side reads.
	responseBytesMax = 16 << 10

	// inflateChunk is how much inflated output is produced per read of the decompressor.
	inflateChunk = 32 << 10

	// flateIdleMax bounds the idle compressors and inflaters a listener keeps for reuse
	// (flatePool): enough for every core flushing at once on a typical host.
	flateIdleMax = 8

	// deflatedKeepMax: a compression buffer that grew past this is given back after use.
	deflatedKeepMax = 64 << 10
)

// HandshakeTimeoutDefault bounds a handshake (TLS included) when the configuration does
// not: nats-server sets no bound by default, which lets an idle socket hold a connection
// slot forever; nats.go itself gives the handshake its connect timeout, 2 s.
const HandshakeTimeoutDefault = 2 * time.Second

// MessageBytesFor is the inbound message bound for a server whose max_payload is
// maxPayload: 8 x max_payload, capped at 64 MiB, as nats-server computes it.
func MessageBytesFor(maxPayload int) int {
	if maxPayload <= 0 {
		return MessageBytesMaxDefault
	}
	return min(maxPayload*messageBytesPerPayload, MessageBytesCap)
}
