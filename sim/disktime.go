package sim

import (
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// diskTiming is how long one disk's I/O keeps the calling executor busy. The Env API stays
// synchronous and a Sync's durability takes effect at the call (so code that acknowledges
// after Sync returns is never wronged), but the executor that called it runs nothing else
// until the sync would have completed, and what the rest of that function posts, sends or
// arms starts then too. Work queued behind a sync waits; work on other executors (an ack
// posted beside the sync) does not, which opens the window a crash can land in.
type diskTiming struct {
	rng      *env.PRNG // the disk's own draws, so timing perturbs no other draw
	syncBase time.Duration
	tailProb float64
	tailMul  int64
	write    time.Duration
	// degraded: until degradedUntil every sync takes degradedMul times longer (Degrade).
	degradedMul   time.Duration
	degradedUntil time.Duration
}

// newDiskTiming draws a disk's latencies from a generator derived from the seed and the node
// index, not from the world's: adding timing changed no fault, latency or crash draw.
func newDiskTiming(w *World, index int, p *Profile) diskTiming {
	if p.SyncLatency[1] <= 0 {
		return diskTiming{}
	}
	r := env.NewPRNG(w.Seed ^ 0x5bd1e995d15c0ad1*uint64(index+1))
	t := diskTiming{rng: r}
	t.syncBase = time.Duration(env.Between(r, int64(p.SyncLatency[0]), int64(p.SyncLatency[1])))
	t.tailProb = 0.01 + env.Float64(r)*0.01
	t.tailMul = env.Between(r, 10, 50)
	t.write = t.syncBase / time.Duration(env.Between(r, 20, 200))
	return t
}

// syncTime draws one sync's duration: around the disk's base, 1-2% of them 10-50x longer.
func (t *diskTiming) syncTime() (d time.Duration, slow bool) {
	if t.rng == nil {
		return 0, false
	}
	d = t.syncBase/2 + time.Duration(env.Between(t.rng, 0, int64(t.syncBase)))
	if env.Chance(t.rng, t.tailProb) {
		d *= time.Duration(t.tailMul)
		slow = true
	}
	return d, slow
}

// busy keeps the executor running the current event busy for d more; it reports false if
// no executor is running (a program's boot code, a workload event), which waits for nothing.
func (w *World) busy(d time.Duration) bool {
	x := w.running
	if d <= 0 || x == nil || !x.p.alive {
		return false
	}
	x.busyUntil = max(x.busyUntil, w.sched.now) + d
	return true
}

// effectAt is when what the current event does takes effect: now, or when the I/O its
// executor is busy with completes.
func (w *World) effectAt() time.Duration {
	if x := w.running; x != nil && x.busyUntil > w.sched.now {
		return x.busyUntil
	}
	return w.sched.now
}

// diskSync and diskWrite charge the calling executor for one sync or write.
func (d *Disk) diskSync() {
	if d.oracle {
		return
	}
	w := d.node.w
	lat, slow := d.timing.syncTime()
	if w.sched.now < d.timing.degradedUntil {
		lat *= d.timing.degradedMul
	}
	if w.busy(lat) {
		w.Hit("sim.disk.sync-waited")
		if slow {
			w.Hit("sim.disk.sync-slow")
		}
	}
}

func (d *Disk) diskWrite() {
	if !d.oracle {
		d.node.w.busy(d.timing.write)
	}
}

// Degrade makes the disk's syncs take mul times longer for the next d (a disk stalled by
// contention or a failing device), so work queued behind them piles up. It draws nothing:
// no other draw of the run moves. A disk without timed I/O is not slowed.
func (d *Disk) Degrade(mul int, dur time.Duration) {
	d.timing.degradedMul, d.timing.degradedUntil = time.Duration(mul), d.node.w.sched.now+dur
	d.note("degraded x%d for %v", mul, dur)
}

// busyUntilOf is when an executor's pending disk I/O completes, for tests.
func (w *World) busyUntilOf(ex env.Executor) time.Duration { return ex.(*executor).busyUntil }
