package sim

import (
	"fmt"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// Aimed crashes: random crashes rarely land in the microseconds between a write and its sync,
// a sync and the acknowledgement it allows, or inside a recovery, which is where durability
// bugs live. So the simulator also crashes a node at its own I/O calls: at each opportunity of
// a kind the run has on, with a per-run probability, until a per-run budget is spent, and only
// on Crashable nodes during the fault phase. The crash unwinds the program's function with a
// private panic value (crashPoint) that World.run recovers; every Env call the unwinding
// code makes on the dead incarnation fails harmlessly.
type crashKind uint8

const (
	aimAfterWrite crashKind = iota // a disk write landed in the page cache, no sync yet
	aimInSync                      // a sync persisted some of its sectors, then the power went
	aimAfterSync                   // a sync made data durable; the function never went on
	aimAfterSend                   // bytes went to a peer while the disk held unsynced data
	aimInRecovery                  // a write or sync in the first moments after a restart
	aimKinds
)

var crashKindNames = [aimKinds]string{"after-write", "in-sync", "after-sync", "after-send", "in-recovery"}

func (k crashKind) String() string { return crashKindNames[k] }

// recoveryWindow is how long after a boot a node's disk writes and syncs count as recovery.
const recoveryWindow = 200 * time.Millisecond

// crashPoint is the panic value that unwinds a function whose machine died at an I/O call.
type crashPoint struct{ node int }

// aimer holds the run's aimed-crash state. Its draws come from a generator of its own, so a
// run in which no aimed crash fires follows exactly the draws it would without them.
type aimer struct {
	rng    *env.PRNG
	budget int
}

func newAimer(w *World) aimer {
	return aimer{rng: env.NewPRNG(w.Seed ^ 0x2545f4914f6cdd1d), budget: w.Profile.AimedCrashes}
}

// aimAt decides whether node n dies at an opportunity of kind (a write or sync during the
// recovery window counts as in-recovery instead). It reports the kind to fire, or false.
func (w *World) aimAt(n *Node, kind crashKind) (crashKind, bool) {
	a := &w.aim
	if a.budget <= 0 || !w.faults.on || w.sched.now >= w.faults.until || !n.Config.Crashable || n.proc == nil {
		return 0, false
	}
	if kind != aimAfterSend && n.boots > 1 && w.sched.now-n.proc.bootAt <= recoveryWindow {
		kind = aimInRecovery
	}
	if !env.Chance(a.rng, w.Profile.AimProb[kind]) {
		return 0, false
	}
	return kind, true
}

// crashHere kills node n at an I/O call of the running function and unwinds it. An in-sync
// crash is always a power loss (a process crash would leave the sync to the kernel); the
// others are a power loss or a process crash by a coin.
func (w *World) crashHere(n *Node, kind crashKind) {
	machine := kind == aimInSync || w.aim.rng.Intn(2) == 0
	w.spendAim(n, kind, fmt.Sprintf(" machine=%v", machine))
	n.crash(machine)
	f := w.faults
	f.schedule(w.Profile.RestartDelay(w.rng), func() {
		if f.on {
			n.Restart()
		}
	})
	panic(crashPoint{node: n.Index})
}

// spendAim takes one aimed crash of kind from the run's budget, counts it and traces it.
func (w *World) spendAim(n *Node, kind crashKind, detail string) {
	w.aim.budget--
	w.Hit("sim.crash." + kind.String())
	w.trace.note(w.sched.now, kindCrash, int32(n.Index), "aimed crash "+kind.String()+detail)
}

// aimDisk is an opportunity at a disk write or sync of d's node.
func (d *Disk) aimDisk(kind crashKind) {
	if d.oracle {
		return
	}
	w := d.node.w
	if k, ok := w.aimAt(d.node, kind); ok {
		w.crashHere(d.node, k)
	}
}

// aimSync is the opportunity inside a sync: if it fires, a random share of the dirty
// sectors reach the platter (those within the durable size), the calling function never
// returns from the sync, and the power goes at a drawn moment before the sync would have
// completed. Until then the node's other executors run on: a message handed to a transport
// executor before the state it promises was synced, or an acknowledgement posted beside the
// sync, gets out, which is how "sent before persisted" and "ack beside fsync" show.
func (d *Disk) aimSync(in *inode) {
	if d.oracle {
		return
	}
	w := d.node.w
	k, ok := w.aimAt(d.node, aimInSync)
	if !ok {
		return
	}
	size := min(int64(len(in.data)), int64(len(in.durable)))
	for _, s := range env.SortedKeys(in.dirty) {
		lo := s * env.SectorSize
		if lo < size && w.aim.rng.Intn(2) == 0 {
			copy(in.durable[lo:min(lo+env.SectorSize, size)], in.data[lo:])
			delete(in.dirty, s)
		}
	}
	d.durableVersion++
	x := w.running
	if x == nil || x.busyUntil <= w.sched.now+1 {
		w.crashHere(d.node, k) // no sync time to die in: at once
	}
	n, p := d.node, d.node.proc
	at := w.sched.now + 1 + time.Duration(w.aim.rng.Intn(int(x.busyUntil-w.sched.now-1)))
	w.spendAim(n, k, fmt.Sprintf(": power goes at %v", at))
	w.sched.schedule(at, kindCrash, n.Index, 0, func() {
		if n.proc == p { // not crashed meanwhile by another fault
			n.crash(true)
			n.scheduleRestart(w.Profile.RestartDelay(w.rng))
		}
	})
	panic(crashPoint{node: n.Index})
}

// aimSend is the opportunity after bytes were handed to a peer: it fires only while the
// node's disk holds unsynced data, the window in which "sent before persisted" shows.
func (e *connEnd) aimSend() {
	n := e.p.node
	if !e.p.alive || n.Disk.unsynced() == 0 {
		return
	}
	if k, ok := n.w.aimAt(n, aimAfterSend); ok {
		n.w.crashHere(n, k)
	}
}
