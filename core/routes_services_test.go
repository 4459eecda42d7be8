package core_test

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core"
	"github.com/petrel-io/petrel/core/auth"
)

// System services across a three-node cluster: the system account's requests reach every
// member (PING) or the named one ($SYS.REQ.SERVER.<id>.*) from any node, their answers and
// the server's events come back over the routes, and JetStream's API stays on the node it
// was asked on (JetStream is not clustered).

func newServicesRig(t *testing.T) *clusterRig {
	t.Helper()
	r := startClusterRigWith(t, 3, func(i, j int) bool { return i != j }, func(_ int, o *core.Options) {
		o.Auth = auth.Config{Users: []auth.User{{Name: "sys", Password: "sys", Account: "$SYS"}, {Name: "app", Password: "app"}}}
		o.JetStream, o.JetStreamStoreDir = true, "js"
	})
	r.wantMesh("at start")
	return r
}

// dialAs connects a raw client to node i as user (whose password is its name).
func (r *clusterRig) dialAs(i int, user string) *rawClient {
	r.t.Helper()
	c := r.dialOnly(i)
	r.send(c, `CONNECT {"verbose":false,"protocol":1,"headers":true,"no_responders":true,"user":"`+user+`","pass":"`+user+`"}`+"\r\nPING\r\n")
	return c
}

// payloads returns the payload of every MSG a client got (each is one line here: JSON).
func payloads(c *rawClient) []string {
	var out []string
	ls := strings.Split(c.got.String(), "\r\n")
	for i, l := range ls {
		if strings.HasPrefix(l, "MSG ") && i+1 < len(ls) {
			out = append(out, ls[i+1])
		}
	}
	return out
}

// answerers returns the server names of the system replies a client got, sorted.
func answerers(t *testing.T, c *rawClient) []string {
	t.Helper()
	var names []string
	for _, p := range payloads(c) {
		var m struct {
			Server struct{ Name, Cluster string } `json:"server"`
		}
		if err := json.Unmarshal([]byte(p), &m); err != nil {
			t.Fatalf("reply %q: %v", p, err)
		}
		if m.Server.Cluster != "c1" {
			t.Fatalf("reply from %s names cluster %q, want c1", m.Server.Name, m.Server.Cluster)
		}
		names = append(names, m.Server.Name)
	}
	slices.Sort(names)
	return names
}

func TestClusterSystemPingAnsweredByEveryMember(t *testing.T) {
	r := newServicesRig(t)
	for from := 1; from <= 3; from++ {
		c := r.dialAs(from, "sys")
		r.send(c, "SUB _INBOX.p.* 1\r\nPUB $SYS.REQ.SERVER.PING _INBOX.p.1 0\r\n\r\n")
		r.run(300 * time.Millisecond)
		if got := answerers(t, c); !slices.Equal(got, []string{"s1", "s2", "s3"}) {
			t.Fatalf("PING from s%d answered by %v, want s1 s2 s3", from, got)
		}
	}
}

func TestClusterServerRequestReachesTheNamedServer(t *testing.T) {
	r := newServicesRig(t)
	c := r.dialAs(1, "sys")
	r.send(c, "SUB _INBOX.v.* 1\r\nPUB $SYS.REQ.SERVER."+r.srvs[2].ID()+".VARZ _INBOX.v.1 0\r\n\r\n")
	r.run(300 * time.Millisecond)
	if got := answerers(t, c); !slices.Equal(got, []string{"s3"}) {
		t.Fatalf("s3's VARZ asked on s1 answered by %v, want s3 alone", got)
	}
}

