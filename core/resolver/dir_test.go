package resolver

import (
	"strings"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/sim"
)

const accA = "ABJHLOVMPA4CI6R5KLNGOB4GSLNIY7IOUPAJC4YFNDLQVIOBYQGUWVLA"

// A stored JWT survives a power loss the moment Store returns; a temporary file left by a
// Store cut short is not loaded; names that are not account keys are refused.
func TestStoreSurvivesPowerLoss(t *testing.T) {
	quiet := sim.Quiet()
	w := sim.NewWorld(1, sim.Options{Profile: &quiet})
	var e *env.Env
	n := w.AddNode("n1", sim.NodeConfig{Crashable: true}, func(x *env.Env) { e = x })
	run := func(f func()) {
		done := false
		e.Exec.New("t").Post(func() { f(); done = true })
		w.RunUntil(w.Now() + time.Second)
		if !done {
			t.Fatal("the step did not finish")
		}
	}
	run(func() {
		d, err := Open(e.FS, "data/jwt")
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Store(accA, "eyJ.first"); err != nil {
			t.Fatal(err)
		}
		if err := d.Store(accA, "eyJ.second"); err != nil {
			t.Fatal(err)
		}
		if err := d.Store("../../etc/passwd", "x"); err == nil || !strings.Contains(err.Error(), "not an account") {
			t.Fatalf("a path as an account: %v", err)
		}
		f, _ := e.FS.Create("data/jwt/" + accA + ".jwt.tmp") // a Store cut short
		f.Write([]byte("eyJ.partial"))
		f.Close()
	})
	n.Crash(true)
	n.Restart()
	run(func() {
		d, err := Open(e.FS, "data/jwt")
		if err != nil {
			t.Fatal(err)
		}
		if got := d.Stored(); len(got) != 1 || got[accA] != "eyJ.second" {
			t.Fatalf("after a power loss: %v", got)
		}
		if err := d.Delete(accA); err != nil {
			t.Fatal(err)
		}
		if d.Has(accA) || d.Len() != 0 {
			t.Fatalf("after delete: %v", d.Stored())
		}
		if again, err := Open(e.FS, "data/jwt"); err != nil || again.Len() != 0 {
			t.Fatalf("reopened after delete: %v %v", again.Stored(), err)
		}
	})
}
