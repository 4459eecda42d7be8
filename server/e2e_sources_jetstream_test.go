package server

import (
	"context"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// waitState polls a stream's info until ok holds (the copy runs in the background).
func waitState(t *testing.T, ctx context.Context, js jetstream.JetStream, name string, ok func(*jetstream.StreamInfo) bool) *jetstream.StreamInfo {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	var info *jetstream.StreamInfo
	for time.Now().Before(deadline) {
		s, err := js.Stream(ctx, name)
		if err == nil {
			info = s.CachedInfo()
			if ok(info) {
				return info
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("stream %s never got there: %+v", name, info)
	return nil
}

func publishN(t *testing.T, ctx context.Context, js jetstream.JetStream, n int, subject func(i int) string) {
	t.Helper()
	for i := range n {
		// A loaded machine acks slowly: wait for room rather than fail on a stall.
		if _, err := js.PublishAsync(subject(i), []byte(strconv.Itoa(i)), jetstream.WithStallWait(testTimeout)); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(testTimeout):
		t.Fatal("async acks did not all arrive")
	}
}

// A mirror copies its origin with the same sequences and timestamps, gaps included, keeps
// up with new messages, and reports its lag and activity.
func TestE2EJetStreamMirror(t *testing.T) {
	p, _ := startJS(t)
	_, js, ctx := jsClient(t, p)
	origin, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ORIGIN", Subjects: []string{"o.>"}})
	must(t, err)
	publishN(t, ctx, js, 100, func(i int) string { return fmt.Sprintf("o.%d", i%3) })
	must(t, origin.DeleteMsg(ctx, 50))
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{Name: "ORIGIN"}})
	must(t, err)
	waitState(t, ctx, js, "M", func(i *jetstream.StreamInfo) bool { return i.State.Msgs == 99 && i.State.LastSeq == 100 })
	publishN(t, ctx, js, 10, func(i int) string { return "o.new" })
	info := waitState(t, ctx, js, "M", func(i *jetstream.StreamInfo) bool { return i.State.LastSeq == 110 })
	if info.Mirror == nil || info.Mirror.Name != "ORIGIN" || info.Mirror.Lag != 0 || info.Mirror.Active < 0 || info.Mirror.Error != nil {
		t.Fatalf("mirror info %+v", info.Mirror)
	}
	m, err := js.Stream(ctx, "M")
	must(t, err)
	for _, seq := range []uint64{1, 49, 51, 110} {
		got, err := m.GetMsg(ctx, seq)
		must(t, err)
		want, err := origin.GetMsg(ctx, seq)
		must(t, err)
		if got.Subject != want.Subject || string(got.Data) != string(want.Data) || !got.Time.Equal(want.Time) {
			t.Fatalf("seq %d: mirror %+v origin %+v", seq, got, want)
		}
	}
	if _, err := m.GetMsg(ctx, 50); err == nil {
		t.Fatal("the origin's deleted message is in the mirror")
	}
	// A mirror takes no publishes of its own (it has no subjects), and its config cannot change.
	if _, err := js.UpdateStream(ctx, jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{Name: "OTHER"}}); err == nil {
		t.Fatal("a mirror's origin changed")
	}
}

// Sources copy matching messages, filtered and transformed, with their own sequences and
// nats-server's Nats-Stream-Source header; a source added by an update starts copying.
func TestE2EJetStreamSources(t *testing.T) {
	p, _ := startJS(t)
	_, js, ctx := jsClient(t, p)
	_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "A", Subjects: []string{"a.>"}})
	must(t, err)
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "B", Subjects: []string{"b.>"}})
	must(t, err)
	publishN(t, ctx, js, 30, func(i int) string { return []string{"a.x", "a.y", "b.z"}[i%3] })
	cfg := jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Sources: []*jetstream.StreamSource{
		{Name: "A", FilterSubject: "a.x"},
	}}
	_, err = js.CreateStream(ctx, cfg)
	must(t, err)
	waitState(t, ctx, js, "S", func(i *jetstream.StreamInfo) bool { return i.State.Msgs == 10 })
	s, err := js.Stream(ctx, "S")
	must(t, err)
	msg, err := s.GetMsg(ctx, 1)
	must(t, err)
	if got := msg.Header.Get("Nats-Stream-Source"); msg.Subject != "a.x" || got != "A 1 a.x > a.x" {
		t.Fatalf("first copy %q header %q", msg.Subject, got)
	}
	cfg.Sources = append(cfg.Sources, &jetstream.StreamSource{Name: "B",
		SubjectTransforms: []jetstream.SubjectTransformConfig{{Source: "b.>", Destination: "s.from-b.>"}}})
	_, err = js.UpdateStream(ctx, cfg)
	must(t, err)
	info := waitState(t, ctx, js, "S", func(i *jetstream.StreamInfo) bool { return i.State.Msgs == 20 })
	msg, err = s.GetMsg(ctx, 20)
	must(t, err)
	if got := msg.Header.Get("Nats-Stream-Source"); msg.Subject != "s.from-b.z" || got != "B 10 b.> s.from-b.> b.z" {
		t.Fatalf("transformed copy %q header %q", msg.Subject, got)
	}
	if len(info.Sources) != 2 {
		t.Fatalf("sources info %+v", info.Sources)
	}
	for _, si := range info.Sources {
		if si.Lag != 0 || si.Error != nil {
			t.Fatalf("source %+v", si)
		}
	}
	// Its own publishes go on with the next sequence.
	ack, err := js.Publish(ctx, "s.own", []byte("mine"))
	if err != nil || ack.Sequence != 21 {
		t.Fatalf("own publish %+v %v", ack, err)
	}
}

