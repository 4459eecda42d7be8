package core

import (
	"slices"

	"github.com/petrel-io/petrel/core/account"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/route"
	"github.com/petrel-io/petrel/core/subject"
	"github.com/petrel-io/petrel/core/sublist"
)

// Where the engine meets the Router: client subscriptions feed its interest, client
// publishes ask it where to go, and messages from routes reach local subscribers. Only
// clients' subscriptions are told to the cluster: the server's own (system services,
// JetStream's API) answer on the server they live on, as JetStream here is not clustered.

// clusterRoutes is the route subsystem, or nil without a cluster block.
func (s *Server) clusterRoutes() *routes { return s.routes.Load() }

// subAdded tells the cluster of a client subscription now in its account's index.
func (s *Server) subAdded(sub *subscription) { s.subChanged(sub, 1) }

// subRemoved tells the cluster a client subscription left its account's index.
func (s *Server) subRemoved(sub *subscription) { s.subChanged(sub, -1) }

func (s *Server) subChanged(sub *subscription, delta int) {
	if sub.handler != nil {
		return
	}
	rt := s.clusterRoutes()
	if rt == nil {
		if s.cfg().Cluster == nil {
			return // no cluster: no lock taken on a subscribe
		}
		if rt = s.routesOrHold(sub, delta); rt == nil {
			return
		}
	}
	acc, subj, queue := sub.acc.Name(), sub.entry.Subject, sub.entry.Queue
	rt.step(func(r *route.Router) { r.Subscribe(acc, subj, queue, delta) })
}

// publishRouted routes a message published in acc through the cluster: it queues it on
// the routes with interest (flushed once at the end of the client's read, with its other
// output) and delivers here to the plain subscriptions and the queue groups the Router
// leaves to this server. It returns how many local subscriptions took it, plus one when it
// went to a route (a peer with interest: no 503 for a request). With imports, the queue
// groups of acc's stream importers here join the draw (a peer's shadow interest carries
// their names), and c.streamGroups says which of them the stream hop serves. Every client
// message of a cluster comes here, so it allocates nothing once warm.
func (c *client) publishRouted(rt *routes, acc *account.Account, r *sublist.Result, subj, reply []byte, hdr int, msg []byte, imports bool) int {
	rs := &c.routing
	rs.groups = rs.groups[:0]
	for _, g := range r.Groups {
		rs.groups = append(rs.groups, route.LocalGroup{Name: g.Name, Members: c.groupTakers(g.Subs)})
	}
	routes := acc.Routes()
	imports = imports && len(routes.Streams) > 0
	if imports {
		c.importGroups(routes, subj)
	}
	m := route.Message{Account: acc.Name(), Subject: subj, Reply: reply, Hdr: hdr, Payload: msg}
	fx := &rs.fx
	here := groupsHere{all: true}
	rt.mu.Lock()
	if !rt.stopped {
		// The Router reuses its answer: copy it before another executor's publish.
		rs.local = append(rs.local[:0], rt.router.Publish(&m, rs.groups)...)
		here = groupsHere{names: rs.local}
		rt.drain(fx)
	}
	rt.mu.Unlock()
	forwarded := fx.forwarded
	for _, conn := range fx.flush {
		c.touchRoute(conn)
	}
	fx.flush = fx.flush[:0]
	if !fx.empty() {
		rt.carryOut(fx)
	}
	fx.reset()
	if imports {
		// Kept apart from rs.local, which a service hop's publish reuses.
		rs.importHere = groupsHere{names: append(rs.importHere.names[:0], here.names...), all: here.all}
		c.streamGroups = &rs.importHere
	}
	delivered := c.publishGroups(r, here, subj, reply, hdr, msg)
	if forwarded {
		delivered++
	}
	return delivered
}

