// Package stream is a JetStream stream's state machine: it applies publishes (and purges and
// deletions) to a filestore.Store under the stream's configuration, and says what to answer.
//
// Apply is deterministic: it reads only the entry (whose Time the proposer stamped), the
// configuration and the store, so every replica that applies the same entries in the same
// order holds the same messages and gives the same answers. On one node the stream actor
// (core/jetstream) applies a publish as it arrives; a replicated stream will apply the same
// entries as they come out of its RAFT log.
//
// The rules, in nats-server's order: a sealed stream takes nothing; size limits; the
// duplicate window (Nats-Msg-Id) answers a repeat with the first copy's sequence and stores
// nothing; the Nats-Expected-* headers (stream, last sequence, last sequence of a subject,
// last msg id) refuse a publish whose expectation does not hold; Nats-TTL needs
// allow_msg_ttl; Nats-Rollup needs allow_rollup_hdrs. The expectation headers are removed
// before the message is stored.
//
// Durability: done runs once, after the store made the message durable (and, for a rollup,
// the purge that goes with it), or with the error that refused it. A publish refused by a
// rule is answered at once, before earlier publishes are durable, as nats-server answers it;
// a duplicate of a message not yet durable is answered when that message is.
package stream
