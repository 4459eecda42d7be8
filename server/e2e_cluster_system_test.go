package server

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// The system services of a three-process cluster: a PING on one node is answered by every
// member, a server's own request reaches it from another node, and each node's /routez
// lists its two routes.

const clusterSystemAccounts = `accounts { SYS { users: [{user: sys, password: sys}] }, APP { users: [{user: app, password: app}] } }
system_account: SYS
`

func TestE2EClusterSystemServices(t *testing.T) {
	mports := []string{freePort(t), freePort(t), freePort(t)}
	c := startClusterWith(t, 3, func(i int) string {
		return clusterSystemAccounts + "http: 127.0.0.1:" + mports[i] + "\n"
	})
	for i, mp := range mports { // the mesh is complete: 2 peers x (a pool of 3 and $SYS's route)
		waitBody(t, "http://127.0.0.1:"+mp+"/routez", `"num_routes": 8`)
		var z struct {
			Name   string `json:"server_name"`
			Routes []struct {
				RemoteName string `json:"remote_name"`
			} `json:"routes"`
		}
		_, body := httpGet(t, "http://127.0.0.1:"+mp+"/routez")
		must(t, json.Unmarshal([]byte(body), &z))
		var peers []string
		for _, r := range z.Routes {
			peers = append(peers, r.RemoteName)
		}
		slices.Sort(peers)
		peers = slices.Compact(peers)
		want := slices.DeleteFunc([]string{"n1", "n2", "n3"}, func(n string) bool { return n == fmt.Sprintf("n%d", i+1) })
		if z.Name != fmt.Sprintf("n%d", i+1) || !slices.Equal(peers, want) {
			t.Fatalf("n%d's /routez: %s routes to %v, want %v", i+1, z.Name, peers, want)
		}
	}
	sys := connect(t, c.nodes[0].url(), nats.UserInfo("sys", "sys"))
	waitAnswers(t, sys, "$SYS.REQ.SERVER.PING", []string{"n1", "n2", "n3"})
	n3 := connect(t, c.nodes[2].url(), nats.UserInfo("sys", "sys"))
	waitAnswers(t, sys, "$SYS.REQ.SERVER."+n3.ConnectedServerId()+".VARZ", []string{"n3"})
	if bin, ok := natsCLIIfSet(); ok {
		out, err := exec.Command(bin, "-s", c.nodes[0].url(), "--user", "sys", "--password", "sys", "server", "ping", "3").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "3 replies") {
			t.Fatalf("nats server ping: %v\n%s", err, out)
		}
	}
}

// waitAnswers sends a request on subj until every server in want answered it (the
// interest of the other nodes' services crosses the routes once they are up), and checks
// that no other server did.
func waitAnswers(t *testing.T, nc *nats.Conn, subj string, want []string) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		got := collectAnswers(t, nc, subj)
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) || len(got) > len(want) {
			t.Fatalf("%s answered by %v, want %v", subj, got, want)
		}
	}
}

// collectAnswers sends one request on subj and returns the names of the servers that
// answered within half a second, sorted.
func collectAnswers(t *testing.T, nc *nats.Conn, subj string) []string {
	t.Helper()
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	must(t, err)
	defer func() { _ = sub.Unsubscribe() }()
	must(t, nc.PublishRequest(subj, inbox, nil))
	var names []string
	for {
		m, err := sub.NextMsg(500 * time.Millisecond)
		if err != nil {
			break
		}
		var r struct {
			Server struct{ Name string } `json:"server"`
		}
		must(t, json.Unmarshal(m.Data, &r))
		names = append(names, r.Server.Name)
	}
	slices.Sort(names)
	return names
}

// natsCLIIfSet is natscli's binary when NATS_CLI_BIN names one (make test sets it): the
// test checks what it can without it.
func natsCLIIfSet() (string, bool) {
	bin := os.Getenv("NATS_CLI_BIN")
	if bin == "" {
		return "", false
	}
	_, err := os.Stat(bin)
	return bin, err == nil
}
