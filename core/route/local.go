package route

import (
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/proto"
)

// Subscribe changes this server's interest: delta +1 for a new local subscription on subject
// (in queue group queue, or "" for none) in account, -1 when one goes. Every established
// route hears of it when the routes' view changes (a plain subject's first and last
// subscription, every change of a queue group's member count).
func (r *Router) Subscribe(account, subject, queue string, delta int) {
	env.Assertf(delta == 1 || delta == -1, "route: subscribe delta %d", delta)
	k := key{Account: account, Subject: subject, Queue: queue}
	n, announce := r.local.add(k, delta)
	if !announce {
		r.check()
		return
	}
	for _, peer := range env.SortedKeys(r.peers) {
		c := r.conns[r.peers[peer]]
		if n > 0 {
			c.out = c.mode.AppendSub(c.out, subOp(k, n))
		} else {
			c.out = c.mode.AppendUnsub(c.out, subOp(k, 0))
		}
	}
	r.check()
}

// Message is a message published on this server, as Publish takes it.
type Message struct {
	Account string
	Subject string // literal
	Reply   string
	Hdr     int // header length at the start of Payload, -1 without headers
	Payload []byte
}

// Publish forwards a message published by a client of this server to the routes whose peers
// have interest, and returns the queue groups of local that take it here (the engine
// delivers to one member of each, and to every local plain subscription). local lists the
// queue groups matching here, with their member counts. The returned slice is reused by the
// next call.
func (r *Router) Publish(m *Message, local []LocalGroup) []string {
	forward(r.remote.match(m.Account, m.Subject), local, r.cfg.PreferLocalQueue, r.rand.Intn, &r.plan)
	for _, t := range r.plan.Routes {
		c := r.conns[t.Conn]
		env.Assertf(c != nil && c.phase == PhaseEstablished, "route: forwarding on conn %d, which is not established", t.Conn)
		rm := proto.RoutedMsg{Account: []byte(m.Account), Subject: []byte(m.Subject), Hdr: m.Hdr, Payload: m.Payload}
		if m.Reply != "" {
			rm.Reply = []byte(m.Reply)
		}
		for _, q := range t.Queues {
			rm.Queues = append(rm.Queues, []byte(q))
		}
		c.out = c.mode.AppendMsg(c.out, &rm)
	}
	r.check()
	return r.plan.Local
}
