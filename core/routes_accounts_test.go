package core_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core"
	"github.com/petrel-io/petrel/core/account"
	"github.com/petrel-io/petrel/core/auth"
)

// Accounts across a cluster: stream imports (an importer's subscription is interest in the
// exporter, and the receiving server follows the import), service imports (the request is
// routed in the exporter, the response comes back to the server that mapped it), and
// mappings (applied once, on the publishing server). Users a, b and c belong to accounts A,
// B and C on every node.

var acctUsers = []auth.User{{Name: "a", Password: "a", Account: "A"}, {Name: "b", Password: "b", Account: "B"},
	{Name: "c", Password: "c", Account: "C"}}

// acctClusterOpts is node i's options: a full mesh of n, with accounts.
func acctClusterOpts(n, i int, accounts []account.Config) core.Options {
	o := clusterOpts(n, i, func(i, j int) bool { return i != j })
	o.Auth = auth.Config{Users: acctUsers}
	o.Accounts = accounts
	return o
}

func newAcctCluster(t *testing.T, n int, accounts []account.Config) *clusterRig {
	t.Helper()
	r := startClusterRigWith(t, n, func(i, j int) bool { return i != j }, func(i int, o *core.Options) {
		*o = acctClusterOpts(n, i, accounts)
	})
	r.wantMesh("at start")
	return r
}

// reloadAll reloads every node with its options for accounts.
func (r *clusterRig) reloadAll(accounts []account.Config) {
	r.t.Helper()
	for i, s := range r.srvs {
		var err error
		s.Reload(acctClusterOpts(len(r.srvs), i, accounts), func(e error) { err = e })
		r.run(500 * time.Millisecond)
		if err != nil {
			r.t.Fatalf("reload s%d: %v", i+1, err)
		}
	}
}

func streamExport(subject string) account.Export {
	return account.Export{Kind: account.Stream, Subject: subject}
}

func streamImportAccounts(imports ...account.Import) []account.Config {
	return []account.Config{
		{Name: "A", Exports: []account.Export{streamExport("x.>"), streamExport("z.>")}},
		{Name: "B", Imports: imports},
		{Name: "C"},
	}
}

var (
	importX   = account.Import{Kind: account.Stream, Account: "A", Subject: "x.>"}
	importPre = account.Import{Kind: account.Stream, Account: "A", Subject: "z.>", Prefix: "pre"}
)

// TestClusterStreamImport: A's message published on s1 reaches B's subscribers on every
// node once, under the import's subject (a prefix import included), as with nats-server
// 2.15.2 (which sends RS+ A x.1 for B's SUB x.1, and RS+ A z.* for B's SUB pre.z.*); and
// stops when they unsubscribe.
func TestClusterStreamImport(t *testing.T) {
	r := newAcctCluster(t, 3, streamImportAccounts(importX, importPre))
	b2, b3, b1 := r.dialAs(2, "b"), r.dialAs(3, "b"), r.dialAs(1, "b")
	r.send(b2, "SUB x.1 1\r\n")
	r.send(b3, "SUB pre.z.* 1\r\n")
	r.send(b1, "SUB x.* 1\r\n")
	a2 := r.dialAs(2, "a")
	r.send(a2, "SUB x.1 1\r\n") // the exporter's own subscriber on s2 too: still one RMSG
	a1 := r.dialAs(1, "a")
	r.send(a1, "PUB x.1 1\r\nh\r\nPUB z.5 1\r\nk\r\n")
	for _, tc := range []struct {
		who  string
		c    *rawClient
		want []string
	}{
		{"B on s2", b2, []string{"MSG x.1 1 1"}},
		{"B on s3 (prefix import)", b3, []string{"MSG pre.z.5 1 1"}},
		{"B on s1, the publisher's server", b1, []string{"MSG x.1 1 1"}},
		{"A on s2", a2, []string{"MSG x.1 1 1"}},
	} {
		if got := msgs(tc.c); strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%s got %q, want %q", tc.who, got, tc.want)
		}
	}
	r.send(b2, "UNSUB 1\r\n")
	r.send(b3, "UNSUB 1\r\n")
	before := r.w.Coverage()["core.account.stream-import"]
	r.send(a1, "PUB x.1 1\r\nh\r\nPUB z.5 1\r\nk\r\n")
	if got := msgs(b2); len(got) != 1 {
		t.Errorf("B on s2 got %q after UNSUB", got)
	}
	if got := msgs(b3); len(got) != 1 {
		t.Errorf("B on s3 got %q after UNSUB", got)
	}
	if hits := r.w.Coverage()["core.account.stream-import"] - before; hits != 1 {
		t.Errorf("%d stream import deliveries after the UNSUBs, want 1 (B on s1)", hits)
	}
}

