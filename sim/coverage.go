package sim

import (
	"io"

	"github.com/petrel-io/petrel/core/env"
)

// Coverage counts, for one run, how often each fault class fired and each rare path the
// programs report through env.Probe was taken. A sweep adds the runs up, so a fault or a path
// that never happens across its seeds shows as missing instead of passing silently.
type Coverage struct {
	counts map[string]int
}

// Hit implements env.Probe.
func (c *Coverage) Hit(point string) {
	if c.counts == nil {
		c.counts = map[string]int{}
	}
	c.counts[point]++
}

// Counts returns a copy of the counts.
func (c *Coverage) Counts() map[string]int {
	out := make(map[string]int, len(c.counts))
	for k, v := range c.counts {
		out[k] = v
	}
	return out
}

// Add folds other's counts into c.
func (c *Coverage) Add(other map[string]int) {
	for _, k := range env.SortedKeys(other) {
		if c.counts == nil {
			c.counts = map[string]int{}
		}
		c.counts[k] += other[k]
	}
}

// Coverage returns the run's coverage so far: fault classes fired and probe points hit.
func (w *World) Coverage() map[string]int { return w.coverage.Counts() }

// Hit counts a fault class or simulator path that fired in this run.
func (w *World) Hit(point string) { w.coverage.Hit(point) }

// Required is one line of the coverage file: a point the default sweep must hit at least once
// in the seeds of Workload ("*": anywhere in the sweep).
type Required struct {
	Workload string
	Point    string
	Line     int
}

// ParseRequired reads a coverage file: one "<workload|*> <point>" per line; blank lines and
// text after # are skipped.
func ParseRequired(r io.Reader) ([]Required, error) {
	var out []Required
	err := scanPairs(r, "coverage", "workload point", func(line int, a, b, _ string) error {
		out = append(out, Required{Workload: a, Point: b, Line: line})
		return nil
	})
	return out, err
}

// Missing returns the required points that were never hit, given each workload's summed
// counts. Points of workloads that did not run are skipped (a one-workload sweep checks only
// its own lines), except "*" lines, which are judged whenever every workload ran (all).
func Missing(required []Required, byWorkload map[string]map[string]int, all bool) []Required {
	var missing []Required
	for _, req := range required {
		if req.Workload == "*" {
			if !all {
				continue
			}
			hit := false
			for _, counts := range byWorkload {
				hit = hit || counts[req.Point] > 0
			}
			if !hit {
				missing = append(missing, req)
			}
			continue
		}
		counts, ran := byWorkload[req.Workload]
		if ran && counts[req.Point] == 0 {
			missing = append(missing, req)
		}
	}
	return missing
}
