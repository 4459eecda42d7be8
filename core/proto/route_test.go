package proto

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// routeRecorder keeps each route op as canonical text and as a copy it can encode again.
type routeRecorder struct {
	mode RouteMode
	ops  []string
	enc  []func(dst []byte) []byte
}

func (r *routeRecorder) add(enc func([]byte) []byte, format string, args ...any) error {
	r.ops = append(r.ops, fmt.Sprintf(format, args...))
	r.enc = append(r.enc, enc)
	return nil
}

func (r *routeRecorder) Connect(j []byte) error {
	j = bytes.Clone(j)
	return r.add(func(d []byte) []byte { return AppendConnect(d, j) }, "CONNECT %s", j)
}
func (r *routeRecorder) Info(j []byte) error {
	j = bytes.Clone(j)
	return r.add(func(d []byte) []byte { return AppendInfo(d, j) }, "INFO %s", j)
}
func (r *routeRecorder) Ping() error {
	return r.add(func(d []byte) []byte { return append(d, Ping...) }, "PING")
}
func (r *routeRecorder) Pong() error {
	return r.add(func(d []byte) []byte { return append(d, Pong...) }, "PONG")
}
func (r *routeRecorder) OK() error {
	return r.add(func(d []byte) []byte { return append(d, OK...) }, "+OK")
}
func (r *routeRecorder) Err(t []byte) error {
	text := string(t)
	return r.add(func(d []byte) []byte { return AppendErr(d, text) }, "-ERR %s", t)
}

func (r *routeRecorder) RemoteSub(s *RemoteSub) error {
	c, mode := cloneSub(s), r.mode
	return r.add(func(d []byte) []byte { return mode.AppendSub(d, c) }, "%s", subText(s, "+"))
}

func (r *routeRecorder) RemoteUnsub(s *RemoteSub) error {
	c, mode := cloneSub(s), r.mode
	return r.add(func(d []byte) []byte { return mode.AppendUnsub(d, c) }, "%s", subText(s, "-"))
}

func (r *routeRecorder) RoutedMsg(m *RoutedMsg) error {
	c, mode := cloneMsg(m), r.mode
	return r.add(func(d []byte) []byte { return mode.AppendMsg(d, c) }, "%s", msgText(m))
}

func cloneSub(s *RemoteSub) *RemoteSub {
	c := *s
	c.Origin, c.Account, c.Subject, c.Queue = clone(s.Origin), clone(s.Account), clone(s.Subject), clone(s.Queue)
	return &c
}

func cloneMsg(m *RoutedMsg) *RoutedMsg {
	c := *m
	c.Origin, c.Account, c.Subject, c.Reply, c.Payload = clone(m.Origin), clone(m.Account), clone(m.Subject), clone(m.Reply), clone(m.Payload)
	c.Queues = nil
	for _, q := range m.Queues {
		c.Queues = append(c.Queues, clone(q))
	}
	return &c
}

// clone keeps nil apart from empty, which bytes.Clone also does.
func clone(b []byte) []byte { return bytes.Clone(b) }

// subText renders RS+/RS-/LS+/LS- with every field named; absent ones are left out.
func subText(s *RemoteSub, sign string) string {
	var b strings.Builder
	b.WriteString(map[bool]string{false: "RS", true: "LS"}[s.Leaf] + sign)
	if s.Origin != nil {
		fmt.Fprintf(&b, " origin=%s", s.Origin)
	}
	fmt.Fprintf(&b, " account=%s subject=%s", s.Account, s.Subject)
	if s.Queue != nil {
		fmt.Fprintf(&b, " queue=%s", s.Queue)
		if sign == "+" {
			fmt.Fprintf(&b, " weight=%d", s.Weight)
		}
	}
	return b.String()
}

