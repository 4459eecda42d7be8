package workload

import (
	"fmt"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/sim"
)

// counterDamager is the counter workload's own targeted damage. The server writes a slot and
// syncs it in one step, so no crash of the profile lands between the two, and recovery's
// torn-tail and second-copy paths never ran. So, during the fault phase:
//   - a torn write: now and then, a slot write persists only a prefix of the slot, or the
//     slot with both copies garbled (a torn sector), and the machine dies before the sync
//     (the damaged slot is synced, then the process halts: what a power loss mid-write leaves);
//   - rot at rest: at a boot, one copy of a slot gets a flipped bit; the other copy spares it.
type counterDamager struct {
	w     *sim.World
	node  *sim.Node
	r     *env.PRNG // the damage's own draws, so the seed's other draws stay as they were
	until time.Duration
	log   counterLogTrack
	// tearEvery: about one slot write in tearEvery is torn (0: never).
	tearEvery int
}

// counterLogTrack is what the checker knows of the log file: how far it was written, and how
// far a Sync that returned covered it. It outlives incarnations.
type counterLogTrack struct{ written, synced int64 }

func (d *counterDamager) init(w *sim.World, until time.Duration) {
	d.w, d.until = w, until
	d.r = env.NewPRNG(w.Seed ^ 0x636f756e746572) // "counter"
	if d.r.Intn(2) == 0 {
		d.tearEvery = int(env.Between(d.r, 50, 400))
	}
}

// boot settles what the checker knows after a crash and maybe rots one copy of a slot.
func (d *counterDamager) boot(e *env.Env) {
	if d.node == nil {
		return // the first boot, inside AddNode
	}
	data, err := d.node.Disk.ReadFile(counterLog)
	if err != nil {
		d.log = counterLogTrack{}
		return
	}
	d.log.written = min(d.log.written, int64(len(data)))
	d.log.synced = min(d.log.synced, d.log.written)
	// Spare the newest slots, where the simulator's own restart flips land, and any slot with
	// a damaged copy already: one flip per slot, which its second copy must survive.
	slots := int64(len(data))/counterSlot - counterRotSpared
	if d.w.Now() >= d.until || slots <= 0 || d.r.Intn(2) == 0 {
		return
	}
	slot := int64(d.r.Intn(int(slots))) * counterSlot
	if _, ok := decodeCounter(data[slot:]); !ok {
		return
	}
	if _, ok := decodeCounter(data[slot+counterRecord:]); !ok {
		return
	}
	off := slot + int64(d.r.Intn(2))*counterRecord + int64(d.r.Intn(counterRecord))
	d.node.Disk.FlipBitAt(counterLog, off, uint(d.r.Intn(8)))
	d.w.Hit("counter.workload.rot-one-copy")
}

// counterRotSpared: the newest slots, which rot at rest leaves alone.
const counterRotSpared = 4

// tear decides whether this slot write is torn, and returns what to write instead.
func (d *counterDamager) tear(p []byte) ([]byte, bool) {
	if d.tearEvery == 0 || d.w.Now() >= d.until || len(p) != counterSlot || d.r.Intn(d.tearEvery) != 0 {
		return nil, false
	}
	if d.r.Intn(2) == 0 {
		d.w.Hit("counter.workload.torn-write")
		return append([]byte(nil), p[:1+d.r.Intn(counterSlot-1)]...), true
	}
	d.w.Hit("counter.workload.garbled-write")
	g := append([]byte(nil), p...)
	g[d.r.Intn(counterRecord)] ^= 1 << d.r.Intn(8)
	g[counterRecord+d.r.Intn(counterRecord)] ^= 1 << d.r.Intn(8)
	return g, true
}

// counterFS wraps the server's FS: its log file reports writes and syncs to the damager.
type counterFS struct {
	env.FS
	d *counterDamager
}

func (f counterFS) Create(name string) (env.File, error) {
	h, err := f.FS.Create(name)
	if err == nil {
		f.d.log = counterLogTrack{}
		h = &counterFile{File: h, d: f.d}
	}
	return h, err
}

func (f counterFS) OpenRW(name string) (env.File, error) {
	h, err := f.FS.OpenRW(name)
	if err == nil {
		h = &counterFile{File: h, d: f.d}
	}
	return h, err
}

type counterFile struct {
	env.File
	d *counterDamager
}

func (f *counterFile) WriteAt(p []byte, off int64) (int, error) {
	if torn, ok := f.d.tear(p); ok {
		// The machine dies mid-write: what reached the platter is the damaged slot.
		if _, err := f.File.WriteAt(torn, off); err == nil && f.File.Sync() == nil {
			f.d.log.written = max(f.d.log.written, off+int64(len(torn)))
			f.d.log.synced = f.d.log.written
		}
		env.Halt(fmt.Errorf("counter: power lost in the middle of a slot write (the workload's torn write)"))
	}
	n, err := f.File.WriteAt(p, off)
	f.d.log.written = max(f.d.log.written, off+int64(n))
	return n, err
}

func (f *counterFile) Sync() error {
	err := f.File.Sync()
	if err == nil {
		f.d.log.synced = f.d.log.written
	}
	return err
}

func (f *counterFile) Truncate(size int64) error {
	err := f.File.Truncate(size)
	if err == nil {
		f.d.log.written = min(f.d.log.written, size)
		f.d.log.synced = min(f.d.log.synced, size)
	}
	return err
}
