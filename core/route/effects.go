package route

import "fmt"

// ConnID names one route connection inside a Router. IDs are never reused.
type ConnID uint64

// Ready is what the router asks of its host after one or more steps: bytes to write, messages
// to deliver locally, connections to close, routes to dial, clients to tell. The host carries
// them out in this order (writes before closes, so an -ERR reaches the peer) and calls Ready
// again after its next step. Writes and Deliveries are reused (see Router.Ready); the other
// slices belong to the host once returned.
type Ready struct {
	Writes     []Write
	Deliveries []Delivery
	// Interest lists every change to the remote interest table, for the engine's other users
	// of it (gateways and leaf nodes later, monitoring now).
	Interest []InterestChange
	Closes   []Close
	// Dials are route URLs learned by gossip that the host should dial (with Router.Dial).
	Dials []string
	// Opens are connections the router created (a pool's next one, a pinned account's)
	// for the host to dial (pool.go).
	Opens []Open
	// ClientURLs, when ClientURLsChanged, is the cluster's new set of client URLs: the engine
	// sends clients that take async INFO a new INFO with it as connect_urls.
	ClientURLs        []string
	ClientURLsChanged bool
}

// Empty reports whether there is nothing to do.
func (rd *Ready) Empty() bool {
	return len(rd.Writes) == 0 && len(rd.Deliveries) == 0 && len(rd.Interest) == 0 &&
		len(rd.Closes) == 0 && len(rd.Dials) == 0 && len(rd.Opens) == 0 && !rd.ClientURLsChanged
}

// Write is bytes for one connection, already encoded by core/proto. CompressAfter, when
// set, is the compression mode the host compresses everything it writes on the connection
// after these bytes with (s2stream, at EncoderLevel(mode)).
type Write struct {
	Conn          ConnID
	Bytes         []byte
	CompressAfter string
}

// Delivery is a message that came in over a route, for this server's own subscribers: every
// plain subscription matching Subject in Account, and one member of each named queue group
// (Queues nil: plain subscriptions only). The engine never forwards it to another route.
//
// Subject, Reply, Queues and Payload are valid until the router's next Receive after the
// Ready that returned them.
type Delivery struct {
	From    ConnID
	Account string
	Subject []byte
	Reply   []byte // nil without one
	Queues  []string
	// Hdr is the header length at the start of Payload, -1 without headers.
	Hdr     int
	Payload []byte
}

// InterestChange is one change to a peer's interest: Weight is the peer's member count for a
// queue group (1 for a plain subscription), 0 when the interest is gone.
type InterestChange struct {
	Conn    ConnID
	Peer    string
	Account string
	Subject string
	Queue   string
	Weight  int
}

// Close asks the host to close a connection (after writing what Writes holds for it). Retry
// says whether a solicited route should be dialled again at URL: with Router.DialAccount
// when Account names the pinned account it was dedicated to, else with Router.Dial.
type Close struct {
	Conn ConnID
	// Peer is the peer's server id, if the handshake got far enough to learn it.
	Peer   string
	Reason CloseReason
	Retry  bool
	URL    string
	// Account is the pinned account of the connection ("" for a pool connection).
	Account string
	// Detail, if set, is what the host logs at error level for this close, in nats-server's
	// words: a refused CONNECT's `authentication error - User "x"`, a peer's
	// `Route Error 'Authorization Violation'`.
	Detail string
}

// CloseReason says why a route closed.
type CloseReason uint8

// The reasons, named after nats-server's where it has one.
const (
	ReasonNone CloseReason = iota
	// ReasonClusterNameConflict: the peer's cluster name is not ours.
	ReasonClusterNameConflict
	// ReasonRouteToSelf: the peer is this server (a seed URL that resolves to us).
	ReasonRouteToSelf
	// ReasonDuplicateRoute: another connection to the same peer won (dup.go's rule).
	ReasonDuplicateRoute
	// ReasonDuplicateServerName: the peer has our server_name.
	ReasonDuplicateServerName
	// ReasonStaleConnection: MaxPingsOut PINGs went unanswered.
	ReasonStaleConnection
	// ReasonProtocolViolation: an op out of its phase (a message before the handshake).
	ReasonProtocolViolation
	// ReasonParseError: bytes the route parser refused, or an INFO/CONNECT that is not JSON.
	ReasonParseError
	// ReasonPeerError: the peer sent -ERR (a route closes on any).
	ReasonPeerError
	// ReasonConnectionClosed: the host saw the socket end (EOF, reset, write error).
	ReasonConnectionClosed
	// ReasonShutdown: this server closed it.
	ReasonShutdown
	// ReasonTooManySubs: the peer's interest passed maxRemoteSubsPerConn.
	ReasonTooManySubs
	// ReasonAuthenticationFailure: an accepted route sent something other than CONNECT
	// first (nats-server answers -ERR 'Authorization Violation', with or without auth).
	ReasonAuthenticationFailure
	// ReasonRouteRemoved: a reload took the route's URL out of the configured routes.
	ReasonRouteRemoved
	// ReasonAuthenticationTimeout: an accepted route that must authenticate sent no CONNECT
	// within the auth timeout.
	ReasonAuthenticationTimeout
	// ReasonPoolFull: a dialled pool connection found every index taken (nats-server:
	// "Route pool size reached, closing extra connection").
	ReasonPoolFull
	// ReasonPoolRefused: a pinned account's connection to or from a server that does not
	// pool (nats-server: "Not possible to have a dedicated route for account").
	ReasonPoolRefused
	// ReasonPoolResized: a reload changed the pool size; the pool connects again.
	ReasonPoolResized
)

var reasonNames = [...]string{"None", "ClusterNameConflict", "RouteToSelf", "DuplicateRoute",
	"DuplicateServerName", "StaleConnection", "ProtocolViolation", "ParseError", "PeerError",
	"ConnectionClosed", "Shutdown", "TooManySubs", "AuthenticationFailure", "RouteRemoved", "AuthenticationTimeout",
	"PoolFull", "PoolRefused", "PoolResized"}

func (r CloseReason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("CloseReason(%d)", r)
}

// retryable: a solicited route closed for this reason is dialled again. A route to ourselves
// or a losing duplicate would only repeat (nats-server marks those no-reconnect too).
func (r CloseReason) retryable() bool {
	return r != ReasonRouteToSelf && r != ReasonDuplicateRoute && r != ReasonDuplicateServerName && r != ReasonShutdown &&
		r != ReasonRouteRemoved && r != ReasonPoolFull && r != ReasonPoolRefused
}
