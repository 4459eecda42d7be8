package core

import (
	"crypto/tls"
	"fmt"
	"time"

	"github.com/petrel-io/petrel/core/account"
	"github.com/petrel-io/petrel/core/auth"
)

// Defaults, as nats-server has them, so clients and tools see familiar limits.
const (
	DefaultPort             = 4222
	DefaultMaxPayload       = 1 << 20
	DefaultMaxControlLine   = 4096
	DefaultMaxPending       = 64 << 20
	DefaultMaxConnections   = 64 << 10
	DefaultPingInterval     = 2 * time.Minute
	DefaultMaxPingsOut      = 2
	DefaultWriteDeadline    = 10 * time.Second
	DefaultAuthTimeout      = 2 * time.Second
	DefaultTLSTimeout       = 2 * time.Second
	DefaultLameDuckDuration = 2 * time.Minute
	DefaultLameDuckGrace    = 10 * time.Second
	// maxPayloadWarn: nats-server warns above 8 MiB; larger payloads hurt every client.
	maxPayloadWarn = 8 << 20
	// Version is what INFO reports: a 2.12-line version, so clients enable the features
	// Petrel implements.
	Version = "2.12.0"
	// ProtoVersion 1 means the server sends async INFO updates.
	ProtoVersion = 1
)

// Options configure the engine. Zero values take the defaults above.
type Options struct {
	ServerName string
	Host       string // listen host; "" means all interfaces
	// ClientAdvertise is the host[:port] other servers tell clients to connect to here
	// (connect_urls), instead of the listener's (nats-server's client_advertise).
	ClientAdvertise string
	Port            int // listen port; 0 picks a free one (the server package maps -1 to 0)

	MaxPayload       int
	MaxControlLine   int
	MaxPending       int64
	MaxConnections   int
	MaxSubscriptions int // per connection; 0 means unlimited
	PingInterval     time.Duration
	MaxPingsOut      int
	WriteDeadline    time.Duration

	Auth auth.Config

	// Accounts are the configured accounts (the global account "$G" and the system account
	// exist without being listed); a user joins the account its Account field names.
	Accounts      []account.Config
	SystemAccount string // "" means account.DefaultSystem
	// ResolverDir, in operator mode, keeps account JWTs pushed to the server
	// ($SYS.REQ.CLAIMS.UPDATE) durably; they join Auth.Trust's preloaded ones at start.
	ResolverDir string
	// ResolverAllowDelete lets the operator delete accounts ($SYS.REQ.CLAIMS.DELETE);
	// ResolverLimit bounds how many account JWTs it stores (0: no bound).
	ResolverAllowDelete bool
	ResolverLimit       int

	// TLS, when set, makes every client upgrade to TLS after INFO (or before it, with
	// TLSHandshakeFirst). The host's Conn must implement env.TLSConn.
	TLS               *tls.Config
	TLSTimeout        time.Duration
	TLSVerify         bool
	TLSHandshakeFirst bool

	LameDuckDuration time.Duration
	LameDuckGrace    time.Duration

	// NoFastProducerStall turns publisher flow control off: a subscriber over the gate
	// (core/flow.go) misses messages instead of slowing their publisher (nats-server's
	// no_fast_producer_stall).
	NoFastProducerStall bool

	JetStream bool
	// JetStreamStoreDir holds JetStream's data (under its jetstream/ directory).
	JetStreamStoreDir string
	// JetStreamMaxMemory and JetStreamMaxStore are the server's limits (0: unlimited).
	JetStreamMaxMemory, JetStreamMaxStore int64
	// JetStreamSyncInterval, when > 0, is the relaxed durability of jetstream.sync_interval;
	// 0 is Petrel's default: nothing is acknowledged before an fsync covered it.
	JetStreamSyncInterval time.Duration
	JetStreamDomain       string
	// ConnectURLs are advertised to clients in INFO for reconnects.
	ConnectURLs []string

	// WebSocket, when set, opens a second listener for clients that speak the protocol
	// over WebSocket (websocket_options.go).
	WebSocket *WebSocketOptions
	// Cluster, when set, configures routes to the other servers of a cluster
	// (cluster_options.go); nil is a lone server.
	Cluster *ClusterOptions
}

// withDefaults fills zero values and rejects contradictions.
func (o Options) withDefaults() (Options, []string, error) {
	var warnings []string
	setDefault(&o.MaxPayload, DefaultMaxPayload)
	setDefault(&o.MaxControlLine, DefaultMaxControlLine)
	setDefault(&o.MaxPending, DefaultMaxPending)
	setDefault(&o.MaxConnections, DefaultMaxConnections)
	setDefault(&o.PingInterval, DefaultPingInterval)
	setDefault(&o.MaxPingsOut, DefaultMaxPingsOut)
	setDefault(&o.WriteDeadline, DefaultWriteDeadline)
	setDefault(&o.Auth.Timeout, DefaultAuthTimeout)
	setDefault(&o.TLSTimeout, DefaultTLSTimeout)
	setDefault(&o.LameDuckDuration, DefaultLameDuckDuration)
	setDefault(&o.LameDuckGrace, DefaultLameDuckGrace)
	switch {
	case o.MaxPayload < 0 || o.MaxControlLine < 0 || o.MaxPending < 0 || o.MaxConnections < 0 || o.MaxSubscriptions < 0:
		return o, nil, fmt.Errorf("core: limits must not be negative")
	case int64(o.MaxPayload) > o.MaxPending:
		return o, nil, fmt.Errorf("core: max_payload (%d) must not exceed max_pending (%d)", o.MaxPayload, o.MaxPending)
	case o.Port < 0 || o.Port > 65535:
		return o, nil, fmt.Errorf("core: port %d out of range", o.Port)
	}
	if o.WebSocket != nil {
		ws := *o.WebSocket // a copy: the caller's options stay as given
		if err := ws.withDefaults(o); err != nil {
			return o, nil, err
		}
		o.WebSocket = &ws
	}
	if o.Cluster != nil {
		c := *o.Cluster // a copy, as for WebSocket
		if err := c.withDefaults(o); err != nil {
			return o, nil, err
		}
		o.Cluster = &c
	}
	if o.MaxPayload > maxPayloadWarn {
		warnings = append(warnings, fmt.Sprintf("max_payload (%d bytes) is larger than the recommended 8 MiB", o.MaxPayload))
	}
	return o, warnings, nil
}

func setDefault[T comparable](field *T, def T) {
	var zero T
	if *field == zero {
		*field = def
	}
}
