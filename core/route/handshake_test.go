package route

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/proto"
)

const peerID = "NPEER"

func newTestRouter(t *testing.T, configure func(*Config)) *Router {
	t.Helper()
	cfg := Config{ServerID: "NSELF", ServerName: "self", Cluster: "c1", RouteURL: "nats-route://self:6222/",
		ClientURLs: []string{"self:4222"}}
	if configure != nil {
		configure(&cfg)
	}
	r, err := NewRouter(cfg, env.NewPRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func infoLine(info proto.RouteInfo) []byte {
	b, _ := json.Marshal(&info)
	return proto.AppendInfo(nil, b)
}

func connectLine(c proto.RouteConnect) []byte {
	b, _ := json.Marshal(&c)
	return proto.AppendConnect(nil, b)
}

func peerInfo() proto.RouteInfo {
	return proto.RouteInfo{ID: peerID, Name: "peer", Cluster: "c1", IP: "nats-route://peer:6222/",
		Nonce: "zzz", ConnectURLs: []string{"peer:4222"}, LNOC: true, LNOCU: true}
}

// accepted returns a router with an accepted route that got data (the peer's CONNECT and
// INFO unless data says otherwise), and the Ready after it.
func accepted(t *testing.T, r *Router, data ...[]byte) (ConnID, Ready) {
	t.Helper()
	id, err := r.Accept(0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range data {
		r.Receive(id, 0, d)
	}
	return id, r.Ready()
}

func written(rd Ready, id ConnID) string {
	var b strings.Builder
	for _, w := range rd.Writes {
		if w.Conn == id {
			b.Write(w.Bytes)
		}
	}
	return b.String()
}

func closeOf(rd Ready, id ConnID) (Close, bool) {
	for _, c := range rd.Closes {
		if c.Conn == id {
			return c, true
		}
	}
	return Close{}, false
}

func TestHandshake(t *testing.T) {
	okConnect := connectLine(proto.RouteConnect{Echo: true, Headers: true, Name: peerID, Cluster: "c1", LNOC: true})
	self := peerInfo()
	self.ID = "NSELF"
	otherCluster := peerInfo()
	otherCluster.Cluster = "c2"
	sameName := peerInfo()
	sameName.Name = "self"
	tests := []struct {
		name      string
		solicited bool
		data      [][]byte
		wantPhase Phase
		wantErr   string // -ERR text written, "" for none
		reason    CloseReason
		retry     bool
	}{
		{name: "accepted route is established by CONNECT then INFO", data: [][]byte{okConnect, infoLine(peerInfo())}, wantPhase: PhaseEstablished},
		{name: "solicited route is established by INFO", solicited: true, data: [][]byte{infoLine(peerInfo())}, wantPhase: PhaseEstablished},
		{name: "CONNECT with another cluster name is rejected with nats-server's -ERR",
			data:    [][]byte{connectLine(proto.RouteConnect{Name: peerID, Cluster: "c2"})},
			wantErr: `Rejecting connection, cluster name "c2" does not match "c1"`, reason: ReasonClusterNameConflict},
		{name: "INFO with another cluster name closes a solicited route without -ERR, redialled",
			solicited: true, data: [][]byte{infoLine(otherCluster)}, reason: ReasonClusterNameConflict, retry: true},
		{name: "route to ourselves is dropped and not redialled", solicited: true, data: [][]byte{infoLine(self)}, reason: ReasonRouteToSelf},
		{name: "accepted route from a server with our name is dropped",
			data: [][]byte{okConnect, infoLine(sameName)}, reason: ReasonDuplicateServerName},
		{name: "INFO naming another server than CONNECT did is a protocol violation",
			data: [][]byte{connectLine(proto.RouteConnect{Name: "NOTHER", Cluster: "c1"}), infoLine(peerInfo())}, reason: ReasonProtocolViolation},
		{name: "an op before CONNECT on an accepted route is an Authorization Violation (nats-server 2.15.2)",
			data: [][]byte{[]byte("RS+ $G foo\r\n")}, wantErr: "Authorization Violation", reason: ReasonAuthenticationFailure},
		{name: "INFO before CONNECT too", data: [][]byte{infoLine(peerInfo())}, wantErr: "Authorization Violation", reason: ReasonAuthenticationFailure},
		{name: "RMSG before INFO is a protocol violation", solicited: true,
			data: [][]byte{[]byte("RMSG $G foo 2\r\nhi\r\n")}, reason: ReasonProtocolViolation, retry: true},
		{name: "unknown op gets nats-server's -ERR", solicited: true, data: [][]byte{infoLine(peerInfo()), []byte("FOO bar\r\n")},
			wantErr: "Unknown Protocol Operation", reason: ReasonParseError, retry: true},
		{name: "INFO that is not JSON is a parse error", solicited: true, data: [][]byte{[]byte("INFO {nope\r\n")}, reason: ReasonParseError, retry: true},
		{name: "-ERR from the peer closes the route", solicited: true, data: [][]byte{infoLine(peerInfo()), []byte("-ERR 'boom'\r\n")},
			reason: ReasonPeerError, retry: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newTestRouter(t, nil)
			var id ConnID
			if tc.solicited {
				id, _ = r.Dial("nats-route://peer:6222/")
				r.Connected(id, 0)
			} else {
				id, _ = r.Accept(0)
			}
			for _, d := range tc.data {
				r.Receive(id, 0, d)
			}
			rd := r.Ready()
			if tc.reason == ReasonNone {
				if c := r.Conn(id); c == nil || c.Phase() != tc.wantPhase {
					t.Fatalf("phase %v, want %v (closes %v)", r.Conn(id).Phase(), tc.wantPhase, rd.Closes)
				}
				return
			}
			cl, ok := closeOf(rd, id)
			if !ok || cl.Reason != tc.reason || cl.Retry != tc.retry {
				t.Fatalf("close %+v (found %v), want reason %v retry %v", cl, ok, tc.reason, tc.retry)
			}
			errLine := ""
			if tc.wantErr != "" {
				errLine = "-ERR '" + tc.wantErr + "'\r\n"
			}
			if got := written(rd, id); !strings.HasSuffix(got, errLine) || (errLine == "" && strings.Contains(got, "-ERR")) {
				t.Fatalf("wrote %q, want it to end with %q", got, errLine)
			}
			if r.Conn(id).Live() || len(r.Peers()) != 0 {
				t.Fatalf("conn still live (%v) or registered (%v)", r.Conn(id).Phase(), r.Peers())
			}
			r.Closed(id)
			if r.Conn(id) != nil {
				t.Fatal("closed conn kept")
			}
		})
	}
}

// TestHandshakeWrites: without pooling the dialer writes CONNECT then INFO at once, the
// acceptor INFO, each with nats-server's fields, and the first thing after registration is
// the interest dump (pool_test.go has the pooled forms).
func TestHandshakeWrites(t *testing.T) {
	r := newTestRouter(t, func(c *Config) { c.PoolSize = -1 })
	r.Subscribe("A", "foo", "", 1)
	r.Subscribe("A", "bar", "q1", 1)
	r.Subscribe("A", "bar", "q1", 1)
	r.Subscribe("B", "baz", "", 1)
	r.Subscribe("A", "foo", "", 1) // a second subscriber: no new RS+
	id, _ := r.Dial("nats-route://peer:6222/")
	r.Connected(id, 0)
	got := written(r.Ready(), id)
	lines := strings.SplitAfter(got, "\r\n")
	if !strings.HasPrefix(lines[0], `CONNECT {"echo":true,"verbose":false,"pedantic":false,"tls_required":false,"headers":true,"name":"NSELF","cluster":"c1","lnoc":true}`) {
		t.Fatalf("first line %q", lines[0])
	}
	var info proto.RouteInfo
	if err := json.Unmarshal([]byte(strings.TrimSuffix(strings.TrimPrefix(lines[1], "INFO "), " \r\n")), &info); err != nil {
		t.Fatalf("INFO line %q: %v", lines[1], err)
	}
	if info.ID != "NSELF" || info.Cluster != "c1" || info.IP != "nats-route://self:6222/" || info.Nonce == "" ||
		!info.LNOC || !info.LNOCU || len(info.ConnectURLs) != 1 || info.RoutePoolSize != 0 {
		t.Fatalf("INFO %+v", info)
	}
	r.Receive(id, 0, infoLine(peerInfo()))
	want := "RS+ A bar q1 2\r\nRS+ A foo\r\nRS+ B baz\r\n"
	if got := written(r.Ready(), id); got != want {
		t.Fatalf("interest dump %q, want %q", got, want)
	}
}

func TestPingsAndStale(t *testing.T) {
	r := newTestRouter(t, func(c *Config) { c.PingInterval = 10 * time.Minute }) // capped at 30s
	id, _ := r.Dial("nats-route://peer:6222/")
	r.Connected(id, 0)
	r.Receive(id, 0, infoLine(peerInfo()))
	r.Ready()
	steps := []struct {
		at   time.Duration
		pong bool
		want string
	}{
		{at: 999 * time.Millisecond, want: ""},
		{at: time.Second, want: "PING\r\n"},          // the first ping comes after a second
		{at: 30 * time.Second, want: ""},             // next one 30s later, not 10m
		{at: 31 * time.Second, pong: true, want: ""}, // answered: the count starts again
		{at: 31 * time.Second, want: "PING\r\n"},     // 1 out
		{at: 61 * time.Second, want: "PING\r\n"},     // 2 out
		{at: 91 * time.Second, want: "-ERR 'Stale Connection'\r\n"},
	}
	for i, s := range steps {
		if s.pong {
			r.Receive(id, s.at, []byte("PONG\r\n"))
			steps[i].at = 0
			continue
		}
		r.Tick(s.at)
		rd := r.Ready()
		if got := written(rd, id); got != s.want {
			t.Fatalf("at %v wrote %q, want %q", s.at, got, s.want)
		}
	}
	if c := r.Conn(id); c.Live() {
		t.Fatal("stale route still live")
	}
	r2 := newTestRouter(t, nil)
	id2, _ := r2.Dial("x")
	r2.Connected(id2, 0)
	r2.Receive(id2, 0, []byte("PING\r\n"))
	if got := written(r2.Ready(), id2); !strings.HasSuffix(got, "PONG\r\n") {
		t.Fatalf("PING answered with %q", got)
	}
}

func TestInterestFromPeer(t *testing.T) {
	r := newTestRouter(t, nil)
	id, _ := r.Dial("nats-route://peer:6222/")
	r.Connected(id, 0)
	r.Receive(id, 0, infoLine(peerInfo()))
	r.Ready()
	steps := []struct {
		ops     string
		want    []InterestChange
		written string
	}{
		{ops: "RS+ A foo.*\r\n", want: []InterestChange{{Account: "A", Subject: "foo.*", Weight: 1}}},
		{ops: "RS+ A foo.*\r\n"}, // again: nothing changes
		{ops: "RS+ A bar q1 2\r\n", want: []InterestChange{{Account: "A", Subject: "bar", Queue: "q1", Weight: 2}}},
		{ops: "RS+ A bar q1 5\r\n", want: []InterestChange{{Account: "A", Subject: "bar", Queue: "q1", Weight: 5}}},
		{ops: "RS- A bar q1\r\n", want: []InterestChange{{Account: "A", Subject: "bar", Queue: "q1"}}},
		{ops: "RS- A nothing\r\n"},
		{ops: "RS+ A foo..bar\r\n", written: "-ERR 'Invalid Subscription'\r\n"},
		{ops: "LS+ leafy A foo.*\r\n", want: []InterestChange{{Account: "A", Subject: "foo.*", Weight: 1}}},
	}
	for _, s := range steps {
		r.Receive(id, 0, []byte(s.ops))
		rd := r.Ready()
		for i := range rd.Interest {
			rd.Interest[i].Conn, rd.Interest[i].Peer = 0, ""
		}
		if fmt.Sprint(rd.Interest) != fmt.Sprint(s.want) || written(rd, id) != s.written {
			t.Fatalf("%q: interest %v written %q, want %v %q", s.ops, rd.Interest, written(rd, id), s.want, s.written)
		}
	}
	if res := r.remote.match("A", []byte("foo.x")); res == nil || len(res.Plain) != 2 {
		t.Fatalf("foo.x matches %v, want the plain entry and the leaf's", res)
	}
	r.SetPeerLeafUnsubWithoutOriginForTest(id)
	r.Receive(id, 0, []byte("LS+ leafy A foo.*\r\nLS- A foo.*\r\n")) // no origin: every leaf entry on foo.* goes
	if res := r.remote.match("A", []byte("foo.x")); res == nil || len(res.Plain) != 1 {
		t.Fatalf("after an LS- without origin foo.x matches %v, want the plain entry only", res)
	}
	r.Ready()
	if res := r.remote.match("B", []byte("foo.x")); res != nil && !res.Empty() {
		t.Fatalf("account B sees account A's interest: %v", res)
	}
	r.Receive(id, 0, []byte("-ERR 'bye'\r\n"))
	rd := r.Ready()
	if len(rd.Interest) != 1 || rd.Interest[0].Weight != 0 || r.remote.count(id) != 0 {
		t.Fatalf("closing the route left interest: changes %v, count %d", rd.Interest, r.remote.count(id))
	}
}

func TestRoutedMessageIsDeliveredNotForwarded(t *testing.T) {
	r := newTestRouter(t, nil)
	a, _ := accepted(t, r, connectLine(proto.RouteConnect{Name: "NA", Cluster: "c1"}), infoLine(proto.RouteInfo{ID: "NA", Cluster: "c1"}))
	b, _ := accepted(t, r, connectLine(proto.RouteConnect{Name: "NB", Cluster: "c1"}), infoLine(proto.RouteInfo{ID: "NB", Cluster: "c1"}))
	r.Receive(b, 0, []byte("RS+ $G foo\r\n"))
	r.Ready()
	r.Receive(a, 0, []byte("RMSG $G foo + _INBOX.1 q1 q2 5\r\nhello\r\nHMSG $G foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"))
	rd := r.Ready()
	if len(rd.Writes) != 0 {
		t.Fatalf("a routed message went out again: %v", rd.Writes)
	}
	want := fmt.Sprint([]Delivery{
		{From: a, Account: "$G", Subject: []byte("foo"), Reply: []byte("_INBOX.1"), Queues: []string{"q1", "q2"}, Hdr: -1, Payload: []byte("hello")},
		{From: a, Account: "$G", Subject: []byte("foo"), Hdr: 12, Payload: []byte("NATS/1.0\r\n\r\nhi")},
	})
	if fmt.Sprint(rd.Deliveries) != want {
		t.Fatalf("deliveries %v, want %v", rd.Deliveries, want)
	}
}

// TestDeliveriesOfSeveralReads: a host may Receive several reads before it calls Ready;
// the deliveries of each read keep their bytes (they share the router's arena), and so do
// those of a message split across reads.
func TestDeliveriesOfSeveralReads(t *testing.T) {
	r := newTestRouter(t, nil)
	a, _ := accepted(t, r, connectLine(proto.RouteConnect{Name: "NA", Cluster: "c1"}), infoLine(proto.RouteInfo{ID: "NA", Cluster: "c1"}))
	r.Ready()
	r.Receive(a, 0, []byte("RMSG $G foo | q1 5\r\nfirst\r\nRMSG $G bar 6\r\nsec"))
	r.Receive(a, 0, []byte("ond\r\nRMSG $G baz + _INBOX.9 q2 5\r\nthird\r\n"))
	got := fmt.Sprint(r.Ready().Deliveries)
	want := fmt.Sprint([]Delivery{
		{From: a, Account: "$G", Subject: []byte("foo"), Queues: []string{"q1"}, Hdr: -1, Payload: []byte("first")},
		{From: a, Account: "$G", Subject: []byte("bar"), Hdr: -1, Payload: []byte("second")},
		{From: a, Account: "$G", Subject: []byte("baz"), Reply: []byte("_INBOX.9"), Queues: []string{"q2"}, Hdr: -1, Payload: []byte("third")},
	})
	if got != want {
		t.Fatalf("deliveries\n%s\nwant\n%s", got, want)
	}
	r.Receive(a, 0, []byte("RMSG $G next 4\r\nnext\r\n"))
	if got := fmt.Sprint(r.Ready().Deliveries); got != fmt.Sprint([]Delivery{{From: a, Account: "$G", Subject: []byte("next"), Hdr: -1, Payload: []byte("next")}}) {
		t.Fatalf("after Ready: %s", got)
	}
}