func msgText(m *RoutedMsg) string {
	var b strings.Builder
	switch {
	case m.Origin != nil:
		fmt.Fprintf(&b, "LMSG origin=%s", m.Origin)
	case m.Hdr >= 0:
		b.WriteString("HMSG")
	default:
		b.WriteString("RMSG")
	}
	fmt.Fprintf(&b, " account=%s subject=%s", m.Account, m.Subject)
	if m.Reply != nil {
		fmt.Fprintf(&b, " reply=%s", m.Reply)
	}
	if m.Queues != nil {
		fmt.Fprintf(&b, " queues=%s", bytes.Join(m.Queues, []byte(",")))
	}
	if m.Hdr >= 0 {
		fmt.Fprintf(&b, " hdr=%d", m.Hdr)
	}
	fmt.Fprintf(&b, " payload=%q", m.Payload)
	return b.String()
}

// parseRoute parses chunks in order on one route parser.
func parseRoute(mode RouteMode, limits Limits, chunks ...string) (*routeRecorder, error) {
	r := &routeRecorder{mode: mode}
	p := NewRouteParser(r, limits, mode)
	for _, c := range chunks {
		if err := p.Parse([]byte(c)); err != nil {
			return r, err
		}
	}
	return r, nil
}

var pinnedACC = RouteMode{Account: "ACC"}

func TestRouteParseOps(t *testing.T) {
	cases := []struct {
		name, in string
		mode     RouteMode
		want     []string
	}{
		{"RS+ plain and queue", "RS+ $G foo.>\r\nRS+ $G foo q1 2\r\n", RouteMode{},
			[]string{"RS+ account=$G subject=foo.>", "RS+ account=$G subject=foo queue=q1 weight=2"}},
		{"RS- plain and queue", "RS- $G foo\r\nRS- $G foo q1\r\n", RouteMode{},
			[]string{"RS- account=$G subject=foo", "RS- account=$G subject=foo queue=q1"}},
		{"pinned RS+ and RS- have no account", "RS+ foo q 1\r\nRS- foo\r\n", pinnedACC,
			[]string{"RS+ account=ACC subject=foo queue=q weight=1", "RS- account=ACC subject=foo"}},
		{"LS+ and LS- with origin", "LS+ lc $G baz q2 1\r\nLS- lc $G baz q2\r\n", RouteMode{},
			[]string{"LS+ origin=lc account=$G subject=baz queue=q2 weight=1", "LS- origin=lc account=$G subject=baz queue=q2"}},
		{"LS- without origin from an old peer", "LS- $G baz q2\r\n", RouteMode{LeafUnsubWithoutOrigin: true},
			[]string{"LS- account=$G subject=baz queue=q2"}},
		{"pinned LS+", "LS+ lc baz\r\n", pinnedACC, []string{"LS+ origin=lc account=ACC subject=baz"}},
		{"RMSG forms", "RMSG $G a 1\r\nx\r\nRMSG $G a r 0\r\n\r\nRMSG $G a + r q1 q2 2\r\nhi\r\nRMSG $G a | q1 0\r\n\r\n", RouteMode{},
			[]string{`RMSG account=$G subject=a payload="x"`, `RMSG account=$G subject=a reply=r payload=""`,
				`RMSG account=$G subject=a reply=r queues=q1,q2 payload="hi"`, `RMSG account=$G subject=a queues=q1 payload=""`}},
		{"RMSG + reply without queues", "RMSG $G a + r 0\r\n\r\n", RouteMode{}, []string{`RMSG account=$G subject=a reply=r payload=""`}},
		{"RMSG with a reply named +", "RMSG $G a + 0\r\n\r\n", RouteMode{}, []string{`RMSG account=$G subject=a reply=+ payload=""`}},
		{"HMSG", "HMSG $G a + r q 12 14\r\nNATS/1.0\r\n\r\nhi\r\n", RouteMode{},
			[]string{`HMSG account=$G subject=a reply=r queues=q hdr=12 payload="NATS/1.0\r\n\r\nhi"`}},
		{"pinned RMSG and HMSG", "RMSG a | q 1\r\nx\r\nHMSG a 0 0\r\n\r\n", pinnedACC,
			[]string{`RMSG account=ACC subject=a queues=q payload="x"`, `HMSG account=ACC subject=a hdr=0 payload=""`}},
		{"LMSG", "LMSG lc $G foo + r q1 0 5\r\nhello\r\n", RouteMode{},
			[]string{`LMSG origin=lc account=$G subject=foo reply=r queues=q1 hdr=0 payload="hello"`}},
		{"pinned LMSG", "LMSG lc foo 0 1\r\nx\r\n", pinnedACC, []string{`LMSG origin=lc account=ACC subject=foo hdr=0 payload="x"`}},
		{"shared ops, case and blanks", "ping\r\nPONG\r\n+OK\r\n-ERR 'x y'\r\nrs+\t$G  a\r\nINFO {} \r\nCONNECT {}\r\n", RouteMode{},
			[]string{"PING", "PONG", "+OK", "-ERR x y", "RS+ account=$G subject=a", "INFO {}", "CONNECT {}"}},
		{"CR inside a line separates, as on nats-server", "RS+ $G a\rq\r1\r\n", RouteMode{},
			[]string{"RS+ account=$G subject=a queue=q weight=1"}},
	}
	for _, c := range cases {
		r, err := parseRoute(c.mode, Limits{}, c.in)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if strings.Join(r.ops, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s:\n got %q\nwant %q", c.name, r.ops, c.want)
		}
	}
}

