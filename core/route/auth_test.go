package route

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/petrel-io/petrel/core/proto"
)

func withAuth(user, pass string) func(*Config) {
	return func(c *Config) { c.Auth = Credentials{User: user, Pass: pass} }
}

// firstLine parses the JSON of the op line starting written bytes (INFO or CONNECT).
func firstLine(t *testing.T, got, op string, v any) {
	t.Helper()
	line, _, _ := strings.Cut(got, "\r\n")
	raw, ok := strings.CutPrefix(line, op+" ")
	if !ok {
		t.Fatalf("first line %q is not %s", line, op)
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(raw)), v); err != nil {
		t.Fatalf("%s %q: %v", op, raw, err)
	}
}

// TestAuthorizedConnect: an accepted route's CONNECT is checked against the cluster's
// credentials before anything else, with nats-server 2.15.2's -ERR and log line.
func TestAuthorizedConnect(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cr3t"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	connect := func(user, pass, cluster string) []byte {
		return connectLine(proto.RouteConnect{Echo: true, Headers: true, Name: peerID, Cluster: cluster, User: user, Pass: pass})
	}
	violation := "-ERR 'Authorization Violation'\r\n"
	tests := []struct {
		name       string
		configure  func(*Config)
		connect    []byte
		wantDetail string // "" means the route is established
		wantErr    string
	}{
		{name: "right user and password establish the route", configure: withAuth("ru", "s3cr3t"),
			connect: connect("ru", "s3cr3t", "c1")},
		{name: "a bcrypt hash is compared as a hash", configure: withAuth("ru", string(hash)),
			connect: connect("ru", "s3cr3t", "c1")},
		{name: "the hash itself is not the password", configure: withAuth("ru", string(hash)),
			connect: connect("ru", string(hash), "c1"), wantDetail: `authentication error - User "ru"`, wantErr: violation},
		{name: "wrong password is an Authorization Violation naming the user", configure: withAuth("ru", "s3cr3t"),
			connect: connect("ru", "bad", "c1"), wantDetail: `authentication error - User "ru"`, wantErr: violation},
		{name: "wrong user too", configure: withAuth("ru", "s3cr3t"),
			connect: connect("rx", "s3cr3t", "c1"), wantDetail: `authentication error - User "rx"`, wantErr: violation},
		{name: "no credentials: the log line names no user", configure: withAuth("ru", "s3cr3t"),
			connect: connect("", "", "c1"), wantDetail: "authentication error", wantErr: violation},
		{name: "credentials are checked before the cluster name", configure: withAuth("ru", "s3cr3t"),
			connect: connect("ru", "bad", "c2"), wantDetail: `authentication error - User "ru"`, wantErr: violation},
		{name: "without authorization configured, credentials sent are ignored",
			connect: connect("ru", "whatever", "c1")},
		{name: "a case difference in the user is a different user", configure: withAuth("ru", "s3cr3t"),
			connect: connect("RU", "s3cr3t", "c1"), wantDetail: `authentication error - User "RU"`, wantErr: violation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newTestRouter(t, tc.configure)
			id, rd := accepted(t, r, tc.connect, infoLine(peerInfo()))
			cl, closed := closeOf(rd, id)
			if tc.wantDetail == "" {
				if closed || r.Conn(id).Phase() != PhaseEstablished {
					t.Fatalf("want established, got phase %v close %+v", r.Conn(id).Phase(), cl)
				}
				return
			}
			if !closed || cl.Reason != ReasonAuthenticationFailure || cl.Detail != tc.wantDetail || cl.Retry {
				t.Fatalf("close %+v (found %v), want AuthenticationFailure with detail %q", cl, closed, tc.wantDetail)
			}
			if got := written(rd, id); !strings.HasSuffix(got, tc.wantErr) {
				t.Fatalf("wrote %q, want it to end with %q", got, tc.wantErr)
			}
			if len(r.Peers()) != 0 {
				t.Fatalf("refused route registered: %v", r.Peers())
			}
		})
	}
}

