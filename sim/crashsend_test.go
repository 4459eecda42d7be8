package sim

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// TestProcessCrashDeliversWrittenBytes: bytes a process wrote before it died still reach the
// peer, followed by a reset (a kernel outlives its process); after a power loss they do not,
// and the peer hears nothing.
func TestProcessCrashDeliversWrittenBytes(t *testing.T) {
	for _, machine := range []bool{false, true} {
		for seed := uint64(1); seed <= 20; seed++ {
			prof := Quiet()
			prof.Jitter = time.Millisecond
			prof.MaxChunk = 700
			prof.Window = 1000 // most of msg waits in the sender's kernel at the crash
			w, conn, _, bRec := pair(t, seed, prof)
			msg := bytes.Repeat([]byte("persisted? "), 300)
			w.At(w.Now(), func() {
				mustOK(t, conn.Write(msg))
				mustOK(t, conn.Queue([]byte("never flushed")))
				w.Nodes()[1].Crash(machine)
			})
			w.RunUntil(w.Now() + time.Second)
			switch {
			case !machine && (!bytes.Equal(bRec.data, msg) || !bRec.closed || !errors.Is(bRec.err, env.ErrReset)):
				t.Fatalf("seed %d process crash: peer got %d of %d bytes, closed=%v err=%v", seed, len(bRec.data), len(msg), bRec.closed, bRec.err)
			case machine && (len(bRec.data) > prof.Window || bRec.closed):
				t.Fatalf("seed %d power loss: peer got %d bytes, closed=%v", seed, len(bRec.data), bRec.closed)
			}
		}
	}
}
