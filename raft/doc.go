// Package raft is Petrel's consensus: RAFT as a pure state machine in the style of etcd's
// raft, plus the storage and the driver that run it on an env.Env.
//
// # Layers
//
//   - RawNode (rawnode.go, raft.go, step_*.go): the protocol. Messages and ticks go in
//     (Step, Tick, Propose, ProposeConfChange, TransferLeader, ReadIndex); a Ready comes out
//     with the hard state and entries to persist, the messages to send, the committed
//     entries to apply and the answers to reads; the caller acknowledges it with Advance. It
//     never reads a clock, starts a goroutine or touches a file. Log access goes through the
//     read-only Storage interface; MemoryStorage implements it.
//   - WAL (wal.go) and SnapStore (snapstore.go): the member's durable state on an env.FS.
//   - Node (driver*.go): one member on an Env. It owns an executor, ticks from the Env's
//     clock, persists each Ready (snapshot file, then WAL records, one sync) before sending
//     the messages that depend on it, applies committed entries to an FSM, answers proposals
//     and reads through callbacks, snapshots the FSM and compacts. Messages leave through a
//     Transport the host provides (the simulator's works over env.Net; the server's will
//     work over routes).
//
// # Contract with the caller of a RawNode
//
// For each Ready: persist HardState, Entries and Snapshot durably; only then send Messages;
// apply Snapshot then CommittedEntries (which may include entries of the same Ready);
// answer ReadStates once the applied index reaches them; call Advance. The leader counts its
// own copy of an entry towards a quorum only after Advance reports it durable.
//
// # Protocol choices
//
//   - Elections with pre-vote and check-quorum: a member that heard from a leader within an
//     election timeout ignores votes (unless a leadership transfer asked for them).
//   - A leader commits only entries of its own term by counting replicas; older entries
//     commit with them (Raft §5.4.2). A new leader appends an empty entry for this.
//   - Replication pipelines MsgApps per follower within a window bounded by count and bytes
//     (limits.go); a follower in doubt is probed one message at a time, using the rejection
//     hint to skip whole terms.
//   - Snapshots travel in chunks with a window; a gap draws a rejection naming the offset to
//     resume from, and a stalled stream is resent after an election timeout.
//   - Membership changes are single-member; a conf entry carries the whole resulting
//     configuration and is in force as soon as it is in the log (DESIGN.md gives the safety
//     argument). New members join as learners and are promoted once they hold the
//     committed log.
//   - ReadIndex: the leader confirms leadership with a heartbeat round per batch of reads.
//
// # Invariants (asserted)
//
//   - applied <= committed <= lastIndex, and committed >= the snapshot index;
//   - no entry at or below the commit index is ever overwritten;
//   - a leader's progress has match < next for every member;
//   - the configuration in force is valid (sorted, disjoint voters and learners).
//
// # Wire format (one message; frames for byte streams)
//
//	frame:   | length u32 LE | CRC-32C of message u32 LE | message |
//	message: | version=1 | type u8 | to | from | term | logTerm | index | commit |
//	         | rejectHint | flags u8 (1 reject, 2 snapshot chunk) | context (len+bytes) |
//	         | entry count | entries... | [snapshot chunk] |
//	entry:   | term | index | type u8 | data (len+bytes) |
//	chunk:   | snap index | snap term | conf | offset | total | data (len+bytes) |
//	conf:    | voter count | voters... | learner count | learners... |
//
// Integers without a stated width are unsigned varints. Decoding checks every length
// against what remains (no allocation past the input), rejects local message types,
// unknown flags, entries not following Index, chunks past their total and unsorted
// configurations, and wraps ErrCorrupt.
//
// # Disk format
//
// Every record (WAL record or snapshot file) is a mirrored frame, so that one flipped bit
// never loses a record and a torn write is told apart from data:
//
//	| len A u32 | crc A u32 | len B u32 | crc B u32 | payload | payload |   (crc over len+payload)
//
//	WAL record payload:   | type u8 | body |
//	  1 hard state:       | term | vote | commit |
//	  2 entry:            | entry | (replaces any entry at or after its index)
//	  3 snapshot reset:   | snap index | snap term | conf |  (a leader's snapshot was installed)
//	snapshot file:        | version=1 | index | term | conf | data (len+bytes) |
//
// WAL files are Dir/wal/<seq as 16 hex digits>.wal; each starts with the current hard state,
// so older segments can be deleted once a kept snapshot covers their entries. Snapshot
// files are Dir/snap/<index>-<term>.snap (16 hex digits each); the newest two are kept.
//
// # Durability and recovery
//
// Save writes all of a Ready's records with one write and one Sync (group commit; a Ready
// that only moves the commit index is written but not synced: the commit index is a hint).
// A new segment is synced and its directory synced before any entry goes in it. Recovery
// loads the newest snapshot that verifies, replays the WAL on top of it, stops at the first
// record that does not verify (nothing after it is used), cuts the last segment there and
// rewrites and syncs it (what recovery read may live only in the page cache, after a failed
// sync dropped it). Damage in a sealed segment, a log that does not reach back to the
// snapshot, or a missing installed snapshot is ErrCorrupt: the driver halts rather than run
// on a log that may have lost acknowledged entries or votes. Any failed write or sync halts
// the member (env.Halt); it recovers on restart from what the disk holds.
package raft