// TestAuthTimeout: an accepted route of a cluster with authorization that sends no
// CONNECT within the auth timeout is closed with nats-server's -ERR; without
// authorization, or once CONNECT came, there is no such timer.
func TestAuthTimeout(t *testing.T) {
	okConnect := connectLine(proto.RouteConnect{Name: peerID, Cluster: "c1", User: "ru", Pass: "s3cr3t"})
	tests := []struct {
		name      string
		configure func(*Config)
		data      [][]byte
		tick      time.Duration
		wantClose bool
	}{
		{name: "silent past the timeout is closed", configure: withAuth("ru", "s3cr3t"), tick: DefaultAuthTimeout, wantClose: true},
		{name: "silent just before the timeout stays", configure: withAuth("ru", "s3cr3t"), tick: DefaultAuthTimeout - time.Millisecond},
		{name: "a configured timeout is used",
			configure: func(c *Config) { withAuth("ru", "s3cr3t")(c); c.AuthTimeout = 5 * time.Second },
			tick:      4 * time.Second},
		{name: "a configured timeout closes when it passes",
			configure: func(c *Config) { withAuth("ru", "s3cr3t")(c); c.AuthTimeout = 5 * time.Second },
			tick:      5 * time.Second, wantClose: true},
		{name: "CONNECT in time stops the timer", configure: withAuth("ru", "s3cr3t"), data: [][]byte{okConnect},
			tick: time.Hour},
		{name: "without authorization no timer runs", tick: time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newTestRouter(t, tc.configure)
			id, _ := accepted(t, r, tc.data...)
			r.Tick(tc.tick)
			rd := r.Ready()
			cl, closed := closeOf(rd, id)
			if closed != tc.wantClose {
				t.Fatalf("closed %v (%+v), want %v", closed, cl, tc.wantClose)
			}
			if !tc.wantClose {
				return
			}
			if cl.Reason != ReasonAuthenticationTimeout || cl.Retry {
				t.Fatalf("close %+v, want AuthenticationTimeout without retry", cl)
			}
			if got := written(rd, id); !strings.HasSuffix(got, "-ERR 'Authentication Timeout'\r\n") {
				t.Fatalf("wrote %q", got)
			}
		})
	}
}

// TestSecurityInInfoAndConnect: INFO says auth_required, tls_required and tls_verify as
// nats-server's does; a dialled route's CONNECT carries its credentials and tls_required.
func TestSecurityInInfoAndConnect(t *testing.T) {
	tests := []struct {
		name                  string
		sec                   Security
		wantAuth, wantTLS     bool
		dialCred, wantConnect Credentials
	}{
		{name: "plain cluster: none of the flags"},
		{name: "authorization: auth_required", sec: Security{Auth: Credentials{User: "ru", Pass: "p"}}, wantAuth: true},
		{name: "TLS: tls_required and tls_verify", sec: Security{TLS: true}, wantTLS: true},
		{name: "a configured route sends its URL's credentials, not the cluster's",
			sec:      Security{Auth: Credentials{User: "ru", Pass: "p"}, TLS: true},
			dialCred: Credentials{User: "other", Pass: "q"}, wantConnect: Credentials{User: "other", Pass: "q"},
			wantAuth: true, wantTLS: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newTestRouter(t, func(c *Config) { c.Security = tc.sec })
			id, rd := accepted(t, r)
			var info proto.RouteInfo
			firstLine(t, written(rd, id), "INFO", &info)
			if info.AuthRequired != tc.wantAuth || info.TLSRequired != tc.wantTLS || info.TLSVerify != tc.wantTLS {
				t.Fatalf("INFO auth_required %v tls_required %v tls_verify %v", info.AuthRequired, info.TLSRequired, info.TLSVerify)
			}
			did, err := r.DialWith("nats-route://peer:6222/", tc.dialCred)
			if err != nil {
				t.Fatal(err)
			}
			r.Connected(did, 0)
			var ci proto.RouteConnect
			firstLine(t, written(r.Ready(), did), "CONNECT", &ci)
			if ci.User != tc.wantConnect.User || ci.Pass != tc.wantConnect.Pass || ci.TLS != tc.wantTLS {
				t.Fatalf("CONNECT user %q pass %q tls_required %v", ci.User, ci.Pass, ci.TLS)
			}
		})
	}
}

