package core

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/proto"
	"github.com/petrel-io/petrel/core/route"
)

// The route subsystem in the engine: the cluster listener, the dialled routes, and the
// pure route.Router between them. The Router is not safe for concurrent use, and it is
// driven from several executors: socket events and timers arrive on the routes' own
// executor, while clients' subscriptions and publishes arrive on each client's executor
// (a publish asks the Router where its message goes, synchronously). So every call into
// the Router holds routes.mu, and the bytes it asks to write are queued on their
// connections before the lock is released: a connection's bytes then leave in the order
// the Router produced them, whichever executor produced them. Everything else the Router
// asks for (dials, redials, client INFO, deliveries of routed messages) happens after the
// lock is released.

// Route timing: explicit routes are redialled every routeRedialMin, or with doubling
// delays up to routeRedialMax under connect_backoff; the Router's ping timers are driven
// every routeTickInterval.
const (
	routeRedialMin    = time.Second
	routeRedialMax    = 30 * time.Second
	routeTickInterval = time.Second
	routeDialTimeout  = 2 * time.Second
)

// routes is one server's route subsystem. Fields under mu unless said otherwise.
type routes struct {
	s  *Server
	ex env.Executor // socket events, timers, deliveries of routed messages

	mu       sync.Mutex
	router   *route.Router
	conns    map[route.ConnID]*routeConn
	listener env.Listener
	port     int
	explicit map[string]bool // configured route URLs: retried forever
	// credentials are the user info of the configured route URLs, by canonical URL: what
	// their CONNECT sends (routes_secure.go).
	credentials map[string]route.Credentials
	attempts    map[string]int // consecutive failed dials per URL (and pinned account: attemptKey)
	// redialing holds the attemptKeys with a redial pending.
	redialing map[string]bool
	tick      env.Timer
	stopped   bool
	peers     int // established routes after the last step, to log changes

	// urls is the cluster's client URLs as the Router last announced them (connect_urls).
	urls atomic.Pointer[[]string]
	// deliverer publishes routed messages to local subscribers, on ex only.
	deliverer *client
	// rx is the effects of reading a route, on ex only, reused.
	rx routeEffects
	// replyInterest holds the accounts whose reply subjects' interest (ReplyInterest) the
	// Router announces: *account.Account -> subject; stored under mu, read without.
	replyInterest sync.Map
	// maxPending is the unsent output above which a route is cut (a slow route must not
	// hold the server's memory); max_pending of clients, at least routeMinPending.
	maxPending int
}

// routeMinPending is the least backlog a route may hold before it is cut as slow: routes
// carry every client's traffic, so they get more room than one client.
const routeMinPending = 64 << 20

// routeConn is one route connection's socket, bound to its Router id.
type routeConn struct {
	rt   *routes
	id   route.ConnID
	conn env.Conn
	z    routeZ // compression, once negotiated (routes_compress.go)
}

// OnData runs on ex, which reads every route: rx is its reusable effects.
func (rc *routeConn) OnData(p []byte) {
	rt := rc.rt
	rt.mu.Lock()
	if rt.stopped || rt.conns[rc.id] != rc {
		rt.mu.Unlock()
		return
	}
	rt.router.Receive(rc.id, rt.now(), p)
	fx := &rt.rx
	rt.drain(fx)
	rt.notePeers()
	rt.mu.Unlock()
	rt.carryOut(fx)
	fx.reset()
}

func (rc *routeConn) OnClose(error) { rc.rt.closed(rc) }

