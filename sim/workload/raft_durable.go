package workload

import (
	"errors"
	"fmt"
	"path"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/raft"
	"github.com/petrel-io/petrel/sim"
)

// raftDurability is the send-durability checker: at every message a member sends whose
// promise rests on its persistent state, it recovers that member's worst-case durable image
// (sim.Disk.DurableFS: what the unluckiest power loss right now would leave) with raft's own
// recovery, on a private copy, and asserts the promise is there:
//   - a vote request in term T: the durable term is T with a vote for itself (or later);
//   - a vote granted in term T: the durable term is T with a vote for the candidate (or later);
//   - an append answer accepting up to index i: the durable log holds entry i with the term
//     the member's log has there (or a durable snapshot covers i), and its term is durable.
//     An answer of a term older than the member's is always checked, others one in
//     raftDurableAppendEvery.
//
// Recovery runs at most once per durable version of a disk (a sync or a crash changes it);
// append answers, the most frequent, are checked one in raftDurableAppendEvery.
type raftDurability struct {
	r      *Raft
	cache  map[raft.ID]*durableView
	appNth map[raft.ID]int
	checks int // promises checked, for tests
}

// raftDurableAppendEvery: check one append answer in this many (per member); votes always.
const raftDurableAppendEvery = 16

// durableView is what recovery finds on one durable image.
type durableView struct {
	version uint64
	err     error
	snap    raft.SnapshotMeta
	hard    raft.HardState
	ents    []raft.Entry
}

func newRaftDurability(r *Raft) *raftDurability {
	return &raftDurability{r: r, cache: map[raft.ID]*durableView{}, appNth: map[raft.ID]int{}}
}

// checkSend runs in the member's Transport.Send, before any byte leaves.
func (d *raftDurability) checkSend(id raft.ID, msgs []raft.Message) {
	for i := range msgs {
		m := &msgs[i]
		switch {
		case m.Type == raft.MsgVote:
			d.checkVote(id, m, id)
		case m.Type == raft.MsgVoteResp && !m.Reject:
			d.checkVote(id, m, m.To)
		case m.Type == raft.MsgAppResp && !m.Reject && m.Index > 0:
			if d.appNth[id]++; d.appNth[id]%raftDurableAppendEvery == 0 || d.staleTerm(id, m) {
				d.checkAppend(id, m)
			}
		}
	}
}

// staleTerm: m is sent in a term older than the member's (persisted just before the send).
// Such an answer is always checked: the term change in the same Ready may have replaced the
// entries it acknowledges (the split leader's follower, see splitLeader).
func (d *raftDurability) staleTerm(id raft.ID, m *raft.Message) bool {
	st := d.r.check.storage[id]
	if st == nil {
		return false
	}
	hs, _ := st.InitialState()
	return m.Term < hs.Term
}

func (d *raftDurability) checkVote(id raft.ID, m *raft.Message, votedFor raft.ID) {
	v := d.view(id)
	if v == nil {
		return
	}
	d.checks++
	ok := v.hard.Term > m.Term || v.hard.Term == m.Term && v.hard.Vote == votedFor
	env.Assertf(ok, "raft durability: member %d sends %v to %d in term %d, but its durable state is term %d vote %d",
		id, m.Type, m.To, m.Term, v.hard.Term, v.hard.Vote)
}

func (d *raftDurability) checkAppend(id raft.ID, m *raft.Message) {
	v := d.view(id)
	if v == nil {
		return
	}
	d.checks++
	env.Assertf(v.hard.Term >= m.Term, "raft durability: member %d answers appends in term %d, but its durable term is %d",
		id, m.Term, v.hard.Term)
	if m.Index <= v.snap.Index {
		return
	}
	last := v.snap.Index + env.Index(len(v.ents))
	env.Assertf(m.Index <= last, "raft durability: member %d acknowledges entries up to %d, but its durable log ends at %d",
		id, m.Index, last)
	st := d.r.check.storage[id]
	if st == nil {
		return
	}
	if want, err := st.Term(m.Index); err == nil {
		got := v.ents[m.Index-v.snap.Index-1].Term
		env.Assertf(got == want, "raft durability: member %d acknowledges entry %d of term %d, but its durable entry %d has term %d",
			id, m.Index, want, m.Index, got)
	}
}

// view recovers (or reuses) the member's durable state; nil if recovery fails on it (a
// corrupt image is the recovery checker's business, not this one's).
func (d *raftDurability) view(id raft.ID) *durableView {
	disk := d.r.w.Nodes()[int(id)-1].Disk
	ver := disk.DurableVersion()
	if v := d.cache[id]; v != nil && v.version == ver {
		if v.err != nil {
			return nil
		}
		return v
	}
	v := &durableView{version: ver}
	v.snap, v.hard, v.ents, v.err = recoverDurable(disk, d.r.knobs.segmentBytes)
	d.cache[id] = v
	if v.err != nil {
		return nil
	}
	return v
}

// recoverDurable runs the member's recovery (as raft.Node's boot does) on a private copy of
// the disk's durable image.
func recoverDurable(disk *sim.Disk, segmentBytes int64) (raft.SnapshotMeta, raft.HardState, []raft.Entry, error) {
	fs := disk.DurableFS()
	snaps, err := raft.OpenSnapStore(fs, path.Join("raft", "snap"))
	if err != nil {
		return raft.SnapshotMeta{}, raft.HardState{}, nil, err
	}
	list, _, err := snaps.Load()
	if err != nil {
		return raft.SnapshotMeta{}, raft.HardState{}, nil, err
	}
	if len(list) == 0 {
		return raft.SnapshotMeta{}, raft.HardState{}, nil, errors.New("no durable snapshot yet")
	}
	base := list[0].Meta
	_, st, err := raft.OpenWAL(fs, path.Join("raft", "wal"), base, segmentBytes)
	if err != nil {
		return raft.SnapshotMeta{}, raft.HardState{}, nil, fmt.Errorf("durable image: %w", err)
	}
	return base, st.Hard, st.Entries, nil
}
