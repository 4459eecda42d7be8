package core_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/sim"
)

// A three-node cluster in one simulated world: the real engine on each node, routes on
// port 6222 (each node seeded with the other two), raw protocol clients on a fourth node.

type clusterRig struct {
	t    *testing.T
	w    *sim.World
	srvs []*core.Server
	cli  *env.Env
}

func newClusterRig(t *testing.T, n int) *clusterRig {
	t.Helper()
	r := startClusterRig(t, n, func(i, j int) bool { return i != j })
	r.wantMesh("at start")
	return r
}

// routeConnsPerPeer is the connections between two nodes with the default options: a pool
// of 3 and the system account's own.
const routeConnsPerPeer = 4

// wantMesh fails unless every node has a route to every other, its pool complete.
func (r *clusterRig) wantMesh(when string) {
	r.t.Helper()
	for i, s := range r.srvs {
		if got := len(s.RoutePeers()); got != len(r.srvs)-1 {
			r.t.Fatalf("s%d has %d routes %s, want %d", i+1, got, when, len(r.srvs)-1)
		}
		for _, peer := range s.RoutePeers() {
			if got := s.RouteConns(peer); got != routeConnsPerPeer {
				r.t.Fatalf("s%d has %d connections to %s %s, want %d", i+1, got, peer, when, routeConnsPerPeer)
			}
		}
	}
}

// wantRouted subscribes to subject on node to and publishes it on node from (1-based): the
// subscriber must get it once.
func (r *clusterRig) wantRouted(from, to int, subject, when string) {
	r.t.Helper()
	sub := r.dial(to)
	r.send(sub, "SUB "+subject+" 1\r\n")
	pub := r.dial(from)
	r.send(pub, "PUB "+subject+" 1\r\nx\r\n")
	if got := msgs(sub); len(got) != 1 {
		r.t.Fatalf("s%d got %q from s%d %s", to, got, from, when)
	}
}

// seedRoutes is node i's configured routes: node j's when seeds(i, j) (0-based).
func seedRoutes(n, i int, seeds func(i, j int) bool) []*url.URL {
	var routes []*url.URL
	for j := range n {
		if seeds(i, j) {
			routes = append(routes, &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("s%d:6222", j+1)})
		}
	}
	return routes
}

func clusterOpts(n, i int, seeds func(i, j int) bool) core.Options {
	return core.Options{Host: fmt.Sprintf("s%d", i+1), Port: 4222, ServerName: fmt.Sprintf("s%d", i+1),
		Cluster: &core.ClusterOptions{Name: "c1", Host: fmt.Sprintf("s%d", i+1), Port: 6222, Routes: seedRoutes(n, i, seeds)}}
}

// startClusterRig starts n nodes seeded by seeds and runs the world 3s.
func startClusterRig(t *testing.T, n int, seeds func(i, j int) bool) *clusterRig {
	t.Helper()
	return startClusterRigWith(t, n, seeds, nil)
}

// startClusterRigWith is startClusterRig with node i's options changed by configure.
func startClusterRigWith(t *testing.T, n int, seeds func(i, j int) bool, configure func(i int, o *core.Options)) *clusterRig {
	t.Helper()
	quiet := sim.Quiet()
	r := &clusterRig{t: t, w: sim.NewWorld(1, sim.Options{Profile: &quiet}), srvs: make([]*core.Server, n)}
	for i := range n {
		opts := clusterOpts(n, i, seeds)
		if configure != nil {
			configure(i, &opts)
		}
		r.w.AddNode(fmt.Sprintf("s%d", i+1), sim.NodeConfig{}, func(e *env.Env) {
			s, err := core.New(opts, e)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Start(); err != nil {
				t.Fatal(err)
			}
			r.srvs[i] = s
		})
	}
	r.w.AddNode("c1", sim.NodeConfig{}, func(e *env.Env) { r.cli = e })
	r.run(3 * time.Second) // routes dial, handshake and exchange interest
	return r
}

func (r *clusterRig) run(d time.Duration) { r.w.RunUntil(r.w.Now() + d) }

// dial connects a raw client to node i (1-based) and sends CONNECT and PING (async INFO
// comes only after the PONG that ends the connect sequence).
func (r *clusterRig) dial(i int) *rawClient {
	r.t.Helper()
	c := r.dialOnly(i)
	r.send(c, connectLine+"PING\r\n")
	return c
}

const connectLine = "CONNECT {\"verbose\":false,\"protocol\":1,\"headers\":true,\"no_responders\":true}\r\n"

// dialOnly connects a raw client to node i and sends nothing.
func (r *clusterRig) dialOnly(i int) *rawClient {
	r.t.Helper()
	return dialRaw(r.t, r.w, r.cli, fmt.Sprintf("s%d:4222", i))
}

