package netstack

import (
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/netstack/testpki"
)

// routeTLS is a route-style TLS config: a certificate of ca for 127.0.0.1 usable both ways,
// peers verified against ca both ways.
func routeTLS(t *testing.T, ca *testpki.CA, serial int64) *tls.Config {
	t.Helper()
	cert := ca.Issue(t, "route", serial, x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
	return &tls.Config{Certificates: []tls.Certificate{cert.TLS()}, RootCAs: ca.Pool, ClientCAs: ca.Pool,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}
}

// tlsPair is both ends of a TLS handshake run by handshakePair, and each side's outcome.
type tlsPair struct {
	srv, cli       *conn
	srvErr, cliErr error
	ex             env.Executor // for the connections' events once started
}

// handshakePair dials a listener, runs StartTLS on the accepted side with server and
// StartTLSClient on the dialled side with client for serverName.
func handshakePair(t *testing.T, server, client *tls.Config, serverName string) tlsPair {
	t.Helper()
	e, _ := newTestEnv(t)
	srvEx, cliEx := e.Exec.New("server"), e.Exec.New("client")
	srvDone, cliDone := make(chan error, 1), make(chan error, 1)
	accepted := make(chan *conn, 1)
	ln := listen(t, e, srvEx, func(c env.Conn) {
		t.Cleanup(c.Abort)
		accepted <- c.(*conn)
		c.(env.TLSConn).StartTLS(server, 5*time.Second, srvEx, func(err error) { srvDone <- err })
	})
	p := tlsPair{cli: mustDial(t, e, ln.Addr(), cliEx), ex: e.Exec.New("events")}
	p.cli.StartTLSClient(client, serverName, 5*time.Second, cliEx, func(err error) { cliDone <- err })
	p.srv = waitFor(t, accepted, "the accepted connection")
	p.srvErr = waitFor(t, srvDone, "the server handshake")
	p.cliErr = waitFor(t, cliDone, "the client handshake")
	return p
}

// The client side of a TLS handshake against the server side: mutual verification passes
// with certificates of one CA and the session carries bytes both ways; a client without a
// certificate the server trusts, a server the client does not trust, and a server name the
// certificate does not name are each refused.
func TestTLSClientHandshake(t *testing.T) {
	ca, other := testpki.NewCA(t, "cluster CA"), testpki.NewCA(t, "other CA")
	good := routeTLS(t, ca, 2)
	noCert := good.Clone()
	noCert.Certificates = nil
	tests := []struct {
		name           string
		server, client *tls.Config
		serverName     string
		wantSrvErr     string // "" for success
		wantCliErr     string
	}{
		{name: "mutual with one CA", server: good, client: routeTLS(t, ca, 3), serverName: "127.0.0.1"},
		{name: "client without a certificate is refused by the server", server: good, client: noCert,
			serverName: "127.0.0.1", wantSrvErr: "certificate"},
		{name: "client certificate of another CA is not offered, so refused", server: good, client: withRoots(routeTLS(t, other, 4), ca.Pool),
			serverName: "127.0.0.1", wantSrvErr: "certificate"},
		{name: "server of another CA is refused by the client", server: routeTLS(t, other, 5), client: good,
			serverName: "127.0.0.1", wantCliErr: "certificate"},
		{name: "a server name the certificate does not name is refused", server: good, client: routeTLS(t, ca, 6),
			serverName: "route.example", wantCliErr: "route.example"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := handshakePair(t, tc.server, tc.client, tc.serverName)
			if tc.wantSrvErr != "" || tc.wantCliErr != "" {
				// One side's refusal may reach the other only as a broken handshake (TLS 1.3
				// ends the client's handshake before the server checks its certificate).
				checkRefused(t, "server", p.srvErr, tc.wantSrvErr)
				checkRefused(t, "client", p.cliErr, tc.wantCliErr)
				return
			}
			if p.srvErr != nil || p.cliErr != nil {
				t.Fatalf("handshakes: server %v, client %v", p.srvErr, p.cliErr)
			}
			if v, _ := p.cli.TLSState(); v == "" {
				t.Fatal("client reports no TLS session")
			}
			exchange(t, p)
		})
	}
}

func withRoots(cfg *tls.Config, roots *x509.CertPool) *tls.Config {
	cfg.RootCAs = roots
	return cfg
}

func checkRefused(t *testing.T, side string, err error, want string) {
	t.Helper()
	if want == "" {
		return
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("%s handshake error %v, want one mentioning %q", side, err, want)
	}
}

// exchange sends a line each way over established TLS connections.
func exchange(t *testing.T, p tlsPair) {
	t.Helper()
	srvCol, cliCol := newCollector(len("ping\r\n")), newCollector(len("pong\r\n"))
	p.srv.Start(p.ex, srvCol)
	p.cli.Start(p.ex, cliCol)
	must(t, p.cli.Write([]byte("ping\r\n")))
	must(t, p.srv.Write([]byte("pong\r\n")))
	waitFor(t, srvCol.full, "the server's read")
	waitFor(t, cliCol.full, "the client's read")
	runOn(t, p.ex, func() {
		if string(srvCol.got) != "ping\r\n" || string(cliCol.got) != "pong\r\n" {
			t.Errorf("server read %q, client read %q", srvCol.got, cliCol.got)
		}
	})
}
