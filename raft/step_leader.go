package raft

import (
	"github.com/petrel-io/petrel/core/env"
)

func stepLeader(r *raft, m Message) error {
	switch m.Type {
	case MsgBeat:
		r.bcastHeartbeat(r.readOnly.lastContext())
		return nil
	case MsgCheckQuorum:
		r.checkQuorum()
		return nil
	case MsgProp:
		return r.propose(m)
	case MsgReadIndex:
		r.leaderReadIndex(m)
		return nil
	case MsgTransferLeader:
		r.transferLeader(m.From)
		return nil
	}
	pr := r.prs[m.From]
	if pr == nil || m.From == r.id {
		return nil // a member just removed, or a stray: nothing to track
	}
	switch m.Type {
	case MsgAppResp:
		r.handleAppendResponse(m, pr)
	case MsgHeartbeatResp:
		r.handleHeartbeatResponse(m, pr)
	case MsgSnapResp:
		r.handleSnapResponse(m, pr)
	case MsgUnreachable:
		// The transport lost messages to it: stop pipelining into the void and probe.
		if pr.state == stateReplicate {
			pr.becomeProbe()
		}
	}
	return nil
}

// checkQuorum steps down a leader that has not heard from a quorum in an election timeout:
// it is probably cut off, and followers that are not will elect someone else.
func (r *raft) checkQuorum() {
	active := hasQuorum(r.conf().Voters, func(id ID) bool {
		pr := r.prs[id]
		return id == r.id || (pr != nil && pr.recentActive)
	})
	for id, pr := range r.prs {
		if id != r.id {
			pr.recentActive = false
		}
	}
	if !active {
		r.logf(env.LevelInfo, "raft %d: no quorum active in term %d; stepping down", r.id, r.term)
		r.becomeFollower(r.term, None)
	}
}

func (r *raft) propose(m Message) error {
	env.Assertf(len(m.Entries) > 0, "raft %d: empty proposal", r.id)
	if !r.conf().IsVoter(r.id) || r.leadTransferee != None {
		return ErrProposalDropped
	}
	for i := range m.Entries {
		e := &m.Entries[i]
		if e.Type != EntryConfChange {
			continue
		}
		cc, err := decodeConfChange(e.Data)
		if err != nil {
			return err
		}
		conf, err := r.checkConfChange(cc)
		if err != nil {
			return err
		}
		cc.Conf = conf
		e.Data = encodeConfChange(cc)
		if i != len(m.Entries)-1 {
			return ErrBadConfChange // one change per proposal, and it must come last
		}
	}
	if !r.roomFor(entriesSize(m.Entries)) {
		return ErrProposalDropped
	}
	r.appendEntry(m.Entries...)
	r.bcastAppend()
	return nil
}

func (r *raft) handleAppendResponse(m Message, pr *progress) {
	pr.recentActive = true
	if m.Reject {
		if pr.maybeDecrTo(m.Index, m.RejectHint) {
			if pr.state == stateReplicate {
				pr.becomeProbe()
			}
			r.sendAppend(m.From)
		}
		return
	}
	wasPaused := pr.isPaused()
	if !pr.maybeUpdate(m.Index) {
		return
	}
	switch pr.state {
	case stateProbe:
		pr.becomeReplicate()
	case stateSnapshot:
		// Done once the follower holds the snapshot, or enough of the log that the leader can
		// go on from its log (it already had what the snapshot covers).
		if pr.match >= pr.snap.Meta.Index || pr.match+1 >= r.log.firstIndex() {
			pr.becomeReplicate()
		}
	case stateReplicate:
		pr.inflights.freeLE(m.Index)
	}
	if r.maybeCommit() {
		r.bcastAppend()
	} else if wasPaused {
		r.sendAppend(m.From)
	}
	// Fill the window: a follower catching up takes as much as flow control allows.
	for r.state == StateLeader && r.prs[m.From] == pr && r.maybeSendAppend(m.From, false) {
	}
	if r.state == StateLeader && m.From == r.leadTransferee && pr.match == r.log.lastIndex() {
		r.send(Message{To: m.From, Type: MsgTimeoutNow})
	}
}

