package sim

import (
	"bytes"
	"errors"
	"io/fs"
	"testing"

	"github.com/petrel-io/petrel/core/env"
)

// bootEnv adds a node with a quiet profile and returns its Env, so a test can drive the
// disk directly.
func bootEnv(t *testing.T, seed uint64) (*World, *Node, func() *env.Env) {
	t.Helper()
	quiet := Quiet()
	w := NewWorld(seed, Options{Profile: &quiet})
	var current *env.Env
	n := w.AddNode("n1", NodeConfig{Crashable: true}, func(e *env.Env) { current = e })
	return w, n, func() *env.Env { return current }
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// tailOutcome classifies what a power loss did to a file's unsynced tail.
type tailOutcome int

const (
	tailNone tailOutcome = iota // nothing was unsynced
	tailLost                    // back to the synced length
	tailKept                    // every unsynced byte survived
	tailTorn                    // some survived: a cut inside the tail or mixed sectors
)

// TestDiskModelKeepsSyncedBytes is the disk model's contract over many seeds: after a power
// loss every byte covered by a completed Sync is intact, and unsynced tails are sometimes
// lost, sometimes kept whole and sometimes torn. It prints the counts.
func TestDiskModelKeepsSyncedBytes(t *testing.T) {
	counts := map[tailOutcome]int{}
	vanished, survived := 0, 0
	for seed := uint64(1); seed <= 400; seed++ {
		_, n, current := bootEnv(t, seed)
		e := current()
		r := env.NewPRNG(seed)
		mustOK(t, e.FS.MkdirAll("d"))
		mustOK(t, e.FS.SyncDir("."))
		f, err := e.FS.Create("d/durable")
		mustOK(t, err)
		mustOK(t, e.FS.SyncDir("d"))
		var written []byte
		synced := 0
		for op := 0; op < 20; op++ {
			p := make([]byte, 1+r.Intn(3000))
			r.Fill(p)
			_, err := f.Write(p)
			mustOK(t, err)
			written = append(written, p...)
			if r.Intn(3) == 0 {
				mustOK(t, f.Sync())
				synced = len(written)
			}
		}
		// A file whose directory entry is never synced may vanish.
		g, err := e.FS.Create("d/undurable")
		mustOK(t, err)
		_, err = g.Write([]byte("x"))
		mustOK(t, err)
		mustOK(t, g.Sync())

		n.Crash(true)
		n.Restart()
		e = current()
		got, err := n.Disk.ReadFile("d/durable")
		if err != nil {
			t.Fatalf("seed %d: a dir-synced file vanished: %v", seed, err)
		}
		if len(got) < synced || !bytes.Equal(got[:synced], written[:synced]) {
			t.Fatalf("seed %d: synced prefix of %d bytes damaged (file now %d bytes)", seed, synced, len(got))
		}
		counts[classifyTail(got, written, synced)]++
		if _, err := e.FS.Stat("d/undurable"); errors.Is(err, fs.ErrNotExist) {
			vanished++
		} else {
			survived++
		}
	}
	t.Logf("unsynced tails: lost %d, torn %d, kept %d, none %d; undir-synced files: vanished %d, survived %d",
		counts[tailLost], counts[tailTorn], counts[tailKept], counts[tailNone], vanished, survived)
	if counts[tailLost] == 0 || counts[tailTorn] == 0 || counts[tailKept] == 0 {
		t.Fatalf("the disk model should sometimes lose, tear and keep unsynced tails: %v", counts)
	}
	if vanished == 0 || survived == 0 {
		t.Fatalf("a file whose directory was not synced should sometimes vanish and sometimes survive")
	}
}

func classifyTail(got, written []byte, synced int) tailOutcome {
	switch {
	case synced == len(written):
		return tailNone
	case len(got) == synced:
		return tailLost
	case bytes.Equal(got, written):
		return tailKept
	default:
		return tailTorn
	}
}

// TestDiskOverwriteIsSectorAtomic: an unsynced overwrite of synced data leaves each sector
// wholly old or wholly new after a power loss.
func TestDiskOverwriteIsSectorAtomic(t *testing.T) {
	mixed := 0
	for seed := uint64(1); seed <= 100; seed++ {
		_, n, current := bootEnv(t, seed)
		e := current()
		f, err := e.FS.Create("f")
		mustOK(t, err)
		mustOK(t, e.FS.SyncDir("."))
		old := bytes.Repeat([]byte{0xAA}, 8*env.SectorSize)
		_, err = f.Write(old)
		mustOK(t, err)
		mustOK(t, f.Sync())
		_, err = f.WriteAt(bytes.Repeat([]byte{0x55}, 8*env.SectorSize), 0)
		mustOK(t, err)
		n.Crash(true)
		n.Restart()
		got, err := n.Disk.ReadFile("f")
		mustOK(t, err)
		if len(got) != len(old) {
			t.Fatalf("seed %d: size changed from %d to %d without a resize", seed, len(old), len(got))
		}
		kinds := map[byte]bool{}
		for s := 0; s < 8; s++ {
			sector := got[s*env.SectorSize : (s+1)*env.SectorSize]
			if !bytes.Equal(sector, bytes.Repeat(sector[:1], env.SectorSize)) || (sector[0] != 0xAA && sector[0] != 0x55) {
				t.Fatalf("seed %d: sector %d is neither old nor new", seed, s)
			}
			kinds[sector[0]] = true
		}
		if len(kinds) == 2 {
			mixed++
		}
	}
	if mixed == 0 {
		t.Fatal("no seed mixed old and new sectors")
	}
}

// TestDiskFailedSyncIsNotRetried models Linux's write-back error behaviour: after a failed
// Sync the data it covered is not made durable by a later successful Sync.
func TestDiskFailedSyncIsNotRetried(t *testing.T) {
	_, n, current := bootEnv(t, 1)
	e := current()
	f, err := e.FS.Create("f")
	mustOK(t, err)
	mustOK(t, e.FS.SyncDir("."))
	_, err = f.Write([]byte("first"))
	mustOK(t, err)
	n.Disk.FailNext("sync", env.ErrIO)
	if err := f.Sync(); !errors.Is(err, env.ErrIO) {
		t.Fatalf("Sync after FailNext: %v, want ErrIO", err)
	}
	mustOK(t, f.Sync())
	n.Crash(true)
	n.Restart()
	got, err := n.Disk.ReadFile("f")
	mustOK(t, err)
	if bytes.Contains(got, []byte("first")) {
		t.Fatalf("data of a failed sync became durable: %q", got)
	}
}

// TestDiskProcessCrashKeepsPageCache: a process crash keeps unsynced data readable (the
// kernel still has it), but it is still not durable.
func TestDiskProcessCrashKeepsPageCache(t *testing.T) {
	_, n, current := bootEnv(t, 3)
	e := current()
	f, err := e.FS.Create("f")
	mustOK(t, err)
	_, err = f.Write([]byte("unsynced"))
	mustOK(t, err)
	n.Crash(false)
	n.Restart()
	e = current()
	g, err := e.FS.Open("f")
	mustOK(t, err)
	buf := make([]byte, 8)
	if _, err := g.ReadAt(buf, 0); err != nil || string(buf) != "unsynced" {
		t.Fatalf("after a process crash: %q, %v", buf, err)
	}
}

func TestDiskNamespace(t *testing.T) {
	_, n, current := bootEnv(t, 4)
	fsys := current().FS
	mustOK(t, fsys.MkdirAll("a/b"))
	for _, name := range []string{"a/b/2", "a/b/1", "a/x"} {
		f, err := fsys.Create(name)
		mustOK(t, err)
		mustOK(t, f.Close())
	}
	names, err := fsys.List("a")
	mustOK(t, err)
	if want := []string{"b", "x"}; !equalStrings(names, want) {
		t.Fatalf("List(a) = %v, want %v", names, want)
	}
	mustOK(t, fsys.Rename("a/b", "a/c"))
	names, _ = fsys.List("a/c")
	if want := []string{"1", "2"}; !equalStrings(names, want) {
		t.Fatalf("after dir rename List(a/c) = %v, want %v", names, want)
	}
	if _, err := fsys.Open("a/b/1"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("old path after rename: %v", err)
	}
	if err := fsys.Remove("a/c"); err == nil {
		t.Fatal("removed a non-empty directory")
	}
	if _, err := fsys.Create("nodir/f"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("create in a missing directory: %v", err)
	}
	n.Disk.SetFull(true)
	f, err := fsys.Create("a/full")
	mustOK(t, err)
	if _, err := f.Write([]byte("x")); !errors.Is(err, env.ErrNoSpace) {
		t.Fatalf("write on a full disk: %v", err)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
