package filestore

import "time"

// pacer decides, for the file store under SyncAlways, when the next sync starts after one
// returns. There are two ways, and each wins somewhere:
//
//   - pipelined: the next sync starts the moment the previous one returns, covering whatever
//     was written meanwhile, so the fsync overlaps the gathering, encoding and writing of the
//     next batch. But writers released by one sync write while the next is already in
//     flight, so they wait for the one after: writers that each wait for their
//     acknowledgement settle into two alternating batches, and a round of them costs two
//     syncs. That pays when a sync's cost grows with its bytes (large messages) or gathering
//     a batch costs as much as a sync (encryption, slow CPU).
//   - grouped: the next sync waits (up to commitGatherWait) for the writers the previous one
//     released, so one sync covers the whole round: one sync per round, but the disk idles
//     while the writers come back. That pays when a sync costs about the same whatever it
//     covers (small messages on a disk with a fixed flush cost).
//
// Which one wins depends on the disk, the CPU, the message sizes and how the writers
// behave, and on a shared host it drifts, so the pacer measures instead of guessing: it
// counts completions per second of the Clock over windows of pacerWindowSyncs syncs, keeps a
// smoothed rate for each way, runs the faster one, and gives the other one window in
// pacerProbeEvery so a change is noticed. The choice only moves when a sync starts, never
// what a sync covers or when a completion may run, so it cannot affect durability.
type pacer struct {
	pipelined bool
	start     time.Duration // Clock.Mono when the window began
	syncs     int           // syncs returned in the window
	done      int           // completions they covered
	rate      [2]float64    // smoothed completions per second: [0] grouped, [1] pipelined; 0 unmeasured
	windows   int           // windows run since the way last changed
	trying    bool          // this window tries the way that was losing
	// probeEvery is how many windows pass between tries of the other way: pacerProbeEvery,
	// doubled (up to pacerProbeEveryMax) each time a try loses, so a way that keeps losing
	// costs less and less.
	probeEvery int
}

func (p *pacer) way() int {
	if p.pipelined {
		return 1
	}
	return 0
}

// restart begins a new window at now, dropping what the current one counted.
func (p *pacer) restart(now time.Duration) { p.start, p.syncs, p.done = now, 0, 0 }

// synced notes a sync that returned at now after covering done completions; at the end of a
// window it records the rate and picks the way for the next one.
func (p *pacer) synced(now time.Duration, done int) {
	p.syncs++
	p.done += done
	if p.syncs < pacerWindowSyncs {
		return
	}
	if d := now - p.start; d > 0 {
		r := float64(p.done) / d.Seconds()
		if w := p.way(); p.rate[w] == 0 {
			p.rate[w] = r
		} else {
			p.rate[w] += (r - p.rate[w]) / 2
		}
	}
	p.restart(now)
	p.windows++
	if p.probeEvery == 0 {
		p.probeEvery = pacerProbeEvery
	}
	w, other := p.way(), 1-p.way()
	switch {
	case p.trying && p.rate[other] > p.rate[w]:
		p.probeEvery = min(2*p.probeEvery, pacerProbeEveryMax) // the try lost: back, try later
	case p.trying:
		p.probeEvery = pacerProbeEvery // the try won: stay, and check as often as at first
		p.trying = false
		return
	case p.rate[other] == 0 || p.windows >= p.probeEvery:
		p.trying = true
		p.pipelined, p.windows = !p.pipelined, 0
		return
	case p.rate[other] <= p.rate[w]:
		return
	}
	p.trying = false
	p.pipelined, p.windows = !p.pipelined, 0
}
