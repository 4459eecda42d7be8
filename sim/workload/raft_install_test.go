package workload

import (
	"testing"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/raft"
)

// TestHeldTailChecker: a snapshot installed over a log that holds its last entry must keep
// the entries after it; the checker flags a Ready that dropped them and passes one that
// did not install over a held entry.
func TestHeldTailChecker(t *testing.T) {
	log := func() *raft.MemoryStorage {
		st := raft.NewMemoryStorage(raft.ConfState{Voters: []raft.ID{1}})
		var ents []raft.Entry
		for i := env.Index(1); i <= 5; i++ {
			ents = append(ents, raft.Entry{Index: i, Term: 2})
		}
		if err := st.Append(ents); err != nil {
			t.Fatal(err)
		}
		return st
	}
	c := &raftChecker{held: map[raft.ID]heldTail{}}
	caught := func(f func()) (failed bool) {
		defer func() {
			_, failed = recover().(env.AssertionError)
		}()
		f()
		return false
	}

	held := raft.SnapshotMeta{Index: 3, Term: 2}
	st := log()
	c.Installing(1, held, st)
	if err := st.ApplySnapshot(raft.Snapshot{Meta: held}); err != nil { // drops 4 and 5
		t.Fatal(err)
	}
	if !caught(func() { c.checkHeldTail(1, st) }) {
		t.Fatal("a snapshot that dropped the held entries 4 and 5 passed")
	}

	other := raft.SnapshotMeta{Index: 7, Term: 3} // not held: installing it is the rule
	st = log()
	c.Installing(1, other, st)
	if err := st.ApplySnapshot(raft.Snapshot{Meta: other}); err != nil {
		t.Fatal(err)
	}
	if caught(func() { c.checkHeldTail(1, st) }) {
		t.Fatal("a snapshot whose last entry the log lacked was flagged")
	}
}
