package sim

import (
	"bytes"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// serverSide returns b's accepted connection (pair keeps only a's).
func serverSide(w *World) *connEnd {
	for _, s := range w.Network().streams {
		if s.from.side == 1 {
			return s.from
		}
	}
	return nil
}

// A paused reader gets no data; its peer's bytes fill the window and then wait in the
// sender's queue (Buffered grows): back-pressure. Resuming delivers everything in order.
func TestPausedReaderBacksUpItsPeer(t *testing.T) {
	prof := Quiet()
	prof.Window = 8 << 10
	w, conn, _, b := pair(t, 11, prof)
	srv := serverSide(w)
	srv.PauseReads()
	want := make([]byte, 200_000)
	env.NewPRNG(3).Fill(want)
	mustOK(t, conn.Write(want))
	w.RunUntil(w.Now() + time.Second)
	if len(b.data) != 0 {
		t.Fatalf("a paused reader got %d bytes", len(b.data))
	}
	if got := conn.Buffered(); got < len(want)-prof.Window {
		t.Fatalf("sender's Buffered = %d: the window (%d) did not hold the rest back", got, prof.Window)
	}
	srv.ResumeReads()
	w.RunUntil(w.Now() + 2*time.Second)
	if !bytes.Equal(b.data, want) {
		t.Fatalf("after resume got %d bytes, want %d in order", len(b.data), len(want))
	}
}

// Chunks already posted when a pause began (from the handler itself) come back and go
// first on resume; a FIN that arrives behind held data is delivered after it.
func TestPauseKeepsOrderAndFinLast(t *testing.T) {
	prof := Quiet()
	prof.MaxChunk = 100
	prof.ExecDelayMax = time.Millisecond // chunks are posted before the first one runs
	w, conn, _, b := pair(t, 12, prof)
	srv := serverSide(w)
	b.onData = func() {
		if b.chunks == 1 {
			srv.PauseReads()
		}
	}
	want := make([]byte, 5_000)
	env.NewPRNG(4).Fill(want)
	mustOK(t, conn.Write(want))
	mustOK(t, conn.Close())
	w.RunUntil(w.Now() + time.Second)
	if b.chunks != 1 {
		t.Fatalf("%d chunks delivered to a reader paused in its first OnData", b.chunks)
	}
	if len(srv.bounced) == 0 {
		t.Fatal("no chunk was posted before the pause and sent back")
	}
	if b.closed {
		t.Fatal("the FIN overtook data held by a pause")
	}
	srv.ResumeReads()
	w.RunUntil(w.Now() + time.Second)
	if !bytes.Equal(b.data, want) || !b.closed || b.err != nil {
		t.Fatalf("after resume: %d bytes (want %d in order), closed=%v err=%v", len(b.data), len(want), b.closed, b.err)
	}
}

// NotifyDrained fires once the queue is short enough, and when the connection ends.
func TestSimNotifyDrained(t *testing.T) {
	prof := Quiet()
	prof.Window = 4 << 10
	w, conn, _, _ := pair(t, 13, prof)
	srv := serverSide(w)
	srv.PauseReads()
	mustOK(t, conn.Write(make([]byte, 100_000)))
	fired := 0
	ex := conn.(*connEnd).ex
	conn.NotifyDrained(1000, ex, func() { fired++ })
	w.RunUntil(w.Now() + time.Second)
	if fired != 0 {
		t.Fatal("notified while the peer holds the queue back")
	}
	srv.ResumeReads()
	w.RunUntil(w.Now() + time.Second)
	if fired != 1 {
		t.Fatalf("fired %d times after the queue drained, want 1", fired)
	}
	mustOK(t, conn.Write(make([]byte, 100_000)))
	srv.PauseReads()
	conn.NotifyDrained(0, ex, func() { fired++ })
	conn.Abort()
	w.RunUntil(w.Now() + time.Second)
	if fired != 2 {
		t.Fatalf("fired %d times after an abort, want 2", fired)
	}
}
