package workload

import (
	"fmt"
	"hash/fnv"
	"math"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/raft"
)

// raftChecker watches every member from inside (a raft.Observer) and asserts, at the step
// that would break it:
//   - election safety: at most one leader per term;
//   - log matching: an (index, term) pair names one entry, with one predecessor term, on
//     every member and across restarts (so equal pairs mean equal prefixes);
//   - committed entries are never lost or changed: every commit index a member persists
//     covers entries equal to the ones committed before, and a new leader holds every
//     committed entry (leader completeness);
//   - state machine safety: every member applies the committed entries, in order, without
//     gaps, and its state (a running hash) after index i equals every other member's
//     after i, snapshots included.
type raftChecker struct {
	w           *Raft
	leaders     map[env.Term]raft.ID
	firstCommit map[env.Term]bool     // a leader of the term has advanced its commit index
	pairs       map[[2]uint64]entryID // (index, term) → what the entry is
	committed   []entryID             // committed[i-1]: entry i as first seen committed
	stateAt     map[env.Index]uint64  // FSM hash after applying index
	applied     map[raft.ID]env.Index
	commitSeen  map[raft.ID]env.Index
	storage     map[raft.ID]*raft.MemoryStorage // each member's current incarnation's
	preRecovery map[raft.ID]map[string][]byte   // WAL segments as the booting member's recovery reads them
	lastHard    map[raft.ID]raft.HardState
	madeDurable map[raft.ID]raft.HardState // the last term and vote a member persisted before its boot
	held        map[raft.ID]heldTail       // what a member held past the snapshot it is installing
	recoveries  int
	// firstCommitAfter is when the commit index first grew after the faults stopped.
	firstCommitAfter time.Duration
}

// entryID is what the checker remembers of an entry.
type entryID struct {
	term     env.Term
	prevTerm env.Term
	digest   uint64
}

func newRaftChecker(w *Raft) *raftChecker {
	return &raftChecker{w: w, leaders: map[env.Term]raft.ID{}, firstCommit: map[env.Term]bool{}, pairs: map[[2]uint64]entryID{},
		stateAt: map[env.Index]uint64{0: 0}, applied: map[raft.ID]env.Index{}, commitSeen: map[raft.ID]env.Index{},
		storage: map[raft.ID]*raft.MemoryStorage{}, preRecovery: map[raft.ID]map[string][]byte{},
		lastHard: map[raft.ID]raft.HardState{}, madeDurable: map[raft.ID]raft.HardState{}, held: map[raft.ID]heldTail{}}
}

func digest(e *raft.Entry) uint64 {
	h := fnv.New64a()
	h.Write([]byte{byte(e.Type)})
	h.Write(e.Data)
	return h.Sum64()
}

func termAt(st *raft.MemoryStorage, i env.Index) (env.Term, bool) {
	t, err := st.Term(i)
	return t, err == nil
}

// Persisted implements raft.Observer.
func (c *raftChecker) Persisted(id raft.ID, rd *raft.Ready, st *raft.MemoryStorage) {
	hs, _ := st.InitialState()
	c.storage[id] = st
	if rd.Snapshot != nil {
		c.w.stats.installs++
		c.checkHeldTail(id, st)
	}
	for i := range rd.Entries {
		c.checkPair(id, st, &rd.Entries[i])
	}
	if len(rd.Entries) > 0 && len(rd.Messages) > 0 && c.leaders[hs.Term] == id {
		if e := &rd.Entries[len(rd.Entries)-1]; e.Type == raft.EntryConfChange {
			c.checkSingleChange(id, st, e.Index, hs.Commit)
			c.w.strikeConfAppender(id)
		} else {
			c.w.strikeAppender(id)
		}
	}
	if rd.SoftState != nil && rd.SoftState.State == raft.StateLeader {
		if other, ok := c.leaders[hs.Term]; ok && other != id {
			env.Assertf(false, "raft check: two leaders in term %d: %d and %d", hs.Term, other, id)
		}
		c.leaders[hs.Term] = id
		c.w.w.Note("raft: %d leads term %d", id, hs.Term)
		c.w.stats.leaders++
		c.checkCompleteness(id, st, hs.Term)
		c.w.strikeLeader(id)
	}
	if rd.HasHardState && len(rd.Entries) == 0 && rd.Snapshot == nil && hs.Term == c.lastHard[id].Term && hs.Vote == c.lastHard[id].Vote {
		c.w.strikeUnsynced(id) // the driver wrote this Ready without a sync
	}
	if rd.HasHardState {
		// Within one incarnation a member's commit index never goes back (a restart may
		// lose an unsynced one); a snapshot must never take a member below it.
		env.Assertf(c.lastHard[id].Term == math.MaxUint64 || hs.Commit >= c.commitSeen[id],
			"raft check: member %d's commit index went back from %d to %d", id, c.commitSeen[id], hs.Commit)
		c.lastHard[id] = hs
		before := c.commitSeen[id]
		c.checkCommit(id, st, hs.Commit)
		if c.leaders[hs.Term] == id && hs.Commit > before && !c.firstCommit[hs.Term] {
			c.firstCommit[hs.Term] = true
			c.w.strikeCommitter(id)
		}
	}
}

