package sim

import (
	"fmt"
	"runtime/debug"
	"time"
)

// Workload is a scenario run on a world: it adds nodes and clients, drives them, and checks
// what they observed. Checkers that can judge mid-run panic (via env.Assertf) at the step
// that broke a property; Check judges the whole run at the end.
type Workload interface {
	Name() string
	// Setup builds the world and schedules the workload's activity; it returns how long the
	// fault phase and the liveness phase last.
	Setup(w *World) Plan
	// Check reports the first property the run violated, or nil.
	Check(w *World) error
}

// Plan is the shape of a run: Faults of virtual time with the profile's faults on, then
// Liveness with faults off and every node up, in which the workload must make progress.
type Plan struct {
	Faults   time.Duration
	Liveness time.Duration
}

// Result is the outcome of one seed.
type Result struct {
	Workload string
	Seed     uint64
	Hash     uint64
	Events   uint64
	SimTime  time.Duration
	Profile  Profile
	Coverage map[string]int // fault classes fired and probe points hit
	Err      error          // nil when every check held
}

// Failed reports whether the seed found a bug.
func (r Result) Failed() bool { return r.Err != nil }

// Replay is the one command that reruns this seed with its full trace.
func (r Result) Replay() string { return ReplayCommand(r.Workload, r.Seed) }

// ReplayCommand returns the command that reruns one seed of a workload with its trace.
func ReplayCommand(workload string, seed uint64) string {
	return fmt.Sprintf("go run ./cmd/petrel-sim -workload %s -seed %d -trace", workload, seed)
}

// Run runs one seed of a workload to completion. A panic anywhere in the run (a failed
// invariant, a checker's assertion, a bug in the engine) becomes the result's error with its
// stack, never a crash of the sweep.
func Run(wl Workload, seed uint64, opts Options) (res Result) {
	res = Result{Workload: wl.Name(), Seed: seed}
	w := NewWorld(seed, opts)
	res.Profile = w.Profile
	defer func() {
		res.Hash, res.Events, res.SimTime = w.trace.Hash(), w.Events(), w.Now()
		res.Coverage = w.Coverage()
		if r := recover(); r != nil {
			res.Err = fmt.Errorf("panic at t=%v: %v\n%s", w.Now(), r, debug.Stack())
		}
	}()
	plan := wl.Setup(w)
	w.StartFaults(plan.Faults)
	w.RunUntil(plan.Faults)
	w.StopFaults()
	w.RunUntil(plan.Faults + plan.Liveness)
	res.Err = wl.Check(w)
	return res
}
