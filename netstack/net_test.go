package netstack

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// collector is a ConnHandler that keeps what arrives. Its fields other than the channels and
// closes are touched only on its executor.
type collector struct {
	want     int
	got      []byte
	chunks   int
	maxChunk int
	full     chan struct{} // closed once want bytes arrived
	closed   chan error    // OnClose's error
	closes   atomic.Int32
}

func newCollector(want int) *collector {
	return &collector{want: want, full: make(chan struct{}), closed: make(chan error, 1)}
}

func (c *collector) OnData(p []byte) {
	before := len(c.got)
	c.got = append(c.got, p...)
	c.chunks++
	c.maxChunk = max(c.maxChunk, len(p))
	if before < c.want && len(c.got) >= c.want {
		close(c.full)
	}
}

func (c *collector) OnClose(err error) {
	c.closes.Add(1)
	select {
	case c.closed <- err:
	default: // a second OnClose; closes already records it
	}
}

// echo writes back whatever it receives.
type echo struct {
	c env.Conn
	*collector
}

func (e echo) OnData(p []byte) {
	if err := e.c.Write(p); err != nil {
		panic(err)
	}
}

// listen starts an Env listener on a free loopback port whose accepted connections go to
// onAccept on ex.
func listen(t *testing.T, e *env.Env, ex env.Executor, onAccept func(env.Conn)) env.Listener {
	t.Helper()
	ln, err := e.Net.Listen("127.0.0.1:0", ex, onAccept)
	must(t, err)
	t.Cleanup(func() { ln.Close() })
	return ln
}

type dialResult struct {
	c   env.Conn
	err error
}

func dial(e *env.Env, addr string, ex env.Executor) <-chan dialResult {
	ch := make(chan dialResult, 1)
	e.Net.Dial(addr, 5*time.Second, ex, func(c env.Conn, err error) { ch <- dialResult{c, err} })
	return ch
}

func mustDial(t *testing.T, e *env.Env, addr string, ex env.Executor) *conn {
	t.Helper()
	r := waitFor(t, dial(e, addr, ex), "dial")
	must(t, r.err)
	t.Cleanup(func() { r.c.Abort() })
	return r.c.(*conn)
}

// assertNoOnClose checks that c's handler got no OnClose: once the reader has exited it can
// post nothing more, and a marker posted after it runs after anything it did post.
func assertNoOnClose(t *testing.T, c *conn, ex env.Executor, col *collector) {
	t.Helper()
	waitFor(t, c.readDone, "the reader to exit")
	runOn(t, ex, func() {})
	if n := col.closes.Load(); n != 0 {
		t.Fatalf("OnClose delivered %d times after a local close", n)
	}
}

// Bytes written through one Env connection come back through an echo server intact, in
// order and in bounded chunks; a client Close reaches the server as OnClose(nil), and the
// closing side hears nothing.
func TestTCPEcho(t *testing.T) {
	e, _ := newTestEnv(t)
	srvEx, cliEx := e.Exec.New("server"), e.Exec.New("client")
	payload := make([]byte, 256<<10)
	e.Rand.Fill(payload)
	srvCol := newCollector(0)
	ln := listen(t, e, srvEx, func(c env.Conn) { c.Start(e.Exec.New("srvconn"), echo{c, srvCol}) })

	c := mustDial(t, e, ln.Addr(), cliEx)
	col := newCollector(len(payload))
	c.Start(cliEx, col)
	must(t, c.Write(payload[:1000]))
	must(t, c.Write(payload[1000:]))
	waitFor(t, col.full, "the echoed payload")
	runOn(t, cliEx, func() {
		if !bytes.Equal(col.got, payload) {
			t.Errorf("echo differs: got %d bytes", len(col.got))
		}
		if col.maxChunk > readBufMax {
			t.Errorf("a chunk of %d bytes exceeds the read buffer", col.maxChunk)
		}
		must(t, c.Close())
	})
	if err := waitFor(t, srvCol.closed, "the server's OnClose"); err != nil {
		t.Fatalf("server OnClose(%v), want nil for a clean close", err)
	}
	assertNoOnClose(t, c, cliEx, col)
	if err := c.Write([]byte("late")); !errors.Is(err, env.ErrConnClosed) {
		t.Fatalf("Write after Close = %v, want ErrConnClosed", err)
	}
}

