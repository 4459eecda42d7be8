package server

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/petrel-io/petrel/netstack/testpki"
)

// Route TLS (mutual) and route authorization between real petrel processes: three nodes
// form a cluster over TLS routes with credentials; a node with a wrong route password and
// a node whose certificate the cluster's CA did not sign are refused while the three keep
// routing.

// routePKI is the cluster's CA and a route certificate for 127.0.0.1 usable both as server
// and client certificate (a route is both), and an outsider's from another CA.
type routePKI struct {
	caFile                  string
	cert, key               string
	outsiderCert, outsiderK string
}

func newRoutePKI(t *testing.T) *routePKI {
	t.Helper()
	dir := t.TempDir()
	ca, other := testpki.NewCA(t, "route CA"), testpki.NewCA(t, "outsider CA")
	both := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	r := &routePKI{caFile: ca.File(t, dir, "ca.pem")}
	r.cert, r.key = ca.Issue(t, "route", 2, both...).Files(t, dir, "route")
	r.outsiderCert, r.outsiderK = other.Issue(t, "outsider", 2, both...).Files(t, dir, "outsider")
	return r
}

// secureNode is one node's cluster block: its route port, the routes it dials (each with
// pass in its user info), and its route certificate.
type secureNode struct {
	routePort  string
	dials      []string
	pass       string
	cert, key  string
	caFile     string
	serverName string
}

func (n secureNode) conf() string {
	var routes []string
	for _, p := range n.dials {
		routes = append(routes, fmt.Sprintf("%q", "nats-route://ru:"+n.pass+"@127.0.0.1:"+p))
	}
	return fmt.Sprintf(`server_name: %s
cluster {
  name: secure
  listen: 127.0.0.1:%s
  authorization { user: ru, password: s3cr3t, timeout: 2 }
  tls { cert_file: %q, key_file: %q, ca_file: %q, timeout: 2 }
  routes: [%s]
}
`, n.serverName, n.routePort, n.cert, n.key, n.caFile, strings.Join(routes, ", "))
}

func startSecureNode(t *testing.T, dir string, n secureNode) *proc {
	t.Helper()
	cfg := filepath.Join(dir, n.serverName+".conf")
	writeConf(t, cfg, n.conf())
	return startPetrel(t, "-c", cfg)
}

func TestE2EClusterRouteTLSAndAuth(t *testing.T) {
	pki := newRoutePKI(t)
	dir := t.TempDir()
	ports := []string{freePort(t), freePort(t), freePort(t)}
	var nodes []*proc
	for i := range ports {
		nodes = append(nodes, startSecureNode(t, dir, secureNode{serverName: fmt.Sprintf("n%d", i+1), routePort: ports[i],
			dials: ports, pass: "s3cr3t", cert: pki.cert, key: pki.key, caFile: pki.caFile}))
	}
	var ncs []*nats.Conn
	for _, p := range nodes {
		ncs = append(ncs, connect(t, p.url()))
	}
	waitRouted(t, ncs[0], ncs[1], "secure.12")
	waitRouted(t, ncs[1], ncs[2], "secure.23")
	waitRouted(t, ncs[2], ncs[0], "secure.31")
	checkRouteInfo(t, pki, ports[0])

	// Request/reply across nodes, over TLS routes.
	_, err := ncs[2].Subscribe("svc.secure", func(m *nats.Msg) { _ = m.Respond(append([]byte("re:"), m.Data...)) })
	must(t, err)
	must(t, ncs[2].Flush())
	waitRouted(t, ncs[0], ncs[2], "secure.ready")
	resp, err := ncs[0].Request("svc.secure", []byte("hi"), testTimeout)
	must(t, err)
	if string(resp.Data) != "re:hi" {
		t.Fatalf("reply %q", resp.Data)
	}

	// A fourth node with a wrong route password: n1 refuses it, and it never joins.
	wrong := startSecureNode(t, dir, secureNode{serverName: "n4", routePort: freePort(t), dials: ports[:1], pass: "wrong",
		cert: pki.cert, key: pki.key, caFile: pki.caFile})
	nodes[0].waitLog(`authentication error - User "ru"`)
	wrong.waitLog("Route Error 'Authorization Violation'")
	wantIsolated(t, ncs[0], connect(t, wrong.url()), "n4")

	// A fifth node whose certificate the cluster's CA did not sign (so it has no client
	// certificate to offer): the TLS handshake refuses it.
	outsider := startSecureNode(t, dir, secureNode{serverName: "n5", routePort: freePort(t), dials: ports[:1], pass: "s3cr3t",
		cert: pki.outsiderCert, key: pki.outsiderK, caFile: pki.caFile})
	nodes[0].waitLog("TLS route handshake error")
	wantIsolated(t, ncs[0], connect(t, outsider.url()), "n5")

	// The three keep routing.
	waitRouted(t, ncs[0], ncs[2], "secure.after")
	waitRouted(t, ncs[1], ncs[0], "secure.after2")
}

// wantIsolated checks that nothing published on a cluster member reaches a subscriber on
// the refused node.
func wantIsolated(t *testing.T, member, refused *nats.Conn, name string) {
	t.Helper()
	sub, err := refused.SubscribeSync("isolated." + name)
	must(t, err)
	must(t, refused.Flush())
	for range 5 {
		must(t, member.Publish("isolated."+name, []byte("x")))
		must(t, member.Flush())
		if _, err := sub.NextMsg(200 * time.Millisecond); err == nil {
			t.Fatalf("%s got a message from the cluster: it joined", name)
		}
	}
}

// checkRouteInfo reads a node's route INFO over TLS with the route certificate: it says
// tls_required, tls_verify and auth_required, as nats-server's does.
func checkRouteInfo(t *testing.T, pki *routePKI, port string) {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(pki.cert, pki.key)
	must(t, err)
	pool := x509.NewCertPool()
	ca, err := os.ReadFile(pki.caFile)
	must(t, err)
	pool.AppendCertsFromPEM(ca)
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: testTimeout}, "tcp", "127.0.0.1:"+port,
		&tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, ServerName: "127.0.0.1"})
	must(t, err)
	defer conn.Close()
	must(t, conn.SetReadDeadline(time.Now().Add(testTimeout)))
	line, err := bufio.NewReader(conn).ReadString('\n')
	must(t, err)
	var info struct {
		AuthRequired bool `json:"auth_required"`
		TLSRequired  bool `json:"tls_required"`
		TLSVerify    bool `json:"tls_verify"`
	}
	raw, ok := strings.CutPrefix(line, "INFO ")
	if !ok {
		t.Fatalf("route port's first line %q", line)
	}
	must(t, json.Unmarshal([]byte(strings.TrimSpace(raw)), &info))
	if !info.AuthRequired || !info.TLSRequired || !info.TLSVerify {
		t.Fatalf("route INFO %s", raw)
	}
}
