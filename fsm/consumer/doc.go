// Package consumer holds a JetStream consumer's delivery and acknowledgement state as a pure
// state machine, its binary encoding, and the file that keeps it durable.
//
// The consumer actor (core/jetstream) picks messages from the stream, records each delivery
// with Deliver, feeds in what arrives on $JS.ACK subjects (Ack, Nak, Progress, Term), reports
// messages the stream lost (Skip, SkipBelow), and asks Due and NextDeadline what to redeliver
// and when to look again. Time is always an argument (Unix ns), so the same calls in the same
// order give the same state: a replicated consumer will apply them from a log.
//
// # Rules (nats-server v2.15.2's, where it has one)
//
//   - ack policy none: a delivery is acknowledged at once; all: an ack acknowledges every
//     pending message at or below it; explicit: only that one. +TERM is an ack under the
//     same policy. An ack decides by stream seq: a stale ack of an earlier delivery still
//     acknowledges the message.
//   - The ack floor is derived: Delivered when nothing is pending, else just below the lowest
//     pending message (its first delivery's consumer seq minus one, its stream seq minus one).
//     So gaps of messages the consumer never got (filtered out, deleted) do not hold it back,
//     and it never moves backwards.
//   - A pending message is due at Time + wait, wait being ack_wait or, with backoff,
//     backoff[n-1] for its n-th delivery (the last entry repeated). -NAK with a delay stores
//     Time = now - ack_wait + delay; a -NAK without one makes it due at once (not persisted);
//     +WPI sets Time = now.
//   - A message delivered max_deliver times is not redelivered: when it falls due the actor
//     calls GiveUp (nats-server does at the next delivery opportunity; an ack before that
//     still counts). It leaves the pending set (num_ack_pending) and keeps a redelivered entry
//     of max_deliver (num_redelivered, reported as 0 when max_deliver is 1) until acknowledged
//     or gone from the stream. The floor passes it at once, as nats-server's in-memory floor
//     does; the floor nats-server reports (from its store) lags until a later ack empties the
//     pending set (seen with the v2.15.2 binary).
//
// # Encoding (State.Encode, version 1)
//
//	| field                            | encoding                                           |
//	|----------------------------------|----------------------------------------------------|
//	| magic, version                   | 'P' 'C' 0x01                                       |
//	| body length                      | uvarint: bytes up to the checksum                  |
//	| delivered consumer, stream       | uvarint, uvarint                                   |
//	| ack floor consumer, stream       | uvarint, uvarint                                   |
//	| pending count                    | uvarint                                            |
//	| each pending, ascending stream   | uvarint stream-seq delta (from the floor's, > 0),  |
//	|                                  | uvarint consumer-seq delta (from the floor's, > 0),|
//	|                                  | varint time delta (from the previous, first from 0)|
//	| redelivered count                | uvarint                                            |
//	| each redelivered, ascending      | uvarint stream-seq delta (from 0, > 0), uvarint n  |
//	| checksum                         | CRC-32C of all the above, 4 bytes little-endian    |
//
// Decode rejects with ErrDamaged any checksum, length, version or field error and any state
// that breaks State's invariants, so New (which asserts them) can start from whatever Decode
// returns.
//
// # Durability (File)
//
// A client that asked for an ack confirmation gets it only once the acknowledged state is on
// disk: the actor Saves the encoded state and answers in the Save's done. statefile.go
// describes the write (tmp file, fsync, rename, directory fsync), the coalescing of Saves
// while a write is in flight, and why an acknowledged state is never lost or torn.
package consumer
