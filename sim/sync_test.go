package sim

import (
	"bytes"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// TestSyncOnAnotherExecutor checks the env contract's one cross-executor call in the
// simulator: a File.Sync posted to a second executor covers the writes its owner made before
// the Sync ran (here: one before the post and one racing with it, which the simulator always
// covers because it runs one event at a time) and none made after it ran. Over many seeds a
// power loss must keep the covered sectors every time, and lose the later one at least once
// (so the test would notice a Sync that covered writes it never saw).
func TestSyncOnAnotherExecutor(t *testing.T) {
	sector := func(b byte) []byte { return bytes.Repeat([]byte{b}, env.SectorSize) }
	before, racing, after := sector('b'), sector('r'), sector('a')
	lost, kept := 0, 0
	for seed := uint64(1); seed <= 60; seed++ {
		w, n, current := bootEnv(t, seed)
		e := current()
		mustOK(t, e.FS.MkdirAll("d"))
		mustOK(t, e.FS.SyncDir("."))
		f, err := e.FS.Create("d/f")
		mustOK(t, err)
		mustOK(t, e.FS.SyncDir("d"))
		owner, syncer := e.Exec.New("owner"), e.Exec.New("syncer")
		synced := false
		owner.Post(func() {
			_, err := f.Write(before)
			mustOK(t, err)
			syncer.Post(func() {
				mustOK(t, f.Sync())
				owner.Post(func() {
					synced = true
					_, err := f.WriteAt(after, 2*env.SectorSize)
					mustOK(t, err)
				})
			})
			// Posted, not yet run: the simulator runs the Sync as a later event.
			_, err = f.WriteAt(racing, env.SectorSize)
			mustOK(t, err)
		})
		w.RunUntil(w.Now() + time.Millisecond)
		if !synced {
			t.Fatalf("seed %d: the sync and the write after it never ran", seed)
		}
		n.Crash(true)
		n.Restart()
		got, err := n.Disk.ReadFile("d/f")
		mustOK(t, err)
		if len(got) < 2*env.SectorSize || !bytes.Equal(got[:env.SectorSize], before) ||
			!bytes.Equal(got[env.SectorSize:2*env.SectorSize], racing) {
			t.Fatalf("seed %d: a write made before the Sync ran was not durable (file of %d bytes)", seed, len(got))
		}
		if len(got) == 3*env.SectorSize && bytes.Equal(got[2*env.SectorSize:], after) {
			kept++
		} else {
			lost++
		}
	}
	t.Logf("the write after the sync: lost %d times, kept %d", lost, kept)
	if lost == 0 {
		t.Fatal("a write made after the Sync ran was never lost: the Sync covered it")
	}
}
