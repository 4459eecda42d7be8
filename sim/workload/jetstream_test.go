package workload

import (
	"testing"

	"github.com/petrel-io/petrel/sim"
)

// TestJetStreamDeterministic: a seed run twice gives the same trace hash.
func TestJetStreamDeterministic(t *testing.T) {
	a := sim.Run(&JetStream{}, 3, sim.Options{})
	b := sim.Run(&JetStream{}, 3, sim.Options{})
	if a.Failed() || a.Hash != b.Hash || a.Events != b.Events {
		t.Fatalf("seed 3: err %v, hashes %x and %x, events %d and %d", a.Err, a.Hash, b.Hash, a.Events, b.Events)
	}
}

// TestJetStreamReachesItsPaths: a few seeds pass and between them reach what the checkers
// judge: duplicates, confirmed double acks, redeliveries, the ack floor bound, KV writes,
// acknowledged atomic batches found whole after a crash.
func TestJetStreamReachesItsPaths(t *testing.T) {
	hits := map[string]int{}
	for seed := uint64(1); seed <= 6; seed++ {
		res := sim.Run(&JetStream{}, seed, sim.Options{})
		if res.Failed() {
			t.Fatalf("seed %d: %v\n%s", seed, res.Err, res.Replay())
		}
		for k, v := range res.Coverage {
			hits[k] += v
		}
	}
	for _, p := range []string{"jetstream.workload.duplicate", "jetstream.workload.double-ack", "jetstream.check.redelivered",
		"jetstream.check.floor-bound", "jetstream.workload.kv-write", "jetstream.workload.kv-refused", "jetstream.workload.read-back",
		"jetstream.workload.batch-acked", "jetstream.check.batch-whole"} {
		if hits[p] == 0 {
			t.Errorf("no seed reached %s", p)
		}
	}
}