// TestClusterStreamImportQueue: B's queue group, with members on three nodes, takes each
// of A's messages once cluster-wide (the group's shadow interest carries its name and
// weight; the publisher's server draws over its local importers' members too).
func TestClusterStreamImportQueue(t *testing.T) {
	r := newAcctCluster(t, 3, streamImportAccounts(importX))
	var members []*rawClient
	for i := 1; i <= 3; i++ {
		m := r.dialAs(i, "b")
		r.send(m, "SUB x.> q 1\r\n")
		members = append(members, m)
	}
	plain := r.dialAs(3, "b")
	r.send(plain, "SUB x.* 2\r\n")
	a1 := r.dialAs(1, "a")
	const n = 60
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "PUB x.%d 1\r\nm\r\n", i)
	}
	r.send(a1, b.String())
	r.run(500 * time.Millisecond)
	wantSpread(t, members, n)
	if got := len(msgs(plain)); got != n {
		t.Fatalf("B's plain subscriber on s3 got %d of %d", got, n)
	}
}

// TestClusterStreamImportReload: an import added by a reload makes the importer's
// existing subscriptions interest in the exporter; one removed withdraws it.
func TestClusterStreamImportReload(t *testing.T) {
	r := newAcctCluster(t, 3, streamImportAccounts())
	b2 := r.dialAs(2, "b")
	r.send(b2, "SUB pre.z.* 1\r\n")
	a1 := r.dialAs(1, "a")
	pub := func() { r.send(a1, "PUB z.1 1\r\nk\r\n") }
	pub()
	if got := msgs(b2); len(got) != 0 {
		t.Fatalf("B got %q without an import", got)
	}
	r.reloadAll(streamImportAccounts(importPre))
	pub()
	if got := msgs(b2); len(got) != 1 || got[0] != "MSG pre.z.1 1 1" {
		t.Fatalf("after the import was added B got %q", got)
	}
	r.reloadAll(streamImportAccounts())
	routedBefore := r.w.Coverage()["core.route.flush"]
	pub()
	if got := msgs(b2); len(got) != 1 {
		t.Fatalf("after the import was removed B got %q", got)
	}
	if n := r.w.Coverage()["core.route.flush"] - routedBefore; n != 0 {
		t.Fatalf("A's message still crossed a route (%d flushes) after the import went", n)
	}
}

func serviceAccounts(response account.ResponseType) []account.Config {
	return []account.Config{
		{Name: "A", Imports: []account.Import{{Kind: account.Service, Account: "B", Subject: "svc"}}},
		{Name: "B", Exports: []account.Export{{Kind: account.Service, Subject: "svc", ResponseType: response}}},
		{Name: "C"},
	}
}

