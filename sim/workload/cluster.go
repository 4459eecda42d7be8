package workload

import (
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/petrel-io/petrel/core"
	"github.com/petrel-io/petrel/core/account"
	"github.com/petrel-io/petrel/core/auth"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/subject"
	"github.com/petrel-io/petrel/sim"
)

// Cluster runs the real engine on 3-5 server nodes joined by routes (issue 13), and the
// nats workload's clients (natsPeer: wildcards, queue groups, requests to a responder
// group, UNSUB with a max, headers, echo off...) attached to different members, each
// logged in to one of two accounts, moving to another member (from the connect_urls the
// servers announced) when theirs is lost. The nats checker judges every delivery as it
// happens: within its account or through the one stream import, matching, intact, published, at most once per
// subscription, in publisher order. Half the seeds are strict (no network or crash
// faults): from the moment the mesh is complete, every message reaches every matching
// subscription of its account whose interest had clusterSettle to propagate, exactly
// once, and exactly one member of each such queue group cluster-wide. The other half run
// the fault profile (partitions, partial ones between servers, resets, stalls, server
// crashes, clock skew); clusterConverge after faults stop the mesh must be complete again,
// no connection may be lost any more, and every message sent from then on is judged as in
// a strict seed: interest converged and delivery resumed.
type Cluster struct {
	chk     *natsChecker
	clients []*natsClientState
	servers []*core.Server // each node's current incarnation
	strict  bool
	meshAt  time.Duration // when the mesh was first complete (strict seeds); -1: not yet
	meshErr error         // the mesh was not complete at the liveness point
	spec    clusterSpec
	// pools is each server's pool size now: the spec's, or a reload's until a restart.
	pools []int
}

const (
	clusterRoutePort  = 6222
	clusterMaxServers = 5
	clusterMinClients = 4
	clusterMaxClients = 6
	// clusterSettle: a subscription confirmed this long before a publish has its interest
	// on every server (a route hop is a few milliseconds).
	clusterSettle = 50 * time.Millisecond
	// clusterMeshSettle: strict seeds judge messages from this long after every server first
	// has a route to every other. Until both ends of a pair settled the duplicate rule, each
	// may have registered another of their two connections, and interest sent on the one the
	// other end drops arrives again only with the dump on the survivor (seed 100683: 60 ms
	// after the mesh looked complete, with 1-16 byte packets).
	clusterMeshSettle = time.Second
	// clusterConverge after faults stop, the mesh and interest must be whole again: a dead
	// route or client connection is found by pings within about 3.5 s (1 s intervals, two
	// missed), then redialled after 1 s.
	clusterConverge = 6 * time.Second
	// clusterMaxLatency bounds publish to delivery in strict seeds: three links, one of
	// them a route carrying every client's traffic between two servers, in tiny packets in
	// some seeds (seed 100187: 101 ms while the mesh formed, with 1-16 byte packets).
	clusterMaxLatency = 250 * time.Millisecond
	clusterFaults     = 10 * time.Second
	clusterLiveness   = 11 * time.Second
)

// clusterAccounts: messages cross between them only through clusterImport: B imports A's
// stream "c" (one of the subjects clients publish), so a message of A on c reaches B's
// subscribers on every server, through the interest B's subscriptions make in A.
var clusterAccounts = []string{"A", "B"}

var clusterImport = natsImport{from: "A", to: "B", subject: "c"}

// clusterAccountConfigs is the accounts of every server: A exports c, B imports it.
func clusterAccountConfigs() []account.Config {
	im := clusterImport
	return []account.Config{
		{Name: im.from, Exports: []account.Export{{Kind: account.Stream, Subject: im.subject}}},
		{Name: im.to, Imports: []account.Import{{Kind: account.Stream, Account: im.from, Subject: im.subject}}},
	}
}

// importerQueue renames a queue group of the importer that can take imported messages: a
// group of the exporter with the same name is one group to the cluster's draw (as
// nats-server's shadow subscriptions make it), which the checker, judging each account's
// groups apart, does not model. Groups on other subjects keep their names, so isolation of
// same-named groups in two accounts is still judged.
func importerQueue(acc string, spec natsSubSpec) natsSubSpec {
	if acc == clusterImport.to && spec.queue != "" && subject.Intersects(spec.pattern, clusterImport.subject) {
		spec.queue += "i"
	}
	return spec
}

