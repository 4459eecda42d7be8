package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
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
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "petrel test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	must(t, err)
	caCert, err := x509.ParseCertificate(caDER)
	must(t, err)
	p.caFile = p.writePEM(t, "ca.pem", "CERTIFICATE", caDER)
	issue := func(name string, serial int64, usage x509.ExtKeyUsage) (string, string) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		must(t, err)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		must(t, err)
		keyDER, err := x509.MarshalECPrivateKey(key)
		must(t, err)
		return p.writePEM(t, name+".pem", "CERTIFICATE", der), p.writePEM(t, name+"-key.pem", "EC PRIVATE KEY", keyDER)
	}
	p.serverCert, p.serverKey = issue("server", 2, x509.ExtKeyUsageServerAuth)
	p.clientCert, p.clientKey = issue("client", 3, x509.ExtKeyUsageClientAuth)
	return p
}

func (p *testPKI) writePEM(t *testing.T, name, kind string, der []byte) string {
	path := filepath.Join(p.dir, name)
	must(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600))
	return path
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
