package netstack

import (
	"crypto/tls"
	"syscall"
)

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

	rest, n, err := c.tryWrite(batch)

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
		c.checkDrainNoticeLocked()
	} else {
		c.notifyDrainedLocked()
	}
	c.mu.Unlock()
	if err != nil {
		c.fail(err)
	}
}

// tryWrite writes as much of batch as the socket takes without waiting: the descriptor is
// non-blocking, and returning true from the raw write callback means "do not wait for the
// poller". It returns the unsent remainder (the first element possibly a chunk's tail).
func (c *conn) tryWrite(batch [][]byte) (rest [][]byte, n int64, err error) {
	raw, err := c.nc.SyscallConn()
	if err != nil {
		return batch, 0, err
	}
	rest = batch
	werr := raw.Write(func(fd uintptr) bool {
		for len(rest) > 0 {
			k, e := syscall.Write(int(fd), rest[0])
			if k > 0 {
				n += int64(k)
				if k < len(rest[0]) {
					rest[0] = rest[0][k:]
					return true // the socket is full: the writer sends the rest
				}
				rest = rest[1:]
			}
			if e == syscall.EINTR {
				continue
			}
			if e == syscall.EAGAIN {
				return true
			}
			if e != nil {
				err = e
				return true
			}
		}
		return true
	})
	if err == nil {
		err = werr
	}
	return rest, n, err
}
