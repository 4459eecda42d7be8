package netstack

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// testCA issues certificates for 127.0.0.1 that serve both as server and as client
// certificates, as a route's certificate must.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	must(t, err)
	cert, err := x509.ParseCertificate(der)
	must(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// config is a route-style TLS config: this CA's certificate for 127.0.0.1, peers verified
// against the CA both ways.
func (ca *testCA) config(t *testing.T, serial int64) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "route"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	must(t, err)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		RootCAs: ca.pool, ClientCAs: ca.pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}
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
	ca, other := newTestCA(t, "cluster CA"), newTestCA(t, "other CA")
	good := ca.config(t, 2)
	noCert := good.Clone()
	noCert.Certificates = nil
	tests := []struct {
		name           string
		server, client *tls.Config
		serverName     string
		wantSrvErr     string // "" for success
		wantCliErr     string
	}{
		{name: "mutual with one CA", server: good, client: ca.config(t, 3), serverName: "127.0.0.1"},
		{name: "client without a certificate is refused by the server", server: good, client: noCert,
			serverName: "127.0.0.1", wantSrvErr: "certificate"},
		{name: "client certificate of another CA is not offered, so refused", server: good, client: withRoots(other.config(t, 4), ca.pool),
			serverName: "127.0.0.1", wantSrvErr: "certificate"},
		{name: "server of another CA is refused by the client", server: other.config(t, 5), client: good,
			serverName: "127.0.0.1", wantCliErr: "certificate"},
		{name: "a server name the certificate does not name is refused", server: good, client: ca.config(t, 6),
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
