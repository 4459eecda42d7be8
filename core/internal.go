package core

import (
	"fmt"
	"sync"

	"github.com/petrel-io/petrel/core/account"
	"github.com/petrel-io/petrel/core/bus"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/subject"
	"github.com/petrel-io/petrel/core/sublist"
)

// The internal bus (core/bus): the server's own subscriptions sit in the accounts' indexes
// like any client's, owned by the internal client, a client without a connection that
// lives on the server's executor. Handlers run there too, one at a time.

// inboxPrefix starts the reply subjects clients make up for requests (nats.go's default).
const inboxPrefix = "_INBOX."

// newInternalClient is the publisher of the server's own messages and the owner of its
// subscriptions.
func (s *Server) newInternalClient() *client {
	return &client{srv: s, ex: s.ex, rng: env.NewPRNG(s.env.Rand.Uint64()), echo: true,
		subs: map[string]*subscription{}, acc: s.accountOf(nil)}
}

// Bus is the server's internal bus.
func (s *Server) Bus() bus.Bus { return (*internalBus)(s) }

type internalBus Server

type internalSub struct{ sub *subscription }

func (i internalSub) Unsubscribe() {
	if i.sub.acc.Subs.Remove(&i.sub.entry) {
		i.sub.client.srv.serviceRemoved(i.sub)
	}
}

func (b *internalBus) Subscribe(account, subj, queue string, h bus.Handler) (bus.Subscription, error) {
	return b.SubscribeOn(account, subj, queue, (*Server)(b).ex, h)
}

func (b *internalBus) SubscribeOn(account, subj, queue string, ex bus.Executor, h bus.Handler) (bus.Subscription, error) {
	s := (*Server)(b)
	acc := s.cfg().accounts.Get(account)
	switch {
	case acc == nil:
		return nil, fmt.Errorf("core: internal subscription: unknown account %q", account)
	case !subject.ValidSubscribe(subj) || !validQueue(queue):
		return nil, fmt.Errorf("core: internal subscription: invalid subject %q or queue %q", subj, queue)
	}
	sub := &subscription{client: s.internal, acc: acc, handler: h, handlerEx: ex}
	sub.sid = fmt.Sprintf("$%d", s.internalSids.Add(1))
	sub.entry = sublist.Sub{Subject: subj, Queue: queue, Owner: sub}
	acc.Subs.Insert(&sub.entry)
	s.serviceAdded(sub)
	return internalSub{sub}, nil
}

func (b *internalBus) Publish(account, subj, reply string, header, data []byte) {
	b.Deliver(account, subj, subj, reply, header, data)
}

func (b *internalBus) Deliver(account, to, subj, reply string, header, data []byte) {
	s := (*Server)(b)
	if s.internalOut.push(newInternalMsg(account, to, subj, reply, header, data)) {
		s.ex.Post(s.drainInternal)
	}
}

func (b *internalBus) Batch() bus.Batch { return &deliveryBatch{s: (*Server)(b)} }

// deliveryBatch queues deliveries at once and wakes the server's executor at Flush: woken
// at the first, it drained and wrote a few messages at a time while the consumer was still
// queueing the rest of its turn.
type deliveryBatch struct {
	s    *Server
	owed bool // a delivery found the queue empty: nobody has posted its drain yet
}

func (d *deliveryBatch) Deliver(account, to, subj string, reply, header, data []byte) {
	if d.s.internalOut.push(newInternalMsg(account, to, subj, reply, header, data)) {
		d.owed = true
	}
}

func (d *deliveryBatch) Flush() {
	if d.owed {
		d.owed = false
		d.s.ex.Post(d.s.drainInternal)
	}
}

// newInternalMsg copies a message for the internal queue.
func newInternalMsg[R ~string | ~[]byte](account, to, subj string, reply R, header, data []byte) internalMsg {
	// One allocation holds the subject and reply as the delivery writes them, and the
	// message: a consumer's delivery made three before.
	buf := make([]byte, 0, len(subj)+len(reply)+len(header)+len(data))
	buf = append(append(buf, subj...), reply...)
	hdr := -1
	if len(header) > 0 {
		hdr = len(header)
		buf = append(buf, header...)
	}
	buf = append(buf, data...)
	m := internalMsg{account: account, to: to, subj: subj, hdr: hdr,
		subjBytes: buf[:len(subj):len(subj)], msg: buf[len(subj)+len(reply):]}
	if len(reply) > 0 {
		m.reply = buf[len(subj) : len(subj)+len(reply) : len(subj)+len(reply)]
	}
	return m
}

// internalMsg is one internal publish waiting for the server's executor.
type internalMsg struct {
	account, to, subj string
	subjBytes, reply  []byte // subj as bytes; the reply subject (nil: none)
	hdr               int
	msg               []byte
}

// internalQueue gathers the internal publishes made from any executor (a stream's PubAcks, a
// consumer's deliveries) so the server's executor routes them in batches and writes each
// touched connection once per batch, not once per message: a group commit that completes a
// thousand publishes answers them in a few writes.
type internalQueue struct {
	mu   sync.Mutex
	msgs []internalMsg
}

// push queues m and reports whether the queue was empty (a drain must be posted).
func (q *internalQueue) push(m internalMsg) bool {
	q.mu.Lock()
	first := len(q.msgs) == 0
	q.msgs = append(q.msgs, m)
	q.mu.Unlock()
	return first
}

