package server

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
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

// Backoff paces redeliveries, max_deliver stops them with an advisory, a nak and a term
// are advised, and stream and consumer actions are advised.
func TestE2EJetStreamRedeliveryAndAdvisories(t *testing.T) {
	p, _ := startJS(t)
	nc, js, ctx := jsClient(t, p)
	adv, err := nc.SubscribeSync("$JS.EVENT.ADVISORY.>")
	must(t, err)
	must(t, nc.Flush())
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "B", Subjects: []string{"b"}})
	must(t, err)
	_, err = js.Publish(ctx, "b", []byte("x"))
	must(t, err)
	c, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "B", AckPolicy: jetstream.AckExplicitPolicy,
		MaxDeliver: 3, BackOff: []time.Duration{100 * time.Millisecond, 300 * time.Millisecond}})
	must(t, err)
	var times []time.Time
	for range 3 {
		m, err := c.Next(jetstream.FetchMaxWait(2 * time.Second))
		must(t, err)
		times = append(times, time.Now())
		if md, _ := m.Metadata(); md.NumDelivered != uint64(len(times)) {
			t.Fatalf("delivery %d counted %d", len(times), md.NumDelivered)
		}
	}
	if d := times[2].Sub(times[1]); d < 250*time.Millisecond {
		t.Fatalf("the second redelivery came after %v, backoff says 300ms", d)
	}
	if _, err := c.Next(jetstream.FetchMaxWait(800 * time.Millisecond)); err == nil {
		t.Fatal("delivered past max_deliver")
	}
	seen := map[string]bool{}
	for {
		m, err := adv.NextMsg(time.Second)
		if err != nil {
			break
		}
		var ev struct{ Type string }
		must(t, json.Unmarshal(m.Data, &ev))
		seen[m.Subject+"|"+ev.Type] = true
	}
	for _, want := range []string{
		"$JS.EVENT.ADVISORY.STREAM.CREATED.B|io.nats.jetstream.advisory.v1.stream_action",
		"$JS.EVENT.ADVISORY.CONSUMER.CREATED.B.B|io.nats.jetstream.advisory.v1.consumer_action",
		"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.B.B|io.nats.jetstream.advisory.v1.max_deliver",
	} {
		if !seen[want] {
			t.Errorf("no %s; saw %v", want, seen)
		}
	}
}

// Stream features: subject transform on ingest, republish with its headers, first_seq,
// per-message TTL, sealing, discard new per subject.
func TestE2EJetStreamStreamFeatures(t *testing.T) {
	p, _ := startJS(t)
	nc, js, ctx := jsClient(t, p)
	rp, err := nc.SubscribeSync("out.>")
	must(t, err)
	must(t, nc.Flush())
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "F", Subjects: []string{"in.>"}, FirstSeq: 100,
		SubjectTransform: &jetstream.SubjectTransformConfig{Source: "in.>", Destination: "stored.>"},
		RePublish:        &jetstream.RePublish{Source: "stored.>", Destination: "out.>"},
		AllowMsgTTL:      true})
	must(t, err)
	ack, err := js.Publish(ctx, "in.a", []byte("v1"))
	if err != nil || ack.Sequence != 100 {
		t.Fatalf("first publish: %+v %v", ack, err)
	}
	m, err := s.GetMsg(ctx, 100)
	if err != nil || m.Subject != "stored.a" {
		t.Fatalf("stored as %+v %v", m, err)
	}
	r, err := rp.NextMsg(testTimeout)
	must(t, err)
	if r.Subject != "out.a" || r.Header.Get("Nats-Sequence") != "100" || r.Header.Get("Nats-Stream") != "F" ||
		r.Header.Get("Nats-Subject") != "stored.a" || r.Header.Get("Nats-Last-Sequence") != "0" || string(r.Data) != "v1" {
		t.Fatalf("republished %s %v %q", r.Subject, r.Header, r.Data)
	}
	_, err = js.Publish(ctx, "in.a", []byte("short"), jetstream.WithMsgTTL(300*time.Millisecond))
	must(t, err)
	if r, err = rp.NextMsg(testTimeout); err != nil || r.Header.Get("Nats-Last-Sequence") != "100" {
		t.Fatalf("second republish: %v %v", r, err)
	}
	time.Sleep(time.Second) // past the message's TTL
	if _, err := s.GetMsg(ctx, 101); !errors.Is(err, jetstream.ErrMsgNotFound) {
		t.Fatalf("a message past its TTL: %v", err)
	}
	cfg := s.CachedInfo().Config
	cfg.Sealed = true
	_, err = js.UpdateStream(ctx, cfg)
	must(t, err)
	if _, err := js.Publish(ctx, "in.b", []byte("x")); err == nil {
		t.Fatal("a sealed stream took a message")
	}
	if err := s.Purge(ctx); err == nil {
		t.Fatal("a sealed stream was purged")
	}
	d, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "D", Subjects: []string{"d.*"}, Discard: jetstream.DiscardNew,
		DiscardNewPerSubject: true, MaxMsgsPerSubject: 1})
	must(t, err)
	_, err = js.Publish(ctx, "d.a", []byte("1"))
	must(t, err)
	if _, err := js.Publish(ctx, "d.a", []byte("2")); err == nil {
		t.Fatal("discard new per subject took a second message")
	}
	_, err = js.Publish(ctx, "d.b", []byte("1"))
	must(t, err)
	if info, _ := d.Info(ctx); info.State.Msgs != 2 {
		t.Fatalf("state %+v", info.State)
	}
}

