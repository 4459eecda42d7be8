package workload

import (
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/sim"
)

// counterOracle is the counter's durability oracle, checked when the server acknowledges an
// increment (before the reply is written). Always: the slot holding the value lies within
// what a Sync of the log that returned covered (counterLog tracks it). Now and then (one
// recovery per counterOracleSpacing of virtual time; a recovery per ack would scan the whole
// log at every ack): the worst-case durable image (sim.Disk.DurableFS), recovered with the
// server's own recovery, holds the value or a higher one.
type counterOracle struct {
	w          *sim.World
	node       *sim.Node
	log        *counterLogTrack
	next       time.Duration
	recoveries int
}

const counterOracleSpacing = time.Second

func (o *counterOracle) acked(v uint64, slot int64) {
	end := (slot + 1) * counterSlot
	env.Assertf(o.log.synced >= end, "counter oracle: value %d acknowledged before a sync covered its slot (synced to %d, slot ends at %d)",
		v, o.log.synced, end)
	if o.w.Now() < o.next {
		return
	}
	o.next = o.w.Now() + counterOracleSpacing
	o.recoveries++
	f, err := o.node.Disk.DurableFS().Open(counterLog)
	env.Assertf(err == nil, "counter oracle: value %d acknowledged, and the durable image has no log: %v", v, err)
	buf, err := readLog(f)
	env.Assertf(err == nil, "counter oracle: read the durable log: %v", err)
	r := recoverCounter(buf)
	env.Assertf(r.value >= v, "counter oracle: value %d acknowledged; the worst-case durable image recovers %d", v, r.value)
}