// TestRouteParseErrors: every malformed line is refused with ErrBadArguments (or the
// parser's other errors), naming the op; none panics.
func TestRouteParseErrors(t *testing.T) {
	cases := []struct {
		name, in string
		mode     RouteMode
		want     error
		says     string
	}{
		{"client PUB on a route", "PUB a 1\r\nx\r\n", RouteMode{}, ErrUnknownOp, ""},
		{"client SUB on a route", "SUB a 1\r\n", RouteMode{}, ErrUnknownOp, ""},
		{"client MSG on a route", "MSG a 1 1\r\n", RouteMode{}, ErrUnknownOp, ""},
		{"RS+ alone", "RS+\r\n", RouteMode{}, ErrUnknownOp, ""},
		{"RS+ without subject", "RS+ $G\r\n", RouteMode{}, ErrBadArguments, "RS+"},
		{"RS+ queue without weight", "RS+ $G a q\r\n", RouteMode{}, ErrBadArguments, "RS+"},
		{"RS+ bad weight", "RS+ $G a q x\r\n", RouteMode{}, ErrBadArguments, "RS+: queue weight"},
		{"RS+ too many", "RS+ $G a q 1 2\r\n", RouteMode{}, ErrBadArguments, "RS+"},
		{"RS- too many", "RS- $G a q 1\r\n", RouteMode{}, ErrBadArguments, "RS-"},
		{"pinned RS- with an account is one field too many", "RS- $G a q\r\n", pinnedACC, ErrBadArguments, "RS-"},
		{"LS+ with origin only", "LS+ lc\r\n", RouteMode{}, ErrBadArguments, "LS+: missing account"},
		{"LS- without subject", "LS- lc $G\r\n", RouteMode{}, ErrBadArguments, "LS-"},
		{"RMSG without size", "RMSG $G a\r\n", RouteMode{}, ErrBadArguments, "RMSG: missing"},
		{"RMSG bad marker", "RMSG $G a r q 1\r\nx\r\n", RouteMode{}, ErrBadArguments, "RMSG: queue marker"},
		{"RMSG bad size", "RMSG $G a -1\r\n", RouteMode{}, ErrBadArguments, "RMSG: bad size"},
		{"HMSG header past total", "HMSG $G a 5 3\r\n", RouteMode{}, ErrBadArguments, "HMSG: bad size"},
		{"HMSG with one size reads it as the subject's reply", "HMSG $G a 3\r\n", RouteMode{}, ErrBadArguments, "HMSG: missing"},
		{"LMSG without header size", "LMSG lc $G a 1\r\n", RouteMode{}, ErrBadArguments, "LMSG: missing"},
		{"RMSG payload without CRLF", "RMSG $G a 1\r\nxyz", RouteMode{}, ErrUnknownOp, ""},
		{"max payload", "RMSG $G a 100\r\n", RouteMode{}, ErrMaxPayload, ""},
		{"max control line", "RS+ $G " + strings.Repeat("a", 100), RouteMode{}, ErrMaxControlLine, ""},
	}
	for _, c := range cases {
		_, err := parseRoute(c.mode, Limits{MaxPayload: 64, MaxControlLine: 64}, c.in)
		if !errors.Is(err, c.want) || !strings.Contains(fmt.Sprint(err), c.says) {
			t.Errorf("%s: err %v, want %v saying %q", c.name, err, c.want, c.says)
		}
	}
}