// A paused consumer delivers nothing until it is resumed.
func TestE2EJetStreamPause(t *testing.T) {
	p, _ := startJS(t)
	_, js, ctx := jsClient(t, p)
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "PZ", Subjects: []string{"pz"}})
	must(t, err)
	_, err = js.Publish(ctx, "pz", []byte("x"))
	must(t, err)
	c, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "PZ", AckPolicy: jetstream.AckExplicitPolicy})
	must(t, err)
	r, err := js.PauseConsumer(ctx, "PZ", "PZ", time.Now().Add(time.Hour))
	if err != nil || !r.Paused || r.PauseRemaining < 59*time.Minute {
		t.Fatalf("pause: %+v %v", r, err)
	}
	if _, err := c.Next(jetstream.FetchMaxWait(300 * time.Millisecond)); err == nil {
		t.Fatal("a paused consumer delivered")
	}
	if info, _ := c.Info(ctx); !info.Paused {
		t.Fatalf("info does not say paused: %+v", info)
	}
	if r, err := js.ResumeConsumer(ctx, "PZ", "PZ"); err != nil || r.Paused {
		t.Fatalf("resume: %+v %v", r, err)
	}
	if _, err := c.Next(jetstream.FetchMaxWait(2 * time.Second)); err != nil {
		t.Fatalf("after resume: %v", err)
	}
}

// Priority groups: a pinned client gets the messages and other pins are refused; overflow
// requests wait for their minimum; a request for an unknown group is refused; unpin frees
// the pin.
func TestE2EJetStreamPriorityGroups(t *testing.T) {
	p, _ := startJS(t)
	_, js, ctx := jsClient(t, p)
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "PG", Subjects: []string{"pg"}})
	must(t, err)
	for range 4 {
		_, err := js.Publish(ctx, "pg", []byte("m"))
		must(t, err)
	}
	pinned, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "PIN", AckPolicy: jetstream.AckExplicitPolicy,
		PriorityGroups: []string{"g"}, PriorityPolicy: jetstream.PriorityPolicyPinned, PinnedTTL: 5 * time.Second})
	must(t, err)
	b, err := pinned.Fetch(1, jetstream.FetchPriorityGroup("g"))
	must(t, err)
	var pinID string
	for m := range b.Messages() {
		pinID = m.Headers().Get("Nats-Pin-Id")
		must(t, m.Ack())
	}
	if pinID == "" {
		t.Fatal("the first pinned delivery carries no Nats-Pin-Id")
	}
	info, err := pinned.Info(ctx)
	if err != nil || len(info.PriorityGroups) != 1 || info.PriorityGroups[0].PinnedClientID != pinID {
		t.Fatalf("info priority groups: %+v %v", info.PriorityGroups, err)
	}
	if _, err := pinned.Fetch(1, jetstream.FetchPriorityGroup("nope")); err == nil {
		b, _ := pinned.Fetch(1, jetstream.FetchPriorityGroup("nope"), jetstream.FetchMaxWait(300*time.Millisecond))
		for range b.Messages() {
			t.Fatal("an unknown priority group got a message")
		}
	}
	must(t, s.UnpinConsumer(ctx, "PIN", "g"))
	if info, _ := pinned.Info(ctx); info.PriorityGroups[0].PinnedClientID != "" {
		t.Fatalf("still pinned after unpin: %+v", info.PriorityGroups)
	}
	over, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "OVER", AckPolicy: jetstream.AckExplicitPolicy,
		PriorityGroups: []string{"g"}, PriorityPolicy: jetstream.PriorityPolicyOverflow})
	must(t, err)
	b, err = over.Fetch(1, jetstream.FetchPriorityGroup("g"), jetstream.FetchMinPending(10), jetstream.FetchMaxWait(300*time.Millisecond))
	must(t, err)
	for range b.Messages() {
		t.Fatal("an overflow request got a message below its min_pending")
	}
	b, err = over.Fetch(1, jetstream.FetchPriorityGroup("g"), jetstream.FetchMinPending(2))
	must(t, err)
	n := 0
	for range b.Messages() {
		n++
	}
	if n != 1 {
		t.Fatalf("an overflow request at its min_pending got %d", n)
	}
}

