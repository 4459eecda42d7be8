package core_test

import (
	"strings"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core"
	"github.com/petrel-io/petrel/core/auth"
)

// Reload on virtual time: what connected clients see when the settings change under them.
// Each expectation was observed on nats-server v2.15.2 by reloading it with the same change.

// reload runs Server.Reload to completion and returns its outcome.
func (r *rig) reload(opts core.Options) error {
	r.t.Helper()
	if opts.Port == 0 {
		opts.Port = 4222 // the rig's port, as the host passes it
	}
	finished, result := false, error(nil)
	r.srv.Reload(opts, func(err error) { finished, result = true, err })
	r.run(100 * time.Millisecond)
	if !finished {
		r.t.Fatal("reload did not finish")
	}
	return result
}

func usersOpts(users ...auth.User) core.Options {
	return core.Options{Auth: auth.Config{Users: users}}
}

func closedReasons(t *testing.T, r *rig) map[uint64]string {
	t.Helper()
	z, err := r.srv.Connz(core.ConnzOptions{State: "closed"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[uint64]string{}
	for _, c := range z.Conns {
		out[c.CID] = c.Reason
	}
	return out
}

// A changed password closes the client that proved the old one, with nats-server's -ERR and
// /connz reason; other users stay; the new password admits new clients, the old no longer.
func TestReloadPasswordClosesOldCredentials(t *testing.T) {
	alice, bob := auth.User{Name: "alice", Password: "pa"}, auth.User{Name: "bob", Password: "pb"}
	r := newRig(t, usersOpts(alice, bob))
	internal := r.srv.Varz(core.VarzHost{}).Subscriptions
	a := r.dial()
	r.send(a, `CONNECT {"verbose":false,"user":"alice","pass":"pa"}`+"\r\nSUB foo 1\r\nPING\r\n")
	b := r.dial()
	r.send(b, `CONNECT {"verbose":false,"user":"bob","pass":"pb"}`+"\r\nPING\r\n")
	alice.Password = "pa2"
	if err := r.reload(usersOpts(alice, bob)); err != nil {
		t.Fatal(err)
	}
	expectLines(t, a, "PONG", "-ERR 'Authorization Violation'")
	if !a.closed || b.closed {
		t.Fatalf("alice closed %v, bob closed %v; want true, false", a.closed, b.closed)
	}
	if got := closedReasons(t, r)[1]; got != "Authentication Failure" {
		t.Fatalf("closed reason %q", got)
	}
	if v := r.srv.Varz(core.VarzHost{}); v.Subscriptions != internal {
		t.Fatalf("the closed client's subscription stayed: %d", v.Subscriptions)
	}
	old := r.dial()
	r.send(old, `CONNECT {"verbose":false,"user":"alice","pass":"pa"}`+"\r\n")
	expectLines(t, old, "-ERR 'Authorization Violation'")
	fresh := r.dial()
	r.send(fresh, `CONNECT {"verbose":false,"user":"alice","pass":"pa2"}`+"\r\nPING\r\n")
	expectLines(t, fresh, "PONG")
}

// Authorization added under a client that connected without credentials closes it; a
// token change closes a token client.
func TestReloadAuthAddedOrTokenChanged(t *testing.T) {
	r := newRig(t, core.Options{})
	open := r.dial()
	r.send(open, "CONNECT {\"verbose\":false}\r\n")
	if err := r.reload(core.Options{Auth: auth.Config{Token: "t1"}}); err != nil {
		t.Fatal(err)
	}
	if !open.closed || !strings.Contains(open.got.String(), "Authorization Violation") {
		t.Fatalf("client without credentials: closed %v, got %q", open.closed, open.got.String())
	}
	tok := r.dial()
	r.send(tok, `CONNECT {"verbose":false,"auth_token":"t1"}`+"\r\n")
	if err := r.reload(core.Options{Auth: auth.Config{Token: "t1", Timeout: 3 * time.Second}}); err != nil {
		t.Fatal(err)
	}
	if tok.closed {
		t.Fatal("an unchanged token closed its client")
	}
	if err := r.reload(core.Options{Auth: auth.Config{Token: "t2"}}); err != nil {
		t.Fatal(err)
	}
	if !tok.closed {
		t.Fatal("a changed token left its client connected")
	}
}

// New permissions apply to a connected client: publishes are checked against them, and
// subscriptions they no longer allow are removed with the sid in the violation.
func TestReloadPermissions(t *testing.T) {
	wide := &auth.Permissions{Publish: &auth.SubjectPermission{Allow: []string{"foo", "bar"}},
		Subscribe: &auth.SubjectPermission{Allow: []string{">"}}}
	narrow := &auth.Permissions{Publish: &auth.SubjectPermission{Allow: []string{"foo"}},
		Subscribe: &auth.SubjectPermission{Allow: []string{"foo"}}}
	r := newRig(t, usersOpts(auth.User{Name: "a", Password: "p", Permissions: wide}, auth.User{Name: "b", Password: "p"}))
	a := r.dial()
	// PUB bar before the reload fills the client's cache of publish decisions.
	r.send(a, `CONNECT {"verbose":false,"user":"a","pass":"p"}`+"\r\nSUB foo 1\r\nSUB sub.x 2\r\nSUB sub.* q 3\r\nPUB bar 1\r\nx\r\nPING\r\n")
	expectLines(t, a, "PONG")
	a.got.Reset()
	b := r.dial()
	r.send(b, `CONNECT {"verbose":false,"user":"b","pass":"p"}`+"\r\n")
	if err := r.reload(usersOpts(auth.User{Name: "a", Password: "p", Permissions: narrow}, auth.User{Name: "b", Password: "p"})); err != nil {
		t.Fatal(err)
	}
	r.send(b, "PUB sub.x 1\r\ns\r\nPUB foo 1\r\nf\r\n")
	r.send(a, "PUB bar 1\r\nx\r\nPING\r\n")
	got := strings.Split(strings.TrimSuffix(a.got.String(), "\r\n"), "\r\n")
	want := []string{`-ERR 'Permissions Violation for Subscription to "sub.x" (sid "2")'`,
		`-ERR 'Permissions Violation for Subscription to "sub.*" using queue "q" (sid "3")'`,
		"MSG foo 1 1", "f", `-ERR 'Permissions Violation for Publish to "bar"'`, "PONG"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("client got %q\nwant %q", got, want)
	}
	if a.closed {
		t.Fatal("a permissions change closed the client")
	}
}

// Options nats-server cannot change while running refuse the whole reload with its message,
// and nothing changes, not even the reloadable options of the same reload.
func TestReloadRefusals(t *testing.T) {
	base := core.Options{ServerName: "s", LameDuckDuration: time.Minute}
	cases := []struct {
		change func(*core.Options)
		want   string
	}{
		{func(o *core.Options) { o.ServerName = "other" }, "config reload not supported for ServerName: old=s, new=other"},
		{func(o *core.Options) { o.Host = "10.0.0.1" }, "config reload not supported for Host: old=, new=10.0.0.1"},
		{func(o *core.Options) { o.Port = 4223 }, "config reload not supported for Port: old=4222, new=4223"},
		{func(o *core.Options) { o.MaxSubscriptions = 10 }, "config reload not supported for MaxSubs: old=0, new=10"},
		{func(o *core.Options) { o.MaxPending = 10 << 20 }, "config reload not supported for MaxPending: old=67108864, new=10485760"},
		{func(o *core.Options) { o.LameDuckDuration = 40 * time.Second }, "config reload not supported for LameDuckDuration: old=1m0s, new=40s"},
		{func(o *core.Options) { o.LameDuckGrace = 5 * time.Second }, "config reload not supported for LameDuckGracePeriod: old=10s, new=5s"},
		{func(o *core.Options) { o.Auth.NoAuthUser = "x"; o.Auth.Users = []auth.User{{Name: "x"}} }, "config reload not supported for NoAuthUser: old=, new=x"},
	}
	for _, tc := range cases {
		r := newRig(t, base)
		next := base
		next.MaxPayload = 100
		tc.change(&next)
		if err := r.reload(next); err == nil || err.Error() != tc.want {
			t.Errorf("reload: %v, want %q", err, tc.want)
		}
		if v := r.srv.Varz(core.VarzHost{}); v.MaxPayload != core.DefaultMaxPayload {
			t.Errorf("%s: a refused reload changed max_payload to %d", tc.want, v.MaxPayload)
		}
	}
}

// max_payload applies to connected clients' parsers and to new clients' INFO; nats-server
// sends connected clients no INFO for it, and neither does Petrel.
func TestReloadMaxPayload(t *testing.T) {
	r := newRig(t, core.Options{})
	c := r.dial()
	r.send(c, "CONNECT {\"verbose\":false,\"protocol\":1}\r\nPING\r\n")
	if err := r.reload(core.Options{MaxPayload: 2000}); err != nil {
		t.Fatal(err)
	}
	if strings.Count(c.got.String(), "INFO ") != 1 {
		t.Fatalf("an INFO after the reload: %q", c.got.String())
	}
	fresh := r.dial()
	if !strings.Contains(fresh.got.String(), `"max_payload":2000`) {
		t.Fatalf("new client's INFO: %s", fresh.got.String())
	}
	r.send(c, "PUB foo 3000\r\n")
	expectLines(t, c, "PONG", "-ERR 'Maximum Payload Violation'")
	if !c.closed {
		t.Fatal("a payload over the reloaded limit did not close the client")
	}
}

// Lowering max_connections closes the newest clients beyond it.
func TestReloadMaxConnections(t *testing.T) {
	r := newRig(t, core.Options{})
	var clients []*rawClient
	for i := 0; i < 3; i++ {
		c := r.dial()
		r.send(c, "CONNECT {\"verbose\":false}\r\n")
		clients = append(clients, c)
	}
	if err := r.reload(core.Options{MaxConnections: 1}); err != nil {
		t.Fatal(err)
	}
	if clients[0].closed || !clients[1].closed || !clients[2].closed {
		t.Fatalf("closed: %v %v %v; want the two newest", clients[0].closed, clients[1].closed, clients[2].closed)
	}
	expectLines(t, clients[2], "-ERR 'maximum connections exceeded'")
	if got := closedReasons(t, r)[3]; got != "Maximum Connections Exceeded" {
		t.Fatalf("closed reason %q", got)
	}
	if late := r.dial(); !late.closed {
		t.Fatal("a connection past the reloaded limit was accepted")
	}
}

// A reloaded ping interval applies from each client's next tick.
func TestReloadPingInterval(t *testing.T) {
	r := newRig(t, core.Options{PingInterval: 10 * time.Second})
	c := r.dial()
	r.send(c, "CONNECT {\"verbose\":false}\r\n")
	if err := r.reload(core.Options{PingInterval: time.Second, MaxPingsOut: 1}); err != nil {
		t.Fatal(err)
	}
	r.run(2500 * time.Millisecond) // the first tick: the early RTT PING armed at CONNECT
	expectLines(t, c, "PING")
	r.run(2500 * time.Millisecond) // two more at the new interval: stale after ping_max 1
	expectLines(t, c, "PING", "-ERR 'Stale Connection'")
}
