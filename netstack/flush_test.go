package netstack

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// startedRawPair dials a plain TCP peer through netstack and starts the connection.
func startedRawPair(t *testing.T) (*env.Env, *conn, net.Conn) {
	t.Helper()
	e, ex, c, peer := rawPair(t)
	c.Start(ex, newCollector(0))
	return e, c, peer
}

// rawPair dials a raw peer that the test reads and writes itself; the connection is not
// started, so the test picks its handler.
func rawPair(t *testing.T) (*env.Env, env.Executor, *conn, net.Conn) {
	t.Helper()
	e, _ := newTestEnv(t)
	ex := e.Exec.New("client")
	addr, accepted := rawPeer(t)
	c := mustDial(t, e, addr, ex)
	peer := waitFor(t, accepted, "the raw accept")
	t.Cleanup(func() { peer.Close() })
	return e, ex, c, peer
}

// Queue holds bytes until Flush; Flush sends them (inline when the socket has room).
func TestQueueWaitsForFlush(t *testing.T) {
	_, c, peer := startedRawPair(t)

	must(t, c.Queue([]byte("held")))
	must(t, peer.SetReadDeadline(time.Now().Add(100*time.Millisecond)))
	if n, _ := peer.Read(make([]byte, 4)); n != 0 {
		t.Fatalf("queued bytes left before Flush (%d bytes)", n)
	}
	c.Flush()
	must(t, peer.SetReadDeadline(time.Now().Add(testTimeout)))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(peer, buf); err != nil || string(buf) != "held" {
		t.Fatalf("after Flush: %q, %v", buf, err)
	}
}

// A Flush of more than the socket takes at once leaves the rest to the writer, in order,
// while more writes keep arriving.
func TestFlushRemainderGoesToWriter(t *testing.T) {
	e, c, peer := startedRawPair(t)

	var want []byte
	for i := 0; i < 64; i++ {
		chunk := make([]byte, 256<<10)
		e.Rand.Fill(chunk)
		want = append(want, chunk...)
		if i%2 == 0 {
			must(t, c.Queue(chunk))
			c.Flush()
		} else {
			must(t, c.Write(chunk))
		}
	}
	got := make(chan []byte, 1)
	go func() {
		buf := make([]byte, len(want))
		if _, err := io.ReadFull(peer, buf); err != nil {
			t.Error(err)
		}
		got <- buf
	}()
	if !bytes.Equal(waitFor(t, got, "all 16 MiB"), want) {
		t.Fatal("bytes arrived different or out of order")
	}
	waitFor(t, c.whenDrained(), "the writer to drain")
	if n := c.Buffered(); n != 0 {
		t.Fatalf("Buffered = %d after everything arrived", n)
	}
}

// An inline Flush long after the writer's last batch is not bound by that batch's write
// deadline: the deadline bounds a batch in flight, and a connection whose writes all went
// inline for longer than it was cut as a slow consumer (nats bench kv put, after 10 s of
// sequential puts).
func TestInlineFlushOutlivesWriterDeadline(t *testing.T) {
	_, c, peer := startedRawPair(t)
	const deadline = 50 * time.Millisecond
	c.SetWriteDeadline(deadline)
	must(t, c.Write([]byte("loop"))) // the writer goroutine sends this batch, with a deadline
	buf := make([]byte, 4)
	must(t, peer.SetReadDeadline(time.Now().Add(testTimeout)))
	if _, err := io.ReadFull(peer, buf); err != nil || string(buf) != "loop" {
		t.Fatalf("writer batch: %q, %v", buf, err)
	}
	waitFor(t, c.whenDrained(), "the writer to drain")
	time.Sleep(3 * deadline)
	must(t, c.Queue([]byte("flsh")))
	c.Flush()
	if _, err := io.ReadFull(peer, buf); err != nil || string(buf) != "flsh" {
		t.Fatalf("inline flush after the deadline passed: %q, %v (connection state %v)", buf, err, c.state)
	}
}
