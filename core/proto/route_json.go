package proto

// RouteInfo is the INFO document a server sends on a route, with nats-server's field names
// in nats-server's order (so a marshalled RouteInfo reads like nats-server's, byte for byte:
// testdata/route checks it against captured ones). Fields nats-server sends to clients only
// (client_id, client_ip, api_lvl, ...) are left out; leaf and gateway INFO get their own
// types.
type RouteInfo struct {
	ID           string `json:"server_id"`
	Name         string `json:"server_name"`
	Version      string `json:"version"`
	Proto        int    `json:"proto"`
	GitCommit    string `json:"git_commit,omitempty"`
	GoVersion    string `json:"go"`
	Host         string `json:"host"`
	Port         int    `json:"port"`
	Headers      bool   `json:"headers"`
	AuthRequired bool   `json:"auth_required,omitempty"`
	TLSRequired  bool   `json:"tls_required,omitempty"`
	TLSVerify    bool   `json:"tls_verify,omitempty"`
	TLSAvailable bool   `json:"tls_available,omitempty"`
	MaxPayload   int32  `json:"max_payload"`
	JetStream    bool   `json:"jetstream,omitempty"`
	// IP is the route URL the server advertises for gossip (nats-route://host:port/).
	IP    string `json:"ip,omitempty"`
	Nonce string `json:"nonce,omitempty"`
	// Cluster is the cluster name; Dynamic says it was not configured (a peer may adopt
	// the other side's).
	Cluster       string   `json:"cluster,omitempty"`
	Dynamic       bool     `json:"cluster_dynamic,omitempty"`
	Domain        string   `json:"domain,omitempty"`
	ConnectURLs   []string `json:"connect_urls,omitempty"`
	WSConnectURLs []string `json:"ws_connect_urls,omitempty"`
	LameDuckMode  bool     `json:"ldm,omitempty"`
	// Compression is the route compression mode offered: "off", "accept", "s2_auto", ...
	Compression string `json:"compression,omitempty"`
	// Import and Export are the route's permissions, as the peer should apply them.
	Import *RoutePermission `json:"import,omitempty"`
	Export *RoutePermission `json:"export,omitempty"`
	// LNOC: the server understands LS+/LMSG with an origin cluster. LNOCU: its LS- carries
	// the origin too (RouteMode.LeafUnsubWithoutOrigin is its absence).
	LNOC  bool `json:"lnoc,omitempty"`
	LNOCU bool `json:"lnocu,omitempty"`
	// LN is sent by nats-server 2.15.2 in route INFO and CONNECT alike (as true); its meaning
	// is not established here. Kept so that Petrel's INFO reads like nats-server's.
	LN            bool `json:"ln,omitempty"`
	InfoOnConnect bool `json:"info_on_connect,omitempty"`
	ConnectInfo   bool `json:"connect_info,omitempty"`
	// RoutePoolSize is the sender's pool size; RoutePoolIdx the index of this connection in
	// the pool (absent for index 0 and on the accepting side's first INFO).
	RoutePoolSize int `json:"route_pool_size,omitempty"`
	RoutePoolIdx  int `json:"route_pool_idx,omitempty"`
	// RouteAccount names the account a pinned route carries: its ops leave the account out
	// (RouteMode.Account).
	RouteAccount  string `json:"route_account,omitempty"`
	RouteAccReqID string `json:"route_acc_add_reqid,omitempty"`
	GossipMode    byte   `json:"gossip_mode,omitempty"`
	// GatewayURL is the sender's gateway URL, for gateway gossip inside a cluster.
	GatewayURL   string   `json:"gateway_url,omitempty"`
	LeafNodeURLs []string `json:"leafnode_urls,omitempty"`
}

// RoutePermission is one direction of a route's permissions.
type RoutePermission struct {
	Allow []string `json:"allow,omitempty"`
	Deny  []string `json:"deny,omitempty"`
}

// RouteConnect is the CONNECT a server sends on a route it solicited, with nats-server's
// field names in nats-server's order.
type RouteConnect struct {
	Echo     bool   `json:"echo"`
	Verbose  bool   `json:"verbose"`
	Pedantic bool   `json:"pedantic"`
	User     string `json:"user,omitempty"`
	Pass     string `json:"pass,omitempty"`
	TLS      bool   `json:"tls_required"`
	Headers  bool   `json:"headers"`
	// Name is the sender's server id (not its server_name).
	Name    string `json:"name"`
	Cluster string `json:"cluster"`
	Dynamic bool   `json:"cluster_dynamic,omitempty"`
	LNOC    bool   `json:"lnoc,omitempty"`
	LN      bool   `json:"ln,omitempty"`
}
