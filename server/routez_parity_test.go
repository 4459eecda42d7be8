package server

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// Route monitoring parity: three servers in a full mesh (pool_size -1, the one route per
// peer that Petrel has), a client's interest on node 1, traffic across the route; then
// node 2's /routez in its three forms and the system account's PING (statsz, with its
// routes) and PING.ROUTEZ answers must carry every key path of nats-server v2.15.2's with
// the same JSON type. The key paths are kept in testdata/monitor/routez.txt, written from
// the real servers by TestRoutezGoldenFromNatsServer (NATS_SERVER_BIN=/path/to/nats-server
// go test -run TestRoutezGoldenFromNatsServer ./server/ -update-monitor-golden).

var routezScenario = monitorScenario{name: "routez", endpoints: []string{
	"/routez", "/routez?subs=1", "/routez?subs=detail",
	"$SYS.REQ.SERVER.PING", "$SYS.REQ.SERVER.PING.ROUTEZ",
}}

// routezNode is one server of the parity cluster: its client and monitoring ports and its
// configuration file.
type routezNode struct {
	port, mport, conf string
}

// routezCluster writes the configuration of three servers that list each other's routes.
func routezCluster(t *testing.T) []routezNode {
	t.Helper()
	var routePorts, routes []string
	for range 3 {
		p := freePort(t)
		routePorts = append(routePorts, p)
		routes = append(routes, fmt.Sprintf("%q", "nats-route://127.0.0.1:"+p))
	}
	dir := t.TempDir()
	var nodes []routezNode
	for i := range 3 {
		n := routezNode{port: freePort(t), mport: freePort(t), conf: filepath.Join(dir, fmt.Sprintf("n%d.conf", i+1))}
		writeConf(t, n.conf, fmt.Sprintf(`server_name: n%d
accounts { SYS { users: [{user: sys, password: sys}] }, APP { users: [{user: app, password: app}] } }
system_account: SYS
cluster { name: parity, pool_size: -1, listen: 127.0.0.1:%s, routes: [%s] }
`, i+1, routePorts[i], strings.Join(routes, ", ")))
		nodes = append(nodes, n)
	}
	return nodes
}

// routezWorkload gives node 2's routes something to show: a plain and a queue subscription
// on node 1 that node 2 knows of, and a message from node 2 that crosses to them.
func routezWorkload(t *testing.T, nodes []routezNode) {
	t.Helper()
	app := nats.UserInfo("app", "app")
	sub := connect(t, "nats://127.0.0.1:"+nodes[0].port, app)
	plain, err := sub.SubscribeSync("watched.*")
	must(t, err)
	_, err = sub.QueueSubscribeSync("work", "workers")
	must(t, err)
	must(t, sub.Flush())
	pub := connect(t, "nats://127.0.0.1:"+nodes[1].port, app)
	deadline := time.Now().Add(testTimeout)
	for {
		must(t, pub.Publish("watched.x", []byte("12345")))
		must(t, pub.Flush())
		if _, err := plain.NextMsg(100 * time.Millisecond); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no message crossed the route from node 2 to node 1")
		}
	}
	for _, n := range nodes { // every node has both routes before the documents are read
		waitBody(t, "http://127.0.0.1:"+n.mport+"/routez", `"num_routes": 2`)
	}
	// and every node has timed a PING on both its routes (rtt is left out before; Petrel's
	// first route PING goes a second after the handshake, and PING.ROUTEZ is answered by
	// every node).
	for _, n := range nodes {
		waitBodyCount(t, "http://127.0.0.1:"+n.mport+"/routez", `"rtt"`, 2)
	}
}

// waitBody polls url until its body contains want.
func waitBody(t *testing.T, url, want string) {
	t.Helper()
	waitBodyCount(t, url, want, 1)
}

// waitBodyCount polls url until its body contains want at least n times.
func waitBodyCount(t *testing.T, url, want string, n int) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		if _, body := httpGet(t, url); strings.Count(body, want) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never showed %s", url, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// routezDocs fetches the scenario's documents from node 2: HTTP endpoints from its
// monitoring port, system requests (the first answer) as the system user.
func routezDocs(t *testing.T, node routezNode) map[string]map[string]string {
	t.Helper()
	docs := monitorDocs(t, "http://127.0.0.1:"+node.mport, routezScenario.endpoints[:3])
	sys := connect(t, "nats://127.0.0.1:"+node.port, nats.UserInfo("sys", "sys"))
	for _, subj := range routezScenario.endpoints[3:] {
		msg, err := sys.Request(subj, []byte(`{"subscriptions":true}`), testTimeout)
		must(t, err)
		var v any
		must(t, json.Unmarshal(msg.Data, &v))
		paths := map[string]string{}
		keyPaths(v, "", paths)
		docs[subj] = paths
	}
	return docs
}

func TestRoutezGoldenFromNatsServer(t *testing.T) {
	bin := os.Getenv("NATS_SERVER_BIN")
	if bin == "" {
		t.Skip("NATS_SERVER_BIN is not set")
	}
	nodes := routezCluster(t)
	for _, n := range nodes {
		startNatsServer(t, bin, []string{"-a", "127.0.0.1", "-p", n.port, "-m", n.mport, "-c", n.conf})
	}
	routezWorkload(t, nodes)
	got := strings.Replace(formatGolden(routezScenario, routezDocs(t, nodes[1])),
		"TestMonitorGoldenFromNatsServer", "TestRoutezGoldenFromNatsServer", 1)
	file := filepath.Join(monitorGoldenDir, routezScenario.name+".txt")
	if *updateMonitorGolden {
		must(t, os.WriteFile(file, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(file)
	must(t, err)
	if string(want) != got {
		t.Fatalf("%s is out of date with %s; rerun with -update-monitor-golden\ngot:\n%s", file, bin, got)
	}
}

// TestRoutezParity runs the scenario on three Petrel processes.
func TestRoutezParity(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(monitorGoldenDir, routezScenario.name+".txt"))
	must(t, err)
	want := parseGolden(t, string(raw))
	nodes := routezCluster(t)
	for _, n := range nodes {
		startPetrelOn(t, n.port, "-m", n.mport, "-c", n.conf)
	}
	routezWorkload(t, nodes)
	got := routezDocs(t, nodes[1])
	for _, ep := range routezScenario.endpoints {
		for _, miss := range missingPaths(want[ep], got[ep]) {
			t.Errorf("%s: %s", ep, miss)
		}
	}
}
