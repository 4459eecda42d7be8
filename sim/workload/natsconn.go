package workload

import (
	"slices"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/sim/natsclient"
)

// natsConn keeps one natsclient connection to the server up for a workload program: it
// dials, hands each connection to up, and after a loss (reported to down) dials again.
// A keepalive PING unanswered for natsPingTimeout drops a half-open connection. With
// failover set, a lost connection or a failed dial moves on to another server of the
// cluster, drawn from the ones it knows (its first address and every connect_urls the
// servers announced), as nats.go does with its server pool.
type natsConn struct {
	e        *env.Env
	ex       env.Executor
	addr     string
	failover bool
	known    []string // servers learnt for failover, in the order first heard of
	opts     natsclient.Options
	up       func(*natsclient.Client)
	down     func()
	conn     *natsclient.Client
	pinged   bool
	pingAt   time.Duration
}

func (n *natsConn) start() { n.ex.Post(n.dial) }

func (n *natsConn) dial() {
	natsclient.Dial(n.e, n.ex, n.addr, n.opts, func(c *natsclient.Client, err error) {
		if err != nil {
			n.moveOn()
			n.retry()
			return
		}
		n.learn(c)
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
	n.learn(c) // async INFOs since the connect
	n.moveOn()
	n.retry()
}

// learn adds the servers a connection's INFO announced to the known ones.
func (n *natsConn) learn(c *natsclient.Client) {
	if !n.failover {
		return
	}
	if len(n.known) == 0 {
		n.known = []string{n.addr}
	}
	urls, _ := c.Info["connect_urls"].([]any)
	for _, u := range urls {
		if s, ok := u.(string); ok && !slices.Contains(n.known, s) {
			n.known = append(n.known, s)
		}
	}
}

// moveOn picks another known server for the next dial.
func (n *natsConn) moveOn() {
	if !n.failover || len(n.known) < 2 {
		return
	}
	others := slices.DeleteFunc(slices.Clone(n.known), func(s string) bool { return s == n.addr })
	n.addr = others[n.e.Rand.Intn(len(others))]
	n.e.Probe.Hit("nats.client.failover")
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
