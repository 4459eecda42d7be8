package route

import (
	"fmt"
	"slices"
	"strings"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/proto"
)

// Route pools and pinned accounts (nats-server 2.10 and later). Two servers keep PoolSize
// connections between them, and one more per pinned account. An account's traffic, its
// interest and its messages, uses one connection per peer: its pinned one, or the pool
// connection at index FNV-1a(name) mod the pool size, the same on every server. Losing a
// connection stops only its accounts' traffic until it is redialled; its interest is sent
// again on the new one (the interest dump of a registration).
//
// The handshake, as nats-server 2.15.2 runs it with compression off:
//
//	accepting side   INFO at once, with route_pool_size (no index, no account)
//	dialing, pooled  CONNECT at once; INFO only after the peer's, with route_pool_idx: the
//	                 first index free for that peer (0 for its first connection)
//	dialing, pinned  CONNECT, then INFO with route_account, at once
//
// The accepting side puts the connection at the index the dialer's INFO names; a second
// connection for one (peer, index) or (peer, account) is settled by the duplicate rule
// (dup.go). The dialing side opens the pool's next connection once one registers, one at a
// time as nats-server does, and, on its first connection to a peer, one per pinned account
// (nats-server dials those at once with the first; here they wait for the first, so a
// gossiped peer gets them too). A peer without route_pool_size in its INFO (pool_size -1,
// or a server before 2.10) gets one connection for every account, pinned ones too, and no
// pinned connection. Pool sizes may differ: 2.15.2 accepts it (the documented
// "Mismatch route pool size" refusal is gone from it); the peer then has as many indexes as
// the larger pool, and an account's index is taken modulo the smaller, so that it always
// names a connection one of the two sides opens.
//
// Refusals, with nats-server's texts:
//
//	pinned conn, peer or we without pooling  -ERR 'Not possible to have a dedicated route for account "a" between those servers', not redialled
//	accepted pinned conn, account not ours   -ERR 'No route for account "a"'
//	dialled pooled conn, peer INFO has index -ERR 'Route pool index should not be set but is set to 2'
//	accepted pooled conn, index out of range -ERR 'Invalid route pool index: 5 - pool size is 3'
//	dialled pooled conn, no index free       close, not redialled ("Route pool size reached")

// peer is one server this router has routes to: its connections by pool index and by
// pinned account, and what its INFO told about it.
//
// Invariant: at least one connection registered; each registered id is an established conn
// of this peer at that index (or for that account); pinned is empty when noPool.
type peer struct {
	id string
	// slots holds the pool connections by index (0: none). Its length is the larger of
	// the two pool sizes, 1 when noPool.
	slots  []ConnID
	pinned map[string]ConnID
	// modulus is what an account's hash is taken modulo: the smaller pool size.
	// peerPoolSize is the peer's route_pool_size, which shaped slots and modulus.
	modulus      uint32
	peerPoolSize int
	// noPool: one connection carries every account (the peer or we do not pool).
	noPool      bool
	connectURLs []string // the peer's client URLs, cleared when it enters lame duck mode
}

// Open asks the host to open a connection the router created (Dial) for a pool's next
// index or a pinned account: dial URL, then report Connected or Closed for Conn.
type Open struct {
	Conn    ConnID
	URL     string
	Account string // pinned account, or "" for a pool connection
}

// pooled reports whether this server pools its routes.
func (r *Router) pooled() bool { return r.cfg.PoolSize > 0 }

// poolSize is the number of pool connections this server keeps to a pooling peer.
func (r *Router) poolSize() int { return max(r.cfg.PoolSize, 1) }

// DialAccount starts a solicited route to url dedicated to a pinned account.
func (r *Router) DialAccount(url, account string) (ConnID, error) {
	if !r.pinned[account] {
		return 0, fmt.Errorf("route: dial %s for account %q: not a pinned account", url, account)
	}
	c, err := r.newConn(url)
	if err != nil {
		return 0, fmt.Errorf("route: dial %s for account %q: %w", url, account, err)
	}
	c.account = account
	if r.implicitAuth[url] {
		c.cred = r.cfg.Auth
	}
	return c.id, nil
}