// TestGossipedRouteSendsOwnCredentials: a server learned by gossip whose INFO says
// auth_required is dialled with this server's own cluster credentials (nats-server's
// rule); one that does not require them gets none.
func TestGossipedRouteSendsOwnCredentials(t *testing.T) {
	for _, required := range []bool{true, false} {
		r := newTestRouter(t, withAuth("ru", "s3cr3t"))
		id, _ := r.DialWith("nats-route://peer:6222/", Credentials{User: "ru", Pass: "s3cr3t"})
		r.Connected(id, 0)
		r.Receive(id, 0, infoLine(peerInfo()))
		third := proto.RouteInfo{ID: "NTHIRD", Cluster: "c1", IP: "nats-route://third:6222/", AuthRequired: required}
		r.Receive(id, 0, infoLine(third))
		rd := r.Ready()
		if len(rd.Dials) != 1 || rd.Dials[0] != third.IP {
			t.Fatalf("dials %v, want %s", rd.Dials, third.IP)
		}
		gid, err := r.Dial(rd.Dials[0])
		if err != nil {
			t.Fatal(err)
		}
		r.Connected(gid, 0)
		var ci proto.RouteConnect
		firstLine(t, written(r.Ready(), gid), "CONNECT", &ci)
		if want := map[bool]string{true: "ru", false: ""}[required]; ci.User != want || (ci.Pass != "") != required {
			t.Fatalf("auth_required %v: CONNECT user %q pass set %v", required, ci.User, ci.Pass != "")
		}
	}
}

// TestPeerErrorIsLogged: the dialer of a refused route closes it on the -ERR, logs it in
// nats-server's words and dials again.
func TestPeerErrorIsLogged(t *testing.T) {
	r := newTestRouter(t, nil)
	id, _ := r.DialWith("nats-route://peer:6222/", Credentials{User: "ru", Pass: "bad"})
	r.Connected(id, 0)
	r.Receive(id, 0, append(infoLine(peerInfo()), "-ERR 'Authorization Violation'\r\n"...))
	cl, ok := closeOf(r.Ready(), id)
	if !ok || cl.Reason != ReasonPeerError || !cl.Retry || cl.Detail != "Route Error 'Authorization Violation'" {
		t.Fatalf("close %+v (found %v)", cl, ok)
	}
}

// TestSetSecurity: a reload's new settings apply to the next connections; routes already
// established stay.
func TestSetSecurity(t *testing.T) {
	r := newTestRouter(t, nil)
	old, _ := accepted(t, r, connectLine(proto.RouteConnect{Name: peerID, Cluster: "c1"}), infoLine(peerInfo()))
	if err := r.SetSecurity(Security{Auth: Credentials{User: "ru", Pass: "p"}, TLS: true}); err != nil {
		t.Fatal(err)
	}
	if err := r.SetSecurity(Security{Auth: Credentials{Pass: "p"}}); err == nil {
		t.Fatal("a password without a user was taken")
	}
	id, rd := accepted(t, r)
	var info proto.RouteInfo
	firstLine(t, written(rd, id), "INFO", &info)
	if !info.AuthRequired || !info.TLSRequired {
		t.Fatalf("INFO after reload: %+v", info)
	}
	if r.Conn(old).Phase() != PhaseEstablished {
		t.Fatalf("established route went: %v", r.Conn(old).Phase())
	}
	if s := (Credentials{User: "ru", Pass: "p"}).String(); s != "ru:[REDACTED]" {
		t.Fatalf("credentials print as %q", s)
	}
}
