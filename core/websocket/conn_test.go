package websocket

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// serverFrames deframes what a server wrote (unmasked frames) into messages and controls.
func serverFrames(t *testing.T, b []byte, deflate bool) deframeResult {
	t.Helper()
	return deframeAll(b, false, deflate)
}

func TestConnWritesFramesAndBatchesQueuedWrites(t *testing.T) {
	r := newServerRig(ServerConfig{})
	r.open(goodRequest)
	must(t, r.conn.Write([]byte("INFO {} \r\n")))
	if got := r.inner.take(); !bytes.Equal(got, append([]byte{0x82, 10}, "INFO {} \r\n"...)) {
		t.Fatalf("INFO frame %q", got)
	}
	must(t, r.conn.Queue([]byte("MSG a 1 1\r\nx\r\n")))
	must(t, r.conn.Queue([]byte("MSG a 1 1\r\ny\r\n")))
	if r.conn.Buffered() != 28 || len(r.inner.take()) != 0 {
		t.Fatalf("queued bytes: Buffered %d", r.conn.Buffered())
	}
	r.conn.Flush()
	if got := r.inner.take(); got[0] != 0x82 || got[1] != 28 || len(got) != 30 {
		t.Fatalf("two queued writes should make one frame, got %q", got)
	}
	if r.conn.Buffered() != 0 {
		t.Fatalf("Buffered %d after flush", r.conn.Buffered())
	}
	// A large write is cut into frames of at most FramePayloadMax.
	must(t, r.conn.Write(make([]byte, 2*FramePayloadMax+10)))
	d := deframer{messageMax: FramePayloadMax, onControl: func(Opcode, []byte) error { return nil }}
	out, err := d.feed(r.inner.take(), nil)
	if err != nil || len(out) != 2*FramePayloadMax+10 {
		t.Fatalf("large write: %d bytes, err %v", len(out), err)
	}
}

func TestConnBrowserFramesAreSmall(t *testing.T) {
	r := newServerRig(ServerConfig{})
	r.open(withHeader("User-Agent", "Mozilla/5.0"))
	must(t, r.conn.Write(make([]byte, 10000)))
	b := r.inner.take()
	if b[0] != 0x82 || b[1] != 126 || int(b[2])<<8|int(b[3]) != BrowserFramePayloadMax {
		t.Fatalf("first browser frame header % x", b[:4])
	}
}

func TestConnDeliversMessageBytesAndAnswersPings(t *testing.T) {
	r := newServerRig(ServerConfig{})
	rec := r.open(goodRequest)
	r.send(cat(masked(0x02, "CONNECT {}\r\nPI"), masked(0x89, "hb"), masked(0x80, "NG\r\n")))
	if rec.data.String() != "CONNECT {}\r\nPING\r\n" {
		t.Fatalf("engine got %q", rec.data.String())
	}
	if res := serverFrames(t, r.inner.take(), false); strings.Join(res.controls, ",") != "pong:hb" {
		t.Fatalf("answer to ping: %v", res.controls)
	}
	if r.inner.queued != nil || r.inner.flushes == 0 {
		t.Fatal("the pong must be flushed")
	}
}

