package route

import "time"

// The route's timing defaults are nats-server's (2.10 and later), so a Petrel node detects a
// dead peer in the same time a nats-server peer would.
const (
	// DefaultPingInterval is the configured ping interval when none is given (the server-wide
	// ping_interval default). Routes cap it at RouteMaxPingInterval.
	DefaultPingInterval = 2 * time.Minute
	// RouteMaxPingInterval caps a route's ping interval: routes ping on every interval whatever
	// the traffic, and a dead peer should be noticed in about a minute and a half.
	RouteMaxPingInterval = 30 * time.Second
	// FirstPingInterval is the delay before a new route's first PING (nats-server adds up to
	// 20% of random offset; a caller wanting that passes it in Config.FirstPingJitter).
	FirstPingInterval = time.Second
	// DefaultMaxPingsOut is how many PINGs may go unanswered; the next interval closes the
	// route as stale.
	DefaultMaxPingsOut = 2
	// DefaultAuthTimeout bounds an accepted route's wait for CONNECT when authorization is
	// required and none is configured (nats-server's default; with TLS the engine passes its
	// own, the TLS timeout plus a second).
	DefaultAuthTimeout = 2 * time.Second
	// DefaultPoolSize is the number of route connections to each peer when the config says
	// none (nats-server 2.10 and later: cluster pool_size 3).
	DefaultPoolSize = 3
)

// Bounds on what one router holds, each a guard against a peer (or a gossip storm) growing
// the state without limit.
const (
	// maxConns bounds the connections a router tracks at once (established, in handshake
	// and closing). A full mesh of 64 servers with the default pool of 3 and the system
	// account pinned is 252, twice that while both sides dial; 4096 leaves room for larger
	// pools and more pinned accounts.
	maxConns = 4096
	// maxPoolSize and maxPinned bound the connections configured per peer, so that a
	// config cannot ask for more than maxConns to a handful of peers.
	maxPoolSize = 64
	maxPinned   = 64
	// maxRemoteSubsPerConn bounds one peer's interest entries: past it the route is closed
	// (nats-server's max_subscriptions for routes is unlimited by default; a bound keeps a
	// runaway peer from exhausting memory). 1<<20 is far above any real interest set.
	maxRemoteSubsPerConn = 1 << 20
	// maxURLs bounds the URL lists taken from one INFO (connect_urls), which a peer controls.
	maxURLs = 256
)
