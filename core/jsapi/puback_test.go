package jsapi

import (
	"encoding/json"
	"testing"

	"pgregory.net/rapid"
)

// AppendPubAck writes exactly what json.Marshal writes, for any PubAck response.
func TestAppendPubAckIsJSONMarshal(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		str := rapid.OneOf(rapid.Just(""), rapid.StringMatching(`[a-zA-Z0-9_-]{1,8}`), rapid.String())
		r := &PubAckResponse{PubAck: &PubAck{
			Stream: str.Draw(t, "stream"), Sequence: rapid.Uint64().Draw(t, "seq"), Domain: str.Draw(t, "domain"),
			Duplicate: rapid.Bool().Draw(t, "dup"), Value: str.Draw(t, "val"), BatchID: str.Draw(t, "batch"),
			BatchSize: rapid.Uint64Range(0, 3).Draw(t, "count")}}
		if rapid.IntRange(0, 9).Draw(t, "error") == 0 {
			r.Error = NewError(ErrStreamStoreFailed, str.Draw(t, "why"))
		}
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendPubAck(nil, r); string(got) != string(want) {
			t.Fatalf("AppendPubAck %s, json.Marshal %s", got, want)
		}
	})
}

func BenchmarkAppendPubAck(b *testing.B) {
	r := &PubAckResponse{PubAck: &PubAck{Stream: "bench", Sequence: 123456}}
	var buf []byte
	for b.Loop() {
		buf = AppendPubAck(buf[:0], r)
	}
}
