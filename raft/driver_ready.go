package raft

import (
	"fmt"

	"github.com/petrel-io/petrel/core/env"
)

// handleReady does one Ready: persist (snapshot file, then WAL with one sync), make it
// visible in storage, send, apply, advance. Persisting comes first because messages may
// depend on it: a vote, an acknowledgement of entries.
func (n *Node) handleReady() {
	n.readyPosted = false
	if n.stopped || n.rn == nil || !n.rn.HasReady() {
		return
	}
	rd := n.rn.Ready()
	n.persist(&rd)
	if o := n.cfg.Observer; o != nil {
		o.Persisted(n.cfg.ID, &rd, n.storage)
	}
	if len(rd.Messages) > 0 {
		n.tr.Send(rd.Messages)
	}
	if rd.SoftState != nil {
		n.leadershipChanged(*rd.SoftState)
	}
	if rd.Snapshot != nil {
		n.restore(rd.Snapshot)
	}
	for i := range rd.CommittedEntries {
		n.apply(&rd.CommittedEntries[i])
	}
	for _, rs := range rd.ReadStates {
		if pr := n.reads[string(rs.Context)]; pr != nil && pr.index == 0 {
			pr.index = max(rs.Index, 1)
		}
	}
	n.releaseReads()
	n.rn.Advance(rd)
	n.maybeSnapshot()
	if n.rn.HasReady() {
		n.scheduleReady()
	}
}

// persist makes rd's state durable, halting on any failure: after a failed write or sync
// nothing it covered may be assumed durable, so the member must not go on as if it were.
func (n *Node) persist(rd *Ready) {
	var reset *SnapshotMeta
	if s := rd.Snapshot; s != nil {
		if o, ok := n.cfg.Observer.(InstallObserver); ok {
			o.Installing(n.cfg.ID, s.Meta, n.storage) // storage still holds the log s replaces
		}
		if err := n.snaps.Save(*s); err != nil {
			n.halt(err)
		}
		n.olderSnap, n.snapIndex = n.snapIndex, s.Meta.Index
		reset = &s.Meta
	}
	var hard *HardState
	if rd.HasHardState {
		hard = &rd.HardState
	}
	// The commit index alone is a hint (it can be relearned), so a Ready that only moves it
	// is written but not synced; term, vote, entries and snapshots must be durable.
	mustSync := reset != nil || len(rd.Entries) > 0
	if hard != nil {
		prev, _ := n.storage.InitialState()
		mustSync = mustSync || hard.Term != prev.Term || hard.Vote != prev.Vote
	}
	if err := n.wal.Save(hard, rd.Entries, reset, mustSync); err != nil {
		n.halt(err)
	}
	if s := rd.Snapshot; s != nil {
		if err := n.storage.ApplySnapshot(*s); err != nil {
			n.halt(err)
		}
	}
	if err := n.storage.Append(rd.Entries); err != nil {
		n.halt(err)
	}
	if hard != nil {
		n.storage.SetHardState(*hard)
	}
}

func (n *Node) leadershipChanged(s SoftState) {
	if s.Lead != n.lead {
		// Reads waiting for confirmation from a leader that is gone will not get it.
		for _, ctx := range sortedReadKeys(n.reads) {
			if pr := n.reads[ctx]; pr.index == 0 {
				delete(n.reads, ctx)
				pr.done(ErrReadFailed)
			}
		}
	}
	n.lead, n.state = s.Lead, s.State
}

// restore replaces the state machine with a snapshot installed from the leader.
func (n *Node) restore(s *Snapshot) {
	if err := n.fsm.Restore(s.Data); err != nil {
		n.halt(fmt.Errorf("restore snapshot %d: %w", s.Meta.Index, err))
	}
	n.applied, n.appliedConf = s.Meta.Index, s.Meta.Conf.clone()
	for _, idx := range sortedIndexes(n.proposals) {
		if idx <= s.Meta.Index {
			p := n.proposals[idx]
			delete(n.proposals, idx)
			p.done(nil, ErrOutcomeUnknown)
		}
	}
	if o := n.cfg.Observer; o != nil {
		o.Restored(n.cfg.ID, s.Meta)
	}
}

func (n *Node) apply(e *Entry) {
	env.Assertf(e.Index == n.applied+1, "raft %d: applying %d after %d", n.cfg.ID, e.Index, n.applied)
	n.applied = e.Index
	var result any
	switch {
	case e.Type == EntryConfChange:
		cc, err := decodeConfChange(e.Data)
		env.Assertf(err == nil, "raft %d: committed conf change %d: %v", n.cfg.ID, e.Index, err)
		n.appliedConf = cc.Conf
	case len(e.Data) > 0:
		result = n.fsm.Apply(e.Index, e.Data)
	}
	if o := n.cfg.Observer; o != nil {
		o.Applied(n.cfg.ID, e)
	}
	p, ok := n.proposals[e.Index]
	if !ok {
		return
	}
	delete(n.proposals, e.Index)
	if p.term == e.Term {
		p.done(result, nil)
	} else {
		p.done(nil, ErrProposalLost)
	}
}

func (n *Node) releaseReads() {
	for _, ctx := range sortedReadKeys(n.reads) {
		if pr := n.reads[ctx]; pr.index != 0 && pr.index <= n.applied {
			delete(n.reads, ctx)
			pr.done(nil)
		}
	}
}

// maybeSnapshot snapshots the state machine every SnapshotEntries applied entries, then
// compacts the in-memory log (keeping CatchUpEntries for slow followers) and deletes WAL
// segments the older kept snapshot covers.
func (n *Node) maybeSnapshot() {
	if n.applied < n.snapIndex+env.Index(n.cfg.SnapshotEntries) {
		return
	}
	data, err := n.fsm.Snapshot()
	if err != nil {
		n.halt(fmt.Errorf("snapshot at %d: %w", n.applied, err))
	}
	snap, err := n.storage.CreateSnapshot(n.applied, n.appliedConf, data)
	if err != nil {
		n.halt(err)
	}
	if err := n.snaps.Save(snap); err != nil {
		n.halt(err)
	}
	n.olderSnap, n.snapIndex = n.snapIndex, snap.Meta.Index
	if n.applied > env.Index(n.cfg.CatchUpEntries) {
		compactTo := n.applied - env.Index(n.cfg.CatchUpEntries)
		if first, _ := n.storage.FirstIndex(); compactTo > first {
			if err := n.storage.Compact(compactTo); err != nil {
				n.halt(err)
			}
		}
	}
	if err := n.wal.ReleaseTo(n.olderSnap); err != nil {
		n.halt(err)
	}
	if n.e.Log.Enabled(env.LevelDebug) {
		first, _ := n.storage.FirstIndex()
		n.e.Log.Logf(env.LevelDebug, "raft %d: snapshot at %d; log from %d, %d wal segments", n.cfg.ID, snap.Meta.Index, first, n.wal.Segments())
	}
}
