//go:build !invariants

package filestore

// seqChunkMax is the size of a seqMap chunk: a removal shifts at most this many keys, and a
// lookup's second binary search stays within a cache-friendly array. The invariants build
// (the simulator's, and make test's) uses small chunks instead, so that the small indexes of
// tests and simulated runs split, merge, pack and reopen chunks all the time.
const seqChunkMax = 512
