package workload

import (
	"bytes"
	"os"
	"testing"

	"github.com/petrel-io/petrel/sim"
)

func run(t *testing.T, name string, seed uint64, opts sim.Options) sim.Result {
	t.Helper()
	wl, ok := New(name)
	if !ok {
		t.Fatalf("no workload %q", name)
	}
	return sim.Run(wl, seed, opts)
}

// TestDeterminism: a seed run twice gives the same trace, byte for byte, and the same hash;
// different seeds give different hashes.
func TestDeterminism(t *testing.T) {
	for _, name := range Names() {
		seen := map[uint64]uint64{}
		for seed := uint64(1); seed <= 4; seed++ {
			var a, b bytes.Buffer
			ra := run(t, name, seed, sim.Options{TraceOut: &a})
			rb := run(t, name, seed, sim.Options{TraceOut: &b})
			rc := run(t, name, seed, sim.Options{})
			if ra.Hash != rb.Hash || ra.Hash != rc.Hash {
				t.Fatalf("%s seed %d: hashes %x, %x, %x (untraced) differ", name, seed, ra.Hash, rb.Hash, rc.Hash)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Fatalf("%s seed %d: traces differ", name, seed)
			}
			if other, dup := seen[ra.Hash]; dup {
				t.Fatalf("%s seeds %d and %d have the same hash %x", name, other, seed, ra.Hash)
			}
			seen[ra.Hash] = seed
		}
	}
}

// TestPinnedSeeds replays every seed that once failed.
func TestPinnedSeeds(t *testing.T) {
	f, err := os.Open("../../testdata/sim/regressions.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pinned, err := sim.ParsePinned(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pinned {
		if _, ok := New(p.Workload); !ok {
			t.Errorf("pinned seed names unknown workload %q", p.Workload)
			continue
		}
		if res := run(t, p.Workload, p.Seed, sim.Options{}); res.Failed() {
			t.Errorf("pinned %s seed %d (%s) fails again: %v\n  replay: %s", p.Workload, p.Seed, p.Why, res.Err, res.Replay())
		}
	}
}

// TestSweep runs a small sweep of every workload; make sim and make sim-sweep run more.
func TestSweep(t *testing.T) {
	seeds := uint64(25)
	if testing.Short() {
		seeds = 5
	}
	for _, name := range Names() {
		for seed := uint64(1000); seed < 1000+seeds; seed++ {
			if res := run(t, name, seed, sim.Options{}); res.Failed() {
				t.Errorf("%s seed %d: %v\n  replay: %s", name, seed, res.Err, res.Replay())
			}
		}
	}
}
