package route

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/proto"
)

// Account names and their pool index with nats-server's FNV-1a, pool size 3: A, B and $SYS
// go to 0, C to 1, $G to 2.

const peerURL = "nats-route://peer:6222/"

func pooledPeerInfo(size, idx int, account string) proto.RouteInfo {
	info := peerInfo()
	info.RoutePoolSize, info.RoutePoolIdx, info.RouteAccount = size, idx, account
	return info
}

func TestAccountHashIsFNV1a(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		name := rapid.String().Draw(t, "name")
		h := fnv.New32a()
		h.Write([]byte(name))
		if got, want := accountHash(name), h.Sum32(); got != want {
			t.Fatalf("accountHash(%q) = %d, FNV-1a says %d", name, got, want)
		}
	})
	for name, want := range map[string]uint32{"A": 0, "B": 0, "$SYS": 0, "C": 1, "$G": 2} {
		if got := accountHash(name) % 3; got != want {
			t.Fatalf("%s at index %d of 3, want %d", name, got, want)
		}
	}
}

// TestPoolHandshake: where a connection goes in its peer's pool, and nats-server's
// refusals.
func TestPoolHandshake(t *testing.T) {
	okConnect := connectLine(proto.RouteConnect{Echo: true, Headers: true, Name: peerID, Cluster: "c1", LNOC: true})
	tests := []struct {
		name      string
		pool      int      // our pool size (0: the default 3)
		pinned    []string // our pinned accounts
		dial      string   // "" accepted, "pool" or the pinned account dialled
		info      proto.RouteInfo
		wantSlot  int
		wantAcct  string
		wantErr   string
		reason    CloseReason
		retry     bool
		wantPeers int
	}{
		{name: "accepted pool connection goes at the index the dialer names", info: pooledPeerInfo(3, 2, ""), wantSlot: 2},
		{name: "dialled pool connection takes index 0 first", dial: "pool", info: pooledPeerInfo(3, 0, ""), wantSlot: 0},
		{name: "accepted pinned connection for an account we pin", pinned: []string{"P"}, info: pooledPeerInfo(3, 0, "P"), wantSlot: -1, wantAcct: "P"},
		{name: "dialled pinned connection", pinned: []string{"P"}, dial: "P", info: pooledPeerInfo(3, 0, ""), wantSlot: -1, wantAcct: "P"},
		{name: "a peer that does not pool gets one connection for everything", info: peerInfo(), wantSlot: 0},
		{name: "without pooling here, a pooled peer's connection is the only one", pool: -1, info: pooledPeerInfo(3, 0, ""), wantSlot: 0},
		{name: "pool sizes may differ (nats-server 2.15.2 accepts it)", info: pooledPeerInfo(4, 3, ""), wantSlot: 3},
		{name: "accepted pinned connection for an account we do not pin", info: pooledPeerInfo(3, 0, "X"),
			wantErr: `No route for account "X"`, reason: ReasonProtocolViolation},
		{name: "accepted pinned connection without pooling here", pool: -1, info: pooledPeerInfo(3, 0, "X"),
			wantErr: `Not possible to have a dedicated route for account "X" between those servers`, reason: ReasonPoolRefused},
		{name: "dialled pinned connection to a peer without pooling is not redialled", pinned: []string{"P"}, dial: "P", info: peerInfo(),
			wantErr: `Not possible to have a dedicated route for account "P" between those servers`, reason: ReasonPoolRefused},
		{name: "the accepting side names no index", dial: "pool", info: pooledPeerInfo(3, 2, ""),
			wantErr: "Route pool index should not be set but is set to 2", reason: ReasonProtocolViolation, retry: true},
		{name: "an index past the dialer's pool size", info: pooledPeerInfo(3, 5, ""),
			wantErr: "Invalid route pool index: 5 - pool size is 3", reason: ReasonProtocolViolation},
		{name: "a negative index", info: pooledPeerInfo(3, -1, ""),
			wantErr: "Invalid route pool index: -1 - pool size is 3", reason: ReasonProtocolViolation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newTestRouter(t, func(c *Config) { c.PoolSize, c.PinnedAccounts = tc.pool, tc.pinned })
			var id ConnID
			switch tc.dial {
			case "":
				id, _ = accepted(t, r, okConnect)
			case "pool":
				id, _ = r.Dial(peerURL)
				r.Connected(id, 0)
			default:
				var err error
				if id, err = r.DialAccount(peerURL, tc.dial); err != nil {
					t.Fatal(err)
				}
				r.Connected(id, 0)
			}
			r.Receive(id, 0, infoLine(tc.info))
			rd := r.Ready()
			c := r.Conn(id)
			if tc.reason == ReasonNone {
				if c.Phase() != PhaseEstablished || c.slot != tc.wantSlot || c.account != tc.wantAcct || c.mode.Account != tc.wantAcct {
					t.Fatalf("phase %v slot %d account %q mode %+v, want established at %d %q (closes %v)", c.Phase(), c.slot, c.account, c.mode, tc.wantSlot, tc.wantAcct, rd.Closes)
				}
				return
			}
			cl, ok := closeOf(rd, id)
			if !ok || cl.Reason != tc.reason || cl.Retry != tc.retry {
				t.Fatalf("close %+v (found %v), want reason %v retry %v", cl, ok, tc.reason, tc.retry)
			}
			if got := written(rd, id); !strings.HasSuffix(got, "-ERR '"+tc.wantErr+"'\r\n") {
				t.Fatalf("wrote %q, want -ERR %q", got, tc.wantErr)
			}
			if len(r.Peers()) != 0 {
				t.Fatalf("refused conn registered: %v", r.Peers())
			}
		})
	}
}

