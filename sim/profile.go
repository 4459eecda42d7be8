package sim

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// Profile is the set of faults and their magnitudes for one run. DrawProfile turns each
// fault class on with probability one half (swarm testing: a run that never partitions finds
// the bugs that partitions would mask, and the reverse). Rates are per simulated second.
type Profile struct {
	// Network shape.
	LatencyMin, LatencyMax time.Duration // base one-way latency per link
	Jitter                 time.Duration // extra per packet
	Window                 int           // bytes in flight per direction
	MaxChunk               int           // largest packet
	TinyChunkProb          float64       // chance a packet carries 1..16 bytes
	UserTimeout            time.Duration // how long unacknowledged bytes may wait

	// Network faults.
	PartitionRate     float64
	PartitionOneWay   float64 // share of partitions that block one direction only
	PartitionDuration [2]time.Duration
	ResetRate         float64
	StallRate         float64

	// Node faults.
	CrashRate        float64
	MachineCrashProb float64 // share of crashes that are power losses (peers see silence)
	RestartDelayMin  time.Duration
	RestartDelayMax  time.Duration

	// Disk faults.
	WriteEIOProb float64 // per write
	SyncEIOProb  float64 // per sync
	NoSpaceRate  float64 // how often the disk briefly fills up
	BitFlipRate  float64

	// Clocks.
	SkewMax       time.Duration // per-node wall-clock offset
	DriftMax      float64       // per-node rate error (0.01 = 1%)
	ClockJumpRate float64       // wall-clock steps (NTP), up to SkewMax

	// ExecDelayMax, when set, runs each posted function up to this much later (drawn per
	// run), as CPU scheduling does: work handed to another executor (an fsync, an apply) is
	// then in flight for a while, and faults can land meanwhile.
	ExecDelayMax time.Duration

	// SyncLatency bounds each disk's typical sync time (drawn per disk, 0: instant). A sync
	// keeps its executor busy that long, with a tail of slow ones; a write costs a small
	// fraction of it. Durability still takes effect at the call.
	SyncLatency [2]time.Duration

	// AimedCrashes is the run's budget of crashes aimed at I/O calls (see aim.go), AimProb
	// the chance per opportunity of each kind (0: that kind is off).
	AimedCrashes int
	AimProb      [aimKinds]float64

	// With bit rot on: the chance that a crash leaves a flipped bit for the restart to read
	// (aimed at recently written regions and file tails), and the chance per read that the
	// bytes returned carry a flipped bit the disk does not (a bad cable or DRAM).
	RestartFlipProb float64
	ReadFlipProb    float64
}

// DrawProfile draws a profile from r. Each class is on or off by a coin; when on, its
// magnitudes are drawn too.
func DrawProfile(r *env.PRNG) Profile {
	p := Profile{
		LatencyMin:      time.Duration(env.Between(r, 50, 500)) * time.Microsecond,
		Window:          int(env.Between(r, 4<<10, 256<<10)),
		MaxChunk:        int(env.Between(r, 512, 64<<10)),
		UserTimeout:     time.Duration(env.Between(r, 5, 30)) * time.Second,
		RestartDelayMin: 100 * time.Millisecond,
		RestartDelayMax: time.Duration(env.Between(r, 200, 5000)) * time.Millisecond,
	}
	p.LatencyMax = p.LatencyMin + time.Duration(env.Between(r, 0, 5000))*time.Microsecond
	on := func() bool { return r.Intn(2) == 0 }
	if on() {
		p.Jitter = time.Duration(env.Between(r, 10, 2000)) * time.Microsecond
	}
	if on() {
		p.TinyChunkProb = env.Float64(r) * 0.5
	}
	if on() {
		p.PartitionRate = 0.02 + env.Float64(r)*0.5
		p.PartitionOneWay = env.Float64(r)
		p.PartitionDuration = [2]time.Duration{100 * time.Millisecond, time.Duration(env.Between(r, 500, 20000)) * time.Millisecond}
	}
	if on() {
		p.ResetRate = 0.02 + env.Float64(r)*0.5
	}
	if on() {
		p.StallRate = 0.01 + env.Float64(r)*0.2
	}
	if on() {
		p.CrashRate = 0.01 + env.Float64(r)*0.3
		p.MachineCrashProb = env.Float64(r)
	}
	if on() {
		p.WriteEIOProb = env.Float64(r) * 0.01
		p.SyncEIOProb = env.Float64(r) * 0.02
	}
	if on() {
		p.NoSpaceRate = 0.01 + env.Float64(r)*0.2
	}
	if on() {
		p.BitFlipRate = 0.01 + env.Float64(r)*0.2
	}
	if on() {
		p.SkewMax = time.Duration(env.Between(r, 1, 120000)) * time.Millisecond
		p.DriftMax = env.Float64(r) * 0.05
		p.ClockJumpRate = env.Float64(r) * 0.1
	}
	// Drawn last, so that adding it left every other field of every seed unchanged.
	if on() {
		p.ExecDelayMax = time.Duration(env.Between(r, 10, 2000)) * time.Microsecond
	}
	// Always on and drawn from nothing here, so every other field stays as it was; the
	// per-disk draws come from each disk's own generator.
	p.SyncLatency = [2]time.Duration{20 * time.Microsecond, 2 * time.Millisecond}
	if on() {
		p.AimedCrashes = int(env.Between(r, 1, 4))
		for k := range p.AimProb {
			if r.Intn(3) != 0 {
				p.AimProb[k] = math.Pow(10, -1-3*env.Float64(r)) // 1e-4 .. 1e-1
			}
		}
		if p.AimProb[aimInRecovery] > 0 { // far fewer opportunities: restarts only
			p.AimProb[aimInRecovery] = math.Pow(10, -0.5-1.5*env.Float64(r))
		}
	}
	if p.BitFlipRate > 0 {
		p.RestartFlipProb = env.Float64(r)
		if on() {
			p.ReadFlipProb = math.Pow(10, -1-2*env.Float64(r)) // 1e-3 .. 1e-1
		}
	}
	return p
}

