package core

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/petrel-io/petrel/core/auth"
	"github.com/petrel-io/petrel/core/env"
)

// Reload replaces the server's settings with opts (options as New takes them), as
// nats-server reloads its configuration: an option it cannot change while running refuses
// the whole reload with nats-server's message ("config reload not supported for Port:
// old=4222, new=4223") and nothing changes. Otherwise the new settings apply to new
// connections at once, and to every connected client on its own executor: new parser
// limits and write deadline, the trace flag, and, when authorization changed, its
// credentials checked again (a client they no longer admit is closed with -ERR
// 'Authorization Violation'), its permissions replaced and its subscriptions that they no
// longer allow removed. done (if set) runs on the server's executor when every connected
// client has been reconfigured, with nil or the error that refused the reload.
//
// The host changes its logger before calling Reload: each client's trace flag follows the
// logger's level.
func (s *Server) Reload(opts Options, done func(error)) {
	s.reload(opts, false, done)
}

// reload is Reload; recheck checks every client's credentials again even when the
// authorization options did not change (a pushed account JWT changed what they prove).
func (s *Server) reload(opts Options, recheck bool, done func(error)) {
	s.ex.Post(func() {
		finish := func(err error) {
			if done != nil {
				done(err)
			}
		}
		old := s.cfg()
		next, changes, err := s.prepareReload(old, opts)
		if err != nil {
			finish(err)
			return
		}
		oldJS := jetStreamAccounts(old)
		s.current.Store(next)
		next.installAccounts()
		if rt := s.clusterRoutes(); rt != nil && next.Cluster != nil {
			rt.reloadRoutes(next.Cluster.Routes)
			rt.reloadSecurity(next.Cluster)
			rt.reloadPool(next.Cluster.PoolSize)
		}
		if rt := s.clusterRoutes(); rt != nil {
			rt.setShadows(next.accounts) // imports may have changed: so has the interest they imply
		}
		s.startSystem()
		s.reloadJetStream(oldJS, next)
		for _, ch := range changes {
			s.log.Logf(env.LevelInfo, "Reloaded: %s", ch)
		}
		if next.MaxConnections < old.MaxConnections {
			s.trimConnections(next.MaxConnections)
		}
		s.reconfigureClients(next, recheck || !reflect.DeepEqual(old.Auth, next.Auth), finish)
	})
}

// errShuttingDown refuses a reload that arrives after Shutdown.
var errShuttingDown = errors.New("core: reload: the server is shutting down")

// prepareReload builds the next generation from opts and lists what changed, or refuses.
// It runs on the server's executor.
func (s *Server) prepareReload(old *config, opts Options) (*config, []string, error) {
	s.mu.Lock()
	shutdown := s.shutdown
	s.mu.Unlock()
	if shutdown {
		return nil, nil, errShuttingDown
	}
	next, warnings, err := s.newConfig(opts, old.accounts)
	if err != nil {
		return nil, nil, err
	}
	next.name = old.name
	if next.ServerName != "" {
		next.name = next.ServerName
	}
	// Port 0 ("any port") means the port the listener has, on either side, as in
	// nats-server, whose refusal names that port.
	was := *old
	if was.Port == 0 {
		was.Port = s.Port()
	}
	if next.Port == 0 {
		next.Port = was.Port
	}
	changes, err := diffConfig(&was, next)
	if err != nil {
		return nil, nil, err
	}
	for _, w := range warnings {
		s.log.Logf(env.LevelWarn, "%s", w)
	}
	return next, changes, nil
}

// reloadRule is how one option behaves on reload: refused, or applied and logged.
type reloadRule struct {
	// field is nats-server's name for the option, which its refusal prints.
	field string
	// value is what is compared (with reflect.DeepEqual) and printed in a refusal.
	value func(*config) any
	// applied renders the "Reloaded: ..." line; nil means the change is refused.
	applied func(*config) string
}