// dialPool dials a pool (or pinned) connection to the peer, answers with the peer's INFO
// and returns what the router wrote on it and the Ready.
func dialPool(t *testing.T, r *Router, id ConnID, info proto.RouteInfo) (string, Ready) {
	t.Helper()
	r.Connected(id, 0)
	r.Receive(id, 0, infoLine(info))
	rd := r.Ready()
	return written(rd, id), rd
}

func sentInfo(t *testing.T, line string) proto.RouteInfo {
	t.Helper()
	var info proto.RouteInfo
	if !strings.HasPrefix(line, "INFO ") {
		t.Fatalf("%q is not an INFO", line)
	}
	if err := json.Unmarshal([]byte(strings.TrimSuffix(strings.TrimPrefix(line, "INFO "), " \r\n")), &info); err != nil {
		t.Fatal(err)
	}
	return info
}

// TestPoolOpensAndWrites: the dialer writes CONNECT alone on a pool connection, and its
// INFO (with route_pool_size and the index chosen) after the peer's; each connection gets
// the interest of its accounts only; each registration opens the pool's next connection,
// the first one the pinned accounts' too, whose INFO goes out at once with route_account,
// and whose ops leave the account out.
func TestPoolOpensAndWrites(t *testing.T) {
	r := newTestRouter(t, func(c *Config) { c.PinnedAccounts = []string{"P"} })
	for _, acc := range []string{"A", "C", "$G", "P"} {
		r.Subscribe(acc, "foo", "", 1)
	}
	r.Subscribe("A", "bar", "q1", 1)
	first, _ := r.Dial(peerURL)
	r.Connected(first, 0)
	if got := written(r.Ready(), first); !strings.HasPrefix(got, "CONNECT ") || strings.Count(got, "\r\n") != 1 {
		t.Fatalf("a dialled pool connection wrote %q before the peer's INFO, want CONNECT alone", got)
	}
	wantDumps := []string{"RS+ A bar q1 1\r\nRS+ A foo\r\n", "RS+ C foo\r\n", "RS+ $G foo\r\n"}
	id := first
	for slot, dump := range wantDumps {
		if slot > 0 {
			r.Connected(id, 0)
			r.Ready()
		}
		r.Receive(id, 0, infoLine(pooledPeerInfo(3, 0, "")))
		rd := r.Ready()
		lines := strings.SplitAfterN(written(rd, id), "\r\n", 2)
		info := sentInfo(t, lines[0])
		if info.RoutePoolSize != 3 || info.RoutePoolIdx != slot || info.RouteAccount != "" || info.Nonce == "" {
			t.Fatalf("conn %d INFO %+v, want pool size 3 index %d", id, info, slot)
		}
		if lines[1] != dump {
			t.Fatalf("index %d interest %q, want %q", slot, lines[1], dump)
		}
		var opens []string
		for _, o := range rd.Opens {
			opens = append(opens, fmt.Sprintf("%s %q", o.URL, o.Account))
		}
		want := []string{fmt.Sprintf("%s %q", peerURL, "")}
		switch slot {
		case 0:
			want = append(want, fmt.Sprintf("%s %q", peerURL, "P"))
		case 2:
			want = nil
		}
		if !slices.Equal(opens, want) {
			t.Fatalf("after index %d opens %v, want %v", slot, opens, want)
		}
		if slot == 0 {
			pinned := rd.Opens[1].Conn
			r.Connected(pinned, 0)
			lines := strings.SplitAfter(written(r.Ready(), pinned), "\r\n")
			if info := sentInfo(t, lines[1]); info.RouteAccount != "P" || info.RoutePoolIdx != 0 {
				t.Fatalf("pinned INFO %+v, want route_account P sent with CONNECT", info)
			}
			r.Receive(pinned, 0, infoLine(pooledPeerInfo(3, 0, "")))
			if got := written(r.Ready(), pinned); got != "RS+ foo\r\n" {
				t.Fatalf("pinned interest %q, want the account left out", got)
			}
		}
		if len(rd.Opens) > 0 {
			id = rd.Opens[0].Conn
		}
	}
	if got := len(r.PeerConns(peerID)); got != 4 {
		t.Fatalf("%d connections to the peer, want 3 pooled and 1 pinned", got)
	}
	if !r.Routed(peerURL) || !r.RoutedAccount(peerURL, "P") {
		t.Fatal("a complete pool is not Routed")
	}
}