// TestRouteSetMode: the mode read from the peer's INFO applies from the next op on.
func TestRouteSetMode(t *testing.T) {
	r := &routeRecorder{}
	p := NewRouteParser(r, Limits{}, RouteMode{})
	if err := p.Parse([]byte("RS+ $G a\r\n")); err != nil {
		t.Fatal(err)
	}
	p.SetMode(pinnedACC)
	if err := p.Parse([]byte("RS+ a\r\n")); err != nil {
		t.Fatal(err)
	}
	want := []string{"RS+ account=$G subject=a", "RS+ account=ACC subject=a"}
	if strings.Join(r.ops, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got %q, want %q", r.ops, want)
	}
}

// routeModeGen draws pooled, pinned, and old-peer modes.
func routeModeGen() *rapid.Generator[RouteMode] {
	return rapid.Custom(func(t *rapid.T) RouteMode {
		return RouteMode{
			Account:                rapid.SampledFrom([]string{"", "", "ACC", "$SYS"}).Draw(t, "pinned"),
			LeafUnsubWithoutOrigin: rapid.Bool().Draw(t, "oldLeafUnsub"),
		}
	})
}

var nameGen = rapid.SampledFrom([]string{"a", "foo.bar", "_INBOX.x.y", "+", "|", "q1", "$G", "lc"})

func optName(t *rapid.T, label string) []byte {
	if rapid.Bool().Draw(t, label+"?") {
		return nil
	}
	return []byte(nameGen.Draw(t, label))
}

// routeOpGen draws one well-formed route op for mode, as the encoders write it.
func routeOpGen(mode RouteMode) *rapid.Generator[[]byte] {
	return rapid.Custom(func(t *rapid.T) []byte {
		account := []byte(rapid.SampledFrom([]string{"$G", "ACC", "B"}).Draw(t, "account"))
		if mode.Account != "" {
			account = []byte(mode.Account)
		}
		leaf := rapid.Bool().Draw(t, "leaf")
		var origin []byte
		if leaf {
			origin = []byte(nameGen.Draw(t, "origin"))
		}
		switch rapid.IntRange(0, 3).Draw(t, "kind") {
		case 0:
			s := &RemoteSub{Leaf: leaf, Origin: origin, Account: account, Subject: []byte(nameGen.Draw(t, "subject")), Queue: optName(t, "queue")}
			if s.Queue != nil {
				s.Weight = rapid.IntRange(0, sizeMax).Draw(t, "weight")
			}
			return mode.AppendSub(nil, s)
		case 1:
			s := &RemoteSub{Leaf: leaf, Origin: origin, Account: account, Subject: []byte(nameGen.Draw(t, "subject")), Queue: optName(t, "queue")}
			return mode.AppendUnsub(nil, s)
		case 2:
			m := &RoutedMsg{Origin: origin, Account: account, Subject: []byte(nameGen.Draw(t, "subject")), Reply: optName(t, "reply"), Hdr: -1,
				Payload: rapid.SliceOfN(rapid.Byte(), 0, 30).Draw(t, "payload")}
			for range rapid.IntRange(0, 3).Draw(t, "queues") {
				m.Queues = append(m.Queues, []byte(nameGen.Draw(t, "q")))
			}
			if leaf || rapid.Bool().Draw(t, "headers") {
				m.Hdr = rapid.IntRange(0, len(m.Payload)).Draw(t, "hdr")
			}
			return mode.AppendMsg(nil, m)
		}
		return AppendErr(nil, "Unknown Protocol Operation")
	})
}

