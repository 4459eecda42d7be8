package route

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/proto"
)

// Router is one server's side of the cluster: its route connections, the interest it has
// told them, the interest they told it, and the forwarding rule between the two. It is pure:
// the host (the engine, or a test) feeds it bytes, socket events, local subscriptions and the
// time, and carries out what Ready returns. Not safe for concurrent use.
//
// Invariants (checked after every step): every established conn is registered for its peer
// at its pool index or pinned account, and every registered conn is established; at most
// one conn per (peer, index) and per (peer, account); the remote interest table holds
// entries of established conns only; pingsOut <= MaxPingsOut.
type Router struct {
	cfg    Config
	rand   env.Rand
	nextID ConnID
	conns  map[ConnID]*Conn
	peers  map[string]*peer // peer server id -> its connections (pool.go)
	pinned map[string]bool  // cfg.PinnedAccounts
	local  *localInterest
	// shadowsOf derives interest in other accounts from a local subscription (SetShadows).
	shadowsOf Shadows
	remote    *remoteTable
	ready     Ready
	// announced is the client URL set last handed to the engine (Ready.ClientURLs).
	announced []string
	plan      Plan // reused by Publish
	// scratch and names (interned account and queue names) serve Publish without allocating.
	scratch proto.RoutedMsg
	names   map[string]internedName
	// order is the ids of conns, ascending (ids only grow): Ready's order, without sorting.
	order []ConnID
	// arena and queues hold the subjects, replies, payloads and queue names of the
	// Deliveries of one Receive.
	arena  []byte
	queues []string
	// now is the host's clock at the last timed step (stats.go): what Publish, which is
	// not given the time, stamps on a route's last activity.
	now time.Duration
	// implicitAuth holds gossiped route URLs whose server requires authorization: dials
	// to them send cfg.Auth (auth.go). At most maxURLs entries.
	implicitAuth map[string]bool
}

// NewRouter returns a router for cfg (validated here). rand draws queue members and nonces.
func NewRouter(cfg Config, rand env.Rand) (*Router, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Router{cfg: cfg, rand: rand, conns: map[ConnID]*Conn{}, peers: map[string]*peer{},
		pinned: pinnedSet(cfg.PinnedAccounts), local: newLocalInterest(), remote: newRemoteTable(),
		names: map[string]internedName{}, implicitAuth: map[string]bool{}}
	r.announced = clientURLs(&r.cfg, nil)
	return r, nil
}

// ErrTooManyConns is returned by Dial and Accept past maxConns.
var ErrTooManyConns = errors.New("route: too many route connections")

// Dial starts a solicited route to url; the host reports the TCP outcome with Connected or
// Closed. A URL learned by gossip about a server that requires authorization gets this
// server's own credentials; configured routes use DialWith.
func (r *Router) Dial(url string) (ConnID, error) {
	c, err := r.newConn(url)
	if err != nil {
		return 0, fmt.Errorf("route: dial %s: %w", url, err)
	}
	if r.implicitAuth[url] {
		c.cred = r.cfg.Auth
	}
	return c.id, nil
}

// Connected: the TCP connection of a dialled route is up. The dialer speaks first: CONNECT,
// then INFO, except on a pool connection, whose INFO waits for the peer's (pool.go).
func (r *Router) Connected(id ConnID, now time.Duration) {
	c := r.mustConn(id)
	env.Assertf(c.phase == PhaseDialing, "route: conn %d connected in phase %v", id, c.phase)
	connect := proto.RouteConnect{Echo: true, Headers: true, Name: r.cfg.ServerID, Cluster: r.cfg.Cluster, LNOC: true,
		User: c.cred.User, Pass: c.cred.Pass, TLS: r.cfg.TLS}
	c.out = proto.AppendConnect(c.out, mustJSON(&connect))
	r.startHandshake(c, now, PhaseAwaitInfo)
}

// delaysInfo: a dialled pool connection sends its INFO once it knows its index.
func (c *Conn) delaysInfo() bool { return c.solicited && c.account == "" && c.r.pooled() }

// Accept registers an accepted route connection and writes our INFO on it. now is when the
// connection came (before a TLS handshake): the auth timeout runs from it.
func (r *Router) Accept(now time.Duration) (ConnID, error) {
	c, err := r.newConn("")
	if err != nil {
		return 0, fmt.Errorf("route: accept: %w", err)
	}
	if r.cfg.authRequired() {
		c.authDeadline = now + r.cfg.AuthTimeout
	}
	r.startHandshake(c, now, PhaseAwaitConnect)
	return c.id, nil
}

