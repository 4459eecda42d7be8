package fuzz

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/petrel-io/petrel/core/jsapi"
)

// goldenRequests seeds the JetStream fuzz targets with the requests recorded from
// nats-server (core/jsapi/testdata/jsapi): stream configurations, or consumer create bodies.
func goldenRequests(f *testing.F, consumers bool) {
	paths, _ := filepath.Glob("../core/jsapi/testdata/jsapi/*.json") // no seeds is not an error: the fuzzer still runs
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		var c struct {
			Stream  string          `json:"stream"`
			Request json.RawMessage `json:"request"`
		}
		if err := json.Unmarshal(data, &c); err != nil {
			f.Fatal(err)
		}
		if (c.Stream != "") == consumers {
			f.Add([]byte(c.Request))
		}
	}
}

// checkStreamTwice checks cfg; a configuration that passed passes again unchanged.
func checkStreamTwice(t *testing.T, cfg jsapi.StreamConfig, opts jsapi.StreamCheckOptions) (jsapi.StreamConfig, bool) {
	before := cfg
	if err := cfg.Check(opts); err != nil {
		if err.Code == 0 || err.ErrCode == 0 || err.Description == "" {
			t.Fatalf("error without code or text: %+v", err)
		}
		if !reflect.DeepEqual(before, cfg) {
			t.Fatalf("a failed check changed the configuration")
		}
		return cfg, false
	}
	again := cfg
	if err := again.Check(opts); err != nil || !reflect.DeepEqual(again, cfg) {
		t.Fatalf("check is not idempotent: %v\nfirst  %+v\nsecond %+v", err, cfg, again)
	}
	return cfg, true
}

// FuzzStreamConfig decodes arbitrary bytes as a stream configuration and checks it: never a
// panic, every error has a code and a text, a failed check leaves the configuration as it
// was, and one that passed passes again unchanged (the server stores what Check returns and
// checks it again on every repeated create).
func FuzzStreamConfig(f *testing.F) {
	goldenRequests(f, false)
	f.Add([]byte(`{"name":"S","subjects":["a.*","b.>"],"mirror":{"name":"O","subject_transforms":[{"src":"a.*","dest":"x.{{wildcard(1)}}"}]}}`))
	f.Add([]byte(`{"name":"S","sources":[{"name":"O","external":{"api":"$JS.hub.API","deliver":"d"}}],"republish":{"dest":"r.>"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var cfg jsapi.StreamConfig
		if jsapi.DecodeRequest(data, &cfg) != nil {
			return
		}
		for _, clustered := range []bool{false, true} {
			checked, ok := checkStreamTwice(t, cfg, jsapi.StreamCheckOptions{Clustered: clustered})
			if ok {
				if _, err := jsapi.CheckStreamUpdate(checked, checked); err != nil {
					t.Fatalf("an unchanged update is refused: %v", err)
				}
			}
		}
	})
}

// FuzzConsumerConfig decodes arbitrary bytes as a consumer create request and checks it on
// a few streams, with the same properties as FuzzStreamConfig; a configuration that passed
// may be updated to itself.
func FuzzConsumerConfig(f *testing.F) {
	goldenRequests(f, true)
	streams := []jsapi.StreamConfig{
		{Name: "S", Subjects: []string{"s.>"}},
		{Name: "W", Retention: jsapi.WorkQueueRetention, Subjects: []string{"w.*"}},
		{Name: "L", ConsumerLimits: jsapi.StreamConsumerLimits{MaxAckPending: 10, InactiveThreshold: 1e9}},
	}
	for i := range streams {
		if err := streams[i].Check(jsapi.StreamCheckOptions{}); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var req jsapi.CreateConsumerRequest
		if jsapi.DecodeRequest(data, &req) != nil {
			return
		}
		for _, stream := range streams {
			cfg := req.Config
			before := cfg
			if err := cfg.Check(stream, jsapi.ConsumerCheckOptions{}); err != nil {
				if err.Code == 0 || err.ErrCode == 0 || err.Description == "" || !reflect.DeepEqual(before, cfg) {
					t.Fatalf("bad failure %+v (changed: %v)", err, !reflect.DeepEqual(before, cfg))
				}
				continue
			}
			again := cfg
			if err := again.Check(stream, jsapi.ConsumerCheckOptions{}); err != nil || !reflect.DeepEqual(again, cfg) {
				t.Fatalf("check is not idempotent: %v\nfirst  %+v\nsecond %+v", err, cfg, again)
			}
			if err := jsapi.CheckConsumerUpdate(cfg, again); err != nil {
				t.Fatalf("an unchanged update is refused: %v", err)
			}
		}
	})
}

// FuzzAPISubject parses arbitrary subjects as API requests, ack replies, ack bodies and
// pull requests: never a panic; a parsed API subject names non-empty streams and
// consumers where its verb has them; a parsed ack reply rebuilds to the same subject in
// its v1 form.
func FuzzAPISubject(f *testing.F) {
	for _, s := range []string{
		"$JS.API.STREAM.CREATE.S", "$JS.API.CONSUMER.CREATE.S.C.a.>", "$JS.API.DIRECT.GET.KV_b.$KV.b.k",
		"$JS.API.CONSUMER.MSG.NEXT.S.C", "$JS.ACK.S.C.1.2.3.4.5", "$JS.ACK._.H.S.C.1.2.3.4.5.x",
		"$JS.API.ACCOUNT.STREAM.MOVE.A.S", "-NAK {\"delay\":5}", "+NXT {\"batch\":2}", "12",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if verb, stream, consumer, rest, ok := jsapi.ParseAPISubject(s); ok {
			if verb == jsapi.VerbUnknown {
				t.Fatalf("%q: ok without a verb", s)
			}
			if len(stream)+len(consumer)+len(rest) > len(s) {
				t.Fatalf("%q: parts longer than the subject", s)
			}
		}
		// A v1 reply (9 tokens; a v2 one may have an empty domain) rebuilds to itself.
		if info, ok := jsapi.ParseAck(s); ok && strings.Count(s, ".") == 8 && info.Timestamp >= 0 {
			back := jsapi.AckSubject(info.Stream, info.Consumer, info.Delivered, info.StreamSeq, info.ConsumerSeq, info.Timestamp, info.Pending)
			if again, ok := jsapi.ParseAck(back); !ok || again != info || back != canonicalAck(s) {
				t.Fatalf("%q: rebuilt %q parses as %+v %v", s, back, again, ok)
			}
		}
		jsapi.ParseAckBody([]byte(s))
		if req, err := jsapi.ParseNextRequest([]byte(s)); err != nil && (err.Code != 400 || req != (jsapi.NextRequest{})) {
			t.Fatalf("%q: bad pull request error %+v", s, err)
		}
	})
}

// canonicalAck rewrites a v1 ack reply's numbers without leading zeros, as AckSubject
// writes them.
func canonicalAck(s string) string {
	tokens := strings.Split(s, ".")
	for i := 4; i < len(tokens); i++ {
		if n, err := strconv.ParseUint(tokens[i], 10, 64); err == nil {
			tokens[i] = strconv.FormatUint(n, 10)
		}
	}
	return strings.Join(tokens, ".")
}