// startRoutes opens the cluster listener and dials the configured routes; nothing happens
// without a cluster block.
func (s *Server) startRoutes(cfg *config) error {
	c := cfg.Cluster
	if c == nil {
		return nil
	}
	rt := &routes{s: s, ex: s.env.Exec.New("routes"), conns: map[route.ConnID]*routeConn{},
		explicit: map[string]bool{}, attempts: map[string]int{}, redialing: map[string]bool{},
		maxPending: max(int(cfg.MaxPending), routeMinPending), credentials: routeCredentials(c.Routes)}
	rt.deliverer = &client{srv: s, ex: rt.ex, rng: env.NewPRNG(s.env.Rand.Uint64()), echo: true,
		subs: map[string]*subscription{}, acc: s.accountOf(nil)}
	// The Router needs the bound port (its route URL), so it comes after the listener; the
	// lock keeps a route accepted meanwhile waiting for it.
	rt.mu.Lock()
	defer rt.mu.Unlock()
	addr := env.JoinHostPort(c.Host, c.Port)
	l, err := s.env.Net.Listen(addr, rt.ex, rt.accept)
	if err != nil {
		rt.stopped = true
		return fmt.Errorf("core: listen for routes on %s: %w", addr, err)
	}
	rt.listener, rt.port = l, addrPort(l.Addr())
	rcfg := s.routerConfig(cfg, rt.port)
	router, err := route.NewRouter(rcfg, routeRand{PRNG: env.NewPRNG(s.env.Rand.Uint64()), secure: s.env.Rand})
	if err != nil {
		rt.stopped = true
		_ = l.Close()
		return fmt.Errorf("core: cluster: %w", err)
	}
	rt.router = router
	// Stream imports' interest; no route yet, so nothing to announce.
	router.SetShadows(shadowsOf(cfg.accounts))
	own := rcfg.ClientURLs // this server alone, until routes bring their peers'
	rt.urls.Store(&own)
	s.publishRoutes(rt) // no route is up yet: the services are in the first interest dumps
	s.log.Logf(env.LevelInfo, "Listening for route connections on %s", env.JoinHostPort(c.Host, rt.port))
	rt.ex.Post(func() {
		for _, u := range c.Routes {
			key := routeURL(u.Host)
			rt.mu.Lock()
			rt.explicit[key] = true
			rt.mu.Unlock()
			rt.dial(key)
		}
		rt.scheduleTick()
	})
	return nil
}

// routeRand is the Router's randomness: queue-member draws, on every publish, from a fast
// generator of its own (seeded from the node's Rand, so sim runs repeat); handshake nonces
// from the node's Rand (cryptographic in production).
type routeRand struct {
	*env.PRNG
	secure env.Rand
}

func (r routeRand) Fill(p []byte) { r.secure.Fill(p) }

// routerConfig is the Router's view of the cluster options.
func (s *Server) routerConfig(cfg *config, routePort int) route.Config {
	c := cfg.Cluster
	var seeds []string
	for _, u := range c.Routes {
		seeds = append(seeds, routeURL(u.Host))
	}
	info := proto.RouteInfo{Version: Version, Proto: ProtoVersion, Host: cmp.Or(c.Host, "0.0.0.0"), Port: routePort,
		MaxPayload: int32(cfg.MaxPayload), JetStream: cfg.JetStream, Compression: c.Compression.Mode}
	return route.Config{ServerID: s.id, ServerName: cfg.name, Cluster: c.Name, RouteURL: advertisedRouteURL(c, routePort),
		ClientURLs: s.advertisedClientURLs(cfg), NoAdvertise: c.NoAdvertise, Routes: seeds,
		PingInterval: c.PingInterval, MaxPingsOut: c.MaxPingsOut, Info: info, Limits: cfg.parserLimits(),
		Compression: c.Compression.Mode, CompressionRTT: c.Compression.RTTThresholds, Security: routeSecurity(c),
		PoolSize: c.PoolSize, PinnedAccounts: pinnedAccounts(c, cfg.accounts.System().Name())}
}

// pinnedAccounts is the accounts with a route of their own: the configured ones and, when
// routes are pooled, the system account, which nats-server 2.15.2 pins without being asked
// (two nodes with no accounts list register a route "for account $SYS").
func pinnedAccounts(c *ClusterOptions, system string) []string {
	pinned := slices.Clone(c.PinnedAccounts)
	if c.PoolSize > 0 && system != "" && !slices.Contains(pinned, system) {
		pinned = append(pinned, system)
	}
	return pinned
}

