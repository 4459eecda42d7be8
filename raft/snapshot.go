package raft

import (
	"github.com/petrel-io/petrel/core/env"
)

// Snapshots travel in chunks (InstallSnapshot): the leader streams a window of chunks, the
// follower acknowledges the offset it holds contiguously, and a chunk lost on the way is
// resent from the acknowledged offset when the stream stalls for an election timeout.

// startSnapshot begins streaming the leader's snapshot to a follower that needs compacted
// entries. It reports whether anything was sent.
func (r *raft) startSnapshot(id ID, pr *progress) bool {
	if !pr.recentActive {
		return false // it may be down: do not stream a snapshot into the void
	}
	snap, err := r.log.snapshot()
	env.Assertf(err == nil, "raft %d: snapshot for %d: %v", r.id, id, err)
	env.Assertf(!snap.IsEmpty() || pr.next-1 == 0, "raft %d: %d needs a snapshot but there is none", r.id, id)
	r.logf(env.LevelDebug, "raft %d: sending snapshot %d/%d to %d", r.id, snap.Meta.Term, snap.Meta.Index, id)
	pr.becomeSnapshot(&snap)
	r.sendSnapChunks(id, pr)
	return true
}

// sendSnapChunks sends chunks while the window has room.
func (r *raft) sendSnapChunks(id ID, pr *progress) {
	s := pr.snap
	total := uint64(len(s.Data))
	chunk := r.cfg.SnapshotChunkBytes
	for !pr.snapAllSent && pr.snapSent-pr.snapAcked < chunk*snapshotWindowChunks {
		end := min(pr.snapSent+chunk, total)
		r.send(Message{To: id, Type: MsgSnap, Snap: &SnapshotChunk{
			Meta: s.Meta, Offset: pr.snapSent, Total: total, Data: s.Data[pr.snapSent:end],
		}})
		pr.snapSent = end
		pr.snapAllSent = end == total
	}
}

// rewindSnap makes the stream resume from offset.
func (pr *progress) rewindSnap(offset uint64) {
	pr.snapAcked, pr.snapSent, pr.snapAllSent, pr.snapStalls = offset, offset, false, 0
	pr.snapRewound = offset
}

func (r *raft) handleSnapResponse(m Message, pr *progress) {
	pr.recentActive = true
	c := m.Snap
	if pr.state != stateSnapshot || c.Meta.Index != pr.snap.Meta.Index || c.Meta.Term != pr.snap.Meta.Term {
		return
	}
	if c.Offset > pr.snapAcked && c.Offset <= uint64(len(pr.snap.Data)) {
		pr.snapAcked, pr.snapStalls = c.Offset, 0
	}
	if m.Reject && c.Offset != pr.snapRewound {
		// A chunk was lost (or the follower lost its partial copy): resume from the offset
		// it holds. Every chunk after the gap draws the same rejection; the first one
		// rewinds, the rest are ignored.
		pr.rewindSnap(min(c.Offset, uint64(len(pr.snap.Data))))
	}
	r.sendSnapChunks(m.From, pr)
}

// tickSnapshots resends from the acknowledged offset any stream that made no progress for an
// election timeout (a chunk or its answer was lost).
func (r *raft) tickSnapshots() {
	for _, id := range r.peers() {
		pr := r.prs[id]
		if pr.state != stateSnapshot {
			continue
		}
		pr.snapStalls++
		if pr.snapStalls >= r.cfg.ElectionTicks {
			if !pr.recentActive {
				// Gone quiet: fall back to probing, which restarts the snapshot once it answers.
				pr.becomeProbe()
				continue
			}
			pr.rewindSnap(pr.snapAcked)
			r.sendSnapChunks(id, pr)
		}
	}
}

// incomingSnapshot is a snapshot being received, chunk by chunk.
type incomingSnapshot struct {
	meta  SnapshotMeta
	total uint64
	data  []byte
}

// handleSnapChunk takes one chunk; once the snapshot is whole it is restored.
func (r *raft) handleSnapChunk(m Message) {
	c := m.Snap
	in := r.incoming
	same := in != nil && in.meta.Index == c.Meta.Index && in.meta.Term == c.Meta.Term && in.total == c.Total
	if !same {
		if c.Offset != 0 {
			// A chunk of a stream we do not hold (we restarted, or a newer stream began):
			// ask for it from the start.
			r.send(Message{To: m.From, Type: MsgSnapResp, Reject: true, Snap: &SnapshotChunk{Meta: c.Meta}})
			return
		}
		in = &incomingSnapshot{meta: c.Meta, total: c.Total}
		r.incoming = in
	}
	have := uint64(len(in.data))
	switch {
	case c.Offset == have:
		in.data = append(in.data, c.Data...)
	case c.Offset > have:
		r.send(Message{To: m.From, Type: MsgSnapResp, Reject: true, Snap: &SnapshotChunk{Meta: c.Meta, Offset: have}})
		return
	}
	// c.Offset < have: a duplicate; acknowledge what we hold.
	if uint64(len(in.data)) < in.total {
		r.send(Message{To: m.From, Type: MsgSnapResp, Snap: &SnapshotChunk{Meta: c.Meta, Offset: uint64(len(in.data))}})
		return
	}
	r.incoming = nil
	r.handleSnapshot(m.From, Snapshot{Meta: in.meta, Data: in.data})
}

// handleSnapshot installs a whole snapshot from the leader and answers with the index the
// follower now holds, which moves the leader's progress out of stateSnapshot.
func (r *raft) handleSnapshot(from ID, s Snapshot) {
	if r.restore(s) {
		r.logf(env.LevelDebug, "raft %d: restored snapshot %d/%d", r.id, s.Meta.Term, s.Meta.Index)
		r.send(Message{To: from, Type: MsgAppResp, Index: r.log.lastIndex()})
		return
	}
	r.send(Message{To: from, Type: MsgAppResp, Index: r.log.committed})
}

// restore replaces the log with s unless the log already holds what s covers.
func (r *raft) restore(s Snapshot) bool {
	if r.log.lastIndex() > s.Meta.Index && r.log.matchTerm(s.Meta.Index, s.Meta.Term) {
		r.cfg.Probe.Hit("raft.snap.kept-tail") // the entries after it must survive
	}
	if s.Meta.Index <= r.log.committed {
		r.cfg.Probe.Hit("raft.snap.already-committed")
		return false
	}
	if r.log.matchTerm(s.Meta.Index, s.Meta.Term) {
		// The log has the snapshot's last entry, so (Log Matching) everything before it too:
		// just commit, and keep the entries after it.
		r.cfg.Probe.Hit("raft.snap.already-held")
		r.log.commitTo(s.Meta.Index)
		return false
	}
	r.log.restore(s)
	r.confs.reset(s.Meta.Index, s.Meta.Conf)
	return true
}