// Direct gets: a batch from a sequence ends with 204 EOB and counts what is pending;
// multi_last answers each subject's last message; errors are status messages.
func TestE2EJetStreamDirectGet(t *testing.T) {
	p, _ := startJS(t)
	nc, js, ctx := jsClient(t, p)
	_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "DG", Subjects: []string{"dg.*"}, AllowDirect: true})
	must(t, err)
	for i, subj := range []string{"dg.a", "dg.b", "dg.a", "dg.c", "dg.b"} {
		_, err := js.Publish(ctx, subj, []byte{byte('0' + i)})
		must(t, err)
	}
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	must(t, err)
	ask := func(body string) []*nats.Msg {
		must(t, nc.PublishRequest("$JS.API.DIRECT.GET.DG", inbox, []byte(body)))
		var out []*nats.Msg
		for {
			m, err := sub.NextMsg(testTimeout)
			must(t, err)
			out = append(out, m)
			if m.Header.Get("Status") != "" || (len(out) == 1 && !strings.Contains(body, "batch") && !strings.Contains(body, "multi")) {
				return out
			}
		}
	}
	got := ask(`{"seq":2,"batch":2,"next_by_subj":"dg.*"}`)
	if len(got) != 3 || got[0].Header.Get("Nats-Sequence") != "2" || got[1].Header.Get("Nats-Last-Sequence") != "2" ||
		got[2].Header.Get("Status") != "204" || got[2].Header.Get("Nats-Num-Pending") != "2" {
		t.Fatalf("batch: %d messages %v", len(got), headersOf(got))
	}
	got = ask(`{"multi_last":["dg.a","dg.b"]}`)
	if len(got) != 3 || got[0].Header.Get("Nats-Sequence") != "3" || got[1].Header.Get("Nats-Sequence") != "5" || got[2].Header.Get("Status") != "204" {
		t.Fatalf("multi_last: %v", headersOf(got))
	}
	got = ask(`{"multi_last":["dg.*"],"up_to_seq":3}`)
	if len(got) != 3 || got[0].Header.Get("Nats-Sequence") != "2" || got[1].Header.Get("Nats-Sequence") != "3" {
		t.Fatalf("multi_last up to 3: %v", headersOf(got))
	}
	if got = ask(`{"seq":99}`); got[0].Header.Get("Status") != "404" {
		t.Fatalf("missing: %v", headersOf(got))
	}
	if got = ask(`{}`); got[0].Header.Get("Status") != "408" {
		t.Fatalf("empty request: %v", headersOf(got))
	}
}

func headersOf(ms []*nats.Msg) []nats.Header {
	out := make([]nats.Header, len(ms))
	for i, m := range ms {
		out[i] = m.Header
	}
	return out
}

