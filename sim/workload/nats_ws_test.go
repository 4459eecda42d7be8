package workload

import (
	"testing"

	"github.com/petrel-io/petrel/sim"
)

// Seeds that draw WebSocket clients run them through the engine's WebSocket listener, and
// the checker holds for them as for TCP clients: every WebSocket client hears messages,
// after faults too (Check asserts the liveness of each client).
func TestNatsWebSocketClients(t *testing.T) {
	wsSeeds, wsClients := 0, 0
	for seed := uint64(1); seed <= 12; seed++ {
		if drawNatsWebSocket(seed).server == nil {
			continue
		}
		wsSeeds++
		n := &Nats{}
		if res := sim.Run(n, seed, sim.Options{}); res.Failed() {
			t.Fatalf("seed %d: %v", seed, res.Err)
		}
		for _, st := range n.clients {
			if !st.ws {
				continue
			}
			wsClients++
			if st.received == 0 || st.gen == 0 {
				t.Errorf("seed %d: WebSocket client %s connected %d times and received %d messages", seed, st.name, st.gen, st.received)
			}
		}
	}
	if wsSeeds == 0 || wsClients == 0 {
		t.Fatalf("%d seeds with %d WebSocket clients: the draw never picks WebSocket", wsSeeds, wsClients)
	}
}
