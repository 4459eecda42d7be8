package route

import (
	"testing"

	"github.com/petrel-io/petrel/core/proto"
)

// TestDuplicateWinnerInheritsRedial: our dialled route to a configured URL loses the
// duplicate rule to the connection the peer dialled; when that one later closes, the
// configured URL is dialled again, as our own connection would have been. Without it a peer
// that does not list us (one seed, gossip) never reconnected after a crash: the cluster
// workload's seed 100030 kept a partial mesh after faults stopped.
func TestDuplicateWinnerInheritsRedial(t *testing.T) {
	const url = "nats-route://a:6222/"
	r := newTestRouter(t, func(c *Config) { c.Routes = []string{url} })
	x, err := r.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	r.Connected(x, 0)
	peer := proto.RouteInfo{ID: "NA", Name: "a", Cluster: "c1", IP: url, Nonce: "n1"}
	r.Receive(x, 0, infoLine(peer))
	r.Ready()
	// NA dials us too; its connection wins (NA sorts before NSELF).
	peer.Nonce = "n2"
	y, rd := accepted(t, r, connectLine(proto.RouteConnect{Name: "NA", Cluster: "c1"}), infoLine(peer))
	if c, ok := closeOf(rd, x); !ok || c.Reason != ReasonDuplicateRoute || c.Retry {
		t.Fatalf("our dialled duplicate: close %+v (%v), want DuplicateRoute without retry", c, ok)
	}
	r.Closed(x)
	r.Ready()
	r.Closed(y)
	c, ok := closeOf(r.Ready(), y)
	if !ok || !c.Retry || c.URL != url {
		t.Fatalf("the surviving accepted route closed with %+v (%v), want a retry of %s", c, ok, url)
	}
}
