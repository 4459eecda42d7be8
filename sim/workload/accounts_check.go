package workload

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/subject"
	"github.com/petrel-io/petrel/sim"
	"github.com/petrel-io/petrel/sim/natsclient"
)

// accReplyPrefix starts the reply subjects a service import makes up in the exporter (as
// nats-server's do); the requester's own must never be seen there.
const accReplyPrefix = "_R_."

// accPub is a published message as the checker knows it.
type accPub struct {
	key              natsMsgKey
	account, subject string // the publisher's account, and the subject it published on
	sentAt           time.Duration
	outcomes         []accOutcome
	live             []bool // outcomes still consistent with the deliveries so far
	got              map[accGot]int
	// Requests: the reply subject and the subscription it belongs to; whether a responder
	// got it, and how its responses fared.
	reply     string
	inbox     natsSubKey
	served    bool
	singleton bool
	responses int // published for it
	answered  int // delivered to the requester
	got503    bool
	// Responses: the request answered.
	response bool
	req      natsMsgKey
}

type accGot struct {
	sub     natsSubKey
	subject string
}

type accSub struct {
	key         natsSubKey
	account     string
	pattern     string
	confirmedAt time.Duration // -1 until the PONG after SUB came back
	lost        bool
}

// accChecker sees every publish and delivery as it happens.
type accChecker struct {
	w        *sim.World
	strict   bool
	model    *accModel
	pubs     map[natsMsgKey]*accPub
	pubOrder []natsMsgKey
	subs     map[natsSubKey]*accSub
	subOrder []natsSubKey
	replyOf  map[string]natsMsgKey // reply subjects made up in exporters: the request each stands for
	byReply  map[string]natsMsgKey // requesters' reply subjects: the request
}

func newAccChecker(w *sim.World, strict bool, spec *accSpec) *accChecker {
	return &accChecker{
		w: w, strict: strict, model: newAccModel(spec), pubs: map[natsMsgKey]*accPub{}, subs: map[natsSubKey]*accSub{},
		replyOf: map[string]natsMsgKey{}, byReply: map[string]natsMsgKey{},
	}
}

func (c *accChecker) now() time.Duration { return c.w.Now() }

func (c *accChecker) published(p *accPub) {
	_, dup := c.pubs[p.key]
	env.Assertf(!dup, "accounts: message %v published twice", p.key)
	p.sentAt, p.got = c.w.Now(), map[accGot]int{}
	p.outcomes = c.model.outcomes(p.account, p.subject)
	p.live = make([]bool, len(p.outcomes))
	for i := range p.live {
		p.live[i] = true
	}
	if p.reply != "" {
		_, svc, ok := c.model.service(p.account, p.subject)
		p.singleton = ok && svc.singleton
		c.byReply[p.reply] = p.key
	}
	if p.response {
		c.pubs[p.req].responses++
	}
	c.pubs[p.key] = p
	c.pubOrder = append(c.pubOrder, p.key)
}

func (c *accChecker) subscribed(k natsSubKey, account, pattern string) {
	c.subs[k] = &accSub{key: k, account: account, pattern: pattern, confirmedAt: -1}
	c.subOrder = append(c.subOrder, k)
}

func (c *accChecker) confirmed(keys []natsSubKey) {
	for _, k := range keys {
		if s := c.subs[k]; s.confirmedAt < 0 {
			s.confirmedAt = c.w.Now()
		}
	}
}

func (c *accChecker) connLost(client int, gen uint32) {
	env.Assertf(!c.strict, "accounts: client %d lost connection %d in a seed without network faults", client, gen)
	for _, k := range c.subOrder {
		if k.client == client && k.gen == gen {
			c.subs[k].lost = true
		}
	}
}

// delivered checks one message the moment it reaches a subscription: it decodes, was
// published, matches the subscription, and the subscription's account may see it on that
// subject (accounts_model.go), or it is a response on its way to its requester.
func (c *accChecker) delivered(k natsSubKey, m *natsclient.Msg) *accPub {
	sub := c.subs[k]
	env.Assertf(sub != nil, "accounts: delivery to unknown subscription %v", k)
	mk, acc, subj, ok := decodeAccMsg(m.Data)
	env.Assertf(ok, "accounts: corrupted message on %s to %v (%d bytes)", m.Subject, k, len(m.Data))
	pub := c.pubs[mk]
	env.Assertf(pub != nil, "accounts: message %v was never published", mk)
	env.Assertf(pub.account == acc && pub.subject == subj, "accounts: message %v says %s/%s, was published in %s on %s", mk, acc, subj, pub.account, pub.subject)
	env.Assertf(subject.Match(m.Subject, sub.pattern), "accounts: %s delivered to subscription %q (%v)", m.Subject, sub.pattern, k)
	g := accGot{k, m.Subject}
	pub.got[g]++
	if d := (accDest{sub.account, m.Subject}); c.allowed(pub, d, pub.got[g]) {
		c.cover(pub, d)
		return pub
	}
	if pub.response && sub.account != pub.account {
		c.answer(pub, sub, m.Subject, pub.got[g])
		return pub
	}
	c.refuse(pub, sub, m.Subject, pub.got[g])
	return pub
}