// checkSingleChange asserts the single-change rule (R1): a leader appends a membership
// change only when the previous one in its log is committed, so no two uncommitted
// configurations (which need not overlap) are ever in force.
func (c *raftChecker) checkSingleChange(id raft.ID, st *raft.MemoryStorage, index, commit env.Index) {
	first, _ := st.FirstIndex()
	for i := index - 1; i > commit && i >= first; i-- {
		ents, err := st.Entries(i, i+1, math.MaxUint64)
		if err == nil && ents[0].Type == raft.EntryConfChange {
			env.Assertf(false, "raft check: leader %d appends a membership change at %d while the one at %d is uncommitted (commit %d)",
				id, index, i, commit)
		}
	}
}

// checkPair records an appended entry's (index, term) and predecessor, and asserts that
// any earlier sighting of the same pair was the same entry.
func (c *raftChecker) checkPair(id raft.ID, st *raft.MemoryStorage, e *raft.Entry) {
	prev, ok := termAt(st, e.Index-1)
	if !ok {
		return // compacted: the pair's predecessor is covered by a snapshot
	}
	key := [2]uint64{uint64(e.Index), uint64(e.Term)}
	got := entryID{term: e.Term, prevTerm: prev, digest: digest(e)}
	if seen, ok := c.pairs[key]; ok {
		env.Assertf(seen == got, "raft check: log matching: member %d holds entry %d/%d as %+v, seen before as %+v",
			id, e.Term, e.Index, got, seen)
		return
	}
	c.pairs[key] = got
}

// checkCommit asserts that the entries up to a member's new commit index are the
// committed ones, and records those committed for the first time.
func (c *raftChecker) checkCommit(id raft.ID, st *raft.MemoryStorage, commit env.Index) {
	from := c.commitSeen[id]
	c.commitSeen[id] = commit
	first, _ := st.FirstIndex()
	for i := max(from+1, first); i <= commit; i++ {
		ents, err := st.Entries(i, i+1, math.MaxUint64)
		env.Assertf(err == nil, "raft check: member %d commits %d but lacks entry %d: %v", id, commit, i, err)
		prev, _ := termAt(st, i-1)
		got := entryID{term: ents[0].Term, prevTerm: prev, digest: digest(&ents[0])}
		if int(i) <= len(c.committed) {
			want := c.committed[i-1]
			env.Assertf(want.term == got.term && want.digest == got.digest,
				"raft check: committed entry %d changed: member %d has %d/%x, committed was %d/%x",
				i, id, got.term, got.digest, want.term, want.digest)
			continue
		}
		env.Assertf(int(i) == len(c.committed)+1 || i == first,
			"raft check: member %d commits %d with a gap after %d", id, i, len(c.committed))
		for int(i) > len(c.committed)+1 {
			c.committed = append(c.committed, entryID{}) // below a snapshot: unknown here
		}
		c.committed = append(c.committed, got)
		if now := c.w.w.Now(); now > c.w.faultsEnd && c.firstCommitAfter == 0 {
			c.firstCommitAfter = now
		}
	}
}

// checkCompleteness asserts that a new leader's log holds every entry committed so far.
func (c *raftChecker) checkCompleteness(id raft.ID, st *raft.MemoryStorage, term env.Term) {
	first, _ := st.FirstIndex()
	for i := max(first, 1); int(i) <= len(c.committed); i++ {
		want := c.committed[i-1]
		if want == (entryID{}) {
			continue
		}
		ents, err := st.Entries(i, i+1, math.MaxUint64)
		env.Assertf(err == nil && ents[0].Term == want.term && digest(&ents[0]) == want.digest,
			"raft check: leader %d of term %d lacks committed entry %d (term %d): %v", id, term, i, want.term, err)
	}
}

