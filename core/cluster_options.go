package core

import (
	"crypto/tls"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/petrel-io/petrel/core/auth"
	"github.com/petrel-io/petrel/core/env"
)

// Route defaults, as nats-server v2.15.2 has them (observed in its /varz and /routez).
const (
	// DefaultRoutePoolSize is how many route connections link two servers when pool_size
	// is 0; a negative pool size turns pooling off (one route per peer, no pinned accounts).
	DefaultRoutePoolSize = 3
	// RoutePingIntervalMax caps the ping interval on routes: a route learns of a dead peer
	// within a minute even under the clients' 2m default.
	RoutePingIntervalMax = 30 * time.Second
	// RTTThresholdsMax bounds s2_auto's list: one threshold per step from uncompressed up
	// to s2_best.
	RTTThresholdsMax = 4
	// clusterNameLength is the length of a generated cluster name (nats-server's nuid).
	clusterNameLength = 22
)

// Route compression modes. Off and Accept never start compressing (Accept follows a peer
// that does); Auto picks a level from the route's RTT.
const (
	CompressionOff      = "off"
	CompressionAccept   = "accept"
	CompressionS2Fast   = "s2_fast"
	CompressionS2Better = "s2_better"
	CompressionS2Best   = "s2_best"
	CompressionS2Auto   = "s2_auto"
)

// DefaultRTTThresholds are s2_auto's steps when none are given: up to 10ms uncompressed,
// then s2_fast up to 50ms, s2_better up to 100ms, s2_best above. A fresh slice each call.
func DefaultRTTThresholds() []time.Duration {
	return []time.Duration{10 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond}
}

// ClusterOptions configure the route listener and the routes this server solicits:
// nats-server's cluster block. They are checked, defaulted, shown in /varz and reloaded by
// nats-server's rules; the route subsystem (routes.go) runs on them.
type ClusterOptions struct {
	// Name is the cluster's name; every server of a cluster must carry the same. "" takes
	// a generated one (kept for the server's life, across reloads), as nats-server does.
	Name string
	Host string // listen host; "" means all interfaces
	Port int    // listen port; 0 picks a free one (the server package maps -1 to 0)
	// Advertise is the host:port peers are told to connect to instead of the listener's.
	Advertise string
	// NoAdvertise keeps the cluster's client URLs out of INFO's connect_urls.
	NoAdvertise bool
	// ConnectRetries bounds reconnect attempts to an implicit (gossiped) route; 0 means
	// nats-server's default, none.
	ConnectRetries int
	// ConnectBackoff makes reconnect attempts back off instead of retrying every second.
	ConnectBackoff bool
	// Routes are the seed URLs solicited at start; each one's user:password, if any, is
	// the credential sent to that peer.
	Routes []*url.URL

	// Username and Password, when Username is set, are what a soliciting peer must send.
	Username, Password string
	// AuthTimeout bounds a route's CONNECT; 0 takes DefaultAuthTimeout, or TLSTimeout +
	// 1s with TLS (nats-server's rule).
	AuthTimeout time.Duration
	// Permissions limit what flows over routes: Import what this server accepts from peers'
	// interest, Export what it tells them of. nil: everything.
	Permissions *RoutePermissions

	// TLS, when set, secures every route; nats-server always verifies the peer on routes,
	// so the host builds it with client certificates required.
	TLS        *tls.Config
	TLSTimeout time.Duration // 0 takes DefaultTLSTimeout

	// PoolSize is the number of routes to each peer: 0 takes DefaultRoutePoolSize, < 0
	// turns pooling off.
	PoolSize int
	// PinnedAccounts each get a dedicated route to every peer; the system account is
	// added, as nats-server does.
	PinnedAccounts []string
	Compression    Compression

	// PingInterval is the routes' keepalive; 0 takes the server's, capped at
	// RoutePingIntervalMax. MaxPingsOut 0 takes the server's ping_max.
	PingInterval time.Duration
	MaxPingsOut  int
	// WriteDeadline bounds a route's blocked write; 0 takes the server's write_deadline.
	WriteDeadline time.Duration
	// WriteTimeout is what a write past the deadline does: "" (nats-server's default for
	// routes), "close" or "retry".
	WriteTimeout string
}

// RoutePermissions are the import and export permissions of routes.
type RoutePermissions struct {
	Import, Export *auth.SubjectPermission
}

// Compression is a route's compression setting: a mode, and for s2_auto the RTT steps
// (a 0 step is skipped).
type Compression struct {
	Mode          string // "" takes CompressionAccept
	RTTThresholds []time.Duration
}

// RouteScheme reports whether scheme is one route URLs are written with (nats-route,
// nats). nats-server dials any scheme's host:port, so the host accepts others with a
// warning.
func RouteScheme(scheme string) bool {
	switch strings.ToLower(scheme) {
	case "nats-route", "nats":
		return true
	}
	return false
}