// clusterSpec is a seed's cluster shape.
type clusterSpec struct {
	servers int
	// oneSeed: every server lists only s1 (s1 lists s2) and gossip completes the mesh;
	// otherwise each lists all the others.
	oneSeed bool
	// compression is each server's route compression mode: pairs that compress and pairs
	// that do not, so compressed routes meet chunking, resets and crashes too.
	compression []string
	// poolSize is every server's cluster pool_size (0: the default 3, -1: no pooling);
	// pinB pins account B (with pooling), so that one of the two accounts has routes of
	// its own and the other shares the pool.
	poolSize int
	pinB     bool
}

// clusterCompression are the modes drawn per server, the default (accept) half the time.
// Not s2_best: its encoder costs the sweep most of a third of its time, and its framing is
// every level's.
var clusterCompression = []string{core.CompressionAccept, core.CompressionAccept, core.CompressionAccept,
	core.CompressionOff, core.CompressionS2Fast, core.CompressionS2Better, core.CompressionS2Auto}

// drawCompression draws the servers' modes from a generator of their own, so adding them
// moved no other draw of a seed.
func drawCompression(seed uint64, servers int) []string {
	r := env.NewPRNG(seed ^ 0x636f6d7072657373) // "compress"
	out := make([]string, servers)
	for i := range out {
		out[i] = clusterCompression[r.Intn(len(clusterCompression))]
	}
	return out
}

// drawPool draws a seed's route pool shape from a generator of its own, so that adding it
// left the other draws of every seed (and the regression seeds) as they were.
func drawPool(seed uint64) (poolSize int, pinB bool) {
	r := env.NewPRNG(seed ^ 0x706f6f6c)
	poolSize = []int{3, 3, -1, 1, 2}[r.Intn(5)]
	return poolSize, poolSize >= 0 && r.Intn(2) == 0
}

// connsBetween bounds the route connections between servers i and j once the mesh is
// complete: the pool indexes the dialling sides fill (from the smaller pool, which every
// account's index falls in, to the larger, when the larger side dials too) and one per
// pinned account (B if pinned, and the system account), or one without pooling.
func (cl *Cluster) connsBetween(i, j int) (least, most int) {
	if cl.spec.poolSize < 0 {
		return 1, 1
	}
	pinned := 1
	if cl.spec.pinB {
		pinned++
	}
	return min(cl.pools[i], cl.pools[j]) + pinned, max(cl.pools[i], cl.pools[j]) + pinned
}

// scheduleResizes has, in a seed with faults and pooling, some servers reload their pool
// size while the faults run (nats-server reloads pool_size; the pool routes reconnect),
// so that pools of different sizes meet and reshape; a restart brings the spec's size back.
func (cl *Cluster) scheduleResizes(w *sim.World, plan sim.Plan) {
	r := env.NewPRNG(w.Seed ^ 0x726573697a65)
	if cl.strict || cl.spec.poolSize < 0 || r.Intn(2) == 0 {
		return
	}
	for range 1 + r.Intn(3) {
		i, size, at := r.Intn(cl.spec.servers), 1+r.Intn(3), time.Duration(r.Intn(int(plan.Faults/time.Millisecond)))*time.Millisecond
		w.At(at, func() {
			s := cl.servers[i]
			if s == nil {
				return
			}
			w.Note("cluster: %s reloads its pool size to %d", clusterServerName(i), size)
			opts := cl.serverOptions(i)
			opts.Cluster.PoolSize = size
			s.Reload(opts, func(err error) {
				env.Assertf(err == nil, "cluster: %s: pool size reload: %v", clusterServerName(i), err)
				if cl.servers[i] == s {
					cl.pools[i] = size
				}
			})
		})
	}
}

func (cl *Cluster) Name() string { return "cluster" }