// TestRouteEncodeParseIdentity: for any mode, a parse of what the encoders write gives back
// ops that encode to the same bytes; and any split of the stream parses the same.
func TestRouteEncodeParseIdentity(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		mode := routeModeGen().Draw(t, "mode")
		ops := rapid.SliceOfN(routeOpGen(mode), 1, 20).Draw(t, "ops")
		stream := bytes.Join(ops, nil)
		r, err := parseRoute(mode, Limits{MaxControlLine: 4096}, string(stream))
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
		if len(r.ops) != len(ops) {
			t.Fatalf("%d ops parsed from %d", len(r.ops), len(ops))
		}
		for i, enc := range r.enc {
			if got := enc(nil); !bytes.Equal(got, ops[i]) {
				t.Fatalf("op %d re-encodes to %q, was %q", i, got, ops[i])
			}
		}
		var chunks []string
		for rest := string(stream); len(rest) > 0; {
			n := rapid.IntRange(1, len(rest)).Draw(t, "cut")
			chunks, rest = append(chunks, rest[:n]), rest[n:]
		}
		split, err := parseRoute(mode, Limits{MaxControlLine: 4096}, chunks...)
		if err != nil || strings.Join(split.ops, "\n") != strings.Join(r.ops, "\n") {
			t.Fatalf("split parse differs (%v):\n%q\n%q", err, split.ops, r.ops)
		}
	})
}

// TestRouteEncoderPreconditions: the encoders refuse what would read back as something else.
func TestRouteEncoderPreconditions(t *testing.T) {
	cases := []struct {
		name string
		f    func()
	}{
		{"another account on a pinned route", func() {
			pinnedACC.AppendSub(nil, &RemoteSub{Account: []byte("B"), Subject: []byte("a")})
		}},
		{"empty subject", func() { RouteMode{}.AppendUnsub(nil, &RemoteSub{Account: []byte("A")}) }},
		{"blank in a queue", func() {
			RouteMode{}.AppendSub(nil, &RemoteSub{Account: []byte("A"), Subject: []byte("a"), Queue: []byte("q r")})
		}},
		{"LS+ without origin", func() {
			RouteMode{}.AppendSub(nil, &RemoteSub{Leaf: true, Account: []byte("A"), Subject: []byte("a")})
		}},
		{"LMSG without header length", func() {
			RouteMode{}.AppendMsg(nil, &RoutedMsg{Origin: []byte("lc"), Account: []byte("A"), Subject: []byte("a"), Hdr: -1})
		}},
		{"header past payload", func() {
			RouteMode{}.AppendMsg(nil, &RoutedMsg{Account: []byte("A"), Subject: []byte("a"), Hdr: 3})
		}},
	}
	for _, c := range cases {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", c.name)
				}
			}()
			c.f()
		}()
	}
}

type nopRouteHandler struct{ routeRecorder }

func (nopRouteHandler) RoutedMsg(*RoutedMsg) error { return nil }
func (nopRouteHandler) RemoteSub(*RemoteSub) error { return nil }

// TestRoutedMsgParseAllocatesNothing guards the routed message fast path.
func TestRoutedMsgParseAllocatesNothing(t *testing.T) {
	p := NewRouteParser(&nopRouteHandler{}, Limits{MaxControlLine: 4096, MaxPayload: 1 << 20}, RouteMode{})
	buf := []byte("RMSG $G foo.bar + _INBOX.abc q1 q2 11\r\nhello world\r\nHMSG $G foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n" +
		"LMSG lc $G foo | q1 0 2\r\nhi\r\nRS+ $G foo q1 3\r\n")
	allocs := testing.AllocsPerRun(1000, func() {
		if err := p.Parse(buf); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("parsing whole routed messages allocated %v times per run", allocs)
	}
}
