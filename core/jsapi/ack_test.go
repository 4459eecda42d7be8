package jsapi

import (
	"testing"
	"time"

	"pgregory.net/rapid"
)

func TestAckSubjectIsNatsServersV1Form(t *testing.T) {
	got := AckSubject("benchstream", "nats-bench", 1, 42, 7, 1700000000123456789, 993)
	want := "$JS.ACK.benchstream.nats-bench.1.42.7.1700000000123456789.993"
	if got != want {
		t.Fatalf("got %q want %q", got, want)
	}
}

func TestParseAck(t *testing.T) {
	cases := []struct {
		name string
		subj string
		want AckInfo
		ok   bool
	}{
		{"v1", "$JS.ACK.S.C.2.10.5.1700000000000000000.3",
			AckInfo{Stream: "S", Consumer: "C", Delivered: 2, StreamSeq: 10, ConsumerSeq: 5, Timestamp: 1700000000000000000, Pending: 3}, true},
		{"v2 without domain", "$JS.ACK._.HASH.S.C.1.10.5.99.0.tok",
			AckInfo{Domain: "_", AccountHash: "HASH", Stream: "S", Consumer: "C", Delivered: 1, StreamSeq: 10, ConsumerSeq: 5, Timestamp: 99}, true},
		{"v2 with extra tokens", "$JS.ACK.hub.HASH.S.C.1.10.5.99.0.a.b",
			AckInfo{Domain: "hub", AccountHash: "HASH", Stream: "S", Consumer: "C", Delivered: 1, StreamSeq: 10, ConsumerSeq: 5, Timestamp: 99}, true},
		{"v2 minimum (11 tokens)", "$JS.ACK.d.H.S.C.1.2.3.4.5",
			AckInfo{Domain: "d", AccountHash: "H", Stream: "S", Consumer: "C", Delivered: 1, StreamSeq: 2, ConsumerSeq: 3, Timestamp: 4, Pending: 5}, true},
		{"10 tokens is neither", "$JS.ACK.x.S.C.1.2.3.4.5", AckInfo{}, false},
		{"8 tokens", "$JS.ACK.S.C.1.2.3.4", AckInfo{}, false},
		{"not $JS", "$JZ.ACK.S.C.1.2.3.4.5", AckInfo{}, false},
		{"not ACK", "$JS.FC.S.C.1.2.3.4.5", AckInfo{}, false},
		{"sign is not a digit", "$JS.ACK.S.C.1.-2.3.4.5", AckInfo{}, false},
		{"empty number", "$JS.ACK.S.C.1..3.4.5", AckInfo{}, false},
		{"letters", "$JS.ACK.S.C.1.2.x.4.5", AckInfo{}, false},
		{"empty", "", AckInfo{}, false},
		{"largest number", "$JS.ACK.S.C.18446744073709551615.1.1.1.1",
			AckInfo{Stream: "S", Consumer: "C", Delivered: 18446744073709551615, StreamSeq: 1, ConsumerSeq: 1, Timestamp: 1, Pending: 1}, true},
		{"overflowing number", "$JS.ACK.S.C.18446744073709551616.1.1.1.1", AckInfo{}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := ParseAck(c.subj)
			if ok != c.ok || got != c.want {
				t.Fatalf("got %+v %v, want %+v %v", got, ok, c.want, c.ok)
			}
		})
	}
}

func TestAckSubjectRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		name := rapid.StringMatching(`[A-Za-z0-9_-]{1,16}`)
		want := AckInfo{
			Stream: name.Draw(t, "stream"), Consumer: name.Draw(t, "consumer"),
			Delivered: rapid.Uint64().Draw(t, "dc"), StreamSeq: rapid.Uint64().Draw(t, "sseq"),
			ConsumerSeq: rapid.Uint64().Draw(t, "dseq"), Timestamp: rapid.Int64Min(0).Draw(t, "ts"),
			Pending: rapid.Uint64().Draw(t, "pending"),
		}
		subj := AckSubject(want.Stream, want.Consumer, want.Delivered, want.StreamSeq, want.ConsumerSeq, want.Timestamp, want.Pending)
		got, ok := ParseAck(subj)
		if !ok || got != want {
			t.Fatalf("%q: got %+v %v", subj, got, ok)
		}
	})
}