// reloadRules follow nats-server v2.15.2's reload rules, observed by reloading it: what it
// refuses, Petrel refuses with the same message; what it applies, Petrel applies and logs
// as it does. Options nats-server has and Petrel does not implement are not listed.
var reloadRules = []reloadRule{
	{field: "ServerName", value: func(c *config) any { return c.ServerName }},
	{field: "Host", value: func(c *config) any { return c.Host }},
	{field: "Port", value: func(c *config) any { return c.Port }},
	{field: "TLSConfig", value: func(c *config) any { return tlsIdentity{fmt.Sprintf("%p", c.TLS), c.TLSVerify, c.TLSHandshakeFirst} },
		applied: func(c *config) string { return "tls = " + enabled(c.TLS != nil) }},
	{field: "TLSTimeout", value: func(c *config) any { return c.TLSTimeout },
		applied: func(c *config) string { return fmt.Sprintf("tls timeout = %v", c.TLSTimeout.Seconds()) }},
	{field: "Users", value: func(c *config) any { return passwordUsers(c.Auth.Users) },
		applied: func(*config) string { return "authorization users" }},
	{field: "Nkeys", value: func(c *config) any { return nkeyUsers(c.Auth.Users) },
		applied: func(*config) string { return "authorization nkey users" }},
	{field: "Authorization", value: func(c *config) any { return c.Auth.Token },
		applied: func(*config) string { return "authorization token" }},
	{field: "AuthTimeout", value: func(c *config) any { return c.Auth.Timeout },
		applied: func(c *config) string { return fmt.Sprintf("authorization timeout = %v", c.Auth.Timeout.Seconds()) }},
	{field: "NoAuthUser", value: func(c *config) any { return c.Auth.NoAuthUser }},
	{field: "Accounts", value: func(c *config) any { return c.Accounts },
		applied: func(*config) string { return "accounts" }},
	{field: "SystemAccount", value: func(c *config) any { return c.SystemAccount }},
	{field: "ResolverDir", value: func(c *config) any { return c.ResolverDir }},
	{field: "MaxConn", value: func(c *config) any { return c.MaxConnections },
		applied: func(c *config) string { return fmt.Sprintf("max_connections = %d", c.MaxConnections) }},
	{field: "MaxSubs", value: func(c *config) any { return c.MaxSubscriptions }},
	{field: "PingInterval", value: func(c *config) any { return c.PingInterval },
		applied: func(c *config) string { return fmt.Sprintf("ping_interval = %s", c.PingInterval) }},
	{field: "MaxPingsOut", value: func(c *config) any { return c.MaxPingsOut },
		applied: func(c *config) string { return fmt.Sprintf("ping_max = %d", c.MaxPingsOut) }},
	{field: "MaxControlLine", value: func(c *config) any { return c.MaxControlLine },
		applied: func(c *config) string { return fmt.Sprintf("max_control_line = %d", c.MaxControlLine) }},
	{field: "MaxPayload", value: func(c *config) any { return c.MaxPayload },
		applied: func(c *config) string { return fmt.Sprintf("max_payload = %d", c.MaxPayload) }},
	{field: "MaxPending", value: func(c *config) any { return c.MaxPending }},
	{field: "WriteDeadline", value: func(c *config) any { return c.WriteDeadline },
		applied: func(c *config) string { return fmt.Sprintf("write_deadline = %s", c.WriteDeadline) }},
	{field: "LameDuckDuration", value: func(c *config) any { return c.LameDuckDuration }},
	{field: "LameDuckGracePeriod", value: func(c *config) any { return c.LameDuckGrace }},
	{field: "NoFastProducerStall", value: func(c *config) any { return c.NoFastProducerStall },
		applied: func(c *config) string { return fmt.Sprintf("no_fast_producer_stall = %v", c.NoFastProducerStall) }},
	{field: "JetStream", value: func(c *config) any { return c.JetStream },
		applied: func(*config) string { return "JetStream" }},
	{field: "Websocket", value: func(c *config) any { return webSocketIdentity(c.WebSocket) }},
	{field: "ConnectURLs", value: func(c *config) any { return c.ConnectURLs },
		applied: func(*config) string { return "connect_urls" }},
	// The route listener's address does not reload, which refuses turning clustering on
	// or off too (nats-server compares the host first: "" without a cluster). The seed
	// routes and every other cluster option do.
	{field: "cluster host", value: func(c *config) any { return clusterField(c, func(o *ClusterOptions) any { return o.Host }, "") }},
	{field: "cluster port", value: func(c *config) any { return clusterField(c, func(o *ClusterOptions) any { return o.Port }, 0) }},
	{field: "cluster routes", value: func(c *config) any { return clusterField(c, routeStrings, nil) },
		applied: func(*config) string { return "cluster routes" }},
	// nats-server reloads pool_size (the pool routes close and come back with the new size;
	// the "cluster" rule below applies it here too), turning pooling on or off, and the
	// pinned accounts (moving an account between its pool connection and a dedicated one
	// with an INFO exchange, route_acc_add_reqid). Petrel refuses the last two, which make
	// pinned routes come or go; a restart applies them (DESIGN.md, Routes).
	{field: "cluster pooling", value: func(c *config) any {
		return clusterField(c, func(o *ClusterOptions) any { return o.PoolSize > 0 }, nil)
	}},
	{field: "cluster accounts", value: func(c *config) any {
		return clusterField(c, func(o *ClusterOptions) any { return o.PinnedAccounts }, nil)
	}},
	{field: "cluster", value: func(c *config) any { return clusterField(c, clusterIdentity, nil) },
		applied: func(*config) string { return "cluster" }},
}

