package netstack

import (
	"crypto/tls"
	"errors"
	"net"
	"os"
	"time"
)

// inlineWriteWait bounds how long an inline Flush may wait for the socket: enough for the
// kernel to take bytes it has room for, too short to stall the flushing goroutine (a
// publisher's reader) behind a slow peer; the rest goes to the writer.
const inlineWriteWait = 50 * time.Microsecond

// Flush implements env.Conn. When no one is writing and the connection is plain TCP, it
// sends what is queued on the calling goroutine, which saves waking the writer goroutine
// (latency) and lets one publisher's reads batch many messages per system call; whatever
// the socket does not take at once goes back to the front of the queue for the writer.
func (c *conn) Flush() {
	c.mu.Lock()
	_, isTLS := c.rw.(*tls.Conn)
	if c.state != connOpen || c.writing || c.out.size == 0 || isTLS {
		if c.out.size > 0 {
			c.wakeWriter()
		}
		c.mu.Unlock()
		return
	}
	batch, size := c.out.take(c.spare)
	c.spare, c.inflight, c.writing = nil, size, true
	c.mu.Unlock()

	_ = c.nc.SetWriteDeadline(time.Now().Add(inlineWriteWait)) // a failure shows in the write
	rest := net.Buffers(append([][]byte(nil), batch...))
	n, err := rest.WriteTo(c.nc)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		err = nil // the socket is full: the writer sends the rest
	}

	c.mu.Lock()
	c.buffered.Add(-n)
	c.inflight, c.writing = 0, false
	written := len(batch) - len(rest)
	c.out.release(batch[:written])
	if len(rest) > 0 {
		c.out.prepend(rest)
	} else {
		c.spare = batch[:0]
	}
	if c.out.size > 0 || c.state != connOpen {
		c.wakeWriter() // more arrived meanwhile, a remainder is left, or a Close waits
	} else {
		c.notifyDrainedLocked()
	}
	c.mu.Unlock()
	if err != nil {
		c.fail(err)
	}
}
