package sim

import "github.com/petrel-io/petrel/core/env"

// simHost implements env.Host with fixed facts: a simulated node is one core, and its CPU
// and memory use are not modelled. Fixed values keep monitoring documents, and so traces,
// independent of the machine the simulation runs on.
type simHost struct{}

// Facts implements env.Host.
func (simHost) Facts() env.HostFacts { return env.HostFacts{Cores: 1, GOMAXPROCS: 1} }

// Addrs implements env.Host: simulated nodes are reached by name, never by an address of
// every interface.
func (simHost) Addrs() []string { return nil }
