package websocket

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// frameBytes builds one frame as a peer would send it: masked with key when masked.
func frameBytes(b0 byte, masked bool, key [4]byte, payload []byte) []byte {
	h := header{fin: b0&finBit != 0, rsv1: b0&rsv1Bit != 0, op: Opcode(b0 & 0x0F), masked: masked, key: key, length: uint64(len(payload))}
	out := appendHeader(nil, h)
	out[0] = b0 // keep reserved bits exactly as given
	p := append([]byte(nil), payload...)
	if masked {
		maskBytes(key, 0, p)
	}
	return append(out, p...)
}

var testKey = [4]byte{0x12, 0x34, 0x56, 0x78}

func masked(b0 byte, payload string) []byte { return frameBytes(b0, true, testKey, []byte(payload)) }

func hexBytes(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// deframeAll runs a server-side deframer over stream and records what it saw.
type deframeResult struct {
	data     string
	controls []string // "ping:payload", "close:payload-hex"
	err      error
}

func deframeAll(stream []byte, wantMask, deflate bool) deframeResult {
	var res deframeResult
	d := deframer{wantMask: wantMask, deflate: deflate, messageMax: 8 << 10}
	d.onControl = func(op Opcode, payload []byte) error {
		switch op {
		case OpPing:
			res.controls = append(res.controls, "ping:"+string(payload))
		case OpPong:
			res.controls = append(res.controls, "pong:"+string(payload))
		case OpClose:
			res.controls = append(res.controls, "close:"+hex.EncodeToString(payload))
			d.stop()
		}
		return nil
	}
	out, err := d.feed(stream, nil)
	res.data, res.err = string(out), err
	return res
}

func TestDeframerAcceptsValidStreams(t *testing.T) {
	long := strings.Repeat("x", 300)
	huge := strings.Repeat("y", 70000)
	cases := []struct {
		name     string
		stream   []byte
		data     string
		controls string
	}{
		{"one binary frame", masked(0x82, "PING\r\n"), "PING\r\n", ""},
		{"text frames are taken like binary", masked(0x81, "PUB a 0\r\n\r\n"), "PUB a 0\r\n\r\n", ""},
		{"empty frame", masked(0x82, ""), "", ""},
		{"16-bit length", masked(0x82, long), long, ""},
		{"fragmented message", cat(masked(0x02, "PI"), masked(0x00, "N"), masked(0x80, "G\r\n")), "PING\r\n", ""},
		{"ping between fragments", cat(masked(0x02, "PI"), masked(0x89, "hb"), masked(0x80, "NG")), "PING", "ping:hb"},
		{"empty continuation ends the message", cat(masked(0x02, "ab"), masked(0x80, "")), "ab", ""},
		{"pong is ignored", cat(masked(0x8A, "x"), masked(0x82, "y")), "y", "pong:x"},
		{"close stops reading", cat(masked(0x82, "a"), masked(0x88, "\x03\xe8bye"), masked(0x82, "b")), "a", "close:03e8627965"},
		{"empty close", masked(0x88, ""), "", "close:"},
		{"control payload of exactly 125", masked(0x89, strings.Repeat("p", 125)), "", "ping:" + strings.Repeat("p", 125)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := deframeAll(c.stream, true, false)
			if res.err != nil || res.data != c.data || strings.Join(res.controls, ",") != c.controls {
				t.Fatalf("got data %q controls %v err %v; want %q, %q", res.data, res.controls, res.err, c.data, c.controls)
			}
		})
	}
	// 64-bit length: the messageMax of deframeAll is too small, so use a bigger one.
	d := deframer{wantMask: true, messageMax: 1 << 20, onControl: func(Opcode, []byte) error { return nil }}
	h := appendHeader(nil, header{fin: true, op: OpBinary, masked: true, key: testKey, length: 70000})
	h[1] = maskBit | 127 // force the 64-bit form even though 16 bits would do
	h = append(h[:2], append(make([]byte, 8), testKey[:]...)...)
	h[2+5], h[2+6], h[2+7] = 0x01, 0x11, 0x70 // 70000
	p := []byte(huge)
	maskBytes(testKey, 0, p)
	out, err := d.feed(append(h, p...), nil)
	if err != nil || string(out) != huge {
		t.Fatalf("64-bit length: %d bytes, err %v", len(out), err)
	}
}