// sourcedOnce checks a sourcing stream holds each origin message exactly once.
func sourcedOnce(t *testing.T, ctx context.Context, s jetstream.Stream, origin string, n int) {
	t.Helper()
	seen := map[uint64]bool{}
	info, err := s.Info(ctx)
	must(t, err)
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		must(t, err)
		f := strings.Fields(m.Header.Get("Nats-Stream-Source"))
		if len(f) < 2 || f[0] != origin {
			continue
		}
		oseq, _ := strconv.ParseUint(f[1], 10, 64)
		if seen[oseq] {
			t.Fatalf("origin %s sequence %d copied twice", origin, oseq)
		}
		seen[oseq] = true
	}
	if len(seen) != n {
		t.Fatalf("%d of %d origin messages copied", len(seen), n)
	}
}

// A server killed while a mirror and a source copy a large origin resumes both from what
// they stored: the mirror ends equal to its origin and the source holds every message once.
func TestE2EJetStreamSourcesRestartMidCopy(t *testing.T) {
	p, dir := startJS(t)
	nc, js, ctx := jsClient(t, p)
	_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "BIG", Subjects: []string{"big.>"}})
	must(t, err)
	const n = 20000
	start := time.Now()
	publishN(t, ctx, js, n, func(i int) string { return "big." + strconv.Itoa(i%10) })
	t.Logf("published %d in %v", n, time.Since(start))
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{Name: "BIG"}})
	must(t, err)
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Sources: []*jetstream.StreamSource{{Name: "BIG"}}})
	must(t, err)
	waitState(t, ctx, js, "S", func(i *jetstream.StreamInfo) bool { return i.State.Msgs > 0 })
	nc.Close()
	must(t, p.cmd.Process.Kill())
	<-p.exited
	p2 := startPetrelOn(t, p.port, "-js", "-sd", dir)
	js = newJS(t, connect(t, p2.url()))
	before, err := js.Stream(ctx, "S")
	must(t, err)
	t.Logf("after the kill: source holds %d, mirror resumes", before.CachedInfo().State.Msgs)
	start = time.Now()
	waitState(t, ctx, js, "M", func(i *jetstream.StreamInfo) bool { return i.State.Msgs == n && i.State.LastSeq == n })
	waitState(t, ctx, js, "S", func(i *jetstream.StreamInfo) bool { return i.State.Msgs >= n })
	t.Logf("both copies complete %v after the restart", time.Since(start))
	time.Sleep(200 * time.Millisecond) // a duplicate copy would land meanwhile
	s, err := js.Stream(ctx, "S")
	must(t, err)
	sourcedOnce(t, ctx, s, "BIG", n)
}

// crossConf: account ORG has the origin stream and exports its JetStream API as a
// service with streamed responses (a pull gets many messages for one request); account
// USE imports it under JS.ORG.API and sources from it through that prefix.
const crossConf = `
accounts {
  ORG: {
    jetstream: enabled
    users: [ { user: org, password: org } ]
    exports: [ { service: "$JS.API.>", response_type: stream } ]
  }
  USE: {
    jetstream: enabled
    users: [ { user: use, password: use } ]
    imports: [ { service: { account: ORG, subject: "$JS.API.>" }, to: "JS.ORG.API.>" } ]
  }
}
`

// A source in another account, through a service import of its API.
func TestE2EJetStreamSourceAcrossAccounts(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "cross.conf")
	writeConf(t, conf, crossConf)
	p, _ := startJS(t, "-c", conf)
	org := newJS(t, connect(t, p.url(), nats.UserInfo("org", "org")))
	use := newJS(t, connect(t, p.url(), nats.UserInfo("use", "use")))
	ctx, cancel := jsContext(t)
	defer cancel()
	_, err := org.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}})
	must(t, err)
	publishN(t, ctx, org, 500, func(i int) string { return "orders." + strconv.Itoa(i%5) })
	_, err = use.CreateStream(ctx, jetstream.StreamConfig{Name: "COPY", Sources: []*jetstream.StreamSource{
		{Name: "ORDERS", External: &jetstream.ExternalStream{APIPrefix: "JS.ORG.API"}}}})
	must(t, err)
	info := waitState(t, ctx, use, "COPY", func(i *jetstream.StreamInfo) bool { return i.State.Msgs == 500 })
	if len(info.Sources) != 1 || info.Sources[0].External == nil || info.Sources[0].Error != nil {
		t.Fatalf("source info %+v", info.Sources)
	}
	s, err := use.Stream(ctx, "COPY")
	must(t, err)
	sourcedOnce(t, ctx, s, "ORDERS:"+natsHash("JS.ORG.API"), 500)
	_, err = use.CreateStream(ctx, jetstream.StreamConfig{Name: "MIRROR", Mirror: &jetstream.StreamSource{
		Name: "ORDERS", External: &jetstream.ExternalStream{APIPrefix: "JS.ORG.API"}}})
	must(t, err)
	waitState(t, ctx, use, "MIRROR", func(i *jetstream.StreamInfo) bool { return i.State.LastSeq == 500 && i.State.Msgs == 500 })
}

// natsHash is nats-server's getHash (8 base-62 digits of SHA-256), which names an external
// source in Nats-Stream-Source.
func natsHash(s string) string {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	sum := sha256.Sum256([]byte(s))
	out := make([]byte, 8)
	for i := range out {
		out[i] = digits[sum[i]%62]
	}
	return string(out)
}
