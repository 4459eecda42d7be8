package workload

import (
	"sort"

	"github.com/petrel-io/petrel/sim"
)

// constructors make a fresh workload per run: workloads keep the run's history.
var constructors = map[string]func() sim.Workload{
	"echo":      func() sim.Workload { return &Echo{} },
	"counter":   func() sim.Workload { return &Counter{} },
	"filestore": func() sim.Workload { return &Filestore{} },
	"raft":      func() sim.Workload { return &Raft{} },
	"nats":      func() sim.Workload { return &Nats{} },
	"flow":      func() sim.Workload { return &Flow{} },
	"accounts":  func() sim.Workload { return &Accounts{} },
}

// candidates run by name only, not in the default sweep ("all"), until they run clean:
// jetstream passed 600 seeds before main was merged in at 6bfbf69 (DESIGN.md section 3); on
// today's tree it fails 1 of 200: seed 90 (KV linearizability, not yet explained). Seeds 62
// and 137 (a stream whose store failed to open at boot on a transient fault stayed offline
// for the rest of the run) pass since recovered streams retry their open.
var candidates = map[string]func() sim.Workload{
	"jetstream": func() sim.Workload { return &JetStream{} },
}

// Names lists the registered workloads, sorted.
func Names() []string {
	names := make([]string, 0, len(constructors))
	for name := range constructors {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// New returns a fresh instance of the named workload, or false.
func New(name string) (sim.Workload, bool) {
	make, ok := constructors[name]
	if !ok {
		make, ok = candidates[name]
	}
	if !ok {
		return nil, false
	}
	return make(), true
}
