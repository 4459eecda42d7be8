package fuzz

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/websocket"
)

// wsInner is an inner connection that records what the adapter writes; the test delivers
// its events by hand.
type wsInner struct {
	out    bytes.Buffer
	queued []byte
	h      env.ConnHandler
	closed bool
}

func (c *wsInner) Start(_ env.Executor, h env.ConnHandler) { c.h = h }
func (c *wsInner) Write(p []byte) error                    { _ = c.Queue(p); c.Flush(); return nil }
func (c *wsInner) Queue(p []byte) error {
	if c.closed {
		return env.ErrConnClosed
	}
	c.queued = append(c.queued, p...)
	return nil
}
func (c *wsInner) Flush()                                  { c.out.Write(c.queued); c.queued = nil }
func (c *wsInner) Buffered() int                           { return len(c.queued) }
func (c *wsInner) Close() error                            { c.Flush(); c.closed = true; return nil }
func (c *wsInner) Abort()                                  { c.closed, c.queued = true, nil }
func (c *wsInner) SetWriteDeadline(time.Duration)          {}
func (c *wsInner) PauseReads()                             {}
func (c *wsInner) ResumeReads()                            {}
func (c *wsInner) NotifyDrained(int, env.Executor, func()) {}
func (c *wsInner) LocalAddr() string                       { return "s:1" }
func (c *wsInner) RemoteAddr() string                      { return "c:2" }

type wsExec struct{ fns []func() }

func (e *wsExec) Post(fn func()) { e.fns = append(e.fns, fn) }
func (e *wsExec) run() {
	for len(e.fns) > 0 {
		fn := e.fns[0]
		e.fns = e.fns[1:]
		fn()
	}
}

type wsClock struct{}

func (wsClock) Now() time.Time      { return time.Unix(0, 0) }
func (wsClock) Mono() time.Duration { return 0 }
func (wsClock) AfterFunc(time.Duration, env.Executor, func()) env.Timer {
	return wsTimer{} // never fires: the fuzz inputs are not about time
}

type wsTimer struct{}

func (wsTimer) Stop() bool { return true }

// wsSink is the engine's side: what reached it.
type wsSink struct {
	data   []byte
	closed bool
	err    error
}

func (s *wsSink) OnData(p []byte)   { s.data = append(s.data, p...) }
func (s *wsSink) OnClose(err error) { s.closed, s.err = true, err }

const wsRequest = "GET / HTTP/1.1\r\nHost: s:1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"

// openServer runs a good handshake (with deflate when asked) and starts a sink.
func openServer(t *testing.T, deflate bool) (*wsInner, *wsExec, *websocket.Conn, *wsSink) {
	p, err := websocket.NewPolicy(websocket.ServerConfig{Compression: deflate, MessageBytesMax: 1 << 16})
	if err != nil {
		t.Fatal(err)
	}
	inner, ex := &wsInner{}, &wsExec{}
	conn := websocket.NewServer(inner, p)
	var hsErr error
	conn.Handshake(ex, wsClock{}, time.Second, func(err error) { hsErr = err })
	req := wsRequest
	if deflate {
		req += "Sec-WebSocket-Extensions: permessage-deflate\r\n"
	}
	inner.h.OnData([]byte(req + "\r\n"))
	ex.run()
	if hsErr != nil {
		t.Fatal(hsErr)
	}
	inner.out.Reset()
	sink := &wsSink{}
	conn.Start(ex, sink)
	return inner, ex, conn, sink
}

// feedChunks delivers stream to the inner connection's handler cut every cut bytes.
func feedChunks(inner *wsInner, ex *wsExec, stream []byte, cut int) {
	for len(stream) > 0 && !inner.closed {
		n := min(len(stream), cut)
		inner.h.OnData(stream[:n])
		ex.run()
		stream = stream[n:]
	}
}

// oracleSent is what a client sent as message bytes in stream, decoded the simple way
// (whole buffer, no compression): the payloads of masked data frames, in order, up to the
// first frame that breaks a rule or a close frame; an unfinished last frame contributes
// what of its payload is there. It is the reference the adapter is held to.
func oracleSent(stream []byte) []byte {
	var out []byte
	fragmented := false
	for len(stream) >= 2 {
		b0, b1 := stream[0], stream[1]
		op := b0 & 0x0F
		fin := b0&0x80 != 0
		if b0&0x70 != 0 || b1&0x80 == 0 {
			return out // reserved bits, or not masked
		}
		n, hl := uint64(b1&0x7F), 2
		control := op >= 8
		switch {
		case control && (n > 125 || !fin || op > 10):
			return out
		case op == 0 && !fragmented, (op == 1 || op == 2) && fragmented, op > 2 && op < 8:
			return out
		}
		if n == 126 {
			if len(stream) < 4 {
				return out
			}
			n, hl = uint64(binary.BigEndian.Uint16(stream[2:])), 4
		} else if n == 127 {
			if len(stream) < 10 {
				return out
			}
			n, hl = binary.BigEndian.Uint64(stream[2:]), 10
			if n>>63 != 0 {
				return out
			}
		}
		if len(stream) < hl+4 {
			return out
		}
		key := stream[hl : hl+4]
		body := stream[hl+4:]
		if !control && n > 1<<16 {
			return out // over the message bound
		}
		take := min(uint64(len(body)), n)
		if !control {
			for i := range body[:take] {
				out = append(out, body[i]^key[i%4])
			}
			fragmented = !fin
		}
		if take < n {
			return out
		}
		if op == 8 {
			return out
		}
		stream = body[n:]
	}
	return out
}

