package route

import (
	"fmt"
	"testing"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/proto"
)

// table builds a remote table from entries "conn account subject [queue weight]".
func table(entries ...[]any) *remoteTable {
	t := newRemoteTable()
	for _, e := range entries {
		k := key{Account: e[1].(string), Subject: e[2].(string)}
		w := 1
		if len(e) > 3 {
			k.Queue, w = e[3].(string), e[4].(int)
		}
		t.set(ConnID(e[0].(int)), k, w)
	}
	return t
}

func TestForward(t *testing.T) {
	remote := table(
		[]any{1, "A", "foo"}, []any{1, "A", "foo.>"}, // two plain entries on one route: sent once
		[]any{2, "A", "*"},
		[]any{3, "B", "foo"}, // another account
		[]any{2, "A", "foo", "q", 3}, []any{3, "A", "f*", "q", 1}, []any{3, "A", "*", "q", 2},
		[]any{1, "A", "foo", "w", 1},
	)
	tests := []struct {
		name        string
		local       []LocalGroup
		preferLocal bool
		draws       []int
		want        string
	}{
		// Members of q: local 2, conn 2 weight 3, conn 3 weight 2 ("f*" does not match foo).
		{name: "draw on a local member keeps q here", local: []LocalGroup{{"q", 2}}, draws: []int{1, 0}, want: "local [q] routes [{1 [w]} {2 []}]"},
		{name: "draw past the locals picks by weight", local: []LocalGroup{{"q", 2}}, draws: []int{4, 0}, want: "local [] routes [{1 [w]} {2 [q]}]"},
		{name: "last member is the last route's", local: []LocalGroup{{"q", 2}}, draws: []int{6, 0}, want: "local [] routes [{1 [w]} {2 []} {3 [q]}]"},
		{name: "prefer local keeps a group with a member here", local: []LocalGroup{{"q", 1}}, preferLocal: true, draws: []int{0}, want: "local [q] routes [{1 [w]} {2 []}]"},
		{name: "a group only here stays here", local: []LocalGroup{{"z", 1}}, draws: []int{0, 0, 0}, want: "local [z] routes [{1 [w]} {2 [q]}]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var plan Plan
			draw := func(n int) int {
				d := tc.draws[0]
				tc.draws = tc.draws[1:]
				if d >= n {
					t.Fatalf("draw %d out of [0, %d)", d, n)
				}
				return d
			}
			forward(remote.match("A", []byte("foo")), tc.local, tc.preferLocal, draw, &plan)
			got := fmt.Sprintf("local %v routes %v", plan.Local, plan.Routes)
			if got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
	if res := remote.match("B", []byte("bar")); res == nil || !res.Empty() {
		t.Fatalf("B bar matched %v", res)
	}
	if res := remote.match("C", []byte("foo")); res != nil {
		t.Fatalf("an account nobody subscribed in matched %v", res)
	}
}

// TestPickMemberIsUniformOverMembers: every member of the cluster, local or behind a route's
// weight, is picked for exactly one draw value, so a uniform draw spreads load evenly.
func TestPickMemberIsUniformOverMembers(t *testing.T) {
	remote := table([]any{1, "A", "x", "q", 3}, []any{2, "A", "x", "q", 1})
	subs := remote.match("A", []byte("x")).Groups[0].Subs
	counts := map[string]int{}
	for n := range 2 + 3 + 1 {
		conn, ok := pickMember(2, subs, func(total int) int {
			if total != 6 {
				t.Fatalf("total %d, want 6 members", total)
			}
			return n
		})
		counts[fmt.Sprint(conn, ok)]++
	}
	if fmt.Sprint(counts) != "map[0 false:2 1 true:3 2 true:1]" {
		t.Fatalf("picks %v", counts)
	}
}

// TestPublishAllocatesNothing: every client message of a cluster goes through Publish and
// Ready, so once warm they allocate nothing, with a reply and a queue group or not.
func TestPublishAllocatesNothing(t *testing.T) {
	if env.Invariants {
		t.Skip("the invariants build checks the whole router on every publish")
	}
	r := newTestRouter(t, nil)
	a, _ := accepted(t, r, connectLine(proto.RouteConnect{Name: "NA", Cluster: "c1"}), infoLine(proto.RouteInfo{ID: "NA", Cluster: "c1"}))
	r.Receive(a, 0, []byte("RS+ $G orders.*\r\nRS+ $G work q 2\r\n"))
	r.Ready()
	payload := make([]byte, 128)
	plain := Message{Account: "$G", Subject: []byte("orders.new"), Reply: []byte("_INBOX.1"), Hdr: -1, Payload: payload}
	queued := Message{Account: "$G", Subject: []byte("work"), Hdr: -1, Payload: payload}
	local := []LocalGroup{{Name: "q", Members: 1}}
	written := 0
	publish := func() {
		r.Publish(&plain, nil)
		r.Publish(&queued, local)
		for _, w := range r.Ready().Writes {
			written += len(w.Bytes)
		}
	}
	for range 10 {
		publish() // buffers at their working sizes
	}
	if allocs := testing.AllocsPerRun(100, publish); allocs != 0 {
		t.Fatalf("%.1f allocations per publish and Ready", allocs)
	}
	if written == 0 {
		t.Fatal("nothing was forwarded to the route with interest")
	}
}
