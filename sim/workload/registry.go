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
	"jetstream": func() sim.Workload { return &JetStream{} },
	"cluster":   func() sim.Workload { return &Cluster{} },
}

// candidates run by name only, not in the default sweep ("all"), until they run clean.
var candidates = map[string]func() sim.Workload{}

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
