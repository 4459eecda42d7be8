package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// Route pools against nats-server 2.15.2: a petrel node and a nats-server node in one
// cluster with the default pool of 3 (and the system account pinned, as both do) and
// account P pinned. Each account, at every pool index (A at 0, C at 1, acc1 at 2 by
// FNV-1a) and the pinned one, carries messages both ways, and nats-server counts the
// routes it expects: 3 pooled and 2 pinned.

var interopAccounts = []string{"A", "C", "acc1", "P"}

func interopConf(name, listen string, routes []string, extra string) string {
	conf := fmt.Sprintf("server_name: %s\naccounts {\n", name)
	for _, a := range interopAccounts {
		conf += fmt.Sprintf("  %s { users: [{user: u%s, password: p}] }\n", a, a)
	}
	return conf + fmt.Sprintf("}\ncluster {\n  name: mixed\n  listen: %s\n  routes: [%q, %q]\n%s}\n",
		listen, routes[0], routes[1], extra)
}

func TestE2EClusterPoolWithNatsServer(t *testing.T) {
	bin := natsServer()
	if bin == "" {
		t.Skip("no nats-server to cluster with (NATS_SERVER_BIN)")
	}
	// nats-server 2.15.2 accepts a peer with another pool size: each side opens its own
	// pool, the accepting side takes indexes up to the dialer's size. Without pooling on
	// one side, one route carries every account, pinned ones too.
	// Then, where afterReload says, petrel reloads its pool size to 2.
	const pinP = "  accounts: [P]\n"
	for _, tc := range []struct{ name, petrelExtra, natsExtra, want, afterReload string }{
		{name: "same pool", petrelExtra: pinP, natsExtra: pinP, want: "pooled 3 pinned [$SYS P]", afterReload: "pooled 3 pinned [$SYS P]"},
		{name: "nats-server pools 4", petrelExtra: pinP, natsExtra: pinP + "  pool_size: 4\n", want: "pooled 4 pinned [$SYS P]", afterReload: "pooled 4 pinned [$SYS P]"},
		{name: "nats-server without pooling", natsExtra: "  pool_size: -1\n", want: "pooled 1 pinned []"},
		{name: "petrel without pooling", petrelExtra: "  pool_size: -1\n", want: "pooled 1 pinned []"},
	} {
		t.Run(tc.name, func(t *testing.T) { poolInterop(t, bin, tc.petrelExtra, tc.natsExtra, tc.want, tc.afterReload) })
	}
}

func poolInterop(t *testing.T, bin, petrelExtra, natsExtra, want, afterReload string) {
	petrelRoute, natsRoute, natsPort, natsHTTP := freePort(t), freePort(t), freePort(t), freePort(t)
	routes := []string{"nats-route://127.0.0.1:" + petrelRoute, "nats-route://127.0.0.1:" + natsRoute}
	dir := t.TempDir()
	pconf, nconf := filepath.Join(dir, "petrel.conf"), filepath.Join(dir, "nats.conf")
	writeConf(t, pconf, interopConf("petrel", "127.0.0.1:"+petrelRoute, routes, petrelExtra))
	writeConf(t, nconf, interopConf("nats", "127.0.0.1:"+natsRoute, routes, natsExtra))
	p := startPetrel(t, "-c", pconf)
	startNatsServer(t, bin, []string{"-a", "127.0.0.1", "-p", natsPort, "-m", natsHTTP, "-c", nconf})
	routedBothWays(t, p.port, natsPort, "interop.")
	if got := natsRoutes(t, natsHTTP, want); got != want {
		t.Fatalf("nats-server's routes to petrel: %s, want %s", got, want)
	}
	if afterReload == "" {
		return
	}
	// A reload of petrel's pool size to 2: its pool routes close and come back, nats-server
	// keeps its own (the larger pool), and every account is routed again.
	p.reloadWith(pconf, interopConf("petrel", "127.0.0.1:"+petrelRoute, routes, petrelExtra+"  pool_size: 2\n"), "Reloaded: cluster")
	routedBothWays(t, p.port, natsPort, "reloaded.")
	if got := natsRoutes(t, natsHTTP, afterReload); got != afterReload {
		t.Fatalf("after petrel's reload, nats-server's routes: %s, want %s", got, afterReload)
	}
}

// routedBothWays waits until every interop account's messages cross between the two
// servers both ways, on subjects under prefix.
func routedBothWays(t *testing.T, petrelPort, natsPort, prefix string) {
	t.Helper()
	for _, acc := range interopAccounts {
		pc := connectAs(t, petrelPort, acc)
		nc := connectAs(t, natsPort, acc)
		waitRouted(t, pc, nc, prefix+acc)
		waitRouted(t, nc, pc, prefix+acc)
	}
}

func connectAs(t *testing.T, port, account string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect("nats://127.0.0.1:"+port, nats.UserInfo("u"+account, "p"), nats.Timeout(testTimeout))
	must(t, err)
	t.Cleanup(nc.Close)
	return nc
}

// natsRoutes summarises nats-server's /routez: how many routes are pooled, and the
// accounts of the pinned ones.
func natsRoutes(t *testing.T, port, want string) string {
	t.Helper()
	var z struct {
		Routes []struct {
			Account string `json:"account"`
		} `json:"routes"`
	}
	deadline := time.Now().Add(testTimeout)
	for {
		resp, err := http.Get("http://127.0.0.1:" + port + "/routez")
		must(t, err)
		err = json.NewDecoder(resp.Body).Decode(&z)
		_ = resp.Body.Close() // read in full by Decode
		must(t, err)
		pooled, pinned := 0, []string{}
		for _, r := range z.Routes {
			if r.Account == "" {
				pooled++
			} else {
				pinned = append(pinned, r.Account)
			}
		}
		slices.Sort(pinned)
		got := fmt.Sprintf("pooled %d pinned %v", pooled, pinned)
		if got == want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
}
