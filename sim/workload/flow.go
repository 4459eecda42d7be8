package workload

import (
	"fmt"
	"time"

	"github.com/petrel-io/petrel/core"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/sim"
)

// Flow runs publisher flow control: publishers that write as fast as the network takes
// their bytes (up to a drawn rate), and subscribers of which some read in bursts with
// pauses, slower on average than the publishers offer. Half the seeds are strict: no
// faults, a fast network (like loopback), and subscribers that keep reading (each pause
// short enough, each burst long enough, that the subscriber drains faster than the
// engine's bounded stalls let a publisher through). There no subscriber may be cut off,
// and every message must reach every subscription confirmed before it was sent, exactly
// once and in publisher order. The other half run the full fault profile with the same
// safety checks as the nats workload (nothing misrouted, corrupted, invented, duplicated
// or reordered on a live connection) and delivery must resume after faults stop.
type Flow struct {
	chk    *natsChecker
	strict bool
	srv    *core.Server // the server's current incarnation
	subs   []*flowSubState
}

const (
	flowPort     = 4222
	flowPubEnd   = time.Second // publishing stops this long before the run ends
	flowLiveMsgs = 10
	// flowPubBuffered is how far a publisher writes ahead of the network: it refills
	// when half of it has gone.
	flowPubBuffered = 16 << 10
	// flowTick is how often a publisher's rate budget refills.
	flowTick = time.Millisecond
	// flowTrickle is the publishers' rate after faults stop in faulty seeds.
	flowTrickle = 64 << 10
	// flowMaxLatency bounds publish-to-delivery in strict seeds: messages may wait behind
	// a subscriber's backlog (up to max_pending at its slowest rate).
	flowMaxLatency = 2 * time.Second
	// flowStallBound bounds, in strict seeds, how long a publisher with bytes to send may
	// see none of them taken: the engine pauses a publisher at most stallMax (5 ms) per
	// read, so even behind a subscriber that stopped reading it keeps moving.
	flowStallBound = 100 * time.Millisecond
	// flowStallMin is the engine's shortest stall (core's stallMin). A publisher stalls
	// after a read that left a lagging subscriber above the gate, and only a read that
	// completes a message for that subscriber does, so each stall lets at least one whole
	// message through: a subscriber keeps up only if it reads faster than the sum of its
	// publishers' message size (plus the MSG line, flowMsgOverhead) per flowStallMin.
	flowStallMin    = 2 * time.Millisecond
	flowMsgOverhead = 64
)

// flowKeepUpPause is the longest pause after each burst of a subscriber that must keep up
// (in strict seeds) with through bytes per second, with half again as margin.
func flowKeepUpPause(burst int, through float64) time.Duration {
	return time.Duration(float64(burst) / (1.5 * through) * float64(time.Second))
}

// Publishers publish on f<n>.a and f<n>.b; subscriptions cover one publisher or both.
var flowPatterns = []string{"f1.a", "f1.*", "f2.*", "f1.>", ">", "*.b"}

// flowSubState outlives a subscriber's connections.
type flowSubState struct {
	idx          int
	name, spec   string
	burst        int           // bytes read between pauses; 0 reads without pausing
	pause        time.Duration // how long each pause lasts
	gen          uint32
	received     int
	receivedAt   int // received when faults stopped
	slowConsumer bool
	// stuckAt and stuckFor: in some strict seeds one subscriber stops reading at stuckAt
	// for stuckFor (0: never), long enough to reach max_pending and be cut off. Its
	// publishers must keep going meanwhile (their stalls are bounded), for the others.
	stuckAt, stuckFor time.Duration
}

func (f *Flow) Name() string { return "flow" }

