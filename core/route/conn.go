package route

import (
	"fmt"
	"time"

	"github.com/petrel-io/petrel/core/proto"
	"github.com/petrel-io/petrel/core/s2stream"
)

// Phase is where a route connection is in its life. Transitions only go down this list
// (a step may skip phases: any phase can go to closing).
//
//	dialing --connected--> awaitInfo --peer INFO--> established
//	                       awaitInfo --peer INFO, compressing--> awaitSecondInfo --peer INFO--> established
//	accepted ------------> awaitConnect --CONNECT--> awaitInfo
//	any --close decided--> closing --host saw the socket go--> closed
type Phase uint8

const (
	// PhaseDialing: a solicited route whose TCP connection is not up yet.
	PhaseDialing Phase = iota
	// PhaseAwaitConnect: an accepted route; our INFO is sent, the peer's CONNECT is awaited
	// (the dialing side always sends CONNECT first).
	PhaseAwaitConnect
	// PhaseAwaitInfo: our side of the handshake is sent (CONNECT and INFO when we dialed),
	// the peer's INFO is awaited; it settles who the peer is.
	PhaseAwaitInfo
	// PhaseAwaitSecondInfo: both sides chose to compress (compress.go); our second INFO is
	// sent, the peer's is awaited, and registers the route.
	PhaseAwaitSecondInfo
	// PhaseEstablished: the route is registered for its peer, interest flows both ways.
	PhaseEstablished
	// PhaseClosing: the router decided to close it; what Ready holds for it (an -ERR) is
	// the last thing written, and nothing read is acted on.
	PhaseClosing
	// PhaseClosed: the host reported the socket gone; the router forgets the connection.
	PhaseClosed
)

var phaseNames = [...]string{"dialing", "awaitConnect", "awaitInfo", "awaitSecondInfo", "established", "closing", "closed"}

func (p Phase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return fmt.Sprintf("Phase(%d)", p)
}

// Conn is one route connection's state. The Router owns it and steps it; Conn's methods
// are the route protocol's handler (proto.RouteHandler), so a parsed op is one step.
//
// Invariants: phase == PhaseEstablished iff the router lists this conn for peerID at its
// slot or account; pingsOut <= the router's MaxPingsOut; solicited iff url != "".
type Conn struct {
	r         *Router
	id        ConnID
	phase     Phase
	solicited bool
	url       string // the URL dialled, for a solicited route
	// inherited is the URL of a solicited duplicate this accepted route beat: dialled again
	// when this one closes, as the loser would have been (a configured route whose peer
	// does not list us would otherwise never come back: the cluster workload, seed 100030).
	inherited string
	nonce     string // the nonce in our INFO on this connection
	// cred is what a solicited route sends in its CONNECT.
	cred Credentials
	// authDeadline is when an accepted route that must authenticate is closed if its
	// CONNECT has not come; zero for none.
	authDeadline time.Duration
	// account is the pinned account this connection is dedicated to ("" for a pool
	// connection); slot its pool index once the handshake settled it (-1 when pinned).
	// peerPoolSize is the peer's route_pool_size (0: it does not pool).
	account      string
	slot         int
	peerPoolSize int
	parser       *proto.RouteParser
	mode         proto.RouteMode

	peerID      string // from CONNECT (accepted) or INFO
	peerName    string
	peerNonce   string
	peerURL     string   // the peer's route URL (INFO ip, or remoteHost and the INFO's port)
	remoteHost  string   // the host an accepted connection came from (SetRemoteHost)
	connectURLs []string // the peer's client URLs from its handshake INFO (the peer keeps updates)

	pingsOut int
	nextPing time.Duration
	pingSent time.Duration // when the oldest unanswered PING went out

	// For monitoring (stats.go): the handshake's start, the last routed message either
	// way, the last PING's round trip, and the routed messages and payload bytes.
	start, lastActivity, rtt           time.Duration
	inMsgs, inBytes, outMsgs, outBytes int64

	// compression is the mode negotiated (compress.go), "" before; decoder, once the
	// peer's bytes turned compressed, decodes what is read.
	compression string
	decoder     *s2stream.Decoder

	out    []byte // bytes for the host to write, handed over by Ready
	spare  []byte // the buffer handed over by the last Ready, written again after the next
	reason CloseReason
}

// Compression is the compression mode the handshake settled ("" when this side does not
// negotiate, "off" or "not supported" when it found none; else the s2 level it writes at).
func (c *Conn) Compression() string { return c.compression }

// ID returns the connection's id.
func (c *Conn) ID() ConnID { return c.id }

// Phase returns where the connection is.
func (c *Conn) Phase() Phase { return c.phase }

// Peer returns the peer's server id once known (from its CONNECT or INFO).
func (c *Conn) Peer() string { return c.peerID }

// dialer returns the server id of the side that opened the connection, and that side's
// nonce on it: what both ends know alike, which the duplicate rule compares.
func (c *Conn) dialer() (id, nonce string) {
	if c.solicited {
		return c.r.cfg.ServerID, c.nonce
	}
	return c.peerID, c.peerNonce
}

// redialURL is where to dial again when c closes: its own URL, or the one it inherited.
func (c *Conn) redialURL() string {
	if c.solicited {
		return c.url
	}
	return c.inherited
}

// inherit keeps the URL of loser, a duplicate of c closed in its favour, unless c has one.
func (c *Conn) inherit(loser *Conn) {
	if c.redialURL() == "" {
		c.inherited = loser.redialURL()
	}
}

// live reports whether the connection still acts on what it reads.
func (c *Conn) live() bool { return c.phase < PhaseClosing }

func (c *Conn) write(b []byte) { c.out = append(c.out, b...) }

func (c *Conn) writeErr(text string) { c.out = proto.AppendErr(c.out, text) }

// Live reports whether the connection is open and acting on what it reads (not closing).
func (c *Conn) Live() bool { return c.live() }
