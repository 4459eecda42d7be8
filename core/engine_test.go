package core_test

import (
	"strings"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core"
	"github.com/petrel-io/petrel/core/auth"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/sim"
)

// The engine's timing and error behaviour, tested on virtual time: a world with one server
// node and raw protocol clients that record every byte they receive.

type rig struct {
	t   *testing.T
	w   *sim.World
	srv *core.Server
	cli *env.Env // the client node's Env
}

func newRig(t *testing.T, opts core.Options) *rig {
	t.Helper()
	r := &rig{t: t}
	r.w = quietWorldWithServer(t, opts, &r.srv)
	r.w.AddNode("c1", sim.NodeConfig{}, func(e *env.Env) { r.cli = e })
	return r
}

// quietWorldWithServer is a world without faults whose node s1 runs the engine with opts
// on port 4222; *srv is set when it boots.
func quietWorldWithServer(t *testing.T, opts core.Options, srv **core.Server) *sim.World {
	quiet := sim.Quiet()
	w := sim.NewWorld(1, sim.Options{Profile: &quiet})
	opts.Port = 4222
	w.AddNode("s1", sim.NodeConfig{}, func(e *env.Env) {
		s, err := core.New(opts, e)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		*srv = s
	})
	return w
}

// rawClient records what the server sends and whether the connection ended.
type rawClient struct {
	conn   env.Conn
	got    strings.Builder
	closed bool
	err    error
}

func (c *rawClient) OnData(p []byte)   { c.got.Write(p) }
func (c *rawClient) OnClose(err error) { c.closed, c.err = true, err }

func (r *rig) dial() *rawClient { return dialRaw(r.t, r.w, r.cli, "s1:4222") }

// dialRaw connects a raw protocol client from cli to addr, giving the world 50 ms of
// virtual time to connect.
func dialRaw(t *testing.T, w *sim.World, cli *env.Env, addr string) *rawClient {
	t.Helper()
	c := &rawClient{}
	ex := cli.Exec.New("raw")
	cli.Net.Dial(addr, time.Second, ex, func(conn env.Conn, err error) {
		if err != nil {
			t.Errorf("dial: %v", err)
			return
		}
		c.conn = conn
		conn.Start(ex, c)
	})
	w.RunUntil(w.Now() + 50*time.Millisecond)
	if c.conn == nil {
		t.Fatal("no connection")
	}
	return c
}

func (r *rig) run(d time.Duration) { r.w.RunUntil(r.w.Now() + d) }

func (r *rig) send(c *rawClient, s string) {
	r.t.Helper()
	if err := c.conn.Write([]byte(s)); err != nil {
		r.t.Fatalf("send %q: %v", s, err)
	}
	r.run(50 * time.Millisecond)
}

func lines(c *rawClient) []string {
	out := strings.Split(strings.TrimSuffix(c.got.String(), "\r\n"), "\r\n")
	if len(out) > 0 && strings.HasPrefix(out[0], "INFO ") {
		out = out[1:]
	}
	return out
}

func expectLines(t *testing.T, c *rawClient, want ...string) {
	t.Helper()
	got := lines(c)
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("server sent %q, want %q", got, want)
	}
}

func TestInfoLine(t *testing.T) {
	r := newRig(t, core.Options{ServerName: "alpha"})
	c := r.dial()
	info := strings.SplitN(c.got.String(), "\r\n", 2)[0]
	for _, want := range []string{`"server_name":"alpha"`, `"version":"2.12.0"`, `"proto":1`, `"headers":true`,
		`"max_payload":1048576`, `"client_id":1`, `"server_id":"N`} {
		if !strings.Contains(info, want) {
			t.Errorf("INFO lacks %s: %s", want, info)
		}
	}
	if !strings.HasSuffix(info, "} ") {
		t.Errorf("INFO should end with a space before CRLF: %q", info)
	}
}

