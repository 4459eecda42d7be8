package stream

import (
	"errors"
	"reflect"
	"testing"

	"pgregory.net/rapid"
)

func TestEntryRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := Msg{Subject: rapid.StringMatching(`[a-z.]{1,20}`).Draw(t, "subject"), Time: rapid.Int64().Draw(t, "time")}
		if h := rapid.SliceOf(rapid.Byte()).Draw(t, "header"); len(h) > 0 {
			m.Header = h
		}
		if d := rapid.SliceOf(rapid.Byte()).Draw(t, "data"); len(d) > 0 {
			m.Data = d
		}
		got, err := DecodeMsg(EncodeMsg(nil, m))
		if err != nil || !reflect.DeepEqual(got, m) {
			t.Fatalf("round trip: %+v %v, want %+v", got, err, m)
		}
	})
}

func TestEntryRefusesDamage(t *testing.T) {
	enc := EncodeMsg(nil, Msg{Subject: "s.a", Header: []byte("NATS/1.0\r\n\r\n"), Data: []byte("payload"), Time: 42})
	for i := range enc {
		for bit := range 8 {
			b := append([]byte(nil), enc...)
			b[i] ^= 1 << bit
			if _, err := DecodeMsg(b); !errors.Is(err, ErrBadEntry) {
				t.Fatalf("flip of bit %d of byte %d accepted", bit, i)
			}
		}
	}
	for n := range len(enc) {
		if _, err := DecodeMsg(enc[:n]); !errors.Is(err, ErrBadEntry) {
			t.Fatalf("truncation to %d bytes accepted", n)
		}
	}
}
