// Package fsm holds the replicated state machines applied from raft: JetStream's meta group
// (stream and consumer assignments), streams (stored messages) and consumers (delivered and
// acknowledged state). Apply mutates state and returns effects without performing them;
// Snapshot and Restore are deterministic byte for byte.
//
// Not built yet: see DESIGN.md.
package fsm