func TestVerboseDefaultsAndRecoverableErrors(t *testing.T) {
	r := newRig(t, core.Options{MaxSubscriptions: 2})
	c := r.dial()
	// CONNECT {} means verbose: every op but PING is acknowledged, a PUB before the MSG it
	// delivers to the same connection.
	r.send(c, "CONNECT {}\r\nSUB foo 1\r\nPUB foo 2\r\nhi\r\nUNSUB 1\r\nPING\r\n")
	expectLines(t, c, "+OK", "+OK", "+OK", "MSG foo 1 2", "hi", "+OK", "PONG")
	c.got.Reset()
	r.send(c, "CONNECT {\"verbose\":false}\r\nSUB foo. 1\r\nPUB foo.* 1\r\nx\r\nPUB foo..bar 1\r\nx\r\nUNSUB 99\r\nSUB a 2\r\nSUB b 3\r\nSUB c 4\r\nPING\r\n")
	expectLines(t, c, "-ERR 'Invalid Subject'", "-ERR 'Invalid Publish Subject'", "-ERR 'Invalid Publish Subject'",
		"-ERR 'maximum subscriptions exceeded'", "PONG")
	if c.closed {
		t.Fatal("recoverable errors closed the connection")
	}
}

func TestFatalErrorsClose(t *testing.T) {
	cases := []struct {
		name, send, want string
	}{
		{"unknown op", "FOO bar\r\n", "-ERR 'Unknown Protocol Operation'"},
		{"bad protocol", "CONNECT {\"protocol\":2}\r\n", "-ERR 'invalid client protocol'"},
		{"no responders without headers", "CONNECT {\"no_responders\":true,\"headers\":false}\r\n", "-ERR 'no responders requires headers support'"},
		{"max payload", "PUB foo 2000000\r\n", "-ERR 'Maximum Payload Violation'"},
		{"max control line", "SUB " + strings.Repeat("a", 5000) + " 1\r\n", "-ERR 'maximum control line exceeded'"},
		{"bad json", "CONNECT {oops}\r\n", ""},
	}
	for _, tc := range cases {
		r := newRig(t, core.Options{})
		c := r.dial()
		r.send(c, tc.send)
		if !c.closed {
			t.Errorf("%s: connection still open", tc.name)
		}
		got := strings.Join(lines(c), "|")
		if got != tc.want {
			t.Errorf("%s: server sent %q, want %q", tc.name, got, tc.want)
		}
	}
}

// A client that never answers PING is cut off on the third interval: (ping_max+1) x
// interval, the first interval up to a fifth longer (the early RTT PING's jitter).
func TestStaleConnection(t *testing.T) {
	r := newRig(t, core.Options{PingInterval: 2 * time.Second, MaxPingsOut: 2})
	c := r.dial()
	r.send(c, "CONNECT {\"verbose\":false}\r\n")
	r.run(5900 * time.Millisecond)
	if c.closed {
		t.Fatal("closed before the third ping interval")
	}
	r.run(600 * time.Millisecond)
	expectLines(t, c, "PING", "PING", "-ERR 'Stale Connection'")
	if !c.closed {
		t.Fatal("stale connection not closed")
	}
	// A client that answers stays.
	c2 := r.dial()
	r.send(c2, "CONNECT {\"verbose\":false}\r\n")
	for i := 0; i < 10; i++ {
		r.run(2 * time.Second)
		r.send(c2, "PONG\r\n")
	}
	if c2.closed {
		t.Fatal("a client answering PINGs was closed")
	}
}

func TestAuthTimeoutAndFailure(t *testing.T) {
	opts := core.Options{Auth: auth.Config{Users: []auth.User{{Name: "u", Password: "p"}}, Timeout: time.Second}}
	r := newRig(t, opts)
	c := r.dial()
	if !strings.Contains(c.got.String(), `"auth_required":true`) {
		t.Fatalf("INFO without auth_required: %s", c.got.String())
	}
	r.run(900 * time.Millisecond)
	if c.closed {
		t.Fatal("closed before the auth timeout")
	}
	r.run(200 * time.Millisecond)
	expectLines(t, c, "-ERR 'Authentication Timeout'")
	if !c.closed {
		t.Fatal("not closed after the auth timeout")
	}
	bad := r.dial()
	r.send(bad, "CONNECT {\"user\":\"u\",\"pass\":\"WRONG\"}\r\n")
	expectLines(t, bad, "-ERR 'Authorization Violation'")
	early := r.dial()
	r.send(early, "SUB foo 1\r\n")
	expectLines(t, early, "-ERR 'Authorization Violation'")
	good := r.dial()
	r.send(good, "CONNECT {\"verbose\":false,\"user\":\"u\",\"pass\":\"p\"}\r\nPING\r\n")
	r.run(2 * time.Second)
	expectLines(t, good, "PONG")
}

