package workload

import (
	"fmt"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/raft"
)

// A split leader: the nemesis cuts a leader L of a five-voter group from every peer but one
// follower F, and keeps proposing to L. F still hears L, so it stays in L's lease and
// ignores the others' votes without changing its term, while L streams it entries of the
// old term that nobody else holds. The other three elect a new leader N, whose first append
// truncates that tail on F. When one of L's appends and N's first one reach F while F is
// busy syncing, F steps both before its next Ready: the acknowledgement of L's entries
// must not leave in a Ready that persists N's entries instead (a copy L could count that
// is never durable; the send-durability checker asserts it, see raftDurability).

const (
	// splitStreamEvery: the nemesis proposes to the split leader this often (plus up to as
	// much again), so F's executor is seldom idle when N's first append arrives.
	splitStreamEvery = 2 * time.Millisecond
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
	r.streamTo(id, until, 0)
	r.w.After(down, func() {
		for _, j := range others {
			r.unblock(node.Index, j)
		}
	})
}

// streamTo proposes to member id until the given time, while it believes it leads.
func (r *Raft) streamTo(id raft.ID, until time.Duration, n int) {
	m := r.members[id]
	if r.w.Now() >= until || m == nil || !r.w.Nodes()[int(id)-1].Up() {
		return
	}
	cmd := fmt.Sprintf("P %s %d-%d", splitKey, id, n)
	m.node.Propose([]byte(cmd), func(any, error) {})
	d := splitStreamEvery + time.Duration(env.Between(r.w.Rand(), 0, int64(splitStreamEvery)))
	r.w.After(d, func() { r.streamTo(id, until, n+1) })
}
