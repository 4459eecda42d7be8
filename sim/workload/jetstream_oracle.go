package workload

import (
	"errors"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/filestore"
	"github.com/petrel-io/petrel/sim"
)

// jsOracle is the durability oracle of the jetstream workload: when a publisher receives a
// PubAck, the acknowledged message must already be in the server disk's worst-case durable
// image (sim.Disk.DurableFS), recovered with the file store's own recovery. A server that
// answers before the fsync covering the message returned fails here, at the ack, without
// waiting for a crash to land in the window.
//
// A recovery copies and scans the whole store, so it is spaced out in virtual time: the
// first acknowledgement of every server boot gets one, then at most one per
// jsOracleSpacing (a PubAck-before-sync bug answers every publish early, so any checked ack
// finds it).
type jsOracle struct {
	w       *sim.World
	node    *sim.Node
	version uint64
	st      filestore.Store // recovered at version; nil: none yet
	next    time.Duration
	boot    int
	checks  int
}

const jsOracleSpacing = 500 * time.Millisecond

func (o *jsOracle) due() bool {
	now := o.w.Now()
	if boot := o.node.Boots(); boot != o.boot {
		o.boot = boot
	} else if now < o.next {
		return false
	}
	o.next = now + jsOracleSpacing
	return true
}

// recovered opens ORD's store as the durable image holds it (no limits: it judges what is
// durable, not what limits would keep).
func (o *jsOracle) recovered() filestore.Store {
	if v := o.node.Disk.DurableVersion(); o.st == nil || v != o.version {
		e := &env.Env{Name: "oracle", Clock: frozenClock{time.Unix(0, 0)}, Rand: env.NewPRNG(v), FS: o.node.Disk.DurableFS(),
			Exec: droppingExecutors{}, Log: discardLog{}, Probe: env.NopProbe{}}
		st, err := filestore.OpenFile(e, filestore.Config{Dir: jsMsgsDir(), Executor: droppingExecutor{}})
		env.Assertf(err == nil, "jetstream oracle: recover the durable image: %v", err)
		o.st, o.version = st, v
	}
	return o.st
}

// acked asserts that ORD's message seq, just acknowledged as m, is durable.
func (o *jsOracle) acked(c *jsChecker, seq uint64, m *jsMsg) {
	if !o.due() {
		return
	}
	o.checks++
	st := o.recovered()
	got, err := st.LoadMsg(env.Seq(seq))
	if err == nil {
		id, ok := decodeJSPayload(got.Data)
		env.Assertf(ok && id == m.id || c.rotted(), "jetstream oracle: seq %d acknowledged as %s; the durable image holds %q (intact %v)", seq, m.id, id, ok)
		return
	}
	env.Assertf(errors.Is(err, filestore.ErrNotFound) || errors.Is(err, filestore.ErrCorrupt), "jetstream oracle: load %d: %v", seq, err)
	if _, wq := c.consumerAcks[seq]; c.evictable(m) || wq && c.spec.workQueue || damagedDurably(st, env.Seq(seq)) {
		return
	}
	env.Assertf(false, "jetstream oracle: seq %d (msg id %s) acknowledged before it was durable: the worst-case durable image lacks it (%v)", seq, m.id, err)
}
