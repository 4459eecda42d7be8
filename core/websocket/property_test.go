package websocket

import (
	"bytes"
	"testing"

	"github.com/petrel-io/petrel/core/env"
	"pgregory.net/rapid"
)

// writeStream frames msgs as a client (masked) or server would, with the given frame size
// and compression, interleaving a ping after the messages whose index is in pings.
func writeStream(msgs [][]byte, client, deflate bool, frameMax int, pings map[int]bool) []byte {
	f := framer{mask: client, rand: env.NewPRNG(7), deflate: deflate, frameMax: frameMax}
	var stream []byte
	emit := func(p []byte) { stream = append(stream, p...) }
	for i, m := range msgs {
		f.frames(append([]byte(nil), m...), emit)
		if pings[i] {
			f.control(OpPing, []byte("hb"), emit)
		}
	}
	return stream
}

// deframeSplit reads stream cut at the given points.
func deframeSplit(t interface{ Fatalf(string, ...any) }, stream []byte, cuts []int, fromClient, deflate bool) ([]byte, int) {
	pings := 0
	d := deframer{wantMask: fromClient, deflate: deflate, messageMax: 1 << 20, onControl: func(op Opcode, p []byte) error {
		if op == OpPing && string(p) == "hb" {
			pings++
		}
		return nil
	}}
	var out []byte
	prev := 0
	for _, c := range append(cuts, len(stream)) {
		var err error
		out, err = d.feed(stream[prev:c], out)
		if err != nil {
			t.Fatalf("feed: %v", err)
		}
		prev = c
	}
	return out, pings
}

func cutsOf(t *rapid.T, n int) []int {
	cuts := rapid.SliceOfN(rapid.IntRange(0, n), 0, 12).Draw(t, "cuts")
	sortInts(cuts)
	return cuts
}

func sortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// Any split of a framed stream deframes to the same bytes: the messages in order, each
// ping seen once, whatever the frame size, the direction and compression.
func TestPropertyAnySplitDeframesTheSame(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		msgs := rapid.SliceOfN(rapid.SliceOfN(rapid.Byte(), 0, 3000), 1, 6).Draw(t, "msgs")
		client := rapid.Bool().Draw(t, "client")
		deflate := rapid.Bool().Draw(t, "deflate")
		frameMax := rapid.IntRange(1, 2048).Draw(t, "frameMax")
		pings := map[int]bool{}
		for i := range msgs {
			pings[i] = rapid.Bool().Draw(t, "ping")
		}
		stream := writeStream(msgs, client, deflate, frameMax, pings)
		got, npings := deframeSplit(t, stream, cutsOf(t, len(stream)), client, deflate)
		if want := bytes.Join(msgs, nil); !bytes.Equal(got, want) {
			t.Fatalf("deframed %d bytes, want %d", len(got), len(want))
		}
		want := 0
		for _, p := range pings {
			if p {
				want++
			}
		}
		if npings != want {
			t.Fatalf("%d pings, want %d", npings, want)
		}
	})
}

// Compression round trip: compressible and random payloads survive deflate and inflate,
// and a compressible one actually shrinks on the wire.
func TestPropertyCompressionRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var msg []byte
		if rapid.Bool().Draw(t, "repetitive") {
			unit := rapid.SliceOfN(rapid.Byte(), 1, 8).Draw(t, "unit")
			msg = bytes.Repeat(unit, rapid.IntRange(65, 4000).Draw(t, "times"))
		} else {
			msg = rapid.SliceOfN(rapid.Byte(), 65, 5000).Draw(t, "random")
		}
		stream := writeStream([][]byte{msg}, true, true, FramePayloadMax, nil)
		if stream[0]&rsv1Bit == 0 {
			t.Fatalf("a %d-byte payload went uncompressed", len(msg))
		}
		got, _ := deframeSplit(t, stream, cutsOf(t, len(stream)), true, true)
		if !bytes.Equal(got, msg) {
			t.Fatalf("round trip changed %d bytes into %d", len(msg), len(got))
		}
	})
	small := writeStream([][]byte{bytes.Repeat([]byte("a"), compressMin)}, false, true, FramePayloadMax, nil)
	if small[0]&rsv1Bit != 0 {
		t.Fatal("a payload of compressMin bytes was compressed")
	}
	big := writeStream([][]byte{bytes.Repeat([]byte("MSG a 1 5\r\nhello\r\n"), 1000)}, false, true, FramePayloadMax, nil)
	if len(big) > 1000 {
		t.Fatalf("18000 repetitive bytes compressed to %d", len(big))
	}
}

// An inflated message larger than the bound is refused (a decompression bomb).
func TestInflateBound(t *testing.T) {
	stream := writeStream([][]byte{make([]byte, 1<<20)}, true, true, FramePayloadMax, nil)
	d := deframer{wantMask: true, deflate: true, messageMax: 64 << 10, onControl: func(Opcode, []byte) error { return nil }}
	out, err := d.feed(stream, nil)
	pe, ok := err.(*ProtocolError)
	if !ok || pe.Code != CloseMessageTooBig || len(out) != 0 {
		t.Fatalf("1 MiB of zeros under a 64 KiB bound: %d bytes out, err %v", len(out), err)
	}
}
