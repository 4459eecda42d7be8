package sim

import (
	"testing"

	"github.com/petrel-io/petrel/core/env"
)

// TestPartitionFromCutsOnlyTheGivenNodes cuts a server from its peers: its links to the
// client stay open, and HealFrom reopens exactly the cut ones.
func TestPartitionFromCutsOnlyTheGivenNodes(t *testing.T) {
	prof := Quiet()
	w := NewWorld(1, Options{Profile: &prof})
	idle := func(*env.Env) {}
	for _, name := range []string{"s1", "s2", "s3"} {
		w.AddNode(name, NodeConfig{Crashable: true}, idle)
	}
	w.AddNode("c1", NodeConfig{}, idle)
	w.AddNode("x", NodeConfig{Crashable: true, Group: GroupClient}, idle)
	if got := w.NodesIn(GroupServer); len(got) != 3 || got[2] != 2 {
		t.Fatalf("servers %v", got)
	}
	if got := w.NodesIn(GroupClient); len(got) != 2 || got[1] != 4 {
		t.Fatalf("clients %v (an explicit group wins over Crashable)", got)
	}
	nw := w.Network()
	blocked := func(a, b int) bool { return nw.links[a][b].blocked }
	nw.PartitionFrom(0, w.NodesIn(GroupServer), false)
	if !blocked(0, 1) || !blocked(1, 0) || !blocked(0, 2) || !blocked(2, 0) || blocked(0, 0) {
		t.Fatal("server 0 not cut from both peers both ways")
	}
	if blocked(0, 3) || blocked(3, 0) || blocked(1, 2) {
		t.Fatal("a link outside the cut was blocked")
	}
	nw.HealFrom(0, []int{1, 2})
	nw.PartitionFrom(1, []int{3}, true)
	if blocked(0, 1) || blocked(2, 0) || !blocked(1, 3) || blocked(3, 1) {
		t.Fatal("heal or one-way cut wrong")
	}
}