func (r *clusterRig) send(c *rawClient, s string) {
	r.t.Helper()
	if err := c.conn.Write([]byte(s)); err != nil {
		r.t.Fatalf("send %q: %v", s, err)
	}
	r.run(100 * time.Millisecond)
}

// msgs returns the MSG lines a client got, without INFO, PING or PONG.
func msgs(c *rawClient) []string {
	var out []string
	for _, l := range strings.Split(c.got.String(), "\r\n") {
		if strings.HasPrefix(l, "MSG ") || strings.HasPrefix(l, "HMSG ") {
			out = append(out, l)
		}
	}
	return out
}

func TestClusterPubSubAcrossNodes(t *testing.T) {
	r := newClusterRig(t, 3)
	sub := r.dial(2)
	r.send(sub, "SUB orders.* 1\r\n")
	pub := r.dial(1)
	r.send(pub, "PUB orders.new 5\r\nhello\r\n")
	if got := msgs(sub); len(got) != 1 || got[0] != "MSG orders.new 1 5" {
		t.Fatalf("subscriber on s2 got %q, want one MSG orders.new", got)
	}
	if !strings.Contains(sub.got.String(), "hello") {
		t.Fatalf("payload lost: %q", sub.got.String())
	}
	// After UNSUB the interest is withdrawn cluster-wide: nothing more arrives.
	r.send(sub, "UNSUB 1\r\n")
	r.send(pub, "PUB orders.new 2\r\nhi\r\n")
	if got := msgs(sub); len(got) != 1 {
		t.Fatalf("after UNSUB the subscriber got %q", got)
	}
}

func TestClusterQueueGroupOneMemberPerMessage(t *testing.T) {
	r := newClusterRig(t, 3)
	var members []*rawClient
	for i := 1; i <= 3; i++ {
		m := r.dial(i)
		r.send(m, "SUB work q 1\r\n")
		members = append(members, m)
	}
	pub := r.dial(1)
	const n = 60
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "PUB work 2\r\n%02d\r\n", i)
	}
	r.send(pub, b.String())
	r.run(500 * time.Millisecond)
	wantSpread(t, members, n)
}

// wantSpread fails unless a queue group's members, one per node, took n messages between
// them exactly once each, every member some.
func wantSpread(t *testing.T, members []*rawClient, n int) {
	t.Helper()
	total := 0
	for i, m := range members {
		got := len(msgs(m))
		total += got
		if got == 0 {
			t.Errorf("member on s%d got nothing of %d messages (the group spans the cluster)", i+1, n)
		}
	}
	if total != n {
		t.Fatalf("queue group got %d deliveries of %d messages, want exactly one each", total, n)
	}
}

func TestClusterRequestReplyAcrossNodes(t *testing.T) {
	r := newClusterRig(t, 3)
	svc := r.dial(3)
	r.send(svc, "SUB svc.echo 1\r\n")
	req := r.dial(1)
	r.send(req, "SUB _INBOX.r1 9\r\nPUB svc.echo _INBOX.r1 4\r\nping\r\n")
	got := msgs(svc)
	if len(got) != 1 || got[0] != "MSG svc.echo 1 _INBOX.r1 4" {
		t.Fatalf("responder on s3 got %q", got)
	}
	r.send(svc, "PUB _INBOX.r1 4\r\npong\r\n")
	if got := msgs(req); len(got) != 1 || got[0] != "MSG _INBOX.r1 9 4" {
		t.Fatalf("requester on s1 got %q, want the reply", got)
	}
	// A request nobody in the cluster answers gets 503 from the requester's server.
	r.send(req, "SUB _INBOX.r2 10\r\nPUB svc.none _INBOX.r2 1\r\nx\r\n")
	if !strings.Contains(req.got.String(), "NATS/1.0 503") {
		t.Fatalf("no 503 for a request without responders: %q", req.got.String())
	}
}

func TestClusterConnectURLs(t *testing.T) {
	r := newClusterRig(t, 3)
	c := r.dial(1)
	info := strings.SplitN(c.got.String(), "\r\n", 2)[0]
	for i := 1; i <= 3; i++ {
		if want := fmt.Sprintf("s%d:4222", i); !strings.Contains(info, want) {
			t.Errorf("INFO connect_urls lacks %s: %s", want, info)
		}
	}
}

