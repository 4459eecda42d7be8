package core

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"runtime"
	"time"

	"github.com/petrel-io/petrel/core/websocket"
)

// Varz is the general server document (/varz), with nats-server's keys, types and order.
// Sections of features Petrel does not have yet (cluster, gateway, leaf, mqtt) are present
// and empty, as nats-server reports a feature that is off.
type Varz struct {
	ID                   string            `json:"server_id"`
	Name                 string            `json:"server_name"`
	Version              string            `json:"version"`
	PetrelVersion        string            `json:"petrel_version"`
	Proto                int               `json:"proto"`
	Go                   string            `json:"go"`
	Host                 string            `json:"host"`
	Port                 int               `json:"port"`
	AuthRequired         bool              `json:"auth_required,omitempty"`
	TLSRequired          bool              `json:"tls_required,omitempty"`
	TLSVerify            bool              `json:"tls_verify,omitempty"`
	ConnectURLs          []string          `json:"connect_urls,omitempty"`
	MaxConnections       int               `json:"max_connections"`
	MaxSubscriptions     int               `json:"max_subscriptions,omitempty"`
	PingInterval         time.Duration     `json:"ping_interval"`
	MaxPingsOut          int               `json:"ping_max"`
	HTTPHost             string            `json:"http_host"`
	HTTPPort             int               `json:"http_port"`
	HTTPBasePath         string            `json:"http_base_path"`
	HTTPSPort            int               `json:"https_port"`
	AuthTimeout          float64           `json:"auth_timeout"` // seconds
	MaxControlLine       int               `json:"max_control_line"`
	MaxPayload           int               `json:"max_payload"`
	MaxPending           int64             `json:"max_pending"`
	Cluster              ClusterVarz       `json:"cluster"`
	Gateway              GatewayVarz       `json:"gateway"`
	Leaf                 LeafVarz          `json:"leaf"`
	MQTT                 MQTTVarz          `json:"mqtt"`
	Websocket            WebsocketVarz     `json:"websocket"`
	JetStream            JetStreamVarz     `json:"jetstream"`
	TLSTimeout           float64           `json:"tls_timeout"` // seconds
	WriteDeadline        time.Duration     `json:"write_deadline"`
	LameDuck             bool              `json:"lame_duck_mode,omitempty"`
	Start                time.Time         `json:"start"`
	Now                  time.Time         `json:"now"`
	Uptime               string            `json:"uptime"`
	Mem                  int64             `json:"mem"`
	Cores                int               `json:"cores"`
	GOMAXPROCS           int               `json:"gomaxprocs"`
	CPU                  float64           `json:"cpu"`
	Connections          int               `json:"connections"`
	TotalConnections     int64             `json:"total_connections"`
	Routes               int               `json:"routes"`
	Remotes              int               `json:"remotes"`
	Leafnodes            int               `json:"leafnodes"`
	InMsgs               int64             `json:"in_msgs"`
	InBytes              int64             `json:"in_bytes"`
	InClientMsgs         int64             `json:"in_client_msgs"`
	InClientBytes        int64             `json:"in_client_bytes"`
	OutMsgs              int64             `json:"out_msgs"`
	OutBytes             int64             `json:"out_bytes"`
	OutClientMsgs        int64             `json:"out_client_msgs"`
	OutClientBytes       int64             `json:"out_client_bytes"`
	SlowConsumers        int64             `json:"slow_consumers"`
	StaleConnections     int64             `json:"stale_connections"`
	StalledClients       int64             `json:"stalled_clients"`
	Subscriptions        int               `json:"subscriptions"`
	HTTPReqStats         map[string]uint64 `json:"http_req_stats"`
	ConfigLoadTime       time.Time         `json:"config_load_time"`
	ConfigDigest         string            `json:"config_digest"`
	FeatureFlags         map[string]bool   `json:"feature_flags"`
	SystemAccount        string            `json:"system_account"`
	SlowConsumerStats    *ConnKindStats    `json:"slow_consumer_stats"`
	StaleConnectionStats *ConnKindStats    `json:"stale_connection_stats"`
	DiskIOWaitStats      *DiskIOWaitStats  `json:"disk_io_wait_stats"`
	TLSCertNotAfter      time.Time         `json:"tls_cert_not_after,omitzero"`
}

// VarzHost is what the host process knows of itself that the engine does not: its
// monitoring listener, its configuration file, and (until JetStream runs in the engine)
// the JetStream configuration it accepted.
type VarzHost struct {
	HTTPHost     string
	HTTPPort     int
	HTTPBasePath string
	HTTPSPort    int
	HTTPReqStats map[string]uint64 // requests per monitoring path
	ConfigDigest string
	JetStream    *JetStreamConfigVarz // nil unless JetStream was asked for
}

// GatewayVarz, LeafVarz and MQTTVarz are the sections of features not built yet: empty
// objects, as nats-server shows a feature that is off. Their fields arrive with the
// features.
type (
	GatewayVarz struct{}
	LeafVarz    struct{}
	MQTTVarz    struct{}
)

