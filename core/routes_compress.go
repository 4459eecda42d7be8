package core

import (
	"sync"
	"sync/atomic"

	"github.com/petrel-io/petrel/core/s2stream"
)

// A route's output once its handshake chose compression (core/route compress.go): the bytes
// the Router writes wait in plain, and each flush compresses them into one S2 frame, so a
// frame carries a client read's worth of messages. The Router's writes arrive under
// routes.mu, flushes from any executor: routeZ has its own lock, taken inside routes.mu or
// alone, never the other way round.

// routeZ is a route connection's compressor.
type routeZ struct {
	on    atomic.Bool // set once; plain until then
	mu    sync.Mutex
	enc   *s2stream.Encoder
	plain []byte // written since the last flush
	frame []byte // scratch for the compressed frame
}

// queue takes bytes for the route: queued on the socket now, or kept to compress at the
// next flush. It reports whether they were taken (a closed socket refuses them).
func (rc *routeConn) queue(b []byte) bool {
	if !rc.z.on.Load() {
		return rc.conn.Queue(b) == nil
	}
	rc.z.mu.Lock()
	rc.z.plain = append(rc.z.plain, b...)
	rc.z.mu.Unlock()
	return true
}

// compressFrom makes what the route writes from now on compressed at level.
func (rc *routeConn) compressFrom(level s2stream.Level) {
	rc.z.mu.Lock()
	rc.z.enc = s2stream.NewEncoder(level)
	rc.z.mu.Unlock()
	rc.z.on.Store(true)
}

// compressPending queues, compressed, what waits since the last flush.
func (rc *routeConn) compressPending() {
	if !rc.z.on.Load() {
		return
	}
	rc.z.mu.Lock()
	defer rc.z.mu.Unlock()
	if len(rc.z.plain) == 0 {
		return
	}
	rc.z.frame = rc.z.enc.Append(rc.z.frame[:0], rc.z.plain)
	rc.z.plain = rc.z.plain[:0]
	_ = rc.conn.Queue(rc.z.frame) // a closed socket: OnClose tells the Router
}
