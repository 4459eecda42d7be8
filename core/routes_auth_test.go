package core_test

import (
	"crypto/tls"
	"net/url"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core"
)

// withRouteAuth gives every node the cluster credentials ru/s3cr3t and writes pass into
// the user info of node i's route URLs when badPass(i), the right password otherwise.
func withRouteAuth(badPass func(i int) bool) func(int, *core.Options) {
	return func(i int, o *core.Options) {
		c := o.Cluster
		c.Username, c.Password = "ru", "s3cr3t"
		pass := "s3cr3t"
		if badPass(i) {
			pass = "wrong"
		}
		for _, u := range c.Routes {
			u.User = url.UserPassword("ru", pass)
		}
	}
}

// Route authorization in the engine, on the simulator: routes whose URLs carry the
// cluster's credentials form the mesh; a node whose URLs carry a wrong password, and which
// nobody dials, never joins, while the others keep routing.
func TestRouteAuthorization(t *testing.T) {
	r := startClusterRigWith(t, 3, func(i, j int) bool { return i != j }, withRouteAuth(func(int) bool { return false }))
	r.wantMesh("with the right credentials")
	r.wantRouted(1, 3, "auth.ok", "over authorized routes")

	noneDialsS3 := func(i, j int) bool { return i != j && j != 2 }
	r = startClusterRigWith(t, 3, noneDialsS3, withRouteAuth(func(i int) bool { return i == 2 }))
	// The refused dialer registers each attempt on the peer's INFO, which comes before the
	// -ERR (as nats-server's does), so its own count flaps; the others never take it.
	for round := range 6 {
		for i := range 2 {
			if got := r.srvs[i].RoutePeers(); len(got) != 1 {
				t.Fatalf("round %d: s%d routes to %v, want s%d only (s3's password is wrong)", round, i+1, got, 2-i)
			}
		}
		r.run(time.Second) // s3 keeps redialling and keeps being refused
	}
	r.wantRouted(1, 2, "auth.others", "while s3 is refused")
	sub := r.dial(1)
	r.send(sub, "SUB auth.s3 1\r\n")
	r.send(r.dial(3), "PUB auth.s3 1\r\nx\r\n")
	if got := msgs(sub); len(got) != 0 {
		t.Fatalf("a message published on s3 (refused) reached s1: %q", got)
	}
}

// The simulator's connections cannot do TLS: a cluster with route TLS refuses every route
// cleanly (logged), as client TLS does there, instead of sending plain text.
func TestRouteTLSRefusedWithoutTLSConns(t *testing.T) {
	r := startClusterRigWith(t, 2, func(i, j int) bool { return i != j }, func(_ int, o *core.Options) {
		o.Cluster.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	})
	for i, s := range r.srvs {
		if got := len(s.RoutePeers()); got != 0 {
			t.Fatalf("s%d has %d routes over connections that cannot do TLS", i+1, got)
		}
	}
}

// A reload that turns route authorization on applies it to routes opened afterwards, as
// nats-server applies a reloaded cluster block: the established s1–s2 route stays, s3's
// route without credentials is refused, and s3 joins once its reloaded route URL carries
// them.
func TestRouteAuthorizationReload(t *testing.T) {
	seeds := func(i, j int) bool { return i != j && i != 2 && j != 2 }
	r := startClusterRig(t, 3, seeds)
	reload := func(i int, opts core.Options) {
		t.Helper()
		var reloadErr error
		r.srvs[i].Reload(opts, func(err error) { reloadErr = err })
		r.run(3 * time.Second)
		if reloadErr != nil {
			t.Fatalf("reload s%d: %v", i+1, reloadErr)
		}
	}
	s1 := clusterOpts(3, 0, seeds)
	s1.Cluster.Username, s1.Cluster.Password = "ru", "s3cr3t"
	reload(0, s1)
	toS1 := func(i, j int) bool { return j == 0 }
	reload(2, clusterOpts(3, 2, toS1))
	for i := range 2 { // s3's own count flaps: it registers each refused attempt on s1's INFO
		if got := r.srvs[i].RoutePeers(); len(got) != 1 {
			t.Fatalf("after s1 required credentials: s%d routes to %v, want one peer (s3 refused)", i+1, got)
		}
	}
	withCreds := clusterOpts(3, 2, toS1)
	withCreds.Cluster.Routes[0].User = url.UserPassword("ru", "s3cr3t")
	reload(2, withCreds)
	r.wantMesh("after s3's route URL got the credentials")
	r.wantRouted(3, 2, "reloaded.auth", "after s3 joined")
}