func TestParseAckBody(t *testing.T) {
	cases := []struct {
		body  string
		kind  AckKind
		delay time.Duration
		rest  string
	}{
		{"", AckAck, 0, ""},
		{"+ACK", AckAck, 0, ""},
		{"+OK", AckAck, 0, ""},
		{"+ACK ", AckUnknown, 0, ""}, // whole bodies only
		{"+ack", AckUnknown, 0, ""},
		{"-NAK", AckNak, 0, ""},
		{"-NAK 5s", AckNak, 5 * time.Second, "5s"},
		{"-NAK  1m30s ", AckNak, 90 * time.Second, "1m30s"},
		{`-NAK {"delay":2000000000}`, AckNak, 2 * time.Second, `{"delay":2000000000}`},
		{`-NAK {"delay":"x"}`, AckNak, 0, `{"delay":"x"}`}, // bad JSON: a plain NAK
		{"-NAK soon", AckNak, 0, "soon"},                   // bad duration: a plain NAK
		{"-NAK -1s", AckNak, -time.Second, "-1s"},
		{"-NAKED", AckNak, 0, "ED"}, // a prefix, as in nats-server
		{"+WPI", AckProgress, 0, ""},
		{"+WPI ", AckUnknown, 0, ""},
		{"+NXT", AckNext, 0, ""},
		{`+NXT {"batch":5}`, AckNext, 0, ` {"batch":5}`},
		{"+NXT 10", AckNext, 0, " 10"},
		{"+TERM", AckTerm, 0, ""},
		{"+TERM bad payload ", AckTerm, 0, "bad payload"},
		{"hello", AckUnknown, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.body, func(t *testing.T) {
			kind, delay, rest := ParseAckBody([]byte(c.body))
			if kind != c.kind || delay != c.delay || string(rest) != c.rest {
				t.Fatalf("got %d %v %q, want %d %v %q", kind, delay, rest, c.kind, c.delay, c.rest)
			}
		})
	}
}

func TestParseNextRequest(t *testing.T) {
	cases := []struct {
		name string
		body string
		want NextRequest
		err  string
	}{
		{"empty is one message", "", NextRequest{Batch: 1}, ""},
		{"spaces are empty", "  \r\n", NextRequest{Batch: 1}, ""},
		{"bare integer", "10", NextRequest{Batch: 10}, ""},
		{"bare integer with spaces", " 7 ", NextRequest{Batch: 7}, ""},
		{"bare zero is kept", "0", NextRequest{Batch: 0}, ""},
		{"bare negative is kept", "-3", NextRequest{Batch: -3}, ""},
		{"junk is one message", "abc", NextRequest{Batch: 1}, ""},
		{"null is one message", "null", NextRequest{Batch: 1}, ""},
		{"bench consume", `{"expires":30000000000,"batch":500,"idle_heartbeat":15000000000}`,
			NextRequest{Expires: 30 * time.Second, Batch: 500, Heartbeat: 15 * time.Second}, ""},
		{"fetch no wait", `{"batch":1,"no_wait":true}`, NextRequest{Batch: 1, NoWait: true}, ""},
		{"json batch zero is kept", `{"expires":1000}`, NextRequest{Expires: 1000}, ""},
		{"max bytes and priority", `{"batch":2,"max_bytes":100,"group":"g","min_pending":5,"id":"p","priority":3}`,
			NextRequest{Batch: 2, MaxBytes: 100, PriorityGroup: PriorityGroup{Group: "g", MinPending: 5, ID: "p", Priority: 3}}, ""},
		{"unknown fields ignored", `{"batch":2,"whatever":1}`, NextRequest{Batch: 2}, ""},
		{"heartbeat over half expires", `{"expires":1000,"idle_heartbeat":501}`, NextRequest{},
			"Bad Request - heartbeat value too large"},
		{"heartbeat without expires", `{"idle_heartbeat":1}`, NextRequest{}, "Bad Request - heartbeat value too large"},
		{"heartbeat exactly half", `{"expires":1000,"idle_heartbeat":500}`,
			NextRequest{Expires: 1000, Heartbeat: 500}, ""},
		{"bad json", `{"batch":`, NextRequest{}, "Bad Request - unexpected end of JSON input"},
		{"wrong type", `{"batch":"x"}`, NextRequest{},
			"Bad Request - json: cannot unmarshal string into Go struct field JSApiConsumerGetNextRequest.batch of type int"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseNextRequest([]byte(c.body))
			if c.err != "" {
				if err == nil || err.Description != c.err || err.Code != 400 {
					t.Fatalf("got %+v %+v, want error %q", got, err, c.err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %+v %v, want %+v", got, err, c.want)
			}
		})
	}
}