// poolPeer is a router with an accepted pool of 3 from the peer, and P pinned.
func poolPeer(t *testing.T) (*Router, []ConnID, ConnID) {
	t.Helper()
	r := newTestRouter(t, func(c *Config) { c.PinnedAccounts = []string{"P"} })
	okConnect := connectLine(proto.RouteConnect{Name: peerID, Cluster: "c1"})
	var slots []ConnID
	for i := range 3 {
		id, _ := accepted(t, r, okConnect, infoLine(pooledPeerInfo(3, i, "")))
		slots = append(slots, id)
	}
	pinned, _ := accepted(t, r, okConnect, infoLine(pooledPeerInfo(3, 0, "P")))
	return r, slots, pinned
}

// TestPoolForwarding: interest is sent and messages forwarded only on the connection of
// their account; a pinned connection uses the forms without the account; losing one
// connection stops only its accounts' traffic, and its redial gets their interest again.
func TestPoolForwarding(t *testing.T) {
	r, slots, pinned := poolPeer(t)
	r.Receive(slots[0], 0, []byte("RS+ A foo\r\n"))
	r.Receive(slots[1], 0, []byte("RS+ C foo\r\n"))
	r.Receive(slots[2], 0, []byte("RS+ $G foo\r\n"))
	r.Receive(pinned, 0, []byte("RS+ foo\r\n"))
	r.Ready()
	wantOn := map[string]ConnID{"A": slots[0], "C": slots[1], "$G": slots[2], "P": pinned}
	wantMsg := map[string]string{"A": "RMSG A foo 2\r\nhi\r\n", "C": "RMSG C foo 2\r\nhi\r\n", "$G": "RMSG $G foo 2\r\nhi\r\n", "P": "RMSG foo 2\r\nhi\r\n"}
	wantSub := map[string]string{"A": "RS+ A bar\r\n", "C": "RS+ C bar\r\n", "$G": "RS+ $G bar\r\n", "P": "RS+ bar\r\n"}
	for acc, on := range wantOn {
		r.Publish(&Message{Account: acc, Subject: []byte("foo"), Hdr: -1, Payload: []byte("hi")}, nil)
		r.Subscribe(acc, "bar", "", 1)
		rd := r.Ready()
		if len(rd.Writes) != 1 || rd.Writes[0].Conn != on || string(rd.Writes[0].Bytes) != wantMsg[acc]+wantSub[acc] {
			t.Fatalf("account %s: writes %v, want %q then %q on conn %d", acc, rd.Writes, wantMsg[acc], wantSub[acc], on)
		}
	}
	r.Receive(slots[1], 0, []byte("-ERR 'gone'\r\n"))
	rd := r.Ready()
	r.Closed(slots[1])
	if c, _ := closeOf(rd, slots[1]); c.Retry {
		t.Fatalf("an accepted connection is redialled by its dialer, not here: %+v", c)
	}
	if _, ok := r.ConnFor(peerID, "C"); ok {
		t.Fatal("C still has a connection")
	}
	r.Publish(&Message{Account: "C", Subject: []byte("foo"), Hdr: -1, Payload: []byte("hi")}, nil)
	r.Publish(&Message{Account: "A", Subject: []byte("foo"), Hdr: -1, Payload: []byte("hi")}, nil)
	if rd := r.Ready(); len(rd.Writes) != 1 || rd.Writes[0].Conn != slots[0] {
		t.Fatalf("with index 1 down, writes %v: want A's message only", rd.Writes)
	}
	again, rd := accepted(t, r, connectLine(proto.RouteConnect{Name: peerID, Cluster: "c1"}), infoLine(pooledPeerInfo(3, 1, "")))
	if got := written(rd, again); !strings.HasSuffix(got, "RS+ C bar\r\n") || strings.Contains(got, "RS+ A") {
		t.Fatalf("the redialled index 1 got %q, want C's interest only", got)
	}
}

