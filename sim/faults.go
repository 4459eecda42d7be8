package sim

import (
	"fmt"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// injector turns a Profile into fault events while faults are on. Each class is a Poisson
// process drawn from the world's generator.
type injector struct {
	w     *World
	on    bool
	until time.Duration
}

func newInjector(w *World) *injector { return &injector{w: w} }

// StartFaults turns the profile's faults on until virtual time until.
func (w *World) StartFaults(until time.Duration) {
	f := w.faults
	f.on, f.until = true, until
	p := &w.Profile
	f.every(p.PartitionRate, f.partition)
	f.every(p.ResetRate, func() { w.Hit("sim.fault.reset"); w.net.ResetRandom() })
	f.every(p.StallRate, func() { w.Hit("sim.fault.stall"); w.net.StallRandom() })
	f.every(p.CrashRate, f.crash)
	f.every(p.NoSpaceRate, f.fillDisk)
	f.every(p.BitFlipRate, f.bitFlip)
	f.every(p.ClockJumpRate, f.clockJump)
}

// StopFaults ends the fault phase: partitions heal, stalls clear, disk faults stop and every
// down node restarts, so the liveness phase starts from a whole cluster.
func (w *World) StopFaults() {
	f := w.faults
	f.on = false
	w.Profile.WriteEIOProb, w.Profile.SyncEIOProb = 0, 0
	w.net.HealAll()
	for _, n := range w.nodes {
		n.Disk.SetFull(false)
		n.Disk.failNext = map[string]error{}
		if !n.Up() {
			n.Restart()
		}
	}
	w.trace.note(w.sched.now, kindFault, -1, "faults off")
}

// every runs fn at the events of a Poisson process of the given rate while faults are on.
func (f *injector) every(rate float64, fn func()) {
	if rate <= 0 {
		return
	}
	var tick func()
	tick = func() {
		if !f.on || f.w.sched.now >= f.until {
			return
		}
		fn()
		f.schedule(nextIn(f.w.rng, rate), tick)
	}
	f.schedule(nextIn(f.w.rng, rate), tick)
}

func (f *injector) schedule(d time.Duration, fn func()) {
	f.w.sched.schedule(f.w.sched.now+d, kindFault, -1, 0, fn)
}

func (f *injector) partition() {
	w := f.w
	n := len(w.nodes)
	if n < 2 {
		return
	}
	a := w.rng.Intn(n)
	b := (a + 1 + w.rng.Intn(n-1)) % n
	oneWay := env.Chance(w.rng, w.Profile.PartitionOneWay)
	switch k := w.rng.Intn(8); {
	case k < 2:
		w.Hit("sim.fault.isolate")
		w.net.Isolate(a)
	case k < 4 && f.partialPartition(oneWay):
		// cut a server from its peers but not its clients, or the reverse
	case oneWay:
		w.Hit("sim.fault.partition-oneway")
		w.net.Partition(a, b, oneWay)
	default:
		w.Hit("sim.fault.partition")
		w.net.Partition(a, b, oneWay)
	}
	d := time.Duration(env.Between(w.rng, int64(w.Profile.PartitionDuration[0]), int64(w.Profile.PartitionDuration[1])))
	f.schedule(d, func() {
		if f.on {
			w.net.HealAll()
		}
	})
}

// partialPartition cuts one server from the other servers or from every client, leaving the
// other side reachable; it reports false if the world has no such pair.
func (f *injector) partialPartition(oneWay bool) bool {
	w := f.w
	servers, clients := w.NodesIn(GroupServer), w.NodesIn(GroupClient)
	if len(servers) == 0 {
		return false
	}
	s := servers[w.rng.Intn(len(servers))]
	peers := make([]int, 0, len(servers))
	for _, o := range servers {
		if o != s {
			peers = append(peers, o)
		}
	}
	cut, what := clients, "clients"
	if len(peers) > 0 && (len(clients) == 0 || w.rng.Intn(2) == 0) {
		cut, what = peers, "peers"
	}
	if len(cut) == 0 {
		return false
	}
	w.Hit("sim.fault.partial-partition")
	w.Hit("sim.fault.partial-partition-" + what)
	w.net.PartitionFrom(s, cut, oneWay)
	return true
}

func (f *injector) crash() {
	w := f.w
	var candidates []*Node
	for _, n := range w.nodes {
		if n.Config.Crashable && n.Up() {
			candidates = append(candidates, n)
		}
	}
	if len(candidates) == 0 {
		return
	}
	n := candidates[w.rng.Intn(len(candidates))]
	machine := env.Chance(w.rng, w.Profile.MachineCrashProb)
	w.Hit(map[bool]string{false: "sim.fault.process-crash", true: "sim.fault.power-loss"}[machine])
	n.crash(machine)
	f.schedule(w.Profile.RestartDelay(w.rng), func() {
		if f.on {
			n.Restart()
		}
	})
}

func (f *injector) fillDisk() {
	w := f.w
	n := w.nodes[w.rng.Intn(len(w.nodes))]
	w.Hit("sim.fault.enospc")
	n.Disk.SetFull(true)
	n.Disk.note("disk full")
	f.schedule(time.Duration(env.Between(w.rng, 10, 2000))*time.Millisecond, func() {
		n.Disk.SetFull(false)
		n.Disk.note("disk has room")
	})
}

func (f *injector) bitFlip() {
	w := f.w
	n := w.nodes[w.rng.Intn(len(w.nodes))]
	if _, _, ok := n.Disk.FlipBit(); ok {
		w.Hit("sim.fault.bitrot")
	}
}

func (f *injector) clockJump() {
	w := f.w
	n := w.nodes[w.rng.Intn(len(w.nodes))]
	max := int64(w.Profile.SkewMax)
	w.Hit("sim.fault.clock-jump")
	n.jumps += time.Duration(env.Between(w.rng, -max, max))
	w.trace.note(w.sched.now, kindFault, int32(n.Index), fmt.Sprintf("clock jump to skew %v", n.skew+n.jumps))
}