// clusterField is one cluster option's value for comparison, or none without a cluster.
func clusterField(c *config, field func(*ClusterOptions) any, none any) any {
	if c.Cluster == nil {
		return none
	}
	return field(c.Cluster)
}

func routeStrings(o *ClusterOptions) any {
	var out []string
	for _, u := range o.Routes {
		out = append(out, u.String())
	}
	return out
}

// clusterIdentity compares the cluster options other than address and routes, TLS by
// presence (the host builds a new tls.Config at every reload).
func clusterIdentity(o *ClusterOptions) any {
	c := *o
	hasTLS := c.TLS != nil
	c.TLS, c.Routes, c.Host, c.Port = nil, nil, "", 0
	return struct {
		ClusterOptions
		TLS bool
	}{c, hasTLS}
}

// webSocketIdentity compares WebSocket settings (which do not reload) with TLS by presence
// only: the host builds a new tls.Config at every reload.
func webSocketIdentity(w *WebSocketOptions) any {
	if w == nil {
		return nil
	}
	o := *w
	hasTLS := o.TLS != nil
	o.TLS = nil
	return struct {
		WebSocketOptions
		TLS bool
	}{o, hasTLS}
}

// tlsIdentity compares TLS settings by the configuration's identity: the host builds a new
// tls.Config (certificates read again) at every reload, so a reload with TLS on always
// applies it, as nats-server's does.
type tlsIdentity struct {
	config        string // the *tls.Config's address
	verify, first bool
}

func enabled(on bool) string {
	if on {
		return "enabled"
	}
	return "disabled"
}

func passwordUsers(users []auth.User) []auth.User {
	var out []auth.User
	for _, u := range users {
		if u.Nkey == "" {
			out = append(out, u)
		}
	}
	return out
}

func nkeyUsers(users []auth.User) []auth.User {
	var out []auth.User
	for _, u := range users {
		if u.Nkey != "" {
			out = append(out, u)
		}
	}
	return out
}

// diffConfig lists the changes from old to next, or refuses the first change that cannot
// be reloaded.
func diffConfig(old, next *config) ([]string, error) {
	var changes []string
	for _, r := range reloadRules {
		was, is := r.value(old), r.value(next)
		if reflect.DeepEqual(was, is) {
			continue
		}
		if r.applied == nil {
			return nil, fmt.Errorf("config reload not supported for %s: old=%v, new=%v", r.field, was, is)
		}
		changes = append(changes, r.applied(next))
	}
	return changes, nil
}