// TestPoolDuplicatesPerIndex: the duplicate rule holds per index and per pinned account: a
// second connection at an index (or for an account) closes one of the two, one at another
// index does not.
func TestPoolDuplicatesPerIndex(t *testing.T) {
	r, slots, pinned := poolPeer(t)
	okConnect := connectLine(proto.RouteConnect{Name: peerID, Cluster: "c1"})
	for _, tc := range []struct {
		info proto.RouteInfo
		old  ConnID
	}{{pooledPeerInfo(3, 1, ""), slots[1]}, {pooledPeerInfo(3, 0, "P"), pinned}} {
		id, rd := accepted(t, r, okConnect, infoLine(tc.info))
		if len(rd.Closes) != 1 || rd.Closes[0].Reason != ReasonDuplicateRoute || (rd.Closes[0].Conn != id && rd.Closes[0].Conn != tc.old) {
			t.Fatalf("a second connection like %+v: closes %v, want one of conns %d, %d", tc.info, rd.Closes, tc.old, id)
		}
		r.Closed(rd.Closes[0].Conn)
	}
	if n := len(r.PeerConns(peerID)); n != 4 {
		t.Fatalf("%d connections left, want 4", n)
	}
	// Every index taken: a pool connection we dial is closed, not redialled.
	id, _ := r.Dial(peerURL)
	_, rd := dialPool(t, r, id, pooledPeerInfo(3, 0, ""))
	if c, ok := closeOf(rd, id); !ok || c.Reason != ReasonPoolFull || c.Retry {
		t.Fatalf("a dial past a full pool: close %+v (%v), want PoolFull without retry", c, ok)
	}
}

// TestPooledPublishAllocatesNothing: forwarding over a pool connection and a pinned one
// (whose RMSG leaves the account out) allocates nothing once warm either.
func TestPooledPublishAllocatesNothing(t *testing.T) {
	if env.Invariants {
		t.Skip("the invariants build checks the whole router on every publish")
	}
	r, slots, pinned := poolPeer(t)
	r.Receive(slots[1], 0, []byte("RS+ C orders.*\r\nRS+ C work q 2\r\n"))
	r.Receive(pinned, 0, []byte("RS+ orders.*\r\n"))
	r.Ready()
	payload := make([]byte, 128)
	msgs := []Message{
		{Account: "C", Subject: []byte("orders.new"), Reply: []byte("_INBOX.1"), Hdr: -1, Payload: payload},
		{Account: "C", Subject: []byte("work"), Hdr: -1, Payload: payload},
		{Account: "P", Subject: []byte("orders.new"), Hdr: -1, Payload: payload},
	}
	written := map[ConnID]int{}
	publish := func() {
		for i := range msgs {
			r.Publish(&msgs[i], nil)
		}
		for _, w := range r.Ready().Writes {
			written[w.Conn] += len(w.Bytes)
		}
	}
	for range 10 {
		publish()
	}
	if allocs := testing.AllocsPerRun(100, publish); allocs != 0 {
		t.Fatalf("%.1f allocations per publish and Ready", allocs)
	}
	if written[slots[1]] == 0 || written[pinned] == 0 || len(written) != 2 {
		t.Fatalf("bytes written per conn %v: want C's pool conn %d and P's %d only", written, slots[1], pinned)
	}
}

// TestPoolPeerChangesItsPoolSize: nats-server reloads pool_size by closing its pool routes
// and dialling them again with the new size, its pinned routes staying up. The new pool is
// refused while a connection of the old one is up, and taken once the old pool is gone.
func TestPoolPeerChangesItsPoolSize(t *testing.T) {
	r, slots, pinned := poolPeer(t)
	okConnect := connectLine(proto.RouteConnect{Name: peerID, Cluster: "c1"})
	early, rd := accepted(t, r, okConnect, infoLine(pooledPeerInfo(4, 3, "")))
	if c, ok := closeOf(rd, early); !ok || c.Reason != ReasonProtocolViolation {
		t.Fatalf("a pool of 4 next to the pool of 3: close %+v (%v), want a refusal", c, ok)
	}
	r.Closed(early)
	for _, id := range slots {
		r.Closed(id)
	}
	r.Ready()
	id, rd := accepted(t, r, okConnect, infoLine(pooledPeerInfo(4, 3, "")))
	if c := r.Conn(id); c.Phase() != PhaseEstablished || c.slot != 3 || len(rd.Closes) != 0 {
		t.Fatalf("the new pool's index 3: phase %v slot %d closes %v", c.Phase(), c.slot, rd.Closes)
	}
	if got, ok := r.ConnFor(peerID, "P"); !ok || got != pinned {
		t.Fatalf("P's pinned route %d %v, want %d kept", got, ok, pinned)
	}
}

