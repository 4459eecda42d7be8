package route

import (
	"slices"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/proto"
	"github.com/petrel-io/petrel/core/subject"
)

// closeConn decides to close c: it writes errText as -ERR (if any), unregisters the route
// and drops its interest, and asks the host to close. It returns errStop so a handler can
// end the parse with it.
func (r *Router) closeConn(c *Conn, reason CloseReason, errText string) error {
	return r.closeLogged(c, reason, errText, "")
}

// closeLogged is closeConn with a line for the host to log at error level (Close.Detail).
func (r *Router) closeLogged(c *Conn, reason CloseReason, errText, detail string) error {
	env.Assertf(c.live(), "route: conn %d closed twice (%v, then %v)", c.id, c.reason, reason)
	if errText != "" {
		c.writeErr(errText)
	}
	if c.phase == PhaseEstablished {
		r.unregister(c)
	}
	c.phase, c.reason = PhaseClosing, reason
	url := c.redialURL()
	// A pool connection that lost its place (a duplicate, a full pool) is dialled again if
	// its pool still misses an index nothing else of ours is dialling: what opened it
	// counted on it (openMore), and with compression a place can be lost after the count.
	lostPlace := c.account == "" && (reason == ReasonDuplicateRoute || reason == ReasonPoolFull)
	retry := url != "" && (reason.retryable() || lostPlace) && !r.covered(c)
	r.ready.Closes = append(r.ready.Closes, Close{Conn: c.id, Peer: c.peerID, Reason: reason, Retry: retry, URL: url, Account: c.account, Detail: detail})
	return errStop
}

// unregister takes an established c out of its peer (the peer goes with its last
// connection) and drops its interest.
func (r *Router) unregister(c *Conn) {
	p := r.peers[c.peerID]
	env.Assertf(p != nil && p.at(c) == c.id, "route: established conn %d not registered for peer %s", c.id, c.peerID)
	p.set(c, 0)
	for _, k := range r.remote.dropConn(c.id) {
		r.ready.Interest = append(r.ready.Interest, interestChange(c, k, 0))
	}
	if p.empty() {
		delete(r.peers, c.peerID)
		r.clientURLsChanged()
	}
}

// register makes c the peer's route at its pool index or pinned account unless another
// connection there wins the duplicate rule, and reports whether c survived.
func (r *Router) register(c *Conn, info *proto.RouteInfo) bool {
	if p := r.peers[c.peerID]; p != nil && p.at(c) != 0 {
		old := r.conns[p.at(c)]
		if !replaces(c, old) {
			old.inherit(c)
			_ = r.closeConn(c, ReasonDuplicateRoute, "")
			return false
		}
		c.inherit(old)
		_ = r.closeConn(old, ReasonDuplicateRoute, "")
	}
	p, first := r.peerFor(c)
	p.set(c, c.id)
	c.phase = PhaseEstablished
	r.sendInterest(c, p)
	if first {
		r.gossip(c, info)
		r.clientURLsChanged()
	}
	r.openMore(c, p)
	return true
}

// sendInterest writes the local interest c carries to its peer on a new route: RS+ for
// every subscribed subject of its accounts, each queue group once per subject with its
// member count.
func (r *Router) sendInterest(c *Conn, p *peer) {
	for _, k := range r.local.sorted() {
		if id, _ := r.connFor(p, k.Account); id == c.id {
			c.out = c.mode.AppendSub(c.out, subOp(k, r.local.counts[k]))
		}
	}
}

// gossip tells every other established route about c's peer (its INFO, without the nonce),
// so that each dials it: the mesh completes itself from one seed. nats-server does the same
// when it registers a route and has others.
func (r *Router) gossip(c *Conn, info *proto.RouteInfo) {
	if info.IP == "" || len(r.peers) < 2 {
		return
	}
	fwd := *info
	fwd.Nonce, fwd.RoutePoolIdx, fwd.RouteAccount = "", 0, ""
	line := proto.AppendInfo(nil, mustJSON(&fwd))
	for _, peerID := range env.SortedKeys(r.peers) {
		if peerID != c.peerID {
			r.conns[r.peers[peerID].primary()].write(line)
		}
	}
}

