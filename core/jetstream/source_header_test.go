package jetstream

import (
	"testing"

	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/core/proto"
)

// Index names and headers in nats-server's forms (its composeIName and genSourceHeader),
// and the header read back as its streamAndSeq reads it.
func TestSourceHeader(t *testing.T) {
	cases := []struct {
		name   string
		src    jsapi.StreamSource
		iname  string
		header string
	}{
		{"plain", jsapi.StreamSource{Name: "A"}, "A > >", "A 7 > > a.x"},
		{"filtered", jsapi.StreamSource{Name: "A", FilterSubject: "a.x"}, "A a.x >", "A 7 a.x > a.x"},
		{"transforms", jsapi.StreamSource{Name: "A", SubjectTransforms: []jsapi.SubjectTransform{
			{Source: "a.>", Destination: "b.>"}, {Source: "c.*", Destination: ""}}},
			"A a.>\fc.* b.>\f>", "A 7 a.>\fc.* b.>\f> a.x"},
		{"external", jsapi.StreamSource{Name: "A", External: &jsapi.ExternalStream{APIPrefix: "JS.X.API"}},
			"A:" + serverHash("JS.X.API") + " > >", "A:" + serverHash("JS.X.API") + " 7 > > a.x"},
	}
	for _, c := range cases {
		iname := sourceIndexName(&c.src)
		if iname != c.iname {
			t.Errorf("%s: index name %q, want %q", c.name, iname, c.iname)
		}
		if h := sourceHeaderValue(iname, 7, "a.x"); h != c.header {
			t.Errorf("%s: header %q, want %q", c.name, h, c.header)
		}
		if got, seq, ok := parseSourceHeader(c.header); !ok || got != iname || seq != 7 {
			t.Errorf("%s: parsed %q %d %v", c.name, got, seq, ok)
		}
	}
	// nats-server's own examples, with the identity field it adds in 2.14.
	if iname, seq, ok := parseSourceHeader("ORIGIN1 5 > > foo.a IDENT1"); !ok || iname != "ORIGIN1 > >" || seq != 5 {
		t.Errorf("with identity: %q %d %v", iname, seq, ok)
	}
	for _, old := range []string{"ORIGIN3 9", "$JS.ACK.O.C.1.2.3.4.5", "A x > > s", ""} {
		if _, _, ok := parseSourceHeader(old); ok {
			t.Errorf("%q names no index but parsed", old)
		}
	}
	if h := serverHash("JS.X.API"); len(h) != serverHashLen || h == serverHash("JS.Y.API") {
		t.Errorf("hash %q", h)
	}
}

func TestStatusCode(t *testing.T) {
	cases := map[string]int{
		string(proto.StatusHeader(408, "Request Timeout", "Nats-Pending-Messages", "3")): 408,
		string(proto.StatusHeader(100, "Idle Heartbeat")):                                100,
		"NATS/1.0\r\nNats-Msg-Id: x\r\n\r\n":                                             0,
		"":                                                                               0,
		"NATS/1.0 4x":                                                                    0,
	}
	for hdr, want := range cases {
		if got := statusCode([]byte(hdr)); got != want {
			t.Errorf("statusCode(%q) = %d, want %d", hdr, got, want)
		}
	}
}
