package core

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/petrel-io/petrel/core/account"
	"github.com/petrel-io/petrel/core/auth"
	"github.com/petrel-io/petrel/core/bus"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/proto"
	"github.com/petrel-io/petrel/core/subject"
	"github.com/petrel-io/petrel/core/sublist"
)

// subscription is one SUB of a client.
type subscription struct {
	entry     sublist.Sub
	client    *client
	acc       *account.Account // whose index holds entry: the client's account (under client.mu)
	handler   bus.Handler      // an internal subscription's (core/internal.go); nil for a client's
	handlerEx bus.Executor     // where handler runs
	sid       string
	max       atomic.Int64 // auto-unsubscribe after this many deliveries; 0 means none
	delivered atomic.Int64
}

// publish routes one message from c (on c's executor) to every matching subscription: all
// plain ones, and one member of each queue group. It returns how many took it.
func (c *client) publish(r *sublist.Result, subj, reply []byte, hdr int, msg []byte) int {
	return c.publishGroups(r, groupsHere{all: true}, subj, reply, hdr, msg)
}

// publishGroups delivers to every plain subscription of r and one member of each group of
// r that here says is served on this server (a cluster serves some groups on other
// servers).
func (c *client) publishGroups(r *sublist.Result, here groupsHere, subj, reply []byte, hdr int, msg []byte) int {
	delivered := 0
	for _, e := range r.Plain {
		if c.deliver(e.Owner.(*subscription), subj, reply, hdr, msg) {
			delivered++
		}
	}
	for _, g := range r.Groups {
		if !here.has(g.Name) {
			continue
		}
		if c.deliverToGroup(g.Subs, subj, reply, hdr, msg) {
			delivered++
		}
	}
	return delivered
}

// deliverToGroup picks a random member, trying the others in turn if it cannot take the
// message (closed, done, or this client's own with echo off).
func (c *client) deliverToGroup(members []*sublist.Sub, subj, reply []byte, hdr int, msg []byte) bool {
	start := c.rng.Intn(len(members))
	for i := range members {
		if c.deliver(members[(start+i)%len(members)].Owner.(*subscription), subj, reply, hdr, msg) {
			if i > 0 {
				c.srv.env.Probe.Hit("core.queue.next-member")
			}
			return true
		}
	}
	return false
}

// deliver queues one message for a subscription's client, or reports false when that
// client cannot take it (closed, done, or the publisher itself with echo off). It runs on
// the publisher's executor and touches only what is safe from there.
func (c *client) deliver(sub *subscription, subj, reply []byte, hdr int, msg []byte) bool {
	if sub.handler != nil {
		return c.deliverInternal(sub, subj, reply, hdr, msg)
	}
	dst := sub.client
	if dst == c && !c.echo {
		c.srv.env.Probe.Hit("core.echo.suppressed")
		return false
	}
	if dst.closed.Load() {
		return false
	}
	if perms := dst.perms.Load(); perms != nil && perms.DeniesDelivery(string(subj)) {
		return false // withheld, not delivered: it does not count toward an auto-unsubscribe
	}
	if dst.conn.Buffered() > c.srv.stallAt && c.srv.cfg().NoFastProducerStall {
		return false // flow control is off: the lagging subscriber misses it instead
	}
	if max := sub.max.Load(); max > 0 {
		n := sub.delivered.Add(1)
		if n > max {
			return false
		}
		if n == max {
			c.srv.env.Probe.Hit("core.unsub.max-reached")
			dst.removeSub(sub)
		}
	} else {
		sub.delivered.Add(1)
	}
	if hdr >= 0 && !dst.headers.Load() {
		c.srv.env.Probe.Hit("core.headers.stripped")
		msg, hdr = msg[hdr:], -1
	}
	c.scratch = proto.AppendMsg(c.scratch[:0], subj, sub.sid, reply, hdr, msg)
	if dst.trace.Load() {
		dst.traceLine("->>", c.scratch)
	}
	if dst.conn.Queue(c.scratch) != nil {
		return false
	}
	c.touch(dst)
	dst.outMsgs.Add(1)
	dst.outBytes.Add(int64(len(msg)))
	c.batch.outMsgs++
	c.batch.outBytes += int64(len(msg))
	if r := dst.replies.Load(); r != nil && len(reply) > 0 {
		r.grant(string(reply), c.srv.env.Clock.Mono())
	}
	if int64(dst.conn.Buffered()) > c.srv.cfg().MaxPending {
		dst.slowConsumer()
	}
	return true
}