// A node that crashes leaves its peers' connect_urls (async INFO to their clients); once it
// restarts, the peers redial it (configured routes are retried forever), it is back in
// connect_urls, and its clients' interest is routed again.
func TestClusterNodeCrashAndRejoin(t *testing.T) {
	r := newClusterRig(t, 3)
	c := r.dial(1)
	connecting := r.dialOnly(1) // greeted with s3 in connect_urls; CONNECT, no PING yet
	r.send(connecting, connectLine)
	before := c.got.Len()
	r.w.Nodes()[2].Crash(false)
	r.run(2 * time.Second)
	gone := c.got.String()[before:]
	if !strings.Contains(gone, "INFO ") || strings.Contains(gone, "s3:4222") || !strings.Contains(gone, "s2:4222") {
		t.Fatalf("no async INFO without s3 after it crashed: %q", gone)
	}
	// The client still connecting hears nothing until its PONG, then the INFO it missed.
	if got := strings.Count(connecting.got.String(), "INFO "); got != 1 {
		t.Fatalf("a client before its first PONG got %d INFOs: %q", got, connecting.got.String())
	}
	r.send(connecting, "PING\r\n")
	if rest := strings.SplitN(connecting.got.String(), "\r\n", 2)[1]; !strings.HasPrefix(rest, "PONG\r\nINFO ") || strings.Contains(rest, "s3:4222") {
		t.Fatalf("after its first PONG the client got %q, want PONG then an INFO without s3", rest)
	}
	if got := len(r.srvs[0].RoutePeers()); got != 1 {
		t.Fatalf("s1 has %d routes with s3 down, want 1", got)
	}
	before = c.got.Len()
	r.w.Nodes()[2].Restart()
	r.run(3 * time.Second)
	if !strings.Contains(c.got.String()[before:], "s3:4222") {
		t.Fatalf("no async INFO with s3 after it restarted: %q", c.got.String()[before:])
	}
	r.wantMesh("after s3 rejoined")
	sub := r.dial(3)
	r.send(sub, "SUB back.again 1\r\n")
	r.send(c, "PUB back.again 2\r\nok\r\n")
	if got := msgs(sub); len(got) != 1 {
		t.Fatalf("subscriber on the restarted s3 got %q", got)
	}
}

// A node entering lame duck mode tells its peers, whose clients get an async INFO without
// its client URL, while its own clients are told (ldm) and still reach the cluster.
func TestClusterLameDuckWithdrawsConnectURL(t *testing.T) {
	r := newClusterRig(t, 3)
	c := r.dial(1)
	leaving := r.dial(3)
	r.send(leaving, "SUB still.here 1\r\n")
	before := c.got.Len()
	r.srvs[2].LameDuck(nil)
	r.run(500 * time.Millisecond)
	got := c.got.String()[before:]
	if !strings.Contains(got, "INFO ") || strings.Contains(got, "s3:4222") || !strings.Contains(got, "s2:4222") {
		t.Fatalf("s1's client got %q, want an INFO without s3", got)
	}
	if !strings.Contains(leaving.got.String(), `"ldm":true`) {
		t.Fatalf("s3's client was not told of lame duck: %q", leaving.got.String())
	}
	r.send(c, "PUB still.here 2\r\nok\r\n")
	if got := msgs(leaving); len(got) != 1 {
		t.Fatalf("s3's client during lame duck got %q", got)
	}
}

// One seed is enough: s2 and s3 list only s1, and gossip completes the mesh.
func TestClusterGossipCompletesMesh(t *testing.T) {
	r := startClusterRig(t, 3, func(i, j int) bool { return i != 0 && j == 0 })
	r.wantMesh("(gossip)")
	r.wantRouted(2, 3, "via.gossip", "over the gossiped route")
}

// A reload that adds a route dials it: s3 starts alone and joins when its routes reload.
func TestClusterReloadAddsRoute(t *testing.T) {
	seeds := func(i, j int) bool { return i != j && i != 2 && j != 2 }
	r := startClusterRig(t, 3, seeds)
	if got := len(r.srvs[2].RoutePeers()); got != 0 {
		t.Fatalf("s3 has %d routes before the reload", got)
	}
	var reloadErr error
	opts := clusterOpts(3, 2, func(i, j int) bool { return j == 0 })
	r.srvs[2].Reload(opts, func(err error) { reloadErr = err })
	r.run(3 * time.Second)
	if reloadErr != nil {
		t.Fatal(reloadErr)
	}
	r.wantMesh("after s3's reload")
}

// A reload that removes a route closes it for good, as nats-server does: s1 alone dialled
// s2, and after s1's routes reload empty the two stay apart.
func TestClusterReloadRemovesRoute(t *testing.T) {
	seeds := func(i, j int) bool { return i == 0 && j == 1 }
	r := startClusterRig(t, 2, seeds)
	r.wantMesh("at start")
	var reloadErr error
	r.srvs[0].Reload(clusterOpts(2, 0, func(i, j int) bool { return false }), func(err error) { reloadErr = err })
	r.run(10 * time.Second)
	if reloadErr != nil {
		t.Fatal(reloadErr)
	}
	for i, s := range r.srvs {
		if got := s.RoutePeers(); len(got) != 0 {
			t.Fatalf("s%d still routes to %v 10s after the route was removed", i+1, got)
		}
	}
}

