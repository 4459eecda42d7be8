package raft

import (
	"fmt"
	"slices"

	"github.com/petrel-io/petrel/core/env"
)

// ID names a member of a raft group. It is stable across restarts; None (0) means nobody.
type ID uint64

// None is the absent ID: no leader known, no vote cast.
const None ID = 0

// EntryType says how an entry's Data is read.
type EntryType uint8

const (
	// EntryNormal carries the application's command (or nothing: a new leader's no-op).
	EntryNormal EntryType = 1
	// EntryConfChange carries an encoded ConfChange, including the configuration it results
	// in; the group uses that configuration from the moment the entry is in its log.
	EntryConfChange EntryType = 2
)

func (t EntryType) String() string {
	switch t {
	case EntryNormal:
		return "EntryNormal"
	case EntryConfChange:
		return "EntryConfChange"
	}
	return fmt.Sprintf("EntryType(%d)", uint8(t))
}

// Entry is one record of the replicated log.
type Entry struct {
	Term  env.Term
	Index env.Index
	Type  EntryType
	Data  []byte
}

// entryOverhead approximates an entry's bookkeeping in bytes, so that empty entries still
// count against byte budgets (a flood of no-ops must not be free).
const entryOverhead = 24

func (e *Entry) size() uint64 { return entryOverhead + uint64(len(e.Data)) }

func entriesSize(ents []Entry) uint64 {
	var n uint64
	for i := range ents {
		n += ents[i].size()
	}
	return n
}

// HardState is what a member must persist before it sends any message that depends on it:
// its term, its vote in that term, and (as a hint that saves work at restart) its commit index.
type HardState struct {
	Term   env.Term
	Vote   ID
	Commit env.Index
}

// IsEmpty reports whether h is the zero state of a member that never took part.
func (h HardState) IsEmpty() bool { return h == HardState{} }

// ConfState is a group's configuration: its voters and its learners (members that receive
// the log but neither vote nor count towards a quorum). Both lists are sorted and disjoint.
type ConfState struct {
	Voters   []ID
	Learners []ID
}

// IsVoter reports whether id votes in c.
func (c ConfState) IsVoter(id ID) bool { _, ok := slices.BinarySearch(c.Voters, id); return ok }

// IsLearner reports whether id is a learner in c.
func (c ConfState) IsLearner(id ID) bool {
	_, ok := slices.BinarySearch(c.Learners, id)
	return ok
}

// Contains reports whether id is a member of c at all.
func (c ConfState) Contains(id ID) bool { return c.IsVoter(id) || c.IsLearner(id) }

// Members returns voters and learners in one sorted list.
func (c ConfState) Members() []ID {
	out := append(slices.Clone(c.Voters), c.Learners...)
	slices.Sort(out)
	return out
}

// Equal reports whether two configurations have the same members in the same roles.
func (c ConfState) Equal(o ConfState) bool {
	return slices.Equal(c.Voters, o.Voters) && slices.Equal(c.Learners, o.Learners)
}

func (c ConfState) clone() ConfState {
	return ConfState{Voters: slices.Clone(c.Voters), Learners: slices.Clone(c.Learners)}
}

// valid reports whether the lists are sorted, free of duplicates and None, and disjoint.
func (c ConfState) valid() bool {
	sortedUnique := func(ids []ID) bool {
		for i, id := range ids {
			if id == None || (i > 0 && ids[i-1] >= id) {
				return false
			}
		}
		return true
	}
	if !sortedUnique(c.Voters) || !sortedUnique(c.Learners) {
		return false
	}
	for _, id := range c.Learners {
		if c.IsVoter(id) {
			return false
		}
	}
	return true
}

func (c ConfState) String() string { return fmt.Sprintf("voters=%v learners=%v", c.Voters, c.Learners) }

// SnapshotMeta says which prefix of the log a snapshot replaces: everything up to Index
// (whose term is Term), under configuration Conf.
type SnapshotMeta struct {
	Index env.Index
	Term  env.Term
	Conf  ConfState
}

// Snapshot is the application's state after applying the log up to Meta.Index.
type Snapshot struct {
	Meta SnapshotMeta
	Data []byte
}

// IsEmpty reports whether s is the absent snapshot (index 0).
func (s *Snapshot) IsEmpty() bool { return s == nil || s.Meta.Index == 0 }

// ConfChangeType says what a membership change does.
type ConfChangeType uint8

const (
	// AddLearner adds a new member that receives the log but does not vote (or demotes a
	// voter to learner).
	AddLearner ConfChangeType = 1
	// AddVoter promotes a learner that has caught up. New members always start as learners.
	AddVoter ConfChangeType = 2
	// RemoveNode removes a voter or a learner.
	RemoveNode ConfChangeType = 3
)

func (t ConfChangeType) String() string {
	switch t {
	case AddLearner:
		return "AddLearner"
	case AddVoter:
		return "AddVoter"
	case RemoveNode:
		return "RemoveNode"
	}
	return fmt.Sprintf("ConfChangeType(%d)", uint8(t))
}

// ConfChange is one single-member change. Conf is filled in by the leader when it appends
// the change: the whole configuration that results, so each conf entry stands alone.
type ConfChange struct {
	Type ConfChangeType
	Node ID
	Conf ConfState
}

// StateType is a member's role.
type StateType uint8

const (
	StateFollower StateType = iota
	StatePreCandidate
	StateCandidate
	StateLeader
)

var stateNames = [...]string{"StateFollower", "StatePreCandidate", "StateCandidate", "StateLeader"}

func (s StateType) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("StateType(%d)", uint8(s))
}

// SoftState is volatile state worth reporting: who leads and what this member is.
type SoftState struct {
	Lead  ID
	State StateType
}

// ReadState answers a ReadIndex request: once the application has applied Index, a read
// tagged Context sees every write committed before the request was made.
type ReadState struct {
	Index   env.Index
	Context []byte
}
