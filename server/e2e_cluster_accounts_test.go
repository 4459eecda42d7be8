package server

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// Accounts across a cluster of three real processes (accountsConf on every node): a
// stream import and a service import, publisher and subscriber on different nodes.

// waitImported publishes on subj from pub until sub (on another node, through an import)
// gets one: the routes are up and the importer's interest reached the exporter's server.
func waitImported(t *testing.T, pub *nats.Conn, subj string, sub *nats.Subscription) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for time.Now().Before(deadline) {
		must(t, pub.Publish(subj, []byte("probe")))
		must(t, pub.Flush())
		if _, err := sub.NextMsg(100 * time.Millisecond); err == nil {
			return
		}
	}
	t.Fatalf("nothing published on %s crossed the cluster through the import within %v", subj, testTimeout)
}

// drain takes what the probes left on subs, once they have had time to arrive.
func drain(subs ...*nats.Subscription) {
	time.Sleep(200 * time.Millisecond)
	for _, sub := range subs {
		for {
			if _, err := sub.NextMsg(20 * time.Millisecond); err != nil {
				break
			}
		}
	}
}

// waitResponder requests subj from req until one answers: the responder's interest
// reached the requester's server.
func waitResponder(t *testing.T, req *nats.Conn, subj string) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for time.Now().Before(deadline) {
		if _, err := req.Request(subj, []byte("probe"), 200*time.Millisecond); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no responder on %s answered across the cluster within %v", subj, testTimeout)
}

func TestE2EClusterStreamAndServiceImports(t *testing.T) {
	c := startCluster(t, 3, accountsConf)
	a1 := connect(t, c.nodes[0].url(), nats.UserInfo("a", "a"))
	c2 := connect(t, c.nodes[1].url(), nats.UserInfo("c", "c"))
	c3 := connect(t, c.nodes[2].url(), nats.UserInfo("c", "c"))

	// Stream import: A publishes on n1, C's subscribers on n2 and n3 get it once each,
	// under C's prefix.
	sub2, err := c2.SubscribeSync("fromA.orders.>")
	must(t, err)
	sub3, err := c3.SubscribeSync("fromA.orders.eu.*")
	must(t, err)
	must(t, c2.Flush())
	must(t, c3.Flush())
	waitImported(t, a1, "orders.eu.probe", sub2)
	waitImported(t, a1, "orders.eu.probe", sub3)
	drain(sub2, sub3)
	for i := range 20 {
		must(t, a1.Publish("orders.eu.new", []byte(fmt.Sprint(i))))
	}
	must(t, a1.Flush())
	for _, sub := range []*nats.Subscription{sub2, sub3} {
		for i := range 20 {
			if m := next(t, sub); m.Subject != "fromA.orders.eu.new" || string(m.Data) != fmt.Sprint(i) {
				t.Fatalf("%s: message %d is %q on %s", sub.Subject, i, m.Data, m.Subject)
			}
		}
	}
	none(t, c2, sub2)
	none(t, c3, sub3)

	// Service imports: C requests on n3, A's responders are on n2; each answer crosses back
	// to n3, where the request was mapped, and reaches C's reply subject.
	a2 := connect(t, c.nodes[1].url(), nats.UserInfo("a", "a"))
	_, err = a2.Subscribe("svc.one", func(m *nats.Msg) { _ = m.Respond(append([]byte("one:"), m.Data...)) })
	must(t, err)
	must(t, a2.Flush())
	waitResponder(t, c3, "one")
	for i := range 10 {
		m, err := c3.Request("one", []byte(fmt.Sprint(i)), testTimeout)
		must(t, err)
		if string(m.Data) != "one:"+fmt.Sprint(i) {
			t.Fatalf("response %d: %q", i, m.Data)
		}
	}
	_, err = a2.Subscribe("svc.many", func(m *nats.Msg) {
		for i := range 3 {
			_ = m.Respond([]byte(fmt.Sprintf("part %d", i)))
		}
	})
	must(t, err)
	must(t, a2.Flush())
	waitResponder(t, c3, "svc.many")
	inbox := nats.NewInbox()
	parts, err := c3.SubscribeSync(inbox)
	must(t, err)
	must(t, c3.PublishRequest("svc.many", inbox, []byte("go")))
	var got []string
	for range 3 {
		got = append(got, string(next(t, parts).Data))
	}
	if strings.Join(got, ",") != "part 0,part 1,part 2" {
		t.Fatalf("streamed responses %q", got)
	}
	none(t, c3, parts)

	// Nobody answers "chunks" anywhere in the cluster: one 503, at once.
	start := time.Now()
	if _, err := c3.Request("chunks", []byte("x"), testTimeout); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("a request nobody answers: %v, want no responders", err)
	}
	if d := time.Since(start); d > testTimeout/2 {
		t.Fatalf("the 503 took %v", d)
	}
}
