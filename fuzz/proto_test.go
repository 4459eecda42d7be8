package fuzz

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core"
	"github.com/petrel-io/petrel/core/auth"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/proto"
	"github.com/petrel-io/petrel/sim"
)

// opLog records parsed operations as text, to compare two parses of one stream.
type opLog struct{ ops []string }

func (l *opLog) add(format string, args ...any) error {
	l.ops = append(l.ops, fmt.Sprintf(format, args...))
	return nil
}
func (l *opLog) Connect(j []byte) error { return l.add("CONNECT %q", j) }
func (l *opLog) Info(j []byte) error    { return l.add("INFO %q", j) }
func (l *opLog) Pub(s, r []byte, h int, m []byte) error {
	return l.add("PUB %q %q %d %q", s, r, h, m)
}
func (l *opLog) Msg(s, sid, r []byte, h int, m []byte) error {
	return l.add("MSG %q %q %q %d %q", s, sid, r, h, m)
}
func (l *opLog) Sub(s, q, sid []byte) error      { return l.add("SUB %q %q %q", s, q, sid) }
func (l *opLog) Unsub(sid []byte, max int) error { return l.add("UNSUB %q %d", sid, max) }
func (l *opLog) Ping() error                     { return l.add("PING") }
func (l *opLog) Pong() error                     { return l.add("PONG") }
func (l *opLog) OK() error                       { return l.add("+OK") }
func (l *opLog) Err(t []byte) error              { return l.add("-ERR %q", t) }

func parseChunks(input []byte, cut int) ([]string, error) {
	l := &opLog{}
	p := proto.NewParser(l, proto.Limits{MaxControlLine: 4096, MaxPayload: 1 << 16})
	for len(input) > 0 {
		n := min(len(input), cut)
		if err := p.Parse(input[:n]); err != nil {
			return l.ops, err
		}
		input = input[n:]
	}
	return l.ops, nil
}

// FuzzParser: the parser never panics, and a stream cut into chunks parses to the same
// operations (and the same error, if any) as the whole stream.
func FuzzParser(f *testing.F) {
	f.Add([]byte("PUB foo 5\r\nhello\r\nSUB foo q 1\r\nPING\r\n"), uint8(3))
	f.Add([]byte("HPUB a r 12 14\r\nNATS/1.0\r\n\r\nhi\r\nUNSUB 1 5\r\n"), uint8(1))
	f.Add([]byte("MSG a 1 b 3\r\nabc\r\nHMSG a 1 5 5\r\nNATS/\r\n-ERR 'x'\r\n+OK\r\nINFO {}\r\n"), uint8(7))
	f.Add([]byte("CONNECT {\"verbose\":false}\r\nPUB foo 99999999999999\r\n"), uint8(5))
	f.Fuzz(func(t *testing.T, input []byte, cut uint8) {
		whole, werr := parseChunks(input, len(input)+1)
		split, serr := parseChunks(input, int(cut)%16+1)
		if (werr == nil) != (serr == nil) {
			t.Fatalf("whole stream err %v, split err %v", werr, serr)
		}
		if werr == nil && strings.Join(whole, "\n") != strings.Join(split, "\n") {
			t.Fatalf("split parse differs:\n%q\n%q", whole, split)
		}
		// With an error, the ops before it agree as far as both got.
		n := min(len(whole), len(split))
		if strings.Join(whole[:n], "\n") != strings.Join(split[:n], "\n") {
			t.Fatalf("parses disagree before the error")
		}
	})
}

// FuzzClientProtocol feeds arbitrary bytes to a real engine as a client, in the simulator:
// whatever arrives, the server must not panic and must keep serving other clients.
func FuzzClientProtocol(f *testing.F) {
	f.Add([]byte("CONNECT {}\r\nSUB a 1\r\nPUB a 1\r\nx\r\nPING\r\n"))
	f.Add([]byte("CONNECT {\"user\":1}\r\nHPUB a b 3 2\r\n"))
	f.Add([]byte("SUB a.> q 1\r\nUNSUB 1 2\r\nPUB a.b _INBOX.c 0\r\n\r\nHPUB a 16 16\r\nNATS/1.0 503\r\n\r\n\r\n"))
	f.Add([]byte("CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true,\"no_responders\":true}\r\nSUB a.* 1\r\nPUB a.* a.> 0\r\n\r\nCONNECT {\"echo\":false}\r\nINFO {}\r\nPINGX\r\n"))
	f.Fuzz(func(t *testing.T, input []byte) {
		fuzzEngine(t, core.Options{Port: 4222, MaxPayload: 4096}, input, `CONNECT {"verbose":false}`)
	})
}

// FuzzClientProtocolAuth is FuzzClientProtocol on a server that requires authentication,
// where ops before CONNECT are judged by their first byte and a second CONNECT authenticates
// again (possibly as another user, whose permissions then prune the subscriptions).
func FuzzClientProtocolAuth(f *testing.F) {
	f.Add([]byte("CONNECT {\"user\":\"u\",\"pass\":\"p\"}\r\nSUB a 1\r\nSUB ok.a 2\r\nCONNECT {\"user\":\"v\",\"pass\":\"q\"}\r\nPUB ok.a 1\r\nx\r\n"))
	f.Add([]byte("PUB a 5000000\r\n"))
	f.Add([]byte("CONN"))
	f.Fuzz(func(t *testing.T, input []byte) {
		perms := &auth.Permissions{Publish: &auth.SubjectPermission{Allow: []string{"ok.>"}}, Subscribe: &auth.SubjectPermission{Allow: []string{"ok.>"}}}
		opts := core.Options{Port: 4222, MaxPayload: 4096, Auth: auth.Config{Users: []auth.User{
			{Name: "u", Password: "p"}, {Name: "v", Password: "q", Permissions: perms}}}}
		fuzzEngine(t, opts, input, `CONNECT {"verbose":false,"user":"u","pass":"p"}`)
	})
}

// fuzzEngine sends input as one client of an engine built from opts, then checks that a
// second client (CONNECT line given) is still served.
func fuzzEngine(t *testing.T, opts core.Options, input []byte, connect string) {
	quiet := sim.Quiet()
	w := sim.NewWorld(1, sim.Options{Profile: &quiet})
	w.AddNode("s1", sim.NodeConfig{}, func(e *env.Env) {
		s, err := core.New(opts, e)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
	})
	var cli *env.Env
	w.AddNode("c1", sim.NodeConfig{}, func(e *env.Env) { cli = e })
	send := func(data []byte) *probe {
		p := &probe{}
		ex := cli.Exec.New("c")
		cli.Net.Dial("s1:4222", time.Second, ex, func(c env.Conn, err error) {
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			c.Start(ex, p)
			_ = c.Write(data)
		})
		return p
	}
	send(input)
	w.RunUntil(time.Second)
	healthy := send([]byte(connect + "\r\nSUB z 1\r\nPUB z 2\r\nok\r\nPING\r\n"))
	w.RunUntil(2 * time.Second)
	if !strings.Contains(healthy.got.String(), "MSG z 1 2\r\nok\r\nPONG\r\n") {
		t.Fatalf("after the fuzzed client the server no longer serves: %q", healthy.got.String())
	}
}

type probe struct{ got strings.Builder }

func (p *probe) OnData(b []byte) { p.got.Write(b) }
func (p *probe) OnClose(error)   {}