func TestConnPeerCloseIsAnsweredAndReported(t *testing.T) {
	r := newServerRig(ServerConfig{})
	rec := r.open(goodRequest)
	r.send(cat(masked(0x82, "PING\r\n"), masked(0x88, "\x03\xe8bye"), masked(0x82, "ignored")))
	if rec.data.String() != "PING\r\n" || !rec.closed || rec.err != nil {
		t.Fatalf("data %q closed %v err %v", rec.data.String(), rec.closed, rec.err)
	}
	res := serverFrames(t, r.inner.take(), false)
	if strings.Join(res.controls, ",") != "close:03e8627965" || !r.inner.closed {
		t.Fatalf("close answer %v, inner closed %v", res.controls, r.inner.closed)
	}
	if err := r.conn.Write([]byte("late")); !errors.Is(err, env.ErrConnClosed) {
		t.Fatalf("write after close: %v", err)
	}
	// An empty close is answered with an empty close (1005 is never written).
	r = newServerRig(ServerConfig{})
	r.open(goodRequest)
	r.send(masked(0x88, ""))
	if got := r.inner.take(); !bytes.Equal(got, []byte{0x88, 0}) {
		t.Fatalf("answer to an empty close: % x", got)
	}
	// A close whose reason is not UTF-8 is answered with 1007.
	r = newServerRig(ServerConfig{})
	r.open(goodRequest)
	r.send(masked(0x88, "\x03\xe8\xff"))
	if res := serverFrames(t, r.inner.take(), false); !strings.HasPrefix(strings.Join(res.controls, ","), "close:03ef") {
		t.Fatalf("answer to a bad reason: %v", res.controls)
	}
}

func TestConnViolationClosesWithStatus(t *testing.T) {
	r := newServerRig(ServerConfig{})
	rec := r.open(goodRequest)
	r.send(cat(masked(0x82, "ok"), frameBytes(0x82, false, testKey, []byte("x"))))
	if rec.data.String() != "ok" || !rec.closed || !errors.Is(rec.err, ErrProtocol) {
		t.Fatalf("data %q closed %v err %v", rec.data.String(), rec.closed, rec.err)
	}
	want := append([]byte{0x88, 18, 0x03, 0xea}, "mask bit missing"...)
	if got := r.inner.take(); !bytes.Equal(got, want) || !r.inner.closed {
		t.Fatalf("close frame %q, want %q", got, want)
	}
	if r.conn.Phase() != PhaseClosed {
		t.Fatalf("phase %d", r.conn.Phase())
	}
}

func TestConnLocalCloseSendsStatusAfterData(t *testing.T) {
	r := newServerRig(ServerConfig{})
	rec := r.open(goodRequest)
	must(t, r.conn.Queue([]byte("-ERR 'Stale Connection'\r\n")))
	r.conn.SetCloseStatus(CloseGoingAway, "Stale Connection")
	must(t, r.conn.Close())
	res := serverFrames(t, r.inner.take(), false)
	if res.data != "-ERR 'Stale Connection'\r\n" || strings.Join(res.controls, ",") != "close:03e95374616c6520436f6e6e656374696f6e" {
		t.Fatalf("after close: data %q controls %v", res.data, res.controls)
	}
	if r.conn.Phase() != PhaseClosing || !r.inner.closed {
		t.Fatalf("phase %d", r.conn.Phase())
	}
	must(t, r.conn.Close()) // idempotent: no second close frame
	if len(r.inner.take()) != 0 {
		t.Fatal("a second Close wrote again")
	}
	r.inner.h.OnClose(nil) // a late event from below must not reach the engine
	if rec.closed {
		t.Fatal("OnClose delivered after a local Close")
	}
}

func TestConnEngineClosingDuringDataStopsDelivery(t *testing.T) {
	r := newServerRig(ServerConfig{})
	rec := r.open(goodRequest)
	rec.onData = func([]byte) { r.conn.Abort() }
	r.send(cat(masked(0x82, "a"), masked(0x88, "")))
	if rec.closed || !r.inner.aborted || r.conn.Phase() != PhaseClosed {
		t.Fatalf("closed %v aborted %v", rec.closed, r.inner.aborted)
	}
}

func TestConnEventsBeforeStartWait(t *testing.T) {
	r := newServerRig(ServerConfig{})
	r.send([]byte(goodRequest))
	r.inner.h.OnData(masked(0x82, "early"))
	r.inner.h.OnClose(env.ErrReset)
	rec := &recorder{}
	r.conn.Start(r.ex, rec)
	if rec.data.String() != "early" || !errors.Is(rec.err, env.ErrReset) {
		t.Fatalf("data %q err %v", rec.data.String(), rec.err)
	}
}