// Applied implements raft.Observer.
func (c *raftChecker) Applied(id raft.ID, e *raft.Entry) {
	last := c.applied[id]
	env.Assertf(e.Index == last+1, "raft check: member %d applied %d after %d", id, e.Index, last)
	c.applied[id] = e.Index
	env.Assertf(int(e.Index) <= len(c.committed), "raft check: member %d applied %d, never committed", id, e.Index)
	if want := c.committed[e.Index-1]; want != (entryID{}) {
		env.Assertf(want.term == e.Term && want.digest == digest(e),
			"raft check: member %d applied %d/%d, but %d/%d was committed there", id, e.Term, e.Index, want.term, e.Index)
	}
	c.checkState(id, e.Index)
	if e.Type == raft.EntryConfChange && e.Index > c.w.confIndex {
		cc, err := raft.DecodeConfChange(e.Data)
		env.Assertf(err == nil, "raft check: conf change %d: %v", e.Index, err)
		c.w.conf, c.w.confIndex = cc.Conf, e.Index
		c.w.stats.changes++
		c.w.w.Note("raft: configuration at %d: %v", e.Index, cc.Conf)
	}
}

// Restored implements raft.Observer (also called for the snapshot a member boots from).
func (c *raftChecker) Restored(id raft.ID, meta raft.SnapshotMeta) {
	c.applied[id] = meta.Index
	c.checkState(id, meta.Index)
}

func (c *raftChecker) checkState(id raft.ID, index env.Index) {
	m := c.w.members[id]
	if m == nil || m.fsm == nil {
		return
	}
	h := m.fsm.hash
	if want, ok := c.stateAt[index]; ok {
		env.Assertf(want == h, "raft check: member %d state after %d is %x, others had %x", id, index, h, want)
		return
	}
	c.stateAt[index] = h
}

// kvHistory is the clients' record for porcupine.
type kvHistory struct {
	ops                     []porcupine.Operation
	written                 map[string][]string // values put per key, to draw plausible CAS guesses
	acked                   int                 // operations acknowledged
	reads, writes, unknowns int
}

type kvInput struct {
	kind            byte
	key, value, old string
}

type kvResult struct {
	ok      bool
	value   string
	unknown bool
}

// unknownReturn marks an operation whose outcome is unknown: it may take effect at any
// point after its call, so it never returns.
const unknownReturn = math.MaxInt64 / 2

func (h *kvHistory) done(client int, op *kvOp, ret time.Duration, res kvResult) {
	h.acked++
	if op.kind == 'g' {
		h.reads++
	} else {
		h.writes++
	}
	h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: kvInput{op.kind, op.key, op.value, op.old},
		Call: int64(op.call), Output: res, Return: int64(ret)})
	if op.kind != 'g' {
		h.written[op.key] = append(h.written[op.key], op.value)
	}
}

func (h *kvHistory) unknown(client int, op *kvOp) {
	if op.kind == 'g' {
		return // a read with no answer constrains nothing
	}
	h.unknowns++
	h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: kvInput{op.kind, op.key, op.value, op.old},
		Call: int64(op.call), Output: kvResult{unknown: true}, Return: unknownReturn})
	h.written[op.key] = append(h.written[op.key], op.value)
}

// guess picks an expected value for a CAS: usually one recently written, so some succeed.
func (h *kvHistory) guess(key string, r env.Rand) string {
	vals := h.written[key]
	if len(vals) == 0 || r.Intn(5) == 0 {
		return absent
	}
	return vals[len(vals)-1-r.Intn(min(len(vals), 3))]
}

// kvModel is the sequential specification: a register per key.
var kvModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range history {
			k := op.Input.(kvInput).key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() any { return absent },
	Step: func(state, input, output any) (bool, any) {
		st, in, out := state.(string), input.(kvInput), output.(kvResult)
		switch in.kind {
		case 'g':
			return out.value == st, st
		case 'p':
			return true, in.value
		default: // cas
			matches := st == in.old
			switch {
			case out.unknown && matches:
				return true, in.value
			case out.unknown:
				return true, st
			case out.ok:
				return matches, in.value
			default:
				return !matches && out.value == st, st
			}
		}
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(kvInput), output.(kvResult)
		return fmt.Sprintf("%c %s %s %s -> %+v", in.kind, in.key, in.old, in.value, out)
	},
}

// checkLinearizable runs porcupine over the clients' history.
func (h *kvHistory) checkLinearizable() error {
	if !porcupine.CheckOperations(kvModel, h.ops) {
		return fmt.Errorf("raft: client history of %d operations is not linearizable", len(h.ops))
	}
	return nil
}
