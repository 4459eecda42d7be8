package raft

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/petrel-io/petrel/core/env"
)

// Errors returned to proposers and callers of the RawNode.
var (
	// ErrProposalDropped: the proposal was not appended (no leader here, a transfer is in
	// progress, the uncommitted log is full). It will never commit; retry, possibly elsewhere.
	ErrProposalDropped = errors.New("raft: proposal dropped")
	// ErrNotLeader: this member does not lead; Status().Lead may name who does.
	ErrNotLeader = errors.New("raft: not the leader")
	// ErrConfChangePending: a membership change is already in flight, or the leader has not
	// yet committed an entry of its term; retry later.
	ErrConfChangePending = errors.New("raft: membership change pending")
	// ErrLearnerBehind: a learner may become a voter only once it holds the committed log.
	ErrLearnerBehind = errors.New("raft: learner has not caught up")
	// ErrBadConfChange: the change makes no sense in the current configuration.
	ErrBadConfChange = errors.New("raft: invalid membership change")
	// ErrStepLocalMsg: a message type only the member itself may step came from outside.
	ErrStepLocalMsg = errors.New("raft: cannot step a local message")
	// ErrStepPeerNotFound: a response from a member the leader does not track.
	ErrStepPeerNotFound = errors.New("raft: response from an unknown member")
)

// campaignTransfer marks the votes of an election started by a leadership transfer: voters
// grant them even while they believe a leader is alive.
var campaignTransfer = []byte("transfer")

// Config configures one member.
type Config struct {
	ID      ID
	Storage Storage
	// ElectionTicks is how many ticks a follower waits without hearing from a leader before
	// it campaigns (randomised in [ElectionTicks, 2*ElectionTicks)); it must exceed
	// HeartbeatTicks. With CheckQuorum it is also the leader's lease.
	ElectionTicks  int
	HeartbeatTicks int
	// Applied is the last index the application has applied (its snapshot), 0 if unknown.
	Applied env.Index
	// PreVote runs a pre-election that changes no state, so a member that was cut off does
	// not force a new term on its return.
	PreVote bool
	// CheckQuorum makes a leader step down when it has not heard from a quorum for an
	// election timeout, and makes members ignore votes while they hear from a leader.
	CheckQuorum bool
	// Limits; zero means the default in limits.go.
	MaxMsgBytes         uint64
	MaxInflightMsgs     int
	MaxInflightBytes    uint64
	MaxApplyBytes       uint64
	MaxUncommittedBytes uint64
	SnapshotChunkBytes  uint64
	// Rand randomises election timeouts.
	Rand env.Rand
	// Log, if set, receives state changes.
	Log env.Logger
	// Probe, if set, counts rare paths taken (for the simulator's coverage report).
	Probe env.Probe
}

func (c *Config) validate() error {
	switch {
	case c.ID == None:
		return errors.New("raft: config: ID is None")
	case c.Storage == nil:
		return errors.New("raft: config: Storage is nil")
	case c.Rand == nil:
		return errors.New("raft: config: Rand is nil")
	case c.HeartbeatTicks <= 0:
		return errors.New("raft: config: HeartbeatTicks must be positive")
	case c.ElectionTicks <= c.HeartbeatTicks:
		return errors.New("raft: config: ElectionTicks must exceed HeartbeatTicks")
	}
	def := func(v *uint64, d uint64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.MaxMsgBytes, defaultMaxMsgBytes)
	def(&c.MaxInflightBytes, defaultMaxInflightBytes)
	def(&c.MaxApplyBytes, defaultMaxApplyBytes)
	def(&c.MaxUncommittedBytes, defaultMaxUncommittedBytes)
	def(&c.SnapshotChunkBytes, defaultSnapshotChunkBytes)
	if c.Probe == nil {
		c.Probe = env.NopProbe{}
	}
	if c.MaxInflightMsgs == 0 {
		c.MaxInflightMsgs = defaultMaxInflightMsgs
	}
	if c.MaxInflightMsgs < 0 || c.MaxMsgBytes > maxFrameBytes/2 || c.SnapshotChunkBytes > maxFrameBytes/2 {
		return errors.New("raft: config: limits out of range")
	}
	return nil
}

