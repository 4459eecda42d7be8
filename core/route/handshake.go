package route

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/proto"
)

// errStop ends a Parse call once the connection is closing: nothing after the op that
// closed it is acted on. It never leaves the package.
var errStop = errors.New("route: connection closing")

// The handshake, as nats-server runs it (2.10+), once TCP is up (and TLS: the host
// handshakes before it calls Accept or Connected; auth.go has authorization): the dialing
// side writes CONNECT then INFO at once; the accepting side writes INFO at once and takes
// nothing but CONNECT first (anything else: -ERR 'Authorization Violation', close, as
// 2.15.2 does without auth configured too). Each side registers the route when it reads
// the peer's INFO, then sends its whole interest (RS+ per local subscription,
// a queue group once with its member count as weight). Refusals:
//
//	CONNECT's user or password wrong -ERR 'Authorization Violation', close (auth.go)
//	no CONNECT within auth timeout   -ERR 'Authentication Timeout', close (auth required only)
//	CONNECT's cluster is not ours    -ERR 'Rejecting connection, cluster name "x" does not match "y"', close
//	INFO's cluster is not ours       close, no -ERR (the side that dialed)
//	INFO's server_id is ours         close, no -ERR, not redialled (a route to ourselves)
//	INFO's server_name is ours       close (checked by the accepting side, as nats-server does)
//	second connection to a peer      close the loser of the duplicate rule (dup.go), per pool
//	                                 index and pinned account
//	pools and pinned accounts        pool.go

// Connect handles the peer's CONNECT: only an accepted route gets one, first.
func (c *Conn) Connect(raw []byte) error {
	if c.phase != PhaseAwaitConnect {
		return c.r.closeConn(c, ReasonProtocolViolation, "")
	}
	var ci proto.RouteConnect
	if err := json.Unmarshal(raw, &ci); err != nil {
		return c.r.closeConn(c, ReasonParseError, "")
	}
	if !c.r.cfg.admits(ci.User, ci.Pass) {
		return c.r.closeLogged(c, ReasonAuthenticationFailure, "Authorization Violation", authViolation(ci.User))
	}
	c.authDeadline = 0
	if ci.Cluster != c.r.cfg.Cluster {
		text := fmt.Sprintf("Rejecting connection, cluster name %q does not match %q", ci.Cluster, c.r.cfg.Cluster)
		return c.r.closeConn(c, ReasonClusterNameConflict, text)
	}
	c.peerID = ci.Name
	c.phase = PhaseAwaitInfo
	return nil
}

// Info handles the peer's INFO: the handshake's last step, or on an established route an
// update (lame duck mode) or gossip about another server.
func (c *Conn) Info(raw []byte) error {
	if c.phase == PhaseAwaitConnect {
		return c.notConnected()
	}
	var info proto.RouteInfo
	if err := json.Unmarshal(raw, &info); err != nil {
		return c.r.closeConn(c, ReasonParseError, "")
	}
	switch c.phase {
	case PhaseAwaitInfo:
		return c.handshakeInfo(&info)
	case PhaseAwaitSecondInfo:
		return c.secondInfo(&info)
	case PhaseEstablished:
		c.r.infoUpdate(c, &info)
		return nil
	}
	return c.r.closeConn(c, ReasonProtocolViolation, "")
}

func (c *Conn) handshakeInfo(info *proto.RouteInfo) error {
	cfg := &c.r.cfg
	switch {
	case info.ID == cfg.ServerID:
		return c.r.closeConn(c, ReasonRouteToSelf, "")
	case info.Cluster != "" && info.Cluster != cfg.Cluster:
		return c.r.closeConn(c, ReasonClusterNameConflict, "")
	case !c.solicited && info.Name != "" && info.Name == cfg.ServerName:
		return c.r.closeConn(c, ReasonDuplicateServerName, "")
	case info.ID == "" || (c.peerID != "" && info.ID != c.peerID):
		// An accepted route's CONNECT named the peer; its INFO must agree.
		return c.r.closeConn(c, ReasonProtocolViolation, "")
	}
	c.peerID, c.peerName, c.peerNonce = info.ID, info.Name, info.Nonce
	c.fillPeerURL(info)
	c.connectURLs = capURLs(info.ConnectURLs)
	if err := c.r.settlePool(c, info); err != nil {
		return err
	}
	c.mode = proto.RouteMode{Account: c.account, LeafUnsubWithoutOrigin: !info.LNOCU}
	c.parser.SetMode(c.mode)
	if wait, err := c.startCompression(info); wait || err != nil {
		return err
	}
	if !c.r.register(c, info) {
		return errStop
	}
	return nil
}