func (cl *Cluster) Setup(w *sim.World) sim.Plan {
	r := w.Rand()
	cl.strict = drawStrict(w)
	plan := sim.Plan{Faults: clusterFaults, Liveness: clusterLiveness}
	cl.spec = clusterSpec{servers: 3 + r.Intn(clusterMaxServers-2), oneSeed: r.Intn(2) == 0}
	cl.spec.compression = drawCompression(w.Seed, cl.spec.servers)
	cl.spec.poolSize, cl.spec.pinB = drawPool(w.Seed)
	cl.pools = make([]int, cl.spec.servers)
	cl.chk = newNatsChecker(w, cl.strict)
	cl.chk.settle, cl.chk.judgeFrom, cl.chk.account = clusterSettle, -1, map[int]string{}
	cl.chk.imports = []natsImport{clusterImport}
	cl.chk.maxLatency = clusterMaxLatency
	cl.meshAt = -1
	cl.servers = make([]*core.Server, cl.spec.servers)
	w.Note("cluster: %d servers, one seed %v, compression %v, pool size %d, B pinned %v", cl.spec.servers, cl.spec.oneSeed,
		cl.spec.compression, cl.spec.poolSize, cl.spec.pinB)
	for i := range cl.spec.servers {
		w.AddNode(clusterServerName(i), sim.NodeConfig{Crashable: !cl.strict, Group: sim.GroupServer}, cl.serverProgram(i))
	}
	feats := drawNatsFeatures(w.Seed, clusterMaxClients)
	end := plan.Faults + plan.Liveness - natsPublishEnd
	off := r.Intn(len(clusterAccounts))
	for i := range clusterMinClients + r.Intn(clusterMaxClients-clusterMinClients+1) {
		st := cl.drawClient(r, i, feats[i])
		cl.clients = append(cl.clients, st)
		// Alternating, so each account has two clients or more: one alone (with echo off)
		// would hear nothing.
		cl.chk.account[i] = clusterAccounts[(i+off)%len(clusterAccounts)]
		for j := range st.specs {
			st.specs[j] = importerQueue(cl.chk.account[i], st.specs[j])
		}
		st.user, st.pass = "u"+cl.chk.account[i], "p"+cl.chk.account[i]
		w.AddNode(st.name, sim.NodeConfig{Group: sim.GroupClient}, func(e *env.Env) { newNatsPeer(e, st, cl.chk, end).start() })
	}
	cl.watchMesh(w, plan)
	cl.scheduleResizes(w, plan)
	return plan
}

// drawClient draws a client's subscriptions and home server (clients spread over the
// members, so most messages cross a route).
func (cl *Cluster) drawClient(r *env.PRNG, i int, feat natsFeatures) *natsClientState {
	st := &natsClientState{idx: i, name: fmt.Sprintf("c%d", i+1), responder: i%2 == 0, feat: feat, failover: true,
		server: clusterServerName((i + r.Intn(cl.spec.servers)) % cl.spec.servers)}
	for range 1 + r.Intn(3) {
		st.specs = append(st.specs, natsSubSpec{
			pattern: natsPatterns[r.Intn(len(natsPatterns))],
			queue:   natsQueues[r.Intn(len(natsQueues))],
		})
	}
	if i == 0 && r.Intn(2) == 0 {
		st.specs = append(st.specs, natsSubSpec{pattern: ">"})
	}
	return st
}

func clusterServerName(i int) string { return fmt.Sprintf("s%d", i+1) }

func serverNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = clusterServerName(i)
	}
	return names
}

// serverProgram boots the real engine on server i with its routes, two accounts with a
// user each, and fast pings (so half-open clients and routes are found in seconds).
func (cl *Cluster) serverProgram(i int) func(*env.Env) {
	return func(e *env.Env) {
		name := clusterServerName(i)
		s, err := core.New(cl.serverOptions(i), e)
		env.Assertf(err == nil, "cluster: server %s: %v", name, err)
		env.Assertf(s.Start() == nil, "cluster: server %s: start failed", name)
		cl.servers[i], cl.pools[i] = s, cl.spec.poolSize
	}
}

// serverOptions is server i's configuration.
func (cl *Cluster) serverOptions(i int) core.Options {
	name := clusterServerName(i)
	opts := core.Options{Host: name, Port: natsPort, ServerName: name, PingInterval: time.Second, MaxPingsOut: 2,
		MaxPayload: natsMaxPayload, Cluster: cl.clusterOptions(i)}
	opts.Accounts = clusterAccountConfigs()
	for _, acc := range clusterAccounts {
		opts.Auth.Users = append(opts.Auth.Users, auth.User{Name: "u" + acc, Password: "p" + acc, Account: acc})
	}
	return opts
}

