package raft

import (
	"github.com/petrel-io/petrel/core/env"
)

// ReadIndex (Raft §6.4): a leader answers a linearizable read without writing the log. It
// records its commit index as the read index, then confirms it still leads by collecting
// heartbeat answers from a quorum for that request. Once confirmed, any read served after
// the application has applied the read index sees every write committed before the request.
// A new leader first commits an entry of its own term, since until then its commit index
// may lag the group's.

// readRequest is one ReadIndex request awaiting its heartbeat quorum.
type readRequest struct {
	req   Message
	index env.Index
	acks  map[ID]bool
}

// readOnly holds the leader's pending reads in arrival order.
type readOnly struct {
	pending map[string]*readRequest
	queue   []string
}

func (ro *readOnly) add(index env.Index, m Message) bool {
	ctx := string(m.Context)
	if _, dup := ro.pending[ctx]; dup {
		return true
	}
	if len(ro.queue) >= maxReadOnlyRequests {
		return false
	}
	if ro.pending == nil {
		ro.pending = map[string]*readRequest{}
	}
	ro.pending[ctx] = &readRequest{req: m, index: index, acks: map[ID]bool{}}
	ro.queue = append(ro.queue, ctx)
	return true
}

// lastContext is the newest pending request's context: heartbeats carry it, so one
// confirmation round covers every request queued before it.
func (ro *readOnly) lastContext() []byte {
	if len(ro.queue) == 0 {
		return nil
	}
	return []byte(ro.queue[len(ro.queue)-1])
}

// advance removes and returns every request up to and including ctx: a quorum confirmed
// leadership after all of them were made.
func (ro *readOnly) advance(ctx string) []*readRequest {
	i := -1
	for k, c := range ro.queue {
		if c == ctx {
			i = k
			break
		}
	}
	if i < 0 {
		return nil
	}
	out := make([]*readRequest, 0, i+1)
	for _, c := range ro.queue[:i+1] {
		out = append(out, ro.pending[c])
		delete(ro.pending, c)
	}
	ro.queue = ro.queue[i+1:]
	return out
}

func (r *raft) leaderReadIndex(m Message) {
	if m.From == None {
		m.From = r.id
	}
	if !r.committedInTerm() {
		if len(r.pendingReads) < maxPendingReads {
			r.pendingReads = append(r.pendingReads, m)
		}
		return
	}
	if len(r.conf().Voters) == 1 && r.conf().IsVoter(r.id) {
		r.answerRead(m, r.log.committed) // nobody to depose us
		return
	}
	if !r.readOnly.add(r.log.committed, m) {
		return // too many outstanding; the caller times out and retries
	}
	r.readAcked(r.id, m.Context)
	r.bcastHeartbeat(m.Context)
}

func (r *raft) releasePendingReads() {
	reads := r.pendingReads
	r.pendingReads = nil
	for _, m := range reads {
		r.leaderReadIndex(m)
	}
}

// readAcked records that id answered a heartbeat carrying ctx, and answers the requests a
// quorum has now confirmed.
func (r *raft) readAcked(id ID, ctx []byte) {
	rr := r.readOnly.pending[string(ctx)]
	if rr == nil {
		return
	}
	rr.acks[id] = true
	if !hasQuorum(r.conf().Voters, func(v ID) bool { return rr.acks[v] }) {
		return
	}
	for _, done := range r.readOnly.advance(string(ctx)) {
		r.answerRead(done.req, done.index)
	}
}

func (r *raft) answerRead(m Message, index env.Index) {
	if m.From == r.id {
		r.readStates = append(r.readStates, ReadState{Index: index, Context: m.Context})
		return
	}
	r.send(Message{To: m.From, Type: MsgReadIndexResp, Index: index, Context: m.Context})
}