// importGroups adds to the draw's local groups those of acc's stream importers that take
// subj here (a group of the same name in two accounts counts as one, as in nats-server,
// where shadow subscriptions join the exporter's index). Chained imports further on are
// served by every server they reach.
func (c *client) importGroups(routes *account.Routes, subj []byte) {
	rs := &c.routing
	for i, e := range c.streamEntries(routes, subj, 0) {
		sr := routes.Streams[i]
		dst, ok := sr.Through(e)
		if !ok {
			continue
		}
		for _, g := range sr.To.Subs.Match(dst).Groups {
			n := c.groupTakers(g.Subs)
			if j := slices.IndexFunc(rs.groups, func(l route.LocalGroup) bool { return l.Name == g.Name }); j >= 0 {
				rs.groups[j].Members += n
			} else {
				rs.groups = append(rs.groups, route.LocalGroup{Name: g.Name, Members: n})
			}
		}
	}
}

// routedHop publishes a message that crossed into acc (a request mapped by a service
// import, a response on its way back) through the cluster, as the publish that brought it
// went (a client's, an internal one, a routed response). ok is false when it stays local.
func (c *client) routedHop(acc *account.Account, r *sublist.Result, subj string, reply []byte, hdr int, msg []byte) (int, bool) {
	rt := c.srv.clusterRoutes()
	if rt == nil || !subject.ValidPublish(subj) {
		return 0, false
	}
	return c.publishRouted(rt, acc, r, []byte(subj), reply, hdr, msg, false), true
}

// ensureReplyInterest tells the cluster, once per account, that the reply subjects this
// server makes up in acc (ReplyInterest) are answered here, before a request carrying the
// first of them is routed: a response from another server then comes back over the route.
// nats-server announces the same wildcard at its first mapped request.
func (c *client) ensureReplyInterest(acc *account.Account) {
	rt := c.srv.clusterRoutes()
	if rt == nil {
		return
	}
	if _, ok := rt.replyInterest.Load(acc); ok {
		return
	}
	subj := acc.ReplyInterest()
	env.Assertf(subj != "", "core: reply interest of account %q asked before a reply subject was made up", acc.Name())
	rt.mu.Lock()
	if _, ok := rt.replyInterest.Load(acc); !ok && !rt.stopped {
		rt.router.Subscribe(acc.Name(), subj, "", 1)
		var fx routeEffects
		rt.drain(&fx)
		rt.replyInterest.Store(acc, subj) // after the RS+ was queued: a request routed later follows it
		rt.mu.Unlock()
		rt.carryOut(&fx)
		return
	}
	rt.mu.Unlock()
}

// routing is a client's reusable state for publishRouted.
type routing struct {
	groups     []route.LocalGroup
	local      []string
	importHere groupsHere // the groups a publish's first stream hop serves here
	fx         routeEffects
	touched    []*routeConn // routes this read queued messages on, flushed at its end
}

// touchRoute records a route connection to flush at the end of this read.
func (c *client) touchRoute(conn *routeConn) {
	if !slices.Contains(c.routing.touched, conn) {
		c.routing.touched = append(c.routing.touched, conn)
	}
}

// flushRoutes sends what this read queued on routes.
func (c *client) flushRoutes() {
	rt := c.srv.clusterRoutes()
	for i, conn := range c.routing.touched {
		rt.flushConn(conn)
		c.routing.touched[i] = nil
	}
	c.routing.touched = c.routing.touched[:0]
}

// groupsHere says which queue groups a publish serves on this server: all of them, or
// those the Router named.
type groupsHere struct {
	all   bool
	names []string
}

func (h groupsHere) has(group string) bool { return h.all || slices.Contains(h.names, group) }

// groupTakers counts the members of a local queue group that may take c's message: not
// c's own with echo off. The Router must not leave the message here for a member that
// cannot take it when a member elsewhere could (the cluster workload's seed 4: a request
// answered 503 while a responder waited on another node).
func (c *client) groupTakers(members []*sublist.Sub) int {
	n := len(members)
	if c.echo {
		return n
	}
	for _, m := range members {
		if sub, ok := m.Owner.(*subscription); ok && sub.client == c {
			n--
		}
	}
	return n
}

