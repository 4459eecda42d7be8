package workload

import (
	"testing"

	"github.com/petrel-io/petrel/sim"
)

// TestRaftWorkloadExercises keeps the raft workload honest: across a handful of seeds it
// must elect many leaders, install snapshots from a leader, commit membership changes,
// transfer leadership, answer linearizable reads and writes, and see operations whose
// outcome is unknown. A workload that quietly stopped doing one of these would pass every
// safety check for the wrong reason.
func TestRaftWorkloadExercises(t *testing.T) {
	var total raftStats
	var acked, committed int
	var simSeconds float64
	var checks, recoveries int
	points := map[string]int{}
	for seed := uint64(1); seed <= 12; seed++ {
		r := &Raft{}
		res := sim.Run(r, seed, sim.Options{})
		if res.Failed() {
			t.Fatalf("seed %d: %v", seed, res.Err)
		}
		s := r.stats
		total.leaders += s.leaders
		total.installs += s.installs
		total.changes += s.changes
		total.transfers += s.transfers
		total.reads += r.hist.reads
		total.writes += r.hist.writes
		total.unknown += r.hist.unknowns
		acked += r.hist.acked
		committed += len(r.check.committed)
		simSeconds += res.SimTime.Seconds()
		checks += r.durable.checks
		recoveries += r.check.recoveries
		for k, v := range res.Coverage {
			points[k] += v
		}
	}
	t.Logf("12 seeds: %+v, %d acked ops, %.0f commits per simulated second", total, acked, float64(committed)/simSeconds)
	t.Logf("probe points: %v", points)
	for name, got := range map[string]int{
		"leaders elected": total.leaders, "snapshots installed": total.installs,
		"membership changes": total.changes, "leadership transfers": total.transfers,
		"reads answered": total.reads, "writes answered": total.writes, "unknown outcomes": total.unknown,
		"promises checked durable at a send": checks, "recovery verdicts checked": recoveries,
		// Rare paths the workload aims at (issue 10); all of them fire in most runs of a dozen seeds.
		"votes the election restriction decided": points["raft.vote.log-behind"],
		"torn WAL tails cut":                     points["raft.wal.torn-tail"],
		"rotten WAL records refused":             points["raft.wal.rotten-record"],
		"reads at a leader cut from its peers":   points["raft.read.cut-from-peers"],
		"leaders cut from their clients only":    points["raft.nemesis.cut-from-clients"],
	} {
		if got < 5 {
			t.Errorf("%s: %d across 12 seeds, want at least 5", name, got)
		}
	}
}