func TestPermissionViolations(t *testing.T) {
	perms := &auth.Permissions{
		Publish:   &auth.SubjectPermission{Allow: []string{"can.pub"}},
		Subscribe: &auth.SubjectPermission{Allow: []string{"can.sub"}},
	}
	r := newRig(t, core.Options{Auth: auth.Config{Users: []auth.User{{Name: "u", Password: "p", Permissions: perms}}}})
	c := r.dial()
	r.send(c, "CONNECT {\"verbose\":false,\"user\":\"u\",\"pass\":\"p\"}\r\nSUB nope 1\r\nSUB nope Q 2\r\nPUB nope 1\r\nx\r\nSUB can.sub 3\r\nPUB can.pub 1\r\nx\r\nPING\r\n")
	expectLines(t, c, `-ERR 'Permissions Violation for Subscription to "nope"'`,
		`-ERR 'Permissions Violation for Subscription to "nope" using queue "Q"'`,
		`-ERR 'Permissions Violation for Publish to "nope"'`, "PONG")
}

// The 503 no-responders message, byte for byte as nats-server v2.15.2 sends it (captured
// with raw TCP): a Nats-Subject header names the request's subject. Only the requester's
// plain subscriptions get it, the first matching one.
func TestNoRespondersStatus(t *testing.T) {
	const connect = "CONNECT {\"verbose\":false,\"headers\":true,\"no_responders\":true}\r\n"
	cases := []struct{ name, send, want string }{
		{"pub", "SUB _INBOX.x.* 7\r\nPUB nobody.here _INBOX.x.1 0\r\n\r\n",
			"HMSG _INBOX.x.1 7 43 43\r\nNATS/1.0 503\r\nNats-Subject: nobody.here\r\n\r\n\r\n"},
		{"hpub", "SUB _INBOX.x.* 7\r\nHPUB nobody2 _INBOX.x.2 12 14\r\nNATS/1.0\r\n\r\nhi\r\n",
			"HMSG _INBOX.x.2 7 39 39\r\nNATS/1.0 503\r\nNats-Subject: nobody2\r\n\r\n\r\n"},
		{"queue inbox", "SUB _INBOX.y.* q 7\r\nPUB nobody.here _INBOX.y.1 0\r\n\r\n", ""},
		{"two inboxes", "SUB _INBOX.z.1 8\r\nSUB _INBOX.z.* 9\r\nPUB nob _INBOX.z.1 0\r\n\r\n",
			"HMSG _INBOX.z.1 8 35 35\r\nNATS/1.0 503\r\nNats-Subject: nob\r\n\r\n\r\n"},
	}
	for _, tc := range cases {
		r := newRig(t, core.Options{})
		c := r.dial()
		c.got.Reset()
		r.send(c, connect+tc.send+"PING\r\n")
		if got := c.got.String(); got != tc.want+"PONG\r\n" {
			t.Errorf("%s: server sent %q, want %q", tc.name, got, tc.want+"PONG\r\n")
		}
	}
}

func TestMaxConnections(t *testing.T) {
	r := newRig(t, core.Options{MaxConnections: 1})
	first := r.dial()
	second := r.dial()
	if first.closed || !second.closed {
		t.Fatalf("first closed %v, second closed %v", first.closed, second.closed)
	}
	// INFO first, as for any client, then the error.
	if got := lines(second); len(got) != 1 || got[0] != "-ERR 'maximum connections exceeded'" || !strings.HasPrefix(second.got.String(), "INFO {") {
		t.Fatalf("second connection got %q", second.got.String())
	}
}

