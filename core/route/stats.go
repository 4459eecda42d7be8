package route

import (
	"slices"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// What the router knows of each route, for monitoring (/routez, $SYS.REQ.SERVER.*.ROUTEZ).
// The counters live here because the router is where routed messages are read and written:
// every Receive and Publish already runs under the engine's routes lock, so plain fields are
// enough (no atomics on the publish path). Times are the host's monotonic clock as the
// router last saw it (Receive, Tick, Accept, Connected); the engine turns them into wall
// times.

// ConnStats is one established route as Stats reports it.
type ConnStats struct {
	Conn      ConnID
	Peer      string // the peer's server id
	PeerName  string // its server_name
	Solicited bool   // we dialled it
	// URL is the route URL we dialled (or inherited from a duplicate we beat); "" for an
	// accepted route. The engine compares it with the configured routes (is_configured).
	URL string
	// PeerURL is the route URL the peer advertises (its INFO's ip), for an accepted route
	// whose peer we also have configured.
	PeerURL string
	// Start is when the connection's handshake began; LastActivity when a routed message last
	// crossed it (either way), or Start before any did.
	Start, LastActivity time.Duration
	// RTT is the round trip of the last answered PING; zero before the first PONG.
	RTT time.Duration
	// Compression is the mode the handshake settled (Conn.Compression).
	Compression string
	// Messages and payload bytes (headers included) routed to and from the peer.
	InMsgs, InBytes, OutMsgs, OutBytes int64
	// NumSubs is the number of the peer's interest entries; Subs lists them (sorted) when
	// Stats was asked for them.
	NumSubs int
	Subs    []RemoteInterest
}

// RemoteInterest is one interest entry a peer told us (RS+ or LS+).
type RemoteInterest struct {
	Account, Subject, Queue string
	Weight                  int
}

// Stats returns every established route, ordered by connection id, with the peers'
// interest entries when subs is set. The result is the caller's.
func (r *Router) Stats(subs bool) []ConnStats {
	out := make([]ConnStats, 0, len(r.peers))
	for _, id := range env.SortedKeys(r.conns) {
		c := r.conns[id]
		if c.phase != PhaseEstablished {
			continue
		}
		st := ConnStats{Conn: id, Peer: c.peerID, PeerName: c.peerName, Solicited: c.solicited, URL: c.redialURL(), PeerURL: c.peerURL,
			Start: c.start, LastActivity: c.lastActivity, RTT: c.rtt, Compression: c.compression, InMsgs: c.inMsgs, InBytes: c.inBytes,
			OutMsgs: c.outMsgs, OutBytes: c.outBytes, NumSubs: r.remote.count(id)}
		if subs {
			st.Subs = r.remote.interest(id)
		}
		out = append(out, st)
	}
	env.Assertf(len(out) == r.NumConns(), "route: %d established conns, %d registered to peers", len(out), r.NumConns())
	return out
}

// interest lists conn's entries, sorted by key.
func (t *remoteTable) interest(conn ConnID) []RemoteInterest {
	keys := t.keys(conn)
	out := make([]RemoteInterest, 0, len(keys))
	for _, k := range keys {
		out = append(out, RemoteInterest{Account: k.Account, Subject: k.Subject, Queue: k.Queue, Weight: t.byConn[conn][k].weight})
	}
	return slices.Clip(out)
}

// sawTime records the host's clock at a timed step; only forward (hosts feed one
// monotonic clock, but a test may replay an earlier time).
func (r *Router) sawTime(now time.Duration) {
	r.now = max(r.now, now)
}

// NumConns is the number of established connections: every peer's pool and pinned ones.
func (r *Router) NumConns() int {
	n := 0
	for _, p := range r.peers {
		n += p.registered() + len(p.pinned)
	}
	return n
}
