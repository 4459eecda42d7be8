package fuzz

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/petrel-io/petrel/core/proto"
)

// routeLog records route ops as text (every field quoted) and encodes each again.
type routeLog struct {
	mode proto.RouteMode
	ops  []string
	enc  []byte // the ops encoded again, in order
}

func (l *routeLog) add(enc []byte, format string, args ...any) error {
	l.ops = append(l.ops, fmt.Sprintf(format, args...))
	l.enc = append(l.enc, enc...)
	return nil
}
func (l *routeLog) Connect(j []byte) error {
	return l.add(proto.AppendConnect(nil, j), "CONNECT %q", j)
}
func (l *routeLog) Info(j []byte) error { return l.add(proto.AppendInfo(nil, j), "INFO %q", j) }
func (l *routeLog) Ping() error         { return l.add(proto.Ping, "PING") }
func (l *routeLog) Pong() error         { return l.add(proto.Pong, "PONG") }
func (l *routeLog) OK() error           { return l.add(proto.OK, "+OK") }
func (l *routeLog) Err(t []byte) error  { return l.add(proto.AppendErr(nil, string(t)), "-ERR %q", t) }
func (l *routeLog) RemoteSub(s *proto.RemoteSub) error {
	return l.add(l.mode.AppendSub(nil, s), "SUB %v %q %q %q %q %d", s.Leaf, s.Origin, s.Account, s.Subject, s.Queue, s.Weight)
}
func (l *routeLog) RemoteUnsub(s *proto.RemoteSub) error {
	return l.add(l.mode.AppendUnsub(nil, s), "UNSUB %v %q %q %q %q", s.Leaf, s.Origin, s.Account, s.Subject, s.Queue)
}
func (l *routeLog) RoutedMsg(m *proto.RoutedMsg) error {
	return l.add(l.mode.AppendMsg(nil, m), "MSG %q %q %q %q %q %d %q", m.Origin, m.Account, m.Subject, m.Reply, m.Queues, m.Hdr, m.Payload)
}

// routeModes are the modes a fuzz input picks from: pooled, pinned, and an old peer's LS-.
var routeModes = []proto.RouteMode{{}, {Account: "ACC"}, {Account: "$SYS"},
	{LeafUnsubWithoutOrigin: true}, {Account: "ACC", LeafUnsubWithoutOrigin: true}}

func parseRouteChunks(mode proto.RouteMode, limits proto.Limits, input []byte, cut int) (*routeLog, error) {
	l := &routeLog{mode: mode}
	p := proto.NewRouteParser(l, limits, mode)
	for len(input) > 0 {
		n := min(len(input), cut)
		if err := p.Parse(input[:n]); err != nil {
			return l, err
		}
		input = input[n:]
	}
	return l, nil
}

// FuzzRouteParser: the route parser never panics; a stream cut into chunks parses as the
// whole stream does; and every op it reads encodes to bytes that parse to the same op again.
func FuzzRouteParser(f *testing.F) {
	for _, seed := range routeSeeds(f) {
		f.Add(seed.wire, seed.mode, uint8(7))
	}
	f.Add([]byte("RMSG $G a + r q1 q2 2\r\nhi\r\nLS- lc $G b q\r\nRS+ a\rq\r1\r\n"), uint8(0), uint8(3))
	f.Add([]byte("LMSG lc foo 0 1\r\nx\r\nHMSG a | q 0 0\r\n\r\n-ERR ''\r\nINFO{}\r\n"), uint8(1), uint8(1))
	f.Fuzz(func(t *testing.T, input []byte, modeSel, cut uint8) {
		mode := routeModes[int(modeSel)%len(routeModes)]
		limits := proto.Limits{MaxControlLine: 4096, MaxPayload: 1 << 16}
		whole, werr := parseRouteChunks(mode, limits, input, len(input)+1)
		split, serr := parseRouteChunks(mode, limits, input, int(cut)%16+1)
		if (werr == nil) != (serr == nil) {
			t.Fatalf("whole stream err %v, split err %v", werr, serr)
		}
		n := min(len(whole.ops), len(split.ops))
		if werr == nil && len(whole.ops) != len(split.ops) || strings.Join(whole.ops[:n], "\n") != strings.Join(split.ops[:n], "\n") {
			t.Fatalf("split parse differs:\n%q\n%q", whole.ops, split.ops)
		}
		// Re-encoding may lengthen a line (INFO's trailing blank, -ERR's quotes): no limits.
		again, err := parseRouteChunks(mode, proto.Limits{}, whole.enc, len(whole.enc)+1)
		if err != nil {
			t.Fatalf("the encoding of what was read does not parse: %v\n%q", err, whole.enc)
		}
		if strings.Join(again.ops, "\n") != strings.Join(whole.ops, "\n") {
			t.Fatalf("encode then parse is not the identity:\n%q\n%q", whole.ops, again.ops)
		}
	})
}

type routeSeed struct {
	wire []byte
	mode uint8
}

// routeSeeds reads the captured route traffic in testdata/route, one seed per direction.
func routeSeeds(f *testing.F) []routeSeed {
	files, err := filepath.Glob("../testdata/route/*.txt")
	if err != nil || len(files) == 0 {
		f.Fatalf("no route captures: %v", err)
	}
	var seeds []routeSeed
	for _, file := range files {
		text, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var mode uint8
		var cur *routeSeed
		sc := bufio.NewScanner(bytes.NewReader(text))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "account "):
				mode = modeFor(strings.TrimPrefix(line, "account "))
			case strings.HasPrefix(line, "-- wire "):
				seeds = append(seeds, routeSeed{mode: mode})
				cur = &seeds[len(seeds)-1]
			case strings.HasPrefix(line, "-- "):
				cur = nil
			case cur != nil:
				s, err := strconv.Unquote(line)
				if err != nil {
					f.Fatalf("%s: %v", file, err)
				}
				cur.wire = append(cur.wire, s...)
			}
		}
	}
	return seeds
}

func modeFor(account string) uint8 {
	for i, m := range routeModes {
		if m.Account == account {
			return uint8(i)
		}
	}
	panic("fuzz: no route mode pinned to " + account)
}
