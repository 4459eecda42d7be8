package server

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/petrel-io/petrel/netstack/testpki"
)

// testPKI is a throwaway CA with a server certificate for 127.0.0.1 and a client
// certificate, written as PEM files.
type testPKI struct {
	dir                   string
	caFile                string
	serverCert, serverKey string
	clientCert, clientKey string
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	p := &testPKI{dir: t.TempDir()}
	ca := testpki.NewCA(t, "petrel test CA")
	p.caFile = ca.File(t, p.dir, "ca.pem")
	p.serverCert, p.serverKey = ca.Issue(t, "server", 2, x509.ExtKeyUsageServerAuth).Files(t, p.dir, "server")
	p.clientCert, p.clientKey = ca.Issue(t, "client", 3, x509.ExtKeyUsageClientAuth).Files(t, p.dir, "client")
	return p
}

func TestE2ETLS(t *testing.T) {
	pki := newTestPKI(t)
	p := startPetrel(t, "--tls", "--tlscert", pki.serverCert, "--tlskey", pki.serverKey)
	nc := connect(t, "tls://127.0.0.1:"+p.port, nats.RootCAs(pki.caFile))
	if !nc.TLSRequired() {
		t.Fatal("INFO did not say tls_required")
	}
	sub, err := nc.SubscribeSync("secure")
	must(t, err)
	must(t, nc.Publish("secure", []byte("hush")))
	if m := next(t, sub); string(m.Data) != "hush" {
		t.Fatalf("got %q", m.Data)
	}
	state, err := nc.TLSConnectionState()
	must(t, err)
	if state.Version < tls.VersionTLS12 {
		t.Fatalf("TLS version %x", state.Version)
	}
	// A plain-text client cannot talk to a TLS server.
	if _, err := nats.Connect("nats://127.0.0.1:"+p.port, nats.Timeout(2*time.Second)); err == nil {
		t.Fatal("a plain-text client connected to a TLS server")
	}
}

func TestE2ETLSVerifyClientCerts(t *testing.T) {
	pki := newTestPKI(t)
	p := startPetrel(t, "--tlsverify", "--tlscert", pki.serverCert, "--tlskey", pki.serverKey, "--tlscacert", pki.caFile)
	connect(t, "tls://127.0.0.1:"+p.port, nats.RootCAs(pki.caFile), nats.ClientCert(pki.clientCert, pki.clientKey))
	_, err := nats.Connect("tls://127.0.0.1:"+p.port, nats.RootCAs(pki.caFile), nats.Timeout(2*time.Second))
	if err == nil {
		t.Fatal("a client without a certificate connected to a verifying server")
	}
}