// DialAccountWith is DialAccount sending cred in CONNECT (a configured route's user info).
func (r *Router) DialAccountWith(url, account string, cred Credentials) (ConnID, error) {
	id, err := r.DialAccount(url, account)
	if err == nil {
		r.conns[id].cred = cred
	}
	return id, err
}

// SetPoolSize changes this server's pool size (a config reload), as nats-server does: every
// pool connection closes (a dialled one is redialled, and the new pool takes the new
// shape), the pinned ones stay. Turning pooling on or off is refused: the pinned routes
// (the system account's at least) would come or go with it.
func (r *Router) SetPoolSize(size int) error {
	if size == 0 {
		size = DefaultPoolSize
	}
	switch {
	case size == r.cfg.PoolSize:
		return nil
	case (size < 0) != (r.cfg.PoolSize < 0):
		return fmt.Errorf("route: pool size %d to %d: pooling cannot be turned on or off", r.cfg.PoolSize, size)
	case size > maxPoolSize:
		return fmt.Errorf("route: pool size %d, at most %d", size, maxPoolSize)
	}
	r.cfg.PoolSize = size
	for _, peerID := range env.SortedKeys(r.peers) {
		p := r.peers[peerID]
		if p.noPool {
			continue // one connection for everything, whatever the pool size
		}
		for _, id := range slices.Clone(p.slots) {
			if c := r.conns[id]; id != 0 && c.live() {
				_ = r.closeConn(c, ReasonPoolResized, "")
			}
		}
	}
	r.check()
	return nil
}

// accountHash is FNV-1a (32 bits) of an account name: nats-server's choice, so that a
// Petrel node and a nats-server node put an account at the same pool index.
func accountHash(name string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(name); i++ {
		h ^= uint32(name[i])
		h *= 16777619
	}
	return h
}

// connFor returns the connection that carries account's traffic to p, if it is up.
func (r *Router) connFor(p *peer, account string) (ConnID, bool) {
	n := r.internName(account)
	var id ConnID
	switch {
	case p.noPool:
		id = p.slots[0]
	case n.pinned:
		id = p.pinned[account]
	default:
		id = p.slots[n.hash%p.modulus]
	}
	return id, id != 0
}

// ConnFor returns the established connection that carries account's traffic to a peer.
func (r *Router) ConnFor(peerID, account string) (ConnID, bool) {
	p := r.peers[peerID]
	if p == nil {
		return 0, false
	}
	return r.connFor(p, account)
}

// PeerConns returns a peer's established connections: pool ones by index, then pinned
// ones by account.
func (r *Router) PeerConns(peerID string) []ConnID {
	p := r.peers[peerID]
	if p == nil {
		return nil
	}
	var ids []ConnID
	for _, id := range p.slots {
		if id != 0 {
			ids = append(ids, id)
		}
	}
	for _, a := range env.SortedKeys(p.pinned) {
		ids = append(ids, p.pinned[a])
	}
	return ids
}

// primary is the peer's first registered connection: where INFO updates about this server
// (gossip, lame duck mode) go, as nats-server sends them on one route per peer.
func (p *peer) primary() ConnID {
	for _, id := range p.slots {
		if id != 0 {
			return id
		}
	}
	for _, a := range env.SortedKeys(p.pinned) {
		return p.pinned[a]
	}
	panic(fmt.Sprintf("route: peer %s registered with no connection", p.id))
}

// at returns the connection registered at c's place in p (0: none).
func (p *peer) at(c *Conn) ConnID {
	if c.account != "" {
		return p.pinned[c.account]
	}
	return p.slots[c.slot]
}

func (p *peer) set(c *Conn, id ConnID) {
	if c.account != "" {
		if id == 0 {
			delete(p.pinned, c.account)
		} else {
			p.pinned[c.account] = id
		}
		return
	}
	p.slots[c.slot] = id
}

