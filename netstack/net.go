package netstack

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// Accept backoff bounds. Accept fails persistently when the process is out of descriptors;
// retrying at once would spin a core, and waiting too long would keep clients out after
// descriptors free up.
const (
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
)

// osNet is the production env.Net, on package net's TCP.
type osNet struct {
	log    env.Logger
	chunks *chunkPool // output chunks shared by every connection of this host
}

// Listen implements env.Net.
func (n *osNet) Listen(addr string, ex env.Executor, accept func(env.Conn)) (env.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	l := &listener{ln: ln, log: n.log, ex: ex, accept: accept, chunks: n.chunks}
	go l.acceptLoop()
	return l, nil
}

// Dial implements env.Net. The dial blocks, so it runs on a goroutine of its own and only
// its outcome is posted.
func (n *osNet) Dial(addr string, timeout time.Duration, ex env.Executor, done func(env.Conn, error)) {
	go func() {
		d := net.Dialer{Timeout: timeout}
		nc, err := d.Dial("tcp", addr)
		if err != nil {
			err = classifyDialErr(err)
			postInline(ex, func() { done(nil, err) })
			return
		}
		c := newConn(nc.(*net.TCPConn), n.chunks)
		postInline(ex, func() { done(c, nil) })
	}()
}

type listener struct {
	ln     net.Listener
	log    env.Logger
	ex     env.Executor
	accept func(env.Conn)
	closed atomic.Bool
	chunks *chunkPool
}

// Addr implements env.Listener.
func (l *listener) Addr() string { return l.ln.Addr().String() }

// Close implements env.Listener. The flag is set before the socket closes so that a
// connection accepted just before, whose accept is still queued, is dropped rather than
// handed to an engine that has stopped listening.
func (l *listener) Close() error {
	if l.closed.Swap(true) {
		return nil
	}
	return l.ln.Close()
}

func (l *listener) acceptLoop() {
	backoff := acceptBackoffMin
	for {
		nc, err := l.ln.Accept()
		if err != nil {
			if l.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			l.log.Logf(env.LevelWarn, "accept on %s: %v; retrying in %v", l.Addr(), err, backoff)
			time.Sleep(backoff)
			backoff = min(2*backoff, acceptBackoffMax)
			continue
		}
		backoff = acceptBackoffMin
		c := newConn(nc.(*net.TCPConn), l.chunks)
		postInline(l.ex, func() { l.deliver(c) })
	}
}

// deliver runs on the listener's executor.
func (l *listener) deliver(c *conn) {
	if l.closed.Load() {
		c.Abort()
		return
	}
	l.accept(c)
}

// classifyDialErr puts the contract's sentinel in front of the net error, keeping both in
// the chain.
func classifyDialErr(err error) error {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w: %w", env.ErrRefused, err)
	case isTimeout(err):
		return fmt.Errorf("%w: %w", env.ErrTimeout, err)
	}
	return err
}

// classifyConnErr says why an established connection broke: a timeout (keepalive or
// retransmission gave up, or a deadline passed) or, for anything else, a reset.
func classifyConnErr(err error) error {
	if isTimeout(err) {
		return fmt.Errorf("%w: %w", env.ErrTimeout, err)
	}
	return fmt.Errorf("%w: %w", env.ErrReset, err)
}

func isTimeout(err error) bool {
	if errors.Is(err, syscall.ETIMEDOUT) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