type stepFunc func(r *raft, m Message) error

// raft is one member's protocol state. It is driven by Step and tick and emits messages into
// msgs; it never blocks, reads a clock or does I/O.
//
// Invariants: a leader's lead is its own id; vote != None only in the term it was cast;
// the configuration in force is the latest one in the log (confs).
type raft struct {
	id    ID
	term  env.Term
	vote  ID
	lead  ID
	state StateType
	log   *raftLog
	confs confHistory
	prs   map[ID]*progress // leader only: every member, itself included
	votes map[ID]bool      // candidates only

	msgs []Message
	// staleAcked: the highest index an acknowledgement dropped since the last Ready
	// (dropStaleAcks) accepted; only for the probe that sees those entries replaced.
	staleAcked env.Index
	readStates []ReadState

	electionElapsed           int
	heartbeatElapsed          int
	randomizedElectionTimeout int

	leadTransferee   ID
	pendingReads     []Message // a new leader's reads, waiting for its first commit
	readOnly         readOnly
	uncommittedBytes uint64 // an upper bound; recomputed when it nears the limit
	incoming         *incomingSnapshot

	step stepFunc
	tick func()
	cfg  Config
}

func newRaft(c Config) (*raft, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	hs, err := c.Storage.InitialState()
	if err != nil {
		return nil, fmt.Errorf("raft: initial state: %w", err)
	}
	l, err := newLog(c.Storage, c.MaxApplyBytes)
	if err != nil {
		return nil, err
	}
	r := &raft{id: c.ID, log: l, cfg: c}
	if r.confs, err = loadConfs(c.Storage); err != nil {
		return nil, err
	}
	if !hs.IsEmpty() {
		if hs.Commit > l.lastIndex() {
			return nil, fmt.Errorf("raft: hard state commit %d past the last index %d", hs.Commit, l.lastIndex())
		}
		// A commit below the snapshot's index is stale (the snapshot is committed).
		r.log.committed = max(hs.Commit, l.committed)
		r.term, r.vote = hs.Term, hs.Vote
	}
	if c.Applied > 0 {
		r.log.appliedTo(min(c.Applied, r.log.committed))
	}
	r.becomeFollower(r.term, None)
	r.logf(env.LevelDebug, "raft %d: start term=%d commit=%d applied=%d last=%d/%d conf=[%v]",
		r.id, r.term, r.log.committed, r.log.applied, r.log.lastIndex(), r.log.lastTerm(), r.conf())
	return r, nil
}

func (r *raft) logf(level env.Level, format string, args ...any) {
	if r.cfg.Log != nil && r.cfg.Log.Enabled(level) {
		r.cfg.Log.Logf(level, format, args...)
	}
}

func (r *raft) conf() ConfState { return r.confs.current() }

func (r *raft) hardState() HardState {
	return HardState{Term: r.term, Vote: r.vote, Commit: r.log.committed}
}

func (r *raft) softState() SoftState { return SoftState{Lead: r.lead, State: r.state} }

// promotable reports whether this member may campaign.
func (r *raft) promotable() bool {
	return r.conf().IsVoter(r.id) && r.log.unstable.snapshot == nil
}

// committedInTerm reports whether the leader has committed an entry of its own term, after
// which its commit index is known to be the group's.
func (r *raft) committedInTerm() bool { return r.log.termOr(r.log.committed) == r.term }

// send queues m for the network. Responses to votes carry their own term; everything else
// carries the member's current term.
func (r *raft) send(m Message) {
	if m.From == None {
		m.From = r.id
	}
	switch m.Type {
	case MsgVote, MsgVoteResp, MsgPreVote, MsgPreVoteResp:
		env.Assertf(m.Term != 0, "raft %d: %v without a term", r.id, m.Type)
	default:
		env.Assertf(m.Term == 0, "raft %d: %v with term %d set by caller", r.id, m.Type, m.Term)
		if m.Type != MsgProp && m.Type != MsgReadIndex && m.Type != MsgTransferLeader {
			m.Term = r.term
		}
	}
	r.msgs = append(r.msgs, m)
}

