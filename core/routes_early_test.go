package core

import (
	"net/url"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/sublist"
	"github.com/petrel-io/petrel/sim"
)

// TestSubscriptionBeforeRoutesStart: a client subscription made after the client listener
// opened but before the routes started (a real host accepts clients meanwhile) is told to
// the cluster when the routes start; before the fix it never was, and messages published
// on other nodes never reached it.
func TestSubscriptionBeforeRoutesStart(t *testing.T) {
	quiet := sim.Quiet()
	w := sim.NewWorld(1, sim.Options{Profile: &quiet})
	opts := func(name, peer string) Options {
		return Options{Host: name, Port: 4222, ServerName: name, Cluster: &ClusterOptions{Name: "c1", Host: name, Port: 6222,
			Routes: []*url.URL{{Scheme: "nats-route", Host: peer + ":6222"}}}}
	}
	var s1, s2 *Server
	w.AddNode("s1", sim.NodeConfig{}, func(e *env.Env) {
		s, err := New(opts("s1", "s2"), e)
		if err != nil {
			t.Fatal(err)
		}
		early := &subscription{acc: s.accountOf(nil), entry: sublist.Sub{Subject: "early.bird"}}
		s.subAdded(early) // as a client accepted before startRoutes would
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		s1 = s
	})
	w.AddNode("s2", sim.NodeConfig{}, func(e *env.Env) {
		s, err := New(opts("s2", "s1"), e)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		s2 = s
	})
	w.RunUntil(3 * time.Second)
	if len(s1.RoutePeers()) != 1 {
		t.Fatalf("s1 routes %v", s1.RoutePeers())
	}
	var known []string
	for _, ri := range s2.Routez(RoutezOptions{Subs: true}).Routes { // a pool: the account's route has it
		for _, sub := range ri.Subs {
			if sub == "early.bird" {
				return
			}
		}
		known = append(known, ri.Subs...)
	}
	t.Fatalf("s2 knows s1's interest %v, without the subscription made before s1's routes started", known)
}
