package raft

// Limits. Every queue and batch in raft is bounded; each bound says why it is what it is.
// The Config fields that override a default are validated in Config.validate.
const (
	// maxFrameBytes bounds one encoded message on the wire. A leader's MsgApp is capped by
	// MaxMsgBytes and a snapshot chunk by SnapshotChunkBytes, both far below; anything
	// larger is a corrupt length field, and refusing it keeps a bad peer from making us
	// allocate gigabytes.
	maxFrameBytes = 64 << 20

	// defaultMaxMsgBytes caps the entries in one MsgApp: big enough to amortise a round
	// trip, small enough that a slow follower does not hold a huge message in a queue.
	defaultMaxMsgBytes = 256 << 10

	// defaultMaxInflightMsgs and defaultMaxInflightBytes bound what the leader pipelines to
	// one follower before hearing back: the bytes bound keeps a stalled follower from
	// pinning unbounded memory in the transport, the count bound keeps the ring small.
	defaultMaxInflightMsgs  = 256
	defaultMaxInflightBytes = 4 << 20

	// defaultMaxApplyBytes caps the committed entries handed out in one Ready, so one Ready
	// cannot stall the executor for long after a follower catches up a long log.
	defaultMaxApplyBytes = 4 << 20

	// defaultMaxUncommittedBytes caps the leader's log beyond the commit index: proposals
	// past it are dropped (the proposer retries), so a leader cut off from its quorum does not
	// grow its log without bound.
	defaultMaxUncommittedBytes = 32 << 20

	// defaultSnapshotChunkBytes is the size of one InstallSnapshot chunk, and
	// snapshotWindowChunks how many chunks may be unacknowledged: chunks let a large
	// snapshot stream without one giant message, the window keeps the pipe full.
	defaultSnapshotChunkBytes = 1 << 20
	snapshotWindowChunks      = 4

	// maxPendingReads bounds the ReadIndex requests a new leader queues until it has
	// committed an entry of its term; more are dropped and the caller retries.
	maxPendingReads = 4096

	// maxReadOnlyRequests bounds ReadIndex requests awaiting a heartbeat quorum.
	maxReadOnlyRequests = 4096
)