// TestSetPoolSize: a reload of the pool size closes the pool connections (a dialled one is
// redialled), keeps the pinned ones, and the new pool takes the new shape: indexes modulo
// the smaller size. Turning pooling on or off is refused.
func TestSetPoolSize(t *testing.T) {
	r, slots, pinned := poolPeer(t)
	if err := r.SetPoolSize(-1); err == nil {
		t.Fatal("turning pooling off was accepted")
	}
	if err := r.SetPoolSize(3); err != nil || len(r.Ready().Closes) != 0 {
		t.Fatalf("the same size: %v", err)
	}
	if err := r.SetPoolSize(2); err != nil {
		t.Fatal(err)
	}
	rd := r.Ready()
	for _, id := range slots {
		if c, ok := closeOf(rd, id); !ok || c.Reason != ReasonPoolResized {
			t.Fatalf("pool conn %d: close %+v (%v), want PoolResized", id, c, ok)
		}
		r.Closed(id)
	}
	if _, ok := closeOf(rd, pinned); ok || len(r.PeerConns(peerID)) != 1 {
		t.Fatalf("the pinned route closed too, or more stayed: %v", r.PeerConns(peerID))
	}
	okConnect := connectLine(proto.RouteConnect{Name: peerID, Cluster: "c1"})
	var again []ConnID
	for i := range 3 { // the peer still pools 3
		id, _ := accepted(t, r, okConnect, infoLine(pooledPeerInfo(3, i, "")))
		again = append(again, id)
	}
	for _, acc := range []string{"A", "C", "$G", "acc1"} {
		if got, ok := r.ConnFor(peerID, acc); !ok || got != again[accountHash(acc)%2] {
			t.Fatalf("%s on conn %d (%v), want index %d of 2", acc, got, ok, accountHash(acc)%2)
		}
	}
	// A dialled pool is redialled (a pool of 1, so that no other dial is on its way).
	d := newTestRouter(t, func(c *Config) { c.PoolSize = 1 })
	id, _ := d.Dial(peerURL)
	if _, rd := dialPool(t, d, id, pooledPeerInfo(3, 0, "")); len(rd.Opens) != 0 {
		t.Fatalf("a pool of 1 opened %v", rd.Opens)
	}
	if err := d.SetPoolSize(2); err != nil {
		t.Fatal(err)
	}
	if c, ok := closeOf(d.Ready(), id); !ok || !c.Retry || c.URL != peerURL {
		t.Fatalf("dialled pool conn: close %+v (%v), want a redial of %s", c, ok, peerURL)
	}
}

// TestCompressingPoolConnsClaimTheirIndexes: two dialled pool connections to one peer that
// both wait for the peer's second INFO (compression) take different indexes; with one index
// for both, the loser of the duplicate rule left the other index empty for good.
func TestCompressingPoolConnsClaimTheirIndexes(t *testing.T) {
	r := newTestRouter(t, func(c *Config) { c.Compression = CompressionS2Fast })
	info := pooledPeerInfo(3, 0, "")
	info.Compression = CompressionS2Fast
	var slots []int
	for range 2 {
		id, err := r.Dial(peerURL)
		if err != nil {
			t.Fatal(err)
		}
		r.Connected(id, 0)
		r.Ready()
		r.Receive(id, 0, infoLine(info))
		rd := r.Ready()
		if c := r.Conn(id); c == nil || c.Phase() != PhaseAwaitSecondInfo {
			t.Fatalf("conn %d is not waiting for the second INFO", id)
		}
		slots = append(slots, sentInfo(t, strings.SplitAfterN(written(rd, id), "\r\n", 2)[0]).RoutePoolIdx)
	}
	if slots[0] == slots[1] {
		t.Fatalf("both waiting pool connections took index %d", slots[0])
	}
}
