package stream

// maxHeaderBytes is the largest header block a stream stores (nats-server's 64 KiB).
const maxHeaderBytes = 64 * 1024

// Header names the stream reads.
const (
	hdrMsgID               = "Nats-Msg-Id"
	hdrExpectedStream      = "Nats-Expected-Stream"
	hdrExpectedLastSeq     = "Nats-Expected-Last-Sequence"
	hdrExpectedLastSubjSeq = "Nats-Expected-Last-Subject-Sequence"
	hdrExpectedSubjSeqSubj = "Nats-Expected-Last-Subject-Sequence-Subject"
	hdrExpectedLastMsgID   = "Nats-Expected-Last-Msg-Id"
	hdrExpectedPrefix      = "Nats-Expected-"
	hdrRollup              = "Nats-Rollup"
	hdrTTL                 = "Nats-TTL"
	rollupSubject          = "sub"
	rollupAll              = "all"
)
