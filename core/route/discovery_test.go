package route

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/petrel-io/petrel/core/proto"
)

func TestImplicitRoute(t *testing.T) {
	cfg := &Config{ServerID: "NSELF", Cluster: "c1", Routes: []string{"nats-route://Seed:6222/"}}
	known := func(id string) bool { return id == "NSELF" || id == "NKNOWN" }
	tests := []struct {
		name    string
		info    proto.RouteInfo
		pending []string
		want    string
	}{
		{name: "a new server is dialled at its advertised URL", info: proto.RouteInfo{ID: "NNEW", IP: "nats-route://new:6222/"}, want: "nats-route://new:6222/"},
		{name: "ourselves is not", info: proto.RouteInfo{ID: "NSELF", IP: "nats-route://self:6222/"}},
		{name: "a server with a route is not", info: proto.RouteInfo{ID: "NKNOWN", IP: "nats-route://k:6222/"}},
		{name: "a configured route is left to the engine (URLs compare without case)", info: proto.RouteInfo{ID: "NNEW", IP: "nats-route://seed:6222/"}},
		{name: "a URL being dialled is not dialled twice", info: proto.RouteInfo{ID: "NNEW", IP: "nats-route://new:6222/"}, pending: []string{"nats-route://new:6222/"}},
		{name: "a server that advertises no URL cannot be", info: proto.RouteInfo{ID: "NNEW"}},
		{name: "another cluster's server is not", info: proto.RouteInfo{ID: "NNEW", IP: "nats-route://new:6222/", Cluster: "c2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := implicitRoute(cfg, &tc.info, known, tc.pending)
			if got != tc.want || ok != (tc.want != "") {
				t.Fatalf("got %q %v, want %q", got, ok, tc.want)
			}
		})
	}
}

