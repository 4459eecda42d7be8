// Package env is the contract between Petrel's deterministic engine and the world it runs in.
//
// Everything the engine needs from outside — time, randomness, files, sockets, concurrency,
// logging — comes through the interfaces here, bundled per node in an Env. Two hosts implement
// them: package netstack with the real operating system, and package sim with a seeded,
// single-goroutine simulation. Code below the hosts (core, raft, fsm, filestore, sim) never
// reaches the world any other way; a source-reading test enforces that.
//
// This package is the leaf of Petrel's import graph: it imports nothing of ours.
//
// # Events and executors
//
// The engine is event-driven. Bytes arriving on a connection, a connection closing, a timer
// firing and a dial completing are events, each delivered by posting a function to an
// Executor the engine chose. An Executor runs the functions posted to it one at a time, in
// posting order, so state owned by one executor needs no locks. Functions must not block.
//
// Cancellation is race-free when it happens on the same executor: once Timer.Stop or
// Conn.Close returns, called from the executor the timer or connection delivers to, no
// further event of that timer or connection runs.
//
// # Durability (FS)
//
// What survives a crash is exactly what this contract promises, no more:
//   - bytes written to a file (Write, WriteAt) and size changes (Truncate) are durable once a
//     File.Sync on that file, called after they returned, has returned nil; Sync alone may
//     run on a second executor while the file's owner keeps writing (see File), and then
//     covers exactly what returned before it was called: a write racing with it may be kept,
//     lost or torn like any unsynced write;
//   - a directory entry created, renamed or removed (Create, Rename, Remove, MkdirAll) is
//     durable once a later SyncDir of its parent directory (of both parents, for Rename) has
//     returned nil; until then a crash may leave the old entry or the new one;
//   - Rename is atomic: after a crash the name refers to the old file or the new one, never to
//     a mix;
//   - a crash may lose, keep, or partly keep unsynced bytes, in units of 512-byte sectors: each
//     unsynced sector is either its old content or its new one, and an unsynced size change
//     may land anywhere between the old size and the new one;
//   - a failed Sync (an error) promises nothing about the data it covered, not even after a
//     later successful Sync (Linux drops dirty pages on a write-back error): a caller that needs
//     the data must treat a Sync error as fatal for the file.
//
// Bytes may also rot at rest: a checksum is the only defence, and callers that store data keep
// one per record.
package env