// A subscriber whose path stalls while a publisher pushes past max_pending is cut off as
// a slow consumer, and the publisher is unaffected.
func TestSlowConsumer(t *testing.T) {
	r := newRig(t, core.Options{MaxPending: 64 << 10, MaxPayload: 32 << 10})
	sub := r.dial()
	r.send(sub, "CONNECT {\"verbose\":false}\r\nSUB big 1\r\nPING\r\n")
	pub := r.dial()
	r.send(pub, "CONNECT {\"verbose\":false}\r\n")
	r.w.Network().Partition(0, 1, true) // s1 → c1 blocked: nothing reaches the subscriber
	payload := strings.Repeat("x", 16<<10)
	for i := 0; i < 8; i++ {
		r.send(pub, "PUB big 16384\r\n"+payload+"\r\n")
	}
	r.run(100 * time.Millisecond)
	if v := r.srv.Varz(core.VarzHost{}); v.SlowConsumers != 1 || v.Connections != 1 {
		t.Fatalf("slow consumers %d, connections %d; want 1 and 1", v.SlowConsumers, v.Connections)
	}
	if pub.closed {
		t.Fatal("the publisher was closed")
	}
}

func TestLameDuck(t *testing.T) {
	r := newRig(t, core.Options{LameDuckDuration: 10 * time.Second, LameDuckGrace: time.Second})
	var clients []*rawClient
	for i := 0; i < 3; i++ {
		c := r.dial()
		r.send(c, "CONNECT {\"verbose\":false,\"protocol\":1}\r\n")
		clients = append(clients, c)
	}
	done := false
	r.srv.LameDuck(func() { done = true })
	r.run(100 * time.Millisecond)
	for _, c := range clients {
		if !strings.Contains(c.got.String(), `"ldm":true`) {
			t.Fatalf("no lame-duck INFO: %q", c.got.String())
		}
		if c.closed {
			t.Fatal("closed before the grace period")
		}
	}
	r.run(11 * time.Second)
	for _, c := range clients {
		if !c.closed {
			t.Fatal("a client outlived lame-duck mode")
		}
	}
	if !done {
		t.Fatal("lame duck never finished")
	}
}

func TestMonitoringDocuments(t *testing.T) {
	r := newRig(t, core.Options{})
	internal := r.srv.Varz(core.VarzHost{}).Subscriptions // the system services' own, as in nats-server
	c := r.dial()
	r.send(c, "CONNECT {\"verbose\":false,\"name\":\"probe\",\"lang\":\"raw\"}\r\nSUB a.* 1\r\nSUB b q 2\r\nPUB a.x 3\r\nabc\r\n")
	v := r.srv.Varz(core.VarzHost{HTTPPort: 8222})
	if v.Connections != 1 || v.Subscriptions != internal+2 || v.SystemAccount != "$SYS" || v.InMsgs != 1 || v.OutMsgs != 1 || v.InBytes != 3 || v.HTTPPort != 8222 {
		t.Fatalf("varz: %+v", v)
	}
	z, err := r.srv.Connz(core.ConnzOptions{SubsDetail: true})
	if err != nil || z.NumConns != 1 || z.Conns[0].Name != "probe" || len(z.Conns[0].SubsDetail) != 2 {
		t.Fatalf("connz: %+v %v", z, err)
	}
	if _, err := r.srv.Connz(core.ConnzOptions{Sort: "bogus"}); err == nil {
		t.Fatal("connz accepted a bogus sort")
	}
	s := r.srv.Subsz(core.SubszOptions{Subs: true, Test: "a.y"})
	if s.Subscriptions != internal+2 || len(s.Subs) != 1 || s.Subs[0].Subject != "a.*" {
		t.Fatalf("subsz: %+v", s)
	}
	r.send(c, "UNSUB 1\r\n")
	c.conn.Close()
	r.run(100 * time.Millisecond)
	z, _ = r.srv.Connz(core.ConnzOptions{State: "closed"})
	if z.Total != 1 || z.Conns[0].Reason != "Client Closed" {
		t.Fatalf("closed connz: %+v", z)
	}
	if h := r.srv.Healthz(core.HealthzOptions{}); h.Status != "ok" {
		t.Fatalf("healthz %+v", h)
	}
}