// withDefaults fills zero values and refuses what nats-server refuses when it starts; o is
// the server's options (already defaulted), whose ping and deadline settings routes
// inherit and whose system account is pinned.
func (c *ClusterOptions) withDefaults(o Options) error {
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("core: cluster port %d out of range", c.Port)
	}
	if strings.ContainsAny(c.Name, " \t\r\n") {
		return fmt.Errorf("core: cluster name cannot contain spaces")
	}
	setDefault(&c.TLSTimeout, DefaultTLSTimeout)
	if c.AuthTimeout == 0 {
		c.AuthTimeout = DefaultAuthTimeout
		if c.TLS != nil {
			c.AuthTimeout = c.TLSTimeout + time.Second
		}
	}
	setDefault(&c.PingInterval, min(o.PingInterval, RoutePingIntervalMax))
	c.PingInterval = min(c.PingInterval, RoutePingIntervalMax)
	setDefault(&c.MaxPingsOut, o.MaxPingsOut)
	setDefault(&c.WriteDeadline, o.WriteDeadline)
	setDefault(&c.PoolSize, DefaultRoutePoolSize)
	if err := c.pinAccounts(o.SystemAccount); err != nil {
		return err
	}
	compression, err := c.Compression.normalized()
	if err != nil {
		return fmt.Errorf("core: %w", err)
	}
	c.Compression = compression
	// Postcondition: the route subsystem reads no zero value it must interpret.
	env.Assertf(c.PoolSize != 0 && c.AuthTimeout != 0 && c.TLSTimeout != 0 && c.Compression.Mode != "",
		"core: cluster options not defaulted: %+v", c)
	env.Assertf(c.PingInterval <= RoutePingIntervalMax, "core: route ping interval %v above %v", c.PingInterval, RoutePingIntervalMax)
	return nil
}

// pinAccounts adds the system account to the pinned accounts (once) and refuses
// duplicates and pinning without pooling, with nats-server's texts.
func (c *ClusterOptions) pinAccounts(system string) error {
	if len(c.PinnedAccounts) == 0 {
		return nil
	}
	if c.PoolSize < 0 {
		return fmt.Errorf("core: pool_size cannot be negative if pinned accounts are specified")
	}
	if system == "" {
		system = "$SYS"
	}
	pinned := slices.Clone(c.PinnedAccounts)
	if !slices.Contains(pinned, system) {
		pinned = append(pinned, system)
	}
	seen := map[string]bool{}
	for _, name := range pinned {
		if seen[name] {
			return fmt.Errorf("core: found duplicate account name %q in pinned accounts list %q", name, pinned)
		}
		seen[name] = true
	}
	c.PinnedAccounts = pinned
	return nil
}

// normalized checks the mode and, for s2_auto, the thresholds: at most RTTThresholdsMax,
// negative ones read as 0 (skipped), at least one above 0, the others ascending; none
// given take DefaultRTTThresholds. Other modes drop the thresholds.
func (c Compression) normalized() (Compression, error) {
	mode := c.Mode
	if mode == "" {
		mode = CompressionAccept
	}
	switch mode {
	case CompressionOff, CompressionAccept, CompressionS2Fast, CompressionS2Better, CompressionS2Best:
		return Compression{Mode: mode}, nil
	case CompressionS2Auto:
	default:
		return c, fmt.Errorf("unsupported compression mode %q", mode)
	}
	if len(c.RTTThresholds) == 0 {
		return Compression{Mode: mode, RTTThresholds: DefaultRTTThresholds()}, nil
	}
	if len(c.RTTThresholds) > RTTThresholdsMax {
		return c, fmt.Errorf("compression mode %q should have no more than %d RTT thresholds: %v", mode, RTTThresholdsMax, c.RTTThresholds)
	}
	steps := make([]time.Duration, len(c.RTTThresholds))
	var last time.Duration
	for i, d := range c.RTTThresholds {
		d = max(d, 0)
		steps[i] = d
		if d == 0 {
			continue
		}
		if d < last {
			return c, fmt.Errorf("RTT threshold values %v should be in ascending order", c.RTTThresholds)
		}
		last = d
	}
	if last == 0 {
		return c, fmt.Errorf("compression mode %q requires at least one RTT threshold", mode)
	}
	return Compression{Mode: mode, RTTThresholds: steps}, nil
}

// clusterName is the name a cluster generation runs under: the configured one, else the
// server's generated one (drawn once from the Env's Rand, so sim runs repeat it).
func (s *Server) clusterName(c *ClusterOptions) string {
	if c.Name != "" {
		return c.Name
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.generatedClusterName == "" {
		s.generatedClusterName = randomName(s.env.Rand, clusterNameLength)
	}
	return s.generatedClusterName
}

// randomName is n base-62 characters, as nats-server's nuid-generated names look.
func randomName(r env.Rand, n int) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.Intn(len(alphabet))]
	}
	return string(b)
}

// logCluster names the cluster the routes (routes.go) serve.
func (s *Server) logCluster(cfg *config) {
	c := cfg.Cluster
	if c == nil {
		return
	}
	s.log.Logf(env.LevelInfo, "Cluster name is %s", c.Name)
	if c.Name == s.generatedName() {
		s.log.Logf(env.LevelWarn, "Cluster name was dynamically generated, consider setting one")
	}
}

func (s *Server) generatedName() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.generatedClusterName
}

// CheckCompression refuses a compression setting nats-server refuses, with its text.
func (c *ClusterOptions) CheckCompression() error {
	_, err := c.Compression.normalized()
	return err
}

// CheckClusterOptions runs the engine's checks and defaults on cluster options, with the
// server's options o, as New would; the host uses it to refuse a file before starting.
func CheckClusterOptions(c ClusterOptions, o Options) (ClusterOptions, error) {
	setDefault(&o.PingInterval, DefaultPingInterval)
	setDefault(&o.MaxPingsOut, DefaultMaxPingsOut)
	setDefault(&o.WriteDeadline, DefaultWriteDeadline)
	err := c.withDefaults(o)
	return c, err
}
