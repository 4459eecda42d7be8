package s2stream

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/klauspost/compress/s2"
	"pgregory.net/rapid"
)

// feedInPieces decodes stream cut at the given sizes (cycled), as socket reads cut it.
func feedInPieces(t *rapid.T, d *Decoder, stream []byte, cuts []int) []byte {
	var got []byte
	for i := 0; len(stream) > 0; i++ {
		n := min(len(stream), cuts[i%len(cuts)])
		out, err := d.Feed(stream[:n])
		if err != nil {
			t.Fatalf("feed: %v", err)
		}
		got = append(got, out...)
		stream = stream[n:]
	}
	return got
}

// TestRoundTripInPieces: what an Encoder writes over several flushes, fed to a Decoder in
// pieces of any size, comes out whole, at every level.
func TestRoundTripInPieces(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		e := NewEncoder(Level(rapid.IntRange(0, 3).Draw(t, "level")))
		flushes := rapid.SliceOfN(rapid.SliceOfN(rapid.ByteRange('a', 'e'), 0, 3000), 1, 6).Draw(t, "flushes")
		var stream, want []byte
		for _, f := range flushes {
			stream = e.Append(stream, f)
			want = append(want, f...)
		}
		cuts := rapid.SliceOfN(rapid.IntRange(1, 700), 1, 8).Draw(t, "cuts")
		if got := feedInPieces(t, &Decoder{}, stream, cuts); !bytes.Equal(got, want) {
			t.Fatalf("decoded %d bytes, want %d", len(got), len(want))
		}
	})
}

// TestInteroperatesWithS2: the framing is s2's own, both ways (nats-server's routes use
// s2.Writer and s2.Reader), including a block larger than one chunk.
func TestInteroperatesWithS2(t *testing.T) {
	data := bytes.Repeat([]byte("RMSG $G orders.new 5\r\nhello\r\n"), 80000) // > 2 MB
	var theirs bytes.Buffer
	w := s2.NewWriter(&theirs, s2.WriterConcurrency(1))
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var d Decoder
	got, err := d.Feed(theirs.Bytes())
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("decoding s2.Writer's stream: %v, %d of %d bytes", err, len(got), len(data))
	}
	for _, level := range []Level{Uncompressed, Fast, Better, Best} {
		ours := NewEncoder(level).Append(nil, data)
		back, err := io.ReadAll(s2.NewReader(bytes.NewReader(ours)))
		if err != nil || !bytes.Equal(back, data) {
			t.Fatalf("level %d: s2.Reader on our stream: %v, %d of %d bytes", level, err, len(back), len(data))
		}
		if level != Uncompressed && len(ours) > len(data)/4 {
			t.Fatalf("level %d: %d bytes for %d repetitive ones", level, len(ours), len(data))
		}
	}
}

// TestCorruptionIsDetected: a flipped bit anywhere in a chunk, a missing stream identifier
// or an unskippable chunk type is an error, never wrong data; the error sticks.
func TestCorruptionIsDetected(t *testing.T) {
	stream := NewEncoder(Fast).Append(nil, bytes.Repeat([]byte("hello route "), 100))
	for i := 10; i < len(stream); i++ { // past the stream identifier
		bad := bytes.Clone(stream)
		bad[i] ^= 0x04
		var d Decoder
		out, err := d.Feed(bad)
		if err == nil && len(out) > 0 && !bytes.Equal(out, bytes.Repeat([]byte("hello route "), 100)) {
			t.Fatalf("flip at %d: wrong data served without an error", i)
		}
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("flip at %d: %v is not ErrCorrupt", i, err)
		}
	}
	var d Decoder
	if _, err := d.Feed(stream[10:]); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("no stream identifier: %v", err)
	}
	if _, err := d.Feed(stream); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("the error did not stick: %v", err)
	}
	var e Decoder
	if _, err := e.Feed(append(bytes.Clone(stream[:10]), 0x05, 1, 0, 0, 'x')); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("unskippable chunk: %v", err)
	}
}
