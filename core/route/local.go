package route

import (
	"fmt"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/proto"
)

// Subscribe changes this server's interest: delta +1 for a new local subscription on subject
// (in queue group queue, or "" for none) in account, -1 when one goes. Every peer hears of
// it, on the connection carrying the account (pool.go), when the routes' view changes (a
// plain subject's first and last subscription, every change of a queue group's member
// count), and so of the interest the subscription stands for in other accounts
// (SetShadows). A peer whose connection for an account is down hears of it in the interest
// dump of the connection that replaces it.
func (r *Router) Subscribe(account, subject, queue string, delta int) {
	env.Assertf(delta == 1 || delta == -1, "route: subscribe delta %d", delta)
	k := key{Account: account, Subject: subject, Queue: queue}
	l := r.local
	before := l.own[k]
	if before == 0 && delta > 0 {
		l.setShadows(k, r.deriveShadows(k))
	}
	shadows := l.shadows[k]
	l.addOwn(k, delta)
	r.announce(k, delta)
	for _, s := range shadows {
		r.announce(s, delta)
	}
	r.check()
}

// Message is a message published on this server, as Publish takes it. The byte slices are
// only read during the call.
type Message struct {
	Account string
	Subject []byte // literal
	Reply   []byte // nil without one
	Hdr     int    // header length at the start of Payload, -1 without headers
	Payload []byte
}

// Publish forwards a message published by a client of this server to the routes whose peers
// have interest, and returns the queue groups of local that take it here (the engine
// delivers to one member of each, and to every local plain subscription). local lists the
// queue groups matching here, with their member counts. The returned slice is reused by the
// next call.
//
// Publish is the hot path of a cluster: every client message goes through it, so it
// allocates nothing once warm and checks only what it relies on (the whole invariant check
// runs in the invariants build).
func (r *Router) Publish(m *Message, local []LocalGroup) []string {
	forward(r.remote.match(m.Account, m.Subject), local, r.cfg.PreferLocalQueue, r.rand.Intn, &r.plan)
	if len(r.plan.Routes) == 0 {
		return r.plan.Local
	}
	rm := &r.scratch
	*rm = proto.RoutedMsg{Account: r.accountBytes(m.Account), Subject: m.Subject, Reply: m.Reply,
		Hdr: m.Hdr, Payload: m.Payload, Queues: rm.Queues[:0]}
	for _, t := range r.plan.Routes {
		c := r.conns[t.Conn]
		if c == nil || c.phase != PhaseEstablished {
			panic(fmt.Sprintf("route: forwarding on conn %d, which is not established", t.Conn))
		}
		rm.Queues = rm.Queues[:0]
		for _, q := range t.Queues {
			rm.Queues = append(rm.Queues, r.internName(q).b)
		}
		c.out = c.mode.AppendMsg(c.out, rm)
		c.outMsgs++
		c.outBytes += int64(len(m.Payload))
		c.lastActivity = r.now
	}
	if env.Invariants {
		r.check()
	}
	return r.plan.Local
}

// accountBytes is an account's name as the encoder takes it, kept so a publish does not
// convert it again. Names (of accounts and queue groups) stay until the table passes
// maxNames, then it starts over (they come and go rarely).
func (r *Router) accountBytes(name string) []byte { return r.internName(name).b }

// internedName is one interned name (an account's, a queue group's), in both forms, with
// what routing an account by it needs: its pool hash and whether it is pinned, computed
// once per name rather than per message.
type internedName struct {
	str    string
	b      []byte
	hash   uint32
	pinned bool
}

// internName returns name's interned form, interning it.
func (r *Router) internName(name string) internedName {
	if n, ok := r.names[name]; ok {
		return n
	}
	if len(r.names) >= maxNames {
		clear(r.names)
	}
	n := internedName{str: name, b: []byte(name), hash: accountHash(name), pinned: r.pinned[name]}
	r.names[name] = n
	return n
}

const maxNames = 4096
