package netstack

import (
	"bytes"
	"io"
	"sync/atomic"
	"testing"
	"time"
)

// pausingHandler pauses the connection's reads in its first OnData and records everything.
type pausingHandler struct {
	c     *conn
	got   lockedBuffer
	calls atomic.Int32
	first chan struct{}
}

func newPausingHandler(c *conn) *pausingHandler {
	return &pausingHandler{c: c, first: make(chan struct{})}
}

func (h *pausingHandler) OnData(p []byte) {
	_, _ = h.got.Write(p) // a bytes.Buffer write cannot fail
	if h.calls.Add(1) == 1 {
		h.c.PauseReads()
		close(h.first)
	}
}

func (h *pausingHandler) OnClose(error) {}

// A paused connection delivers nothing more until ResumeReads, while the peer's writes
// stall once the kernel buffers fill; after the resume every byte arrives, in order.
func TestPauseReadsStallsThePeer(t *testing.T) {
	e, ex, c, peer := rawPair(t)
	h := newPausingHandler(c)
	c.Start(ex, h)

	want := make([]byte, 64<<20) // far more than the socket buffers hold
	e.Rand.Fill(want)
	wrote := make(chan error, 1)
	var sent atomic.Int64
	go func() {
		for off := 0; off < len(want); off += 64 << 10 {
			if _, err := peer.Write(want[off : off+64<<10]); err != nil {
				wrote <- err
				return
			}
			sent.Store(int64(off + 64<<10))
		}
		wrote <- nil
	}()
	waitFor(t, h.first, "the first OnData")
	time.Sleep(300 * time.Millisecond)
	calls, stalledAt := h.calls.Load(), sent.Load()
	if calls != 1 {
		t.Fatalf("%d OnData calls while paused, want 1", calls)
	}
	if stalledAt >= int64(len(want)) {
		t.Fatal("the peer wrote 64 MiB to a connection that was not reading")
	}
	runOn(t, ex, c.ResumeReads)
	if err := waitFor(t, wrote, "the peer's writes to finish"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(testTimeout)
	for h.got.Len() < len(want) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if !bytes.Equal(h.got.Bytes(), want) {
		t.Fatalf("after resume got %d bytes, want %d in order", h.got.Len(), len(want))
	}
}

// NotifyDrained fires at once when nothing is buffered, waits while a peer that does not
// read holds the output, and fires once the peer reads it.
func TestNotifyDrained(t *testing.T) {
	e, c, peer := startedRawPair(t)
	ex := e.Exec.New("waiter")
	fired := make(chan struct{}, 2)
	c.NotifyDrained(0, ex, func() { fired <- struct{}{} })
	waitFor(t, fired, "a notification with nothing buffered")

	payload := make([]byte, 16<<20)
	must(t, c.Write(payload))
	c.NotifyDrained(1<<20, ex, func() { fired <- struct{}{} })
	select {
	case <-fired:
		t.Fatal("notified while 16 MiB wait for a peer that does not read")
	case <-time.After(200 * time.Millisecond):
	}
	go func() { _, _ = io.Copy(io.Discard, peer) }()
	waitFor(t, fired, "the notification after the peer read")
	if n := c.Buffered(); n > 1<<20 {
		t.Fatalf("notified with %d bytes buffered, want <= 1 MiB", n)
	}
}

// A connection closed while paused does not keep its reader parked, and a pending
// notification fires when it ends.
func TestCloseWhilePaused(t *testing.T) {
	e, ex, c, peer := rawPair(t)
	h := newPausingHandler(c)
	c.Start(ex, h)
	_, err := peer.Write([]byte("x"))
	must(t, err)
	waitFor(t, h.first, "the first OnData")
	fired := make(chan struct{}, 1)
	must(t, c.Write(make([]byte, 16<<20)))
	c.NotifyDrained(0, e.Exec.New("waiter"), func() { fired <- struct{}{} })
	runOn(t, ex, c.Abort)
	waitFor(t, fired, "the notification when the connection ended")
	waitFor(t, c.readDone, "the reader to exit")
}

// A large release (a cut-off subscriber's backlog, a big batch sent) gives memory back to
// the OS soon, once per giveBackEvery; small ones do not ask.
func TestLargeReleaseGivesMemoryBack(t *testing.T) {
	p := newChunkPool()
	p.released(giveBackBytes - 1)
	p.mu.Lock()
	small := p.pending
	p.mu.Unlock()
	if small {
		t.Fatal("a small release scheduled a give-back")
	}
	p.released(giveBackBytes)
	deadline := time.Now().Add(testTimeout)
	for {
		p.mu.Lock()
		done := !p.lastBack.IsZero() && !p.pending
		p.mu.Unlock()
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the give-back never ran")
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.released(giveBackBytes) // within giveBackEvery of the last: waits its turn
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.pending || time.Since(p.lastBack) >= giveBackEvery {
		t.Fatalf("pending %v, last %v ago", p.pending, time.Since(p.lastBack))
	}
}
