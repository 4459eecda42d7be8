package consumer

import (
	"errors"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/jsapi"
	"pgregory.net/rapid"
)

// drawState builds a reachable state by driving a consumer with random operations, with
// times spread over the whole int64 range so the codec's time deltas wrap.
func drawState(t *rapid.T) State {
	cfg := drawConfig(t, rapid.SampledFrom([]jsapi.AckPolicy{jsapi.AckNone, jsapi.AckAll, jsapi.AckExplicit}).Draw(t, "policy"))
	c := New(cfg, State{})
	if rapid.Bool().Draw(t, "start") {
		c.SetStart(rapid.Uint64Range(1, 1<<62).Draw(t, "first"))
	}
	for i := rapid.IntRange(0, 60).Draw(t, "ops"); i > 0; i-- {
		now := rapid.Int64().Draw(t, "now")
		d := c.Delivered().Stream
		s := rapid.Uint64Range(d-min(d, 5), d+1000).Draw(t, "sseq")
		switch rapid.IntRange(0, 5).Draw(t, "op") {
		case 0, 1:
			if s > 0 {
				c.Deliver(s, now)
			}
		case 2:
			c.Ack(s, 0)
		case 3:
			c.Nak(s, now, time.Duration(rapid.Int64Range(0, 1<<40).Draw(t, "delay")))
		case 4:
			if sq, ok := c.Due(now); ok && !c.GiveUp(sq) {
				c.Deliver(sq, now)
			}
		case 5:
			c.Skip(s)
		}
	}
	return c.State()
}

func TestCodecRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		st := drawState(t)
		b := st.Encode()
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("decode: %v\nstate %+v", err, st)
		}
		if !got.Equal(st) {
			t.Fatalf("round trip\n got  %+v\n want %+v", got, st)
		}
		if string(got.Encode()) != string(b) {
			t.Fatal("re-encoding differs: the encoding is not a function of the state")
		}
	})
}

// TestCodecRejectsDamage: every single-bit flip and every truncation of an encoded state is
// an error wrapping ErrDamaged, never a different state.
func TestCodecRejectsDamage(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := drawState(t).Encode()
		for i := range b {
			for bit := 0; bit < 8; bit++ {
				d := append([]byte(nil), b...)
				d[i] ^= 1 << bit
				if _, err := Decode(d); !errors.Is(err, ErrDamaged) {
					t.Fatalf("flip of byte %d bit %d accepted (err %v)", i, bit, err)
				}
			}
		}
		for n := 0; n < len(b); n++ {
			if _, err := Decode(b[:n]); !errors.Is(err, ErrDamaged) {
				t.Fatalf("truncation to %d of %d bytes accepted (err %v)", n, len(b), err)
			}
		}
		if _, err := Decode(append(append([]byte(nil), b...), 0)); !errors.Is(err, ErrDamaged) {
			t.Fatalf("a trailing byte accepted (err %v)", err)
		}
	})
}

// TestCodecRejectsInvalid: a well-formed, correctly checksummed encoding of a state that
// breaks an invariant is damage too (a restart must never run from it).
func TestCodecRejectsInvalid(t *testing.T) {
	cases := []struct {
		name string
		st   State
	}{
		{"floor above delivered", State{AckFloor: SeqPair{1, 1}}},
		{"floor not derived from pending", State{Delivered: SeqPair{3, 3}, AckFloor: SeqPair{1, 1},
			Pending: map[uint64]Pending{3: {Consumer: 3}}}},
		{"nothing pending, floor below delivered", State{Delivered: SeqPair{3, 3}, AckFloor: SeqPair{2, 2}}},
		{"pending consumer seqs out of order", State{Delivered: SeqPair{3, 3}, AckFloor: SeqPair{1, 1},
			Pending: map[uint64]Pending{2: {Consumer: 3}, 3: {Consumer: 2}}}},
		{"pending consumer seq above delivered", State{Delivered: SeqPair{3, 3}, AckFloor: SeqPair{4, 2},
			Pending: map[uint64]Pending{3: {Consumer: 5}}}},
		{"redelivered above delivered", State{Delivered: SeqPair{3, 3}, AckFloor: SeqPair{3, 3},
			Redelivered: map[uint64]uint64{4: 1}}},
		{"redelivered count zero", State{Delivered: SeqPair{3, 3}, AckFloor: SeqPair{3, 3},
			Redelivered: map[uint64]uint64{2: 0}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Decode(tc.st.encodeUnchecked()); !errors.Is(err, ErrDamaged) {
				t.Fatalf("accepted: %v", err)
			}
		})
	}
}

// TestCodecGolden pins the layout of version 1: a change to it must come with a new version.
func TestCodecGolden(t *testing.T) {
	st := State{Delivered: SeqPair{5, 9}, AckFloor: SeqPair{1, 2},
		Pending:     map[uint64]Pending{3: {Consumer: 2, Time: 100}, 9: {Consumer: 5, Time: 90}},
		Redelivered: map[uint64]uint64{3: 2, 7: 3}}
	const want = "5043011105090102020101c8010603130203020403c2a154fa"
	if got := hexString(st.Encode()); got != want {
		t.Fatalf("encoding\n got  %s\n want %s", got, want)
	}
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}
