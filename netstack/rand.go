package netstack

import (
	crand "crypto/rand"
	"math/rand/v2"
	"sync"

	"github.com/petrel-io/petrel/core/env"
)

// osRand is the production env.Rand. Uint64 and Intn use a ChaCha8 stream seeded from the
// OS, which is fast and unpredictable enough for jitter and ids; Fill reads the OS source
// directly because callers use it for key material and nonces.
type osRand struct {
	mu  sync.Mutex // ChaCha8 is not safe for concurrent use; executors run in parallel
	gen *rand.Rand
}

func newRand() *osRand {
	var seed [32]byte
	crand.Read(seed[:]) // never fails: the runtime crashes the process if the OS source does
	return &osRand{gen: rand.New(rand.NewChaCha8(seed))}
}

// Uint64 implements env.Rand.
func (r *osRand) Uint64() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.gen.Uint64()
}

// Intn implements env.Rand. The check comes first so the panic is the same AssertionError
// the simulator's PRNG raises.
func (r *osRand) Intn(n int) int {
	env.Assertf(n > 0, "netstack: Intn(%d): n must be positive", n)
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.gen.IntN(n)
}

// Fill implements env.Rand.
func (r *osRand) Fill(p []byte) {
	crand.Read(p)
}
