package fuzz

import (
	"testing"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/route"
	"github.com/petrel-io/petrel/core/s2stream"
)

// FuzzRouter: whatever a peer sends, on an accepted or a dialled route (a pool connection,
// or with cut's bit 0x20 account P's dedicated one), before or after the handshake, with
// route authorization required or not (cut's high bit) and compression asked for or not
// (cut's bit 0x40: the peer's bytes turn compressed, so the rest of the input meets the
// route's S2 decoder), the router never panics (its invariants are asserted after every
// step) and the connection ends up established, in its handshake, or closing with a
// reason; a tick past the auth timeout never leaves an unauthenticated accepted route
// waiting; its stats (for /routez) list it exactly when it is established.
func FuzzRouter(f *testing.F) {
	const connect = "CONNECT {\"echo\":true,\"headers\":true,\"name\":\"NPEER\",\"cluster\":\"c1\",\"lnoc\":true}\r\n"
	const info = "INFO {\"server_id\":\"NPEER\",\"server_name\":\"p\",\"cluster\":\"c1\",\"ip\":\"nats-route://p:6222/\",\"nonce\":\"x\",\"lnocu\":true} \r\n"
	f.Add([]byte(connect+info+"RS+ $G foo\r\nRS+ $G bar q 3\r\nRMSG $G foo | q 2\r\nhi\r\nRS- $G bar q\r\nPING\r\n"), false, uint8(3))
	f.Add([]byte(info+"LS+ leaf $G a.>\r\nLMSG leaf $G a.b 0 2\r\nhi\r\nINFO {\"server_id\":\"NOTHER\",\"ip\":\"nats-route://o:6222/\"}\r\n"), true, uint8(1))
	f.Add([]byte(connect+info+"RS+ $G foo..bar\r\nRS+ $G > q 0\r\n-ERR 'x'\r\n"), false, uint8(7))
	f.Add([]byte("INFO {\"server_id\":\"NSELF\"}\r\n"), true, uint8(2))
	const authed = "CONNECT {\"user\":\"ru\",\"pass\":\"s3cr3t\",\"name\":\"NPEER\",\"cluster\":\"c1\"}\r\n"
	f.Add([]byte(authed+info+"RS+ $G foo\r\n"), false, uint8(0x83))
	f.Add([]byte("CONNECT {\"user\":\"ru\",\"pass\":\"nope\",\"name\":\"NPEER\",\"cluster\":\"c1\"}\r\n"+info), false, uint8(0x85))
	const s2info = "INFO {\"server_id\":\"NPEER\",\"cluster\":\"c1\",\"compression\":\"s2_best\"}\r\n"
	frame := s2stream.NewEncoder(s2stream.Fast).Append(nil, []byte("RS+ $G foo\r\nRMSG $G foo 2\r\nhi\r\nPING\r\n"))
	f.Add(append([]byte(s2info), frame...), true, uint8(0x43))
	f.Add(append([]byte(connect+s2info+s2info), frame...), false, uint8(0x45))
	const pooled = "INFO {\"server_id\":\"NPEER\",\"cluster\":\"c1\",\"route_pool_size\":3,\"route_pool_idx\":1,\"lnocu\":true}\r\n"
	const pinned = "INFO {\"server_id\":\"NPEER\",\"cluster\":\"c1\",\"route_pool_size\":3,\"route_account\":\"P\"}\r\n"
	f.Add([]byte(connect+pooled+"RS+ $G foo\r\nRMSG $G foo 2\r\nhi\r\n"), false, uint8(5))
	f.Add([]byte(connect+pinned+"RS+ foo\r\nRS+ bar q 2\r\nRMSG foo | q 2\r\nhi\r\nLS+ leaf foo\r\n"), false, uint8(4))
	f.Add([]byte(pooled+"RS+ P foo\r\n"), true, uint8(0x23))
	f.Add([]byte(pooled), true, uint8(6))
	f.Fuzz(func(t *testing.T, input []byte, dial bool, cut uint8) {
		cfg := route.Config{ServerID: "NSELF", ServerName: "self", Cluster: "c1", RouteURL: "nats-route://self:6222/",
			PinnedAccounts: []string{"P"}}
		if cut&0x80 != 0 {
			cfg.Auth = route.Credentials{User: "ru", Pass: "s3cr3t"}
		}
		if cut&0x40 != 0 {
			cfg.Compression = route.CompressionS2Fast
		}
		r, err := route.NewRouter(cfg, env.NewPRNG(1))
		if err != nil {
			t.Fatal(err)
		}
		r.Subscribe("$G", "foo", "", 1)
		r.Subscribe("$G", "bar", "q", 1)
		r.Subscribe("P", "foo", "", 1)
		var id route.ConnID
		switch {
		case dial && cut&0x20 != 0:
			id, _ = r.DialAccount("nats-route://p:6222/", "P")
			r.Connected(id, 0)
		case dial:
			id, _ = r.Dial("nats-route://p:6222/")
			r.Connected(id, 0)
		default:
			id, _ = r.Accept(0)
		}
		step := int(cut&0x1f)%16 + 1
		for len(input) > 0 && r.Conn(id).Live() {
			n := min(step, len(input))
			r.Receive(id, 0, input[:n])
			input = input[n:]
			r.Publish(&route.Message{Account: "$G", Subject: []byte("foo"), Hdr: -1}, nil)
			r.Publish(&route.Message{Account: "P", Subject: []byte("foo"), Hdr: -1}, nil)
		}
		if cfg.Auth.User != "" {
			r.Tick(route.DefaultAuthTimeout)
			if c := r.Conn(id); c.Live() && c.Phase() == route.PhaseAwaitConnect {
				t.Fatalf("conn %d still awaits CONNECT past the auth timeout", id)
			}
		}
		rd := r.Ready()
		stats := r.Stats(true)
		if established := r.Conn(id).Phase() == route.PhaseEstablished; established != (len(stats) == 1) {
			t.Fatalf("conn in phase %v, stats list %d routes", r.Conn(id).Phase(), len(stats))
		}
		for _, st := range stats {
			if st.InMsgs < 0 || st.InBytes < 0 || st.NumSubs != len(st.Subs) {
				t.Fatalf("stats %+v", st)
			}
		}
		if c := r.Conn(id); !c.Live() && len(rd.Closes) == 0 {
			t.Fatalf("conn %d is %v but no close was asked for", id, c.Phase())
		}
		r.Closed(id)
		if len(r.Peers()) != 0 {
			t.Fatalf("peers %v after the only route closed", r.Peers())
		}
	})
}
