package workload

import (
	"strings"
	"testing"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/sim"
	"github.com/petrel-io/petrel/sim/natsclient"
)

// deliverN hands the checker n fresh messages on subject "a" for subscription k and
// returns the assertion that failed, if any.
func deliverN(chk *natsChecker, k natsSubKey, first uint64, n int) (failed string) {
	defer func() {
		if r := recover(); r != nil {
			if a, ok := r.(env.AssertionError); ok {
				failed = string(a)
				return
			}
			panic(r)
		}
	}()
	for seq := first; seq < first+uint64(n); seq++ {
		mk := natsMsgKey{client: 9, gen: 1, seq: seq}
		chk.published(mk, "a")
		chk.delivered(k, &natsclient.Msg{Subject: "a", Data: encodeNatsMsgWith(mk, "a", nil)})
	}
	return ""
}

// The per-subscription accounting: after an UNSUB's PONG a subscription may hold at most
// max(max, what it had then) messages; a plain UNSUB allows none after its PONG.
func TestNatsUnsubAccounting(t *testing.T) {
	cases := []struct {
		name           string
		before, max    int // delivered before the UNSUB's PONG; the UNSUB's max (0: plain)
		after          int // delivered after the PONG
		wantFailureHas string
	}{
		{"max reached exactly", 0, 3, 3, ""},
		{"one past the max", 0, 3, 4, "past its UNSUB max 3"},
		{"late max counts what it had", 2, 3, 1, ""},
		{"late max one past", 2, 3, 2, "past its UNSUB max 3"},
		{"max already passed: nothing more", 4, 2, 1, "past its UNSUB max 2"},
		{"plain: nothing after the PONG", 5, 0, 1, "after its UNSUB was confirmed"},
		{"plain: all before the PONG", 5, 0, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			chk := newNatsChecker(sim.NewWorld(1, sim.Options{}), true)
			k := natsSubKey{client: 1, gen: 1, sid: "1"}
			chk.subscribed(k, natsSubSpec{pattern: "a"})
			chk.confirmed([]natsSubKey{k})
			if f := deliverN(chk, k, 1, tc.before); f != "" {
				t.Fatalf("before the UNSUB: %s", f)
			}
			chk.unsubscribing(k, tc.max)
			chk.unsubscribed(k)
			f := deliverN(chk, k, uint64(tc.before)+1, tc.after)
			if tc.wantFailureHas == "" && f != "" || !strings.Contains(f, tc.wantFailureHas) {
				t.Fatalf("failure %q, want one containing %q", f, tc.wantFailureHas)
			}
		})
	}
}

// The nats workload's seeds reach the engine's rare client-protocol paths.
func TestNatsSeedsExerciseTheProtocol(t *testing.T) {
	want := []string{"core.unsub.max-reached", "core.unsub.max-already-reached", "core.echo.suppressed",
		"core.headers.stripped", "core.no-responders", "core.pedantic.invalid-subject",
		"core.queue.next-member", "core.max-payload"}
	hits := map[string]int{}
	for seed := uint64(1); seed <= 20; seed++ {
		res := sim.Run(&Nats{}, seed, sim.Options{})
		if res.Failed() {
			t.Fatalf("seed %d: %v", seed, res.Err)
		}
		for p, n := range res.Coverage {
			hits[p] += n
		}
	}
	for _, p := range want {
		if hits[p] == 0 {
			t.Errorf("20 nats seeds never reached %s", p)
		}
	}
}