// clusterOptions lists every other server as a route, or only a seed (s1; s1 itself
// lists s2). With one seed the routes gossip brings are implicit, and nats-server's rule
// gives up on one after connect_retries: it gets enough retries to outlast a partition.
func (cl *Cluster) clusterOptions(i int) *core.ClusterOptions {
	name := clusterServerName(i)
	c := &core.ClusterOptions{Name: "sim", Host: name, Port: clusterRoutePort, PoolSize: cl.spec.poolSize,
		Compression: core.Compression{Mode: cl.spec.compression[i]}}
	if cl.spec.pinB {
		c.PinnedAccounts = []string{"B"}
	}
	route := func(j int) *url.URL {
		return &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("%s:%d", clusterServerName(j), clusterRoutePort)}
	}
	switch {
	case !cl.spec.oneSeed:
		for j := range cl.spec.servers {
			if j != i {
				c.Routes = append(c.Routes, route(j))
			}
		}
	case i == 0:
		c.Routes = []*url.URL{route(1)}
	default:
		c.Routes = []*url.URL{route(0)}
	}
	if cl.spec.oneSeed {
		c.ConnectRetries = 60
	}
	return c
}

// watchMesh polls the servers' routes: in strict seeds messages are judged from when the
// mesh is first complete (plus the settle time); in the others the mesh must be complete
// clusterConverge after faults stop, and messages are judged from then on.
func (cl *Cluster) watchMesh(w *sim.World, plan sim.Plan) {
	if cl.strict {
		var poll func()
		poll = func() {
			if cl.meshComplete() == nil {
				cl.meshAt = w.Now()
				cl.chk.judgeFrom = w.Now() + clusterMeshSettle
				w.Note("cluster: mesh complete")
				return
			}
			w.After(20*time.Millisecond, poll)
		}
		w.After(20*time.Millisecond, poll)
		return
	}
	live := plan.Faults + clusterConverge
	w.At(live, func() {
		cl.meshErr = cl.meshComplete()
		cl.chk.judgeFrom = live
		for _, st := range cl.clients {
			st.receivedAt = st.received
		}
	})
}

// meshComplete reports the first server without a route to each of the others' current
// incarnations.
func (cl *Cluster) meshComplete() error {
	ids := map[string]string{}
	for i, s := range cl.servers {
		if s == nil {
			return fmt.Errorf("cluster: %s never started", clusterServerName(i))
		}
		ids[s.ID()] = clusterServerName(i)
	}
	for i, s := range cl.servers {
		peers := s.RoutePeers()
		var names []string
		for _, p := range peers {
			names = append(names, ids[p]) // "" for a peer's dead incarnation
		}
		complete := len(peers) == len(cl.servers)-1
		for _, n := range names {
			complete = complete && n != "" && n != clusterServerName(i)
		}
		if !complete {
			return fmt.Errorf("cluster: %s has routes to %q, want the %d others", clusterServerName(i), names, len(cl.servers)-1)
		}
		for _, p := range peers {
			if err := cl.routesComplete(i, p, ids[p]); err != nil {
				return err
			}
		}
	}
	return nil
}

// routesComplete checks server i's routes to peer (named name): each account's is up, and
// the connections number what the two pools ask for.
func (cl *Cluster) routesComplete(i int, peer, name string) error {
	s := cl.servers[i]
	for _, acc := range append([]string{"$SYS"}, clusterAccounts...) {
		if !s.RouteCarries(peer, acc) {
			return fmt.Errorf("cluster: %s has no route for account %s to %s", clusterServerName(i), acc, name)
		}
	}
	least, most := cl.connsBetween(i, slices.Index(serverNames(len(cl.servers)), name))
	if n := s.RouteConns(peer); n < least || n > most {
		return fmt.Errorf("cluster: %s has %d route connections to %s, want %d to %d", clusterServerName(i), n, name, least, most)
	}
	return nil
}

func (cl *Cluster) Check(w *sim.World) error {
	if cl.strict && cl.meshAt < 0 {
		return fmt.Errorf("cluster: the mesh of %d servers never completed in a seed without faults: %v", cl.spec.servers, cl.meshComplete())
	}
	if cl.meshErr != nil {
		return fmt.Errorf("%w (%v after faults stopped)", cl.meshErr, clusterConverge)
	}
	if err := cl.chk.final(); err != nil {
		return err
	}
	for _, st := range cl.clients {
		if cl.strict {
			if err := st.big.check(st.name); err != nil {
				return err
			}
		}
		if got := st.received - st.receivedAt; got < natsLiveMessages {
			return fmt.Errorf("cluster: client %s received %d messages after the liveness point, want >= %d", st.name, got, natsLiveMessages)
		}
	}
	return nil
}
