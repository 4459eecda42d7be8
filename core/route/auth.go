package route

import (
	"crypto/subtle"
	"fmt"
	"time"

	"github.com/petrel-io/petrel/core/auth"
	"github.com/petrel-io/petrel/core/env"
)

// Route authorization, as nats-server 2.15.2 runs it (observed with -DV between two nodes):
//
//   - the cluster block's authorization holds one user and password (tokens, users lists
//     and nkeys are refused by its config parser); the accepting side's INFO then says
//     auth_required and its CONNECT check compares user and password (bcrypt hashes too);
//   - a configured route sends the user info written in its URL (none: no user, refused by
//     a server that requires one); a route dialled on gossip about a server whose INFO says
//     auth_required sends this server's own cluster credentials;
//   - a wrong or missing credential: -ERR 'Authorization Violation', close, logged as
//     `authentication error - User "x"`; the dialer logs `Route Error 'Authorization
//     Violation'` and retries a configured route;
//   - an accepted route that sends no CONNECT within the auth timeout: -ERR
//     'Authentication Timeout', close. Without authorization there is no such timer.
//
// The check happens before the cluster name's, as nats-server checks credentials before
// it reads the CONNECT as a route's.

// Credentials are a route's user and password: what a dialled route sends in its CONNECT,
// and what an accepted route must send when the cluster requires them.
type Credentials struct {
	User, Pass string
}

// String never shows the password (Credentials end up in logs through %v).
func (c Credentials) String() string {
	if c.Pass == "" {
		return c.User
	}
	return c.User + ":[REDACTED]"
}

// Security is the part of Config that a configuration reload may change: authorization
// and whether routes run over TLS. Routes established before a change keep running.
type Security struct {
	// Auth, when Auth.User is set, is what an accepted route's CONNECT must carry (Pass
	// plain or a bcrypt hash); it is also sent on routes dialled to gossiped servers that
	// require authorization.
	Auth Credentials
	// AuthTimeout bounds how long an accepted route may take to send CONNECT when Auth is
	// required; zero means DefaultAuthTimeout. The host's Tick resolution applies.
	AuthTimeout time.Duration
	// TLS says the host runs every route over TLS, handshaking before it tells the Router
	// of the connection (Accept, Connected): INFO says tls_required and tls_verify, CONNECT
	// tls_required. The Router itself never sees TLS.
	TLS bool
}

// authRequired reports whether accepted routes must prove the cluster's credentials.
func (s *Security) authRequired() bool { return s.Auth.User != "" }

func (s *Security) validate() error {
	if s.AuthTimeout < 0 {
		return fmt.Errorf("route: config: negative auth timeout %v", s.AuthTimeout)
	}
	if s.Auth.User == "" && s.Auth.Pass != "" {
		return fmt.Errorf("route: config: a password without a user")
	}
	if s.AuthTimeout == 0 {
		s.AuthTimeout = DefaultAuthTimeout
	}
	return nil
}

// admits reports whether a CONNECT's user and password are the cluster's. Both are
// compared whatever the other's outcome, the user in constant time, so timing does not
// tell which one was wrong.
func (s *Security) admits(user, pass string) bool {
	if !s.authRequired() {
		return true
	}
	userOK := subtle.ConstantTimeCompare([]byte(s.Auth.User), []byte(user)) == 1
	passOK := auth.SecretMatches(s.Auth.Pass, pass)
	return userOK && passOK
}

// authViolation is the log line nats-server writes for a refused CONNECT.
func authViolation(user string) string {
	if user == "" {
		return "authentication error"
	}
	return fmt.Sprintf("authentication error - User %q", user)
}

// SetSecurity replaces the routes' authorization and TLS settings (a reload). Routes
// already open or established keep running; the next accepted or dialled ones follow the
// new settings, as nats-server applies a reloaded cluster block.
func (r *Router) SetSecurity(sec Security) error {
	if err := sec.validate(); err != nil {
		return err
	}
	r.cfg.Security = sec
	return nil
}

// DialWith starts a solicited route to url that sends cred in its CONNECT: a configured
// route with the user info of its URL (empty: none). Dial is for gossiped URLs.
func (r *Router) DialWith(url string, cred Credentials) (ConnID, error) {
	id, err := r.Dial(url)
	if err == nil {
		r.conns[id].cred = cred
	}
	return id, err
}

// noteImplicitAuth remembers that a gossiped server requires authorization, so that the
// dial Ready asks for sends this server's credentials. Bounded by maxURLs: past it, a
// dial goes without, and the peer refuses it, which is logged on both sides.
func (r *Router) noteImplicitAuth(url string) {
	if len(r.implicitAuth) < maxURLs {
		r.implicitAuth[url] = true
	}
}

// checkAuthDeadline closes an accepted route whose CONNECT is overdue, and reports
// whether it did.
func (r *Router) checkAuthDeadline(c *Conn, now time.Duration) bool {
	if c.phase != PhaseAwaitConnect || c.authDeadline == 0 || now < c.authDeadline {
		return false
	}
	env.Assertf(!c.solicited, "route: conn %d: a solicited route awaits CONNECT", c.id)
	_ = r.closeConn(c, ReasonAuthenticationTimeout, "Authentication Timeout")
	return true
}
