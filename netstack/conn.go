package netstack

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

const (
	// readBufMin and readBufMax bound a connection's read buffer, and so one OnData. It
	// doubles after a read that filled it and halves after readShrinkAfter reads that used
	// less than half: an idle connection pins little, and a busy one reads up to 64 KiB
	// (hundreds of messages) per system call and per hand-off to its executor.
	readBufMin      = 1 << 10
	readBufMax      = 64 << 10
	readShrinkAfter = 2
	// closeLinger bounds each stage of a graceful close: sending what is queued, then
	// waiting for the peer to close its side. Without it a peer that stops reading, or never
	// closes, would keep the socket and its goroutines forever.
	closeLinger = 10 * time.Second
)

// connState is the write side's lifecycle; it only moves forward.
type connState int

const (
	connOpen     connState = iota
	connClosing            // Write refused; the writer sends what is pending, then closes
	connDraining           // FIN sent after the last byte; the reader discards input until EOF
	connClosed             // socket closed; anything pending is dropped
)

// conn is one TCP connection. Two goroutines serve it: the reader, which alone delivers
// events (so nothing can follow OnClose), and the writer, which owns the socket's write side.
// Everything else talks to them through mu, the wake channel and the stopped flag.
type conn struct {
	nc            *net.TCPConn
	rw            net.Conn // what I/O goes through: nc, or a TLS session over it (guarded by mu)
	tlsVersion    string   // set with rw by StartTLS
	tlsCipher     string
	local, remote string
	readDone      chan struct{} // closed when the reader exits, for tests

	// Event side. ex, h and readBuf are set once by Start, before the reader exists.
	started       atomic.Bool
	stopped       atomic.Bool // set by a local Close/Abort or by OnClose: no event may follow
	ex            env.Executor
	h             env.ConnHandler
	readBuf       []byte
	readN         int
	handled       chan bool // a posted OnData signals once readBuf may be reused: true if delivered
	deliverDataFn func()    // c.deliverData, bound once instead of per read
	readPaused    atomic.Bool
	resume        chan struct{} // capacity 1: wakes a reader waiting out a pause (or a close)

	// Write side, shared by Write, Close, Abort, the reader and the writer.
	wake          chan struct{} // capacity 1: a pending wake-up already covers later writes
	mu            sync.Mutex
	state         connState
	out           outbuf
	inflight      int          // bytes of the batch the writer is sending now
	writing       bool         // a goroutine (the writer or an inline Flush) is in a write
	spare         [][]byte     // the previous batch's chunk list, reused
	buffered      atomic.Int64 // bytes queued or in a write syscall: Buffered without a lock
	brokenErr     error        // why the connection broke, once it has
	readerActive  bool         // the reader goroutine runs and has not settled yet
	drainWaiters  []chan struct{}
	writeDeadline atomic.Int64 // a time.Duration; 0 means none
	signalled     atomic.Bool  // a wake-up is pending in the wake channel
	drain         drainNotice  // NotifyDrained's pending notification
}

func newConn(nc *net.TCPConn, chunks *chunkPool) *conn {
	// The engine batches its own writes, so Nagle would only add latency to replies.
	_ = nc.SetNoDelay(true) // cannot fail on a healthy socket; a broken one fails at I/O
	c := &conn{
		nc:       nc,
		rw:       nc,
		out:      outbuf{pool: chunks},
		local:    nc.LocalAddr().String(),
		remote:   nc.RemoteAddr().String(),
		wake:     make(chan struct{}, 1),
		readDone: make(chan struct{}),
		handled:  make(chan bool, 1),
		resume:   make(chan struct{}, 1),
	}
	c.deliverDataFn = c.deliverData
	// The writer starts now, not at Start, because the engine may write (a greeting, say)
	// before it asks for events.
	go c.writeLoop()
	return c
}

// LocalAddr implements env.Conn.
func (c *conn) LocalAddr() string { return c.local }

// RemoteAddr implements env.Conn.
func (c *conn) RemoteAddr() string { return c.remote }

