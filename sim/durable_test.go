package sim

import (
	"bytes"
	"errors"
	"io/fs"
	"testing"

	"github.com/petrel-io/petrel/core/env"
)

// The durable oracle shows synced bytes and committed names only, and writing to it leaves
// the node's disk alone.
func TestDurableFSShowsOnlyWhatAPowerLossKeeps(t *testing.T) {
	q := Quiet()
	w := NewWorld(1, Options{Profile: &q})
	var e *env.Env
	n := w.AddNode("n1", NodeConfig{}, func(x *env.Env) { e = x })
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.FS.MkdirAll("d"))
	must(e.FS.SyncDir("."))
	f, err := e.FS.Create("d/a")
	must(err)
	must(e.FS.SyncDir("d"))
	_, err = f.Write([]byte("synced"))
	must(err)
	must(f.Sync())
	v := n.Disk.DurableVersion()
	_, err = f.Write([]byte("-dirty"))
	must(err)
	g, err := e.FS.Create("d/b") // name never committed
	must(err)
	_, _ = g.Write([]byte("x"))
	must(g.Sync())
	if n.Disk.DurableVersion() == v {
		t.Fatal("a sync did not change the durable version")
	}

	o := n.Disk.DurableFS()
	h, err := o.Open("d/a")
	must(err)
	buf := make([]byte, 64)
	k, _ := h.ReadAt(buf, 0)
	if !bytes.Equal(buf[:k], []byte("synced")) {
		t.Fatalf("oracle reads %q, want the synced bytes only", buf[:k])
	}
	if _, err := o.Open("d/b"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("uncommitted name visible in the oracle: %v", err)
	}
	hw, err := o.OpenRW("d/a")
	must(err)
	_, err = hw.WriteAt([]byte("XX"), 0)
	must(err)
	cur, _ := n.Disk.ReadFile("d/a")
	if !bytes.Equal(cur, []byte("synced-dirty")) {
		t.Fatalf("writing the oracle changed the disk: %q", cur)
	}
}
