package workload

import (
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/raft"
)

// Cut segment rolls. The WAL starts a new segment by creating the file and writing the
// current hard state as its first record, synced before anything else goes in; a fault
// between the two leaves a last segment without that record, which recovery must give back
// (else, once snapshots release the older segments, the term and vote go with them: the
// recovery checker asserts the last segment carries them on its own). Random faults almost
// never land there (a roll is one write in dozens), so in some seeds the workload fails the
// new segment's first write with EIO: the member halts, and its restart makes the empty
// segment's name durable and recovers it. Its draws come from a stream of their own, so
// seeds without it run as before.
type walRollCuts struct {
	rng    *env.PRNG
	chance float64 // per roll of a member's WAL
	budget int     // cuts left in the run
}

func newWALRollCuts(seed uint64) walRollCuts {
	rng := env.NewPRNG(seed ^ 0x77616c726f6c6c) // "walroll"
	c := walRollCuts{rng: rng}
	if rng.Intn(2) == 0 {
		c.chance, c.budget = []float64{0.1, 0.3, 1}[rng.Intn(3)], 1+rng.Intn(3)
	}
	return c
}

// rollFS is a member's FS as the workload sees it: it notices WAL segment creations.
type rollFS struct {
	env.FS
	r  *Raft
	id raft.ID
}

func (f rollFS) Create(name string) (env.File, error) {
	file, err := f.FS.Create(name)
	if err == nil {
		f.r.maybeCutRoll(f.id, name)
	}
	return file, err
}

// maybeCutRoll makes the next write of a new WAL segment (its first record) fail, during
// the fault phase. The first segment is left alone: it is created at the first boot, where
// an I/O error already lands now and then, and it has no older segments to lose.
func (r *Raft) maybeCutRoll(id raft.ID, name string) {
	c := &r.rollCuts
	dir, file := path.Split(name)
	hex, ok := strings.CutSuffix(file, ".wal")
	if !ok || path.Clean(dir) != path.Join("raft", "wal") || c.budget <= 0 || r.w.Now() >= r.faultsEnd-time.Second {
		return
	}
	if seq, err := strconv.ParseUint(hex, 16, 64); err != nil || seq < 2 || !env.Chance(c.rng, c.chance) {
		return
	}
	c.budget--
	r.w.Nodes()[int(id)-1].Disk.FailNext("write", env.ErrIO)
	r.w.Note("raft nemesis: the first write of member %d's new WAL segment %s fails", id, file)
	r.w.Hit("raft.nemesis.cut-roll")
}