// An account's max_storage refuses the publish that would pass it (10002), and a purge
// makes room again.
func TestE2EJetStreamAccountStorageLimit(t *testing.T) {
	dir := t.TempDir()
	conf := dir + "/petrel.conf"
	must(t, os.WriteFile(conf, []byte(`
jetstream { store_dir: "`+dir+`" }
accounts { L: { jetstream: { max_file: 2000 }, users: [{user: l, password: l}] } }
`), 0o644))
	p := startPetrel(t, "-c", conf)
	js := newJS(t, connect(t, p.url(), nats.UserInfo("l", "l")))
	ctx, cancel := jsContext(t)
	defer cancel()
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "L", Subjects: []string{"l"}})
	must(t, err)
	payload := make([]byte, 400)
	var apiErr *jetstream.APIError
	stored := 0
	for range 10 {
		_, err := js.Publish(ctx, "l", payload)
		if err == nil {
			stored++
			continue
		}
		if !errors.As(err, &apiErr) || apiErr.ErrorCode != 10002 {
			t.Fatalf("past the limit: %v", err)
		}
		break
	}
	if stored < 3 || stored > 4 {
		t.Fatalf("stored %d messages of 400 bytes under a 2000-byte limit", stored)
	}
	must(t, s.Purge(ctx))
	if _, err := js.Publish(ctx, "l", payload); err != nil {
		t.Fatalf("after a purge: %v", err)
	}
}

// A reload that gives an account JetStream makes its API answer; one that takes it away
// stops it (its data kept) and answers "not enabled".
func TestE2EJetStreamReloadAccounts(t *testing.T) {
	dir := t.TempDir()
	conf := dir + "/petrel.conf"
	text := func(bJS string) string {
		return `
jetstream { store_dir: "` + dir + `" }
accounts {
  A: { jetstream: enabled, users: [{user: a, password: a}] }
  B: { ` + bJS + ` users: [{user: b, password: b}] }
}
`
	}
	writeConf(t, conf, text(""))
	p := startPetrel(t, "-c", conf)
	ctx, cancel := jsContext(t)
	defer cancel()
	jsB := newJS(t, connect(t, p.url(), nats.UserInfo("b", "b")))
	if _, err := jsB.AccountInfo(ctx); !errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
		t.Fatalf("before: %v", err)
	}
	p.reloadWith(conf, text("jetstream: enabled,"), "Reloaded server configuration")
	if _, err := jsB.CreateStream(ctx, jetstream.StreamConfig{Name: "B", Subjects: []string{"b"}}); err != nil {
		t.Fatalf("after enabling: %v", err)
	}
	p.reloadWith(conf, text(""), "Reloaded server configuration")
	if _, err := jsB.AccountInfo(ctx); !errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
		t.Fatalf("after disabling: %v", err)
	}
	if _, err := os.Stat(dir + "/jetstream/B/streams/B/meta.json"); err != nil {
		t.Fatalf("B's data after disabling: %v", err)
	}
}

