package sim

import (
	"strings"
	"testing"
)

func TestCoverageFileAndMissing(t *testing.T) {
	required, err := ParseRequired(strings.NewReader("# comment\n\nraft raft.wal.torn-tail  # why\n* sim.fault.reset\necho sim.fault.stall\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(required) != 3 || required[0].Workload != "raft" || required[0].Point != "raft.wal.torn-tail" || required[0].Line != 3 {
		t.Fatalf("parsed %+v", required)
	}
	counts := map[string]map[string]int{
		"raft": {"raft.wal.torn-tail": 0, "sim.fault.reset": 2},
		"nats": {"sim.fault.stall": 1},
	}
	got := Missing(required, counts, true)
	// raft's point was never hit; echo did not run, so its line is not judged; "*" is met.
	if len(got) != 1 || got[0].Point != "raft.wal.torn-tail" {
		t.Fatalf("missing %+v", got)
	}
	counts["raft"]["sim.fault.reset"] = 0
	if got := Missing(required, counts, true); len(got) != 2 || got[1].Point != "sim.fault.reset" {
		t.Fatalf("missing %+v, want the starred point too", got)
	}
	if got := Missing(required, counts, false); len(got) != 1 {
		t.Fatalf("a one-workload sweep judged the starred point: %+v", got)
	}
	if _, err := ParseRequired(strings.NewReader("raft\n")); err == nil {
		t.Fatal("a line without a point parsed")
	}
}

// TestWorldCountsFaultClasses checks that a run's coverage carries the fault classes fired.
func TestWorldCountsFaultClasses(t *testing.T) {
	w := NewWorld(1, Options{})
	w.Hit("sim.fault.reset")
	w.Hit("sim.fault.reset")
	var total Coverage
	total.Add(w.Coverage())
	total.Add(w.Coverage())
	if got := total.Counts()["sim.fault.reset"]; got != 4 {
		t.Fatalf("summed %d hits, want 4", got)
	}
}