// Subjects that are not valid publish subjects never enter the match cache, where a hit
// would let them pass for validated ones: not a no-responders reply subject, not a wildcard
// subject a non-pedantic client publishes (routed, as nats-server does, but uncached).
func TestInvalidSubjectsNeverCached(t *testing.T) {
	r := newRig(t, core.Options{})
	c := r.dial()
	r.send(c, "CONNECT {\"verbose\":false,\"headers\":true,\"no_responders\":true}\r\nSUB a.* 1\r\nPUB nobody a.* 0\r\n\r\nPUB a.* 1\r\nx\r\nPING\r\n")
	expectLines(t, c, "HMSG a.* 1 38 38", "NATS/1.0 503", "Nats-Subject: nobody", "", "",
		"-ERR 'Invalid Publish Subject'", "MSG a.* 1 1", "x", "PONG")
	quiet := r.dial()
	r.send(quiet, "CONNECT {\"verbose\":false,\"pedantic\":false}\r\nPUB b.* 1\r\nx\r\nPUB b.* 1\r\nx\r\nPING\r\n")
	expectLines(t, quiet, "PONG")
	pedantic := r.dial()
	r.send(pedantic, "CONNECT {\"verbose\":false}\r\nPUB b.* 1\r\nx\r\nPING\r\n")
	expectLines(t, pedantic, "-ERR 'Invalid Publish Subject'", "PONG")
}

// A JetStream ack subject is published once: it is routed but never cached, where it would
// only evict subjects that are published again.
func TestAckSubjectsNeverCached(t *testing.T) {
	r := newRig(t, core.Options{})
	c := r.dial()
	r.send(c, "CONNECT {\"verbose\":false}\r\nSUB $JS.ACK.s.c.> 1\r\nSUB a 2\r\nPUB a 1\r\nz\r\nPING\r\n")
	before := r.srv.Subsz(core.SubszOptions{}).Cache
	r.send(c, "PUB $JS.ACK.s.c.1.1.1.0.0 1\r\nx\r\nPUB $JS.ACK.s.c.1.2.2.0.0 1\r\ny\r\nPING\r\n")
	expectLines(t, c, "MSG a 2 1", "z", "PONG", "MSG $JS.ACK.s.c.1.1.1.0.0 1 1", "x", "MSG $JS.ACK.s.c.1.2.2.0.0 1 1", "y", "PONG")
	if n := r.srv.Subsz(core.SubszOptions{}).Cache; n != before {
		t.Fatalf("%d subjects cached after two acks, %d before", n, before)
	}
}

// The server's answer to a request goes to an inbox that is answered once: it is delivered
// but never cached (an async publisher's PubAcks evicted the cache at every message).
func TestInboxAnswersNeverCached(t *testing.T) {
	r := newRig(t, core.Options{})
	c := r.dial()
	r.send(c, "CONNECT {\"verbose\":false}\r\nSUB _INBOX.t.* 1\r\nPUB $SYS.REQ.USER.INFO _INBOX.t.1 0\r\n\r\nPING\r\n")
	if !strings.Contains(c.got.String(), "MSG _INBOX.t.1 1 ") {
		t.Fatalf("no answer: %q", c.got.String())
	}
	before := r.srv.Subsz(core.SubszOptions{}).Cache
	r.send(c, "PUB $SYS.REQ.USER.INFO _INBOX.t.2 0\r\n\r\nPING\r\n")
	if !strings.Contains(c.got.String(), "MSG _INBOX.t.2 1 ") {
		t.Fatalf("no second answer: %q", c.got.String())
	}
	if n := r.srv.Subsz(core.SubszOptions{}).Cache; n != before {
		t.Fatalf("%d subjects cached after a second answer, %d before", n, before)
	}
}

