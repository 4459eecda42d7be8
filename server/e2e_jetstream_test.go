package server

import (
	"context"
	"encoding/json"
	"errors"
	"os"
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

// jsContext bounds a whole JetStream test's calls: generous, as a loaded 2-core machine
// slows the big ones; a hang still ends it.
func jsContext(t *testing.T) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 6*testTimeout)
}

// jsClient connects to p with nats.go's jetstream package; the context bounds the test's
// calls (jsContext) and ends with it.
func jsClient(t *testing.T, p *proc, opts ...nats.Option) (*nats.Conn, jetstream.JetStream, context.Context) {
	t.Helper()
	nc := connect(t, p.url(), opts...)
	ctx, cancel := jsContext(t)
	t.Cleanup(cancel)
	return nc, newJS(t, nc), ctx
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
	_, js, ctx := jsClient(t, p)
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
	_, js, ctx := jsClient(t, p)
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

// Pull consumers: Fetch, Next, Consume and Messages deliver in order; acks, naks and terms
// act; an ack wait runs out into a redelivery; no_wait ends at once; a work queue removes
// what was acknowledged.
func TestE2EJetStreamPullConsumers(t *testing.T) {
	p, _ := startJS(t)
	_, js, ctx := jsClient(t, p)
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"}})
	must(t, err)
	for i := range 10 {
		_, err := js.Publish(ctx, "p.x", []byte{byte('0' + i)})
		must(t, err)
	}
	c, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "D", AckPolicy: jetstream.AckExplicitPolicy, AckWait: 500 * time.Millisecond})
	must(t, err)
	if c.CachedInfo().NumPending != 10 || c.CachedInfo().Config.MaxAckPending != 1000 {
		t.Fatalf("new consumer: %+v", c.CachedInfo())
	}
	batch, err := c.Fetch(4, jetstream.FetchMaxWait(2*time.Second))
	must(t, err)
	var got []string
	for m := range batch.Messages() {
		got = append(got, string(m.Data()))
		md, _ := m.Metadata()
		if md.NumDelivered != 1 || md.Sequence.Stream != uint64(len(got)) {
			t.Fatalf("metadata %+v", md)
		}
		switch len(got) {
		case 1, 2:
			must(t, m.Ack())
		case 3:
			must(t, m.Term())
		case 4:
			must(t, m.Nak())
		}
	}
	must(t, batch.Error())
	if len(got) != 4 || got[0] != "0" || got[3] != "3" {
		t.Fatalf("fetched %v", got)
	}
	// Message 4 was nak'ed: it comes again first.
	m, err := c.Next(jetstream.FetchMaxWait(3 * time.Second))
	must(t, err)
	if md, _ := m.Metadata(); md.Sequence.Stream != 4 || md.NumDelivered != 2 {
		t.Fatalf("redelivery after nak %+v", md)
	}
	must(t, m.DoubleAck(ctx))
	// Message 5 is not acked: once its ack wait ran out it is delivered again before 6.
	m, err = c.Next(jetstream.FetchMaxWait(3 * time.Second))
	must(t, err)
	time.Sleep(700 * time.Millisecond) // past the 500 ms ack wait
	m, err = c.Next(jetstream.FetchMaxWait(3 * time.Second))
	must(t, err)
	if md, _ := m.Metadata(); md.Sequence.Stream != 5 || md.NumDelivered != 2 {
		t.Fatalf("redelivery after ack wait %+v", md)
	}
	must(t, m.DoubleAck(ctx))
	info, err := c.Info(ctx)
	must(t, err)
	if info.AckFloor.Stream != 5 || info.NumAckPending != 0 || info.NumPending != 5 {
		t.Fatalf("after acks: floor %+v pending %d ack pending %d", info.AckFloor, info.NumPending, info.NumAckPending)
	}
	// Consume the rest.
	done := make(chan struct{})
	n := 0
	cc, err := c.Consume(func(m jetstream.Msg) {
		_ = m.Ack()
		if n++; n == 5 {
			close(done)
		}
	})
	must(t, err)
	select {
	case <-done:
	case <-time.After(testTimeout):
		t.Fatalf("consumed %d of 5", n)
	}
	cc.Stop()
	// Nothing left: no_wait ends at once, empty.
	empty, err := c.FetchNoWait(5)
	must(t, err)
	for range empty.Messages() {
		t.Fatal("no_wait fetch of an empty consumer delivered")
	}
	// A work queue drops acknowledged messages.
	wq, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "W", Subjects: []string{"w"}, Retention: jetstream.WorkQueuePolicy})
	must(t, err)
	for range 3 {
		_, err := js.Publish(ctx, "w", []byte("job"))
		must(t, err)
	}
	wc, err := wq.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "W", AckPolicy: jetstream.AckExplicitPolicy})
	must(t, err)
	jobs, err := wc.Fetch(3)
	must(t, err)
	for m := range jobs.Messages() {
		must(t, m.DoubleAck(ctx))
	}
	if info, err := wq.Info(ctx); err != nil || info.State.Msgs != 0 {
		t.Fatalf("work queue after acks: %+v %v", info.State, err)
	}
	names := 0
	for range s.ConsumerNames(ctx).Name() {
		names++
	}
	must(t, s.DeleteConsumer(ctx, "D"))
	if _, err := s.Consumer(ctx, "D"); !errors.Is(err, jetstream.ErrConsumerNotFound) || names != 1 {
		t.Fatalf("deleted consumer: %v (names %d)", err, names)
	}
}