// advertisedRouteURL is the route URL this server's INFO names (its ip field, which peers
// gossip and dial): advertise when set, else the listen host when it names one. A listener
// on every interface names none, as in nats-server: a peer then takes the address it sees
// the route come from (Router.SetRemoteHost).
func advertisedRouteURL(c *ClusterOptions, port int) string {
	switch {
	case c.Advertise != "":
		return routeURL(c.Advertise)
	case anyHost(c.Host):
		return ""
	}
	return routeURL(env.JoinHostPort(c.Host, port))
}

// advertisedClientURLs are this server's client URLs for the cluster's connect_urls:
// client_advertise when set (the client port when it names none), else the listen host, or
// for a listener on every interface each address of the machine, as nats-server lists
// them (the loopback address where the host has none, as in the simulator).
func (s *Server) advertisedClientURLs(cfg *config) []string {
	port := s.Port()
	if a := cfg.ClientAdvertise; a != "" {
		if hasPort(a) {
			return []string{a}
		}
		return []string{env.JoinHostPort(strings.Trim(a, "[]"), port)}
	}
	if !anyHost(cfg.Host) {
		return []string{env.JoinHostPort(cfg.Host, port)}
	}
	var urls []string
	for _, ip := range s.env.Host.Addrs() {
		urls = append(urls, env.JoinHostPort(ip, port))
	}
	if len(urls) == 0 {
		urls = []string{env.JoinHostPort("127.0.0.1", port)}
	}
	return urls
}

func anyHost(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }

// hasPort reports whether an address names a port: host:port or [v6]:port (the config
// refuses a bare IPv6 address without brackets, as nats-server does).
func hasPort(addr string) bool {
	if strings.HasPrefix(addr, "[") {
		return strings.Contains(addr, "]:")
	}
	return strings.Count(addr, ":") == 1
}

// routeURL is the canonical form of a route address, as the Router compares them.
func routeURL(hostport string) string { return "nats-route://" + hostport + "/" }

func (rt *routes) now() time.Duration { return rt.s.env.Clock.Mono() }

// step runs fn on the Router under the lock, writes what it produced, and carries out the
// rest after unlocking. Safe from any executor.
func (rt *routes) step(fn func(r *route.Router)) {
	rt.mu.Lock()
	if rt.stopped {
		rt.mu.Unlock()
		return
	}
	fn(rt.router)
	var after routeEffects
	rt.drain(&after)
	rt.notePeers()
	rt.mu.Unlock()
	rt.carryOut(&after)
}

// notePeers logs a change in the number of established routes, under mu.
func (rt *routes) notePeers() {
	if n := rt.router.NumPeers(); n != rt.peers {
		rt.peers = n
		rt.s.log.Logf(env.LevelInfo, "Cluster %s: %d route(s) established %v", rt.s.cfg().Cluster.Name, n, rt.router.Peers())
	}
}

// routeEffects is what a step leaves for after the lock.
type routeEffects struct {
	flush      []*routeConn
	deliveries []route.Delivery // valid until the Router's next Receive
	redials    []route.Close    // closes to dial again (Retry)
	dials      []string
	opens      []route.Open
	urls       []string
	urlsSet    bool
	forwarded  bool // some bytes went to a route (a publish reached a peer)
}

// empty reports whether nothing but the flags is left to carry out.
func (e *routeEffects) empty() bool {
	return len(e.flush) == 0 && len(e.deliveries) == 0 && len(e.redials) == 0 && len(e.dials) == 0 &&
		len(e.opens) == 0 && !e.urlsSet
}