// fillPeerURL takes the peer's route URL from its INFO's ip, or, when it names none (a
// listener on every interface without advertise, as nats-server sends it), makes it from
// the host this route reaches the peer at and the INFO's port; the INFO passed on in gossip
// carries it.
func (c *Conn) fillPeerURL(info *proto.RouteInfo) {
	if info.IP == "" && info.Port > 0 {
		host := c.remoteHost
		if c.solicited {
			host, _ = env.SplitAddr(HostPort(c.url))
		}
		if host != "" {
			info.IP = "nats-route://" + env.JoinHostPort(host, info.Port) + "/"
		}
	}
	c.peerURL = info.IP
}

// notConnected closes an accepted route whose first op is not CONNECT, as nats-server does.
func (c *Conn) notConnected() error {
	return c.r.closeConn(c, ReasonAuthenticationFailure, "Authorization Violation")
}

// Ping answers with PONG in every live phase.
func (c *Conn) Ping() error {
	if c.phase == PhaseAwaitConnect {
		return c.notConnected()
	}
	c.write(proto.Pong)
	return nil
}

// Pong clears the count of unanswered PINGs.
func (c *Conn) Pong() error {
	if c.pingsOut > 0 {
		c.rtt = c.r.now - c.pingSent
	}
	c.pingsOut = 0
	return nil
}

// OK is ignored: routes never ask for +OK (verbose is false in their CONNECT).
func (c *Conn) OK() error { return nil }

// Err closes the route: nats-server closes a route on any -ERR it reads, and logs it.
func (c *Conn) Err(text []byte) error {
	return c.r.closeLogged(c, ReasonPeerError, "", fmt.Sprintf("Route Error '%s'", text))
}

// RemoteSub records the peer's interest (RS+, or LS+ for a leaf node behind it).
func (c *Conn) RemoteSub(sub *proto.RemoteSub) error {
	if c.phase == PhaseAwaitConnect {
		return c.notConnected()
	}
	if c.phase != PhaseEstablished {
		return c.r.closeConn(c, ReasonProtocolViolation, "")
	}
	weight := 1
	if sub.Queue != nil {
		weight = max(sub.Weight, 1) // nats-server reads a queue weight below 1 as one member
	}
	return c.r.remoteInterest(c, sub, weight)
}

// RemoteUnsub removes the peer's interest (RS- or LS-).
func (c *Conn) RemoteUnsub(sub *proto.RemoteSub) error {
	if c.phase == PhaseAwaitConnect {
		return c.notConnected()
	}
	if c.phase != PhaseEstablished {
		return c.r.closeConn(c, ReasonProtocolViolation, "")
	}
	return c.r.remoteInterest(c, sub, 0)
}

// RoutedMsg hands a message from the peer to this server's subscribers.
func (c *Conn) RoutedMsg(msg *proto.RoutedMsg) error {
	if c.phase == PhaseAwaitConnect {
		return c.notConnected()
	}
	if c.phase != PhaseEstablished {
		return c.r.closeConn(c, ReasonProtocolViolation, "")
	}
	r := c.r
	d := Delivery{From: c.id, Account: r.nameOf(msg.Account), Subject: r.keep(msg.Subject),
		Hdr: msg.Hdr, Payload: r.keep(msg.Payload)}
	if msg.Reply != nil {
		d.Reply = r.keep(msg.Reply)
	}
	if len(msg.Queues) > 0 {
		start := len(r.queues)
		for _, q := range msg.Queues {
			r.queues = append(r.queues, r.nameOf(q))
		}
		d.Queues = r.queues[start:len(r.queues):len(r.queues)]
	}
	r.ready.Deliveries = append(r.ready.Deliveries, d)
	c.inMsgs++
	c.inBytes += int64(len(msg.Payload))
	c.lastActivity = r.now
	return nil
}

// keep copies b into the arena of this Receive's deliveries: the parser's buffers are its
// own again after the op, and an allocation per message is what the arena saves. An arena
// that grows moves on to new memory; what was kept before stays where it was.
func (r *Router) keep(b []byte) []byte {
	start := len(r.arena)
	r.arena = append(r.arena, b...)
	return r.arena[start:len(r.arena):len(r.arena)]
}

// nameOf is an account or queue name from the wire, interned with the names Publish uses.
func (r *Router) nameOf(b []byte) string {
	if n, ok := r.names[string(b)]; ok {
		return n.str
	}
	return r.internName(string(b)).str
}

func capURLs(urls []string) []string {
	return append([]string(nil), urls[:min(len(urls), maxURLs)]...)
}
