package raft

import (
	"errors"
	"slices"

	"github.com/petrel-io/petrel/core/env"
)

// Propose replicates data. done runs on the node's executor exactly once if the member
// lives long enough to learn the outcome: with the FSM's result once the entry is applied,
// or with an error that says it never will be (a NotLeaderError, ErrProposalDropped,
// ErrProposalLost) or that it cannot tell (ErrOutcomeUnknown). A member that crashes never
// calls it: the caller's timeout means "unknown".
func (n *Node) Propose(data []byte, done func(result any, err error)) {
	env.Assertf(len(data) > 0, "raft: empty proposal (empty entries are the leader's no-ops)")
	n.ex.Post(func() {
		if n.stopped || n.rn == nil {
			return
		}
		n.propose(func() (env.Index, env.Term, error) { return n.rn.Propose(data) }, done)
	})
}

// ProposeConfChange proposes one membership change; done is called as for Propose (the
// result is nil) once the change is committed and applied here.
func (n *Node) ProposeConfChange(cc ConfChange, done func(err error)) {
	n.ex.Post(func() {
		if n.stopped || n.rn == nil {
			return
		}
		n.propose(func() (env.Index, env.Term, error) { return n.rn.ProposeConfChange(cc) },
			func(_ any, err error) { done(err) })
	})
}

func (n *Node) propose(fn func() (env.Index, env.Term, error), done func(any, error)) {
	if len(n.proposals) >= maxPendingProposals {
		done(nil, ErrProposalDropped)
		return
	}
	idx, term, err := fn()
	if errors.Is(err, ErrNotLeader) {
		done(nil, NotLeaderError{Leader: n.rn.Status().Lead})
		return
	}
	if err != nil {
		done(nil, err)
		return
	}
	if old, ok := n.proposals[idx]; ok {
		// Our older entry at idx was overwritten here, but another member may still hold
		// it and commit it: its fate is unknown to us.
		old.done(nil, ErrOutcomeUnknown)
	}
	n.proposals[idx] = pendingProposal{term: term, done: done}
	n.scheduleReady()
}

// ReadIndex confirms a linearizable read: done(nil) runs on the node's executor once this
// member has applied everything committed before the call, and leadership was confirmed
// by a quorum after it; the caller then reads the FSM (on that executor). done(err) means
// the read must not be served here; retry (possibly at the leader).
func (n *Node) ReadIndex(done func(err error)) {
	n.ex.Post(func() {
		if n.stopped || n.rn == nil {
			return
		}
		if len(n.reads) >= maxPendingReadRequests {
			done(ErrReadFailed)
			return
		}
		ctx := n.readContext()
		if err := n.rn.ReadIndex(ctx); err != nil {
			if errors.Is(err, ErrNotLeader) {
				err = NotLeaderError{Leader: n.rn.Status().Lead}
			}
			done(err)
			return
		}
		n.reads[string(ctx)] = &pendingRead{deadline: n.cfg.ReadTimeoutTicks, done: done}
		n.scheduleReady()
	})
}

// TransferLeader asks the leader to hand leadership to the voter to.
func (n *Node) TransferLeader(to ID) {
	n.ex.Post(func() {
		if n.stopped || n.rn == nil {
			return
		}
		_ = n.rn.TransferLeader(to) // best effort: a transfer is advice, it may be ignored
		n.scheduleReady()
	})
}

// Status posts fn with the member's status to the node's executor.
func (n *Node) Status(fn func(Status)) {
	n.ex.Post(func() {
		if n.rn != nil {
			fn(n.rn.Status())
		}
	})
}

// Exec posts fn to the node's executor, for callers that read the FSM.
func (n *Node) Exec(fn func()) { n.ex.Post(fn) }

func sortedReadKeys(m map[string]*pendingRead) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func sortedIndexes(m map[env.Index]pendingProposal) []env.Index {
	keys := make([]env.Index, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
