package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCoverageCheckFailsTheSweep: a point the coverage file requires that no seed hits makes
// the sweep fail; one that fires passes.
func TestCoverageCheckFailsTheSweep(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	none := write("none", "")
	args := func(cover string) []string {
		return []string{"-workload", "counter", "-seeds", "2", "-q", "-pinned", none, "-coverage", cover}
	}
	if got := run(args(write("dead", "counter sim.no-such-point\n"))); got != 1 {
		t.Fatalf("a point never hit: exit %d, want 1", got)
	}
	if got := run(args(write("live", "counter sim.disk.sync-waited\n* sim.no-such-point  # judged only in a sweep of all\n"))); got != 0 {
		t.Fatalf("every judged point hit: exit %d, want 0", got)
	}
}
