package jetstream_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/sim/natsclient"
)

// countingClock counts the timers armed through it.
type countingClock struct {
	env.Clock
	armed int
}

func (c *countingClock) AfterFunc(d time.Duration, ex env.Executor, fn func()) env.Timer {
	c.armed++
	return c.Clock.AfterFunc(d, ex, fn)
}

// TestAcksDoNotRearmTheTimer: each ack moves the consumer's earliest redelivery deadline a
// little later; the timer armed for the earlier one stays (its tick re-arms), so acking a
// batch arms a few timers, not one per ack. Redelivery still comes on time.
func TestAcksDoNotRearmTheTimer(t *testing.T) {
	clock := &countingClock{}
	j := newSimJSWith(t, func(e *env.Env) { clock.Clock = e.Clock; e.Clock = clock })
	j.mustAPI("STREAM.CREATE.S", jsapi.StreamConfig{Name: "S", Subjects: []string{"s.>"}}, nil)
	const n = 50
	for i := 0; i < n; i++ {
		j.publish("s.x", nil, []byte(fmt.Sprint(i)))
	}
	j.mustAPI("CONSUMER.CREATE.S.C", jsapi.CreateConsumerRequest{Stream: "S",
		Config: jsapi.ConsumerConfig{Durable: "C", AckPolicy: jsapi.AckExplicit, AckWait: 2 * time.Second}}, nil)
	inbox := j.newInbox()
	var replies []string
	j.cli.Subscribe(inbox, "", func(m *natsclient.Msg) { replies = append(replies, m.Reply) })
	body, _ := json.Marshal(jsapi.NextRequest{Batch: 1})
	for i := 0; i < n; i++ { // one at a time, so each has its own redelivery deadline
		j.cli.Publish(jsapi.Prefix+"CONSUMER.MSG.NEXT.S.C", inbox, nil, body)
		j.run(5 * time.Millisecond)
	}
	if len(replies) != n {
		t.Fatalf("pulled %d messages, want %d", len(replies), n)
	}
	// A request waiting for more: the redelivery deadlines count while one waits.
	j.cli.Publish(jsapi.Prefix+"CONSUMER.MSG.NEXT.S.C", inbox, nil, body)
	j.run(time.Millisecond)
	before := clock.armed
	for _, r := range replies[:n-1] { // the last one stays unacknowledged
		j.cli.Publish(r, "", nil, []byte("+ACK"))
		j.run(time.Millisecond)
	}
	j.run(100 * time.Millisecond)
	if armed := clock.armed - before; armed > 10 {
		t.Fatalf("%d timers armed for %d acks", armed, n-1)
	}
	j.run(3 * time.Second)
	if len(replies) != n+1 {
		t.Fatalf("%d deliveries after the ack wait, want the unacknowledged one again", len(replies))
	}
}