// take empties the queue.
func (q *internalQueue) take() []internalMsg {
	q.mu.Lock()
	defer q.mu.Unlock()
	msgs := q.msgs
	q.msgs = nil
	return msgs
}

// inboxMatch remembers, within one drain, the match of the last inbox delivered to.
type inboxMatch struct {
	acc *account.Account
	to  string
	r   *sublist.Result
}

// drainInternal routes every queued internal publish, then flushes once.
func (s *Server) drainInternal() {
	var last inboxMatch
	for _, m := range s.internalOut.take() {
		s.publishInternal(&m, &last)
	}
	c := s.internal
	c.flushTouched()
	clear(c.flow.over) // the server's executor never stalls for a subscriber
	c.flow.over = c.flow.over[:0]
	c.flushStats()
}

func (b *internalBus) HasInterest(account, subj string) bool {
	acc := (*Server)(b).cfg().accounts.Get(account)
	if acc == nil || !subject.ValidPublish(subj) {
		return false
	}
	r := acc.Subs.MatchUncached(subj) // inbox subjects would only crowd the cache
	return len(r.Plain) > 0 || len(r.Groups) > 0
}

func (b *internalBus) HasSubscription(account, subj string) bool {
	acc := (*Server)(b).cfg().accounts.Get(account)
	if acc == nil || !subject.ValidPublish(subj) {
		return false
	}
	for _, sub := range acc.Subs.MatchUncached(subj).Plain {
		if sub.Subject == subj {
			return true
		}
	}
	return false
}

// publishInternal delivers a message of the server's in account, on the server's executor,
// as a client's publish there would go (its imports included, not its mappings; through the
// cluster's routes too). It is matched on to and shows subj (the same but for JetStream's
// deliveries). The caller flushes (drainInternal), routes included.
func (s *Server) publishInternal(m *internalMsg, last *inboxMatch) {
	to, subj, rb, hdr, msg := m.to, m.subj, m.reply, m.hdr, m.msg
	acc := s.cfg().accounts.Get(m.account)
	if acc == nil || !subject.ValidPublish(to) {
		return
	}
	c := s.internal
	c.acc = acc
	var r *sublist.Result
	switch {
	case to == subj && usedOnce(m.subjBytes): // an answer to a request (a PubAck)
		acc.Subs.MatchUncachedInto(to, &c.onceMatch)
		r = &c.onceMatch
	case to == subj:
		r = acc.Subs.Match(to)
	case last.acc == acc && last.to == to:
		r = last.r // a batch of deliveries to one inbox is matched once
	default:
		r = acc.Subs.MatchUncached(to) // a consumer's inbox would only crowd the cache
		*last = inboxMatch{acc: acc, to: to, r: r}
	}
	if rt := s.clusterRoutes(); rt != nil && to == subj {
		// Through the cluster as a client's publish goes: a system service's answer to a
		// requester on another node, an event for a listener there. A delivery shown under
		// another subject (JetStream's, to != subj) stays here: an RMSG carries one subject.
		c.publishRouted(rt, acc, r, m.subjBytes, rb, hdr, msg, true)
	} else {
		c.publish(r, m.subjBytes, rb, hdr, msg)
	}
	if routes := acc.Routes(); !routes.Empty() && to == subj {
		c.crossAccounts(acc, routes, m.subjBytes, rb, hdr, msg, 0, hopAll)
		c.streamGroups = nil
	} else if !routes.Empty() && routes.Answers {
		c.answerDelivery(acc, to, subj, rb, hdr, msg)
	}
}

// answerDelivery takes a JetStream delivery to a reply subject that a service import made
// up (a pull request that came through an import, as a sourcing stream in another account
// sends) back to the requester's reply subject, showing the stored subject as nats-server
// does. One hop: the requester's own reply is delivered in its account as it is.
func (c *client) answerDelivery(acc *account.Account, to, subj string, reply []byte, hdr int, msg []byte) {
	if !account.IsReply([]byte(to)) {
		return
	}
	if dst, inbox, sample, ok := acc.Answer([]byte(to), c.srv.env.Clock.Mono()); ok {
		c.srv.env.Probe.Hit("core.account.service-response")
		if sample != nil {
			c.srv.latencySample(acc, sample)
		}
		c.publish(dst.Subs.MatchUncached(inbox), []byte(subj), reply, hdr, msg)
	}
}

// deliverInternal hands a message to an internal subscription's handler, on the server's
// executor, with copies of the bytes (the publisher reuses its buffers).
func (c *client) deliverInternal(sub *subscription, subj, reply []byte, hdr int, msg []byte) bool {
	m := bus.Msg{Account: sub.acc.Name(), Subject: string(subj), Reply: string(reply)}
	if hdr >= 0 {
		m.Header, m.Data = append([]byte(nil), msg[:hdr]...), append([]byte(nil), msg[hdr:]...)
	} else {
		m.Data = append([]byte(nil), msg...)
	}
	if c.conn != nil { // not the server's own publish, nor one that came over a route
		m.From = &bus.Client{CID: c.cid, Account: c.acc.Name(), Name: c.info.Name, Host: c.host}
		if c.user != nil {
			m.From.User = c.user.Name
		}
	}
	sub.delivered.Add(1)
	h := sub.handler
	sub.handlerEx.Post(func() { h(m) })
	return true
}
