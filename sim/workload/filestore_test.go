package workload

import (
	"testing"

	"github.com/petrel-io/petrel/sim"
)

// TestStorageReachesDeadLayers: over a few seeds, the filestore and counter workloads reach
// the verdicts random faults alone rarely reached (a torn tail cut, a rotten record rejected
// at recovery and on read, damage after the last record of a sealed block kept, a slot read
// from its second copy), and every seed passes.
func TestStorageReachesDeadLayers(t *testing.T) {
	for _, tc := range []struct {
		wl     func() sim.Workload
		points []string
	}{
		{func() sim.Workload { return &Filestore{} }, []string{"filestore.recover.torn-tail", "filestore.recover.rotten",
			"filestore.read.checksum-reject", "filestore.recover.unreadable", "filestore.workload.recovery-judged",
			"filestore.recover.sealed-tail-damage"}},
		{func() sim.Workload { return &Counter{} }, []string{"counter.recover.torn-tail", "counter.recover.copy-rotten",
			"counter.recover.slot-lost"}},
	} {
		cov := sim.Coverage{}
		name := ""
		for seed := uint64(1); seed <= 12; seed++ {
			res := sim.Run(tc.wl(), seed, sim.Options{})
			name = res.Workload
			if res.Failed() {
				t.Fatalf("%s seed %d: %v", res.Workload, seed, res.Err)
			}
			cov.Add(res.Coverage)
		}
		for _, p := range tc.points {
			if cov.Counts()[p] == 0 {
				t.Errorf("%s: %s never fired in 12 seeds (%v)", name, p, cov.Counts())
			}
		}
	}
}