// trimConnections closes the newest clients until at most max remain, as nats-server does
// when max_connections is lowered (it picks them at random; newest first keeps the sim
// deterministic and spares the longest-lived clients).
func (s *Server) trimConnections(max int) {
	clients := s.clientList()
	if len(clients) <= max {
		return
	}
	excess := clients[max:]
	for _, c := range excess {
		c.ex.Post(func() {
			if c.finished {
				return
			}
			s.log.Logf(env.LevelError, "%s:%d - cid:%d - maximum connections exceeded", c.host, c.port, c.cid)
			c.sendErr("maximum connections exceeded")
			c.close(reasonMaxConnections)
		})
	}
	s.log.Logf(env.LevelInfo, "Closed %d connections to fall within max_connections", len(excess))
}

// reconfigureClients posts the new settings to every client and calls finish on the
// server's executor once each has applied them.
func (s *Server) reconfigureClients(next *config, authChanged bool, finish func(error)) {
	clients := s.clientList()
	pending := len(clients)
	if pending == 0 {
		finish(nil)
		return
	}
	traced := s.log.Enabled(env.LevelTrace)
	for _, c := range clients {
		c.ex.Post(func() {
			c.reconfigure(next, traced, authChanged)
			s.ex.Post(func() {
				if pending--; pending == 0 {
					finish(nil)
				}
			})
		})
	}
}

// reconfigure applies a reload to one client, on its executor.
func (c *client) reconfigure(cfg *config, traced, authChanged bool) {
	if c.finished {
		return
	}
	c.parser.SetLimits(c.parserLimits(cfg))
	c.conn.SetWriteDeadline(cfg.WriteDeadline)
	c.setTrace(traced)
	if authChanged && c.connected {
		c.recheckAuth(cfg.auth)
	}
}

// setTrace turns protocol tracing for this client on or off; on its executor.
func (c *client) setTrace(on bool) {
	c.trace.Store(on)
	if on {
		c.parser.SetTrace(func(line []byte) { c.traceLine("<<-", line) })
	} else {
		c.parser.SetTrace(nil)
	}
}

// recheckAuth checks a connected client's credentials against reloaded authorization:
// closed if they no longer hold, else given the user's new permissions, losing the
// subscriptions those no longer allow.
func (c *client) recheckAuth(a *auth.Authenticator) {
	c.creds.Now = c.srv.env.Clock.Now()
	user, err := a.Recheck(c.provenBy, c.creds, c.nonce)
	if err != nil {
		c.srv.log.Logf(env.LevelError, "%s:%d - cid:%d - authentication error%s", c.host, c.port, c.cid, c.userSuffix())
		c.sendErr("Authorization Violation")
		c.close(reasonAuthFailure)
		return
	}
	c.provenBy = a
	if err := c.setUser(user); err != nil {
		c.refuseAccount(err)
		return
	}
	if perms := c.perms.Load(); perms != nil {
		c.dropForbiddenSubs(perms)
	}
}

// userSuffix names the client's user in a log line, as nats-server does.
func (c *client) userSuffix() string {
	switch {
	case c.creds.Nkey != "":
		return fmt.Sprintf(" - Nkey %q", c.creds.Nkey)
	case c.creds.User != "":
		return fmt.Sprintf(" - User %q", c.creds.User)
	}
	return ""
}

// dropForbiddenSubs removes the subscriptions perms no longer allow, telling the client
// of each as nats-server does (the sid appended to the usual violation text).
func (c *client) dropForbiddenSubs(perms *auth.Permissions) {
	c.mu.Lock()
	var forbidden []*subscription
	for _, sid := range env.SortedKeys(c.subs) {
		if sub := c.subs[sid]; !perms.CanSubscribe(sub.entry.Subject, sub.entry.Queue) {
			forbidden = append(forbidden, sub)
		}
	}
	c.mu.Unlock()
	for _, sub := range forbidden {
		c.removeSub(sub)
		what := fmt.Sprintf("%q", sub.entry.Subject)
		if sub.entry.Queue != "" {
			what += fmt.Sprintf(" using queue %q", sub.entry.Queue)
		}
		what += fmt.Sprintf(" (sid %q)", sub.sid)
		c.sendErr("Permissions Violation for Subscription to " + what)
		c.srv.log.Logf(env.LevelInfo, "Removed sub %s for%s - not authorized", what, strings.TrimPrefix(c.userSuffix(), " -"))
	}
}
