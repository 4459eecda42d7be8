package raft

import (
	"testing"

	"github.com/petrel-io/petrel/core/env"
)

// TestNoAckForEntriesTruncatedBeforePersist: a follower that accepts entries from the leader
// of term 2, then, before its Ready is persisted, has them replaced by the leader of term 3,
// must not send the term-2 leader an acknowledgement of entries it will never persist (that
// leader could count it and commit an entry the group then overwrites). Found by the raft
// workload's send-durability checker: "member 5 acknowledges entries up to 13, but its
// durable log ends at 12" (sim seed raft 122).
func TestNoAckForEntriesTruncatedBeforePersist(t *testing.T) {
	conf := ConfState{Voters: []ID{1, 2, 3}}
	st := NewMemoryStorage(conf)
	rn, err := NewRawNode(Config{ID: 3, Storage: st, ElectionTicks: 10, HeartbeatTicks: 1, Rand: env.NewPRNG(3)})
	if err != nil {
		t.Fatal(err)
	}
	old := []Entry{{Term: 2, Index: 1, Data: []byte("a")}, {Term: 2, Index: 2, Data: []byte("b")}}
	must(t, rn.Step(Message{Type: MsgApp, From: 1, To: 3, Term: 2, Entries: old}))
	must(t, rn.Step(Message{Type: MsgApp, From: 2, To: 3, Term: 3, Entries: []Entry{{Term: 3, Index: 1, Data: []byte("c")}}}))
	rd := rn.Ready()
	if len(rd.Entries) != 1 || rd.Entries[0].Term != 3 {
		t.Fatalf("Ready persists %+v", rd.Entries)
	}
	for _, m := range rd.Messages {
		if m.Type == MsgAppResp && !m.Reject && m.Index > 1 {
			t.Fatalf("sends %v acknowledging %d, but persists only up to 1", m, m.Index)
		}
	}
}