// Every violation is refused with nats-server's close status and text.
func TestDeframerRefusesViolations(t *testing.T) {
	cases := []struct {
		name     string
		stream   []byte
		wantMask bool
		code     uint16
		text     string
		data     string // delivered before the violation
	}{
		{"unmasked client frame", frameBytes(0x82, false, testKey, []byte("x")), true, 1002, "mask bit missing", ""},
		{"masked server frame", masked(0x82, "x"), false, 1002, "masked frame from a server", ""},
		{"RSV2 set", masked(0xA2, "x"), true, 1002, "RSV2 and RSV3 must be clear", ""},
		{"RSV3 set", masked(0x92, "x"), true, 1002, "RSV2 and RSV3 must be clear", ""},
		{"RSV1 without deflate", masked(0xC2, "x"), true, 1002, "compressed frame received without negotiated permessage-deflate", ""},
		{"reserved data opcode", masked(0x83, "x"), true, 1002, "unknown opcode 3", ""},
		{"reserved control opcode", masked(0x8B, "x"), true, 1002, "unknown opcode 11", ""},
		{"continuation first", masked(0x80, "x"), true, 1002, "invalid continuation frame", ""},
		{"new message inside a fragmented one", cat(masked(0x02, "a"), masked(0x82, "b")), true, 1002,
			"new message started before final frame for previous message was received", "a"},
		{"fragmented ping", masked(0x09, "x"), true, 1002, "control frame does not have final bit set", ""},
		{"control frame over 125 bytes", cat(hexBytes("89 fe 00 7e"), testKey[:]), true, 1002,
			"control frame length bigger than maximum allowed of 125 bytes", ""},
		{"64-bit length with the top bit", cat(hexBytes("82 ff 80 00 00 00 00 00 00 01"), testKey[:]), true, 1002,
			"invalid 64-bit payload length", ""},
		{"frame over the message bound", cat(hexBytes("82 fe 20 01"), testKey[:]), true, 1009, "message too big", ""},
		{"data then violation", cat(masked(0x82, "ok"), masked(0x83, "x")), true, 1002, "unknown opcode 3", "ok"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := deframeAll(c.stream, c.wantMask, false)
			var pe *ProtocolError
			if !errors.As(res.err, &pe) || !errors.Is(res.err, ErrProtocol) {
				t.Fatalf("err %v, want a protocol error", res.err)
			}
			if pe.Code != c.code || pe.Text != c.text || res.data != c.data {
				t.Fatalf("got %d %q data %q; want %d %q data %q", pe.Code, pe.Text, res.data, c.code, c.text, c.data)
			}
		})
	}
}

// A compressed message on deflate-less connections is refused; with deflate, control
// frames must still not be compressed.
func TestDeframerCompressedControlFrame(t *testing.T) {
	res := deframeAll(masked(0xC9, ""), true, true)
	var pe *ProtocolError
	if !errors.As(res.err, &pe) || pe.Text != "control frame must not be compressed" {
		t.Fatalf("err %v", res.err)
	}
	res = deframeAll(cat(masked(0x82, "a"), masked(0x40, "b")), true, true)
	if !errors.As(res.err, &pe) || pe.Text != "invalid continuation frame" {
		t.Fatalf("RSV1 on a continuation frame: err %v", res.err)
	}
}

func TestParseClose(t *testing.T) {
	cases := []struct {
		name    string
		payload []byte
		code    uint16
		reason  string
		errText string
	}{
		{"empty", nil, CloseNoStatus, "", ""},
		{"status only", hexBytes("03e8"), 1000, "", ""},
		{"status and reason", append(hexBytes("03e9"), "bye"...), 1001, "bye", ""},
		{"one byte", hexBytes("03"), 0, "", "close frame payload cannot be 1 byte"},
		{"reserved 1005", hexBytes("03ed"), 0, "", "invalid close status code 1005"},
		{"reserved 1006", hexBytes("03ee"), 0, "", "invalid close status code 1006"},
		{"reserved 1015", hexBytes("03f7"), 0, "", "invalid close status code 1015"},
		{"below 1000", hexBytes("03e7"), 0, "", "invalid close status code 999"},
		{"unassigned 2000", hexBytes("07d0"), 0, "", "invalid close status code 2000"},
		{"application 4000", hexBytes("0fa0"), 4000, "", ""},
		{"bad utf-8 reason", append(hexBytes("03e8"), 0xff), CloseInvalidPayload, "invalid utf8 body in close frame", ""},
	}
	for _, c := range cases {
		code, reason, err := parseClose(c.payload)
		if c.errText != "" {
			if err == nil || !strings.Contains(err.Error(), c.errText) {
				t.Errorf("%s: err %v, want %q", c.name, err, c.errText)
			}
			continue
		}
		if err != nil || code != c.code || reason != c.reason {
			t.Errorf("%s: %d %q %v, want %d %q", c.name, code, reason, err, c.code, c.reason)
		}
	}
}

func TestClosePayloadTruncates(t *testing.T) {
	p := closePayload(1002, strings.Repeat("é", 100)) // 200 bytes of two-byte runes
	if len(p) > ControlPayloadMax || !strings.HasSuffix(string(p), "...") {
		t.Fatalf("payload %d bytes: %q", len(p), p)
	}
	if _, _, err := parseClose(p); err != nil {
		t.Fatalf("truncated reason does not parse back: %v", err)
	}
	if code, reason, _ := parseClose(p); code != 1002 || strings.ContainsRune(reason, '\uFFFD') {
		t.Fatalf("code %d reason %q", code, reason)
	}
	if closePayload(CloseNoStatus, "x") != nil {
		t.Fatal("1005 must never be written")
	}
}

func TestMaskBytesMatchesNaive(t *testing.T) {
	for n := range 40 {
		for pos := range 4 {
			p := make([]byte, n)
			for i := range p {
				p[i] = byte(i * 7)
			}
			want := append([]byte(nil), p...)
			for i := range want {
				want[i] ^= testKey[(pos+i)%4]
			}
			if end := maskBytes(testKey, pos, p); end != (pos+n)%4 || !bytes.Equal(p, want) {
				t.Fatalf("n=%d pos=%d: got %x end %d", n, pos, p, end)
			}
		}
	}
}
