package raft

import (
	"slices"
	"testing"

	"github.com/petrel-io/petrel/core/env"
	"pgregory.net/rapid"
)

func TestQuorumIndex(t *testing.T) {
	cases := []struct {
		name    string
		matches []env.Index
		want    env.Index
	}{
		{"no voters commit nothing", nil, 0},
		{"one voter is its own quorum", []env.Index{7}, 7},
		{"two voters need both", []env.Index{7, 3}, 3},
		{"three voters need two", []env.Index{7, 3, 5}, 5},
		{"four voters need three", []env.Index{7, 3, 5, 9}, 5},
		{"five voters need three", []env.Index{1, 2, 3, 4, 5}, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var voters []ID
			match := map[ID]env.Index{}
			for i, m := range c.matches {
				voters = append(voters, ID(i+1))
				match[ID(i+1)] = m
			}
			if got := quorumIndex(voters, func(id ID) env.Index { return match[id] }); got != c.want {
				t.Fatalf("got %d, want %d", got, c.want)
			}
		})
	}
}

// TestQuorumIndexOracle: the quorum index is the largest index that at least a majority
// of voters hold, checked against a naive scan.
func TestQuorumIndexOracle(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 9).Draw(t, "n")
		var voters []ID
		match := map[ID]env.Index{}
		for i := range n {
			voters = append(voters, ID(i+1))
			match[ID(i+1)] = env.Index(rapid.IntRange(0, 20).Draw(t, "match"))
		}
		got := quorumIndex(voters, func(id ID) env.Index { return match[id] })
		want := env.Index(0)
		for idx := env.Index(0); idx <= 20; idx++ {
			holders := 0
			for _, id := range voters {
				if match[id] >= idx {
					holders++
				}
			}
			if holders*2 > n {
				want = idx
			}
		}
		if got != want {
			t.Fatalf("voters %v: got %d, want %d", match, got, want)
		}
	})
}

func TestTally(t *testing.T) {
	voters := []ID{1, 2, 3, 4, 5}
	cases := []struct {
		name  string
		votes map[ID]bool
		want  voteResult
	}{
		{"no answers is pending", map[ID]bool{}, votePending},
		{"three grants win", map[ID]bool{1: true, 2: true, 3: true}, voteWon},
		{"three rejections lose", map[ID]bool{1: false, 2: false, 3: false}, voteLost},
		{"two and two is pending", map[ID]bool{1: true, 2: true, 3: false, 4: false}, votePending},
		{"strangers do not count", map[ID]bool{1: true, 2: true, 9: true, 10: true}, votePending},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, _, got := tally(voters, c.votes); got != c.want {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

// TestInflights: the window fills by count or by bytes and frees by acknowledged index.
func TestInflights(t *testing.T) {
	in := newInflights(3, 100)
	in.add(1, 10)
	in.add(2, 10)
	if in.full() {
		t.Fatal("full after 2 of 3")
	}
	in.add(5, 10)
	if !in.full() {
		t.Fatal("not full after 3 of 3")
	}
	in.freeLE(2)
	if in.full() || in.count != 1 || in.bytes != 10 {
		t.Fatalf("after freeLE(2): count %d bytes %d", in.count, in.bytes)
	}
	in.add(6, 95)
	if !in.full() {
		t.Fatal("not full past the byte bound")
	}
	in.freeFirst()
	if in.count != 1 || in.items[in.start].last != 6 {
		t.Fatalf("freeFirst freed the wrong message: count %d", in.count)
	}
}

// TestMemoryStorageModel: Append, Compact and ApplySnapshot agree with a plain slice model.
func TestMemoryStorageModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := NewMemoryStorage(ConfState{Voters: []ID{1}})
		var model []Entry // model[i] has index i+1
		first := env.Index(1)
		for range rapid.IntRange(1, 30).Draw(t, "ops") {
			last, _ := s.LastIndex()
			switch rapid.IntRange(0, 2).Draw(t, "op") {
			case 0: // append, possibly overwriting
				at := env.Index(rapid.IntRange(int(first), int(last)+1).Draw(t, "at"))
				term := env.Term(rapid.IntRange(1, 5).Draw(t, "term"))
				ents := []Entry{{Index: at, Term: term}, {Index: at + 1, Term: term}}
				if err := s.Append(ents); err != nil {
					t.Fatal(err)
				}
				model = append(model[:at-1], ents...)
			case 1: // snapshot and compact
				if last < first {
					continue
				}
				at := env.Index(rapid.IntRange(int(first), int(last)).Draw(t, "compact"))
				if _, err := s.CreateSnapshot(at, ConfState{Voters: []ID{1}}, nil); err != nil {
					t.Fatal(err)
				}
				if err := s.Compact(at); err != nil {
					t.Fatal(err)
				}
				first = at + 1
			case 2: // check
				got, err := s.Entries(first, last+1, ^uint64(0))
				if err != nil {
					t.Fatal(err)
				}
				if !slices.EqualFunc(got, model[first-1:last], func(a, b Entry) bool { return a.Index == b.Index && a.Term == b.Term }) {
					t.Fatalf("entries [%d, %d] differ from the model", first, last)
				}
			}
		}
	})
}
