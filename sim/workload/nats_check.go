package workload

import (
	"fmt"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/subject"
	"github.com/petrel-io/petrel/sim"
	"github.com/petrel-io/petrel/sim/natsclient"
)

type natsMsgKey struct {
	client int
	gen    uint32
	seq    uint64
}

type natsSubKey struct {
	client int
	gen    uint32
	sid    string
}

type natsPub struct {
	subject string
	sentAt  time.Duration
	header  string // the header block it was published with ("" for PUB)
}

type natsSub struct {
	key         natsSubKey
	spec        natsSubSpec
	confirmedAt time.Duration // -1 until the PONG after SUB came back
	lost        bool          // its connection ended
	natsSubCount
}

type natsOrderKey struct {
	sub       natsSubKey
	pubClient int
	pubGen    uint32
}

// natsMaxLatency bounds publish-to-delivery time in strict seeds (links take at most
// a few milliseconds each).
const natsMaxLatency = 100 * time.Millisecond

// natsChecker sees every publish and delivery as it happens, in virtual time.
type natsChecker struct {
	w          *sim.World
	strict     bool
	maxLatency time.Duration // publish to delivery, checked in strict seeds
	pubs       map[natsMsgKey]*natsPub
	pubOrder   []natsMsgKey
	subs       map[natsSubKey]*natsSub
	subOrder   []natsSubKey
	seen       map[natsSubKey]map[natsMsgKey]bool
	lastSeq    map[natsOrderKey]uint64
	requests   map[string]*natsRequest // by reply subject
	reqOrder   []string
	conns      map[natsConnKey]natsConnOpts
	mayLose    map[int]bool // clients that may lose a connection in a strict seed (a stuck reader cut off)
	// judgeFrom: messages sent from then on are owed exactly-once delivery (strict seeds
	// from the start; the cluster workload from when its mesh formed, or from its liveness
	// point); negative: none are.
	judgeFrom time.Duration
	// settle is how long a confirmed subscription's interest takes to reach every server
	// (0 on one server): only then is it owed messages.
	settle time.Duration
	// account names each client's account; nil: every client is in one account.
	account map[int]string
	// imports are stream imports between the accounts (the cluster workload's).
	imports []natsImport
}

// natsImport is a stream import without a transform: what account from publishes on a
// subject matching subject also reaches account to's subscriptions, under that subject.
type natsImport struct {
	from, to, subject string
}

// natsRequest is a request's subject and whether a 503 came back for it.
type natsRequest struct {
	subject string
	sentAt  time.Duration
	got503  bool
	from    natsConnKey // the requester's connection
}

func newNatsChecker(w *sim.World, strict bool) *natsChecker {
	return &natsChecker{
		w: w, strict: strict, maxLatency: natsMaxLatency, pubs: map[natsMsgKey]*natsPub{}, subs: map[natsSubKey]*natsSub{},
		seen: map[natsSubKey]map[natsMsgKey]bool{}, lastSeq: map[natsOrderKey]uint64{},
		requests: map[string]*natsRequest{}, conns: map[natsConnKey]natsConnOpts{}, mayLose: map[int]bool{},
		judgeFrom: map[bool]time.Duration{true: 0, false: -1}[strict],
	}
}

// judged says whether a message sent at sentAt is owed exactly-once delivery.
func (c *natsChecker) judged(sentAt time.Duration) bool {
	return c.judgeFrom >= 0 && sentAt >= c.judgeFrom
}

// propagated says whether s's interest had reached every server by at.
func (c *natsChecker) propagated(s *natsSub, at time.Duration) bool {
	return s.confirmedAt >= 0 && s.confirmedAt+c.settle <= at
}

// reaches says whether a message client from publishes on subj may reach client to's
// subscriptions: both in one account, or through a stream import (nothing else crosses).
func (c *natsChecker) reaches(from, to int, subj string) bool {
	if c.account == nil || c.account[from] == c.account[to] {
		return true
	}
	for _, im := range c.imports {
		if im.from == c.account[from] && im.to == c.account[to] && subject.Match(subj, im.subject) {
			return true
		}
	}
	return false
}

