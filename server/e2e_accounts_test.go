package server

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// accountsConf: two accounts A and B that share nothing but what they export; C imports
// from both, and D is refused by B's restricted export (not listed).
const accountsConf = `
accounts {
  A: {
    users: [ { user: a, password: a } ]
    exports: [
      { stream: "orders.>" }
      { service: "svc.one", latency: { sampling: "100%", subject: "lat.one" } }
      { service: "svc.many", response_type: stream, response_threshold: "2s" }
      { service: "svc.chunks", response_type: chunked }
    ]
  }
  B: {
    users: [ { user: b, password: b } ]
    exports: [ { stream: "prices.*", accounts: [C] } ]
  }
  C: {
    users: [ { user: c, password: c } ]
    imports: [
      { stream: { account: A, subject: "orders.>" }, prefix: "fromA" }
      { stream: { account: B, subject: "prices.*" }, to: "px.*" }
      { service: { account: A, subject: "svc.one" }, to: "one" }
      { service: { account: A, subject: "svc.many" } }
      { service: { account: A, subject: "svc.chunks" }, to: "chunks" }
    ]
  }
}
no_auth_user: b
`

func startAccounts(t *testing.T) *proc {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "accounts.conf")
	writeConf(t, conf, accountsConf)
	return startPetrel(t, "-c", conf)
}

// Two accounts are isolated both ways, on the same subjects; the no_auth_user lands in its
// account.
func TestE2EAccountsIsolated(t *testing.T) {
	p := startAccounts(t)
	a := connect(t, p.url(), nats.UserInfo("a", "a"))
	b := connect(t, p.url(), nats.UserInfo("b", "b"))
	anon := connect(t, p.url()) // no_auth_user b: account B
	subA, err := a.SubscribeSync("x.>")
	must(t, err)
	subB, err := b.SubscribeSync("x.>")
	must(t, err)
	must(t, a.Flush())
	must(t, b.Flush())
	must(t, a.Publish("x.1", []byte("from A")))
	must(t, anon.Publish("x.2", []byte("from B")))
	if m := next(t, subA); string(m.Data) != "from A" {
		t.Fatalf("A got %q", m.Data)
	}
	if m := next(t, subB); string(m.Data) != "from B" {
		t.Fatalf("B got %q", m.Data)
	}
	none(t, a, subA)
	none(t, b, subB)
}

// A stream import with a prefix, one with 'to', and a restricted export.
func TestE2EAccountsStreamImport(t *testing.T) {
	p := startAccounts(t)
	a := connect(t, p.url(), nats.UserInfo("a", "a"))
	b := connect(t, p.url(), nats.UserInfo("b", "b"))
	c := connect(t, p.url(), nats.UserInfo("c", "c"))
	orders, err := c.SubscribeSync("fromA.orders.>")
	must(t, err)
	prices, err := c.SubscribeSync("px.*")
	must(t, err)
	plain, err := c.SubscribeSync("orders.>")
	must(t, err)
	must(t, c.Flush())
	must(t, a.Publish("orders.new", []byte("o1")))
	must(t, a.Publish("private.x", []byte("no")))
	must(t, b.Publish("prices.eur", []byte("1.1")))
	if m := next(t, orders); m.Subject != "fromA.orders.new" || string(m.Data) != "o1" {
		t.Fatalf("import with prefix: %s %q", m.Subject, m.Data)
	}
	if m := next(t, prices); m.Subject != "px.eur" || string(m.Data) != "1.1" {
		t.Fatalf("import with to: %s %q", m.Subject, m.Data)
	}
	none(t, c, plain) // only under the import's subject
	// C's own publish on the imported subject stays in C.
	subA, err := a.SubscribeSync(">")
	must(t, err)
	must(t, a.Flush())
	must(t, c.Publish("fromA.orders.fake", []byte("c")))
	none(t, a, subA)
}

// Service imports: a singleton answered across accounts, a stream service answering many
// times, and no responders when the exporter has none.
func TestE2EAccountsServiceImport(t *testing.T) {
	p := startAccounts(t)
	a := connect(t, p.url(), nats.UserInfo("a", "a"))
	c := connect(t, p.url(), nats.UserInfo("c", "c"))
	if _, err := c.Request("one", []byte("q"), time.Second); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("no responder yet: %v", err)
	}
	lat, err := a.SubscribeSync("lat.one")
	must(t, err)
	_, err = a.Subscribe("svc.one", func(m *nats.Msg) {
		_ = m.Respond(append([]byte("one:"), m.Data...))
		_ = m.Respond([]byte("second answer of a singleton"))
	})
	must(t, err)
	_, err = a.Subscribe("svc.many", func(m *nats.Msg) {
		for _, part := range []string{"p1", "p2", "p3"} {
			_ = a.Publish(m.Reply, []byte(part))
		}
	})
	must(t, err)
	must(t, a.Flush())
	resp, err := c.Request("one", []byte("q"), 2*time.Second)
	must(t, err)
	if string(resp.Data) != "one:q" {
		t.Fatalf("singleton response %q", resp.Data)
	}
	var sample struct {
		Type      string `json:"type"`
		Total     int64  `json:"total"`
		Requestor struct {
			Account string `json:"acc"`
		} `json:"requestor"`
	}
	must(t, json.Unmarshal(next(t, lat).Data, &sample))
	if sample.Type != "io.nats.server.metric.v1.service_latency" || sample.Total <= 0 || sample.Requestor.Account != "C" {
		t.Fatalf("latency sample %+v", sample)
	}
	_, err = a.Subscribe("svc.chunks", func(m *nats.Msg) {
		for _, part := range []string{"c1", "c2", ""} { // an empty chunk ends the answer
			_ = a.Publish(m.Reply, []byte(part))
		}
	})
	must(t, err)
	must(t, a.Flush())
	for _, svc := range []struct{ subj, parts string }{{"svc.many", "p1,p2,p3"}, {"chunks", "c1,c2,"}} {
		inbox := c.NewRespInbox()
		replies, err := c.SubscribeSync(inbox)
		must(t, err)
		must(t, c.PublishRequest(svc.subj, inbox, []byte("q")))
		for _, want := range strings.Split(svc.parts, ",") {
			if m := next(t, replies); string(m.Data) != want {
				t.Fatalf("%s response %q, want %q", svc.subj, m.Data, want)
			}
		}
	}
	inbox := c.NewRespInbox()
	// The singleton's second answer went nowhere: a fresh request sees only its own.
	single, err := c.SubscribeSync(c.NewRespInbox())
	must(t, err)
	must(t, c.PublishRequest("one", single.Subject, []byte("r")))
	if m := next(t, single); string(m.Data) != "one:r" {
		t.Fatalf("singleton response %q", m.Data)
	}
	none(t, c, single)
	// A saw a reply subject of its own making, never C's inbox.
	peek, err := a.SubscribeSync("svc.one")
	must(t, err)
	must(t, a.Flush())
	must(t, c.PublishRequest("one", inbox, []byte("s")))
	if m := next(t, peek); !strings.HasPrefix(m.Reply, "_R_.") || strings.Contains(m.Reply, "INBOX") {
		t.Fatalf("the exporter sees reply %q", m.Reply)
	}
}

