package natsclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/proto"
	"github.com/petrel-io/petrel/core/websocket"
)

// Options shape a connection.
type Options struct {
	Name       string
	User, Pass string
	Token      string
	Echo       bool // default false here: set true to receive one's own messages
	NoEcho     bool
	Timeout    time.Duration // for the handshake (default 2s)
	// WebSocket connects through the client side of core/websocket (to a server's
	// WebSocket listener); Compression then offers permessage-deflate.
	WebSocket   bool
	Compression bool
	// Verbose and Pedantic are the CONNECT options; NoHeaders turns headers (and with them
	// no_responders) off.
	Verbose, Pedantic, NoHeaders bool
}

// Msg is a delivered message. Its slices are valid only during the handler call.
type Msg struct {
	Subject string
	Reply   string
	Sid     string
	Header  []byte // the raw header block, nil for MSG
	Data    []byte
}

// Status returns the inline status code of a header block ("503"), or "".
func (m *Msg) Status() string {
	const pre = "NATS/1.0 "
	if len(m.Header) >= len(pre)+3 && string(m.Header[:len(pre)]) == pre {
		return string(m.Header[len(pre) : len(pre)+3])
	}
	return ""
}

// Sub is a subscription.
type Sub struct {
	Subject, Queue, Sid string
	handler             func(*Msg)
}

// Client is one connection to a server.
type Client struct {
	e       *env.Env
	ex      env.Executor
	conn    env.Conn
	parser  *proto.Parser
	subs    map[string]*Sub
	nextSid int
	pongs   []func()
	buf     []byte
	closed  bool
	ready   func(error) // pending Dial completion
	timer   env.Timer
	sent    int // operations sent that a verbose server answers with +OK
	oks     int // +OK received

	// OnError receives -ERR texts; OnClose the end of the connection (nil when Close was
	// called locally, which does not call it).
	OnError func(string)
	OnClose func(error)
	// OnRead, when set, runs after each chunk of bytes from the server has been handled
	// (with its length), so a workload can model a slow reader with PauseReads.
	OnRead func(n int)
	// OnUnknown, when set, receives messages for a sid this client does not hold (one
	// unsubscribed, or never subscribed), which are otherwise dropped.
	OnUnknown func(*Msg)
	// Info is the server's INFO document.
	Info map[string]any
}

// ErrHandshake means the server did not answer the handshake in time.
var ErrHandshake = errors.New("natsclient: handshake timed out")

// Dial connects to addr and posts done(client, nil) to ex once CONNECT was answered with
// PONG, or done(nil, err).
func Dial(e *env.Env, ex env.Executor, addr string, opts Options, done func(*Client, error)) {
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Second
	}
	e.Net.Dial(addr, opts.Timeout, ex, func(conn env.Conn, err error) {
		switch {
		case err != nil:
			done(nil, err)
		case opts.WebSocket:
			ws := websocket.NewClient(conn, websocket.ClientConfig{Host: addr, Compression: opts.Compression}, e.Rand)
			ws.Handshake(ex, e.Clock, opts.Timeout, func(err error) {
				if err != nil {
					done(nil, err) // the connection is closed already
					return
				}
				connect(e, ex, ws, opts, done)
			})
		default:
			connect(e, ex, conn, opts, done)
		}
	})
}

// connect speaks the client's side of the protocol handshake on an open connection.
func connect(e *env.Env, ex env.Executor, conn env.Conn, opts Options, done func(*Client, error)) {
	c := &Client{e: e, ex: ex, conn: conn, subs: map[string]*Sub{}}
	c.parser = proto.NewParser(wire{c}, proto.Limits{})
	c.ready = func(err error) {
		if err != nil {
			c.Close()
			done(nil, err)
			return
		}
		done(c, nil)
	}
	c.timer = e.Clock.AfterFunc(opts.Timeout, ex, func() { c.finishHandshake(ErrHandshake) })
	conn.Start(ex, wire{c})
	c.sendConnect(opts)
}

func (c *Client) finishHandshake(err error) {
	if c.ready == nil {
		return
	}
	ready := c.ready
	c.ready = nil
	c.timer.Stop()
	ready(err)
}

func (c *Client) sendConnect(o Options) {
	doc := map[string]any{
		"verbose": o.Verbose, "pedantic": o.Pedantic, "headers": !o.NoHeaders, "no_responders": !o.NoHeaders,
		"protocol": 1, "echo": !o.NoEcho, "name": o.Name, "lang": "sim", "version": "0.1",
	}
	if o.User != "" {
		doc["user"], doc["pass"] = o.User, o.Pass
	}
	if o.Token != "" {
		doc["auth_token"] = o.Token
	}
	body, _ := json.Marshal(doc) // a map of plain values always marshals
	c.sent++
	c.write(append(append([]byte("CONNECT "), body...), "\r\nPING\r\n"...))
	c.pongs = append(c.pongs, func() { c.finishHandshake(nil) })
}

func (c *Client) write(p []byte) {
	if !c.closed {
		_ = c.conn.Write(p) // a failure means the connection is ending; OnClose follows
	}
}