// allowed reports whether some outcome still possible sends the message to d at least n
// times, and drops the outcomes that do not (a weighted mapping chose one destination).
func (c *accChecker) allowed(pub *accPub, d accDest, n int) bool {
	possible := false
	for i, o := range pub.outcomes {
		possible = possible || pub.live[i] && o.dests[d] >= n
	}
	if !possible {
		return false
	}
	for i, o := range pub.outcomes {
		pub.live[i] = pub.live[i] && o.dests[d] >= n
	}
	return true
}

// cover counts a delivery through a chain of imports, or through a restricted export.
func (c *accChecker) cover(pub *accPub, d accDest) {
	var via accVia
	for i, o := range pub.outcomes {
		if pub.live[i] {
			via |= o.via[d]
		}
	}
	if via&accViaChain != 0 {
		c.w.Hit("accounts.check.chained-import")
	}
	if via&accViaRestricted != 0 {
		c.w.Hit("accounts.check.restricted-import")
	}
}

// refuse fails the run, saying why the delivery was not allowed.
func (c *accChecker) refuse(pub *accPub, sub *accSub, subj string, n int) {
	d := accDest{sub.account, subj}
	for _, o := range pub.outcomes {
		if o.dests[d] > 0 {
			env.Assertf(n <= o.dests[d], "accounts: message %v from account %s (on %s) delivered %d times to %v in account %s on %s", pub.key, pub.account, pub.subject, n, sub.key, sub.account, subj)
			env.Assertf(false, "accounts: message %v from account %s (on %s) delivered in account %s on %s, but its other deliveries say its mapping chose otherwise", pub.key, pub.account, pub.subject, sub.account, subj)
		}
	}
	env.Assertf(false, "accounts: message %v from account %s (published on %s) delivered in account %s on subject %s to %v, no import allows it", pub.key, pub.account, pub.subject, sub.account, subj, sub.key)
}

// answer checks a response delivered outside its responder's account: only to the requester's
// own reply subscription, in the requester's account, on the reply subject the request
// carried, sent on the reply subject the request's responder was given; a singleton's only
// once.
func (c *accChecker) answer(resp *accPub, sub *accSub, subj string, n int) {
	req := c.pubs[resp.req]
	given, ok := c.replyOf[resp.subject]
	env.Assertf(ok && given == resp.req, "accounts: response %v on %s answers request %v, but that subject was made up for %v", resp.key, resp.subject, resp.req, given)
	if sub.account != req.account || subj != req.reply || sub.key != req.inbox || n > 1 {
		env.Assertf(false, "accounts: response %v from account %s to request %v (from %v in account %s, reply %s) delivered in account %s on %s to %v (%d times): only the requester's reply subscription may get it",
			resp.key, resp.account, req.key, req.inbox, req.account, req.reply, sub.account, subj, sub.key, n)
	}
	req.answered++
	env.Assertf(!req.singleton || req.answered == 1, "accounts: singleton request %v from account %s on %s got response %d (%v)", req.key, req.account, req.subject, req.answered, resp.key)
}

// served checks a request as its responder sees it, and remembers which request the reply
// subject stands for. It reports the request, or nil for a message without a reply.
func (c *accChecker) served(responderAccount string, m *natsclient.Msg, pub *accPub) *accPub {
	if m.Reply == "" {
		return nil
	}
	env.Assertf(pub.reply != "", "accounts: message %v arrived with reply %s, published with none", pub.key, m.Reply)
	if pub.account != responderAccount {
		env.Assertf(strings.HasPrefix(m.Reply, accReplyPrefix) && !strings.Contains(m.Reply, pub.reply),
			"accounts: request %v from account %s reached a responder in account %s with reply %s (the requester's is %s)", pub.key, pub.account, responderAccount, m.Reply, pub.reply)
	}
	if prev, ok := c.replyOf[m.Reply]; ok {
		env.Assertf(prev == pub.key, "accounts: reply subject %s made up for requests %v and %v", m.Reply, prev, pub.key)
	}
	c.replyOf[m.Reply] = pub.key
	pub.served = true
	return pub
}

