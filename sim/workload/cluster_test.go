package workload

import (
	"testing"

	"github.com/petrel-io/petrel/sim"
)

// TestClusterJudgesCrossNodeTraffic: the checks are not vacuous. In strict seeds and in
// fault seeds alike, the mesh forms, clients sit on different servers, and many messages
// are judged for exactly-once delivery, some of them delivered across a route (publisher
// and subscriber on different servers), some through the stream import; fault seeds see
// clients move.
func TestClusterJudgesCrossNodeTraffic(t *testing.T) {
	var strict, faulty, moved, failovers, imported int
	for seed := uint64(1); seed <= 30 && (strict < 2 || faulty < 3); seed++ {
		cl := &Cluster{}
		res := sim.Run(cl, seed, sim.Options{})
		if res.Failed() {
			t.Fatalf("seed %d: %v\n  replay: %s", seed, res.Err, res.Replay())
		}
		failovers += res.Coverage["nats.client.failover"]
		judged, crossed := clusterJudged(cl)
		imported += clusterImported(cl)
		if judged < 100 || crossed < 10 {
			t.Errorf("seed %d (strict %v): %d messages judged, %d deliveries across servers; want >= 100 and >= 10", seed, cl.strict, judged, crossed)
		}
		if cl.strict {
			strict++
			continue
		}
		faulty++
		for _, st := range cl.clients {
			if st.gen > 1 {
				moved++
			}
		}
	}
	if strict == 0 || faulty == 0 || moved == 0 || failovers == 0 || imported == 0 {
		t.Fatalf("seeds: %d strict, %d with faults, %d reconnections, %d moves to another server, %d judged deliveries through the import across servers; want some of each",
			strict, faulty, moved, failovers, imported)
	}
}

// clusterImported counts the judged deliveries of a message through the stream import to
// a subscriber whose client first sat on another server than the publisher's.
func clusterImported(cl *Cluster) int {
	home := map[int]string{}
	for _, st := range cl.clients {
		home[st.idx] = st.server
	}
	n := 0
	for _, mk := range cl.chk.pubOrder {
		if !cl.chk.judged(cl.chk.pubs[mk].sentAt) {
			continue
		}
		for _, sk := range cl.chk.subOrder {
			if cl.chk.seen[sk][mk] && home[sk.client] != home[mk.client] && cl.chk.account[sk.client] != cl.chk.account[mk.client] {
				n++
			}
		}
	}
	return n
}

// clusterJudged counts the messages the checker judged and their deliveries to a
// subscription whose client first sat on another server than the publisher's.
func clusterJudged(cl *Cluster) (judged, crossed int) {
	home := map[int]string{}
	for _, st := range cl.clients {
		home[st.idx] = st.server
	}
	for _, mk := range cl.chk.pubOrder {
		if !cl.chk.judged(cl.chk.pubs[mk].sentAt) {
			continue
		}
		judged++
		for _, sk := range cl.chk.subOrder {
			if cl.chk.seen[sk][mk] && home[sk.client] != home[mk.client] {
				crossed++
			}
		}
	}
	return judged, crossed
}
