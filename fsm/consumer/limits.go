package consumer

// Named bounds. Each says why it has the value it has.
const (
	// stateBytesMax bounds an encoded state that Decode (and so OpenFile) accepts. A pending
	// entry takes at most 3 varints (30 bytes); 1<<26 bytes is over two million outstanding
	// acks, far past any sane max_ack_pending, while a corrupted length can never make a
	// restart allocate gigabytes.
	stateBytesMax = 64 << 20

	// timerSlack is how many stale entries the deadline heap may carry beyond one per pending
	// message before it is rebuilt: every Nak, Progress and redelivery leaves the old entry
	// behind (lazy deletion), so without a bound a consumer that keeps extending one message
	// would grow the heap without limit.
	timerSlack = 64

	// orderSlack is how many acknowledged holes the pending order may carry beyond half its
	// length before it is compacted; acks out of order leave holes until the lowest pending
	// message passes them.
	orderSlack = 64
)