func (r *Router) newConn(url string) (*Conn, error) {
	if len(r.conns) >= maxConns {
		return nil, ErrTooManyConns
	}
	r.nextID++
	c := &Conn{r: r, id: r.nextID, solicited: url != "", url: url, phase: PhaseDialing, slot: -1}
	c.parser = proto.NewRouteParser(c, r.cfg.Limits, c.mode)
	r.conns[c.id] = c
	r.order = append(r.order, c.id)
	return c, nil
}

func (r *Router) startHandshake(c *Conn, now time.Duration, next Phase) {
	var raw [8]byte
	r.rand.Fill(raw[:])
	c.nonce = base64.RawURLEncoding.EncodeToString(raw[:])
	if !c.delaysInfo() {
		c.out = proto.AppendInfo(c.out, r.infoJSON(c.nonce, 0, c.account))
	}
	c.phase = next
	r.sawTime(now)
	c.start, c.lastActivity = now, now
	c.nextPing = now + FirstPingInterval + r.cfg.FirstPingJitter
	r.check()
}

// infoJSON is this server's route INFO with the given nonce, pool index and pinned account.
func (r *Router) infoJSON(nonce string, slot int, account string) []byte {
	info := r.routeInfo(nonce, slot, account)
	return mustJSON(&info)
}

// routeInfo is the INFO infoJSON marshals.
func (r *Router) routeInfo(nonce string, slot int, account string) proto.RouteInfo {
	info := r.cfg.Info
	info.ID, info.Name, info.Cluster, info.IP = r.cfg.ServerID, r.cfg.ServerName, r.cfg.Cluster, r.cfg.RouteURL
	info.Nonce, info.LNOC, info.LNOCU, info.Headers = nonce, true, true, true
	info.Compression = cmp.Or(r.cfg.Compression, CompressionOff)
	info.AuthRequired = r.cfg.authRequired()
	info.TLSRequired, info.TLSVerify = r.cfg.TLS, r.cfg.TLS // routes always verify their peer
	info.RoutePoolSize, info.RoutePoolIdx, info.RouteAccount = max(r.cfg.PoolSize, 0), slot, account
	info.ConnectURLs = nil
	if !r.cfg.NoAdvertise {
		info.ConnectURLs = r.cfg.ClientURLs
	}
	return info
}

// Receive feeds bytes read from a connection.
func (r *Router) Receive(id ConnID, now time.Duration, data []byte) {
	c := r.mustConn(id)
	if !c.live() {
		return // closing: the peer's last words change nothing
	}
	env.Assertf(c.phase != PhaseDialing, "route: bytes on conn %d before it connected", id)
	if len(r.ready.Deliveries) == 0 {
		// Ready handed the last deliveries over, and the host delivered them: their memory
		// is free (a host that Receives twice before Ready keeps both reads' deliveries).
		r.arena, r.queues = r.arena[:0], r.queues[:0]
	}
	r.sawTime(now)
	var err error
	if c.decoder != nil {
		err = r.parseCompressed(c, data)
	} else {
		err = c.parser.Parse(data)
	}
	r.inflate(c, err) // and closes the route on a parse error
	r.check()
}

// parseErrText is the -ERR a parse failure gets: the client protocol's texts, none for
// malformed arguments (nats-server closes those silently).
func parseErrText(err error) string {
	for _, e := range []error{proto.ErrUnknownOp, proto.ErrMaxControlLine, proto.ErrMaxPayload} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return ""
}

// Closed: the host saw the connection end, after a Close it was asked for or on its own
// (EOF, reset, dial failure). The router forgets it.
func (r *Router) Closed(id ConnID) {
	c := r.mustConn(id)
	if c.live() {
		_ = r.closeConn(c, ReasonConnectionClosed, "")
	}
	c.phase = PhaseClosed
	delete(r.conns, id)
	r.order = slices.DeleteFunc(r.order, func(o ConnID) bool { return o == id })
	r.check()
}

// Tick runs the ping timers: every connection past its handshake's start PINGs each
// interval, and one with MaxPingsOut unanswered is closed as stale.
func (r *Router) Tick(now time.Duration) {
	r.sawTime(now)
	for _, id := range env.SortedKeys(r.conns) {
		c := r.conns[id]
		if c.phase == PhaseDialing || !c.live() || r.checkAuthDeadline(c, now) || now < c.nextPing {
			continue
		}
		if c.pingsOut+1 > r.cfg.MaxPingsOut {
			_ = r.closeConn(c, ReasonStaleConnection, "Stale Connection")
			continue
		}
		c.write(proto.Ping)
		if c.pingsOut == 0 {
			c.pingSent = now // the round trip is timed from the oldest unanswered PING
		}
		c.pingsOut++
		c.nextPing = now + r.cfg.PingInterval
	}
	r.check()
}