// Start implements env.Conn. Bytes that arrived before it wait in the kernel's buffer, so
// starting the reader here delivers them first.
func (c *conn) Start(ex env.Executor, h env.ConnHandler) {
	env.Assertf(c.started.CompareAndSwap(false, true), "conn %s: Start called twice", c.remote)
	c.ex, c.h = ex, h
	c.readBuf = make([]byte, readBufMin)
	c.mu.Lock()
	c.readerActive = true
	c.mu.Unlock()
	go c.readLoop()
}

// readLoop hands each read to the executor and waits until the handler is done with it, so
// one buffer serves the whole connection and a slow handler pushes back on the peer
// through TCP flow control. While reads are paused it does not read at all: the kernel's
// buffers fill and the peer's sends stall.
func (c *conn) readLoop() {
	defer close(c.readDone)
	rw := c.ioConn()
	short := 0 // reads in a row that used less than half the buffer
	for {
		n, err := rw.Read(c.readBuf)
		if n > 0 {
			c.readN = n
			c.deliverRead()
			short = c.resizeReadBuf(n, short)
		}
		c.waitWhilePaused()
		if err != nil {
			c.readEnded(err)
			return
		}
	}
}

// resizeReadBuf grows the read buffer after a read that filled it and shrinks it after
// readShrinkAfter short ones; it returns the new count of short reads. Only the reader
// calls it, between deliveries, so no handler holds the old buffer.
func (c *conn) resizeReadBuf(n, short int) int {
	size := len(c.readBuf)
	switch {
	case n == size && size < readBufMax:
		c.readBuf = make([]byte, 2*size)
		return 0
	case n < size/2 && size > readBufMin:
		if short++; short >= readShrinkAfter {
			c.readBuf = make([]byte, size/2)
			return 0
		}
		return short
	}
	return 0
}

// deliverRead posts the read to the handler until it is taken: a pause that began after
// the read was posted sends it back, to be posted again once reads resume.
func (c *conn) deliverRead() {
	for !c.stopped.Load() {
		postInline(c.ex, c.deliverDataFn)
		if <-c.handled {
			return
		}
		c.waitWhilePaused()
	}
}

// deliverData runs on the executor. The stopped check is what makes a Close from the
// executor final even when data was already queued behind it.
func (c *conn) deliverData() {
	delivered := true
	defer func() { c.handled <- delivered }() // even if the handler halts
	switch {
	case c.stopped.Load():
	case c.readPaused.Load():
		delivered = false
	default:
		c.h.OnData(c.readBuf[:c.readN])
	}
}

// readEnded settles the connection after its read side ended and posts the one OnClose.
func (c *conn) readEnded(err error) {
	reason := c.settleAfterRead(err)
	if c.stopped.Load() {
		return
	}
	postInline(c.ex, func() {
		if c.stopped.Swap(true) {
			return // closed locally while OnClose was queued
		}
		c.h.OnClose(reason)
	})
}

// settleAfterRead picks OnClose's reason. A write failure seen first wins, because it is why
// the socket was closed under the reader. A clean EOF still lets queued bytes go out: the
// peer may have shut down only its sending side.
func (c *conn) settleAfterRead(err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readerActive = false
	if c.state == connDraining {
		c.closeLocked(nil) // the graceful close is complete (or its linger ran out)
		return nil
	}
	if c.brokenErr != nil {
		return c.brokenErr
	}
	if errors.Is(err, io.EOF) {
		c.beginClosingLocked()
		return nil
	}
	reason := classifyConnErr(err)
	c.closeLocked(reason)
	return reason
}

// Write implements env.Conn.
func (c *conn) Write(p []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.queueLocked(p); err != nil {
		return err
	}
	c.wakeWriter()
	return nil
}

// Queue implements env.Conn: like Write, but the writer is not woken; Flush sends.
func (c *conn) Queue(p []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.queueLocked(p)
}

func (c *conn) queueLocked(p []byte) error {
	if c.state != connOpen {
		if c.brokenErr != nil {
			return fmt.Errorf("write to %s: %w", c.remote, c.brokenErr)
		}
		return fmt.Errorf("write to %s: %w", c.remote, env.ErrConnClosed)
	}
	c.out.append(p)
	c.buffered.Add(int64(len(p)))
	return nil
}