// A partitioned route is found by its ping timers and closed; after the partition heals the
// dialling side gets through again, the mesh is full, and messages cross once more.
func TestClusterPartitionHeals(t *testing.T) {
	r := newClusterRig(t, 3)
	r.w.Network().Partition(0, 1, false)
	r.run(2 * time.Minute)
	if got := r.srvs[0].RoutePeers(); len(got) != 1 {
		t.Fatalf("s1 still has %d routes after 2m cut off from s2", len(got))
	}
	r.w.Network().HealAll()
	r.run(10 * time.Second)
	r.wantMesh("after the partition healed")
	r.wantRouted(1, 2, "healed", "after the heal")
}

// TestClusterPublishFlushesRoutePerRead: a client's read of many publishes reaches a route
// in one flush at its end, not one per message (a write per message held cross-node pub/sub
// at a third of nats-server's rate).
func TestClusterPublishFlushesRoutePerRead(t *testing.T) {
	r := newClusterRig(t, 2)
	sub := r.dial(2)
	r.send(sub, "SUB orders.* 1\r\n")
	pub := r.dial(1)
	const n = 100
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "PUB orders.new 2\r\n%02d\r\n", i)
	}
	before := r.w.Coverage()["core.route.flush"]
	r.send(pub, b.String())
	flushes := r.w.Coverage()["core.route.flush"] - before
	if got := len(msgs(sub)); got != n {
		t.Fatalf("subscriber on s2 got %d of %d messages", got, n)
	}
	if flushes == 0 || flushes > 5 {
		t.Fatalf("%d route flushes for %d messages in one write, want one per read", flushes, n)
	}
}

// TestClusterCompressedRoutes: routes between nodes whose modes ask for compression carry
// everything compressed (a large message, a queue group, interest changes), as /routez
// shows; a node that only accepts compresses with a peer that starts it, at the peer's
// level.
func TestClusterCompressedRoutes(t *testing.T) {
	modes := map[string]string{"s1": core.CompressionS2Fast, "s2": core.CompressionAccept, "s3": core.CompressionS2Best}
	r := startClusterRigWith(t, 3, func(i, j int) bool { return i != j }, func(_ int, o *core.Options) {
		o.Cluster.Compression = core.Compression{Mode: modes[o.ServerName]}
	})
	r.wantMesh("at start")
	want := map[string]map[string]string{ // node -> peer name -> mode
		"s1": {"s2": "s2_fast", "s3": "s2_fast"},
		"s2": {"s1": "s2_fast", "s3": "s2_best"},
		"s3": {"s1": "s2_best", "s2": "s2_best"},
	}
	for i, s := range r.srvs {
		for _, ri := range s.Routez(core.RoutezOptions{}).Routes {
			if got := ri.Compression; got != want[fmt.Sprintf("s%d", i+1)][ri.RemoteName] {
				t.Errorf("s%d's route to %s compresses %q", i+1, ri.RemoteName, got)
			}
		}
	}
	for from := 1; from <= 3; from++ {
		for to := 1; to <= 3; to++ {
			if from != to {
				r.wantRouted(from, to, fmt.Sprintf("z.%d.%d", from, to), "over a compressed route")
			}
		}
	}
	big := strings.Repeat("compressible ", 40000)
	sub := r.dial(3)
	r.send(sub, "SUB big 1\r\n")
	pub := r.dial(1)
	r.send(pub, fmt.Sprintf("PUB big %d\r\n%s\r\n", len(big), big))
	if got := msgs(sub); len(got) != 1 || !strings.Contains(sub.got.String(), big) {
		t.Fatalf("a %d-byte message across a compressed route: %d deliveries", len(big), len(got))
	}
}

// TestClusterClientAdvertise: connect_urls name a server by its client_advertise (with the
// client port when it names none), not by its listener; INFO names the cluster, as
// nats-server's does.
func TestClusterClientAdvertise(t *testing.T) {
	advertise := []string{"s1.public:4333", "[fd00::9]", ""}
	r := startClusterRigWith(t, 3, func(i, j int) bool { return i != j }, func(i int, o *core.Options) {
		o.ClientAdvertise = advertise[i]
	})
	r.wantMesh("at start")
	c := r.dial(3)
	info := c.got.String()
	for _, want := range []string{`"s1.public:4333"`, `"[fd00::9]:4222"`, `"s3:4222"`, `"cluster":"c1"`} {
		if !strings.Contains(info, want) {
			t.Fatalf("s3's client got %q, without %s in connect_urls", info, want)
		}
	}
	if strings.Contains(info, `"s1:4222"`) {
		t.Fatalf("s1's listener is in connect_urls: %q", info)
	}
}