// Ready returns what the host must do and starts a new batch. Writes are valid until the
// next call to Ready, Deliveries until the next Receive: the router reuses their memory, as
// every message of a cluster goes through it.
func (r *Router) Ready() Ready {
	writes := r.ready.Writes // a step may have handed some over already (compressOutput)
	for _, id := range r.order {
		if c := r.conns[id]; len(c.out) > 0 {
			writes = append(writes, Write{Conn: id, Bytes: c.out})
			c.out, c.spare = c.spare[:0], c.out
			if cap(c.out) > maxSpare {
				c.out = nil // a burst's buffer is not kept for ever
			}
		}
	}
	r.ready.Writes = writes
	rd := r.ready
	r.ready = Ready{Writes: writes[:0], Deliveries: rd.Deliveries[:0]}
	return rd
}

// maxSpare is the largest output buffer a connection keeps for reuse.
const maxSpare = 1 << 20

// Conn returns a connection by id, or nil once closed.
func (r *Router) Conn(id ConnID) *Conn { return r.conns[id] }

// Peers returns the server ids of the established routes, sorted.
func (r *Router) Peers() []string { return env.SortedKeys(r.peers) }

// LameDuck tells every established route that this server entered lame duck mode: an INFO
// about itself with ldm, on which peers withdraw its client URLs from their clients'
// connect_urls (infoUpdate's rule). Routes opened later get ldm in their INFO too.
func (r *Router) LameDuck() {
	r.cfg.Info.LameDuckMode = true
	line := proto.AppendInfo(nil, r.infoJSON("", 0, ""))
	for _, peer := range env.SortedKeys(r.peers) {
		r.conns[r.peers[peer].primary()].write(line)
	}
	r.check()
}

// NumPeers is the number of established routes (cheap, for the host's logs after each step).
func (r *Router) NumPeers() int { return len(r.peers) }

// Routed reports whether the pool to the server at url is complete: an established route
// leads there (one we dialled there, or one whose peer advertises url as its route URL) and
// every pool index this side fills is up or has a connection on its way. Dialling it again would only make a
// duplicate, which the rule then settles by closing one of the two, possibly the one
// already carrying messages (they were lost: an e2e burst, when a retried dial met the
// route the peer had dialled meanwhile).
func (r *Router) Routed(url string) bool {
	p := r.peerAt(url)
	if p == nil {
		return false
	}
	if p.noPool {
		return true
	}
	return r.poolMissing(p) <= r.pendingPool(p.id, url, nil, false)
}

// sameRouteURL compares route URLs by host and port, case-insensitively, whatever their
// scheme (nats-route://, nats://) or trailing slash.
func sameRouteURL(a, b string) bool {
	return a != "" && b != "" && strings.EqualFold(HostPort(a), HostPort(b))
}

// HostPort is the host:port a route URL names (scheme, user info and trailing slash
// dropped): what a host dials for it.
func HostPort(url string) string {
	if _, rest, ok := strings.Cut(url, "://"); ok {
		url = rest
	}
	if at := strings.LastIndexByte(url, '@'); at >= 0 {
		url = url[at+1:]
	}
	return strings.TrimSuffix(url, "/")
}

// Unroute closes the routes this server dialled to url, or inherited from a duplicate
// dialled there (a reload removed url from the configured routes); they are not redialled.
// A route the peer dialled stays: the peer still wants it.
func (r *Router) Unroute(url string) {
	for _, id := range r.order {
		c := r.conns[id]
		if c.live() && (sameRouteURL(c.url, url) || sameRouteURL(c.inherited, url)) {
			_ = r.closeConn(c, ReasonRouteRemoved, "")
		}
	}
	r.check()
}

// SetRemoteHost records the host an accepted connection came from: when the peer's INFO
// names no route URL, its URL is that host and the INFO's port (what gossip passes on).
func (r *Router) SetRemoteHost(id ConnID, host string) {
	r.mustConn(id).remoteHost = host
}

// PeerConn returns the first established connection to a peer (PeerConns has them all).
func (r *Router) PeerConn(peerID string) (ConnID, bool) {
	p := r.peers[peerID]
	if p == nil {
		return 0, false
	}
	return p.primary(), true
}

func (r *Router) mustConn(id ConnID) *Conn {
	c := r.conns[id]
	env.Assertf(c != nil, "route: unknown or closed conn %d", id)
	return c
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	env.Assertf(err == nil, "route: marshal %T: %v", v, err)
	return b
}