func (c *natsChecker) now() time.Duration { return c.w.Now() }

func (c *natsChecker) published(k natsMsgKey, subj string) { c.publishedWith(k, subj, "") }

// publishedWith records a message published with a header block (HPUB), or none ("").
func (c *natsChecker) publishedWith(k natsMsgKey, subj, header string) {
	_, dup := c.pubs[k]
	env.Assertf(!dup, "nats: message %v published twice", k)
	c.pubs[k] = &natsPub{subject: subj, sentAt: c.w.Now(), header: header}
	c.pubOrder = append(c.pubOrder, k)
}

func (c *natsChecker) subscribed(k natsSubKey, spec natsSubSpec) {
	c.subs[k] = &natsSub{key: k, spec: spec, confirmedAt: -1, natsSubCount: natsSubCount{max: spec.max, unsubAt: -1}}
	c.subOrder = append(c.subOrder, k)
	c.seen[k] = map[natsMsgKey]bool{}
}

func (c *natsChecker) confirmed(keys []natsSubKey) {
	for _, k := range keys {
		if s := c.subs[k]; s != nil && s.confirmedAt < 0 {
			s.confirmedAt = c.w.Now()
		}
	}
}

func (c *natsChecker) connLost(client int, gen uint32) {
	env.Assertf(!c.strict || c.mayLose[client], "nats: client c%d lost connection %d in a seed without network faults", client+1, gen)
	env.Assertf(c.strict || !c.judged(c.w.Now()), "nats: client c%d lost connection %d at %v, after the liveness point %v", client+1, gen, c.w.Now(), c.judgeFrom)
	for _, k := range c.subOrder {
		if k.client == client && k.gen == gen {
			c.subs[k].lost = true
		}
	}
}

func (c *natsChecker) requested(reply, subj string, from natsConnKey) {
	c.requests[reply] = &natsRequest{subject: subj, sentAt: c.w.Now(), from: from}
	c.reqOrder = append(c.reqOrder, reply)
}

// noResponders checks a 503: it answers a request of this connection, once, and (when no
// faults could have removed subscriptions) no subscription confirmed before the request
// matched its subject.
func (c *natsChecker) noResponders(reply string) {
	r := c.requests[reply]
	env.Assertf(r != nil, "nats: a 503 for %s, which no request used", reply)
	env.Assertf(!r.got503, "nats: two 503s for %s", reply)
	r.got503 = true
	if !c.judged(r.sentAt) {
		return
	}
	for _, k := range c.subOrder {
		s := c.subs[k]
		if s.lost || c.cannotReceive(s, r.from, r.sentAt) || !c.reaches(r.from.client, k.client, r.subject) {
			continue // its connection ended, the requester's own with echo off, unsubscribed, or in another account
		}
		if subject.Match(r.subject, s.spec.pattern) && c.propagated(s, r.sentAt) {
			env.Assertf(false, "nats: 503 for a request on %s from %v sent at %v, but subscription %q (%v) was there, confirmed at %v",
				r.subject, r.from, r.sentAt, s.spec.pattern, k, s.confirmedAt)
		}
	}
}