// Closed reports whether the connection is over.
func (c *Client) Closed() bool { return c.closed }

// Close ends the connection; OnClose is not called.
func (c *Client) Close() {
	if !c.closed {
		c.closed = true
		_ = c.conn.Close() // nothing to do about a failed close
	}
}

// Abort resets the connection at once; OnClose is not called.
func (c *Client) Abort() {
	if !c.closed {
		c.closed = true
		c.conn.Abort()
	}
}

// Subscribe subscribes; handler runs on the client's executor.
func (c *Client) Subscribe(subject, queue string, handler func(*Msg)) *Sub {
	c.nextSid++
	s := &Sub{Subject: subject, Queue: queue, Sid: strconv.Itoa(c.nextSid), handler: handler}
	c.subs[s.Sid] = s
	c.sent++
	c.write(proto.AppendSub(nil, subject, queue, s.Sid))
	return s
}

// Unsubscribe removes s at once (max 0) or after max more messages.
func (c *Client) Unsubscribe(s *Sub, max int) {
	if max == 0 {
		delete(c.subs, s.Sid)
	}
	c.sent++
	c.write(proto.AppendUnsub(nil, s.Sid, max))
}

// Publish sends a message; hdr is a header block or nil.
func (c *Client) Publish(subject, reply string, hdr, data []byte) {
	if hdr == nil {
		c.buf = proto.AppendPub(c.buf[:0], subject, reply, -1, data)
	} else {
		c.buf = proto.AppendPub(c.buf[:0], subject, reply, len(hdr), append(append([]byte(nil), hdr...), data...))
	}
	c.sent++
	c.write(c.buf)
}

// Sent counts the operations sent that a verbose server acknowledges with +OK (CONNECT,
// PUB, HPUB, SUB, UNSUB); OKs counts the +OKs received.
func (c *Client) Sent() int { return c.sent }

// OKs counts the +OK answers received.
func (c *Client) OKs() int { return c.oks }

// WriteRaw sends bytes as they are (a malformed or oversized operation, to test the
// server's refusals); it counts as no operation.
func (c *Client) WriteRaw(p []byte) { c.write(p) }

// Flush sends PING and runs done when the PONG comes back: everything sent before has been
// processed by the server.
func (c *Client) Flush(done func()) {
	c.pongs = append(c.pongs, done)
	c.write(proto.Ping)
}

// Buffered is the connection's unsent bytes.
func (c *Client) Buffered() int { return c.conn.Buffered() }

// wire is the client's side of the connection and the parser: events from the network
// and the server's operations, kept off Client's API.
type wire struct{ c *Client }

func (w wire) OnData(p []byte) {
	c := w.c
	if c.closed {
		return
	}
	if err := c.parser.Parse(p); err != nil {
		c.fail(fmt.Errorf("natsclient: protocol error: %w", err))
		return
	}
	if c.OnRead != nil && !c.closed {
		c.OnRead(len(p))
	}
}

func (w wire) OnClose(err error) {
	c := w.c
	if err == nil {
		err = errors.New("natsclient: server closed the connection")
	}
	c.fail(err)
}

func (c *Client) fail(err error) {
	if c.closed {
		return
	}
	c.closed = true
	c.conn.Abort()
	if c.ready != nil {
		c.finishHandshake(err)
		return
	}
	if c.OnClose != nil {
		c.OnClose(err)
	}
}

func (w wire) Info(raw []byte) error {
	c := w.c
	c.Info = map[string]any{}
	return json.Unmarshal(raw, &c.Info)
}

func (w wire) Msg(subject, sid, reply []byte, hdr int, msg []byte) error {
	c := w.c
	s := c.subs[string(sid)]
	if s == nil && c.OnUnknown == nil {
		return nil // a message for a subscription already gone
	}
	m := &Msg{Subject: string(subject), Reply: string(reply), Sid: string(sid), Data: msg}
	if hdr >= 0 {
		m.Header, m.Data = msg[:hdr], msg[hdr:]
	}
	if s == nil {
		c.OnUnknown(m)
		return nil
	}
	s.handler(m)
	return nil
}

func (w wire) Ping() error {
	c := w.c
	c.write(proto.Pong)
	return nil
}

func (w wire) Pong() error {
	c := w.c
	if len(c.pongs) == 0 {
		return errors.New("natsclient: PONG without PING")
	}
	done := c.pongs[0]
	c.pongs = c.pongs[1:]
	done()
	return nil
}

func (w wire) OK() error {
	w.c.oks++
	return nil
}

func (w wire) Err(text []byte) error {
	c := w.c
	if c.OnError != nil {
		c.OnError(string(text))
	}
	return nil
}

var errServerOp = errors.New("natsclient: client operation from the server")

func (w wire) Connect([]byte) error                  { return errServerOp }
func (w wire) Pub([]byte, []byte, int, []byte) error { return errServerOp }
func (w wire) Sub([]byte, []byte, []byte) error      { return errServerOp }
func (w wire) Unsub([]byte, int) error               { return errServerOp }
