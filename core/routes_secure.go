package core

import (
	"net/url"
	"strings"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/route"
)

// Route TLS and credentials in the engine. The Router checks credentials and says what the
// INFO and CONNECT carry (core/route/auth.go); the engine owns the sockets, so TLS is done
// here, before the Router hears of a connection.
//
// Byte order, as nats-server 2.15.2 runs a TLS route (observed through a logging proxy
// between two nodes): the dialer starts the TLS handshake as soon as TCP is up (its
// ClientHello is the first byte on the wire), the acceptor answers it without sending
// anything in the clear, and INFO and CONNECT then go inside the session. Both sides
// verify the other's certificate: the acceptor requires a client certificate signed by its
// CA, the dialer checks the acceptor's certificate against the host of the route URL.
// The host's tls.Config (built from the cluster block's tls) carries both directions.

// routeSecurity is the Router's view of the cluster's authorization and TLS.
func routeSecurity(c *ClusterOptions) route.Security {
	sec := route.Security{AuthTimeout: c.AuthTimeout, TLS: c.TLS != nil}
	if c.Username != "" { // a password alone requires nothing, as in nats-server
		sec.Auth = route.Credentials{User: c.Username, Pass: c.Password}
	}
	return sec
}

// routeCredentials maps the configured route URLs (canonical) to the user info written in
// them: what each one's CONNECT sends.
func routeCredentials(urls []*url.URL) map[string]route.Credentials {
	out := make(map[string]route.Credentials, len(urls))
	for _, u := range urls {
		var cred route.Credentials
		if u.User != nil {
			cred.User = u.User.Username()
			cred.Pass, _ = u.User.Password() // no password: an empty one
		}
		out[routeURL(u.Host)] = cred
	}
	return out
}

// routerDial starts a Router dial to url: a configured route with its URL's credentials, a
// gossiped one with what the Router decides. Under mu.
func (rt *routes) routerDial(url string) (route.ConnID, error) {
	if cred, ok := rt.credentials[url]; ok {
		return rt.router.DialWith(url, cred)
	}
	return rt.router.Dial(url)
}

// routerDialAccount is routerDial for a pinned account's route.
func (rt *routes) routerDialAccount(url, account string) (route.ConnID, error) {
	if cred, ok := rt.credentials[url]; ok {
		return rt.router.DialAccountWith(url, account, cred)
	}
	return rt.router.DialAccount(url, account)
}

// reloadSecurity applies a reloaded cluster block's authorization and TLS to the routes
// opened from now on; open routes keep running, as in nats-server.
func (rt *routes) reloadSecurity(c *ClusterOptions) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.stopped {
		return
	}
	if err := rt.router.SetSecurity(routeSecurity(c)); err != nil {
		// The options were checked when they were read; a refusal here is a bug.
		env.Assertf(false, "core: routes: reload security: %v", err)
	}
}

// secureAccepted runs the server side of the TLS handshake on an accepted route when
// routes run over TLS, then calls admit (on ex). A failed handshake closes the connection
// with nats-server's log line; a host whose connections cannot do TLS (the simulator)
// refuses every route.
func (rt *routes) secureAccepted(conn env.Conn, admit func()) {
	c := rt.s.cfg().Cluster
	if c.TLS == nil {
		admit()
		return
	}
	tc, ok := conn.(env.TLSConn)
	if !ok {
		rt.s.log.Logf(env.LevelError, "%s - cluster TLS is configured but this host's connections cannot do TLS", conn.RemoteAddr())
		conn.Abort()
		return
	}
	rt.s.log.Logf(env.LevelDebug, "%s - Starting TLS route server handshake", conn.RemoteAddr())
	tc.StartTLS(c.TLS, c.TLSTimeout, rt.ex, func(err error) {
		if err != nil {
			rt.s.log.Logf(env.LevelError, "%s - TLS route handshake error: %v", conn.RemoteAddr(), err)
			conn.Abort()
			return
		}
		rt.logTLS(tc, conn)
		admit()
	})
}

// secureDialled runs the client side of the TLS handshake on a dialled route when routes
// run over TLS, verifying the peer for the host of url, and calls done with the outcome
// (on ex).
func (rt *routes) secureDialled(conn env.Conn, url string, done func(ok bool)) {
	c := rt.s.cfg().Cluster
	if c.TLS == nil {
		done(true)
		return
	}
	tc, ok := conn.(env.TLSConn)
	if !ok {
		rt.s.log.Logf(env.LevelError, "%s - cluster TLS is configured but this host's connections cannot do TLS", conn.RemoteAddr())
		done(false)
		return
	}
	rt.s.log.Logf(env.LevelDebug, "%s - Starting TLS route client handshake", conn.RemoteAddr())
	tc.StartTLSClient(c.TLS, hostOf(route.HostPort(url)), c.TLSTimeout, rt.ex, func(err error) {
		if err != nil {
			rt.s.log.Logf(env.LevelError, "%s - TLS route handshake error: %v", conn.RemoteAddr(), err)
			done(false)
			return
		}
		rt.logTLS(tc, conn)
		done(true)
	})
}

func (rt *routes) logTLS(tc env.TLSConn, conn env.Conn) {
	version, cipher := tc.TLSState()
	rt.s.log.Logf(env.LevelDebug, "%s - TLS handshake complete: %s, cipher suite %s", conn.RemoteAddr(), version, cipher)
}

// hostOf is the host of host:port, without the brackets of an IPv6 address: the name a
// peer's certificate must carry.
func hostOf(hostport string) string {
	host := hostport
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.HasSuffix(hostport, "]") {
		host = hostport[:i]
	}
	return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
}