// reset empties e for reuse, keeping its memory.
func (e *routeEffects) reset() {
	clear(e.flush)
	*e = routeEffects{flush: e.flush[:0], deliveries: e.deliveries[:0], redials: e.redials[:0], dials: e.dials[:0], opens: e.opens[:0]}
}

// drain takes the Router's effects until it has none, under mu: writes are queued on their
// connections now (ordered), closes tell the Router at once.
func (rt *routes) drain(out *routeEffects) {
	for {
		rd := rt.router.Ready()
		if rd.Empty() {
			return
		}
		for _, w := range rd.Writes {
			if rc := rt.conns[w.Conn]; rc != nil {
				if rc.queue(w.Bytes) {
					if !slices.Contains(out.flush, rc) {
						out.flush = append(out.flush, rc)
					}
					out.forwarded = true
				}
				if w.CompressAfter != "" {
					rc.compressFrom(route.EncoderLevel(w.CompressAfter))
				}
			}
		}
		out.deliveries = append(out.deliveries, rd.Deliveries...)
		for _, c := range rd.Closes {
			rt.closeLocked(c, out)
		}
		out.dials = append(out.dials, rd.Dials...)
		out.opens = append(out.opens, rd.Opens...)
		if rd.ClientURLsChanged {
			out.urls, out.urlsSet = rd.ClientURLs, true
		}
	}
}

// closeLocked carries out a Close the Router asked for: the socket goes (after what was
// queued on it), the Router forgets the connection, and a solicited route is redialled.
func (rt *routes) closeLocked(c route.Close, out *routeEffects) {
	remote := "-"
	if rc := rt.conns[c.Conn]; rc != nil {
		delete(rt.conns, c.Conn)
		rc.compressPending()
		remote = rc.conn.RemoteAddr()
		_ = rc.conn.Close() // flushes the -ERR, if any; the socket is going either way
	}
	if rt.router.Conn(c.Conn) != nil {
		rt.router.Closed(c.Conn)
	}
	if c.Detail != "" {
		rt.s.log.Logf(env.LevelError, "%s - rid:%d - %s", remote, c.Conn, c.Detail)
	}
	rt.s.log.Logf(env.LevelDebug, "Route connection %d to %q closed: %v", c.Conn, c.Peer, c.Reason)
	if c.Peer != "" {
		delete(rt.attempts, attemptKey(c.URL, c.Account)) // it got through the handshake: start the backoff again
	}
	if c.Retry && c.URL != "" {
		out.redials = append(out.redials, c)
	}
}

func (rt *routes) carryOut(e *routeEffects) {
	for _, c := range e.flush {
		rt.flushConn(c)
	}
	if len(e.deliveries) > 0 {
		// Only Receive makes deliveries, on ex, and they are valid until its next call:
		// they are delivered now, before ex reads again.
		rt.deliverAll(e.deliveries)
	}
	for _, u := range e.dials {
		rt.ex.Post(func() { rt.dial(u) })
	}
	for _, o := range e.opens {
		rt.ex.Post(func() { rt.connect(o.Conn, o.URL) })
	}
	for _, c := range e.redials {
		rt.redial(c.URL, c.Account)
	}
	if e.urlsSet {
		urls := e.urls
		rt.urls.Store(&urls)
		rt.s.clusterURLsChanged()
	}
}

// flushConn sends what is queued on a route, and cuts the route when its backlog passes
// the limit (a slow route must not hold the server's memory).
func (rt *routes) flushConn(rc *routeConn) {
	rt.s.env.Probe.Hit("core.route.flush")
	rc.compressPending()
	c := rc.conn
	c.Flush()
	if c.Buffered() > rt.maxPending {
		rt.s.log.Logf(env.LevelWarn, "Slow route to %s: %d bytes pending, closing", c.RemoteAddr(), c.Buffered())
		c.Abort() // OnClose tells the Router, and a solicited route is redialled
	}
}

