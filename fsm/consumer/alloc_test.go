package consumer

import (
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
)

// TestDeliverAckAllocations: a delivery acknowledged in order allocates at most its pending entry and timer once
// the consumer's maps and heaps have grown; the invariant checks after each call must not
// box their arguments (23 allocations per delivery and ack when they did).
func TestDeliverAckAllocations(t *testing.T) {
	if env.Invariants {
		t.Skip("the invariants build checks every entry after every call")
	}
	c := New(jsapi.ConsumerConfig{AckPolicy: jsapi.AckExplicit, AckWait: time.Minute}, State{})
	seq := uint64(0)
	cycle := func() {
		seq++
		dseq, _ := c.Deliver(seq, int64(seq))
		c.Ack(seq, dseq)
	}
	for i := 0; i < 1000; i++ {
		cycle()
	}
	if n := testing.AllocsPerRun(1000, cycle); n > 2 {
		t.Fatalf("%.1f allocations per delivery and ack", n)
	}
}
