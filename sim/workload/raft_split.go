package workload

import (
	"errors"
	"fmt"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/raft"
)

// A split leader: the nemesis cuts a leader L of a five-voter group from every peer but one
// follower F, and keeps proposing to L. F still hears L, so it stays in L's lease and
// ignores the others' votes without changing its term, while L streams it entries of the
// old term that nobody else holds. The other three elect a new leader N (before L's check
// quorum deposes it in about half the splits), whose first append truncates that
// tail on F. F's disk is slowed meanwhile, so L's appends and N's first one pile up behind
// one sync and F steps them in one batch (raft.ack.stale-truncated): the acknowledgement of
// L's entries must not leave in a Ready that persists N's entries instead (a copy L could
// count that is never durable; the send-durability checker asserts it, see
// raftDurability). The nemesis leaves the new leader alone while a split lasts.

const (
	// splitStreamEvery: the nemesis proposes to the split leader this often (plus up to as
	// much again), faster than F's slowed syncs.
	splitStreamEvery = 500 * time.Microsecond
	// splitStreamFrom: the stream starts this long after the cut, just before the others'
	// first election can end.
	splitStreamFrom = 150 * time.Millisecond
	// splitSyncSlowdown: the kept follower's syncs take this many times longer during the
	// stream (a stalled disk), so L's appends and N's first one reach it during one sync.
	splitSyncSlowdown = 20
	// splitKey is the key the stream writes: no client uses it, so porcupine never sees it.
	splitKey = "split"
)

// splitLeader cuts leader id from all its peers but one voter for down, and streams
// proposals to it meanwhile. Only groups of five voters or more: with three, the two left
// cannot elect anyone while one of them stays in the leader's lease.
func (r *Raft) splitLeader(id raft.ID, down time.Duration) {
	if id == raft.None || len(r.conf.Voters) < 5 || !r.w.Nodes()[int(id)-1].Up() {
		return
	}
	var followers []raft.ID
	for _, v := range r.conf.Voters {
		if v != id {
			followers = append(followers, v)
		}
	}
	keep := followers[r.w.Rand().Intn(len(followers))]
	node := r.w.Nodes()[int(id)-1]
	var others []int
	for j := range r.names {
		if j != node.Index && j != int(keep)-1 {
			others = append(others, j)
		}
	}
	r.w.Note("raft nemesis: cut leader %d from its peers but %d", id, keep)
	r.w.Hit("raft.nemesis.split-leader")
	for _, j := range others {
		r.block(node.Index, j)
	}
	until := r.w.Now() + down
	r.split[id]++
	// Nobody can be elected before an election timeout has passed: stream from then on,
	// and slow the follower's syncs so that what reaches it piles up behind them.
	r.w.After(splitStreamFrom, func() {
		r.w.Nodes()[int(keep)-1].Disk.Degrade(splitSyncSlowdown, down-splitStreamFrom)
		r.streamTo(id, until, 0)
	})
	r.w.After(down, func() {
		r.split[id]--
		for _, j := range others {
			r.unblock(node.Index, j)
		}
	})
}

// streamTo proposes to member id every splitStreamEvery or so until the given time or until
// it says it no longer leads.
func (r *Raft) streamTo(id raft.ID, until time.Duration, n int) {
	m := r.members[id]
	if r.w.Now() >= until || m == nil || !r.w.Nodes()[int(id)-1].Up() {
		return
	}
	cmd := fmt.Sprintf("P %s %d-%d", splitKey, id, n)
	m.node.Propose([]byte(cmd), func(_ any, err error) {
		if errors.Is(err, raft.ErrNotLeader) {
			until = 0
		}
	})
	d := splitStreamEvery + time.Duration(env.Between(r.w.Rand(), 0, int64(splitStreamEvery)))
	r.w.After(d, func() { r.streamTo(id, until, n+1) })
}
