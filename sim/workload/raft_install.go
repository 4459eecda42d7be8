package workload

import (
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/raft"
)

// The InstallSnapshot rule (Raft §7, Figure 13 step 6): a follower whose log holds the
// snapshot's last entry (same index and term) keeps the entries after it. A snapshot
// installed anyway would drop them, committed ones included. The checker sees each
// installing Ready before it is persisted (raft.InstallObserver), notes what the member
// held after the snapshot's last entry, and asserts at Persisted that it is all still
// there. (A commit index going back is asserted at Persisted for every Ready.)

// heldTail is the log a member held past an incoming snapshot's last entry.
type heldTail struct {
	snap     raft.SnapshotMeta
	last     env.Index
	lastTerm env.Term
}

// Installing implements raft.InstallObserver.
func (c *raftChecker) Installing(id raft.ID, meta raft.SnapshotMeta, st *raft.MemoryStorage) {
	delete(c.held, id)
	if t, ok := termAt(st, meta.Index); !ok || t != meta.Term {
		return
	}
	last, _ := st.LastIndex()
	lastTerm, _ := termAt(st, last)
	c.held[id] = heldTail{snap: meta, last: last, lastTerm: lastTerm}
}

// checkHeldTail runs at Persisted for a Ready that installed a snapshot.
func (c *raftChecker) checkHeldTail(id raft.ID, st *raft.MemoryStorage) {
	h, ok := c.held[id]
	if !ok {
		return
	}
	delete(c.held, id)
	t, ok := termAt(st, h.last)
	env.Assertf(ok && t == h.lastTerm,
		"raft check: member %d installed snapshot %d/%d over a log holding that entry and up to %d/%d, and dropped the entries after it",
		id, h.snap.Term, h.snap.Index, h.lastTerm, h.last)
}
