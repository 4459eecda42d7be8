// Package websocket carries the NATS client protocol over WebSocket (RFC 6455, with
// permessage-deflate from RFC 7692) as nats-server offers it, as an adapter: a Conn wraps
// an env.Conn and is itself an env.Conn, so the engine's client code, and the simulator's
// network under it, are the same for TCP and WebSocket clients.
//
// A Conn first runs the HTTP/1.1 upgrade (Handshake), on the executor that will later
// receive its events:
//   - server side (NewServer, under a Policy built once per listener): read the request
//     incrementally (at most HandshakeBytesMax), check it in nats-server's order (method
//     GET, Host, Upgrade: websocket, Connection: Upgrade, a 16-byte base64
//     Sec-WebSocket-Key, Sec-WebSocket-Version 13, Origin under same_origin and
//     allowed_origins), then answer "101 Switching Protocols" with Sec-WebSocket-Accept,
//     or the HTTP status and text nats-server answers with, and close;
//   - client side (NewClient, for tests and the simulator): send the request with a key
//     drawn from the Env's Rand and check the 101 as nats.go does.
//
// Then frames flow. What the engine writes is queued unframed; Flush (or Write) cuts what
// is queued into binary frames of at most FramePayloadMax bytes (BrowserFramePayloadMax
// for browsers), or one compressed message when compression was negotiated and more than
// 64 bytes wait. Frames that arrive are checked, unmasked and (when compressed) inflated,
// and their message bytes reach the engine's ConnHandler as a plain stream. Pings are
// answered; a close frame is answered and ends the connection (OnClose(nil)); a violation
// is answered with a close frame carrying nats-server's status and text, and ends the
// connection with a *ProtocolError.
//
// Frame layout (RFC 6455 5.2), all integers big-endian:
//
//	byte 0     | FIN (0x80) | RSV1 (0x40, "compressed") | RSV2, RSV3 (must be 0) | opcode (4 bits) |
//	byte 1     | MASK (0x80) | length7: 0-125, or 126 (16-bit length follows), 127 (64-bit)  |
//	+2 or +8   | extended length, when length7 is 126 or 127 (the 64-bit form's top bit 0)    |
//	+4         | masking key, when MASK is set (every client frame; never a server's)          |
//	payload    | length bytes, XORed with key[i%4] when masked                                 |
//
// Opcodes: 0 continuation, 1 text, 2 binary, 8 close (payload: 2-byte status, then UTF-8
// reason), 9 ping, 10 pong. Control frames (8-15) are never fragmented and carry at most
// 125 bytes. A compressed message sets RSV1 on its first frame only; its payload is raw
// deflate whose trailing 0x00 0x00 0xff 0xff was removed.
//
// Invariants: phases only move forward (handshake, open, closing, closed); no data frame
// is written after a close frame; no event reaches the engine after it closed the Conn;
// every buffer is bounded (limits.go).
package websocket
