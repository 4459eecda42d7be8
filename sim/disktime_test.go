package sim

import (
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// TestAckBesideSyncRunsBeforeItCompletes: an owner hands a Sync to a sync executor and, in
// the buggy pattern, posts its acknowledgement at the same time; the correct pattern posts it
// from the sync executor after Sync returns. The first must run while the sync is still in
// progress (so a crash can land between them), the second only once it has completed, and a
// function queued behind the sync on its executor waits for it too.
func TestAckBesideSyncRunsBeforeItCompletes(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		prof := Quiet()
		prof.SyncLatency = [2]time.Duration{time.Millisecond, 2 * time.Millisecond}
		w := NewWorld(seed, Options{Profile: &prof})
		var e *env.Env
		w.AddNode("n1", NodeConfig{Crashable: true}, func(en *env.Env) { e = en })
		f, err := e.FS.Create("f")
		mustOK(t, err)
		owner, syncer := e.Exec.New("owner"), e.Exec.New("syncer")
		var syncAt, syncDone, besideAt, afterAt, queuedAt time.Duration
		owner.Post(func() {
			_, err := f.Write([]byte("record"))
			mustOK(t, err)
			syncer.Post(func() {
				syncAt = w.Now()
				mustOK(t, f.Sync())
				syncDone = w.busyUntilOf(syncer)
				owner.Post(func() { afterAt = w.Now() })
			})
			syncer.Post(func() { queuedAt = w.Now() })
			owner.Post(func() { besideAt = w.Now() })
		})
		w.RunUntil(time.Second)
		if syncDone < syncAt+prof.SyncLatency[0]/2 {
			t.Fatalf("seed %d: sync at %v completed at %v: took no time", seed, syncAt, syncDone)
		}
		if besideAt >= syncDone {
			t.Fatalf("seed %d: ack beside the sync ran at %v, after it completed at %v", seed, besideAt, syncDone)
		}
		if afterAt < syncDone || queuedAt < syncDone {
			t.Fatalf("seed %d: sync completes at %v but the ack after it ran at %v, the work behind it at %v", seed, syncDone, afterAt, queuedAt)
		}
	}
}

// TestDiskTimingHasATail: over many syncs, most stay near the disk's base time and a few
// are far longer.
func TestDiskTimingHasATail(t *testing.T) {
	prof := Quiet()
	prof.SyncLatency = [2]time.Duration{20 * time.Microsecond, 2 * time.Millisecond}
	w := NewWorld(3, Options{Profile: &prof})
	dt := newDiskTiming(w, 0, &prof)
	slow := 0
	for i := 0; i < 10000; i++ {
		d, _ := dt.syncTime()
		if d < dt.syncBase/2 {
			t.Fatalf("sync of %v under half the base %v", d, dt.syncBase)
		}
		if d > 2*dt.syncBase {
			slow++
		}
	}
	if slow < 50 || slow > 300 {
		t.Fatalf("%d slow syncs in 10000, want 1-2%%", slow)
	}
	quiet := Quiet()
	q := newDiskTiming(w, 0, &quiet)
	if d, _ := q.syncTime(); d != 0 {
		t.Fatal("a quiet profile's disk takes time")
	}
}