func (r *raft) reset(term env.Term) {
	if r.term != term {
		r.term, r.vote = term, None
		r.dropStaleAcks()
	}
	r.lead = None
	r.electionElapsed, r.heartbeatElapsed = 0, 0
	r.randomizedElectionTimeout = r.cfg.ElectionTicks + r.cfg.Rand.Intn(r.cfg.ElectionTicks)
	r.leadTransferee = None
	r.votes = map[ID]bool{}
	r.prs = nil
	r.readOnly = readOnly{}
	r.pendingReads = nil
	r.uncommittedBytes = 0
}

// dropStaleAcks removes, from the messages not yet handed out, the acknowledgements of
// entries sent in an older term. A new term's leader may replace those entries before the
// Ready that would persist them is taken, and the old leader must not count a copy that
// will never be durable (it could commit an entry the group then overwrites). Losing them
// is harmless: the old leader is deposed or will hear again.
func (r *raft) dropStaleAcks() {
	kept := r.msgs[:0]
	for _, m := range r.msgs {
		if m.Type == MsgAppResp && !m.Reject && m.Term < r.term {
			r.staleAcked = max(r.staleAcked, m.Index)
			continue
		}
		kept = append(kept, m)
	}
	r.msgs = kept
}

func (r *raft) becomeFollower(term env.Term, lead ID) {
	r.step, r.tick = stepFollower, r.tickElection
	r.reset(term)
	r.lead, r.state = lead, StateFollower
	r.logf(env.LevelDebug, "raft %d: follower in term %d (leader %d)", r.id, r.term, lead)
}

func (r *raft) becomePreCandidate() {
	env.Assertf(r.state != StateLeader, "raft %d: leader cannot become pre-candidate", r.id)
	// A pre-candidate changes neither term nor vote: losing costs the group nothing.
	r.step, r.tick = stepCandidate, r.tickElection
	r.votes = map[ID]bool{}
	r.lead, r.state = None, StatePreCandidate
}

func (r *raft) becomeCandidate() {
	env.Assertf(r.state != StateLeader, "raft %d: leader cannot become candidate", r.id)
	r.step, r.tick = stepCandidate, r.tickElection
	r.reset(r.term + 1)
	r.vote, r.state = r.id, StateCandidate
	r.logf(env.LevelDebug, "raft %d: candidate in term %d", r.id, r.term)
}

func (r *raft) becomeLeader() {
	env.Assertf(r.state != StateFollower, "raft %d: follower cannot become leader", r.id)
	r.step, r.tick = stepLeader, r.tickHeartbeat
	r.reset(r.term)
	r.lead, r.state = r.id, StateLeader
	r.prs = map[ID]*progress{}
	r.syncProgress()
	self := r.prs[r.id]
	self.match = r.log.stableLastIndex()
	self.becomeReplicate()
	// A no-op in the new term: committing it commits everything before it (entries of older
	// terms are never committed by counting), and it gates membership changes and reads.
	r.appendEntry(Entry{Type: EntryNormal})
	r.logf(env.LevelInfo, "raft %d: leader in term %d", r.id, r.term)
}

// syncProgress makes the leader track exactly the members of the configuration in force.
func (r *raft) syncProgress() {
	c := r.conf()
	last := r.log.lastIndex()
	for _, id := range c.Members() {
		pr := r.prs[id]
		if pr == nil {
			pr = &progress{next: last + 1, inflights: newInflights(r.cfg.MaxInflightMsgs, r.cfg.MaxInflightBytes)}
			pr.recentActive = id == r.id
			r.prs[id] = pr
		}
		pr.learner = c.IsLearner(id)
	}
	for id := range r.prs {
		if !c.Contains(id) {
			delete(r.prs, id)
		}
	}
}

