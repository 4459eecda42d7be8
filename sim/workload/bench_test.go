package workload

import (
	"testing"

	"github.com/petrel-io/petrel/sim"
)

// BenchmarkSeed measures whole seeds of each workload: seeds per second, events per second
// and simulated seconds per wall second (the time compression).
func BenchmarkSeed(b *testing.B) {
	for _, name := range Names() {
		b.Run(name, func(b *testing.B) {
			var events uint64
			var simulated float64
			for i := 0; i < b.N; i++ {
				wl, _ := New(name)
				res := sim.Run(wl, uint64(i+1), sim.Options{})
				if res.Failed() {
					b.Fatalf("seed %d: %v", i+1, res.Err)
				}
				events += res.Events
				simulated += res.SimTime.Seconds()
			}
			wall := b.Elapsed().Seconds()
			b.ReportMetric(float64(events)/wall, "events/s")
			b.ReportMetric(simulated/wall, "sim-s/s")
		})
	}
}
