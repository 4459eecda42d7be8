package workload

import (
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/sim/natsclient"
)

// natsConn keeps one natsclient connection to the server up for a workload program: it
// dials, hands each connection to up, and after a loss (reported to down) dials again.
// A keepalive PING unanswered for natsPingTimeout drops a half-open connection.
type natsConn struct {
	e      *env.Env
	ex     env.Executor
	addr   string
	opts   natsclient.Options
	up     func(*natsclient.Client)
	down   func()
	conn   *natsclient.Client
	pinged bool
	pingAt time.Duration
}

func (n *natsConn) start() { n.ex.Post(n.dial) }

func (n *natsConn) dial() {
	natsclient.Dial(n.e, n.ex, n.addr, n.opts, func(c *natsclient.Client, err error) {
		if err != nil {
			n.retry()
			return
		}
		n.conn, n.pinged = c, false
		c.OnClose = func(error) { n.lost(c) }
		n.up(c)
		n.e.Clock.AfterFunc(natsPingEvery, n.ex, func() { n.keepalive(c) })
	})
}

func (n *natsConn) retry() {
	n.e.Clock.AfterFunc(time.Duration(50+n.e.Rand.Intn(100))*time.Millisecond, n.ex, n.dial)
}

func (n *natsConn) lost(c *natsclient.Client) {
	if n.conn != c {
		return
	}
	n.conn = nil
	n.down()
	n.retry()
}

func (n *natsConn) keepalive(c *natsclient.Client) {
	if c.Closed() || n.conn != c {
		return
	}
	now := n.e.Clock.Mono()
	if n.pinged && now-n.pingAt > natsPingTimeout {
		c.Abort()
		n.lost(c)
		return
	}
	if !n.pinged {
		n.pinged, n.pingAt = true, now
		c.Flush(func() { n.pinged = false })
	}
	n.e.Clock.AfterFunc(natsPingEvery, n.ex, func() { n.keepalive(c) })
}