// WebsocketVarz is the websocket section; every field is omitted while WebSocket is off.
type WebsocketVarz struct {
	Host             string        `json:"host,omitempty"`
	Port             int           `json:"port,omitempty"`
	Advertise        string        `json:"advertise,omitempty"`
	NoAuthUser       string        `json:"no_auth_user,omitempty"`
	JWTCookie        string        `json:"jwt_cookie,omitempty"`
	HandshakeTimeout time.Duration `json:"handshake_timeout,omitempty"`
	AuthTimeout      float64       `json:"auth_timeout,omitempty"`
	NoTLS            bool          `json:"no_tls,omitempty"`
	SameOrigin       bool          `json:"same_origin,omitempty"`
	AllowedOrigins   []string      `json:"allowed_origins,omitempty"`
	Compression      bool          `json:"compression,omitempty"`
}

// ClusterVarz is the cluster section: the cluster options as nats-server reports them;
// every field is omitted without a cluster.
type ClusterVarz struct {
	Name            string        `json:"name,omitempty"`
	Host            string        `json:"addr,omitempty"`
	Port            int           `json:"cluster_port,omitempty"`
	AuthTimeout     float64       `json:"auth_timeout,omitempty"` // seconds
	URLs            []string      `json:"urls,omitempty"`         // the seed routes' host:port
	TLSTimeout      float64       `json:"tls_timeout,omitempty"`  // seconds
	TLSRequired     bool          `json:"tls_required,omitempty"`
	TLSVerify       bool          `json:"tls_verify,omitempty"`
	PoolSize        int           `json:"pool_size,omitempty"`
	WriteDeadline   time.Duration `json:"write_deadline,omitempty"` // only when set in the block
	WriteTimeout    string        `json:"write_timeout,omitempty"`
	TLSCertNotAfter time.Time     `json:"tls_cert_not_after,omitzero"`
}

// clusterVarz is the cluster section from the options; Varz puts the bound port in once
// the routes listen.
func clusterVarz(cfg *config) ClusterVarz {
	c := cfg.Cluster
	if c == nil {
		return ClusterVarz{}
	}
	v := ClusterVarz{Name: c.Name, Host: cmp.Or(c.Host, "0.0.0.0"), Port: c.Port, AuthTimeout: c.AuthTimeout.Seconds(),
		TLSTimeout: c.TLSTimeout.Seconds(), TLSRequired: c.TLS != nil, TLSVerify: c.TLS != nil, PoolSize: c.PoolSize,
		WriteTimeout: c.WriteTimeout, TLSCertNotAfter: tlsNotAfter(c.TLS)}
	for _, u := range c.Routes {
		v.URLs = append(v.URLs, u.Host)
	}
	if c.WriteDeadline != cfg.WriteDeadline {
		v.WriteDeadline = c.WriteDeadline // nats-server shows only a deadline of the block's own
	}
	return v
}

// websocketVarz is the websocket section: the listener's host and resolved port and the
// block's settings, as nats-server reports them; empty while WebSocket is off.
func (s *Server) websocketVarz(cfg *config) WebsocketVarz {
	o := cfg.WebSocket
	if o == nil {
		return WebsocketVarz{}
	}
	s.mu.Lock()
	port := s.wsPort
	s.mu.Unlock()
	v := WebsocketVarz{Host: cmp.Or(o.Host, "0.0.0.0"), Port: port, Advertise: o.Advertise, JWTCookie: o.JWTCookie,
		NoTLS: o.TLS == nil, SameOrigin: o.SameOrigin, AllowedOrigins: o.AllowedOrigins, Compression: o.Compression}
	if o.Auth != nil {
		v.NoAuthUser, v.AuthTimeout = o.Auth.NoAuthUser, o.Auth.Timeout.Seconds()
	}
	if o.HandshakeTimeout != websocket.HandshakeTimeoutDefault {
		v.HandshakeTimeout = o.HandshakeTimeout // nats-server shows only a configured one
	}
	return v
}

// JetStreamVarz is the jetstream section: empty while JetStream is off. Started with -js,
// Petrel shows the configuration it accepted and no statistics, since nothing runs yet
// (DESIGN.md, Monitoring).
type JetStreamVarz struct {
	Config *JetStreamConfigVarz `json:"config,omitempty"`
}

// JetStreamConfigVarz is JetStream's configuration as nats-server reports it.
type JetStreamConfigVarz struct {
	MaxMemory    int64         `json:"max_memory"`
	MaxStore     int64         `json:"max_storage"`
	StoreDir     string        `json:"store_dir,omitempty"`
	SyncInterval time.Duration `json:"sync_interval"` // 0 with sync_always
	SyncAlways   bool          `json:"sync_always,omitempty"`
	Domain       string        `json:"domain,omitempty"`
	Strict       bool          `json:"strict"`
}

