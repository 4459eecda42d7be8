package raft

import (
	"slices"

	"github.com/petrel-io/petrel/core/env"
)

// majority is the size of a quorum of n voters.
func majority(n int) int { return n/2 + 1 }

// quorumIndex returns the highest index that a quorum of voters hold, given each voter's
// match; 0 when there are no voters.
func quorumIndex(voters []ID, match func(ID) env.Index) env.Index {
	if len(voters) == 0 {
		return 0
	}
	ms := make([]env.Index, len(voters))
	for i, id := range voters {
		ms[i] = match(id)
	}
	slices.Sort(ms)
	// Ascending: the element majority-from-the-top is held by that many voters.
	return ms[len(ms)-majority(len(ms))]
}

// voteResult is the outcome of a poll so far.
type voteResult uint8

const (
	votePending voteResult = iota
	voteWon
	voteLost
)

// tally counts the votes of voters only (a learner's or stranger's answer counts nowhere).
func tally(voters []ID, votes map[ID]bool) (granted, rejected int, res voteResult) {
	for _, id := range voters {
		v, ok := votes[id]
		switch {
		case !ok:
		case v:
			granted++
		default:
			rejected++
		}
	}
	q := majority(len(voters))
	switch {
	case granted >= q:
		res = voteWon
	case rejected > len(voters)-q:
		res = voteLost
	}
	return granted, rejected, res
}

// hasQuorum reports whether the voters for which ok holds form a quorum.
func hasQuorum(voters []ID, ok func(ID) bool) bool {
	n := 0
	for _, id := range voters {
		if ok(id) {
			n++
		}
	}
	return len(voters) > 0 && n >= majority(len(voters))
}
