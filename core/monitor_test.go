package core_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core"
	"github.com/petrel-io/petrel/core/auth"
)

// The monitoring documents' values on virtual time; their keys and types against
// nats-server are checked end to end (server/monitor_parity_test.go).

func TestVarzHostFactsAndCounters(t *testing.T) {
	r := newRig(t, core.Options{PingInterval: time.Second, MaxPingsOut: 1})
	c := r.dial()
	r.send(c, "CONNECT {\"verbose\":false}\r\nSUB a 1\r\nPUB a 2\r\nhi\r\n")
	v := r.srv.Varz(core.VarzHost{HTTPHost: "0.0.0.0", HTTPPort: 8222, HTTPReqStats: map[string]uint64{"/varz": 3},
		ConfigDigest: "sha256:ab"})
	// The simulator's host: one core, nothing measured.
	if v.Cores != 1 || v.GOMAXPROCS != 1 || v.CPU != 0 || v.Mem != 0 {
		t.Fatalf("host facts cores %d gomaxprocs %d cpu %v mem %d, want the sim's 1 1 0 0", v.Cores, v.GOMAXPROCS, v.CPU, v.Mem)
	}
	if v.InClientMsgs != 1 || v.InClientBytes != 2 || v.OutClientMsgs != 1 || v.OutClientBytes != 2 {
		t.Fatalf("client counters in %d/%d out %d/%d", v.InClientMsgs, v.InClientBytes, v.OutClientMsgs, v.OutClientBytes)
	}
	if v.HTTPHost != "0.0.0.0" || v.HTTPPort != 8222 || v.HTTPReqStats["/varz"] != 3 || !v.ConfigLoadTime.Equal(r.srv.ConfigLoadTime()) ||
		v.ConfigDigest != "sha256:ab" || v.JetStream.Config != nil {
		t.Fatalf("host-provided fields: %+v", v)
	}
	if v.AuthTimeout != 2 || v.TLSTimeout != 2 {
		t.Fatalf("auth_timeout %v tls_timeout %v, want 2 and 2 (seconds)", v.AuthTimeout, v.TLSTimeout)
	}
	if v := r.srv.Varz(core.VarzHost{}); !v.ConfigLoadTime.Equal(v.Start) || v.HTTPReqStats == nil {
		t.Fatalf("before any reload: config_load_time %v (start %v), http_req_stats %v", v.ConfigLoadTime, v.Start, v.HTTPReqStats)
	}
	// The client never answers PINGs: it is closed as stale, and counted.
	r.run(5 * time.Second)
	v = r.srv.Varz(core.VarzHost{})
	if !c.closed || v.StaleConnections != 1 || v.StaleConnectionStats.Clients != 1 || v.SlowConsumerStats.Clients != 0 {
		t.Fatalf("closed %v, stale %d (stats %+v)", c.closed, v.StaleConnections, v.StaleConnectionStats)
	}
}