// slowConsumer cuts off a client whose unsent bytes passed max_pending; nats-server sends
// no -ERR for this.
func (c *client) slowConsumer() {
	if c.closed.Swap(true) {
		return
	}
	c.srv.stats.slowConsumers.Add(1)
	c.srv.env.Probe.Hit("core.slow-consumer")
	c.srv.log.Logf(env.LevelWarn, "%s:%d - cid:%d - Slow Consumer Detected: MaxPending of %d Exceeded", c.host, c.port, c.cid, c.srv.cfg().MaxPending)
	c.closeAsync(reasonSlowPending)
}

// The 503 status block, as nats-server sends it: the status line, then a Nats-Subject
// header naming the request's subject, then the blank line.
const (
	noRespondersStatus = "NATS/1.0 503\r\n"
	noRespondersSubj   = "Nats-Subject: "
)

// appendNoResponders appends the 503 header block for a request to subj.
func appendNoResponders(dst, subj []byte) []byte {
	dst = append(dst, noRespondersStatus...)
	dst = append(dst, noRespondersSubj...)
	dst = append(dst, subj...)
	return append(dst, "\r\n\r\n"...)
}

// sendNoResponders answers a request nobody took with a 503 status message on the
// requester's own first subscription to the reply subject, naming the request's subject in
// a Nats-Subject header as nats-server does. A reply subject is matched like a routable
// publish subject, and never through the cache, which holds only validated subjects.
func (c *client) sendNoResponders(subj, reply []byte) {
	if !subject.Routable(string(reply)) {
		return
	}
	for _, e := range c.acc.Subs.MatchUncached(string(reply)).Plain {
		sub := e.Owner.(*subscription)
		if sub.client == c {
			c.srv.env.Probe.Hit("core.no-responders")
			hdr := appendNoResponders(nil, subj)
			c.scratch = proto.AppendMsg(c.scratch[:0], reply, sub.sid, nil, len(hdr), hdr)
			c.write(c.scratch)
			return
		}
	}
}

// replyPerms tracks reply subjects a client was sent and may publish to (allow_responses).
type replyPerms struct {
	mu      sync.Mutex
	limit   auth.ResponsePermission
	entries map[string]*replyGrant
}

type replyGrant struct {
	left    int
	expires time.Duration
}

// replyPermsMax bounds the reply subjects remembered per client; when it is reached, new
// grants are refused until old ones expire.
const replyPermsMax = 4096

func newReplyPerms(limit *auth.ResponsePermission) *replyPerms {
	l := *limit
	if l.MaxMsgs <= 0 {
		l.MaxMsgs = auth.DefaultResponseMaxMsgs
	}
	return &replyPerms{limit: l, entries: map[string]*replyGrant{}}
}

func (r *replyPerms) grant(reply string, now time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.entries) >= replyPermsMax {
		r.expire(now)
		if len(r.entries) >= replyPermsMax {
			return
		}
	}
	g := &replyGrant{left: r.limit.MaxMsgs}
	if r.limit.Expires > 0 {
		g.expires = now + r.limit.Expires
	}
	r.entries[reply] = g
}

func (r *replyPerms) use(reply string, now time.Duration) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	g := r.entries[reply]
	if g == nil || (g.expires > 0 && now > g.expires) {
		delete(r.entries, reply)
		return false
	}
	if g.left--; g.left <= 0 {
		delete(r.entries, reply)
	}
	return true
}

// expire drops grants past their time. The map order does not matter: every expired entry
// goes.
func (r *replyPerms) expire(now time.Duration) {
	for k, g := range r.entries {
		if g.expires > 0 && now > g.expires {
			delete(r.entries, k)
		}
	}
}

// touchedLinear is how many touched clients a read tracks by scanning before it switches to
// a set: most reads fan out to a few clients, and a scan of a few is cheaper than a map.
const touchedLinear = 8

// touch records that dst has queued output from this read, to flush once at its end.
func (c *client) touch(dst *client) {
	if len(c.touched) < touchedLinear {
		for _, t := range c.touched {
			if t == dst {
				return
			}
		}
	} else {
		if c.touchedSet == nil {
			c.touchedSet = make(map[*client]struct{}, 2*touchedLinear)
		}
		if len(c.touchedSet) == 0 {
			for _, t := range c.touched {
				c.touchedSet[t] = struct{}{}
			}
		}
		if _, ok := c.touchedSet[dst]; ok {
			return
		}
		c.touchedSet[dst] = struct{}{}
	}
	c.touched = append(c.touched, dst)
}

// flushTouched sends what this read queued, one Flush per client, in the order the
// clients were first touched.
func (c *client) flushTouched() {
	for i, dst := range c.touched {
		dst.conn.Flush()
		c.noteBacklog(dst)
		c.touched[i] = nil
	}
	c.touched = c.touched[:0]
	clear(c.touchedSet)
	if len(c.routing.touched) > 0 {
		c.flushRoutes()
	}
}