// Abort resets the connection: the peer's OnClose says ErrReset, the aborting side hears
// nothing.
func TestAbortPeerSeesReset(t *testing.T) {
	e, _ := newTestEnv(t)
	srvEx, cliEx := e.Exec.New("server"), e.Exec.New("client")
	type accepted struct {
		c   *conn
		col *collector
		ex  env.Executor
	}
	acc := make(chan accepted, 1)
	ln := listen(t, e, srvEx, func(c env.Conn) {
		a := accepted{c.(*conn), newCollector(1), e.Exec.New("srvconn")}
		c.Start(a.ex, a.col)
		acc <- a
	})
	c := mustDial(t, e, ln.Addr(), cliEx)
	col := newCollector(0)
	c.Start(cliEx, col)
	must(t, c.Write([]byte("x")))
	srv := waitFor(t, acc, "accept")
	waitFor(t, srv.col.full, "the server to receive")
	runOn(t, srv.ex, srv.c.Abort)

	err := waitFor(t, col.closed, "the client's OnClose")
	if !errors.Is(err, env.ErrReset) {
		t.Fatalf("client OnClose(%v), want ErrReset", err)
	}
	assertNoOnClose(t, srv.c, srv.ex, srv.col)
	runOn(t, cliEx, func() {})
	if n := col.closes.Load(); n != 1 {
		t.Fatalf("client got %d OnClose, want 1", n)
	}
}

func TestDialClosedPortRefused(t *testing.T) {
	e, _ := newTestEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := ln.Addr().String()
	must(t, ln.Close())
	r := waitFor(t, dial(e, addr, e.Exec.New("dial")), "dial")
	if r.c != nil || !errors.Is(r.err, env.ErrRefused) {
		t.Fatalf("dial to a closed port = %v, %v; want ErrRefused", r.c, r.err)
	}
}

// rawPeer accepts one plain socket, so a test controls when the far side reads.
func rawPeer(t *testing.T) (addr string, accepted <-chan net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	ch := make(chan net.Conn, 1)
	go func() {
		defer ln.Close()
		if nc, err := ln.Accept(); err == nil {
			ch <- nc
		}
	}()
	return ln.Addr().String(), ch
}

// Buffered counts what a peer that does not read leaves queued, and falls to 0 once the
// peer has read everything.
func TestBufferedDrainsToZero(t *testing.T) {
	e, c, peer := startedRawPair(t)

	payload := make([]byte, 16<<20) // far beyond any socket buffer pair
	e.Rand.Fill(payload)
	must(t, c.Write(payload))
	if c.Buffered() == 0 {
		t.Fatal("Buffered is 0 right after a 16 MiB write to a peer that is not reading")
	}
	got := make(chan []byte, 1)
	go func() {
		buf := make([]byte, len(payload))
		_, err := io.ReadFull(peer, buf)
		if err != nil {
			t.Error(err)
		}
		got <- buf
	}()
	if !bytes.Equal(waitFor(t, got, "the peer to read everything"), payload) {
		t.Fatal("peer read different bytes")
	}
	waitFor(t, c.whenDrained(), "the writer to drain")
	if n := c.Buffered(); n != 0 {
		t.Fatalf("Buffered = %d after the peer read everything", n)
	}
}

