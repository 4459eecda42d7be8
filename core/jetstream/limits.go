package jetstream

import "time"

const (
	// apiInflightMax bounds API requests queued per server before it sheds load, as
	// nats-server's 10,000.
	apiInflightMax = 10000
	// pullWaitingDefault is max_waiting for a pull consumer that sets none.
	pullWaitingDefault = 512
	// deliverBatchMax bounds the messages a consumer hands out in one turn of its
	// executor, so one consumer cannot starve the stream's publishes.
	deliverBatchMax = 256
	// ephemeralInactiveDefault removes an unused ephemeral consumer (nats-server's 5s).
	ephemeralInactiveDefault = 5 * time.Second
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