// Sections of features that are off marshal as empty objects, as nats-server shows them.
func TestVarzSectionsOfFeaturesOff(t *testing.T) {
	r := newRig(t, core.Options{})
	raw, err := json.Marshal(r.srv.Varz(core.VarzHost{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"cluster":{}`, `"gateway":{}`, `"leaf":{}`, `"mqtt":{}`, `"websocket":{}`,
		`"jetstream":{}`, `"feature_flags":{}`, `"system_account":"$SYS"`, `"stalled_clients":0`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("varz lacks %s: %s", want, raw)
		}
	}
	if strings.Contains(string(raw), "tls_cert_not_after") {
		t.Errorf("tls_cert_not_after without TLS: %s", raw)
	}
}

// /connz shows the user and accounts only with auth, the subscriptions only with subs, as
// nats-server does; a closed connection keeps its user.
func TestConnzAuthAndSubs(t *testing.T) {
	r := newRig(t, core.Options{Auth: auth.Config{Users: []auth.User{{Name: "u", Password: "p"}}}})
	c := r.dial()
	r.send(c, "CONNECT {\"verbose\":false,\"user\":\"u\",\"pass\":\"p\"}\r\nSUB a 1\r\nSUB b q 2\r\n")
	conn := func(o core.ConnzOptions) core.ConnInfo {
		t.Helper()
		z, err := r.srv.Connz(o)
		if err != nil || len(z.Conns) != 1 {
			t.Fatalf("connz %+v: %+v %v", o, z, err)
		}
		return z.Conns[0]
	}
	if ci := conn(core.ConnzOptions{}); ci.User != "" || ci.NameTag != "" || ci.Subs != nil || ci.SubsDetail != nil {
		t.Fatalf("plain connz shows user %q name_tag %q subs %v %v", ci.User, ci.NameTag, ci.Subs, ci.SubsDetail)
	}
	if ci := conn(core.ConnzOptions{Auth: true, Subs: true}); ci.User != "u" || ci.NameTag != "$G" || ci.Account != "" ||
		strings.Join(ci.Subs, ",") != "a,b" {
		t.Fatalf("auth+subs: user %q name_tag %q account %q subs %v", ci.User, ci.NameTag, ci.Account, ci.Subs)
	}
	ci := conn(core.ConnzOptions{SubsDetail: true})
	if len(ci.SubsDetail) != 2 || ci.SubsDetail[0].Account != "" || ci.SubsDetail[1].Queue != "q" {
		t.Fatalf("subs=detail without auth: %+v", ci.SubsDetail)
	}
	ci = conn(core.ConnzOptions{SubsDetail: true, Auth: true})
	if d := ci.SubsDetail[0]; d.Account != "$G" || d.AccountTag != "$G" {
		t.Fatalf("subs=detail with auth: %+v", d)
	}
	c.conn.Close()
	r.run(100 * time.Millisecond)
	if ci := conn(core.ConnzOptions{State: "closed", Auth: true}); ci.User != "u" || ci.Reason != "Client Closed" {
		t.Fatalf("closed with auth: user %q reason %q", ci.User, ci.Reason)
	}
	if ci := conn(core.ConnzOptions{State: "closed"}); ci.User != "" {
		t.Fatalf("closed without auth shows user %q", ci.User)
	}
}

func TestSubszPagingAndAccount(t *testing.T) {
	r := newRig(t, core.Options{})
	internal := r.srv.Subsz(core.SubszOptions{}).Subscriptions // listed first: the internal client is cid 0
	c := r.dial()
	r.send(c, "CONNECT {\"verbose\":false}\r\nSUB a 1\r\nSUB b 2\r\nSUB c 3\r\n")
	if z := r.srv.Subsz(core.SubszOptions{}); z.Total != 0 || z.Offset != 0 || z.Limit != 1024 || z.Subs != nil {
		t.Fatalf("subsz without subs: total %d offset %d limit %d subs %v", z.Total, z.Offset, z.Limit, z.Subs)
	}
	z := r.srv.Subsz(core.SubszOptions{Subs: true, Offset: internal + 1, Limit: 1})
	if z.Total != internal+3 || z.Offset != internal+1 || z.Limit != 1 || len(z.Subs) != 1 || z.Subs[0].Subject != "b" {
		t.Fatalf("subsz page: %+v", z)
	}
	if d := z.Subs[0]; d.Account != "$G" || d.AccountTag != "$G" || d.CID != 1 || d.Sid != "2" {
		t.Fatalf("subsz detail: %+v", d)
	}
}

func TestHealthzOptions(t *testing.T) {
	cases := []struct {
		name      string
		jetstream bool
		o         core.HealthzOptions
		code      int
		status    string
		errText   string
	}{
		{"plain", false, core.HealthzOptions{}, 200, "ok", ""},
		{"js-enabled-only without jetstream", false, core.HealthzOptions{JSEnabledOnly: true}, 200, "ok", ""},
		{"an account without jetstream", false, core.HealthzOptions{Account: "A"}, 200, "ok", ""},
		{"stream without account", false, core.HealthzOptions{Stream: "S"}, 400, "error", `"account" must not be empty when checking stream health`},
		{"consumer without stream", false, core.HealthzOptions{Account: "A", Consumer: "C"}, 400, "error", `"stream" must not be empty when checking consumer health`},
		{"jetstream on", true, core.HealthzOptions{}, 200, "ok", ""},
		{"js-enabled-only with jetstream", true, core.HealthzOptions{JSEnabledOnly: true}, 200, "ok", ""},
	}
	for _, tc := range cases {
		r := newRig(t, core.Options{JetStream: tc.jetstream})
		h := r.srv.Healthz(tc.o)
		if h.Code != tc.code || h.Status != tc.status || h.Error != tc.errText {
			t.Errorf("%s: %+v, want %d %q %q", tc.name, h, tc.code, tc.status, tc.errText)
		}
	}
	r := newRig(t, core.Options{})
	r.srv.Shutdown(nil)
	r.run(100 * time.Millisecond)
	if h := r.srv.Healthz(core.HealthzOptions{}); h.Code != 503 || h.Status != "unavailable" {
		t.Fatalf("after shutdown: %+v", h)
	}
}
