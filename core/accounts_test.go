package core_test

import (
	"strings"
	"time"

	"github.com/petrel-io/petrel/core/bus"
	"testing"

	"github.com/petrel-io/petrel/core"
	"github.com/petrel-io/petrel/core/account"
	"github.com/petrel-io/petrel/core/auth"
)

func accountOpts(users []auth.User, accounts ...string) core.Options {
	o := usersOpts(users...)
	for _, a := range accounts {
		o.Accounts = append(o.Accounts, account.Config{Name: a})
	}
	return o
}

// A reload that moves a user to another account moves the connected client with its
// subscriptions; one that removes the user's account closes the client.
func TestReloadMovesAndClosesAccounts(t *testing.T) {
	alice, bob := auth.User{Name: "alice", Password: "a", Account: "A"}, auth.User{Name: "bob", Password: "b", Account: "A"}
	carol := auth.User{Name: "carol", Password: "c", Account: "B"}
	r := newRig(t, accountOpts([]auth.User{alice, bob, carol}, "A", "B"))
	a, b, c := r.dial(), r.dial(), r.dial()
	r.send(a, `CONNECT {"verbose":false,"user":"alice","pass":"a"}`+"\r\nSUB x 1\r\nPING\r\n")
	r.send(b, `CONNECT {"verbose":false,"user":"bob","pass":"b"}`+"\r\nPING\r\n")
	r.send(c, `CONNECT {"verbose":false,"user":"carol","pass":"c"}`+"\r\nPING\r\n")
	a.got.Reset()
	c.got.Reset()
	r.send(c, "PUB x 2\r\nhi\r\nPING\r\n")
	expectLines(t, a) // carol is in B, alice's subscription in A
	c.got.Reset()
	alice.Account = "B"
	if err := r.reload(accountOpts([]auth.User{alice, bob, carol}, "A", "B")); err != nil {
		t.Fatal(err)
	}
	r.send(c, "PUB x 2\r\nhi\r\nPING\r\n")
	expectLines(t, a, "MSG x 1 2", "hi")
	a.got.Reset()
	r.send(b, "PUB x 2\r\nhi\r\nPING\r\n")
	expectLines(t, a) // bob stayed in A
	if err := r.reload(accountOpts([]auth.User{alice, carol}, "B")); err != nil {
		t.Fatal(err)
	}
	r.run(100e6)
	if !b.closed || a.closed || c.closed {
		t.Fatalf("closed: alice %v bob %v carol %v; want only bob", a.closed, b.closed, c.closed)
	}
}

// A CONNECT over the account's connection limit gets nats-server's -ERR and is closed; the
// count frees up when a client leaves.
func TestAccountConnectionLimit(t *testing.T) {
	o := usersOpts(auth.User{Name: "u", Password: "p", Account: "A"})
	o.Accounts = []account.Config{{Name: "A", Limits: account.Limits{MaxConnections: 1}}}
	r := newRig(t, o)
	first, second := r.dial(), r.dial()
	r.send(first, `CONNECT {"verbose":false,"user":"u","pass":"p"}`+"\r\nPING\r\n")
	expectLines(t, first, "PONG")
	r.send(second, `CONNECT {"verbose":false,"user":"u","pass":"p"}`+"\r\nPING\r\n")
	expectLines(t, second, "-ERR 'maximum account active connections exceeded'")
	if !second.closed {
		t.Fatal("the second client stayed")
	}
	first.conn.Close()
	r.run(100e6)
	third := r.dial()
	r.send(third, `CONNECT {"verbose":false,"user":"u","pass":"p"}`+"\r\nPING\r\n")
	expectLines(t, third, "PONG")
}

// The statsz heartbeat runs at start and every 10 s of (virtual) time, and shutdown is announced; both in
// the system account, seen through the internal bus.
func TestSystemHeartbeatAndShutdown(t *testing.T) {
	r := newRig(t, core.Options{})
	var got []string
	_, err := r.srv.Bus().Subscribe("$SYS", "$SYS.SERVER.>", "", func(m bus.Msg) {
		got = append(got, strings.TrimPrefix(m.Subject, "$SYS.SERVER."+r.srv.ID()+"."))
	})
	if err != nil {
		t.Fatal(err)
	}
	r.run(25 * time.Second)
	if strings.Join(got, ",") != "STATSZ,STATSZ,STATSZ" { // at start, 10 s, 20 s
		t.Fatalf("events in 25s: %v", got)
	}
	r.srv.Shutdown(nil)
	r.run(time.Second)
	if got[len(got)-1] != "SHUTDOWN" {
		t.Fatalf("events: %v", got)
	}
	if _, err := r.srv.Bus().Subscribe("nosuch", "x", "", func(bus.Msg) {}); err == nil {
		t.Fatal("an internal subscription in an unknown account")
	}
}

// allowed_connection_types: a user limited to WebSocket cannot connect over plain TCP.
func TestAllowedConnectionTypes(t *testing.T) {
	r := newRig(t, usersOpts(auth.User{Name: "ws", Password: "p", ConnectionTypes: []string{"WEBSOCKET"}},
		auth.User{Name: "tcp", Password: "p", ConnectionTypes: []string{"STANDARD", "MQTT"}}))
	ws, tcp := r.dial(), r.dial()
	r.send(ws, `CONNECT {"verbose":false,"user":"ws","pass":"p"}`+"\r\nPING\r\n")
	expectLines(t, ws, "-ERR 'Authorization Violation'")
	r.send(tcp, `CONNECT {"verbose":false,"user":"tcp","pass":"p"}`+"\r\nPING\r\n")
	expectLines(t, tcp, "PONG")
}