// Close sends what is queued before closing, and the peer then sees a clean end.
func TestCloseFlushesPending(t *testing.T) {
	e, _ := newTestEnv(t)
	ex := e.Exec.New("client")
	addr, accepted := rawPeer(t)
	c := mustDial(t, e, addr, ex)
	peer := waitFor(t, accepted, "the raw accept")
	defer peer.Close()
	col := newCollector(0)
	c.Start(ex, col)
	payload := make([]byte, 4<<20)
	e.Rand.Fill(payload)
	runOn(t, ex, func() {
		must(t, c.Write(payload))
		must(t, c.Close())
	})
	got := make(chan []byte, 1)
	go func() {
		b, err := io.ReadAll(peer) // returns at the clean EOF
		if err != nil {
			t.Error(err)
		}
		got <- b
	}()
	if !bytes.Equal(waitFor(t, got, "the peer to read to EOF"), payload) {
		t.Fatal("peer did not receive everything queued before Close")
	}
	must(t, peer.Close()) // ends the graceful close's wait for the peer's side
	assertNoOnClose(t, c, ex, col)
}

// A Close on the executor stops data already queued for it, and still delivers what it
// queued although input is left unread: closing with unread input would otherwise send a
// RST that can destroy the queued bytes at the peer.
func TestCloseFromExecutorStopsQueuedDataAndFlushes(t *testing.T) {
	e, _ := newTestEnv(t)
	ex := e.Exec.New("client")
	addr, accepted := rawPeer(t)
	c := mustDial(t, e, addr, ex)
	peer := waitFor(t, accepted, "the raw accept")
	defer peer.Close()
	col := newCollector(1)
	posted := make(chan struct{}, 1)
	input := make([]byte, 512<<10) // more than one read: some stays unread in the kernel
	reply := make([]byte, 1<<20)
	e.Rand.Fill(reply)
	runOn(t, ex, func() {
		c.Start(notifyingExecutor{Executor: ex, posted: posted}, col)
		go func() { _, _ = peer.Write(input) }()         // finishes once the closing side discards it
		waitFor(t, posted, "the reader to queue OnData") // test-only: holds the executor
		must(t, c.Write(reply))
		must(t, c.Close())
	})
	got := make(chan []byte, 1)
	go func() {
		b, err := io.ReadAll(peer)
		if err != nil {
			t.Error(err) // a RST shows up here as "connection reset by peer"
		}
		got <- b
	}()
	if !bytes.Equal(waitFor(t, got, "the peer to read to EOF"), reply) {
		t.Fatal("peer did not receive everything queued before Close")
	}
	must(t, peer.Close())
	assertNoOnClose(t, c, ex, col)
	runOn(t, ex, func() {
		if len(col.got) != 0 {
			t.Errorf("OnData(%d bytes) ran after Close", len(col.got))
		}
	})
}

// Write works before Start (the engine may greet first), and bytes that arrived before
// Start are delivered after it.
func TestWriteBeforeStartAndEarlyBytes(t *testing.T) {
	e, _ := newTestEnv(t)
	ex := e.Exec.New("client")
	addr, accepted := rawPeer(t)
	c := mustDial(t, e, addr, ex)
	peer := waitFor(t, accepted, "the raw accept")
	defer peer.Close()
	must(t, c.Write([]byte("hi")))
	greeting := make([]byte, 2)
	if _, err := io.ReadFull(peer, greeting); err != nil || string(greeting) != "hi" {
		t.Fatalf("peer read %q, %v", greeting, err)
	}
	if _, err := peer.Write([]byte("early")); err != nil {
		t.Fatal(err)
	}
	col := newCollector(len("early"))
	c.Start(ex, col)
	waitFor(t, col.full, "the early bytes")
	must(t, peer.Close())
	if err := waitFor(t, col.closed, "OnClose"); err != nil {
		t.Fatalf("OnClose(%v) after the peer's clean close, want nil", err)
	}
	runOn(t, ex, func() {
		if string(col.got) != "early" {
			t.Errorf("got %q", col.got)
		}
	})
}
