package raft

import (
	"fmt"
	"slices"

	"github.com/petrel-io/petrel/core/env"
)

// Membership changes are single-member (Raft thesis §4.1): each EntryConfChange adds or
// removes one member, carries the whole configuration that results, and is in force on a
// member as soon as it is in that member's log, committed or not. A leader proposes a change
// only when the previous one is committed and it has committed an entry of its own term.
// DESIGN.md ("raft: membership") gives the safety argument.

// confAt is the configuration in force from a log index on.
type confAt struct {
	index env.Index
	conf  ConfState
}

// confHistory lists the configurations in the log, oldest first: the snapshot's (always
// present), then one per EntryConfChange after it. The last one is in force.
type confHistory struct {
	list []confAt
}

func (h *confHistory) current() ConfState { return h.list[len(h.list)-1].conf }

// lastIndex is the index of the newest configuration (the snapshot's index if none since).
func (h *confHistory) lastIndex() env.Index { return h.list[len(h.list)-1].index }

func (h *confHistory) reset(index env.Index, conf ConfState) {
	h.list = []confAt{{index: index, conf: conf.clone()}}
}

// onAppend accounts for entries just appended, which replace any from ents[0].Index on. It
// returns how many (uncommitted) configurations the replaced entries carried.
func (h *confHistory) onAppend(ents []Entry) (dropped int) {
	if len(ents) == 0 {
		return 0
	}
	first := ents[0].Index
	keep := len(h.list)
	for keep > 1 && h.list[keep-1].index >= first {
		keep--
	}
	dropped = len(h.list) - keep
	h.list = h.list[:keep]
	for i := range ents {
		if ents[i].Type != EntryConfChange {
			continue
		}
		cc, err := decodeConfChange(ents[i].Data)
		env.Assertf(err == nil, "raft: conf change at %d: %v", ents[i].Index, err)
		h.list = append(h.list, confAt{index: ents[i].Index, conf: cc.Conf})
	}
	return dropped
}

// compact forgets configurations superseded at or before index (which must be committed).
func (h *confHistory) compact(index env.Index) {
	k := 0
	for k+1 < len(h.list) && h.list[k+1].index <= index {
		k++
	}
	if k > 0 {
		h.list = slices.Clone(h.list[k:])
	}
}

// loadConfs rebuilds the history from storage at startup: the snapshot's configuration and
// every conf change in the log after it.
func loadConfs(s Storage) (confHistory, error) {
	var h confHistory
	snap, err := s.Snapshot()
	if err != nil {
		return h, fmt.Errorf("raft: load configuration: %w", err)
	}
	h.reset(snap.Meta.Index, snap.Meta.Conf)
	first, _ := s.FirstIndex()
	last, _ := s.LastIndex()
	for lo := first; lo <= last; {
		ents, err := s.Entries(lo, last+1, defaultMaxApplyBytes)
		if err != nil {
			return h, fmt.Errorf("raft: load configuration from entries %d..%d: %w", lo, last, err)
		}
		for i := range ents {
			if ents[i].Type != EntryConfChange {
				continue
			}
			cc, err := decodeConfChange(ents[i].Data)
			if err != nil {
				return h, fmt.Errorf("raft: conf change at %d: %w", ents[i].Index, err)
			}
			h.list = append(h.list, confAt{index: ents[i].Index, conf: cc.Conf})
		}
		lo += env.Index(len(ents))
	}
	return h, nil
}

// checkConfChange validates a proposed change on the leader and returns the configuration
// it results in.
func (r *raft) checkConfChange(cc ConfChange) (ConfState, error) {
	if r.confs.lastIndex() > r.log.committed {
		r.cfg.Probe.Hit("raft.conf.overlap-refused") // R1: the previous change is uncommitted
		return ConfState{}, ErrConfChangePending
	}
	if !r.committedInTerm() {
		return ConfState{}, ErrConfChangePending
	}
	c := r.conf().clone()
	bad := func(why string) (ConfState, error) {
		return ConfState{}, fmt.Errorf("%w: %v %d: %s (%v)", ErrBadConfChange, cc.Type, cc.Node, why, c)
	}
	switch cc.Type {
	case AddLearner:
		if c.IsLearner(cc.Node) {
			return bad("already a learner")
		}
		if c.IsVoter(cc.Node) {
			c.Voters = remove(c.Voters, cc.Node) // demotion
		}
		c.Learners = insert(c.Learners, cc.Node)
	case AddVoter:
		if c.IsVoter(cc.Node) {
			return bad("already a voter")
		}
		if !c.IsLearner(cc.Node) {
			return bad("add it as a learner first")
		}
		var match env.Index
		if pr := r.prs[cc.Node]; pr != nil {
			match = pr.match
		}
		if match < r.log.committed {
			return ConfState{}, fmt.Errorf("%w: %d holds %d of %d committed", ErrLearnerBehind, cc.Node, match, r.log.committed)
		}
		c.Learners = remove(c.Learners, cc.Node)
		c.Voters = insert(c.Voters, cc.Node)
	case RemoveNode:
		if !c.Contains(cc.Node) {
			return bad("not a member")
		}
		c.Voters, c.Learners = remove(c.Voters, cc.Node), remove(c.Learners, cc.Node)
	default:
		return bad("unknown change")
	}
	if len(c.Voters) == 0 {
		return bad("no voters would remain")
	}
	return c, nil
}

func insert(ids []ID, id ID) []ID {
	i, _ := slices.BinarySearch(ids, id)
	return slices.Insert(ids, i, id)
}

func remove(ids []ID, id ID) []ID {
	if i, ok := slices.BinarySearch(ids, id); ok {
		return slices.Delete(ids, i, i+1)
	}
	return ids
}