// accept takes a route connection from the cluster listener (on ex), after a TLS handshake
// when routes run over TLS.
func (rt *routes) accept(conn env.Conn) {
	at := rt.now() // the auth timeout runs from here, across the TLS handshake
	rt.secureAccepted(conn, func() { rt.admit(conn, at) })
}

// admit hands an accepted connection (secured if need be) to the Router, on ex.
func (rt *routes) admit(conn env.Conn, at time.Duration) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.stopped {
		conn.Abort()
		return
	}
	id, err := rt.router.Accept(at)
	if err != nil {
		rt.s.log.Logf(env.LevelWarn, "Route from %s refused: %v", conn.RemoteAddr(), err)
		conn.Abort()
		return
	}
	host, _ := env.SplitAddr(conn.RemoteAddr())
	rt.router.SetRemoteHost(id, host)
	rt.bind(id, conn)
}

// bind starts a connection's events and queues the Router's first bytes, under mu.
func (rt *routes) bind(id route.ConnID, conn env.Conn) {
	rc := &routeConn{rt: rt, id: id, conn: conn}
	rt.conns[id] = rc
	conn.SetWriteDeadline(cmp.Or(rt.s.cfg().Cluster.WriteDeadline, rt.s.cfg().WriteDeadline))
	conn.Start(rt.ex, rc)
	var after routeEffects
	rt.drain(&after)
	rt.ex.Post(func() { rt.carryOut(&after) }) // after the lock, which the caller holds
}

// dial solicits a route to url (on ex): a pool connection (the Router opens the pool's
// others and the pinned accounts' once it is up).
func (rt *routes) dial(url string) {
	rt.mu.Lock()
	if rt.stopped {
		rt.mu.Unlock()
		return
	}
	if rt.router.Routed(url) {
		// Already routed, its pool complete (the peer dialled us): no duplicate; look
		// again later, in case that route goes.
		rt.mu.Unlock()
		rt.redial(url, "")
		return
	}
	id, err := rt.routerDial(url)
	rt.mu.Unlock()
	if err != nil {
		rt.s.log.Logf(env.LevelWarn, "Route dial: %v", err)
		rt.redial(url, "")
		return
	}
	rt.connect(id, url)
}

// dialAccount solicits account's dedicated route to url again after it closed (on ex).
// One up or on its way already ends it: the Router opens the pinned routes of a peer
// whose first route comes up, and a close of this one asks again.
func (rt *routes) dialAccount(url, account string) {
	rt.mu.Lock()
	if rt.stopped || rt.router.RoutedAccount(url, account) {
		rt.mu.Unlock()
		return
	}
	id, err := rt.routerDialAccount(url, account)
	rt.mu.Unlock()
	if err != nil {
		rt.s.log.Logf(env.LevelWarn, "Route dial: %v", err)
		rt.redial(url, account)
		return
	}
	rt.connect(id, url)
}

// connect opens the TCP connection of a route the Router created (Dial, DialAccount, or
// an Open it asked for), on ex.
func (rt *routes) connect(id route.ConnID, url string) {
	rt.s.env.Net.Dial(route.HostPort(url), routeDialTimeout, rt.ex, func(conn env.Conn, err error) {
		if err != nil {
			rt.s.log.Logf(env.LevelDebug, "Error trying to connect to route %s: %v", url, err)
			rt.step(func(r *route.Router) {
				if r.Conn(id) != nil { // not closed meanwhile (a reload removed its URL)
					r.Closed(id)
				}
			})
			return
		}
		rt.secureDialled(conn, url, func(ok bool) {
			if !ok {
				conn.Abort()
				rt.step(func(r *route.Router) {
					if r.Conn(id) != nil { // not closed meanwhile (a reload removed its URL)
						r.Closed(id) // redialled as a failed dial is
					}
				})
				return
			}
			rt.connected(id, conn)
		})
	})
}

