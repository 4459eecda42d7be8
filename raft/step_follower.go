package raft

import (
	"github.com/petrel-io/petrel/core/env"
)

func stepFollower(r *raft, m Message) error {
	switch m.Type {
	case MsgProp:
		return ErrNotLeader
	case MsgApp:
		r.electionElapsed, r.lead = 0, m.From
		r.handleAppend(m)
	case MsgHeartbeat:
		r.electionElapsed, r.lead = 0, m.From
		r.handleHeartbeat(m)
	case MsgSnap:
		r.electionElapsed, r.lead = 0, m.From
		r.handleSnapChunk(m)
	case MsgTransferLeader:
		if r.lead == None {
			return ErrNotLeader
		}
		m.To = r.lead
		r.send(m)
	case MsgTimeoutNow:
		// The leader hands over: campaign at once, skipping pre-vote and the lease.
		r.logf(env.LevelInfo, "raft %d: told to campaign by %d (leadership transfer)", r.id, m.From)
		r.hup(true)
	case MsgReadIndex:
		if r.lead == None {
			return ErrNotLeader
		}
		m.To = r.lead
		r.send(m)
	case MsgReadIndexResp:
		r.readStates = append(r.readStates, ReadState{Index: m.Index, Context: m.Context})
	}
	return nil
}

// stepCandidate serves both pre-candidates and candidates.
func stepCandidate(r *raft, m Message) error {
	myResp := MsgVoteResp
	if r.state == StatePreCandidate {
		myResp = MsgPreVoteResp
	}
	switch m.Type {
	case MsgProp:
		return ErrNotLeader
	case MsgReadIndex, MsgTransferLeader:
		return ErrNotLeader
	case MsgApp:
		r.becomeFollower(m.Term, m.From) // a leader of our term (or later) exists
		r.handleAppend(m)
	case MsgHeartbeat:
		r.becomeFollower(m.Term, m.From)
		r.handleHeartbeat(m)
	case MsgSnap:
		r.becomeFollower(m.Term, m.From)
		r.handleSnapChunk(m)
	case myResp:
		switch r.poll(m.From, !m.Reject) {
		case voteWon:
			r.wonElection()
		case voteLost:
			// Lost: wait for the winner's heartbeat or another timeout. The term stays.
			r.becomeFollower(r.term, None)
		}
	}
	return nil
}

// handleAppend takes a MsgApp: append if the logs match at (Index, LogTerm), else reject
// with a hint of where they might match.
func (r *raft) handleAppend(m Message) {
	if m.Index < r.log.committed {
		// Everything up to our commit index is settled: tell the leader we hold it.
		r.send(Message{To: m.From, Type: MsgAppResp, Index: r.log.committed})
		return
	}
	lastNew, appended, ok := r.log.maybeAppend(m.Index, m.LogTerm, m.Commit, m.Entries)
	if ok {
		if len(appended) > 0 {
			if appended[0].Index <= r.staleAcked {
				// Entries whose acknowledgement (of an older term) was just dropped are
				// replaced before the Ready that would have persisted them.
				r.cfg.Probe.Hit("raft.ack.stale-truncated")
			}
			if r.confs.onAppend(appended) > 0 {
				r.cfg.Probe.Hit("raft.conf.truncated") // a deposed leader's uncommitted change
			}
		}
		r.send(Message{To: m.From, Type: MsgAppResp, Index: lastNew})
		return
	}
	hint := r.rejectHint(m.Index, m.LogTerm)
	r.send(Message{To: m.From, Type: MsgAppResp, Index: m.Index, Reject: true, RejectHint: hint, LogTerm: r.log.termOr(hint)})
}

// rejectHint finds the highest index at or below min(index, last) whose term is at most
// term: entries above it cannot match the leader's entry at index (terms only grow along a
// log), so the leader can skip them all in one round trip.
func (r *raft) rejectHint(index env.Index, term env.Term) env.Index {
	hint := min(index, r.log.lastIndex())
	for hint > r.log.committed {
		t, err := r.log.term(hint)
		if err != nil || t <= term {
			break
		}
		hint--
	}
	return hint
}

func (r *raft) handleHeartbeat(m Message) {
	r.log.commitTo(m.Commit)
	r.send(Message{To: m.From, Type: MsgHeartbeatResp, Context: m.Context})
}