func (f *Flow) Setup(w *sim.World) sim.Plan {
	r := w.Rand()
	f.strict = r.Intn(2) == 0
	if f.strict {
		flowQuietProfile(&w.Profile, r)
	}
	// Strict seeds push traffic throughout; faulty ones need time after the faults for
	// clients to notice dead connections (keepalive) and come back.
	plan := sim.Plan{Faults: 2 * time.Second, Liveness: 2 * time.Second}
	if !f.strict {
		plan.Liveness = 6 * time.Second
	}
	f.chk = newNatsChecker(w, f.strict)
	f.chk.maxLatency = flowMaxLatency
	maxPending := env.Between(r, 64<<10, 256<<10)
	w.Note("flow: strict=%v max_pending=%d window=%d chunk<=%d", f.strict, maxPending, w.Profile.Window, w.Profile.MaxChunk)
	w.AddNode("s1", sim.NodeConfig{Crashable: !f.strict}, func(e *env.Env) { f.srv = flowServer(e, maxPending) })
	end := plan.Faults + plan.Liveness - flowPubEnd
	pubs := 1 + r.Intn(2)
	through := 0.0 // bytes per second the engine's shortest stalls let through to a lagging subscriber
	for i := range pubs {
		rate := env.Between(r, 1<<20, 4<<20) // bytes per second
		size := int(env.Between(r, 256, 2048))
		through += float64(size+flowMsgOverhead) / flowStallMin.Seconds()
		w.Note("flow: p%d publishes %d B/s in %d-byte messages", i+1, rate, size)
		w.AddNode(fmt.Sprintf("p%d", i+1), sim.NodeConfig{}, func(e *env.Env) {
			newFlowPub(e, f.chk, i, rate, size, plan.Faults, end).start()
		})
	}
	for i := range 2 + r.Intn(3) {
		st := &flowSubState{idx: 10 + i, name: fmt.Sprintf("c%d", i+1), spec: flowPatterns[r.Intn(len(flowPatterns))]}
		if pubs == 1 {
			st.spec = flowPatterns[r.Intn(2)] // patterns that cover f1
		}
		if r.Intn(3) != 0 {
			// 1-4 MB/s: often slower than the publishers offer.
			st.burst = int(env.Between(r, 2<<10, 4<<10))
			st.pause = time.Duration(env.Between(r, 1000, 2000)) * time.Microsecond
			if f.strict {
				st.pause = min(st.pause, flowKeepUpPause(st.burst, through))
			}
		}
		w.Note("flow: %s subscribes to %q, reading %d bytes between %v pauses", st.name, st.spec, st.burst, st.pause)
		f.subs = append(f.subs, st)
		w.AddNode(st.name, sim.NodeConfig{}, func(e *env.Env) { newFlowSub(e, st, f.chk).start() })
	}
	f.drawStuck(w)
	w.At(plan.Faults, func() {
		for _, st := range f.subs {
			st.receivedAt = st.received
		}
	})
	return plan
}

// flowQuietProfile makes a strict seed: no faults, and a network like loopback (wide
// window, sub-millisecond latency, small packets) on which the engine's stalls, not the
// links, decide how fast a publisher goes.
func flowQuietProfile(p *sim.Profile, r *env.PRNG) {
	*p = sim.Quiet()
	p.Window = int(env.Between(r, 64<<10, 256<<10))
	p.MaxChunk = int(env.Between(r, 256, 512))
	p.LatencyMin = time.Duration(env.Between(r, 20, 100)) * time.Microsecond
	p.LatencyMax = p.LatencyMin + time.Duration(env.Between(r, 0, 100))*time.Microsecond
}

func flowServer(e *env.Env, maxPending int64) *core.Server {
	s, err := core.New(core.Options{Port: flowPort, ServerName: e.Name, PingInterval: time.Second,
		MaxPingsOut: 2, MaxPending: maxPending, MaxPayload: 8 << 10}, e)
	env.Assertf(err == nil, "flow server: %v", err)
	env.Assertf(s.Start() == nil, "flow server: start failed")
	return s
}

func (f *Flow) Check(w *sim.World) error {
	if err := f.chk.final(); err != nil {
		return err
	}
	if f.strict && f.srv != nil {
		if n := f.srv.Varz(core.VarzHost{}).SlowConsumers; n > int64(len(f.chk.mayLose)) {
			return fmt.Errorf("flow: %d subscribers cut off as slow consumers in a seed without faults (%d stopped reading)", n, len(f.chk.mayLose))
		}
	}
	for _, st := range f.subs {
		if got := st.received - st.receivedAt; got < flowLiveMsgs {
			return fmt.Errorf("flow: subscriber %s received %d messages after faults stopped, want >= %d", st.name, got, flowLiveMsgs)
		}
	}
	return nil
}

// drawStuck picks, in half the strict seeds, a subscriber that stops reading for a while
// (from a random stream of its own, so the seed's other draws stay what they were).
func (f *Flow) drawStuck(w *sim.World) {
	r := env.NewPRNG(w.Seed ^ 0x737475636b) // "stuck"
	if !f.strict || r.Intn(2) == 0 {
		return
	}
	st := f.subs[r.Intn(len(f.subs))]
	st.stuckAt = time.Duration(env.Between(r, 300, 900)) * time.Millisecond
	st.stuckFor = time.Duration(env.Between(r, 400, 1000)) * time.Millisecond
	f.chk.mayLose[st.idx] = true
	w.Note("flow: %s stops reading at %v for %v", st.name, st.stuckAt, st.stuckFor)
}
