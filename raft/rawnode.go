package raft

import (
	"github.com/petrel-io/petrel/core/env"
)

// Ready is what a member needs done: persist HardState, Entries and Snapshot (durably, in
// that order of importance: all before sending), then send Messages, then apply Snapshot and
// CommittedEntries to the state machine, then call Advance. Messages may depend on the
// persisted state (a vote, an acknowledged entry), which is why they go out only after it is
// durable.
type Ready struct {
	// SoftState is set when the leader or the role changed.
	SoftState *SoftState
	// HardState is the state to persist when HasHardState.
	HardState    HardState
	HasHardState bool
	// Entries are to be appended to stable storage; an entry at an index already stored
	// replaces it and everything after it.
	Entries []Entry
	// Snapshot, when set, replaces the log and the state machine.
	Snapshot *Snapshot
	// CommittedEntries are to be applied, in order. They may include entries of this same
	// Ready's Entries, which must therefore be persisted first.
	CommittedEntries []Entry
	// Messages are to be sent after the above is persisted.
	Messages []Message
	// ReadStates answer ReadIndex requests.
	ReadStates []ReadState
}

// RawNode is one member of a raft group as a pure state machine: messages and ticks go in,
// Readys come out. It is used by one executor at a time.
type RawNode struct {
	r        *raft
	prevSoft SoftState
	prevHard HardState
	taken    bool // a Ready was handed out and not yet advanced
}

// NewRawNode loads a member from c.Storage.
func NewRawNode(c Config) (*RawNode, error) {
	r, err := newRaft(c)
	if err != nil {
		return nil, err
	}
	rn := &RawNode{r: r, prevSoft: r.softState(), prevHard: r.hardState()}
	return rn, nil
}

// Tick advances the member's clock by one tick.
func (rn *RawNode) Tick() {
	rn.r.tick()
	rn.r.checkInvariants()
}

// Campaign starts an election now (used by tests and to bootstrap quickly).
func (rn *RawNode) Campaign() error { return rn.step(Message{Type: MsgHup}) }

// Propose appends data to the log if this member leads. It returns the entry's index and
// term: the proposal is committed exactly when an entry with both is applied; if another
// entry is applied at that index, the proposal was lost. ErrNotLeader or
// ErrProposalDropped mean it was not appended at all.
func (rn *RawNode) Propose(data []byte) (env.Index, env.Term, error) {
	return rn.propose(Entry{Type: EntryNormal, Data: data})
}

// ProposeConfChange proposes one membership change (cc.Conf is filled in by the leader).
func (rn *RawNode) ProposeConfChange(cc ConfChange) (env.Index, env.Term, error) {
	cc.Conf = ConfState{}
	return rn.propose(Entry{Type: EntryConfChange, Data: encodeConfChange(cc)})
}

func (rn *RawNode) propose(e Entry) (env.Index, env.Term, error) {
	if err := rn.step(Message{Type: MsgProp, From: rn.r.id, Entries: []Entry{e}}); err != nil {
		return 0, 0, err
	}
	return rn.r.log.lastIndex(), rn.r.term, nil
}

// Step feeds a message from another member.
func (rn *RawNode) Step(m Message) error {
	if m.Type.isLocal() {
		return ErrStepLocalMsg
	}
	if m.Type.isResponse() && rn.r.state == StateLeader && rn.r.prs[m.From] == nil && m.Term == rn.r.term {
		return ErrStepPeerNotFound
	}
	return rn.step(m)
}

func (rn *RawNode) step(m Message) error {
	err := rn.r.Step(m)
	rn.r.checkInvariants()
	return err
}

// TransferLeader asks the leader to hand leadership to a voter.
func (rn *RawNode) TransferLeader(to ID) error {
	return rn.step(Message{Type: MsgTransferLeader, From: to})
}

// ReadIndex requests a read index for ctx (unique per request); the answer comes in a
// later Ready's ReadStates. No answer (a lost leader) means: retry.
func (rn *RawNode) ReadIndex(ctx []byte) error {
	return rn.step(Message{Type: MsgReadIndex, Context: ctx})
}

// ReportUnreachable tells the leader that messages to id were lost.
func (rn *RawNode) ReportUnreachable(id ID) {
	_ = rn.step(Message{Type: MsgUnreachable, From: id}) // local: never fails
}

