package jsapi

import (
	"reflect"
	"testing"
	"time"
)

func TestStaticMetadata(t *testing.T) {
	cases := []struct {
		name string
		cfg  StreamConfig
		want map[string]string
	}{
		{"plain stream needs level 0", StreamConfig{}, map[string]string{"_nats.req.level": "0"}},
		{"ttl needs 1", StreamConfig{AllowMsgTTL: true}, map[string]string{"_nats.req.level": "1"}},
		{"markers need 1", StreamConfig{SubjectDeleteMarkerTTL: time.Second}, map[string]string{"_nats.req.level": "1"}},
		{"atomic needs 2", StreamConfig{AllowAtomicPublish: true, AllowMsgTTL: true}, map[string]string{"_nats.req.level": "2"}},
		{"batched needs 4", StreamConfig{AllowBatchPublish: true, AllowAtomicPublish: true}, map[string]string{"_nats.req.level": "4"}},
		{"dynamic keys dropped, user keys kept", StreamConfig{Metadata: map[string]string{"_nats.ver": "x", "_nats.level": "9", "k": "v"}},
			map[string]string{"_nats.req.level": "0", "k": "v"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			SetStaticStreamMetadata(&c.cfg)
			if !reflect.DeepEqual(c.cfg.Metadata, c.want) {
				t.Fatalf("got %v want %v", c.cfg.Metadata, c.want)
			}
		})
	}
	cc := ConsumerConfig{AckPolicy: AckFlowControl, PriorityGroups: []string{"A"}}
	SetStaticConsumerMetadata(&cc)
	if cc.Metadata["_nats.req.level"] != "4" {
		t.Fatalf("consumer: %v", cc.Metadata)
	}
}

func TestDynamicAndCopiedMetadata(t *testing.T) {
	stored := map[string]string{"_nats.req.level": "0"}
	shown := DynamicMetadata(stored, "2.15.2", 3)
	want := map[string]string{"_nats.req.level": "0", "_nats.ver": "2.15.2", "_nats.level": "3"}
	if !reflect.DeepEqual(shown, want) || len(stored) != 1 {
		t.Fatalf("dynamic: %v (stored %v)", shown, stored)
	}
	// A repeated create whose request carried the answer's metadata compares equal.
	if got := CopyStaticMetadata(shown, stored); !reflect.DeepEqual(got, stored) {
		t.Fatalf("copy: %v", got)
	}
	if got := CopyStaticMetadata(map[string]string{"_nats.req.level": "1"}, nil); got != nil {
		t.Fatalf("copy from none: %v", got)
	}
}

func TestRequiredLevelRefused(t *testing.T) {
	for _, c := range []struct {
		value string
		want  bool
	}{{"", false}, {"3", false}, {"0", false}, {"4", true}, {"x", true}, {"-1", false}} {
		if got := RequiredLevelRefused(c.value, 3); got != c.want {
			t.Errorf("%q: got %v", c.value, got)
		}
	}
}