// Mappings: a literal and wildcard rewrite, a partition, and a weighted split whose shares
// are roughly kept; mappings of one account do not touch another's subjects.
func TestE2EAccountsMappings(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "mappings.conf")
	writeConf(t, conf, `
mappings {
  "old": "new"
  "orders.*.*": "byid.$2.{{wildcard(1)}}"
  "part.*": "p.{{partition(3,1)}}.{{wildcard(1)}}"
  "split": [ { destination: "left", weight: "30%" }, { destination: "right", weight: 70 } ]
}
accounts {
  X: { users: [ { user: x, password: x } ], mappings: { "old": "elsewhere" } }
}
authorization { users: [ { user: g, password: g } ] }
`)
	p := startPetrel(t, "-c", conf)
	nc := connect(t, p.url(), nats.UserInfo("g", "g"))
	sub, err := nc.SubscribeSync(">")
	must(t, err)
	must(t, nc.Flush())
	for _, pub := range []struct{ subj, want string }{
		{"old", "new"}, {"orders.eu.42", "byid.42.eu"}, {"other", "other"},
		{"part.a", "p.1.a"}, {"part.b", "p.1.b"}, {"part.c", "p.2.c"}, // FNV-1a, as nats-server
	} {
		must(t, nc.Publish(pub.subj, nil))
		if m := next(t, sub); m.Subject != pub.want {
			t.Fatalf("published %s, delivered on %s, want %s", pub.subj, m.Subject, pub.want)
		}
	}
	counts := map[string]int{}
	for range 1000 {
		must(t, nc.Publish("split", nil))
		counts[next(t, sub).Subject]++
	}
	if counts["left"]+counts["right"] != 1000 || counts["left"] < 200 || counts["left"] > 400 {
		t.Fatalf("weighted split %v", counts)
	}
	x := connect(t, p.url(), nats.UserInfo("x", "x"))
	xs, err := x.SubscribeSync(">")
	must(t, err)
	must(t, x.Flush())
	must(t, x.Publish("old", nil))
	if m := next(t, xs); m.Subject != "elsewhere" {
		t.Fatalf("account X's mapping gave %s", m.Subject)
	}
	none(t, nc, sub)
}

// Account limits: connections, subscriptions per connection and payload, each with
// nats-server's error; another account is not limited by them.
func TestE2EAccountsLimits(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "limits.conf")
	writeConf(t, conf, `
accounts {
  L: { users: [ { user: l, password: l } ], limits: { max_connections: 2, max_subs: 2, max_payload: 100 } }
  F: { users: [ { user: f, password: f } ] }
}
`)
	p := startPetrel(t, "-c", conf)
	l1 := connect(t, p.url(), nats.UserInfo("l", "l"))
	connect(t, p.url(), nats.UserInfo("l", "l"))
	_, err := nats.Connect(p.url(), nats.UserInfo("l", "l"), nats.NoReconnect())
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "maximum account active connections exceeded") {
		t.Fatalf("a third connection in L: %v", err)
	}
	for range 3 {
		connect(t, p.url(), nats.UserInfo("f", "f")) // F has no limit
	}
	errs := make(chan error, 4)
	l1.SetErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err })
	for _, s := range []string{"a", "b", "c"} {
		_, err := l1.SubscribeSync(s)
		must(t, err)
	}
	must(t, l1.Flush())
	select {
	case err := <-errs:
		if !strings.Contains(err.Error(), "maximum subscriptions exceeded") {
			t.Fatalf("third subscription: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a third subscription in L was accepted")
	}
	must(t, l1.Publish("a", make([]byte, 100)))
	must(t, l1.Flush())
	_ = l1.Publish("a", make([]byte, 101))
	_ = l1.Flush()
	deadline := time.Now().Add(2 * time.Second)
	for !l1.IsClosed() && l1.Status() == nats.CONNECTED && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if l1.Status() == nats.CONNECTED {
		t.Fatal("a payload over the account's limit was accepted")
	}
}
