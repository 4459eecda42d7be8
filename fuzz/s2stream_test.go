package fuzz

import (
	"bytes"
	"errors"
	"testing"

	"github.com/petrel-io/petrel/core/s2stream"
)

// FuzzS2Stream: whatever bytes a compressed route delivers, in reads of any size, the
// decoder never panics and either fails with ErrCorrupt or yields data; and the input taken
// as data, encoded at any level, decodes back to itself in pieces.
func FuzzS2Stream(f *testing.F) {
	f.Add(s2stream.NewEncoder(s2stream.Fast).Append(nil, []byte("RMSG $G foo 2\r\nhi\r\n")), uint8(3))
	f.Add(s2stream.NewEncoder(s2stream.Uncompressed).Append(nil, []byte("PING\r\n")), uint8(0x21))
	f.Add([]byte("\xff\x06\x00\x00S2sTwO\x00\x05\x00\x00\x00\x00\x00\x00\x00"), uint8(0x11))
	f.Fuzz(func(t *testing.T, input []byte, cut uint8) {
		step := int(cut)%32 + 1
		var d s2stream.Decoder
		for rest := input; len(rest) > 0; {
			n := min(step, len(rest))
			if _, err := d.Feed(rest[:n]); err != nil {
				if !errors.Is(err, s2stream.ErrCorrupt) {
					t.Fatalf("decode error %v is not ErrCorrupt", err)
				}
				break
			}
			rest = rest[n:]
		}
		stream := s2stream.NewEncoder(s2stream.Level(cut>>5%4)).Append(nil, input)
		var back []byte
		var e s2stream.Decoder
		for len(stream) > 0 {
			n := min(step, len(stream))
			out, err := e.Feed(stream[:n])
			if err != nil {
				t.Fatalf("decoding our own stream: %v", err)
			}
			back = append(back, out...)
			stream = stream[n:]
		}
		if !bytes.Equal(back, input) {
			t.Fatalf("round trip gave %d bytes for %d", len(back), len(input))
		}
	})
}