// nats.go's ordered consumer (ephemeral, R1 memory, re-created on gaps) reads a stream in
// order, and a legacy push subscription with flow control and a queue group gets it all.
func TestE2EJetStreamOrderedAndPush(t *testing.T) {
	p, _ := startJS(t)
	nc, js, ctx := jsClient(t, p)
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "O", Subjects: []string{"o.>"}})
	must(t, err)
	const n = 2000
	for i := range n {
		if _, err := js.PublishAsync("o."+strconv.Itoa(i%7), []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	<-js.PublishAsyncComplete()
	oc, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	must(t, err)
	it, err := oc.Messages()
	must(t, err)
	for i := range n {
		m, err := it.Next()
		must(t, err)
		if string(m.Data()) != strconv.Itoa(i) {
			t.Fatalf("ordered consumer message %d is %q", i, m.Data())
		}
	}
	it.Stop()
	legacy, err := nc.JetStream()
	must(t, err)
	got := make(chan string, n)
	sub, err := legacy.Subscribe("o.>", func(m *nats.Msg) {
		got <- string(m.Data)
		_ = m.Ack()
	}, nats.IdleHeartbeat(time.Second), nats.EnableFlowControl(), nats.DeliverAll(), nats.ManualAck())
	must(t, err)
	defer sub.Unsubscribe()
	for i := range n {
		select {
		case v := <-got:
			if v != strconv.Itoa(i) {
				t.Fatalf("push message %d is %q", i, v)
			}
		case <-time.After(testTimeout):
			t.Fatalf("push consumer stopped after %d messages", i)
		}
	}
}

// replay_policy original spaces deliveries as the messages were stored; rate_limit_bps
// slows a push consumer; sample_freq 100% publishes an ack metric per ack.
func TestE2EJetStreamPacingAndMetrics(t *testing.T) {
	p, _ := startJS(t)
	nc, js, ctx := jsClient(t, p)
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "RP", Subjects: []string{"rp"}})
	must(t, err)
	_, err = js.Publish(ctx, "rp", []byte("first"))
	must(t, err)
	time.Sleep(400 * time.Millisecond)
	_, err = js.Publish(ctx, "rp", []byte("second"))
	must(t, err)
	c, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "RP", AckPolicy: jetstream.AckExplicitPolicy,
		ReplayPolicy: jetstream.ReplayOriginalPolicy, SampleFrequency: "100%"})
	must(t, err)
	metrics, err := nc.SubscribeSync("$JS.EVENT.METRIC.CONSUMER.ACK.RP.RP")
	must(t, err)
	must(t, nc.Flush())
	start := time.Now()
	b, err := c.Fetch(2, jetstream.FetchMaxWait(3*time.Second))
	must(t, err)
	n := 0
	for m := range b.Messages() {
		n++
		must(t, m.DoubleAck(ctx))
	}
	if took := time.Since(start); n != 2 || took < 300*time.Millisecond {
		t.Fatalf("replay original: %d messages in %v, want 2 about 400ms apart", n, took)
	}
	for range 2 {
		m, err := metrics.NextMsg(testTimeout)
		must(t, err)
		var metric struct {
			Type    string `json:"type"`
			AckTime int64  `json:"ack_time"`
		}
		must(t, json.Unmarshal(m.Data, &metric))
		if metric.Type != "io.nats.jetstream.metric.v1.consumer_ack" || metric.AckTime <= 0 {
			t.Fatalf("metric %s", m.Data)
		}
	}
	// 8,000 bits per second: ten 500-byte messages take about five seconds; after one
	// second far fewer than ten have come.
	for range 10 {
		_, err := js.Publish(ctx, "rp", make([]byte, 500))
		must(t, err)
	}
	legacy, err := nc.JetStream()
	must(t, err)
	sub, err := legacy.SubscribeSync("rp", nats.RateLimit(8000), nats.AckNone(), nats.DeliverAll())
	must(t, err)
	defer sub.Unsubscribe()
	time.Sleep(time.Second)
	if got, _, _ := sub.Pending(); got >= 6 {
		t.Fatalf("rate limit 8000 bps delivered %d messages of 500 bytes in a second", got)
	}
}

// A message schedule fires on its target: once for @at (and the schedule goes), repeatedly
// for @every.
func TestE2EJetStreamSchedules(t *testing.T) {
	p, _ := startJS(t)
	_, js, ctx := jsClient(t, p)
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "SC", Subjects: []string{"sc.>"}, AllowMsgSchedules: true})
	must(t, err)
	m := nats.NewMsg("sc.schedule.once")
	m.Header.Set("Nats-Schedule", "@at "+time.Now().Add(time.Second).UTC().Format(time.RFC3339))
	m.Header.Set("Nats-Schedule-Target", "sc.out")
	m.Data = []byte("later")
	_, err = js.PublishMsg(ctx, m)
	must(t, err)
	var got *jetstream.RawStreamMsg
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if got, err = s.GetLastMsgForSubject(ctx, "sc.out"); err == nil {
			break
		}
	}
	if got == nil || string(got.Data) != "later" || got.Header.Get("Nats-Scheduler") != "sc.schedule.once" ||
		got.Header.Get("Nats-Schedule-Next") != "purge" {
		t.Fatalf("scheduled message: %+v %v", got, err)
	}
	if _, err := s.GetLastMsgForSubject(ctx, "sc.schedule.once"); !errors.Is(err, jetstream.ErrMsgNotFound) {
		t.Fatalf("the one-off schedule is still there: %v", err)
	}
}