// Buffered implements env.Conn. Bytes inside a write syscall that has not returned count as
// buffered: a peer that stops reading holds them there.
func (c *conn) Buffered() int { return int(c.buffered.Load()) }

// SetWriteDeadline implements env.Conn: each batch the writer sends must go out within d.
func (c *conn) SetWriteDeadline(d time.Duration) { c.writeDeadline.Store(int64(d)) }

// Close implements env.Conn. It never blocks: the writer sends what is queued, then shuts
// down the sending side, and the reader discards input until the peer closes too. Closing
// the socket at once instead would make the kernel answer any unread input with a RST,
// which can destroy the queued bytes at the peer before it reads them. Setting stopped
// first is what guarantees no event after Close returns.
func (c *conn) Close() error {
	c.stopped.Store(true)
	c.wakeReader()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.beginClosingLocked()
	return nil
}

// Abort implements env.Conn. A zero linger makes close send a RST instead of a FIN, so the
// peer learns at once that the stream is incomplete.
func (c *conn) Abort() {
	c.stopped.Store(true)
	c.wakeReader()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == connClosed {
		return
	}
	_ = c.nc.SetLinger(0) // if it fails the peer sees a FIN; nothing better is possible
	c.closeLocked(nil)
}

func (c *conn) beginClosingLocked() {
	if c.state != connOpen {
		return
	}
	c.state = connClosing
	_ = c.nc.SetWriteDeadline(time.Now().Add(closeLinger)) // fails only if closed
	c.wakeWriter()
}

// closeLocked closes the socket and drops what is pending. reason, if any, is kept for
// later Writes and for the reader's OnClose.
func (c *conn) closeLocked(reason error) {
	if c.state == connClosed {
		return
	}
	c.state = connClosed
	c.out.drop()
	c.buffered.Store(0)
	if c.brokenErr == nil {
		c.brokenErr = reason
	}
	_ = c.nc.Close() // unblocks the reader and the writer; its error says nothing new
	c.notifyDrainedLocked()
	c.wakeWriter()
	c.wakeReader()
}

func (c *conn) wakeWriter() {
	// Under load the writer is usually signalled already; the flag spares a channel
	// operation per Write.
	if c.signalled.Swap(true) {
		return
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// writeLoop sleeps until woken, then sends everything pending.
func (c *conn) writeLoop() {
	for range c.wake {
		c.signalled.Store(false) // writes from now on need a new wake-up
		if !c.flush() {
			return
		}
	}
}

// flush sends batches until nothing is pending. It reports false once the writer is done
// for good (socket closed).
func (c *conn) flush() bool {
	for {
		buf, more := c.nextBatch()
		if buf == nil {
			return more
		}
		rw := c.ioConn()
		d := time.Duration(c.writeDeadline.Load())
		if d > 0 {
			// A failure here surfaces at the write below.
			_ = rw.SetWriteDeadline(time.Now().Add(d))
		}
		_, err := writeBatch(rw, buf)
		if d > 0 && err == nil {
			// The deadline bounds this batch only: an inline Flush later (flush.go) checks
			// the socket's deadline too, and would fail once this one had passed.
			_ = rw.SetWriteDeadline(time.Time{}) // fails only if closed; the next write says so
		}
		c.batchDone(buf)
		if err != nil {
			c.fail(err)
			return false
		}
	}
}

// nextBatch swaps out everything pending as one batch: writes queued while the previous
// batch was in the kernel go out together in one syscall. With nothing pending it returns
// nil, and finishes a Close that was waiting for the queue to empty.
func (c *conn) nextBatch() (buf [][]byte, more bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.state == connClosed:
		return nil, false
	case c.writing:
		return nil, true // an inline Flush is writing; it wakes the writer when done
	case c.out.size > 0:
		buf, c.inflight = c.out.take(c.spare)
		c.spare = nil
		c.writing = true
		return buf, true
	case c.state == connClosing:
		c.finishClosingLocked()
		return nil, false
	}
	c.notifyDrainedLocked()
	return nil, true
}

// finishClosingLocked runs once everything queued has gone out. With a reader still
// running (a local Close) it half-closes and lets the reader finish the job at the peer's
// EOF; otherwise the peer has already closed its side, or no one reads, and the socket can
// close now.
func (c *conn) finishClosingLocked() {
	if !c.readerActive {
		c.closeLocked(nil)
		return
	}
	c.state = connDraining
	var err error
	if tc, ok := c.rw.(*tls.Conn); ok {
		err = tc.CloseWrite() // close_notify, then the TCP half-close
	} else {
		err = c.nc.CloseWrite()
	}
	if err != nil {
		c.closeLocked(nil)
		return
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(closeLinger)) // fails only if closed
	c.notifyDrainedLocked()
}

func (c *conn) batchDone(buf [][]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buffered.Add(-int64(c.inflight))
	c.inflight = 0
	c.writing = false
	c.out.release(buf)
	if c.state != connClosed {
		c.spare = buf[:0]
	}
	if c.out.size == 0 {
		c.notifyDrainedLocked()
	} else {
		c.checkDrainNoticeLocked()
	}
}

// fail handles a write error: the connection is broken, and the reader (woken by the close)
// reports it in OnClose.
func (c *conn) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeLocked(classifyConnErr(err))
}