// delivered checks one message the moment it reaches a subscription.
func (c *natsChecker) delivered(k natsSubKey, m *natsclient.Msg) {
	sub := c.subs[k]
	env.Assertf(sub != nil, "nats: delivery to unknown subscription %v", k)
	mk, subj, ok := decodeNatsMsg(m.Data)
	env.Assertf(ok, "nats: corrupted message on %s to %v (%d bytes)", m.Subject, k, len(m.Data))
	env.Assertf(subj == m.Subject, "nats: message published on %s arrived on %s", subj, m.Subject)
	pub := c.pubs[mk]
	env.Assertf(pub != nil, "nats: message %v was never published", mk)
	env.Assertf(c.reaches(mk.client, k.client, m.Subject), "nats: message %v from account %q delivered to %v in account %q",
		mk, c.account[mk.client], k, c.account[k.client])
	env.Assertf(subject.Match(m.Subject, sub.spec.pattern), "nats: %s delivered to subscription %q (%v)", m.Subject, sub.spec.pattern, k)
	if lat := c.w.Now() - pub.sentAt; c.strict && c.judged(pub.sentAt) && lat > c.maxLatency {
		// Without faults a message crosses two links of a few milliseconds; a long wait
		// means bytes sat queued (a missing flush) until something else pushed them out.
		env.Assertf(false, "nats: message %v took %v to reach %v", mk, lat, k)
	}
	env.Assertf(!c.seen[k][mk], "nats: message %v delivered twice to %v", mk, k)
	c.seen[k][mk] = true
	c.checkHeader(k, mk, pub, m)
	c.count(sub, mk)
	ok2 := natsOrderKey{sub: k, pubClient: mk.client, pubGen: mk.gen}
	env.Assertf(mk.seq > c.lastSeq[ok2], "nats: %v got seq %d after %d from one publisher connection", k, mk.seq, c.lastSeq[ok2])
	c.lastSeq[ok2] = mk.seq
}

// final checks exactly-once delivery of the messages judged (all in strict seeds): every
// message reached every plain subscription of its account confirmed (and propagated)
// before it was sent, and exactly one member of each queue group with such a member
// (never more than one).
func (c *natsChecker) final() error {
	if c.strict {
		if err := c.finalRequests(); err != nil {
			return err
		}
		if err := c.finalCounts(); err != nil {
			return err
		}
	}
	for _, mk := range c.pubOrder {
		if err := c.finalMessage(mk); err != nil {
			return err
		}
	}
	return nil
}

// finalMessage checks one message's deliveries (nothing for a message not judged).
func (c *natsChecker) finalMessage(mk natsMsgKey) error {
	pub := c.pubs[mk]
	if !c.judged(pub.sentAt) {
		return nil
	}
	groups := map[string]int{}
	needed := map[string]bool{}
	for _, sk := range c.subOrder {
		sub := c.subs[sk]
		if !subject.Match(pub.subject, sub.spec.pattern) || !c.reaches(mk.client, sk.client, pub.subject) {
			continue
		}
		early := c.propagated(sub, pub.sentAt) && !c.cannotReceive(sub, natsConnKey{mk.client, mk.gen}, pub.sentAt)
		got := c.seen[sk][mk]
		if sub.spec.queue == "" {
			if early && !got && !sub.lost {
				return fmt.Errorf("nats: message %v on %s never reached subscription %q (%v, confirmed at %v, sent at %v)",
					mk, pub.subject, sub.spec.pattern, sk, sub.confirmedAt, pub.sentAt)
			}
			continue
		}
		if got {
			groups[sub.spec.queue]++
		}
		if early && !sub.lost {
			needed[sub.spec.queue] = true
		}
	}
	for _, q := range env.SortedKeys(needed) {
		if groups[q] != 1 {
			return fmt.Errorf("nats: message %v on %s reached queue group %s %d times", mk, pub.subject, q, groups[q])
		}
	}
	for _, q := range env.SortedKeys(groups) {
		if groups[q] > 1 {
			return fmt.Errorf("nats: message %v on %s reached queue group %s %d times", mk, pub.subject, q, groups[q])
		}
	}
	return nil
}

// finalRequests: in strict seeds, a request whose subject no subscription anywhere ever
// matched must have been answered with a 503.
func (c *natsChecker) finalRequests() error {
	for _, reply := range c.reqOrder {
		r := c.requests[reply]
		matched := false
		for _, k := range c.subOrder {
			if subject.Match(r.subject, c.subs[k].spec.pattern) && c.reaches(r.from.client, k.client, r.subject) {
				matched = true
				break
			}
		}
		if !matched && !r.got503 && !c.conns[r.from].noHeaders {
			return fmt.Errorf("nats: request %s on %s matched no subscription but got no 503", reply, r.subject)
		}
	}
	return nil
}
