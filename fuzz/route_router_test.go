package fuzz

import (
	"testing"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/route"
)

// FuzzRouter: whatever a peer sends, on an accepted or a dialled route (a pool connection,
// or with cut's high bit account P's dedicated one), before or after the handshake, the
// router never panics (its invariants are asserted after every step) and the connection
// ends up established, in its handshake, or closing with a reason.
func FuzzRouter(f *testing.F) {
	const connect = "CONNECT {\"echo\":true,\"headers\":true,\"name\":\"NPEER\",\"cluster\":\"c1\",\"lnoc\":true}\r\n"
	const info = "INFO {\"server_id\":\"NPEER\",\"server_name\":\"p\",\"cluster\":\"c1\",\"ip\":\"nats-route://p:6222/\",\"nonce\":\"x\",\"lnocu\":true} \r\n"
	f.Add([]byte(connect+info+"RS+ $G foo\r\nRS+ $G bar q 3\r\nRMSG $G foo | q 2\r\nhi\r\nRS- $G bar q\r\nPING\r\n"), false, uint8(3))
	f.Add([]byte(info+"LS+ leaf $G a.>\r\nLMSG leaf $G a.b 0 2\r\nhi\r\nINFO {\"server_id\":\"NOTHER\",\"ip\":\"nats-route://o:6222/\"}\r\n"), true, uint8(1))
	f.Add([]byte(connect+info+"RS+ $G foo..bar\r\nRS+ $G > q 0\r\n-ERR 'x'\r\n"), false, uint8(7))
	f.Add([]byte("INFO {\"server_id\":\"NSELF\"}\r\n"), true, uint8(2))
	const pooled = "INFO {\"server_id\":\"NPEER\",\"cluster\":\"c1\",\"route_pool_size\":3,\"route_pool_idx\":1,\"lnocu\":true}\r\n"
	const pinned = "INFO {\"server_id\":\"NPEER\",\"cluster\":\"c1\",\"route_pool_size\":3,\"route_account\":\"P\"}\r\n"
	f.Add([]byte(connect+pooled+"RS+ $G foo\r\nRMSG $G foo 2\r\nhi\r\n"), false, uint8(5))
	f.Add([]byte(connect+pinned+"RS+ foo\r\nRS+ bar q 2\r\nRMSG foo | q 2\r\nhi\r\nLS+ leaf foo\r\n"), false, uint8(4))
	f.Add([]byte(pooled+"RS+ P foo\r\n"), true, uint8(0x83))
	f.Add([]byte(pooled), true, uint8(6))
	f.Fuzz(func(t *testing.T, input []byte, dial bool, cut uint8) {
		r, err := route.NewRouter(route.Config{ServerID: "NSELF", ServerName: "self", Cluster: "c1", RouteURL: "nats-route://self:6222/",
			PinnedAccounts: []string{"P"}}, env.NewPRNG(1))
		if err != nil {
			t.Fatal(err)
		}
		r.Subscribe("$G", "foo", "", 1)
		r.Subscribe("$G", "bar", "q", 1)
		r.Subscribe("P", "foo", "", 1)
		var id route.ConnID
		switch {
		case dial && cut&0x80 != 0:
			id, _ = r.DialAccount("nats-route://p:6222/", "P")
			r.Connected(id, 0)
		case dial:
			id, _ = r.Dial("nats-route://p:6222/")
			r.Connected(id, 0)
		default:
			id, _ = r.Accept(0)
		}
		step := int(cut&0x7f)%16 + 1
		for len(input) > 0 && r.Conn(id).Live() {
			n := min(step, len(input))
			r.Receive(id, 0, input[:n])
			input = input[n:]
			r.Publish(&route.Message{Account: "$G", Subject: []byte("foo"), Hdr: -1}, nil)
			r.Publish(&route.Message{Account: "P", Subject: []byte("foo"), Hdr: -1}, nil)
		}
		rd := r.Ready()
		if c := r.Conn(id); !c.Live() && len(rd.Closes) == 0 {
			t.Fatalf("conn %d is %v but no close was asked for", id, c.Phase())
		}
		r.Closed(id)
		if len(r.Peers()) != 0 {
			t.Fatalf("peers %v after the only route closed", r.Peers())
		}
	})
}
