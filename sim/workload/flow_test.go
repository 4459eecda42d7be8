package workload

import (
	"testing"

	"github.com/petrel-io/petrel/core"
	"github.com/petrel-io/petrel/sim"
)

// The flow workload must really exercise flow control: in most strict seeds the engine
// pauses publishers, and subscribers read slowly, yet none is cut off (but the one that
// stops reading on purpose in some of them).
func TestFlowSeedsStallPublishers(t *testing.T) {
	strict, stalled := 0, 0
	for seed := uint64(1); seed <= 20; seed++ {
		f := &Flow{}
		if res := sim.Run(f, seed, sim.Options{}); res.Failed() {
			t.Fatalf("seed %d: %v", seed, res.Err)
		}
		if !f.strict {
			continue
		}
		strict++
		if f.srv.StalledClients() > 0 {
			stalled++
		}
		if n := f.srv.Varz(core.VarzHost{}).SlowConsumers; n > int64(len(f.chk.mayLose)) {
			t.Fatalf("strict seed %d: %d slow consumers (%d stopped reading)", seed, n, len(f.chk.mayLose))
		}
	}
	if strict < 5 || stalled*2 < strict {
		t.Fatalf("%d of %d strict seeds paused a publisher; want at least half of at least 5", stalled, strict)
	}
	t.Logf("%d of %d strict seeds paused a publisher", stalled, strict)
}
