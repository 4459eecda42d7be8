package route

import (
	"strings"
	"testing"

	"github.com/petrel-io/petrel/core/proto"
)

// importsFrom is a Shadows for tests: a subscription in account B on a subject that starts
// with one of prefixes is interest in A on the same subject (a stream import of A's
// "<prefix>>" without a transform), and one in C on "c.<subject>" is interest in B on
// "<subject>" (a prefix import).
func importsFrom(prefixes ...string) Shadows {
	return func(account, subject string) []Interest {
		var out []Interest
		switch account {
		case "B":
			for _, p := range prefixes {
				if strings.HasPrefix(subject, p) {
					out = append(out, Interest{Account: "A", Subject: subject})
				}
			}
		case "C":
			if rest, ok := strings.CutPrefix(subject, "c."); ok {
				out = append(out, Interest{Account: "B", Subject: rest})
			}
		}
		return out
	}
}

// TestShadowInterest: a subscription in an importing account is announced as interest in
// the exporter too, with its queue group and weight; the last subscription withdraws what
// the first announced, also after the imports changed; SetShadows announces and withdraws
// what an import change adds and removes, and a new route's dump holds the shadows.
func TestShadowInterest(t *testing.T) {
	r := newTestRouter(t, nil)
	id, _ := accepted(t, r, connectLine(peerConnect()), infoLine(peerInfo()))
	steps := []struct {
		name string
		do   func()
		want string
	}{
		{"no imports: own interest only", func() { r.Subscribe("B", "x.1", "", 1) }, "RS+ B x.1\r\n"},
		{"imports installed: existing subscriptions announce their shadows",
			func() { r.SetShadows(importsFrom("x.")) }, "RS+ A x.1\r\n"},
		{"a second subscriber changes nothing", func() { r.Subscribe("B", "x.1", "", 1) }, ""},
		{"a queue member carries its group to the exporter", func() { r.Subscribe("B", "x.2", "q", 1) },
			"RS+ B x.2 q 1\r\nRS+ A x.2 q 1\r\n"},
		{"and its weight", func() { r.Subscribe("B", "x.2", "q", 1) }, "RS+ B x.2 q 2\r\nRS+ A x.2 q 2\r\n"},
		{"the exporter's own subscription on a shadowed subject is no news", func() { r.Subscribe("A", "x.1", "", 1) }, ""},
		{"nor is its going", func() { r.Subscribe("A", "x.1", "", -1) }, ""},
		{"a chained import", func() { r.Subscribe("C", "c.y", "", 1) }, "RS+ C c.y\r\nRS+ B y\r\n"},
		{"imports changed: withdrawn and announced", func() { r.SetShadows(importsFrom("y")) },
			"RS- A x.1\r\nRS- A x.2 q\r\n"}, // C's shadow in B is not B's subscription: Shadows is transitive itself
		{"the last subscriber withdraws what the first announced", func() {
			r.Subscribe("B", "x.1", "", -1)
			r.Subscribe("B", "x.1", "", -1)
		}, "RS- B x.1\r\n"},
		{"a queue's last member", func() {
			r.Subscribe("B", "x.2", "q", -1)
			r.Subscribe("B", "x.2", "q", -1)
		}, "RS+ B x.2 q 1\r\nRS- B x.2 q\r\n"},
	}
	for _, s := range steps {
		s.do()
		if got := written(r.Ready(), id); got != s.want {
			t.Fatalf("%s: wrote %q, want %q", s.name, got, s.want)
		}
	}
	r.SetShadows(importsFrom("x."))
	r.Subscribe("B", "x.3", "", 1)
	r.Ready()
	id2, rd := accepted(t, r, connectLine(peerConnect2()), infoLine(peerInfo2()))
	want := "RS+ A x.3\r\nRS+ B x.3\r\nRS+ B y\r\nRS+ C c.y\r\n"
	if got := written(rd, id2); !strings.HasSuffix(got, want) {
		t.Fatalf("a new route's dump %q, want it to end with %q", got, want)
	}
	r.SetShadows(nil)
	if got, want := written(r.Ready(), id), "RS- A x.3\r\nRS- B y\r\n"; got != want {
		t.Fatalf("imports gone: wrote %q, want %q", got, want)
	}
	r.local.checkShadows()
}

func peerConnect() proto.RouteConnect {
	return proto.RouteConnect{Echo: true, Headers: true, Name: peerID, Cluster: "c1", LNOC: true}
}

func peerConnect2() proto.RouteConnect {
	c := peerConnect()
	c.Name = "NPEER2"
	return c
}

func peerInfo2() proto.RouteInfo {
	info := peerInfo()
	info.ID, info.Name, info.IP = "NPEER2", "peer2", "nats-route://peer2:6222/"
	return info
}