// noResponders checks a 503: it answers a request of this connection, once.
func (c *accChecker) noResponders(k natsSubKey, reply string) {
	mk, ok := c.byReply[reply]
	env.Assertf(ok, "accounts: a 503 on %s, which no request used", reply)
	req := c.pubs[mk]
	env.Assertf(req.inbox == k && !req.got503, "accounts: a 503 for request %v at %v (twice: %v)", mk, k, req.got503)
	req.got503 = true
}

// final: in strict seeds every message reached every subscription confirmed before it was
// sent, wherever an outcome of its mapping allows, exactly as often as allowed; and every
// request a responder got was answered: a singleton exactly once, a stream with every
// response.
func (c *accChecker) final() error {
	if !c.strict {
		return nil
	}
	for _, mk := range c.pubOrder {
		if err := c.finalDelivery(c.pubs[mk]); err != nil {
			return err
		}
	}
	for _, mk := range c.pubOrder {
		req := c.pubs[mk]
		if !req.served {
			continue
		}
		want := req.responses
		if req.singleton {
			want = min(1, want)
			if req.responses > 1 && req.answered == 1 {
				c.w.Hit("accounts.check.second-response-dropped")
			}
		}
		if req.answered != want {
			return fmt.Errorf("accounts: request %v from account %s on %s got %d of %d responses (%d sent)", mk, req.account, req.subject, req.answered, want, req.responses)
		}
	}
	return nil
}

func (c *accChecker) finalDelivery(pub *accPub) error {
	var first error
	for i, o := range pub.outcomes {
		if !pub.live[i] {
			continue
		}
		err := c.missing(pub, o)
		if err == nil {
			if len(pub.outcomes) > 1 {
				c.w.Hit("accounts.check.weighted-chosen")
			}
			return nil
		}
		if first == nil {
			first = err
		}
	}
	env.Assertf(first != nil, "accounts: message %v has no outcome left", pub.key)
	return first
}

// missing reports the first subscription confirmed before pub was sent that outcome o owed
// it and did not get it as often as owed.
func (c *accChecker) missing(pub *accPub, o accOutcome) error {
	dests := make([]accDest, 0, len(o.dests))
	for d := range o.dests {
		dests = append(dests, d)
	}
	slices.SortFunc(dests, func(a, b accDest) int { return strings.Compare(a.account+" "+a.subject, b.account+" "+b.subject) })
	for _, k := range c.subOrder {
		sub := c.subs[k]
		if sub.lost || sub.confirmedAt < 0 || sub.confirmedAt > pub.sentAt {
			continue
		}
		for _, d := range dests {
			if d.account != sub.account || !subject.Match(d.subject, sub.pattern) {
				continue
			}
			if got := pub.got[accGot{k, d.subject}]; got != o.dests[d] {
				return fmt.Errorf("accounts: message %v from account %s on %s (mapped to %s) reached %v (%q in account %s) %d times on %s, want %d (confirmed at %v, sent at %v)",
					pub.key, pub.account, pub.subject, o.subject, k, sub.pattern, sub.account, got, d.subject, o.dests[d], sub.confirmedAt, pub.sentAt)
			}
		}
	}
	return nil
}

// The payload names its publisher's account, the subject published on and a unique id, with
// a checksum over all of it:
//
//	client u16 | gen u32 | seq u64 | len u8 | account | len u8 | subject | filler | crc32c u32
func encodeAccMsg(k natsMsgKey, account, subj string, r env.Rand) []byte {
	b := make([]byte, 0, 16+len(account)+len(subj)+64+4)
	b = binary.BigEndian.AppendUint16(b, uint16(k.client))
	b = binary.BigEndian.AppendUint32(b, k.gen)
	b = binary.BigEndian.AppendUint64(b, k.seq)
	b = append(append(b, byte(len(account))), account...)
	b = append(append(b, byte(len(subj))), subj...)
	filler := make([]byte, r.Intn(32))
	r.Fill(filler)
	b = append(b, filler...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
}

func decodeAccMsg(b []byte) (k natsMsgKey, account, subj string, ok bool) {
	if len(b) < 16+4 {
		return k, "", "", false
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, crcTable) != sum {
		return k, "", "", false
	}
	k = natsMsgKey{client: int(binary.BigEndian.Uint16(body)), gen: binary.BigEndian.Uint32(body[2:]), seq: binary.BigEndian.Uint64(body[6:])}
	rest := body[14:]
	field := func() (string, bool) {
		if len(rest) < 1 || int(rest[0]) > len(rest)-1 {
			return "", false
		}
		s := string(rest[1 : 1+int(rest[0])])
		rest = rest[1+int(rest[0]):]
		return s, true
	}
	account, ok1 := field()
	subj, ok2 := field()
	return k, account, subj, ok1 && ok2
}
