// Package testpki makes throwaway certificate authorities and certificates for tests of
// TLS (client ports, routes, mutual verification): an hour's validity, P-256 keys,
// certificates for 127.0.0.1. Only tests import it.
package testpki

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
)

// CA is a self-signed certificate authority.
type CA struct {
	Cert *x509.Certificate
	DER  []byte
	Pool *x509.CertPool // holding Cert alone
	key  *ecdsa.PrivateKey
}

// Cert is a certificate the CA issued, with its key.
type Cert struct {
	DER []byte
	Key *ecdsa.PrivateKey
}

// NewCA returns a fresh CA named name.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	check(t, err)
	cert, err := x509.ParseCertificate(der)
	check(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &CA{Cert: cert, DER: der, Pool: pool, key: key}
}

// Issue returns a certificate for 127.0.0.1 with the given extended key usages (a route's
// needs both server and client authentication).
func (ca *CA) Issue(t testing.TB, name string, serial int64, usages ...x509.ExtKeyUsage) Cert {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: usages,
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	check(t, err)
	return Cert{DER: der, Key: key}
}

// TLS is the certificate as a tls.Config takes it.
func (c Cert) TLS() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{c.DER}, PrivateKey: c.Key}
}

// Files writes the certificate and its key as PEM files <name>.pem and <name>-key.pem in
// dir, and returns their paths.
func (c Cert) Files(t testing.TB, dir, name string) (certFile, keyFile string) {
	t.Helper()
	keyDER, err := x509.MarshalECPrivateKey(c.Key)
	check(t, err)
	return WritePEM(t, dir, name+".pem", "CERTIFICATE", c.DER), WritePEM(t, dir, name+"-key.pem", "EC PRIVATE KEY", keyDER)
}

// File writes the CA's certificate as a PEM file in dir and returns its path.
func (ca *CA) File(t testing.TB, dir, name string) string {
	t.Helper()
	return WritePEM(t, dir, name, "CERTIFICATE", ca.DER)
}

// WritePEM writes one PEM block to dir/name and returns the path.
func WritePEM(t testing.TB, dir, name, kind string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	check(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600))
	return path
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	check(t, err)
	return key
}

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
