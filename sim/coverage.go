package sim

import "github.com/petrel-io/petrel/core/env"

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
