package server

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// loadTLS builds the engine's tls.Config from certificate files.
func loadTLS(o *Options) error {
	if o.TLSCert == "" && o.TLSKey == "" {
		if o.TLSVerify || o.TLSCACert != "" {
			return fmt.Errorf("server: TLS verification needs --tlscert and --tlskey")
		}
		return nil
	}
	if o.TLSCert == "" || o.TLSKey == "" {
		return fmt.Errorf("server: TLS needs both a certificate (--tlscert) and a key (--tlskey)")
	}
	cert, err := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
	if err != nil {
		return fmt.Errorf("server: load TLS certificate %s: %w", o.TLSCert, err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if o.TLSCACert != "" {
		pem, err := os.ReadFile(o.TLSCACert)
		if err != nil {
			return fmt.Errorf("server: read TLS CA %s: %w", o.TLSCACert, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("server: TLS CA %s holds no PEM certificates", o.TLSCACert)
		}
		cfg.ClientCAs = pool
	}
	if o.TLSVerify {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	o.Core.TLS, o.Core.TLSVerify = cfg, o.TLSVerify
	return nil
}
