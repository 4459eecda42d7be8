package server

import (
	"errors"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// A client that connects as soon as a restarted server is ready finds JetStream whole: the
// API answers and every stream takes publishes. nats-server listens only after JetStream
// started; Petrel greets clients only then. Before, with this many streams to recover, the
// first requests got 503s (no responders) for a few hundred milliseconds.
func TestE2EJetStreamReadyAtRestart(t *testing.T) {
	const streams = 500
	p, dir := startJS(t)
	js := newJS(t, connect(t, p.url()))
	ctx, cancel := jsContext(t)
	defer cancel()
	for i := range streams {
		_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: fmt.Sprintf("R%d", i), Subjects: []string{fmt.Sprintf("r.%d", i)}})
		must(t, err)
	}
	p.stop()
	p = startPetrelOn(t, p.port, "-js", "-sd", dir)
	nc := connect(t, p.url())
	if _, err := nc.Request("$JS.API.INFO", nil, testTimeout); err != nil {
		t.Fatalf("JetStream API right after restart: %v", err)
	}
	for i := streams - 1; i >= 0; i-- {
		// A plain request: nats.go's Publish would retry a 503 and hide it.
		m, err := nc.Request(fmt.Sprintf("r.%d", i), []byte("after"), testTimeout)
		if errors.Is(err, nats.ErrNoResponders) {
			t.Fatalf("stream R%d took no publish right after restart", i)
		}
		must(t, err)
		if string(m.Data) != fmt.Sprintf(`{"stream":"R%d","seq":1}`, i) {
			t.Fatalf("R%d: %s", i, m.Data)
		}
	}
}
