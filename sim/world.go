package sim

import (
	"fmt"
	"io"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// Options shape a world beyond what its seed draws.
type Options struct {
	// TraceOut, when set, receives one line per executed event.
	TraceOut io.Writer
	// LogLevel is the lowest level of node log lines that enter the trace (default Info).
	LogLevel env.Level
	// Profile, when set, replaces the fault profile drawn from the seed.
	Profile *Profile
}

// World is one simulated cluster: nodes, network, disks and the scheduler that drives them.
// It is not safe for concurrent use; everything runs on the caller's goroutine.
type World struct {
	Seed    uint64
	Profile Profile

	sched    scheduler
	rng      *env.PRNG // the world's own draws: faults, latency, crash outcomes
	trace    *Trace
	logLevel env.Level
	nodes    []*Node
	net      *Network
	faults   *injector
	coverage Coverage
	epoch    time.Time
	running  *executor // the executor whose function the current event runs, if any
	aim      aimer
	rot      *env.PRNG // restart and read flips: a generator of their own
}

// simEpoch is virtual time zero on every node's wall clock (before skew), a fixed date so
// message timestamps are reproducible.
var simEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// NewWorld builds an empty world from seed. The fault profile is drawn first, so it depends
// on the seed alone.
func NewWorld(seed uint64, opts Options) *World {
	root := env.NewPRNG(seed)
	w := &World{Seed: seed, rng: root.Fork(), epoch: simEpoch, logLevel: opts.LogLevel}
	if opts.LogLevel == 0 {
		w.logLevel = env.LevelInfo
	}
	w.Profile = DrawProfile(root.Fork())
	if opts.Profile != nil {
		w.Profile = *opts.Profile
	}
	w.aim = newAimer(w)
	w.rot = env.NewPRNG(seed ^ 0x94d049bb133111eb)
	w.sched.rng = root.Fork()
	w.trace = newTrace(opts.TraceOut, w.nodeName)
	w.net = newNetwork(w)
	w.faults = newInjector(w)
	w.trace.note(0, kindFault, -1, "seed "+fmt.Sprint(seed)+" profile "+w.Profile.String())
	return w
}

// Now is the current virtual time.
func (w *World) Now() time.Duration { return w.sched.now }

// Rand is the world's generator, for workloads that draw their schedule.
func (w *World) Rand() *env.PRNG { return w.rng }

// Trace returns the world's trace.
func (w *World) Trace() *Trace { return w.trace }

// Events is how many events have run.
func (w *World) Events() uint64 { return w.sched.executed }

// Network returns the simulated network.
func (w *World) Network() *Network { return w.net }

// Nodes returns the nodes in the order they were added.
func (w *World) Nodes() []*Node { return w.nodes }

func (w *World) nodeName(i int32) string {
	if i < 0 || int(i) >= len(w.nodes) {
		return "-"
	}
	return w.nodes[i].Name
}

// At schedules fn at virtual time at (not before now), as a workload event.
func (w *World) At(at time.Duration, fn func()) {
	if at < w.sched.now {
		at = w.sched.now
	}
	w.sched.schedule(at, kindWorkload, -1, 0, fn)
}

// After schedules fn d from now, as a workload event.
func (w *World) After(d time.Duration, fn func()) { w.At(w.sched.now+d, fn) }

// Note adds a line of workload history to the trace (and its hash).
func (w *World) Note(format string, args ...any) {
	w.trace.note(w.sched.now, kindHistory, -1, fmt.Sprintf(format, args...))
}

// RunUntil executes events up to and including virtual time limit, then sets the clock to
// limit. A panic in an event propagates to the caller, except a node's env.Halt, which crashes
// that node.
func (w *World) RunUntil(limit time.Duration) {
	for {
		e, ok := w.sched.next(limit)
		if !ok {
			break
		}
		w.trace.event(&e)
		w.run(&e)
	}
	if w.sched.now < limit {
		w.sched.now = limit
		w.sched.sameAt = 0
	}
}

// run executes one event, turning a node's HaltError panic into a crash of that node.
func (w *World) run(e *event) {
	w.running = nil
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(crashPoint); ok {
				return // an aimed crash: the node is down and its restart scheduled
			}
			halt, ok := r.(env.HaltError)
			if !ok || e.node < 0 {
				panic(r)
			}
			n := w.nodes[e.node]
			w.trace.note(w.sched.now, kindCrash, e.node, "halt: "+halt.Err.Error())
			n.crash(false)
			n.scheduleRestart(w.Profile.RestartDelay(w.rng))
		}
	}()
	e.fn()
}
