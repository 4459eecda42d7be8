package netstack

import (
	"net"
	"runtime/debug"
	"sync"
	"time"
)

// chunkSize is the unit of queued output. 32 KiB holds hundreds of small messages, so a
// busy connection's writev carries few iovecs, while an idle one pins little.
const chunkSize = 32 << 10

const (
	// poolKeepChunks bounds what one release hands back to the pool (2 MiB): the rest of a
	// large batch, or of a cut-off subscriber's backlog, is left to the garbage collector
	// instead of pinning memory in the pool until two collections pass.
	poolKeepChunks = 64
	// giveBackBytes: a release at least this large asks for memory to go back to the OS.
	giveBackBytes = 8 << 20
	// giveBackEvery bounds how often that happens (a forced collection costs CPU).
	giveBackEvery = 5 * time.Second
)

// chunkPool recycles output chunks across a host's connections, and gives memory back to
// the OS after a large backlog is released: an idle server would otherwise keep it until
// the runtime's periodic collection, minutes later.
type chunkPool struct {
	pool     sync.Pool
	mu       sync.Mutex
	pending  bool      // a give-back is scheduled
	lastBack time.Time // when the last one ran
}

func newChunkPool() *chunkPool {
	return &chunkPool{pool: sync.Pool{New: func() any { b := make([]byte, 0, chunkSize); return &b }}}
}

// released notes that a connection let go of n bytes of output at once.
func (p *chunkPool) released(n int) {
	if n < giveBackBytes {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending {
		return
	}
	p.pending = true
	time.AfterFunc(max(0, giveBackEvery-time.Since(p.lastBack)), func() {
		debug.FreeOSMemory()
		p.mu.Lock()
		p.pending, p.lastBack = false, time.Now()
		p.mu.Unlock()
	})
}

func (p *chunkPool) get() []byte { return (*p.pool.Get().(*[]byte))[:0] }

func (p *chunkPool) put(b []byte) {
	if cap(b) != chunkSize {
		return
	}
	b = b[:0]
	p.pool.Put(&b)
}

// outbuf is a connection's queued output: a list of fixed-size chunks. Queuing never
// copies what is already queued (a single growing slice re-copies all of it each time it
// outgrows its capacity), and the writer sends the whole list with one writev.
type outbuf struct {
	pool   *chunkPool
	chunks [][]byte
	size   int
}

func (o *outbuf) append(p []byte) {
	o.size += len(p)
	for len(p) > 0 {
		n := len(o.chunks)
		if n == 0 || len(o.chunks[n-1]) == cap(o.chunks[n-1]) {
			o.chunks = append(o.chunks, o.pool.get())
			n++
		}
		last := o.chunks[n-1]
		k := copy(last[len(last):cap(last)], p)
		o.chunks[n-1] = last[:len(last)+k]
		p = p[k:]
	}
}

// take removes everything queued, handing it to the writer.
func (o *outbuf) take(spare [][]byte) (batch [][]byte, size int) {
	batch, size = o.chunks, o.size
	o.chunks, o.size = spare[:0], 0
	return batch, size
}

// release returns a written or dropped batch's chunks to the pool, at most poolKeepChunks
// of them (the rest go to the garbage collector).
func (o *outbuf) release(batch [][]byte) {
	n := 0
	for i, b := range batch {
		if i < poolKeepChunks {
			o.pool.put(b)
		}
		n += len(b)
		batch[i] = nil
	}
	o.pool.released(n)
}

// drop discards everything queued.
func (o *outbuf) drop() {
	o.release(o.chunks)
	o.chunks, o.size = o.chunks[:0], 0
}

// writeBatch sends a batch with writev where the connection supports it.
func writeBatch(rw net.Conn, batch [][]byte) (int64, error) {
	bufs := net.Buffers(append([][]byte(nil), batch...)) // WriteTo consumes its slice
	return bufs.WriteTo(rw)
}

// prepend puts bytes an inline write did not send back at the front of the queue. The
// first may be the unsent tail of a chunk; it is not pooled again (its capacity differs).
func (o *outbuf) prepend(rest [][]byte) {
	size := 0
	for _, b := range rest {
		size += len(b)
	}
	o.chunks = append(append(make([][]byte, 0, len(rest)+len(o.chunks)), rest...), o.chunks...)
	o.size += size
}