// A durable consumer keeps its acknowledged position across a restart: what a double ack
// confirmed is never delivered again, what was not acknowledged is.
func TestE2EJetStreamDurableConsumerRestart(t *testing.T) {
	p, dir := startJS(t)
	_, js, ctx := jsClient(t, p)
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "R", Subjects: []string{"r"}})
	must(t, err)
	for i := range 6 {
		_, err := js.Publish(ctx, "r", []byte{byte('a' + i)})
		must(t, err)
	}
	c, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "K", AckPolicy: jetstream.AckExplicitPolicy})
	must(t, err)
	batch, err := c.Fetch(4)
	must(t, err)
	i := 0
	for m := range batch.Messages() {
		if i++; i <= 3 {
			must(t, m.DoubleAck(ctx)) // 1..3 confirmed; 4 delivered, not acked
		}
	}
	p.stop()
	p2 := startPetrelOn(t, p.port, "-js", "-sd", dir)
	js = newJS(t, connect(t, p2.url()))
	c, err = js.Consumer(ctx, "R", "K")
	must(t, err)
	info := c.CachedInfo()
	if info.AckFloor.Stream != 3 || info.Delivered.Stream != 4 || info.NumAckPending != 1 {
		t.Fatalf("after restart: delivered %+v floor %+v ack pending %d", info.Delivered, info.AckFloor, info.NumAckPending)
	}
	m, err := c.Next(jetstream.FetchMaxWait(time.Second))
	must(t, err)
	if md, _ := m.Metadata(); md.Sequence.Stream != 5 {
		t.Fatalf("next after restart: %+v", md) // 4 is pending until its ack wait runs out
	}
	must(t, s.DeleteConsumer(ctx, "K"))
	p2.stop()
	p3 := startPetrelOn(t, p.port, "-js", "-sd", dir)
	js = newJS(t, connect(t, p3.url()))
	if _, err := js.Consumer(ctx, "R", "K"); !errors.Is(err, jetstream.ErrConsumerNotFound) {
		t.Fatalf("a deleted consumer came back: %v", err)
	}
}