// connected hands a dialled connection (secured if need be) to the Router, on ex.
func (rt *routes) connected(id route.ConnID, conn env.Conn) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.stopped || rt.router.Conn(id) == nil { // closed meanwhile (a reload removed its URL)
		conn.Abort()
		return
	}
	rt.router.Connected(id, rt.now())
	rt.bind(id, conn)
}

// redial schedules another dial of url (account's dedicated route when account is set):
// explicit routes forever, gossiped ones up to connect_retries times. One is pending per
// URL and account at most: with a pool, several connections to one server may close at
// once, and a routed URL is looked at again every second (dial), which without this
// would leave one more timer running for ever after each close.
func (rt *routes) redial(url, account string) {
	c := rt.s.cfg().Cluster
	key := attemptKey(url, account)
	rt.mu.Lock()
	n := rt.attempts[key]
	if rt.stopped || rt.redialing[key] || (!rt.explicit[url] && n >= c.ConnectRetries) {
		rt.mu.Unlock()
		return
	}
	rt.attempts[key], rt.redialing[key] = n+1, true
	rt.mu.Unlock()
	delay := routeRedialMin
	if c.ConnectBackoff {
		delay = min(routeRedialMax, routeRedialMin<<min(n, 5))
	}
	rt.s.env.Clock.AfterFunc(delay, rt.ex, func() {
		rt.mu.Lock()
		delete(rt.redialing, key)
		rt.mu.Unlock()
		if account != "" {
			rt.dialAccount(url, account)
		} else {
			rt.dial(url)
		}
	})
}

// attemptKey counts a pinned account's dials apart from its URL's pool dials, so that
// neither uses up the other's connect_retries.
func attemptKey(url, account string) string {
	if account == "" {
		return url
	}
	return url + " " + account
}

// reloadRoutes applies a reloaded routes list: new URLs are dialled (and retried forever),
// and the routes this server dialled to removed ones are closed, as nats-server does.
func (rt *routes) reloadRoutes(urls []*url.URL) {
	next := map[string]bool{}
	for _, u := range urls {
		next[routeURL(u.Host)] = true
	}
	rt.mu.Lock()
	var added, removed []string
	for _, u := range env.SortedKeys(next) {
		if !rt.explicit[u] {
			added = append(added, u)
		}
	}
	for _, u := range env.SortedKeys(rt.explicit) {
		if !next[u] {
			removed = append(removed, u)
			delete(rt.attempts, u)
		}
	}
	rt.explicit = next
	rt.credentials = routeCredentials(urls)
	rt.mu.Unlock()
	for _, u := range removed {
		rt.s.log.Logf(env.LevelInfo, "Removing route %s (configuration reload)", u)
		rt.step(func(r *route.Router) { r.Unroute(u) })
	}
	for _, u := range added {
		rt.ex.Post(func() { rt.dial(u) })
	}
}

// closed: a route's socket ended on its own (on ex).
func (rt *routes) closed(rc *routeConn) {
	rt.step(func(r *route.Router) {
		if rt.conns[rc.id] == rc {
			delete(rt.conns, rc.id)
			r.Closed(rc.id)
		}
	})
}

func (rt *routes) scheduleTick() {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.stopped {
		return
	}
	rt.tick = rt.s.env.Clock.AfterFunc(routeTickInterval, rt.ex, func() {
		rt.step(func(r *route.Router) { r.Tick(rt.now()) })
		rt.scheduleTick()
	})
}

// stop closes the listener and every route (on shutdown).
func (rt *routes) stop() {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.stopped {
		return
	}
	rt.stopped = true
	if rt.tick != nil {
		rt.tick.Stop()
	}
	_ = rt.listener.Close()
	for _, id := range env.SortedKeys(rt.conns) {
		_ = rt.conns[id].conn.Close()
	}
	clear(rt.conns)
}

// clientURLs is the cluster's client URLs, for INFO's connect_urls; nil before the
// Router announced any.
func (rt *routes) clientURLs() []string {
	if p := rt.urls.Load(); p != nil {
		return *p
	}
	return nil
}
