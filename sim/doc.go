// Package sim runs whole Petrel clusters in one goroutine on virtual time, from a seed.
//
// A World holds nodes (server or client processes), a simulated network between them and a
// simulated disk per node. Every node gets an env.Env whose clock, randomness, files, sockets
// and executors are simulated here, so the engine under test is the real code, not a copy.
//
// # Determinism
//
// All work is an event in one queue, ordered by virtual time; events at the same instant are
// ordered by a draw from the world's seeded generator, so interleavings vary by seed but a
// seed fixes them. Nothing here reads the wall clock, starts a goroutine or iterates a map
// where the order could matter. Every executed event is folded into a trace hash: the same
// seed must give the same hash (tested), and -trace prints the events.
//
// # Faults
//
// A Profile, drawn per seed (swarm testing: each fault class is on or off, with its own
// magnitudes), drives a fault injector during the safety phase of a run: partitions (both
// ways or one way) that heal, connection resets and half-open stalls, node crashes (process
// crash: peers see a reset; machine crash: peers see silence) and restarts, disk faults (EIO
// on write or sync, ENOSPC, bit rot at rest), clock skew, drift and jumps. A liveness phase
// follows with faults off and every node up, in which workloads must make progress.
//
// The disk model keeps exactly what env's durability contract promises and no more: see
// Disk. The network model keeps TCP's promises (ordered bytes, cut into arbitrary chunks) and
// breaks the way TCP breaks: see Network.
package sim