// TestClusterServiceImport: A's request on s1 reaches B's responder on s2 under a reply
// subject s1 made up, the response comes back over the route (s1 announced interest in
// B's _R_.<prefix>.>, as nats-server 2.15.2 does at its first mapped request) and reaches
// A's requester under its own reply subject; a singleton answers once; with no responder
// anywhere the requester gets one 503.
func TestClusterServiceImport(t *testing.T) {
	r := newAcctCluster(t, 3, serviceAccounts(account.Singleton))
	b2 := r.dialAs(2, "b")
	r.send(b2, "SUB svc 1\r\n")
	a1 := r.dialAs(1, "a")
	r.send(a1, "SUB _INBOX.me 9\r\nPUB svc _INBOX.me 1\r\nq\r\n")
	got := msgs(b2)
	if len(got) != 1 || !strings.HasPrefix(got[0], "MSG svc 1 _R_.") {
		t.Fatalf("responder on s2 got %q", got)
	}
	mapped := strings.Fields(got[0])[3]
	r.send(b2, "PUB "+mapped+" 2\r\nok\r\nPUB "+mapped+" 2\r\nno\r\n")
	if got := msgs(a1); len(got) != 1 || got[0] != "MSG _INBOX.me 9 2" {
		t.Fatalf("requester on s1 got %q, want one response", got)
	}
	if strings.Contains(a1.got.String(), "no") {
		t.Fatalf("a singleton answered twice: %q", a1.got.String())
	}
	r.send(b2, "UNSUB 1\r\n")
	r.send(a1, "PUB svc _INBOX.me 1\r\nq\r\n")
	if n := strings.Count(a1.got.String(), "NATS/1.0 503"); n != 1 {
		t.Fatalf("%d 503s for a request nobody answers, want 1: %q", n, a1.got.String())
	}
}

// TestClusterServiceImportStreamed: a streamed response type's answers all come back
// across the route, and a requester's reply subscribed on another server is reached too.
func TestClusterServiceImportStreamed(t *testing.T) {
	r := newAcctCluster(t, 3, serviceAccounts(account.Streamed))
	b3 := r.dialAs(3, "b")
	r.send(b3, "SUB svc 1\r\n")
	a2 := r.dialAs(2, "a")
	r.send(a2, "SUB replies.here 5\r\n")
	a1 := r.dialAs(1, "a")
	r.send(a1, "PUB svc replies.here 1\r\nq\r\n")
	got := msgs(b3)
	if len(got) != 1 {
		t.Fatalf("responder on s3 got %q", got)
	}
	mapped := strings.Fields(got[0])[3]
	r.send(b3, "PUB "+mapped+" 2\r\nr1\r\nPUB "+mapped+" 2\r\nr2\r\nPUB "+mapped+" 2\r\nr3\r\n")
	if got := msgs(a2); len(got) != 3 {
		t.Fatalf("reply subscriber on s2 got %q, want the three responses", got)
	}
}

// TestClusterMappingAppliedOnce: a weighted mapping is applied by the publishing server
// only: the subscribers on the other server see each message under the subject the
// publisher's server chose (applied again there, half of them would become w.m.m.<n>).
func TestClusterMappingAppliedOnce(t *testing.T) {
	accounts := []account.Config{
		{Name: "A", Mappings: []account.Mapping{
			{Source: "w.>", Destinations: []account.Destination{{Subject: "w.m.>", Weight: 50}}},
			{Source: "p.*", Destinations: []account.Destination{{Subject: "p.{{partition(7,1)}}", Weight: 100}}},
		}},
		{Name: "B"}, {Name: "C"},
	}
	r := newAcctCluster(t, 2, accounts)
	local, remote := r.dialAs(1, "a"), r.dialAs(2, "a")
	r.send(local, "SUB w.> 1\r\nSUB p.* 2\r\n")
	r.send(remote, "SUB w.> 1\r\nSUB p.* 2\r\n")
	pub := r.dialAs(1, "a")
	var b strings.Builder
	const n = 40
	for i := range n {
		fmt.Fprintf(&b, "PUB w.%d 1\r\nx\r\nPUB p.k%d 1\r\ny\r\n", i, i)
	}
	r.send(pub, b.String())
	r.run(500 * time.Millisecond)
	want, got := msgs(local), msgs(remote)
	if len(want) != 2*n || strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("the other server's subscriber got\n%q\nthe publisher's server's\n%q", got, want)
	}
	mapped := 0
	for _, m := range want {
		if strings.HasPrefix(m, "MSG w.m.m.") {
			t.Fatalf("mapped twice: %q", m)
		}
		if strings.HasPrefix(m, "MSG w.m.") {
			mapped++
		}
	}
	if mapped == 0 || mapped == n {
		t.Fatalf("%d of %d weighted messages mapped, want some of them", mapped, n)
	}
}
