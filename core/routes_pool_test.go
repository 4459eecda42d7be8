package core_test

import (
	"testing"
	"time"

	"github.com/petrel-io/petrel/core"
	"github.com/petrel-io/petrel/core/account"
	"github.com/petrel-io/petrel/core/auth"
)

// Route pools in the engine: accounts at every index of the default pool of 3 (A at 0, C at
// 1, acc1 at 2 by nats-server's FNV-1a) and a pinned account P each reach the other nodes,
// and only their own subscribers.

var poolAccounts = []string{"A", "C", "acc1", "P"}

func poolUsers(o *core.Options) {
	for _, a := range poolAccounts {
		o.Auth.Users = append(o.Auth.Users, auth.User{Name: a, Password: a, Account: a}) // dialAs's user
		o.Accounts = append(o.Accounts, account.Config{Name: a})
	}
}

// wantAccountsRouted: for every account, a publish on from reaches its subscriber on to
// once, and the other accounts' subscribers on the same subject not at all.
func (r *clusterRig) wantAccountsRouted(from, to int, when string) {
	r.t.Helper()
	subs := map[string]*rawClient{}
	for _, a := range poolAccounts {
		subs[a] = r.dialAs(to, a)
		r.send(subs[a], "SUB pool.x 1\r\n")
	}
	for _, a := range poolAccounts {
		pub := r.dialAs(from, a)
		r.send(pub, "PUB pool.x 1\r\nx\r\n")
		for _, b := range poolAccounts {
			want := 0
			if a == b {
				want = 1
			}
			if got := msgs(subs[b]); len(got) != want {
				r.t.Fatalf("%s: a publish in %s on s%d reached %s's subscriber on s%d %d times, want %d", when, a, from, b, to, len(got), want)
			}
			subs[b].got.Reset()
		}
	}
}

func TestClusterPoolCarriesEveryAccount(t *testing.T) {
	r := startClusterRigWith(t, 3, func(i, j int) bool { return i != j }, func(_ int, o *core.Options) {
		poolUsers(o)
		o.Cluster.PinnedAccounts = []string{"P"}
	})
	for i, s := range r.srvs {
		for _, peer := range s.RoutePeers() {
			if got := s.RouteConns(peer); got != 5 {
				t.Fatalf("s%d has %d connections to %s, want a pool of 3, P's and $SYS's", i+1, got, peer)
			}
		}
	}
	r.wantAccountsRouted(1, 2, "pooled")
	r.wantAccountsRouted(3, 1, "pooled")
}

// Without pooling (pool_size -1) one connection carries every account; a node without
// pooling and pooled ones keep one connection between them, as nats-server does with a
// server older than 2.10.
func TestClusterWithoutPooling(t *testing.T) {
	for _, tc := range []struct {
		name    string
		noPool  func(i int) bool
		wantPer func(i, j int) int
	}{
		{name: "all", noPool: func(int) bool { return true }, wantPer: func(int, int) int { return 1 }},
		{name: "s1 only", noPool: func(i int) bool { return i == 0 }, wantPer: func(i, j int) int {
			if i == 0 || j == 0 {
				return 1
			}
			return 4
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := startClusterRigWith(t, 3, func(i, j int) bool { return i != j }, func(i int, o *core.Options) {
				poolUsers(o)
				if tc.noPool(i) {
					o.Cluster.PoolSize = -1
				}
			})
			r.wantMesh3(tc.wantPer)
			r.wantAccountsRouted(1, 2, tc.name)
			r.wantAccountsRouted(2, 3, tc.name)
			r.wantAccountsRouted(3, 1, tc.name)
		})
	}
}

// wantMesh3 checks the connections between every pair of nodes (0-based) against want.
func (r *clusterRig) wantMesh3(want func(i, j int) int) {
	r.t.Helper()
	for i, s := range r.srvs {
		for j, o := range r.srvs {
			if i == j {
				continue
			}
			if got := s.RouteConns(o.ServerIDForTest()); got != want(i, j) {
				r.t.Fatalf("s%d has %d connections to s%d, want %d", i+1, got, j+1, want(i, j))
			}
		}
	}
}

// A reload of pool_size closes the node's pool routes and they come back in the new shape,
// as nats-server 2.15.2 does (two nodes of 3, one reloaded to 5: five pool routes between
// them). Rolling: while sizes differ the larger pool is opened, an account's index is taken
// modulo the smaller, and every account stays routed; once all nodes run 2, two pool
// routes and the system account's link each pair.
func TestClusterReloadPoolSize(t *testing.T) {
	seeds := func(i, j int) bool { return i != j }
	optsWith := func(i, size int) core.Options {
		o := clusterOpts(3, i, seeds)
		poolUsers(&o)
		o.Cluster.PoolSize = size
		return o
	}
	r := startClusterRigWith(t, 3, seeds, func(_ int, o *core.Options) { poolUsers(o) })
	reload := func(i, size int) {
		t.Helper()
		var err error
		r.srvs[i].Reload(optsWith(i, size), func(e error) { err = e })
		r.run(5 * time.Second)
		if err != nil {
			t.Fatalf("reloading s%d's pool size to %d: %v", i+1, size, err)
		}
	}
	reload(0, 2)
	r.wantMesh3(func(int, int) int { return 4 })
	r.wantAccountsRouted(1, 2, "s1 at 2, the others at 3")
	r.wantAccountsRouted(3, 1, "s1 at 2, the others at 3")
	reload(1, 2)
	reload(2, 2)
	r.wantMesh3(func(int, int) int { return 3 })
	r.wantAccountsRouted(1, 2, "all at 2")
	r.wantAccountsRouted(2, 3, "all at 2")
	r.wantAccountsRouted(3, 1, "all at 2")
}
