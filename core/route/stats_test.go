package route

import (
	"fmt"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/proto"
)

// TestStats follows one dialled and one accepted route through their handshakes, interest,
// routed messages both ways and a PING's round trip, and checks what Stats reports.
func TestStats(t *testing.T) {
	r := newTestRouter(t, nil)
	if got := r.Stats(true); len(got) != 0 {
		t.Fatalf("stats before any route: %v", got)
	}
	d, _ := r.Dial("nats-route://peer:6222/")
	r.Connected(d, 2*time.Second)
	pending, _ := r.Dial("nats-route://other:6222/") // in its handshake: not reported
	r.Connected(pending, 2*time.Second)
	r.Receive(d, 3*time.Second, infoLine(peerInfo()))
	a, _ := r.Accept(4 * time.Second)
	r.Receive(a, 4*time.Second, append(connectLine(proto.RouteConnect{Name: "NB", Cluster: "c1"}),
		infoLine(proto.RouteInfo{ID: "NB", Name: "b", Cluster: "c1"})...))
	r.Receive(d, 5*time.Second, []byte("RS+ A foo.*\r\nRS+ A bar q1 3\r\nRS+ B baz\r\n"))
	r.Receive(a, 5*time.Second, []byte("RMSG A x 5\r\nhello\r\nHMSG A y 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"))
	r.Tick(6 * time.Second) // the first PINGs go out (both routes are past their first second)
	r.Receive(d, 6*time.Second+250*time.Millisecond, []byte("PONG\r\n"))
	r.Publish(&Message{Account: "A", Subject: []byte("foo.1"), Hdr: -1, Payload: []byte("1234567")}, nil)
	r.Publish(&Message{Account: "A", Subject: []byte("nobody"), Hdr: -1, Payload: []byte("12")}, nil)
	r.Ready()

	got := r.Stats(true)
	want := []ConnStats{
		{Conn: d, Peer: peerID, PeerName: "peer", Solicited: true, URL: "nats-route://peer:6222/", PeerURL: "nats-route://peer:6222/",
			Start: 2 * time.Second, LastActivity: 6*time.Second + 250*time.Millisecond, RTT: 250 * time.Millisecond,
			OutMsgs: 1, OutBytes: 7, NumSubs: 3, Subs: []RemoteInterest{
				{Account: "A", Subject: "bar", Queue: "q1", Weight: 3}, {Account: "A", Subject: "foo.*", Weight: 1},
				{Account: "B", Subject: "baz", Weight: 1}}},
		{Conn: a, Peer: "NB", PeerName: "b", Start: 4 * time.Second, LastActivity: 5 * time.Second,
			InMsgs: 2, InBytes: 19, Subs: []RemoteInterest{}},
	}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Fatalf("stats:\n got %+v\nwant %+v", got, want)
	}
	if plain := r.Stats(false); plain[0].Subs != nil || plain[0].NumSubs != 3 {
		t.Fatalf("stats without subs: %+v", plain[0])
	}
	r.Receive(d, 7*time.Second, []byte("-ERR 'bye'\r\n"))
	if got := r.Stats(false); len(got) != 1 || got[0].Conn != a {
		t.Fatalf("after the dialled route closed: %+v", got)
	}
}
