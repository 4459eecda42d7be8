// Package workload holds the scenarios the simulator sweeps, each with its checker.
//
// A workload builds servers and clients on a sim.World, drives them over the simulated network
// and disks under the seed's fault profile, and checks what the clients observed: safety
// properties at every step (a checker that sees a violation panics, which fails the seed) and
// liveness at the end (after faults stop, every client must make progress).
//
// Workloads here:
//   - echo: TCP echo servers that crash and restart; clients check that every byte comes back
//     intact and in order on each connection, across resets, stalls and partitions.
//   - counter: a durable counter service that fsyncs before it acknowledges; clients check
//     that no acknowledged increment is ever lost across crashes, torn writes, EIO and bit rot,
//     and that reads see every increment acknowledged before them.
//   - nats: the real engine serving sim NATS clients (sim/natsclient): matching, no
//     corruption, duplicates or reordering on a live connection, exactly-once delivery and
//     503s in seeds without network faults.
//   - raft: 3- and 5-node raft groups with a replicated KV store under the full fault model
//     and membership changes; raft safety checked at every step, client histories checked
//     linearizable with porcupine.
//   - filestore: a message store on a crashing node; every write acknowledged as durable
//     survives, a flipped bit costs at most the record it hit.
package workload
