package server

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// startJS starts Petrel with JetStream, its data in a fresh directory.
func startJS(t *testing.T, args ...string) (*proc, string) {
	t.Helper()
	dir := t.TempDir()
	return startPetrel(t, append([]string{"-js", "-sd", dir}, args...)...), dir
}

func jsContext(t *testing.T) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), testTimeout)
}

func newJS(t *testing.T, nc *nats.Conn) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(nc)
	must(t, err)
	return js
}

// Stream create, info, idempotent create, conflicting create, update, names, list and
// delete, with the errors nats.go maps.
func TestE2EJetStreamStreamCRUD(t *testing.T) {
	p, _ := startJS(t)
	js := newJS(t, connect(t, p.url()))
	ctx, cancel := jsContext(t)
	defer cancel()
	cfg := jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}}
	s, err := js.CreateStream(ctx, cfg)
	must(t, err)
	info := s.CachedInfo()
	if info.Config.MaxMsgs != -1 || info.Config.Duplicates != 2*time.Minute || info.Config.Replicas != 1 ||
		info.Config.Storage != jetstream.FileStorage || info.Config.Retention != jetstream.LimitsPolicy {
		t.Fatalf("defaults not filled: %+v", info.Config)
	}
	if _, err := js.CreateStream(ctx, cfg); err != nil {
		t.Fatalf("identical create must succeed: %v", err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"other.>"}}); !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		t.Fatalf("conflicting create: %v", err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "OVER", Subjects: []string{"orders.new"}}); err == nil {
		t.Fatal("overlapping subjects accepted")
	}
	cfg.MaxMsgs = 10
	if s, err = js.UpdateStream(ctx, cfg); err != nil || s.CachedInfo().Config.MaxMsgs != 10 {
		t.Fatalf("update: %v", err)
	}
	if _, err := js.Stream(ctx, "NOPE"); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("missing stream: %v", err)
	}
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "MEM", Storage: jetstream.MemoryStorage})
	must(t, err)
	var names []string
	for n := range js.StreamNames(ctx).Name() {
		names = append(names, n)
	}
	if len(names) != 2 {
		t.Fatalf("names %v", names)
	}
	n := 0
	for range js.ListStreams(ctx).Info() {
		n++
	}
	if n != 2 {
		t.Fatalf("list gave %d streams", n)
	}
	must(t, js.DeleteStream(ctx, "MEM"))
	if _, err := js.Stream(ctx, "MEM"); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("deleted stream still there: %v", err)
	}
}

// Publishes are acknowledged with their sequence, deduplicated by Nats-Msg-Id, held to the
// expected headers, readable by get, and survive a restart.
func TestE2EJetStreamPublishAndGet(t *testing.T) {
	p, dir := startJS(t)
	nc := connect(t, p.url())
	js := newJS(t, nc)
	ctx, cancel := jsContext(t)
	defer cancel()
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, AllowDirect: true})
	must(t, err)
	ack, err := js.Publish(ctx, "s.a", []byte("one"), jetstream.WithMsgID("m1"))
	if err != nil || ack.Sequence != 1 || ack.Stream != "S" || ack.Duplicate {
		t.Fatalf("publish: %+v %v", ack, err)
	}
	if ack, err = js.Publish(ctx, "s.a", []byte("one"), jetstream.WithMsgID("m1")); err != nil || !ack.Duplicate || ack.Sequence != 1 {
		t.Fatalf("duplicate: %+v %v", ack, err)
	}
	_, err = js.Publish(ctx, "s.b", []byte("two"), jetstream.WithExpectLastSequence(1))
	must(t, err)
	var apiErr *jetstream.APIError
	if _, err = js.Publish(ctx, "s.b", []byte("x"), jetstream.WithExpectLastSequence(1)); !errors.As(err, &apiErr) || apiErr.ErrorCode != 10071 {
		t.Fatalf("wrong last sequence: %v", err)
	}
	if _, err = js.Publish(ctx, "s.b", []byte("x"), jetstream.WithExpectStream("T")); !errors.As(err, &apiErr) || apiErr.ErrorCode != 10060 {
		t.Fatalf("wrong stream: %v", err)
	}
	_, err = js.Publish(ctx, "s.b", []byte("three"), jetstream.WithExpectLastSequencePerSubject(2))
	must(t, err)
	m, err := s.GetMsg(ctx, 2)
	if err != nil || string(m.Data) != "two" || m.Subject != "s.b" {
		t.Fatalf("get 2: %+v %v", m, err)
	}
	m, err = s.GetLastMsgForSubject(ctx, "s.b")
	if err != nil || string(m.Data) != "three" || m.Sequence != 3 {
		t.Fatalf("last for s.b: %+v %v", m, err)
	}
	if _, err = s.GetMsg(ctx, 99); !errors.Is(err, jetstream.ErrMsgNotFound) {
		t.Fatalf("get missing: %v", err)
	}
	// Async publishing: every ack arrives, in sequence.
	for i := range 500 {
		if _, err := js.PublishAsync("s.async", []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(testTimeout):
		t.Fatal("async acks did not all arrive")
	}
	p.stop()
	p2 := startPetrelOn(t, p.port, "-js", "-sd", dir)
	js = newJS(t, connect(t, p2.url()))
	s, err = js.Stream(ctx, "S")
	must(t, err)
	if st := s.CachedInfo().State; st.Msgs != 503 || st.LastSeq != 503 {
		t.Fatalf("after restart: %+v", st)
	}
	if ack, err = js.Publish(ctx, "s.a", []byte("one"), jetstream.WithMsgID("m1")); err != nil || !ack.Duplicate {
		t.Fatalf("the duplicate window survives a restart: %+v %v", ack, err)
	}
	must(t, s.Purge(ctx, jetstream.WithPurgeSubject("s.async")))
	info, err := s.Info(ctx)
	must(t, err)
	if info.State.Msgs != 3 {
		t.Fatalf("after purge of s.async: %+v", info.State)
	}
	must(t, s.DeleteMsg(ctx, 1))
	if _, err = s.GetMsg(ctx, 1); !errors.Is(err, jetstream.ErrMsgNotFound) {
		t.Fatalf("deleted message: %v", err)
	}
}