func TestConnCompressionBothWays(t *testing.T) {
	r := newServerRig(ServerConfig{Compression: true})
	rec := r.open(withHeader("Sec-WebSocket-Extensions", "permessage-deflate"))
	msg := strings.Repeat("MSG orders.new 1 5\r\nhello\r\n", 100)
	must(t, r.conn.Write([]byte(msg)))
	wire := r.inner.take()
	if wire[0] != 0xC2 || len(wire) > len(msg)/4 {
		t.Fatalf("compressed frame: first byte %x, %d bytes for %d", wire[0], len(wire), len(msg))
	}
	if res := serverFrames(t, wire, true); res.data != msg {
		t.Fatal("compressed write does not inflate back")
	}
	f := framer{mask: true, rand: env.NewPRNG(1), deflate: true, frameMax: 100}
	var in []byte
	f.frames([]byte(msg), func(p []byte) { in = append(in, p...) })
	r.send(in)
	if rec.data.String() != msg {
		t.Fatal("compressed frames from the client do not reach the engine whole")
	}
}

// The client side: its request, its check of the answer, masked frames.
func TestClientHandshakeAndMasking(t *testing.T) {
	inner, ex, clock := &fakeConn{}, &queueEx{}, &fakeClock{}
	c := NewClient(inner, ClientConfig{Host: "s1:8080", Compression: true, Header: map[string]string{"Origin": "http://s1"}}, env.NewPRNG(3))
	var hsErr error
	done := false
	c.Handshake(ex, clock, time.Second, func(err error) { done, hsErr = true, err })
	req := string(inner.take())
	srv := newServerRig(ServerConfig{Compression: true})
	srv.send([]byte(req))
	if srv.err != nil || srv.conn.Upgrade().Request.Header("Origin") != "http://s1" || !srv.conn.Upgrade().Compress {
		t.Fatalf("server refused the client's request %q: %v", req, srv.err)
	}
	answer := srv.inner.take()
	must(t, srv.conn.Write([]byte("INFO {} \r\n")))
	inner.h.OnData(append(answer, srv.inner.take()...)) // the 101 and the first frame together
	ex.drain()
	if !done || hsErr != nil {
		t.Fatalf("client handshake: done %v err %v", done, hsErr)
	}
	rec := &recorder{}
	c.Start(ex, rec)
	if rec.data.String() != "INFO {} \r\n" {
		t.Fatalf("client got %q", rec.data.String())
	}
	must(t, c.Write([]byte("CONNECT {}\r\n")))
	out := inner.take()
	if out[1]&maskBit == 0 {
		t.Fatal("client frames must be masked")
	}
	srvRec := &recorder{}
	srv.conn.Start(srv.ex, srvRec)
	srv.send(out)
	if srvRec.data.String() != "CONNECT {}\r\n" {
		t.Fatalf("server got %q", srvRec.data.String())
	}
}

func TestClientRefusesBadAnswers(t *testing.T) {
	cases := []struct{ name, answer, reason string }{
		{"not 101", "HTTP/1.1 403 Forbidden\r\n\r\n", "server answered 403"},
		{"wrong accept", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: nope\r\n\r\n", "invalid websocket connection"},
		{"not HTTP", "SSH-2.0\r\n\r\n", `malformed response "SSH-2.0"`},
	}
	for _, c := range cases {
		inner, ex := &fakeConn{}, &queueEx{}
		conn := NewClient(inner, ClientConfig{Host: "h"}, env.NewPRNG(1))
		var err error
		conn.Handshake(ex, &fakeClock{}, time.Second, func(e error) { err = e })
		inner.h.OnData([]byte(c.answer))
		var he *HandshakeError
		if !errors.As(err, &he) || he.Reason != c.reason || !inner.closed {
			t.Errorf("%s: err %v, want %q", c.name, err, c.reason)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
