package route

import (
	"fmt"
	"time"

	"github.com/petrel-io/petrel/core/proto"
)

// Config is what a Router needs from the server's cluster configuration. The engine fills
// it from the cluster {} block; Validate settles defaults and refuses what cannot work.
type Config struct {
	// ServerID is this server's unique id (route INFO server_id, CONNECT name); ServerName
	// its server_name, which must be unique in the cluster too.
	ServerID   string
	ServerName string
	// Cluster is the cluster name. Both ends of a route must agree on it. (Dynamic names,
	// which nats-server lets a server adopt from a peer, are left to the engine.)
	Cluster string
	// RouteURL is this server's advertised route URL (nats-route://host:port/), sent in the
	// INFO's ip field so that peers can gossip it and dial it.
	RouteURL string
	// ClientURLs are this server's client URLs (host:port), advertised in connect_urls to
	// peers, which tell their clients; NoAdvertise leaves them out and ignores the peers'.
	ClientURLs  []string
	NoAdvertise bool
	// Routes are the configured (explicit) route URLs: gossip does not dial them again, the
	// engine dials them itself and retries them forever.
	Routes []string
	// PingInterval is the route's ping interval, capped at RouteMaxPingInterval; zero means
	// DefaultPingInterval. MaxPingsOut is how many may go unanswered; zero means
	// DefaultMaxPingsOut.
	PingInterval time.Duration
	MaxPingsOut  int
	// FirstPingJitter is added to FirstPingInterval for a new connection's first PING
	// (nats-server draws up to 20% of it; zero keeps tests exact).
	FirstPingJitter time.Duration
	// PreferLocalQueue makes a queue group with members on this server take every message
	// published here. Off, a publish picks one member cluster-wide with every member weighed
	// the same, as nats-server does (forward.go says why both exist).
	PreferLocalQueue bool
	// PoolSize is the number of route connections to each peer (cluster pool_size): 0 means
	// DefaultPoolSize, a negative size turns pooling off (one route per peer, as before
	// nats-server 2.10). PinnedAccounts each get a connection of their own to every peer
	// (cluster accounts, and the system account, which the engine adds); they need pooling.
	PoolSize       int
	PinnedAccounts []string
	// Info is the template of this server's route INFO: version, go, host, port, headers,
	// max_payload and the like. The router fills the identity, cluster, ip, connect_urls,
	// nonce and leaf-origin fields itself.
	Info proto.RouteInfo
	// Limits bound what the route parser accepts.
	Limits proto.Limits
	// Compression is this server's compression mode (nats-server's names: off, accept,
	// s2_fast, s2_better, s2_best, s2_auto; "" is off), sent in INFO and negotiated with each
	// peer (compress.go); CompressionRTT are s2_auto's RTT steps.
	Compression    string
	CompressionRTT []time.Duration
	// Security is authorization and TLS (auth.go); SetSecurity replaces it on reload.
	Security
}

// Validate fills defaults and checks the config. It is called by NewRouter.
func (c *Config) Validate() error {
	switch {
	case c.ServerID == "":
		return fmt.Errorf("route: config: empty server id")
	case c.Cluster == "":
		return fmt.Errorf("route: config: empty cluster name (dynamic cluster names are not supported here)")
	case c.PingInterval < 0 || c.MaxPingsOut < 0:
		return fmt.Errorf("route: config: negative ping interval %v or max pings out %d", c.PingInterval, c.MaxPingsOut)
	case len(c.ClientURLs) > maxURLs:
		return fmt.Errorf("route: config: %d client URLs, at most %d", len(c.ClientURLs), maxURLs)
	case c.PoolSize > maxPoolSize || len(c.PinnedAccounts) > maxPinned:
		return fmt.Errorf("route: config: pool size %d (at most %d) or %d pinned accounts (at most %d)", c.PoolSize, maxPoolSize, len(c.PinnedAccounts), maxPinned)
	case c.PoolSize < 0 && len(c.PinnedAccounts) > 0:
		return fmt.Errorf("route: config: pinned accounts %q need pooling (pool size %d)", c.PinnedAccounts, c.PoolSize)
	}
	seen := map[string]bool{}
	for _, a := range c.PinnedAccounts {
		if a == "" || seen[a] {
			return fmt.Errorf("route: config: pinned account %q empty or listed twice", a)
		}
		seen[a] = true
	}
	if c.PoolSize == 0 {
		c.PoolSize = DefaultPoolSize
	}
	if err := c.Security.validate(); err != nil {
		return err
	}
	if c.PingInterval == 0 {
		c.PingInterval = DefaultPingInterval
	}
	c.PingInterval = min(c.PingInterval, RouteMaxPingInterval)
	if c.MaxPingsOut == 0 {
		c.MaxPingsOut = DefaultMaxPingsOut
	}
	return nil
}