// appendEntry assigns terms and indexes to ents and appends them (leader only).
func (r *raft) appendEntry(ents ...Entry) {
	last := r.log.lastIndex()
	for i := range ents {
		ents[i].Term, ents[i].Index = r.term, last+1+env.Index(i)
	}
	r.log.append(ents...)
	r.uncommittedBytes += entriesSize(ents)
	r.confs.onAppend(ents)
	r.applyConf()
}

// roomFor reports whether proposals of size bytes fit under the uncommitted limit.
func (r *raft) roomFor(size uint64) bool {
	if r.uncommittedBytes+size <= r.cfg.MaxUncommittedBytes {
		return true
	}
	r.recountUncommitted()
	return r.uncommittedBytes+size <= r.cfg.MaxUncommittedBytes
}

func (r *raft) recountUncommitted() {
	ents, err := r.log.slice(r.log.committed+1, r.log.lastIndex()+1, ^uint64(0))
	env.Assertf(err == nil, "raft %d: uncommitted entries: %v", r.id, err)
	r.uncommittedBytes = entriesSize(ents)
}

func (r *raft) tickElection() {
	r.electionElapsed++
	if r.promotable() && r.electionElapsed >= r.randomizedElectionTimeout {
		r.electionElapsed = 0
		_ = r.Step(Message{From: r.id, Type: MsgHup}) // a local step: its error is always nil
	}
}

func (r *raft) tickHeartbeat() {
	r.heartbeatElapsed++
	r.electionElapsed++
	if r.electionElapsed >= r.cfg.ElectionTicks {
		r.electionElapsed = 0
		if r.cfg.CheckQuorum {
			_ = r.Step(Message{From: r.id, Type: MsgCheckQuorum}) // local: never fails
		}
		if r.state == StateLeader && r.leadTransferee != None {
			r.logf(env.LevelInfo, "raft %d: transfer to %d timed out", r.id, r.leadTransferee)
			r.leadTransferee = None
		}
	}
	if r.state != StateLeader {
		return
	}
	r.tickSnapshots()
	if r.heartbeatElapsed >= r.cfg.HeartbeatTicks {
		r.heartbeatElapsed = 0
		_ = r.Step(Message{From: r.id, Type: MsgBeat}) // local: never fails
	}
}

// Step is the entry point for every message: from the network, and the local ones the
// RawNode makes. It handles terms, then votes, then hands over to the role's step function.
func (r *raft) Step(m Message) error {
	switch {
	case m.Term == 0:
		// Local message.
	case m.Term > r.term:
		if (m.Type == MsgVote || m.Type == MsgPreVote) && r.inLease() && !bytes.Equal(m.Context, campaignTransfer) {
			// We heard from a leader within the election timeout: this candidate is most
			// likely cut off from it, and granting would unseat a working leader.
			return nil
		}
		switch {
		case m.Type == MsgPreVote:
			// A pre-vote changes nothing.
		case m.Type == MsgPreVoteResp && !m.Reject:
			// Our pre-election: the term rises only once we win it.
		case m.Type == MsgApp || m.Type == MsgHeartbeat || m.Type == MsgSnap:
			r.becomeFollower(m.Term, m.From)
		default:
			r.becomeFollower(m.Term, None)
		}
	case m.Term < r.term:
		switch {
		case (r.cfg.CheckQuorum || r.cfg.PreVote) && (m.Type == MsgHeartbeat || m.Type == MsgApp):
			// A stale leader: tell it our term so it steps down. Without this a member that
			// rejoins with a higher term (whose pre-votes fail) could never be caught up.
			r.send(Message{To: m.From, Type: MsgAppResp})
		case m.Type == MsgPreVote:
			r.send(Message{To: m.From, Term: r.term, Type: MsgPreVoteResp, Reject: true})
		}
		return nil
	}
	switch m.Type {
	case MsgHup:
		r.hup(false)
	case MsgVote, MsgPreVote:
		r.handleVote(m)
	default:
		return r.step(r, m)
	}
	return nil
}

// inLease reports whether this member heard from a live leader within the election timeout.
func (r *raft) inLease() bool {
	return r.cfg.CheckQuorum && r.lead != None && r.electionElapsed < r.cfg.ElectionTicks
}