// A client's answer to a request's inbox is delivered but never cached either: the inbox
// is answered once.
func TestClientInboxAnswersNeverCached(t *testing.T) {
	r := newRig(t, core.Options{})
	c := r.dial()
	r.send(c, "CONNECT {\"verbose\":false}\r\nSUB _INBOX.r.* 1\r\nSUB a 2\r\nPUB a 1\r\nz\r\nPING\r\n")
	before := r.srv.Subsz(core.SubszOptions{}).Cache
	r.send(c, "PUB _INBOX.r.1 1\r\nx\r\nPUB _INBOX.r.2 1\r\ny\r\nPING\r\n")
	expectLines(t, c, "MSG a 2 1", "z", "PONG", "MSG _INBOX.r.1 1 1", "x", "MSG _INBOX.r.2 1 1", "y", "PONG")
	if n := r.srv.Subsz(core.SubszOptions{}).Cache; n != before {
		t.Fatalf("%d subjects cached after two answers, %d before", n, before)
	}
}

// A message withheld by the subscriber's deny list is not a delivery: it must not count
// against an auto-unsubscribe max.
func TestWithheldMessageDoesNotCountTowardMax(t *testing.T) {
	perms := &auth.Permissions{Subscribe: &auth.SubjectPermission{Deny: []string{"a.secret"}}}
	r := newRig(t, core.Options{Auth: auth.Config{Users: []auth.User{{Name: "u", Password: "p", Permissions: perms}}}})
	c := r.dial()
	r.send(c, "CONNECT {\"verbose\":false,\"user\":\"u\",\"pass\":\"p\"}\r\nSUB a.* 1\r\nUNSUB 1 2\r\n"+
		"PUB a.secret 1\r\ns\r\nPUB a.x 1\r\nx\r\nPUB a.y 1\r\ny\r\nPUB a.z 1\r\nz\r\nPING\r\n")
	expectLines(t, c, "MSG a.x 1 1", "x", "MSG a.y 1 1", "y", "PONG")
}

// probeConn is a server-side connection driven by the test: onWrite sees each write the
// moment the engine makes it, before the handler that wrote returns.
type probeConn struct {
	h       env.ConnHandler
	onWrite func(p []byte)
}

func (c *probeConn) Start(_ env.Executor, h env.ConnHandler) { c.h = h }
func (c *probeConn) Write(p []byte) error                    { c.onWrite(p); return nil }
func (c *probeConn) Queue(p []byte) error                    { c.onWrite(p); return nil }
func (c *probeConn) Flush()                                  {}
func (c *probeConn) Buffered() int                           { return 0 }
func (c *probeConn) Close() error                            { return nil }
func (c *probeConn) Abort()                                  {}
func (c *probeConn) SetWriteDeadline(time.Duration)          {}
func (c *probeConn) PauseReads()                             {}
func (c *probeConn) ResumeReads()                            {}
func (c *probeConn) NotifyDrained(int, env.Executor, func()) {}
func (c *probeConn) LocalAddr() string                       { return "s1:4222" }
func (c *probeConn) RemoteAddr() string                      { return "c1:5000" }

// A PONG promises the client that everything it sent before the PING was processed, so
// monitoring read after the PONG arrives must already count those messages (nats.go's
// Flush followed by a /varz read depends on it).
func TestPongFollowsCountedMessages(t *testing.T) {
	r := newRig(t, core.Options{})
	var inAtPong int64 = -1
	conn := &probeConn{onWrite: func(p []byte) {
		if strings.Contains(string(p), "PONG") {
			inAtPong = r.srv.Varz(core.VarzHost{}).InMsgs
		}
	}}
	r.srv.AcceptForTest(conn)
	r.run(50 * time.Millisecond)
	if conn.h == nil {
		t.Fatal("the engine never started the connection")
	}
	conn.h.OnData([]byte("CONNECT {\"verbose\":false}\r\nPUB a 1\r\nx\r\nPING\r\n"))
	if inAtPong != 1 {
		t.Fatalf("in_msgs when PONG was written: %d, want 1", inAtPong)
	}
}

// rttOf reads the connection's RTT from /connz.
func (r *rig) rttOf(cid uint64) time.Duration {
	r.t.Helper()
	z, err := r.srv.Connz(core.ConnzOptions{CID: cid})
	if err != nil || len(z.Conns) != 1 {
		r.t.Fatalf("connz cid %d: %+v %v", cid, z, err)
	}
	d, err := time.ParseDuration(z.Conns[0].RTT)
	if err != nil {
		r.t.Fatalf("rtt %q: %v", z.Conns[0].RTT, err)
	}
	return d
}

