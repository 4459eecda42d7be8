package raft

import (
	"fmt"

	"github.com/petrel-io/petrel/core/env"
)

// progressState is how the leader currently replicates to one follower.
type progressState uint8

const (
	// stateProbe: the leader does not know where the follower's log matches its own; it sends
	// one MsgApp at a time and waits for the answer (or a heartbeat response) before the next.
	stateProbe progressState = iota
	// stateReplicate: the logs match up to match; the leader pipelines MsgApps optimistically,
	// bounded by the inflight window.
	stateReplicate
	// stateSnapshot: the follower needs entries the leader has compacted; a snapshot is being
	// streamed in chunks.
	stateSnapshot
)

var progressStateNames = [...]string{"StateProbe", "StateReplicate", "StateSnapshot"}

func (s progressState) String() string { return progressStateNames[s] }

// progress is the leader's view of one member (itself included).
//
// Invariant: match < next.
type progress struct {
	match, next env.Index
	state       progressState
	// probeSent pauses a probing follower after one message, until it answers.
	probeSent bool
	// recentActive: heard from since the last check-quorum round.
	recentActive bool
	learner      bool
	inflights    inflights
	// Snapshot streaming (stateSnapshot): the snapshot being sent, how far it has been sent
	// and acknowledged, and ticks since the acknowledged offset last moved.
	snap        *Snapshot
	snapSent    uint64
	snapAcked   uint64
	snapAllSent bool
	snapStalls  int
	snapRewound uint64 // the offset of the last rewind, so repeated rejections rewind once
}

func (p *progress) String() string {
	return fmt.Sprintf("%v match=%d next=%d", p.state, p.match, p.next)
}

func (p *progress) resetState(s progressState) {
	p.probeSent = false
	p.state = s
	p.inflights.reset()
	p.snap, p.snapSent, p.snapAcked, p.snapAllSent, p.snapStalls, p.snapRewound = nil, 0, 0, false, 0, 0
}

func (p *progress) becomeProbe() {
	if p.state == stateSnapshot {
		snapIndex := p.snap.Meta.Index
		p.resetState(stateProbe)
		p.next = max(p.match+1, snapIndex+1)
		return
	}
	p.resetState(stateProbe)
	p.next = p.match + 1
}

func (p *progress) becomeReplicate() {
	p.resetState(stateReplicate)
	p.next = p.match + 1
}

func (p *progress) becomeSnapshot(s *Snapshot) {
	p.resetState(stateSnapshot)
	p.snap = s
}

// maybeUpdate records that the follower holds the leader's log up to n; it reports whether
// that is news.
func (p *progress) maybeUpdate(n env.Index) bool {
	updated := false
	if p.match < n {
		p.match = n
		updated = true
		p.probeSent = false
	}
	p.next = max(p.next, n+1)
	return updated
}

// maybeDecrTo handles a rejection of the MsgApp after index rejected; hint is the follower's
// guess of where the logs may match. It reports false for a stale rejection.
func (p *progress) maybeDecrTo(rejected, hint env.Index) bool {
	if p.state == stateReplicate {
		if rejected <= p.match {
			return false
		}
		p.next = p.match + 1
		return true
	}
	if p.next-1 != rejected {
		return false
	}
	p.next = max(min(rejected, hint+1), p.match+1, 1)
	p.probeSent = false
	return true
}

// isPaused reports whether the leader must not send this follower more entries now.
func (p *progress) isPaused() bool {
	switch p.state {
	case stateProbe:
		return p.probeSent
	case stateReplicate:
		return p.inflights.full()
	}
	return true
}

// sentEntries records a MsgApp carrying entries up to last (of size bytes).
func (p *progress) sentEntries(n int, last env.Index, bytes uint64) {
	switch p.state {
	case stateReplicate:
		if n > 0 {
			p.next = last + 1
			p.inflights.add(last, bytes)
		}
	case stateProbe:
		p.probeSent = true
	}
}

// inflights is the window of MsgApps sent to one follower and not yet acknowledged, bounded
// by count and by bytes (flow control).
type inflights struct {
	items    []inflight // ring buffer
	start    int
	count    int
	bytes    uint64
	maxCount int
	maxBytes uint64
}

type inflight struct {
	last  env.Index
	bytes uint64
}

func newInflights(maxCount int, maxBytes uint64) inflights {
	return inflights{maxCount: maxCount, maxBytes: maxBytes}
}

func (in *inflights) full() bool { return in.count >= in.maxCount || in.bytes >= in.maxBytes }

func (in *inflights) add(last env.Index, bytes uint64) {
	env.Assertf(!in.full(), "raft: inflights add while full (%d msgs, %d bytes)", in.count, in.bytes)
	if in.items == nil {
		in.items = make([]inflight, in.maxCount)
	}
	in.items[(in.start+in.count)%len(in.items)] = inflight{last: last, bytes: bytes}
	in.count++
	in.bytes += bytes
}

// freeLE releases every message whose entries end at or before last.
func (in *inflights) freeLE(last env.Index) {
	for in.count > 0 {
		it := &in.items[in.start]
		if it.last > last {
			break
		}
		in.bytes -= it.bytes
		in.start = (in.start + 1) % len(in.items)
		in.count--
	}
	if in.count == 0 {
		in.start = 0
	}
}

// freeFirst releases the oldest message.
func (in *inflights) freeFirst() {
	if in.count > 0 {
		in.freeLE(in.items[in.start].last)
	}
}

func (in *inflights) reset() { in.start, in.count, in.bytes = 0, 0, 0 }