func TestClusterRoutezRequest(t *testing.T) {
	r := newServicesRig(t)
	c := r.dialAs(2, "sys")
	r.send(c, "SUB _INBOX.z.* 1\r\nPUB $SYS.REQ.SERVER.PING.ROUTEZ _INBOX.z.1 22\r\n{\"subscriptions\":true}\r\n")
	r.run(300 * time.Millisecond)
	got := payloads(c)
	if len(got) != 3 {
		t.Fatalf("PING.ROUTEZ got %d answers, want 3: %q", len(got), got)
	}
	for _, p := range got {
		var m struct {
			Server struct{ Name string } `json:"server"`
			Data   core.Routez           `json:"data"`
		}
		if err := json.Unmarshal([]byte(p), &m); err != nil {
			t.Fatal(err)
		}
		subs := map[string][]string{} // by peer, over its pool and pinned routes
		for _, ri := range m.Data.Routes {
			subs[ri.RemoteName] = append(subs[ri.RemoteName], ri.Subs...)
		}
		for peer, list := range subs {
			if !slices.Contains(list, "$SYS.REQ.SERVER.PING") || slices.ContainsFunc(list, func(s string) bool { return strings.HasPrefix(s, "$JS.API") }) {
				t.Fatalf("%s's routes to %s list %v: want the system services, not JetStream's API", m.Server.Name, peer, list)
			}
		}
		// Two peers, each with the default pool of 3 and the system account's pinned route.
		if m.Data.NumRoutes != 8 || m.Data.Name != m.Server.Name || len(subs) != 2 || subs[m.Server.Name] != nil {
			t.Fatalf("%s's routez: %d routes to %v", m.Server.Name, m.Data.NumRoutes, slices.Sorted(maps.Keys(subs)))
		}
	}
}

func TestClusterJetStreamAPIStaysLocal(t *testing.T) {
	r := newServicesRig(t)
	c := r.dialAs(1, "app")
	r.send(c, "SUB _INBOX.j.* 1\r\nPUB $JS.API.INFO _INBOX.j.1 0\r\n\r\n")
	r.run(300 * time.Millisecond)
	if got := payloads(c); len(got) != 1 {
		t.Fatalf("$JS.API.INFO got %d answers, want one (its own server's): %q", len(got), got)
	}
}

func TestClusterEventsReachListenersOnOtherNodes(t *testing.T) {
	r := newServicesRig(t)
	l := r.dialAs(2, "sys")
	r.send(l, "SUB $SYS.ACCOUNT.*.CONNECT 1\r\n")
	r.dialAs(1, "app")
	r.run(300 * time.Millisecond)
	got := payloads(l)
	if len(got) != 1 || !strings.Contains(got[0], `"name":"s1"`) || !strings.Contains(got[0], "client_connect") {
		t.Fatalf("listener on s2 got %q, want s1's connect event", got)
	}
}

func TestClusterRoutezDocument(t *testing.T) {
	r := newServicesRig(t)
	sub := r.dialAs(2, "app")
	r.send(sub, "SUB probe.x 1\r\n")
	pub := r.dialAs(1, "app")
	r.send(pub, "PUB probe.x 1\r\nx\r\n")
	if len(msgs(sub)) != 1 {
		t.Fatalf("the probe did not cross: %q", sub.got.String())
	}
	z := r.srvs[0].Routez(core.RoutezOptions{SubsDetail: true})
	if z.NumRoutes != 8 || len(z.Routes) != 8 || z.ID != r.srvs[0].ID() || z.Name != "s1" { // 2 peers x (3 pooled + $SYS)
		t.Fatalf("s1's routez: %+v", z)
	}
	var out int64
	for _, ri := range z.Routes {
		if !ri.IsConfigured || ri.IP == "" || ri.Port == 0 || ri.Start.IsZero() || ri.Compression != "off" {
			t.Fatalf("route %+v", ri)
		}
		if ri.RemoteID != r.srvs[1].ID() && ri.RemoteID != r.srvs[2].ID() {
			t.Fatalf("route to %s, not a peer", ri.RemoteID)
		}
		if len(ri.SubsDetail) != int(ri.NumSubs) || ri.Subs != nil {
			t.Fatalf("subs=detail gave %d entries of %d, list %v", len(ri.SubsDetail), ri.NumSubs, ri.Subs)
		}
		for _, d := range ri.SubsDetail {
			if d.CID != ri.RID || !strings.HasPrefix(d.Sid, "R ") || !strings.Contains(d.Sid, d.Subject) {
				t.Fatalf("detail %+v of route %d", d, ri.RID)
			}
		}
		out += ri.OutMsgs
	}
	if out == 0 {
		t.Fatal("the probe crossed a route but no route counted a message out")
	}
	if v := r.srvs[0].Varz(core.VarzHost{}); v.Routes != 8 || v.Remotes != 2 || v.Cluster.Port != 6222 {
		t.Fatalf("varz routes %d remotes %d cluster port %d", v.Routes, v.Remotes, v.Cluster.Port)
	}
}