func (r *raft) handleHeartbeatResponse(m Message, pr *progress) {
	pr.recentActive = true
	pr.probeSent = false
	if pr.state == stateReplicate && pr.inflights.full() {
		// The follower is alive but the window stayed full: MsgApps (or their answers) were
		// lost. Free one slot so the next MsgApp goes out; if the follower lacks what was
		// lost it rejects, and the leader falls back to probing.
		pr.inflights.freeFirst()
	}
	if pr.match < r.log.lastIndex() {
		r.sendAppend(m.From)
	}
	if len(m.Context) > 0 && !pr.learner {
		r.readAcked(m.From, m.Context)
	}
}

// maybeCommit advances the commit index to the highest index a quorum of voters hold, but
// only if that entry is of the leader's term: an older term's entry held by a quorum can
// still be overwritten by a later leader (Raft §5.4.2), so it commits only indirectly, with
// the first entry of this term above it.
func (r *raft) maybeCommit() bool {
	ci := quorumIndex(r.conf().Voters, func(id ID) env.Index {
		if pr := r.prs[id]; pr != nil {
			return pr.match
		}
		return 0
	})
	if ci <= r.log.committed || r.log.termOr(ci) != r.term {
		return false
	}
	first := !r.committedInTerm()
	r.log.commitTo(ci)
	if first {
		r.releasePendingReads()
	}
	r.maybeStepDownRemoved()
	return true
}

// selfStable records that the leader's own log is durable up to what storage holds.
func (r *raft) selfStable() {
	if pr := r.prs[r.id]; pr != nil {
		pr.maybeUpdate(r.log.stableLastIndex())
	}
}

// members returns the ids the leader replicates to, sorted, itself excluded.
func (r *raft) peers() []ID {
	var out []ID
	for _, id := range r.conf().Members() {
		if id != r.id && r.prs[id] != nil {
			out = append(out, id)
		}
	}
	return out
}

func (r *raft) bcastAppend() {
	for _, id := range r.peers() {
		r.sendAppend(id)
	}
}

// sendAppend sends id the next entries (or an empty MsgApp to carry the commit index).
func (r *raft) sendAppend(id ID) { r.maybeSendAppend(id, true) }

// maybeSendAppend sends id a MsgApp if flow control allows; with sendIfEmpty unset it sends
// only when there are entries. It reports whether it sent anything.
func (r *raft) maybeSendAppend(id ID, sendIfEmpty bool) bool {
	pr := r.prs[id]
	if pr == nil || pr.isPaused() {
		return false
	}
	prevIndex := pr.next - 1
	prevTerm, errTerm := r.log.term(prevIndex)
	ents, errEnts := r.log.entries(pr.next, r.cfg.MaxMsgBytes)
	if len(ents) == 0 && !sendIfEmpty && errTerm == nil && errEnts == nil {
		return false
	}
	if errTerm != nil || errEnts != nil {
		env.Assertf(isCompactedOrMissing(errTerm) || errTerm == nil, "raft %d: term %d: %v", r.id, prevIndex, errTerm)
		return r.startSnapshot(id, pr)
	}
	r.send(Message{To: id, Type: MsgApp, Index: prevIndex, LogTerm: prevTerm, Entries: ents, Commit: r.log.committed})
	last := prevIndex
	if n := len(ents); n > 0 {
		last = ents[n-1].Index
	}
	pr.sentEntries(len(ents), last, entriesSize(ents))
	return true
}

func (r *raft) bcastHeartbeat(ctx []byte) {
	for _, id := range r.peers() {
		pr := r.prs[id]
		// Never more than the follower is known to hold: it may not have the rest yet, and
		// committing past its log would be a lie about its own entries.
		commit := min(pr.match, r.log.committed)
		r.send(Message{To: id, Type: MsgHeartbeat, Commit: commit, Context: ctx})
	}
}

func (r *raft) transferLeader(to ID) {
	pr := r.prs[to]
	if pr == nil || pr.learner || to == r.id {
		return
	}
	if r.leadTransferee == to {
		return
	}
	r.logf(env.LevelInfo, "raft %d: transferring leadership to %d", r.id, to)
	// The transfer must finish within an election timeout, or it is abandoned (tick).
	r.electionElapsed = 0
	r.leadTransferee = to
	if pr.match == r.log.lastIndex() {
		r.send(Message{To: to, Type: MsgTimeoutNow})
	} else {
		r.sendAppend(to)
	}
}