// infoUpdate handles an INFO on an established route: about another server, it is gossip
// (dial it if we do not know it); about the peer, lame duck mode withdraws its client URLs.
func (r *Router) infoUpdate(c *Conn, info *proto.RouteInfo) {
	if info.ID != c.peerID {
		if url, ok := implicitRoute(&r.cfg, info, r.known(), r.pendingURLs()); ok && len(r.ready.Dials) < maxURLs {
			r.ready.Dials = append(r.ready.Dials, url)
			if info.AuthRequired {
				r.noteImplicitAuth(url)
			}
		}
		return
	}
	p := r.peers[c.peerID]
	if info.LameDuckMode {
		p.connectURLs = nil
	} else {
		p.connectURLs = capURLs(info.ConnectURLs)
	}
	r.clientURLsChanged()
}

// known reports whether a server id is us or has an established route.
func (r *Router) known() func(id string) bool {
	return func(id string) bool {
		_, ok := r.peers[id]
		return ok || id == r.cfg.ServerID
	}
}

// pendingURLs returns the URLs being dialled or in handshake, and those already asked for
// in this Ready.
func (r *Router) pendingURLs() []string {
	urls := append([]string(nil), r.ready.Dials...)
	for _, id := range env.SortedKeys(r.conns) {
		if c := r.conns[id]; c.solicited && c.phase < PhaseEstablished {
			urls = append(urls, c.url)
		}
	}
	return urls
}

// clientURLsChanged recomputes the cluster's client URLs and hands them to the engine when
// they differ from the last set.
func (r *Router) clientURLsChanged() {
	var peerURLs [][]string
	for _, peerID := range env.SortedKeys(r.peers) {
		peerURLs = append(peerURLs, r.peers[peerID].connectURLs)
	}
	urls := clientURLs(&r.cfg, peerURLs)
	if slices.Equal(urls, r.announced) {
		return
	}
	r.announced = urls
	r.ready.ClientURLs, r.ready.ClientURLsChanged = urls, true
}

// remoteInterest applies one RS+/RS-/LS+/LS- to the table (weight 0 removes).
func (r *Router) remoteInterest(c *Conn, sub *proto.RemoteSub, weight int) error {
	k := key{Account: string(sub.Account), Subject: string(sub.Subject), Queue: string(sub.Queue), Origin: string(sub.Origin)}
	if !subject.ValidSubscribe(k.Subject) || (k.Queue != "" && !subject.ValidQueue(k.Queue)) {
		c.writeErr("Invalid Subscription") // nats-server answers so and keeps the route
		return nil
	}
	if weight > 0 && r.remote.count(c.id) >= maxRemoteSubsPerConn {
		return r.closeConn(c, ReasonTooManySubs, "maximum subscriptions exceeded")
	}
	if sub.Leaf && sub.Origin == nil {
		// An LS- from a peer without lnocu names no origin: it withdraws the leaf interest
		// in that subject whatever origin the LS+ carried.
		for _, lk := range r.remote.keys(c.id) {
			if lk.Origin != "" && lk.Account == k.Account && lk.Subject == k.Subject && lk.Queue == k.Queue {
				r.setRemote(c, lk, 0)
			}
		}
		return nil
	}
	r.setRemote(c, k, weight)
	return nil
}

func (r *Router) setRemote(c *Conn, k key, weight int) {
	if r.remote.set(c.id, k, weight) {
		r.ready.Interest = append(r.ready.Interest, interestChange(c, k, weight))
	}
}

func interestChange(c *Conn, k key, weight int) InterestChange {
	return InterestChange{Conn: c.id, Peer: c.peerID, Account: k.Account, Subject: k.Subject, Queue: k.Queue, Weight: weight}
}

// subOp is the RS+ (or RS- when n is 0) for a local interest key.
func subOp(k key, n int) *proto.RemoteSub {
	s := &proto.RemoteSub{Account: []byte(k.Account), Subject: []byte(k.Subject)}
	if k.Queue != "" {
		s.Queue, s.Weight = []byte(k.Queue), n
	}
	return s
}
