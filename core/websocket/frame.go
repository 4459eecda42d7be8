package websocket

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Opcode is a frame's type (RFC 6455 5.2).
type Opcode byte

// The opcodes RFC 6455 defines; the others are reserved and refused.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// control reports whether op is a control frame's (close, ping, pong, and the reserved
// 0xB-0xF): those may not be fragmented and carry at most ControlPayloadMax bytes.
func (op Opcode) control() bool { return op&0x8 != 0 }

// Bits of a frame header's first two bytes.
const (
	finBit  = 0x80
	rsv1Bit = 0x40 // "compressed" under permessage-deflate (RFC 7692 6)
	rsv2Bit = 0x20
	rsv3Bit = 0x10
	maskBit = 0x80
)

// Close status codes (RFC 6455 7.4.1) that this package sends or checks.
const (
	CloseNormal          uint16 = 1000
	CloseGoingAway       uint16 = 1001
	CloseProtocolError   uint16 = 1002
	CloseNoStatus        uint16 = 1005 // "no code was sent": never written in a frame
	CloseInvalidPayload  uint16 = 1007
	ClosePolicyViolation uint16 = 1008
	CloseMessageTooBig   uint16 = 1009
	CloseInternalError   uint16 = 1011
	CloseTLSHandshake    uint16 = 1015
)

// ErrProtocol classifies every violation of RFC 6455 by the peer (errors.Is); the error is
// a *ProtocolError carrying the close status and text sent back.
var ErrProtocol = errors.New("websocket: protocol error")

// ProtocolError is a peer's violation: the connection closes with Code and Text in the
// close frame (nats-server's texts, so clients and logs read the same).
type ProtocolError struct {
	Code uint16
	Text string
}

func (e *ProtocolError) Error() string { return "websocket: " + e.Text }

// Is makes errors.Is(err, ErrProtocol) hold.
func (e *ProtocolError) Is(target error) bool { return target == ErrProtocol }

func protocolError(format string, args ...any) *ProtocolError {
	return &ProtocolError{Code: CloseProtocolError, Text: fmt.Sprintf(format, args...)}
}

// header is one frame's header. Invariant: control frames have fin set and length <=
// ControlPayloadMax.
type header struct {
	fin, rsv1 bool
	op        Opcode
	masked    bool
	key       [4]byte
	length    uint64
}

// appendHeader encodes h in the shortest length form.
func appendHeader(dst []byte, h header) []byte {
	b0 := byte(h.op)
	if h.fin {
		b0 |= finBit
	}
	if h.rsv1 {
		b0 |= rsv1Bit
	}
	var b1 byte
	if h.masked {
		b1 = maskBit
	}
	switch {
	case h.length <= 125:
		dst = append(dst, b0, b1|byte(h.length))
	case h.length <= 0xFFFF:
		dst = append(dst, b0, b1|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(h.length))
	default:
		dst = append(dst, b0, b1|127)
		dst = binary.BigEndian.AppendUint64(dst, h.length)
	}
	if h.masked {
		dst = append(dst, h.key[:]...)
	}
	return dst
}

// maskBytes XORs p with the masking key, starting at byte pos of the key's cycle, and
// returns the position after p. Masking and unmasking are the same operation.
func maskBytes(key [4]byte, pos int, p []byte) int {
	pos &= 3
	// Word at a time: the key rotated to pos, repeated to 8 bytes.
	var k8 [8]byte
	for i := range k8 {
		k8[i] = key[(pos+i)&3]
	}
	word := binary.LittleEndian.Uint64(k8[:])
	i := 0
	for ; i+8 <= len(p); i += 8 {
		binary.LittleEndian.PutUint64(p[i:], binary.LittleEndian.Uint64(p[i:])^word)
	}
	for ; i < len(p); i++ {
		p[i] ^= k8[i&7]
	}
	return (pos + len(p)) & 3
}

// closePayload is a close frame's payload: the status, then the reason, cut to fit
// ControlPayloadMax with "..." marking the cut (as nats-server does), on a UTF-8 boundary
// so the body stays valid. CloseNoStatus yields an empty payload: that code is never sent.
func closePayload(code uint16, reason string) []byte {
	if code == CloseNoStatus {
		return nil
	}
	if len(reason) > ControlPayloadMax-2 {
		cut := ControlPayloadMax - 2 - len("...")
		for cut > 0 && !utf8.RuneStart(reason[cut]) {
			cut--
		}
		reason = reason[:cut] + "..."
	}
	p := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(reason)), code)
	return append(p, reason...)
}

// parseClose reads a peer's close payload: its status (CloseNoStatus when empty) and
// reason. A one-byte payload or a status no endpoint may send is a protocol error; a
// reason that is not UTF-8 is answered with CloseInvalidPayload.
func parseClose(p []byte) (code uint16, reason string, err error) {
	switch len(p) {
	case 0:
		return CloseNoStatus, "", nil
	case 1:
		return 0, "", protocolError("close frame payload cannot be 1 byte")
	}
	code = binary.BigEndian.Uint16(p)
	if !validCloseCode(code) {
		return 0, "", protocolError("invalid close status code %d", code)
	}
	reason = string(p[2:])
	if !utf8.ValidString(reason) {
		return CloseInvalidPayload, "invalid utf8 body in close frame", nil
	}
	return code, reason, nil
}

// validCloseCode: the codes an endpoint may put in a close frame (RFC 6455 7.4): 1000-1003,
// 1007-1015 except 1015, 3000-4999; 1004-1006 and 1015 are reserved for reporting only.
func validCloseCode(code uint16) bool {
	switch {
	case code < 1000 || code >= 5000:
		return false
	case code == 1004 || code == CloseNoStatus || code == 1006 || code == CloseTLSHandshake:
		return false
	case code >= 1016 && code <= 2999:
		return false
	}
	return true
}
