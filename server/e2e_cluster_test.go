package server

import (
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// A cluster of three real petrel processes, each configured with a cluster {} block that
// lists all three route URLs (its own included, as users write them), driven by nats.go.

type e2eCluster struct {
	nodes []*proc
	confs []string
}

// startCluster starts n nodes; extra is added to every node's configuration file.
func startCluster(t *testing.T, n int, extra string) *e2eCluster {
	t.Helper()
	return startClusterWith(t, n, func(int) string { return extra })
}

// startClusterWith starts n nodes; extra(i) is added to node i's configuration file.
func startClusterWith(t *testing.T, n int, extra func(i int) string) *e2eCluster {
	t.Helper()
	return startClusterBlocks(t, n, extra, func(int) string { return "" })
}

// startClusterBlocks starts n nodes; extra(i) is added to node i's configuration file and
// block(i) to its cluster block.
func startClusterBlocks(t *testing.T, n int, extra, block func(i int) string) *e2eCluster {
	t.Helper()
	var routePorts []string
	for range n {
		routePorts = append(routePorts, freePort(t))
	}
	var routes []string
	for _, p := range routePorts {
		routes = append(routes, fmt.Sprintf("%q", "nats-route://127.0.0.1:"+p))
	}
	c := &e2eCluster{}
	dir := t.TempDir()
	for i := range n {
		cfg := filepath.Join(dir, fmt.Sprintf("n%d.conf", i+1))
		writeConf(t, cfg, fmt.Sprintf("server_name: n%d\n%scluster {\n  name: e2e\n  listen: 127.0.0.1:%s\n  routes: [%s]\n%s}\n",
			i+1, extra(i), routePorts[i], strings.Join(routes, ", "), block(i)))
		c.confs = append(c.confs, cfg)
		c.nodes = append(c.nodes, startPetrel(t, "-c", cfg))
	}
	return c
}

// waitRouted waits until a message published on from reaches a subscriber on to: the
// routes are up and the subscriber's interest has propagated.
func waitRouted(t *testing.T, from, to *nats.Conn, subj string) {
	t.Helper()
	sub, err := to.SubscribeSync(subj)
	must(t, err)
	defer func() { _ = sub.Unsubscribe() }()
	must(t, to.Flush())
	deadline := time.Now().Add(testTimeout)
	for time.Now().Before(deadline) {
		must(t, from.Publish(subj, []byte("probe")))
		must(t, from.Flush())
		if _, err := sub.NextMsg(100 * time.Millisecond); err == nil {
			return
		}
	}
	t.Fatalf("no message on %s crossed the cluster within %v", subj, testTimeout)
}

func TestE2EClusterPubSubQueueRequest(t *testing.T) {
	c := startCluster(t, 3, "")
	var ncs []*nats.Conn
	for _, p := range c.nodes {
		ncs = append(ncs, connect(t, p.url()))
	}
	waitRouted(t, ncs[0], ncs[1], "probe.12")
	waitRouted(t, ncs[0], ncs[2], "probe.13")
	waitRouted(t, ncs[2], ncs[1], "probe.32")

	// Pub/sub: a subscriber on n2 gets what n1 publishes, once.
	sub, err := ncs[1].SubscribeSync("orders.>")
	must(t, err)
	must(t, ncs[1].Flush())
	time.Sleep(100 * time.Millisecond) // the interest crosses the route
	must(t, ncs[0].Publish("orders.eu.new", []byte("one")))
	if m := next(t, sub); string(m.Data) != "one" || m.Subject != "orders.eu.new" {
		t.Fatalf("n2 got %q on %s", m.Data, m.Subject)
	}
	none(t, ncs[1], sub)

	// Queue group: one member per message, cluster-wide, every member used.
	counts := make([]chan struct{}, 3)
	for i, nc := range ncs {
		counts[i] = make(chan struct{}, 1000)
		ch := counts[i]
		_, err := nc.QueueSubscribe("work", "q", func(*nats.Msg) { ch <- struct{}{} })
		must(t, err)
		must(t, nc.Flush())
	}
	time.Sleep(200 * time.Millisecond)
	const n = 300
	for i := range n {
		must(t, ncs[0].Publish("work", []byte(fmt.Sprint(i))))
	}
	must(t, ncs[0].Flush())
	total := 0
	deadline := time.After(testTimeout)
	for total < n {
		select {
		case <-counts[0]:
		case <-counts[1]:
		case <-counts[2]:
		case <-deadline:
			t.Fatalf("queue group got %d of %d messages", total, n)
		}
		total++
	}
	time.Sleep(200 * time.Millisecond)
	for i, ch := range counts {
		if len(ch) != 0 {
			t.Fatalf("queue member on n%d got extra messages: a message went to two members", i+1)
		}
	}

	// Request/reply: a responder on n3 answers a request made on n1.
	_, err = ncs[2].Subscribe("svc.echo", func(m *nats.Msg) { _ = m.Respond(append([]byte("re:"), m.Data...)) })
	must(t, err)
	must(t, ncs[2].Flush())
	time.Sleep(100 * time.Millisecond)
	resp, err := ncs[0].Request("svc.echo", []byte("hi"), testTimeout)
	must(t, err)
	if string(resp.Data) != "re:hi" {
		t.Fatalf("reply %q", resp.Data)
	}
}

// A client whose node is killed (SIGKILL) reconnects to another member, learned from the
// connect_urls its node sent, and its subscription works again there. The node then
// restarts and rejoins: its peers redial it and its clients' interest is routed again.
func TestE2EClusterFailoverOnKill(t *testing.T) {
	c := startCluster(t, 3, "")
	pub := connect(t, c.nodes[0].url())
	reconnected := make(chan string, 4)
	victim := connect(t, c.nodes[2].url(), nats.ReconnectWait(100*time.Millisecond), nats.MaxReconnects(-1),
		nats.ReconnectHandler(func(nc *nats.Conn) { reconnected <- nc.ConnectedUrl() }))
	waitRouted(t, pub, victim, "probe.before")
	if got := victim.DiscoveredServers(); len(got) < 2 {
		t.Fatalf("client on n3 discovered %v, want the other two members", got)
	}
	sub, err := victim.SubscribeSync("after.kill")
	must(t, err)
	must(t, victim.Flush())

	must(t, c.nodes[2].cmd.Process.Kill()) // SIGKILL
	select {
	case u := <-reconnected:
		if strings.HasSuffix(u, ":"+c.nodes[2].port) {
			t.Fatalf("reconnected to the killed node %s", u)
		}
	case <-time.After(testTimeout):
		t.Fatal("client did not reconnect to another member")
	}
	waitRouted(t, pub, victim, "probe.after")
	must(t, pub.Publish("after.kill", []byte("still here")))
	if m := next(t, sub); string(m.Data) != "still here" {
		t.Fatalf("after failover got %q", m.Data)
	}

	back := startPetrelOn(t, c.nodes[2].port, "-c", c.confs[2])
	rejoined := connect(t, back.url())
	waitRouted(t, pub, rejoined, "probe.rejoined")
	waitRouted(t, rejoined, victim, "probe.from.rejoined")
}

// A client whose node enters lame duck mode (SIGUSR2) is told (ldm), closed, and
// reconnects to another member, where its subscription works again.
func TestE2EClusterFailoverOnLameDuck(t *testing.T) {
	c := startCluster(t, 3, "lame_duck_duration: \"30s\"\nlame_duck_grace_period: \"200ms\"\n")
	pub := connect(t, c.nodes[0].url())
	ldm := make(chan struct{}, 1)
	reconnected := make(chan string, 4)
	client := connect(t, c.nodes[1].url(), nats.ReconnectWait(100*time.Millisecond), nats.MaxReconnects(-1),
		nats.LameDuckModeHandler(func(*nats.Conn) { ldm <- struct{}{} }),
		nats.ReconnectHandler(func(nc *nats.Conn) { reconnected <- nc.ConnectedUrl() }))
	waitRouted(t, pub, client, "probe.before")
	sub, err := client.SubscribeSync("after.ldm")
	must(t, err)
	must(t, client.Flush())

	must(t, c.nodes[1].cmd.Process.Signal(syscall.SIGUSR2))
	for _, ch := range []chan struct{}{ldm} {
		select {
		case <-ch:
		case <-time.After(testTimeout):
			t.Fatal("no lame duck INFO")
		}
	}
	select {
	case u := <-reconnected:
		if strings.HasSuffix(u, ":"+c.nodes[1].port) {
			t.Fatalf("reconnected to the node in lame duck %s", u)
		}
	case <-time.After(testTimeout):
		t.Fatal("client did not reconnect to another member")
	}
	waitRouted(t, pub, client, "probe.after")
	must(t, pub.Publish("after.ldm", []byte("moved")))
	if m := next(t, sub); string(m.Data) != "moved" {
		t.Fatalf("after lame duck failover got %q", m.Data)
	}
}

// A burst across a route arrives complete and in order (per publisher order holds over the
// route, whichever executors queued the bytes).
func TestE2EClusterBurstInOrder(t *testing.T) {
	burstInOrder(t, startCluster(t, 2, ""))
}

// The same burst over a compressed route: the two nodes compress at different levels.
func TestE2EClusterBurstCompressed(t *testing.T) {
	modes, mports := []string{"s2_fast", "s2_best"}, []string{freePort(t), freePort(t)}
	c := startClusterBlocks(t, 2, func(i int) string { return "http: 127.0.0.1:" + mports[i] + "\n" }, func(i int) string {
		return "  compression: " + modes[i] + "\n"
	})
	burstInOrder(t, c)
	for i, mp := range mports {
		waitBody(t, "http://127.0.0.1:"+mp+"/routez", `"compression": "`+modes[i]+`"`)
	}
}

func burstInOrder(t *testing.T, c *e2eCluster) {
	t.Helper()
	pub, subc := connect(t, c.nodes[0].url()), connect(t, c.nodes[1].url())
	waitRouted(t, pub, subc, "probe.burst")
	sub, err := subc.SubscribeSync("burst")
	must(t, err)
	must(t, sub.SetPendingLimits(-1, -1))
	must(t, subc.Flush())
	time.Sleep(100 * time.Millisecond)
	const n = 20000
	payload := make([]byte, 128)
	for i := range n {
		copy(payload, fmt.Sprintf("%08d", i))
		must(t, pub.Publish("burst", payload))
	}
	must(t, pub.Flush())
	for i := range n {
		m := next(t, sub)
		if got := string(m.Data[:8]); got != fmt.Sprintf("%08d", i) {
			t.Fatalf("message %d arrived as %s", i, got)
		}
	}
	none(t, subc, sub)
}