// ConnKindStats counts events per kind of connection (slow consumers, stale connections).
// Petrel has only clients so far.
type ConnKindStats struct {
	Clients  int64 `json:"clients"`
	Routes   int64 `json:"routes"`
	Gateways int64 `json:"gateways"`
	Leafs    int64 `json:"leafs"`
}

// DiskIOWaitStats is nats-server's contention on its disk I/O limiter. Petrel has no such
// limiter, so nothing ever waits.
type DiskIOWaitStats struct {
	Waiters     int64         `json:"waiters"`
	Waits       int64         `json:"waits"`
	WaitTime    time.Duration `json:"wait_time"`
	MaxWaitTime time.Duration `json:"max_wait_time"`
}

// Varz assembles /varz. Host facts (CPU, memory, cores) come from the Env's Host.
func (s *Server) Varz(h VarzHost) Varz {
	now := s.env.Clock.Now()
	s.mu.Lock()
	conns, lameDuck := len(s.clients), s.lameDuck
	s.mu.Unlock()
	cfg := s.cfg()
	info, facts, st := s.infoFor(cfg), s.env.Host.Facts(), &s.stats
	v := Varz{
		ID: s.id, Name: cfg.name, Version: Version, PetrelVersion: PetrelVersion, Proto: ProtoVersion,
		Go: runtime.Version(), Host: info.Host, Port: s.Port(), AuthRequired: info.AuthRequired,
		TLSRequired: info.TLSRequired, TLSVerify: info.TLSVerify, ConnectURLs: cfg.ConnectURLs,
		MaxConnections: cfg.MaxConnections, MaxSubscriptions: cfg.MaxSubscriptions,
		PingInterval: cfg.PingInterval, MaxPingsOut: cfg.MaxPingsOut,
		HTTPHost: h.HTTPHost, HTTPPort: h.HTTPPort, HTTPBasePath: h.HTTPBasePath, HTTPSPort: h.HTTPSPort,
		AuthTimeout: cfg.Auth.Timeout.Seconds(), MaxControlLine: cfg.MaxControlLine,
		MaxPayload: cfg.MaxPayload, MaxPending: cfg.MaxPending,
		JetStream: JetStreamVarz{Config: h.JetStream}, TLSTimeout: cfg.TLSTimeout.Seconds(),
		WriteDeadline: cfg.WriteDeadline, LameDuck: lameDuck,
		Start: s.start, Now: now, Uptime: FormatUptime(now.Sub(s.start)),
		Mem: facts.MemBytes, Cores: facts.Cores, GOMAXPROCS: facts.GOMAXPROCS, CPU: facts.CPUPercent,
		Connections: conns, TotalConnections: st.totalConns.Load(),
		InMsgs: st.inMsgs.Load(), InBytes: st.inBytes.Load(), OutMsgs: st.outMsgs.Load(), OutBytes: st.outBytes.Load(),
		SlowConsumers: st.slowConsumers.Load(), StaleConnections: st.staleConns.Load(), StalledClients: st.stalls.Load(),
		Subscriptions: s.subscriptionCount(), SystemAccount: cfg.accounts.System().Name(), HTTPReqStats: h.HTTPReqStats, ConfigLoadTime: cfg.loaded,
		ConfigDigest: h.ConfigDigest, FeatureFlags: map[string]bool{}, DiskIOWaitStats: &DiskIOWaitStats{},
		TLSCertNotAfter: certNotAfter(cfg),
	}
	v.Websocket = s.websocketVarz(cfg)
	v.Cluster = clusterVarz(cfg)
	if rt := s.clusterRoutes(); rt != nil {
		// Routes counts connections (a peer has a pool and pinned ones), remotes servers.
		v.Routes = rt.numConns()
		v.Remotes = len(s.RoutePeers())
		v.Cluster.Port = s.RoutePort() // the bound port ("any free port" resolved)
	}
	// Every connection is a client so far: the client counters are the totals.
	v.InClientMsgs, v.InClientBytes, v.OutClientMsgs, v.OutClientBytes = v.InMsgs, v.InBytes, v.OutMsgs, v.OutBytes
	v.SlowConsumerStats = &ConnKindStats{Clients: v.SlowConsumers}
	v.StaleConnectionStats = &ConnKindStats{Clients: v.StaleConnections}
	if v.HTTPReqStats == nil {
		v.HTTPReqStats = map[string]uint64{}
	}
	return v
}

// certNotAfter is when the server's TLS certificate expires, or zero without TLS.
func certNotAfter(cfg *config) time.Time { return tlsNotAfter(cfg.TLS) }

// tlsNotAfter is when a TLS configuration's certificate expires, or zero without one.
func tlsNotAfter(t *tls.Config) time.Time {
	if t == nil || len(t.Certificates) == 0 {
		return time.Time{}
	}
	cert := t.Certificates[0]
	if cert.Leaf != nil {
		return cert.Leaf.NotAfter
	}
	if len(cert.Certificate) == 0 {
		return time.Time{}
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return time.Time{} // a certificate the TLS stack accepted parses; monitoring shows none if not
	}
	return leaf.NotAfter
}
