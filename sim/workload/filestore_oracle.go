package workload

import (
	"errors"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/filestore"
	"github.com/petrel-io/petrel/sim"
)

// fsOracle is the durability oracle of the filestore workload, in two layers.
//
// At every acknowledgement of a write, the record of the acknowledged message must have been
// covered by a Sync of its block file that returned: the FS wrapper (fsTracker) knows every
// message record written and not yet synced. This is exact and costs a map lookup, so it
// runs at every ack: an acknowledgement that runs beside its fsync fails at that ack, without
// waiting for a crash to land in the window.
//
// Now and then (see due), it also recovers a store from the disk's worst-case durable image
// (sim.Disk.DurableFS) with the file store's own recovery and asserts that what was promised
// is there: the acknowledged message intact, nothing below an acknowledged compaction's
// floor. That covers what the wrapper cannot see (a block file whose directory entry is not
// durable, the disk's own notion of a sync). A recovery per durable change would cost one per
// ack here (a batch is usually one write, and a recovery scans the whole store: 0.7 ms, 70
// times a seed's other work), so it is spaced out in virtual time and spent on the risky
// moment the wrapper cannot judge: a block file was created since the last one (is its
// directory entry durable?). The first acknowledgement of every run gets one.
type fsOracle struct {
	w          *sim.World
	node       *sim.Node
	cfg        filestore.Config
	track      *fsTracker
	version    uint64
	st         filestore.Store // recovered from the durable image at version; nil: none yet
	next       time.Duration   // the earliest virtual time of the next recovery
	recoveries int
}

const (
	// fsOracleSpacing: at most one durable-image recovery per this much virtual time after a
	// block file was created, and one per fsOracleSpacingMax at any moment.
	fsOracleSpacing    = 2 * time.Second
	fsOracleSpacingMax = 5 * time.Second
)

// due reports whether this acknowledgement gets a durable-image recovery.
func (o *fsOracle) due() bool {
	now := o.w.Now()
	if now < o.next || !o.track.created && now < o.next+fsOracleSpacingMax-fsOracleSpacing {
		return false
	}
	o.next = now + fsOracleSpacing
	o.track.created = false
	return true
}

// recovered returns a store recovered from the durable image as it is now. now is the wall
// time the real store was shown last, so expiry judges the copy as it judged the original.
func (o *fsOracle) recovered(now time.Time) filestore.Store {
	if v := o.node.Disk.DurableVersion(); o.st == nil || v != o.version {
		cfg := o.cfg
		cfg.Limits = filestore.Limits{} // judge what is durable, not what limits would keep
		cfg.Recovered = nil
		e := &env.Env{Name: "oracle", Clock: frozenClock{now}, Rand: env.NewPRNG(v), FS: o.node.Disk.DurableFS(),
			Exec: droppingExecutors{}, Log: discardLog{}, Probe: env.NopProbe{}}
		cfg.Executor = droppingExecutor{}
		st, err := filestore.OpenFile(e, cfg)
		env.Assertf(err == nil, "filestore oracle: recover the durable image: %v", err)
		o.st, o.version = st, v
		o.recoveries++
	}
	return o.st
}

// acked asserts that the durable image holds message seq with payload id, unless the checker
// can explain its absence: expired by the wall time shown, or damage the recovery reported
// for it (a bit flipped at rest between the sync and the acknowledgement).
func (o *fsOracle) acked(seq env.Seq, id uint64, now time.Time, expired bool) {
	if o.track.unsynced[uint64(seq)] != nil {
		env.Assertf(false, "filestore oracle: seq %d acknowledged before a sync of its block file covered its record", seq)
	}
	if !o.due() {
		return
	}
	st := o.recovered(now)
	m, err := st.LoadMsg(seq)
	if err == nil {
		got, ok := checkPayload(m.Data)
		env.Assertf(ok && got == id, "filestore oracle: seq %d acknowledged with payload %x; the durable image holds %x (intact %v)", seq, id, got, ok)
		return
	}
	env.Assertf(errors.Is(err, filestore.ErrNotFound) || errors.Is(err, filestore.ErrCorrupt), "filestore oracle: load %d: %v", seq, err)
	if expired || damagedDurably(st, seq) {
		return
	}
	env.Assertf(false, "filestore oracle: seq %d acknowledged before a sync covering it completed: the worst-case durable image lacks it (%v)", seq, err)
}

// compacted asserts that a compaction acknowledged to floor is durable: nothing below floor
// survives in the durable image.
func (o *fsOracle) compacted(floor env.Seq, now time.Time) {
	if !o.due() {
		return
	}
	st := o.recovered(now)
	m, err := st.LoadNext(filestore.AllSubjects, 1)
	if err == nil {
		env.Assertf(m.Seq >= floor, "filestore oracle: compaction to %d acknowledged; the durable image still holds seq %d", floor, m.Seq)
	}
}

// damagedDurably reports whether recovering the durable image reported damage that may
// have taken seq: a corrupt record naming it, or bytes with no readable header.
func damagedDurably(st filestore.Store, seq env.Seq) bool {
	for _, d := range st.Damage() {
		if d.Seq == seq || d.Kind == filestore.DamageUnreadable || d.Kind == filestore.DamageBlock {
			return true
		}
	}
	return false
}

// The oracle's Env: time stands still, posted work never runs (the copy is only read), logs
// go nowhere, and no probe counts (the oracle's recoveries are not the program's).
type frozenClock struct{ now time.Time }

func (c frozenClock) Now() time.Time      { return c.now }
func (c frozenClock) Mono() time.Duration { return 0 }
func (c frozenClock) AfterFunc(time.Duration, env.Executor, func()) env.Timer {
	return stoppedTimer{}
}

type stoppedTimer struct{}

func (stoppedTimer) Stop() bool { return true }

type droppingExecutor struct{}

func (droppingExecutor) Post(func()) {}

type droppingExecutors struct{}

func (droppingExecutors) New(string) env.Executor { return droppingExecutor{} }

type discardLog struct{}

func (discardLog) Logf(env.Level, string, ...any) {}
func (discardLog) Enabled(env.Level) bool         { return false }