func (p *peer) empty() bool {
	return len(p.pinned) == 0 && !slices.ContainsFunc(p.slots, func(id ConnID) bool { return id != 0 })
}

// registered counts the pool connections up.
func (p *peer) registered() int {
	n := 0
	for _, id := range p.slots {
		if id != 0 {
			n++
		}
	}
	return n
}

// settlePool decides where c goes in its peer's pool from the peer's INFO, and writes a
// dialled pool connection's delayed INFO with the index chosen. It returns errStop when it
// closed c.
func (r *Router) settlePool(c *Conn, info *proto.RouteInfo) error {
	account := c.account // the one we dialled for, or the one the dialer names
	if !c.solicited {
		account = info.RouteAccount
	}
	c.peerPoolSize = info.RoutePoolSize
	peerPooled := info.RoutePoolSize > 0 && r.pooled()
	p := r.peers[info.ID]
	if p != nil && peerPooled && !p.noPool && !r.shaped(p, info.RoutePoolSize) {
		// A pool size changed, the peer's or ours (a reload: the pool routes close, the
		// pinned ones stay). Reshape once the old pool is gone; until then refuse.
		if p.registered() > 0 {
			return r.closeConn(c, ReasonProtocolViolation, "")
		}
		r.shapePool(p, info.RoutePoolSize)
	}
	switch {
	case account != "" && !peerPooled:
		text := fmt.Sprintf("Not possible to have a dedicated route for account %q between those servers", account)
		return r.closeConn(c, ReasonPoolRefused, text)
	case account != "" && !r.pinned[account]:
		return r.closeConn(c, ReasonProtocolViolation, fmt.Sprintf("No route for account %q", account))
	case p != nil && p.noPool == peerPooled:
		return r.closeConn(c, ReasonProtocolViolation, "") // the peer changed its pooling: cannot be
	case account != "":
		c.account, c.slot = account, -1
		return nil
	case !peerPooled:
		c.slot = 0
	case c.solicited && info.RoutePoolIdx != 0:
		return r.closeConn(c, ReasonProtocolViolation, fmt.Sprintf("Route pool index should not be set but is set to %v", info.RoutePoolIdx))
	case c.solicited:
		c.slot = r.freeSlot(p, c)
		if c.slot < 0 || c.slot >= r.poolSize() {
			return r.closeConn(c, ReasonPoolFull, "")
		}
	case info.RoutePoolIdx < 0 || info.RoutePoolIdx >= info.RoutePoolSize:
		text := fmt.Sprintf("Invalid route pool index: %v - pool size is %v", info.RoutePoolIdx, info.RoutePoolSize)
		return r.closeConn(c, ReasonProtocolViolation, text)
	default:
		c.slot = info.RoutePoolIdx
	}
	if c.solicited && r.pooled() {
		c.out = proto.AppendInfo(c.out, r.infoJSON(c.nonce, c.slot, ""))
	}
	return nil
}

// stillPlaced reports whether a pool connection settled at its peer's first INFO may still
// register at the index it took when the second INFO ends a compressing handshake: a
// resize, ours or the peer's, may have reshaped the pool meanwhile.
func (r *Router) stillPlaced(c *Conn) bool {
	p := r.peers[c.peerID]
	if c.account != "" || p == nil || p.noPool || c.peerPoolSize <= 0 {
		return true
	}
	return c.slot < len(p.slots) && r.shaped(p, c.peerPoolSize)
}

// freeSlot is the first pool index of p (or of a peer not known yet) that c may dial for:
// no connection registered at it, and none of ours claiming it while a compressing
// handshake waits for the peer's second INFO (compress.go); -1 when none is free. Without
// the claims, two dialled connections in that wait took one index and the loser of the
// duplicate rule left the other empty for good (the rapid cluster property, with pools
// resized and a compressing pair).
func (r *Router) freeSlot(p *peer, c *Conn) int {
	n := r.poolSize()
	if p != nil {
		n = len(p.slots)
	}
	for i := range n {
		if (p == nil || p.slots[i] == 0) && !r.claimed(c, i) {
			return i
		}
	}
	return -1
}

