package jetstream

import "time"

const (
	// deliverBatchMax bounds the messages a consumer hands out in one turn of its
	// executor, so one consumer cannot starve the stream's publishes.
	deliverBatchMax = 256
	// metaFileMax bounds a definition file read at start-up.
	metaFileMax = 4 << 20
)

// deletedDetailsMax bounds the deleted sequences STREAM.INFO lists.
const deletedDetailsMax = 100000

// Direct gets: every stream that allows them answers in this queue group.
const (
	directPrefix = jsapiDirect
	directQueue  = "_sys_"
	jsapiDirect  = "$JS.API.DIRECT.GET."
)

// subjectsPageSize is how many subjects one STREAM.INFO page lists (nats-server's 100,000).
const subjectsPageSize = 100000

const (
	// fcWindowBytes is the push consumer's flow-control window: a request goes out after
	// this many bytes, and delivery stops at twice this without its echo.
	fcWindowBytes = 1 << 20
	// pushInterestPoll is how often a push consumer without a listener looks again.
	pushInterestPoll = 100 * time.Millisecond
)

// sweepBatchMax bounds the messages an interest sweep looks at per turn of the stream's
// executor.
const sweepBatchMax = 1024

// directMultiMax bounds the messages one multi_last direct get answers with (nats-server's
// 1024).
const directMultiMax = 1024

// A recovered stream whose store fails to open is tried again: first after openRetryFirst,
// doubling up to openRetryLast, openRetryMax times in all (a few minutes), since an I/O fault
// may pass; after that it stays offline until the next start.
const (
	openRetryFirst = 250 * time.Millisecond
	openRetryLast  = 10 * time.Second
	openRetryMax   = 24
)