// ioConn is the connection I/O goes through.
func (c *conn) ioConn() net.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rw
}

// StartTLS implements env.TLSConn: once everything queued (the INFO) has been sent, it runs
// the server side of a TLS handshake and switches the connection's I/O to the session.
func (c *conn) StartTLS(cfg *tls.Config, timeout time.Duration, ex env.Executor, done func(error)) {
	env.Assertf(!c.started.Load(), "conn %s: StartTLS after Start", c.remote)
	go c.handshake(func() *tls.Conn { return tls.Server(c.nc, cfg) }, timeout, ex, done)
}

// StartTLSClient implements env.TLSConn: the client side, for a dialled connection. The
// config is cloned so that the server name of one dial never leaks into another.
func (c *conn) StartTLSClient(cfg *tls.Config, serverName string, timeout time.Duration, ex env.Executor, done func(error)) {
	env.Assertf(!c.started.Load(), "conn %s: StartTLSClient after Start", c.remote)
	client := cfg.Clone()
	client.ServerName = serverName
	go c.handshake(func() *tls.Conn { return tls.Client(c.nc, client) }, timeout, ex, done)
}

// handshake waits until what is queued has gone out in the clear, runs the TLS handshake
// of the session newSession makes within timeout, switches the connection's I/O to it, and
// posts done. It runs on its own goroutine: a handshake blocks.
func (c *conn) handshake(newSession func() *tls.Conn, timeout time.Duration, ex env.Executor, done func(error)) {
	<-c.whenDrained()
	tc := newSession()
	_ = tc.SetDeadline(time.Now().Add(timeout)) // a failure shows in the handshake
	err := tc.Handshake()
	_ = tc.SetDeadline(time.Time{})
	if err == nil {
		st := tc.ConnectionState()
		c.mu.Lock()
		c.rw, c.tlsVersion, c.tlsCipher = tc, tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite)
		c.mu.Unlock()
	} else {
		err = fmt.Errorf("tls handshake with %s: %w", c.remote, err)
	}
	postInline(ex, func() { done(err) })
}

// TLSState implements env.TLSConn.
func (c *conn) TLSState() (version, cipher string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tlsVersion, c.tlsCipher
}

// whenDrained returns a channel closed once nothing is buffered (or the connection closed).
// It lets tests wait for the writer without polling Buffered.
func (c *conn) whenDrained() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan struct{})
	if c.state == connClosed || c.out.size+c.inflight == 0 {
		close(ch)
		return ch
	}
	c.drainWaiters = append(c.drainWaiters, ch)
	return ch
}

func (c *conn) notifyDrainedLocked() {
	for _, ch := range c.drainWaiters {
		close(ch)
	}
	c.drainWaiters = nil
	c.checkDrainNoticeLocked()
}