// KV through nats.go: put, get, create, update with revision, delete, purge, history, keys,
// watch (a push ordered consumer with flow control and heartbeats), TTL'd bucket status.
func TestE2EJetStreamKV(t *testing.T) {
	p, _ := startJS(t)
	_, js, ctx := jsClient(t, p)
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "cfg", History: 5})
	must(t, err)
	if _, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "cfg", History: 5}); err != nil {
		t.Fatalf("creating the same bucket again: %v", err)
	}
	w, err := kv.WatchAll(ctx)
	must(t, err)
	defer w.Stop()
	if e := <-w.Updates(); e != nil {
		t.Fatalf("an empty bucket's watch starts with nil, got %v", e)
	}
	r1, err := kv.Put(ctx, "a", []byte("1"))
	must(t, err)
	if _, err := kv.Create(ctx, "a", []byte("x")); !errors.Is(err, jetstream.ErrKeyExists) {
		t.Fatalf("create of an existing key: %v", err)
	}
	r2, err := kv.Update(ctx, "a", []byte("2"), r1)
	must(t, err)
	if _, err := kv.Update(ctx, "a", []byte("3"), r1); err == nil {
		t.Fatal("update with a stale revision succeeded")
	}
	e, err := kv.Get(ctx, "a")
	if err != nil || string(e.Value()) != "2" || e.Revision() != r2 {
		t.Fatalf("get: %v %v", e, err)
	}
	_, err = kv.Create(ctx, "b", []byte("B"))
	must(t, err)
	must(t, kv.Delete(ctx, "b"))
	if _, err := kv.Get(ctx, "b"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Fatalf("get of a deleted key: %v", err)
	}
	if _, err := kv.Create(ctx, "b", []byte("again")); err != nil {
		t.Fatalf("create over a delete marker: %v", err)
	}
	for _, want := range []string{"a=1", "a=2", "b=B", "b=", "b=again"} {
		select {
		case e := <-w.Updates():
			if got := e.Key() + "=" + string(e.Value()); got != want {
				t.Fatalf("watch: %s, want %s", got, want)
			}
		case <-time.After(testTimeout):
			t.Fatalf("watch: no %s", want)
		}
	}
	h, err := kv.History(ctx, "a")
	if err != nil || len(h) != 2 {
		t.Fatalf("history: %d %v", len(h), err)
	}
	keys, err := kv.ListKeys(ctx)
	must(t, err)
	var names []string
	for k := range keys.Keys() {
		names = append(names, k)
	}
	if len(names) != 2 {
		t.Fatalf("keys %v", names)
	}
	must(t, kv.Purge(ctx, "a"))
	if _, err := kv.Get(ctx, "a"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Fatalf("get of a purged key: %v", err)
	}
	st, err := kv.Status(ctx)
	if err != nil || st.History() != 5 {
		t.Fatalf("status: %v %v", st, err)
	}
	must(t, js.DeleteKeyValue(ctx, "cfg"))
}

// Object Store through nats.go: a multi-MiB put and get, list, links, delete.
func TestE2EJetStreamObjectStore(t *testing.T) {
	p, _ := startJS(t)
	_, js, ctx := jsClient(t, p)
	obs, err := js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: "files"})
	must(t, err)
	big := make([]byte, 3<<20+12345)
	for i := range big {
		big[i] = byte(i * 7)
	}
	_, err = obs.PutBytes(ctx, "big.bin", big)
	must(t, err)
	got, err := obs.GetBytes(ctx, "big.bin")
	must(t, err)
	if string(got) != string(big) {
		t.Fatalf("get returned %d bytes, not what was put", len(got))
	}
	_, err = obs.PutString(ctx, "small.txt", "hello")
	must(t, err)
	info, err := obs.GetInfo(ctx, "small.txt")
	must(t, err)
	_, err = obs.AddLink(ctx, "link.txt", info)
	must(t, err)
	s, err := obs.GetString(ctx, "link.txt")
	if err != nil || s != "hello" {
		t.Fatalf("through a link: %q %v", s, err)
	}
	list, err := obs.List(ctx)
	if err != nil || len(list) != 3 {
		t.Fatalf("list: %d %v", len(list), err)
	}
	must(t, obs.Delete(ctx, "big.bin"))
	if _, err := obs.GetBytes(ctx, "big.bin"); !errors.Is(err, jetstream.ErrObjectNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
}