// deliverAll hands messages that came in over routes to local subscribers (on the routes'
// executor), then flushes the connections it wrote to. The routes' executor never stalls
// for a slow subscriber: a slow consumer is cut by max_pending instead.
func (rt *routes) deliverAll(ds []route.Delivery) {
	c := rt.deliverer
	for i := range ds {
		rt.deliver(c, &ds[i])
	}
	c.flushTouched()
	clear(c.flow.over)
	c.flow.over = c.flow.over[:0]
	c.flushStats()
}

func (rt *routes) deliver(c *client, d *route.Delivery) {
	acc := rt.s.cfg().accounts.Get(d.Account)
	if acc == nil {
		rt.s.env.Probe.Hit("core.route.unknown-account") // or, below, an unroutable subject
		return
	}
	c.acc = acc
	subj := d.Subject
	r, hit := acc.Subs.Cached(subj) // the cache holds only subjects that were valid
	if !hit {
		str := string(subj)
		if !subject.Routable(str) {
			rt.s.env.Probe.Hit("core.route.unknown-account")
			return
		}
		if usedOnce(subj) {
			acc.Subs.MatchUncachedInto(str, &c.onceMatch)
			r = &c.onceMatch
		} else {
			r = acc.Subs.Match(str)
		}
	}
	c.batch.inMsgs++
	c.batch.inBytes += int64(len(d.Payload))
	here := groupsHere{names: d.Queues}
	c.publishGroups(r, here, subj, d.Reply, d.Hdr, d.Payload)
	if routes := acc.Routes(); !routes.Empty() {
		// The publisher's server routed the message here for the interest of this server's
		// subscriptions, its importers' included (shadow interest): its stream imports are
		// followed here, serving the groups the RMSG names, and never forwarded; a response
		// to a request this server mapped goes back to the requester. Service imports were
		// followed where the request was published.
		c.routing.importHere = here // a field, not here's address: nothing escapes per message
		c.streamGroups = &c.routing.importHere
		c.crossAccounts(acc, routes, subj, d.Reply, d.Hdr, d.Payload, 0, hopStreams|hopAnswers)
		c.streamGroups = nil
	}
}

// clusterURLsChanged sends every client that takes async INFO the new connect_urls.
func (s *Server) clusterURLsChanged() {
	if len(s.cfg().ConnectURLs) > 0 {
		return // configured connect_urls win over the cluster's
	}
	for _, c := range s.clientList() {
		if c.ws == nil {
			c.ex.Post(func() { s.catchUpConnectURLs(c) })
		}
	}
	s.env.Probe.Hit("core.route.connect-urls")
}

// catchUpConnectURLs sends c an async INFO when the connect_urls it last got are not the
// cluster's now (on c's executor). Only after the PONG that ends the client's connect
// sequence, as nats-server does: nats.go reads that PONG as the line after its CONNECT.
func (s *Server) catchUpConnectURLs(c *client) {
	if !c.firstPong || c.info.Protocol < 1 || c.ws != nil || c.closed.Load() || s.clusterRoutes() == nil {
		return
	}
	cfg := s.cfg()
	info := s.infoFor(cfg)
	if slices.Equal(info.ConnectURLs, c.urlsSent) {
		return
	}
	c.urlsSent = info.ConnectURLs
	c.write(s.infoLine(info))
}

// clusterConnectURLs is connect_urls for INFO: the configured ones, else the cluster's.
func (s *Server) clusterConnectURLs(cfg *config) []string {
	if len(cfg.ConnectURLs) > 0 {
		return cfg.ConnectURLs
	}
	if rt := s.clusterRoutes(); rt != nil {
		return rt.clientURLs()
	}
	return nil
}

// RoutePort is the resolved cluster listen port, 0 without a cluster.
func (s *Server) RoutePort() int {
	if rt := s.clusterRoutes(); rt != nil {
		rt.mu.Lock()
		defer rt.mu.Unlock()
		return rt.port
	}
	return 0
}

// RoutePeers is the server ids of the established routes, sorted.
func (s *Server) RoutePeers() []string {
	rt := s.clusterRoutes()
	if rt == nil {
		return nil
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.router.Peers()
}
