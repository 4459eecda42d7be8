package raft

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/sim"
)

// listFSM is a state machine that records what it applied.
type listFSM struct{ items []string }

func (f *listFSM) Apply(_ env.Index, data []byte) any {
	f.items = append(f.items, string(data))
	return len(f.items)
}

func (f *listFSM) Snapshot() ([]byte, error) { return []byte(strings.Join(f.items, ",")), nil }

func (f *listFSM) Restore(data []byte) error {
	f.items = nil
	if len(data) > 0 {
		f.items = strings.Split(string(data), ",")
	}
	return nil
}

// directGroup wires Nodes on sim nodes with a transport that posts straight to the
// receiver (no network), to test the driver's persistence, recovery and callbacks.
type directGroup struct {
	w     *sim.World
	nodes map[ID]*Node
	fsms  map[ID]*listFSM
	sim   map[ID]*sim.Node
}

type directTransport struct {
	g    *directGroup
	from ID
}

func (t directTransport) Send(msgs []Message) {
	for _, m := range msgs {
		if to := t.g.nodes[m.To]; to != nil && t.g.sim[m.To].Up() {
			to.Step(m)
		}
	}
}

func newDirectGroup(t *testing.T, seed uint64, n int) *directGroup {
	quiet := sim.Quiet()
	g := &directGroup{w: sim.NewWorld(seed, sim.Options{Profile: &quiet}), nodes: map[ID]*Node{},
		fsms: map[ID]*listFSM{}, sim: map[ID]*sim.Node{}}
	var voters []ID
	for i := 1; i <= n; i++ {
		voters = append(voters, ID(i))
	}
	for _, id := range voters {
		g.sim[id] = g.w.AddNode(fmt.Sprintf("n%d", id), sim.NodeConfig{Crashable: true}, func(e *env.Env) {
			fsm := &listFSM{}
			g.fsms[id] = fsm
			g.nodes[id] = Start(e, NodeConfig{
				ID: id, Dir: "raft", Bootstrap: ConfState{Voters: voters}, TickInterval: 10 * time.Millisecond,
				ElectionTicks: 10, HeartbeatTicks: 2, PreVote: true, CheckQuorum: true,
				SnapshotEntries: 20, CatchUpEntries: 5, WALSegmentBytes: 2048,
			}, fsm, directTransport{g: g, from: id})
		})
	}
	return g
}

func (g *directGroup) leader() *Node {
	var lead *Node
	for id, n := range g.nodes {
		if g.sim[id].Up() && n.rn != nil && n.rn.Status().State == StateLeader {
			lead = n
		}
	}
	return lead
}

// TestDriverReplicatesAndRecovers: a group elects a leader, commits proposals (answering
// each with the FSM's result), snapshots and compacts, survives power loss of every member
// in turn, and every member ends with the same applied list.
func TestDriverReplicatesAndRecovers(t *testing.T) {
	g := newDirectGroup(t, 7, 3)
	g.w.RunUntil(2 * time.Second)
	acked := 0
	propose := func(k int) {
		lead := g.leader()
		if lead == nil {
			t.Fatal("no leader")
		}
		for i := range k {
			lead.Propose([]byte(fmt.Sprintf("v%d-%d", acked, i)), func(res any, err error) {
				if err == nil {
					acked++
				}
			})
		}
	}
	for round := range 3 {
		propose(30)
		g.w.RunUntil(g.w.Now() + time.Second)
		victim := g.sim[ID(round+1)]
		victim.Crash(true)
		g.w.RunUntil(g.w.Now() + time.Second)
		victim.Restart()
		g.w.RunUntil(g.w.Now() + 2*time.Second)
	}
	if acked < 60 {
		t.Fatalf("only %d of 90 proposals acknowledged", acked)
	}
	want := strings.Join(g.fsms[1].items, ",")
	for id, f := range g.fsms {
		if got := strings.Join(f.items, ","); got != want {
			t.Fatalf("member %d applied %d items, member 1 %d", id, len(f.items), len(g.fsms[1].items))
		}
	}
	if len(g.fsms[1].items) < acked {
		t.Fatalf("applied %d < acknowledged %d", len(g.fsms[1].items), acked)
	}
	for id, n := range g.nodes {
		if n.snapIndex == 0 || n.wal.Segments() > 4 {
			t.Fatalf("member %d: snapshot %d, %d wal segments: compaction did not happen", id, n.snapIndex, n.wal.Segments())
		}
	}
}