// Two accounts have separate JetStream (same stream name, separate content and
// directories), an account without JetStream is told so (10039), and /jsz adds them up.
func TestE2EJetStreamAccounts(t *testing.T) {
	dir := t.TempDir()
	conf := dir + "/petrel.conf"
	must(t, os.WriteFile(conf, []byte(`
jetstream { store_dir: "`+dir+`" }
accounts {
  A: { jetstream: enabled, users: [{user: a, password: a}] }
  B: { jetstream: { max_streams: 1 }, users: [{user: b, password: b}] }
  C: { users: [{user: c, password: c}] }
}
`), 0o644))
	mport := freePort(t)
	p := startPetrel(t, "-c", conf, "-m", mport)
	ctx, cancel := jsContext(t)
	defer cancel()
	jsA := newJS(t, connect(t, p.url(), nats.UserInfo("a", "a")))
	jsB := newJS(t, connect(t, p.url(), nats.UserInfo("b", "b")))
	jsC := newJS(t, connect(t, p.url(), nats.UserInfo("c", "c")))
	for _, js := range []jetstream.JetStream{jsA, jsB} {
		_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s"}})
		must(t, err)
	}
	_, err := jsA.Publish(ctx, "s", []byte("in A"))
	must(t, err)
	sB, err := jsB.Stream(ctx, "S")
	must(t, err)
	if n := sB.CachedInfo().State.Msgs; n != 0 {
		t.Fatalf("B's stream holds %d messages published in A", n)
	}
	if _, err := jsB.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t"}}); err == nil {
		t.Fatal("B's max_streams 1 was not enforced")
	}
	if _, err := jsC.AccountInfo(ctx); !errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
		t.Fatalf("account without JetStream: %v", err)
	}
	for _, acc := range []string{"A", "B"} {
		if _, err := os.Stat(dir + "/jetstream/" + acc + "/streams/S/meta.json"); err != nil {
			t.Fatalf("account %s's stream definition: %v", acc, err)
		}
	}
	code, body := httpGet(t, "http://127.0.0.1:"+mport+"/jsz?accounts=true&streams=true")
	var z struct {
		Streams        int    `json:"streams"`
		Messages       uint64 `json:"messages"`
		AccountDetails []struct {
			Name    string `json:"name"`
			Streams []struct {
				Name string `json:"name"`
			} `json:"stream_detail"`
		} `json:"account_details"`
	}
	must(t, json.Unmarshal([]byte(body), &z))
	if code != 200 || z.Streams != 2 || z.Messages != 1 || len(z.AccountDetails) != 2 || len(z.AccountDetails[0].Streams) != 1 {
		t.Fatalf("/jsz: %d %s", code, body)
	}
	info, err := jsA.AccountInfo(ctx)
	if err != nil || info.Streams != 1 || info.API.Level < 1 {
		t.Fatalf("account info: %+v %v", info, err)
	}
}

// Interest retention keeps a message until every interested consumer acknowledged it, and
// drops what no consumer wants; a work queue refuses a second unfiltered consumer; the
// stream's max_consumers holds.
func TestE2EJetStreamRetention(t *testing.T) {
	p, _ := startJS(t)
	_, js, ctx := jsClient(t, p)
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "I", Subjects: []string{"i.>"}, Retention: jetstream.InterestPolicy, MaxConsumers: 2})
	must(t, err)
	_, err = js.Publish(ctx, "i.none", []byte("nobody wants me"))
	must(t, err)
	c1, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "one", AckPolicy: jetstream.AckExplicitPolicy})
	must(t, err)
	c2, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "two", AckPolicy: jetstream.AckExplicitPolicy, FilterSubject: "i.a"})
	must(t, err)
	if _, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "three"}); err == nil {
		t.Fatal("max_consumers 2 allowed a third")
	}
	for _, subj := range []string{"i.a", "i.b"} {
		_, err := js.Publish(ctx, subj, []byte(subj))
		must(t, err)
	}
	msgs := func() uint64 {
		info, err := s.Info(ctx)
		must(t, err)
		return info.State.Msgs
	}
	if n := msgs(); n != 2 {
		t.Fatalf("stored %d, want 2 (the one nobody wanted is gone)", n)
	}
	ackAll := func(c jetstream.Consumer, n int) {
		b, err := c.Fetch(n)
		must(t, err)
		for m := range b.Messages() {
			must(t, m.DoubleAck(ctx))
		}
	}
	ackAll(c1, 2)
	if n := msgs(); n != 1 {
		t.Fatalf("after one's acks %d messages, want 1 (i.a waits for two)", n)
	}
	ackAll(c2, 1)
	if n := msgs(); n != 0 {
		t.Fatalf("after both acked, %d messages", n)
	}
	wq, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "Q", Subjects: []string{"q.>"}, Retention: jetstream.WorkQueuePolicy})
	must(t, err)
	_, err = wq.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "w1", AckPolicy: jetstream.AckExplicitPolicy})
	must(t, err)
	if _, err := wq.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "w2", AckPolicy: jetstream.AckExplicitPolicy}); err == nil {
		t.Fatal("a work queue took a second unfiltered consumer")
	}
}
