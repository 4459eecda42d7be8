package server

import (
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

// JetStream features beyond the basics, through nats.go against the real binary:
// redelivery and advisories, limits, reload, stream features, pause, priority groups,
// direct gets, ordered and push consumers, pacing and metrics, schedules.

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
	_, err = js.Publish(ctx, "in.a", []byte("short"), jetstream.WithMsgTTL(time.Second))
	must(t, err)
	if r, err = rp.NextMsg(testTimeout); err != nil || r.Header.Get("Nats-Last-Sequence") != "100" {
		t.Fatalf("second republish: %v %v", r, err)
	}
	time.Sleep(1500 * time.Millisecond) // past the message's TTL
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
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "RP", Subjects: []string{"rp"}, MaxMsgSize: 600})
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
	// 8,000 bits per second, a bucket of max_msg_size (600 bytes): ten 500-byte messages
	// take about five seconds; after one second far fewer than ten have come.
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

// +WPI keeps a message from being redelivered past its ack wait.
func TestE2EJetStreamInProgress(t *testing.T) {
	p, _ := startJS(t)
	_, js, ctx := jsClient(t, p)
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "W", Subjects: []string{"w"}})
	must(t, err)
	_, err = js.Publish(ctx, "w", []byte("slow job"))
	must(t, err)
	c, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "W", AckPolicy: jetstream.AckExplicitPolicy, AckWait: 400 * time.Millisecond})
	must(t, err)
	m, err := c.Next(jetstream.FetchMaxWait(2 * time.Second))
	must(t, err)
	for range 4 {
		time.Sleep(250 * time.Millisecond)
		must(t, m.InProgress())
	}
	if again, err := c.Next(jetstream.FetchMaxWait(200 * time.Millisecond)); err == nil {
		md, _ := again.Metadata()
		t.Fatalf("redelivered while in progress: %+v", md)
	}
	must(t, m.DoubleAck(ctx))
}
