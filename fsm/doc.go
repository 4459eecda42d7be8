// Package fsm is the home of JetStream's deterministic state machines, one package each:
// fsm/stream (a stream's publish rules over its store) and fsm/consumer (a consumer's
// delivered and acknowledged state). They take entries stamped by their proposer (times
// included) and never read a clock, so a replica applying the same entries in the same
// order reaches the same state; on one node the entries are applied as they arrive, in a
// replicated stream they will come out of a RAFT log. The account's asset set (fsm/meta)
// comes with replication.
package fsm
