package core_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core"
	"github.com/petrel-io/petrel/core/auth"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/proto/prototest"
	"github.com/petrel-io/petrel/sim"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata/proto transcripts with what the engine answers")

// TestProtoGolden runs every transcript in testdata/proto against the engine in the
// simulator: deterministic, on virtual time. server/proto_golden_test.go runs the same files
// against the petrel binary and, when NATS_SERVER_BIN names one, nats-server.
func TestProtoGolden(t *testing.T) {
	files, err := filepath.Glob("../testdata/proto/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			text, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			s, err := prototest.Parse(file, string(text))
			if err != nil {
				t.Fatal(err)
			}
			opts, err := GoldenOptions(s.Options)
			if err != nil {
				t.Fatal(err)
			}
			target := newSimTarget(t, opts)
			if *rewrite {
				out, err := prototest.Record(s, target)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err := prototest.Run(s, target); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// GoldenOptions turns a script's options into engine options; server's runner writes the
// same options as a nats-server configuration file.
func GoldenOptions(list []prototest.Option) (core.Options, error) {
	var o core.Options
	for _, opt := range list {
		if err := applyGoldenOption(&o, opt); err != nil {
			return o, fmt.Errorf("line %d: option %s: %w", opt.Line, opt.Key, err)
		}
	}
	return o, nil
}

func applyGoldenOption(o *core.Options, opt prototest.Option) error {
	num := func() (int, error) {
		if len(opt.Args) != 1 {
			return 0, fmt.Errorf("takes one number")
		}
		return strconv.Atoi(opt.Args[0])
	}
	var err error
	switch opt.Key {
	case "max_connections":
		o.MaxConnections, err = num()
	case "max_payload":
		o.MaxPayload, err = num()
	case "max_control_line":
		o.MaxControlLine, err = num()
	case "max_subscriptions":
		o.MaxSubscriptions, err = num()
	case "auth_timeout":
		var secs int
		secs, err = num()
		o.Auth.Timeout = time.Duration(secs) * time.Second
	case "user":
		return addGoldenUser(o, opt.Args)
	case "no_auth_user":
		o.Auth.NoAuthUser = strings.Join(opt.Args, "")
	default:
		return fmt.Errorf("unknown")
	}
	return err
}

// addGoldenUser reads "user <name> <password> [publish=a,b] [subscribe=c,d]".
func addGoldenUser(o *core.Options, args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("takes a name and a password")
	}
	u := auth.User{Name: args[0], Password: args[1]}
	for _, a := range args[2:] {
		k, v, _ := strings.Cut(a, "=")
		perm := &auth.SubjectPermission{Allow: strings.Split(v, ",")}
		if u.Permissions == nil {
			u.Permissions = &auth.Permissions{}
		}
		switch k {
		case "publish":
			u.Permissions.Publish = perm
		case "subscribe":
			u.Permissions.Subscribe = perm
		default:
			return fmt.Errorf("unknown permission %q", k)
		}
	}
	o.Auth.Users = append(o.Auth.Users, u)
	return nil
}

// simTarget is one simulated world with a server node. Its connections are handed to the
// engine directly (AcceptForTest), not through the simulated network: each send arrives in
// one OnData, as a small write does over loopback, so a server that closes on a bad op has
// read all of it, as nats-server does in the real-TCP runs. (The network's chunking and
// resets are what the parser's split tests and FuzzClientProtocol exercise.)
type simTarget struct {
	t     *testing.T
	w     *sim.World
	srv   *core.Server
	conns int
}

func newSimTarget(t *testing.T, opts core.Options) *simTarget {
	st := &simTarget{t: t}
	st.w = quietWorldWithServer(t, opts, &st.srv)
	st.Sleep(simStep)
	return st
}

func (st *simTarget) Name() string { return prototest.TargetPetrel }

func (st *simTarget) Sleep(d time.Duration) { st.w.RunUntil(st.w.Now() + d) }

func (st *simTarget) Dial() (prototest.Conn, error) {
	st.conns++
	c := &goldenConn{target: st, remote: fmt.Sprintf("c1:%d", 50000+st.conns)}
	st.srv.AcceptForTest(c)
	st.Sleep(simStep)
	return goldenClient{c}, nil
}

// simStep is how far virtual time moves after a send and while a connection waits for a
// line.
const simStep = time.Millisecond

// goldenConn is the server's side of a scripted client: what the engine writes is what the
// client reads.
type goldenConn struct {
	// A nil env.Conn supplies any method the goldens do not use (it panics if called), so a
	// method added to the interface does not stop this file compiling.
	env.Conn
	target *simTarget
	remote string
	ex     env.Executor
	h      env.ConnHandler
	buf    []byte // written by the engine, not yet read by the script
	closed bool   // closed or aborted by the engine
	gone   bool   // closed by the script's client
}

func (c *goldenConn) Start(ex env.Executor, h env.ConnHandler) { c.ex, c.h = ex, h }
func (c *goldenConn) Write(p []byte) error                     { return c.Queue(p) }
func (c *goldenConn) Flush()                                   {}
func (c *goldenConn) Buffered() int                            { return 0 }
func (c *goldenConn) Close() error                             { c.closed = true; return nil }
func (c *goldenConn) Abort()                                   { c.closed = true }
func (c *goldenConn) SetWriteDeadline(time.Duration)           {}
func (c *goldenConn) LocalAddr() string                        { return "s1:4222" }
func (c *goldenConn) RemoteAddr() string                       { return c.remote }

// Queue keeps the bytes at once: the script reads only after the world ran, so bytes queued
// and bytes flushed look the same, in the order they were written.
func (c *goldenConn) Queue(p []byte) error {
	if c.closed {
		return fmt.Errorf("golden: write after close")
	}
	c.buf = append(c.buf, p...)
	return nil
}

// goldenClient is the script's end of a goldenConn.
type goldenClient struct{ c *goldenConn }

func (g goldenClient) Send(p []byte) error {
	c := g.c
	if c.closed || c.gone || c.h == nil {
		return fmt.Errorf("golden: send on a closed connection")
	}
	data := append([]byte(nil), p...)
	c.ex.Post(func() {
		if !c.closed && !c.gone {
			c.h.OnData(data)
		}
	})
	c.target.Sleep(simStep)
	return nil
}

func (g goldenClient) Close() {
	c := g.c
	if c.gone || c.closed || c.h == nil {
		c.gone = true
		return
	}
	c.gone = true
	c.ex.Post(func() {
		if !c.closed {
			c.h.OnClose(nil)
		}
	})
	c.target.Sleep(simStep)
}

func (g goldenClient) Next(wait time.Duration) (string, bool, bool) {
	c := g.c
	for waited := time.Duration(0); ; waited += simStep {
		if i := bytes.Index(c.buf, []byte("\r\n")); i >= 0 {
			line := string(c.buf[:i])
			c.buf = c.buf[i+2:]
			return line, true, false
		}
		if c.closed {
			if len(c.buf) > 0 { // a last line without CRLF
				line := string(c.buf)
				c.buf = nil
				return line, true, false
			}
			return "", false, true
		}
		if waited >= wait {
			return "", false, false
		}
		c.target.Sleep(simStep)
	}
}
