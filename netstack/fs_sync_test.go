package netstack

import (
	"bytes"
	"fmt"
	"path"
	"runtime"
	"sync/atomic"
	"testing"
)

// TestFSSyncBesideWrites is the env contract's one exception to "a File belongs to one
// executor": Sync on a second executor while the owner keeps appending, rewriting in place,
// reading and asking the size. Under -race (make race) it proves osFile shares nothing
// unguarded between Sync and the owner's calls; without -race it still checks that no write
// was lost or misplaced by the overlap.
func TestFSSyncBesideWrites(t *testing.T) {
	e, _ := newTestEnv(t)
	name := path.Join(t.TempDir(), "log")
	f, err := e.FS.Create(name)
	must(t, err)
	defer f.Close()
	owner, syncer := e.Exec.New("owner"), e.Exec.New("syncer")

	const records, recordBytes = 2000, 100
	var stop atomic.Bool
	var synced atomic.Int64
	syncs := make(chan int, 1)
	syncer.Post(func() {
		n := 0
		for !stop.Load() {
			if err := f.Sync(); err != nil {
				t.Errorf("sync %d: %v", n, err)
			}
			n++
			synced.Add(1)
		}
		syncs <- n
	})
	want := make([]byte, 0, records*recordBytes)
	wrote := make(chan struct{})
	owner.Post(func() {
		defer close(wrote)
		for i := range records {
			// Halfway, wait for a sync to have returned, so syncs overlap the rest of the
			// writes however the scheduler ran the two (a loaded machine had run none).
			for i == records/2 && synced.Load() == 0 {
				runtime.Gosched()
			}
			rec := []byte(fmt.Sprintf("%-*d", recordBytes, i))
			if i%2 == 0 {
				writeAll(t, f, string(rec))
			} else if _, err := f.WriteAt(rec, int64(i*recordBytes)); err != nil {
				t.Errorf("WriteAt record %d: %v", i, err)
			}
			want = append(want, rec...)
			if i%10 == 0 { // rewrite an earlier record in place, as an erase does
				j := i / 2
				if _, err := f.WriteAt(want[j*recordBytes:(j+1)*recordBytes], int64(j*recordBytes)); err != nil {
					t.Errorf("rewrite record %d: %v", j, err)
				}
				p := make([]byte, recordBytes)
				if _, err := f.ReadAt(p, int64(j*recordBytes)); err != nil || !bytes.Equal(p, want[j*recordBytes:(j+1)*recordBytes]) {
					t.Errorf("read back record %d: %q, %v", j, p, err)
				}
			}
			if size, err := f.Size(); err != nil || size != int64(len(want)) {
				t.Errorf("after record %d: Size = %d, %v; want %d", i, size, err, len(want))
			}
		}
	})
	waitFor(t, wrote, "the owner's writes")
	stop.Store(true)
	n := waitFor(t, syncs, "the syncer")
	t.Logf("%d syncs ran beside %d writes", n, records)
	if n == 0 {
		t.Fatal("no Sync ran beside the writes")
	}
	// A last Sync, after every write returned, covers them all; the content must be exact.
	done := make(chan error, 1)
	syncer.Post(func() { done <- f.Sync() })
	must(t, waitFor(t, done, "the last sync"))
	got := make([]byte, len(want))
	if _, err := f.ReadAt(got, 0); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("file content differs from what was written (err %v)", err)
	}
}
