package jetstream_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/sim/natsclient"
)

// BenchmarkPullAck: a durable pull consumer reads a file stream in batches of 500 and acks
// every message, in the simulator (so its costs are in the figures too): for allocation
// profiles of the read path (-memprofile), one op per message.
func BenchmarkPullAck(b *testing.B) {
	j := newSimJSWith(b, nil)
	j.mustAPI("STREAM.CREATE.S", jsapi.StreamConfig{Name: "S", Subjects: []string{"s.>"}}, nil)
	payload := make([]byte, 128)
	for i := 0; i < b.N; i++ {
		j.cli.Publish("s.x", "", nil, payload)
		if i%1000 == 999 {
			j.run(5 * time.Millisecond)
		}
	}
	j.run(100 * time.Millisecond)
	j.mustAPI("CONSUMER.CREATE.S.C", jsapi.CreateConsumerRequest{Stream: "S",
		Config: jsapi.ConsumerConfig{Durable: "C", AckPolicy: jsapi.AckExplicit}}, nil)
	inbox := j.newInbox()
	got := 0
	j.cli.Subscribe(inbox, "", func(m *natsclient.Msg) {
		if len(m.Data) > 0 {
			got++
			j.cli.Publish(m.Reply, "", nil, nil)
		}
	})
	body, _ := json.Marshal(jsapi.NextRequest{Batch: 500})
	b.ResetTimer()
	for got < b.N {
		before := got
		j.cli.Publish(jsapi.Prefix+"CONSUMER.MSG.NEXT.S.C", inbox, nil, body)
		for i := 0; i < 100 && got < min(before+500, b.N); i++ {
			j.run(time.Millisecond)
		}
		if got == before {
			b.Fatalf("stuck at %d of %d", got, b.N)
		}
	}
}