func TestClientURLs(t *testing.T) {
	peers := [][]string{{"b:4222", "a:4222"}, {"c:4222"}, nil}
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{name: "ours and every peer's, sorted, once each", cfg: Config{ClientURLs: []string{"a:4222"}}, want: []string{"a:4222", "b:4222", "c:4222"}},
		{name: "no_advertise: ours only", cfg: Config{ClientURLs: []string{"a:4222"}, NoAdvertise: true}, want: []string{"a:4222"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := clientURLs(&tc.cfg, peers); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestGossipAndClientInfo: a route registered next to another is announced to it; an INFO
// about an unknown server asks for a dial; clients hear of members coming, going into lame
// duck mode and going.
func TestGossipAndClientInfo(t *testing.T) {
	r := newTestRouter(t, nil)
	infoA := proto.RouteInfo{ID: "NA", Cluster: "c1", IP: "nats-route://a:6222/", Nonce: "n1", ConnectURLs: []string{"a:4222"}}
	a, rd := accepted(t, r, connectLine(proto.RouteConnect{Name: "NA", Cluster: "c1"}), infoLine(infoA))
	if !rd.ClientURLsChanged || !slices.Equal(rd.ClientURLs, []string{"a:4222", "self:4222"}) {
		t.Fatalf("client URLs after A: %v %v", rd.ClientURLsChanged, rd.ClientURLs)
	}
	infoB := proto.RouteInfo{ID: "NB", Cluster: "c1", IP: "nats-route://b:6222/", Nonce: "n2", ConnectURLs: []string{"b:4222"}}
	b, rd := accepted(t, r, connectLine(proto.RouteConnect{Name: "NB", Cluster: "c1"}), infoLine(infoB))
	fwd := infoB
	fwd.Nonce = ""
	if got := written(rd, a); got != string(infoLine(fwd)) {
		t.Fatalf("A was told %q, want B's INFO without its nonce", got)
	}
	if got := written(rd, b); strings.Contains(got, `"NB"`) || strings.Contains(got, `"NA"`) || len(rd.Dials) != 0 {
		t.Fatalf("B was told %q, dials %v: want our own INFO only", got, rd.Dials)
	}
	r.Receive(a, 0, infoLine(proto.RouteInfo{ID: "NC", Cluster: "c1", IP: "nats-route://c:6222/"}))
	r.Receive(b, 0, infoLine(proto.RouteInfo{ID: "NC", Cluster: "c1", IP: "nats-route://c:6222/"})) // heard twice, dialled once
	r.Receive(a, 0, infoLine(infoB))                                                                // known already
	if rd := r.Ready(); fmt.Sprint(rd.Dials) != "[nats-route://c:6222/]" {
		t.Fatalf("dials %v", rd.Dials)
	}
	ldm := infoA
	ldm.LameDuckMode = true
	r.Receive(a, 0, infoLine(ldm))
	if rd := r.Ready(); !slices.Equal(rd.ClientURLs, []string{"b:4222", "self:4222"}) {
		t.Fatalf("after A's lame duck INFO clients get %v", rd.ClientURLs)
	}
	r.Closed(b)
	if rd := r.Ready(); !slices.Equal(rd.ClientURLs, []string{"self:4222"}) || len(rd.Closes) != 1 || rd.Closes[0].Retry {
		t.Fatalf("after B went: urls %v closes %+v", rd.ClientURLs, rd.Closes)
	}
}

// TestDuplicateRule: whatever the order the two connections register in, both ends keep
// the one dialled by the smaller server id, or with equal dialers the smaller nonce.
func TestDuplicateRule(t *testing.T) {
	lo := newTestRouter(t, func(c *Config) { c.ServerID, c.ServerName = "NA", "a" })
	hi := newTestRouter(t, func(c *Config) { c.ServerID, c.ServerName = "NB", "b" })
	conn := func(r *Router, solicited bool, peer, nonce, peerNonce string) *Conn {
		c := &Conn{r: r, solicited: solicited, peerID: peer, nonce: nonce, peerNonce: peerNonce}
		if solicited {
			c.url = "x"
		}
		return c
	}
	// The same two TCP connections seen from both ends: X dialled by NA (nonce "x"),
	// Y dialled by NB (nonce "y").
	xAtA, yAtA := conn(lo, true, "NB", "x", "?"), conn(lo, false, "NB", "?", "y")
	xAtB, yAtB := conn(hi, false, "NA", "?", "x"), conn(hi, true, "NA", "y", "?")
	if !replaces(xAtA, yAtA) || replaces(yAtA, xAtA) || !replaces(xAtB, yAtB) || replaces(yAtB, xAtB) {
		t.Fatal("the two ends disagree, or the connection dialled by the larger id won")
	}
	// Two connections both dialled by NA: the dialer's nonce decides, on both ends.
	x1, x2 := conn(lo, true, "NB", "n1", "?"), conn(lo, true, "NB", "n2", "?")
	x1B, x2B := conn(hi, false, "NA", "?", "n1"), conn(hi, false, "NA", "?", "n2")
	if !replaces(x1, x2) || replaces(x2, x1) || !replaces(x1B, x2B) || replaces(x2B, x1B) {
		t.Fatal("same dialer: the smaller nonce must win on both ends")
	}
}

// TestLameDuckTellsPeers: entering lame duck mode sends each established route an INFO about
// this server with ldm, which makes the peer withdraw this server's client URLs.
func TestLameDuckTellsPeers(t *testing.T) {
	r := newTestRouter(t, nil)
	a, _ := accepted(t, r, connectLine(proto.RouteConnect{Name: "NA", Cluster: "c1"}),
		infoLine(proto.RouteInfo{ID: "NA", Cluster: "c1", IP: "nats-route://a:6222/", Nonce: "n1", ConnectURLs: []string{"a:4222"}}))
	r.LameDuck()
	got := written(r.Ready(), a)
	for _, want := range []string{`"server_id":"NSELF"`, `"ldm":true`} {
		if !strings.HasPrefix(got, "INFO ") || !strings.Contains(got, want) {
			t.Fatalf("lame duck wrote %q, want an INFO with %s", got, want)
		}
	}
	// The peer's side: a Router that has us as its route drops our client URLs.
	peer := newTestRouter(t, func(c *Config) { c.ServerID, c.ServerName, c.ClientURLs = "NA", "a", []string{"a:4222"} })
	self := proto.RouteInfo{ID: "NSELF", Cluster: "c1", IP: "nats-route://self:6222/", Nonce: "n2", ConnectURLs: []string{"self:4222"}}
	id, rd := accepted(t, peer, connectLine(proto.RouteConnect{Name: "NSELF", Cluster: "c1"}), infoLine(self))
	if !slices.Equal(rd.ClientURLs, []string{"a:4222", "self:4222"}) {
		t.Fatalf("peer's client URLs before: %v", rd.ClientURLs)
	}
	peer.Receive(id, 0, []byte(got))
	if rd := peer.Ready(); !rd.ClientURLsChanged || !slices.Equal(rd.ClientURLs, []string{"a:4222"}) {
		t.Fatalf("peer's client URLs after our lame duck INFO: %v", rd.ClientURLs)
	}
}

// TestRoutedByAdvertisedURL: a route the peer dialled makes its advertised route URL routed,
// whatever the scheme, case or slash a configured URL spells it with, so the engine does not
// dial a duplicate of it; before the route, and after it closed, it is not.
func TestRoutedByAdvertisedURL(t *testing.T) {
	r := newTestRouter(t, nil)
	if r.Routed("nats-route://peer:6222/") {
		t.Fatal("routed before any route")
	}
	connect := connectLine(proto.RouteConnect{Name: peerID, Cluster: "c1", Headers: true, Echo: true})
	id, _ := accepted(t, r, connect, infoLine(peerInfo()))
	for _, u := range []string{"nats-route://peer:6222/", "nats://PEER:6222", "nats-route://user:pw@peer:6222"} {
		if !r.Routed(u) {
			t.Errorf("%s: not routed, though peer advertises it", u)
		}
	}
	if r.Routed("nats-route://peer:6223/") || r.Routed("nats-route://other:6222/") {
		t.Fatal("another server's URL counts as routed")
	}
	r.Closed(id)
	if r.Routed("nats-route://peer:6222/") {
		t.Fatal("still routed after the route closed")
	}
}

// TestPeerURLWithoutAdvertisedIP: a peer listening on every interface without advertise
// sends no ip in its INFO (as nats-server does); its route URL is then the host the route
// reaches it at and the INFO's port: the address an accepted route came from, or the host
// dialled. That URL is what gossip passes on (a peer's loopback address would send the
// others to themselves), and what Routed compares.
func TestPeerURLWithoutAdvertisedIP(t *testing.T) {
	r := newTestRouter(t, nil)
	a, _ := accepted(t, r, connectLine(proto.RouteConnect{Name: "NA", Cluster: "c1"}),
		infoLine(proto.RouteInfo{ID: "NA", Cluster: "c1", IP: "nats-route://a:6222/", Nonce: "n1"}))
	b, err := r.Accept(0)
	if err != nil {
		t.Fatal(err)
	}
	r.SetRemoteHost(b, "10.1.2.3")
	r.Receive(b, 0, connectLine(proto.RouteConnect{Name: "NB", Cluster: "c1"}))
	r.Receive(b, 0, infoLine(proto.RouteInfo{ID: "NB", Cluster: "c1", Port: 6333, Nonce: "n2"}))
	if got := written(r.Ready(), a); !strings.Contains(got, `"ip":"nats-route://10.1.2.3:6333/"`) {
		t.Fatalf("A was told %q, want B's INFO with the address B's route came from", got)
	}
	if !r.Routed("nats-route://10.1.2.3:6333") {
		t.Fatal("B is not routed at the URL its route came from")
	}
	c, err := r.Dial("nats-route://[fd00::7]:6222/")
	if err != nil {
		t.Fatal(err)
	}
	r.Connected(c, 0)
	r.Receive(c, 0, infoLine(proto.RouteInfo{ID: "NC", Cluster: "c1", Port: 7000, Nonce: "n3"}))
	if !r.Routed("nats-route://[fd00::7]:7000/") {
		t.Fatal("C is not routed at the host dialled and its INFO's port")
	}
}
