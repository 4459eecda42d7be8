package core_test

import (
	"strings"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core"
)

// TestInternalDeliveryAllocations: a message the server delivers to a client's inbox (a
// JetStream consumer's delivery) costs one allocation on the way to the client's
// connection: the queued copy holding its subject, reply and bytes.
func TestInternalDeliveryAllocations(t *testing.T) {
	r, c := inboxSubscriber(t)
	bus := r.srv.Bus()
	hdr, data := []byte("NATS/1.0\r\n\r\n"), make([]byte, 128)
	const batch = 200
	deliver := func() {
		for i := 0; i < batch; i++ {
			bus.Deliver("$G", "_INBOX.x", "orders.1", "$JS.ACK.S.C.1.1.1.0.0", hdr, data)
		}
		r.run(time.Millisecond)
	}
	for i := 0; i < 5; i++ {
		deliver() // queues and buffers at their working sizes
	}
	perMsg := testing.AllocsPerRun(20, deliver) / batch
	if perMsg > 1.5 {
		t.Fatalf("%.2f allocations per delivery", perMsg)
	}
	const line = "HMSG orders.1 1 $JS.ACK.S.C.1.1.1.0.0 12 140\r\n"
	if n := strings.Count(c.got.String(), line); n != 26*batch {
		t.Fatalf("%d deliveries reached the client, want %d", n, 26*batch)
	}
}

// TestDeliveryBatch: a batch's deliveries wait for its Flush and then go out in call order,
// interleaved in that order with what others published meanwhile; the reply subject is
// copied at the call.
func TestDeliveryBatch(t *testing.T) {
	r, c := inboxSubscriber(t)
	bus := r.srv.Bus()
	batch := bus.Batch()
	reply := []byte("ack.1")
	batch.Deliver("$G", "_INBOX.x", "orders.1", reply, nil, []byte("one"))
	copy(reply, "ack.2") // the caller's scratch: the batch copied it
	bus.Publish("$G", "_INBOX.x", "", nil, []byte("two"))
	batch.Deliver("$G", "_INBOX.x", "orders.3", nil, nil, []byte("three"))
	r.run(10 * time.Millisecond)
	if strings.Contains(c.got.String(), "MSG") {
		t.Fatalf("delivered before the flush: %q", c.got.String())
	}
	batch.Flush()
	r.run(10 * time.Millisecond)
	expectLines(t, c, "PONG", "MSG orders.1 1 ack.1 3", "one", "MSG _INBOX.x 1 3", "two", "MSG orders.3 1 5", "three")
	batch.Flush()                                                      // nothing owed: no effect
	bus.Deliver("$G", "_INBOX.x", "orders.4", "", nil, []byte("four")) // unbatched: at once
	r.run(10 * time.Millisecond)
	expectLines(t, c, "PONG", "MSG orders.1 1 ack.1 3", "one", "MSG _INBOX.x 1 3", "two", "MSG orders.3 1 5", "three", "MSG orders.4 1 4", "four")
}

// inboxSubscriber is a rig with a client subscribed to _INBOX.x (sid 1), its PONG read.
func inboxSubscriber(t *testing.T) (*rig, *rawClient) {
	r := newRig(t, core.Options{})
	c := r.dial()
	r.send(c, "CONNECT {\"verbose\":false,\"headers\":true}\r\nSUB _INBOX.x 1\r\nPING\r\n")
	expectLines(t, c, "PONG")
	return r, c
}