// runUntilLine runs the world until the client has received a line with want, or the
// deadline (from now) passes; it returns how long that took, or -1.
func (r *rig) runUntilLine(c *rawClient, want string, deadline time.Duration) time.Duration {
	start := r.w.Now()
	for r.w.Now()-start < deadline {
		if strings.Contains(c.got.String(), want) {
			return r.w.Now() - start
		}
		r.run(time.Millisecond)
	}
	return -1
}

// nats-server measures a client's RTT early: CONNECT gives an estimate at once, and the
// first PING goes 2 s after CONNECT plus up to a fifth of that at random (or after
// ping_interval when shorter), whether or not the client sent a PING itself. Its PONG
// measures the RTT. A client that never sends CONNECT is not pinged early.
func TestEarlyRTTPing(t *testing.T) {
	cases := []struct {
		name     string
		interval time.Duration
		connect  string
		min, max time.Duration // when the first PING arrives, after CONNECT
	}{
		{"connect only", 0, "CONNECT {\"verbose\":false}\r\n", 2 * time.Second, 2400 * time.Millisecond},
		{"connect and ping", 0, "CONNECT {\"verbose\":false}\r\nPING\r\n", 2 * time.Second, 2400 * time.Millisecond},
		{"short interval", time.Second, "CONNECT {\"verbose\":false}\r\n", time.Second, 1200 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, core.Options{PingInterval: tc.interval})
			c := r.dial()
			if rtt := r.rttOf(1); rtt != 0 {
				t.Fatalf("rtt %v before CONNECT, want 0 (unknown)", rtt)
			}
			c.got.Reset()
			if err := c.conn.Write([]byte(tc.connect)); err != nil {
				t.Fatal(err)
			}
			r.run(5 * time.Millisecond) // CONNECT arrives within the network's latency
			if rtt := r.rttOf(1); rtt <= 0 {
				t.Fatalf("no RTT estimate after CONNECT: %v", rtt)
			}
			at := r.runUntilLine(c, "PING", 3*time.Second)
			if at < tc.min || at > tc.max+5*time.Millisecond {
				t.Fatalf("first PING %v after CONNECT, want between %v and %v (got %q)", at, tc.min, tc.max, c.got.String())
			}
			if err := c.conn.Write([]byte("PONG\r\n")); err != nil {
				t.Fatal(err)
			}
			r.run(5 * time.Millisecond)
			if rtt := r.rttOf(1); rtt <= 0 || rtt > 5*time.Millisecond {
				t.Fatalf("measured RTT %v, want the simulated network's (under 5ms)", rtt)
			}
		})
	}
	t.Run("no connect", func(t *testing.T) {
		r := newRig(t, core.Options{})
		c := r.dial()
		c.got.Reset()
		if at := r.runUntilLine(c, "PING", 5*time.Second); at >= 0 {
			t.Fatalf("a client that sent no CONNECT was pinged after %v", at)
		}
	})
}

// After the first PING has measured the RTT, a client active within the interval is not
// pinged again until an hour has passed since the last measurement; an idle one is.
func TestRTTRefresh(t *testing.T) {
	r := newRig(t, core.Options{PingInterval: 10 * time.Minute, MaxPingsOut: 100})
	c := r.dial()
	r.send(c, "CONNECT {\"verbose\":false}\r\n")
	if r.runUntilLine(c, "PING", 3*time.Second) < 0 {
		t.Fatal("no early PING")
	}
	r.send(c, "PONG\r\n")
	pings := func() int { return strings.Count(c.got.String(), "PING") }
	for i := 0; i < 5; i++ { // 50 minutes of activity: no PING
		r.run(10 * time.Minute)
		r.send(c, "PING\r\n")
	}
	if n := pings(); n != 1 {
		t.Fatalf("%d PINGs to an active client within the hour, want 1", n)
	}
	r.run(20 * time.Minute) // past the hour: the next tick measures again
	if n := pings(); n != 2 {
		t.Fatalf("%d PINGs after an hour, want 2", n)
	}
}