func (r *raft) hup(transfer bool) {
	if r.state == StateLeader || !r.promotable() {
		return
	}
	if r.cfg.PreVote && !transfer {
		r.campaign(StatePreCandidate, false)
	} else {
		r.campaign(StateCandidate, transfer)
	}
}

func (r *raft) campaign(kind StateType, transfer bool) {
	voteMsg, term := MsgVote, r.term
	if kind == StatePreCandidate {
		r.becomePreCandidate()
		voteMsg, term = MsgPreVote, r.term+1
	} else {
		r.becomeCandidate()
		term = r.term
	}
	if r.poll(r.id, true) == voteWon {
		r.wonElection() // a group of one
		return
	}
	var ctx []byte
	if transfer {
		ctx = campaignTransfer
	}
	for _, id := range r.conf().Voters {
		if id != r.id {
			r.send(Message{To: id, Term: term, Type: voteMsg, Index: r.log.lastIndex(), LogTerm: r.log.lastTerm(), Context: ctx})
		}
	}
}

func (r *raft) poll(id ID, granted bool) voteResult {
	if _, seen := r.votes[id]; !seen {
		r.votes[id] = granted
	}
	_, _, res := tally(r.conf().Voters, r.votes)
	return res
}

func (r *raft) wonElection() {
	if r.state == StatePreCandidate {
		r.campaign(StateCandidate, false)
		return
	}
	r.becomeLeader()
	r.bcastAppend()
}

func (r *raft) handleVote(m Message) {
	canVote := r.vote == m.From ||
		(r.vote == None && r.lead == None) ||
		(m.Type == MsgPreVote && m.Term > r.term)
	upToDate := r.log.isUpToDate(m.Index, m.LogTerm)
	if canVote && !upToDate {
		r.cfg.Probe.Hit("raft.vote.log-behind") // the election restriction decides this vote
	}
	if canVote && upToDate {
		// A granted vote carries the candidate's term: a pre-vote's term is one we have not
		// entered, and the candidate must recognise the answer as its own.
		r.send(Message{To: m.From, Term: m.Term, Type: voteRespType(m.Type)})
		if m.Type == MsgVote {
			r.electionElapsed = 0
			r.vote = m.From
		}
		return
	}
	r.send(Message{To: m.From, Term: r.term, Type: voteRespType(m.Type), Reject: true})
}

// applyConf puts the configuration in force (the latest in the log) into effect.
func (r *raft) applyConf() {
	if r.state == StateLeader {
		r.syncProgress()
		if _, ok := r.prs[r.leadTransferee]; !ok || r.prs[r.leadTransferee].learner {
			r.leadTransferee = None
		}
	}
}

// maybeStepDownRemoved makes a leader that removed itself from the voters step down once
// that change is committed: until then it still replicates (without counting itself).
func (r *raft) maybeStepDownRemoved() {
	if r.state == StateLeader && !r.conf().IsVoter(r.id) && r.log.committed >= r.confs.lastIndex() {
		r.logf(env.LevelInfo, "raft %d: removed from the voters at %d; stepping down", r.id, r.confs.lastIndex())
		r.becomeFollower(r.term, None)
	}
}

// checkInvariants asserts what must hold between steps (arguments are boxed only when a
// check fails: this runs after every step).
func (r *raft) checkInvariants() {
	r.log.check()
	if r.state == StateLeader && r.lead != r.id {
		env.Assertf(false, "raft %d: leader with lead %d", r.id, r.lead)
	}
	if r.vote != None && r.term == 0 {
		env.Assertf(false, "raft %d: vote %d in term 0", r.id, r.vote)
	}
	if env.Invariants && r.state == StateLeader {
		for _, id := range r.conf().Members() {
			if pr := r.prs[id]; pr != nil && pr.match >= pr.next {
				env.Assertf(false, "raft %d: progress of %d: match %d >= next %d", r.id, id, pr.match, pr.next)
			}
		}
	}
	if env.Invariants {
		c := r.conf()
		env.Assertf(c.valid(), "raft %d: invalid configuration %v", r.id, c)
	}
}
