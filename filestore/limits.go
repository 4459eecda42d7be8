package filestore

import (
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// Named bounds. Each says why it has the value it has.
const (
	// blockBytesDefault is where a block file rotates when the config says nothing: big
	// enough that a busy stream makes a few files a minute, small enough that removing a
	// fully expired block frees space soon and recovery reads each file in one go.
	blockBytesDefault = 8 << 20
	// blockBytesMin lets tests force a rotation every few records; below it a block would
	// hold less than its own header twice over.
	blockBytesMin = 256
	// preallocBytesMin is the first stretch of zeros a new block file gets (see
	// fileBackend.preallocate); each later stretch doubles what the block holds, up to
	// BlockBytes, so a small stream's block stays small and a busy one extends its file
	// (the fsync that needs a journal commit) only a few times per block.
	preallocBytesMin = 64 << 10
	// preallocSyncBytesMax: above this many bytes per sync (smoothed), preallocating costs
	// more than the journal commits it saves (see fileBackend.preallocate).
	preallocSyncBytesMax = 128 << 10
	// zeroChunkBytes bounds one write of preallocation zeros, and so the zero buffer.
	zeroChunkBytes = 256 << 10
	// blockBytesMax keeps record offsets within 32 bits and a block readable into memory at
	// recovery.
	blockBytesMax = 1 << 30

	// recordBytesMax bounds one record: a message of NATS's largest allowed payload (64 MiB)
	// plus headers and framing. Recovery rejects a header claiming more, so a corrupted
	// length can never make it allocate or skip gigabytes.
	recordBytesMax = 64<<20 + 1<<20
	// deleteRecordSeqsMax bounds the sequence ranges one delete record carries, so a purge of
	// millions of interior messages becomes a series of records of at most ~80 KiB each.
	deleteRecordRangesMax = 4096

	// seqOpenMax is how many chunks of a seqMap, besides its last, stay open (unpacked) once
	// read: enough for a few consumers reading at different places and a removal's merge of
	// two chunks, each reopened chunk costs one decode of seqChunkMax values.
	seqOpenMax = 4

	// filterSubjectsScanMax: when a wildcard filter matches more subjects than this, a
	// LoadNext/LoadPrev walks messages in order instead of asking every subject (which costs
	// a search per subject). Below it, per-subject lookups win.
	filterSubjectsScanMax = 64

	// keyBytesMin is the shortest master key accepted: 256 bits, the key size of both
	// ciphers.
	keyBytesMin = 32

	// syncIntervalDefault is the relaxed mode's sync period when none is given (nats-server
	// uses two minutes by default; we pick a much shorter window of exposure).
	syncIntervalDefault = time.Second

	// msgOverheadBytes is added to every message's logical size (subject + headers + data),
	// so that MaxBytes also bounds streams of empty messages.
	msgOverheadBytes = 16

	// commitYieldMax bounds how many times a commit lets newly arrived writes go first
	// (see runCommit): enough for writers woken together to regroup into one batch, few
	// enough that a steady stream of writes cannot postpone the fsync for long.
	commitYieldMax = 4

	// commitGatherWait bounds how long a commit smaller than the previous one waits for the
	// rest of that group of writers: a few scheduler turns, far below an fsync (~0.1-10 ms).
	commitGatherWait = 500 * time.Microsecond

	// pacerWindowSyncs is how many syncs the pacer (pacer.go) measures a way over: enough
	// to average out one slow fsync, few enough (tens of milliseconds under load) to follow a
	// disk whose speed drifts.
	pacerWindowSyncs = 32
	// pacerProbeEvery: one window in this many runs the way the pacer did not choose, so a
	// change in disk, load or message size is noticed; when that way is the slower one it
	// costs a fraction of one window in this many.
	pacerProbeEvery = 8
	// pacerProbeEveryMax bounds how rarely the pacer tries the way that keeps losing (see
	// pacer.probeEvery): at most a few seconds under load before a change is noticed.
	pacerProbeEveryMax = 64
	// pacerIdleMax: a gap this long with no sync in flight means the writers paused (a
	// grouped round comes back within commitGatherWait); the window restarts rather than
	// charge the pause to the way it was measuring.
	pacerIdleMax = 10 * time.Millisecond

	// expiryBatchMax bounds how many messages one expiry pass removes before it yields the
	// executor (posting itself again), so a mass expiry cannot stall publishes for long.
	expiryBatchMax = 10_000
)

var assertf = env.Assertf