// claimed reports whether another dialled pool connection to c's peer holds index slot
// while its handshake waits for the peer's second INFO.
func (r *Router) claimed(c *Conn, slot int) bool {
	for _, id := range r.order {
		o := r.conns[id]
		if o != c && o.phase == PhaseAwaitSecondInfo && o.solicited && o.account == "" && o.peerID == c.peerID && o.slot == slot {
			return true
		}
	}
	return false
}

// peerFor returns c's peer, creating it from c's handshake if it is the first connection.
func (r *Router) peerFor(c *Conn) (p *peer, created bool) {
	if p := r.peers[c.peerID]; p != nil {
		return p, false
	}
	p = &peer{id: c.peerID, pinned: map[string]ConnID{}, connectURLs: c.connectURLs, modulus: 1, slots: make([]ConnID, 1)}
	if c.peerPoolSize > 0 && r.pooled() {
		r.shapePool(p, c.peerPoolSize)
	} else {
		p.noPool = true
	}
	r.peers[c.peerID] = p
	return p, true
}

// shaped reports whether p's pool has the shape of this server's pool and a peer's of size.
func (r *Router) shaped(p *peer, size int) bool {
	return len(p.slots) == max(r.poolSize(), size) && int(p.modulus) == min(r.poolSize(), size)
}

// shapePool sizes p's pool for a peer pooling size connections: as many indexes as the
// larger pool, an account's index modulo the smaller. p has no pool connection up.
func (r *Router) shapePool(p *peer, size int) {
	env.Assertf(p.registered() == 0 && size > 0, "route: reshaping peer %s's pool (%d up) to %d", p.id, p.registered(), size)
	p.slots = make([]ConnID, max(r.poolSize(), size))
	p.modulus = uint32(min(r.poolSize(), size))
	p.peerPoolSize = size
}

// openMore has the dialing side of a newly registered pool connection open the pool's next
// connection, and each pinned account's that is neither up nor on its way. A connection the
// peer dialled opens nothing here: the peer opens the rest. (Opening the pinned ones on the
// peer's first connection only lost one for good when that connection lost the duplicate
// rule to the peer's, which opens nothing: the rapid cluster property, with a compressing
// pair's slower handshakes.)
func (r *Router) openMore(c *Conn, p *peer) {
	url := c.redialURL()
	if url == "" || p.noPool || c.account != "" {
		return
	}
	if r.poolMissing(p) > r.pendingPool(p.id, url, nil, true) {
		r.open(url, "", c.cred)
	}
	for _, a := range r.cfg.PinnedAccounts {
		if p.pinned[a] == 0 && !r.accountPending(p.id, url, a, nil) {
			r.open(url, a, c.cred)
		}
	}
}

// open creates a solicited connection and asks the host to dial it; it sends cred, the
// credential of the connection that led to it (the same peer's).
func (r *Router) open(url, account string, cred Credentials) {
	c, err := r.newConn(url)
	if err != nil {
		return // too many connections: the pool stays short until one closes
	}
	c.account, c.cred = account, cred
	r.ready.Opens = append(r.ready.Opens, Open{Conn: c.id, URL: url, Account: account})
}

// poolMissing counts the pool indexes this server fills (those below its pool size, or
// index 0 alone with a peer that does not pool) with no connection registered. The peer's
// indexes past that are its to fill: counting connections instead of these indexes left a
// smaller pool's index 0 empty for good when the peer's extra indexes were up.
func (r *Router) poolMissing(p *peer) int {
	want := r.poolSize()
	if p.noPool {
		want = 1
	}
	n := max(want-len(p.slots), 0) // our pool grew by a reload; the peer is reshaped later
	for _, id := range p.slots[:min(want, len(p.slots))] {
		if id == 0 {
			n++
		}
	}
	return n
}