// FuzzWebsocketFrames: arbitrary bytes from a client never panic the adapter, and what it
// hands the engine is exactly what the simple decoder says was sent, however the stream is
// cut; a violation ends the connection with a close frame. Interpreted as messages, the
// same input round-trips from the client side to the server side, compressed or not.
func FuzzWebsocketFrames(f *testing.F) {
	f.Add([]byte("\x82\x86\x00\x00\x00\x00PING\r\n"), uint8(3), false)
	f.Add([]byte("\x02\x82\x01\x02\x03\x04ab\x89\x80\x00\x00\x00\x00\x80\x81\x00\x00\x00\x00c"), uint8(1), true)
	f.Add([]byte("\x82\xfe\x00\x05\x00\x00\x00\x00hello\x88\x82\x00\x00\x00\x00\x03\xe8"), uint8(7), false)
	f.Add([]byte("\x82\x05hello"), uint8(2), true)
	f.Fuzz(func(t *testing.T, data []byte, cut uint8, deflate bool) {
		step := int(cut)%32 + 1
		inner, ex, _, sink := openServer(t, false)
		feedChunks(inner, ex, data, step)
		if want := oracleSent(data); !bytes.Equal(sink.data, want) {
			t.Fatalf("engine got %q, the decoder says %q was sent", sink.data, want)
		}
		if sink.closed && errors.Is(sink.err, websocket.ErrProtocol) {
			if !bytes.Contains(inner.out.Bytes(), []byte{0x88}) || !inner.closed {
				t.Fatalf("a violation must be answered with a close frame and a close: wrote %q", inner.out.Bytes())
			}
		}
		roundTrip(t, data, step, deflate)
	})
}

// roundTrip writes data as messages from a client Conn (cut into writes at step) and reads
// them with a server Conn.
func roundTrip(t *testing.T, data []byte, step int, deflate bool) {
	cinner, cex := &wsInner{}, &wsExec{}
	client := websocket.NewClient(cinner, websocket.ClientConfig{Host: "s:1", Compression: deflate}, env.NewPRNG(uint64(step)))
	var hsErr error
	client.Handshake(cex, wsClock{}, time.Second, func(err error) { hsErr = err })
	sinner, sex, _, sink := openServer(t, deflate)
	answer := websocket.AcceptKey(string(findHeader(cinner.out.Bytes(), "Sec-WebSocket-Key: ")))
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + answer + "\r\n"
	if deflate {
		resp += "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n"
	}
	cinner.h.OnData([]byte(resp + "\r\n"))
	cex.run()
	if hsErr != nil {
		t.Fatalf("client handshake: %v", hsErr)
	}
	cinner.out.Reset()
	client.Start(cex, &wsSink{})
	for rest := data; len(rest) > 0; {
		n := min(len(rest), step)
		if err := client.Queue(rest[:n]); err != nil {
			t.Fatal(err)
		}
		if n%3 != 0 {
			client.Flush()
		}
		rest = rest[n:]
	}
	client.Flush()
	feedChunks(sinner, sex, cinner.out.Bytes(), step+3)
	if !bytes.Equal(sink.data, data) || sink.closed {
		t.Fatalf("round trip: sent %d bytes, %d arrived (closed %v, %v)", len(data), len(sink.data), sink.closed, sink.err)
	}
}

func findHeader(req []byte, name string) []byte {
	i := bytes.Index(req, []byte(name))
	if i < 0 {
		return nil
	}
	rest := req[i+len(name):]
	return rest[:bytes.IndexByte(rest, '\r')]
}

// FuzzWebsocketHandshake: arbitrary request bytes never panic the server side, and the
// outcome (accepted, or the HTTP answer) does not depend on how the bytes are cut.
func FuzzWebsocketHandshake(f *testing.F) {
	f.Add([]byte(wsRequest+"\r\n"), uint8(5))
	f.Add([]byte("POST / HTTP/1.1\r\nHost: x\r\n\r\n"), uint8(1))
	f.Add([]byte("GET / HTTP/1.0\nUpgrade: websocket\nConnection: upgrade\n\n"), uint8(3))
	f.Add([]byte(wsRequest+"Origin: http://[::1]:80\r\nCookie: a=b; c\r\n X-Folded: y\r\n\r\n\x82"), uint8(9))
	f.Fuzz(func(t *testing.T, data []byte, cut uint8) {
		whole, wholeErr := handshakeOutcome(data, len(data)+1)
		split, splitErr := handshakeOutcome(data, int(cut)%16+1)
		if whole != split || (wholeErr == nil) != (splitErr == nil) || wholeErr != nil && wholeErr.Error() != splitErr.Error() {
			t.Fatalf("whole: %q %v\nsplit: %q %v", whole, wholeErr, split, splitErr)
		}
	})
}

func handshakeOutcome(data []byte, cut int) (string, error) {
	p, err := websocket.NewPolicy(websocket.ServerConfig{Compression: true, SameOrigin: true, AllowedOrigins: []string{"http://a.example"}})
	if err != nil {
		return "", err
	}
	inner, ex := &wsInner{}, &wsExec{}
	conn := websocket.NewServer(inner, p)
	var outcome error
	done := false
	conn.Handshake(ex, wsClock{}, time.Second, func(err error) { done, outcome = true, err })
	for rest := data; len(rest) > 0 && !done; {
		n := min(len(rest), cut)
		inner.h.OnData(rest[:n])
		ex.run()
		rest = rest[n:]
	}
	return inner.out.String(), outcome
}