// Quiet returns a profile with no faults and a plain network, for tests that want one.
func Quiet() Profile {
	return Profile{
		LatencyMin: 100 * time.Microsecond, LatencyMax: 1 * time.Millisecond,
		Window: 64 << 10, MaxChunk: 16 << 10, UserTimeout: 10 * time.Second,
		RestartDelayMin: 100 * time.Millisecond, RestartDelayMax: time.Second,
	}
}

// Classes lists the fault classes that are on, for reports.
func (p Profile) Classes() []string {
	var c []string
	add := func(on bool, name string) {
		if on {
			c = append(c, name)
		}
	}
	add(p.Jitter > 0, "jitter")
	add(p.TinyChunkProb > 0, "tinychunks")
	add(p.PartitionRate > 0, "partition")
	add(p.ResetRate > 0, "reset")
	add(p.StallRate > 0, "stall")
	add(p.CrashRate > 0, "crash")
	add(p.WriteEIOProb > 0 || p.SyncEIOProb > 0, "eio")
	add(p.NoSpaceRate > 0, "enospc")
	add(p.BitFlipRate > 0, "bitrot")
	add(p.ReadFlipProb > 0, "readflip")
	add(p.SkewMax > 0, "clock")
	add(p.ExecDelayMax > 0, "execdelay")
	add(p.AimedCrashes > 0, "aimed")
	return c
}

func (p Profile) String() string {
	return fmt.Sprintf("[%s] lat=%v..%v window=%d chunk<=%d usertimeout=%v",
		strings.Join(p.Classes(), ","), p.LatencyMin, p.LatencyMax, p.Window, p.MaxChunk, p.UserTimeout)
}

// drawChunk picks how many of the queued bytes the next packet carries.
func (p *Profile) drawChunk(r *env.PRNG, queued, room int) int {
	limit := min(queued, room, p.MaxChunk)
	if limit <= 1 {
		return 1
	}
	if env.Chance(r, p.TinyChunkProb) {
		return 1 + r.Intn(min(limit, 16))
	}
	if r.Intn(2) == 0 {
		return limit
	}
	return 1 + r.Intn(limit)
}

// drawClock draws a node's skew and drift.
func (p *Profile) drawClock(r *env.PRNG) (time.Duration, float64) {
	if p.SkewMax <= 0 {
		return 0, 0
	}
	skew := time.Duration(env.Between(r, -int64(p.SkewMax), int64(p.SkewMax)))
	drift := (env.Float64(r)*2 - 1) * p.DriftMax
	return skew, drift
}

// RestartDelay draws how long a crashed node stays down.
func (p *Profile) RestartDelay(r *env.PRNG) time.Duration {
	return time.Duration(env.Between(r, int64(p.RestartDelayMin), int64(p.RestartDelayMax)))
}

// nextIn draws the wait until the next event of a Poisson process with the given rate.
func nextIn(r *env.PRNG, rate float64) time.Duration {
	u := env.Float64(r)
	if u == 0 {
		u = math.SmallestNonzeroFloat64
	}
	return time.Duration(-math.Log(u) / rate * float64(time.Second))
}