// pendingPool counts the live pool connections on their way to a peer (in handshake with
// it, or dialled to url), but not except. With ownOnly, only those this side dialled: the
// peer's may take an index past ours, or lose the duplicate rule to one registered here,
// and the side filling the pool must not wait for them (the pool would stay short).
func (r *Router) pendingPool(peerID, url string, except *Conn, ownOnly bool) int {
	n := 0
	for _, id := range r.order {
		o := r.conns[id]
		if o == except || !o.live() || o.phase == PhaseEstablished || o.account != "" || (ownOnly && !o.solicited) {
			continue
		}
		if (peerID != "" && o.peerID == peerID) || (o.solicited && sameRouteURL(o.url, url)) {
			n++
		}
	}
	return n
}

// accountPending reports whether a live connection other than except serves account to
// the peer (registered or on its way).
func (r *Router) accountPending(peerID, url, account string, except *Conn) bool {
	for _, id := range r.order {
		o := r.conns[id]
		if o == except || !o.live() || o.account != account {
			continue
		}
		if (peerID != "" && o.peerID == peerID) || (o.solicited && sameRouteURL(o.url, url)) {
			return true
		}
	}
	return false
}

// covered reports whether c, closing, should not be redialled: another connection takes
// its place (its account's, or, for a pool connection, this side's dials cover every index
// it fills that is empty). A redial that turns out not to be needed costs one look: the
// host asks Routed before dialling.
func (r *Router) covered(c *Conn) bool {
	url := c.redialURL()
	if c.account != "" {
		return r.accountPending(c.peerID, url, c.account, c)
	}
	p := r.peers[c.peerID]
	if p == nil {
		p = r.peerAt(url)
	}
	if p == nil {
		return r.pendingPool(c.peerID, url, c, false) > 0
	}
	return r.poolMissing(p) <= r.pendingPool(p.id, url, c, true)
}

// peerAt returns the peer with a registered connection dialled to url or advertising it.
func (r *Router) peerAt(url string) *peer {
	for _, peerID := range env.SortedKeys(r.peers) {
		p := r.peers[peerID]
		for _, id := range r.PeerConns(peerID) {
			if c := r.conns[id]; sameRouteURL(c.url, url) || sameRouteURL(c.peerURL, url) {
				return p
			}
		}
	}
	return nil
}

// RoutedAccount reports whether account's dedicated route to the server at url is up or
// being dialled: dialling it again would only make a duplicate.
func (r *Router) RoutedAccount(url, account string) bool {
	p := r.peerAt(url)
	if p != nil && p.pinned[account] != 0 {
		return true
	}
	peerID := ""
	if p != nil {
		peerID = p.id
	}
	return r.accountPending(peerID, url, account, nil)
}

// checkPeer asserts p's invariant.
func (r *Router) checkPeer(p *peer) {
	env.Assertf(!p.empty(), "route: peer %s kept with no connection", p.id)
	env.Assertf(!p.noPool || (len(p.slots) == 1 && len(p.pinned) == 0), "route: unpooled peer %s has %d slots, %d pinned", p.id, len(p.slots), len(p.pinned))
	env.Assertf(p.modulus >= 1 && int(p.modulus) <= len(p.slots), "route: peer %s modulus %d for %d slots", p.id, p.modulus, len(p.slots))
	for i, id := range p.slots {
		if id != 0 {
			c := r.conns[id]
			env.Assertf(c != nil && c.phase == PhaseEstablished && c.peerID == p.id && c.account == "" && c.slot == i,
				"route: peer %s index %d holds conn %d, which is not its established pool conn there", p.id, i, id)
		}
	}
	for a, id := range p.pinned {
		c := r.conns[id]
		env.Assertf(r.pinned[a] && c != nil && c.phase == PhaseEstablished && c.peerID == p.id && c.account == a && c.mode.Account == a,
			"route: peer %s account %q holds conn %d, which is not its established pinned conn", p.id, a, id)
	}
}

// pinnedName reports whether a name is one of the pinned accounts (for interning).
func pinnedSet(accounts []string) map[string]bool {
	m := make(map[string]bool, len(accounts))
	for _, a := range accounts {
		m[strings.Clone(a)] = true
	}
	return m
}