// HasReady reports whether Ready would have anything to do.
func (rn *RawNode) HasReady() bool {
	r := rn.r
	if r.softState() != rn.prevSoft || r.hardState() != rn.prevHard {
		return true
	}
	u := &r.log.unstable
	if u.snapshot != nil || len(u.entries) > 0 || len(r.msgs) > 0 || len(r.readStates) > 0 {
		return true
	}
	return r.log.committed > r.log.applied && r.log.committed >= r.log.firstIndex()
}

// Ready returns what needs doing; the caller does it and then calls Advance. Ready must not
// be called again before Advance.
func (rn *RawNode) Ready() Ready {
	env.Assertf(!rn.taken, "raft %d: Ready called again before Advance", rn.r.id)
	r := rn.r
	rd := Ready{
		Entries:          r.log.unstable.entries,
		CommittedEntries: r.log.nextCommitted(r.log.applied + 1),
		Messages:         r.msgs,
		ReadStates:       r.readStates,
	}
	if s := r.log.unstable.snapshot; s != nil {
		snap := *s
		rd.Snapshot = &snap
	}
	if soft := r.softState(); soft != rn.prevSoft {
		rd.SoftState = &soft
		rn.prevSoft = soft
	}
	if hard := r.hardState(); hard != rn.prevHard {
		rd.HardState, rd.HasHardState = hard, true
		rn.prevHard = hard
	}
	r.msgs, r.readStates, r.staleAcked = nil, nil, 0
	rn.taken = true
	return rd
}

// Advance tells the member that rd has been done: its entries and snapshot are durable and
// its committed entries applied.
func (rn *RawNode) Advance(rd Ready) {
	env.Assertf(rn.taken, "raft %d: Advance without Ready", rn.r.id)
	rn.taken = false
	r := rn.r
	if n := len(rd.Entries); n > 0 {
		r.log.stableTo(rd.Entries[n-1].Index, rd.Entries[n-1].Term)
	}
	if rd.Snapshot != nil {
		r.log.stableSnapTo(rd.Snapshot.Meta.Index)
		if rd.Snapshot.Meta.Index > r.log.applied {
			r.log.applied = rd.Snapshot.Meta.Index
		}
	}
	if n := len(rd.CommittedEntries); n > 0 {
		r.log.appliedTo(rd.CommittedEntries[n-1].Index)
	}
	if len(r.confs.list) > 2 {
		r.confs.compact(r.log.committed)
	}
	if r.state == StateLeader {
		r.selfStable()
		if r.maybeCommit() {
			r.bcastAppend()
		}
	}
	r.checkInvariants()
}

// Status describes the member, for tests, monitoring and the driver.
type Status struct {
	ID ID
	HardState
	SoftState
	Applied        env.Index
	FirstIndex     env.Index
	LastIndex      env.Index
	Conf           ConfState
	LeadTransferee ID
	// Progress is the leader's view of each member (nil on followers).
	Progress map[ID]ProgressStatus
}

// ProgressStatus is the leader's view of one member.
type ProgressStatus struct {
	Match, Next  env.Index
	State        string
	Learner      bool
	RecentActive bool
}

// Status returns a snapshot of the member's state.
func (rn *RawNode) Status() Status {
	r := rn.r
	s := Status{
		ID: r.id, HardState: r.hardState(), SoftState: r.softState(),
		Applied: r.log.applied, FirstIndex: r.log.firstIndex(), LastIndex: r.log.lastIndex(),
		Conf: r.conf().clone(), LeadTransferee: r.leadTransferee,
	}
	if r.state == StateLeader {
		s.Progress = map[ID]ProgressStatus{}
		for id, pr := range r.prs {
			s.Progress[id] = ProgressStatus{Match: pr.match, Next: pr.next, State: pr.state.String(),
				Learner: pr.learner, RecentActive: pr.recentActive}
		}
	}
	return s
}

// Term returns the term of entry i of the member's log (including entries not yet
// persisted), or an error wrapping ErrCompacted or ErrUnavailable.
func (rn *RawNode) Term(i env.Index) (env.Term, error) { return rn.r.log.term(i) }
