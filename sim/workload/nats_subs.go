package workload

import (
	"fmt"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/subject"
	"github.com/petrel-io/petrel/sim/natsclient"
)

// Per-subscription accounting: what UNSUB promises, checked delivery by delivery.
//
// An UNSUB (with or without a max) is sent at unsubAt and confirmed when the PONG after it
// comes back. From then on the subscription may hold at most bound messages in all: 0 more
// for a plain UNSUB, and for UNSUB <max> the larger of max and what it already had (the
// server drops a subscription at once when its count already reached the max, and what was
// in flight then still arrives before the PONG). In strict seeds a subscription with a max
// must also get exactly that many when enough messages were published after the PONG.

// natsSubCount is a subscription's accounting.
type natsSubCount struct {
	max       int           // the UNSUB's max; 0 for a plain UNSUB or none
	unsubAt   time.Duration // when an UNSUB went out; -1: never
	unsubDone bool          // its PONG came back
	doneAt    time.Duration
	bound     int // most messages it may get in all, once unsubDone
	count     int // messages delivered to it
	atDone    int // count when the PONG came back
}

// natsConnKey names one connection of a client.
type natsConnKey struct {
	client int
	gen    uint32
}

// natsConnOpts are a connection's CONNECT options the checker must know.
type natsConnOpts struct {
	noEcho    bool // its own messages never come back to it
	noHeaders bool // header blocks are stripped on the way to it; no 503s
	verbose   bool // +OK for every operation
	pedantic  bool // -ERR for an invalid publish subject
}

// connected records a connection's options before it subscribes.
func (c *natsChecker) connected(k natsConnKey, o natsConnOpts) { c.conns[k] = o }

// unsubscribing records an UNSUB (max 0: plain) sent now.
func (c *natsChecker) unsubscribing(k natsSubKey, max int) {
	s := c.subs[k]
	env.Assertf(s != nil && s.unsubAt < 0, "nats: UNSUB of %v twice or of an unknown subscription", k)
	s.unsubAt, s.max = c.w.Now(), max
}

// unsubscribed records that the PONG after an UNSUB came back.
func (c *natsChecker) unsubscribed(k natsSubKey) {
	s := c.subs[k]
	s.unsubDone, s.doneAt, s.atDone = true, c.w.Now(), s.count
	s.bound = max(s.max, s.count)
}

// count checks one more delivery against the subscription's UNSUB.
func (c *natsChecker) count(s *natsSub, mk natsMsgKey) {
	s.count++
	if !s.unsubDone || s.count <= s.bound {
		return
	}
	if s.max == 0 {
		env.Assertf(false, "nats: message %v reached %v (%q) after its UNSUB was confirmed at %v", mk, s.key, s.spec.pattern, s.doneAt)
	}
	env.Assertf(false, "nats: %v (%q) got %d messages, past its UNSUB max %d (it had %d when the UNSUB was confirmed)",
		s.key, s.spec.pattern, s.count, s.max, s.atDone)
}

// cannotReceive says a subscription need not get a message from connection from sent at
// sentAt: it is that connection's own with echo off, or an UNSUB was under way by then.
func (c *natsChecker) cannotReceive(s *natsSub, from natsConnKey, sentAt time.Duration) bool {
	if from == (natsConnKey{s.key.client, s.key.gen}) && c.conns[from].noEcho {
		return true
	}
	return s.unsubAt >= 0 && sentAt+c.maxLatency > s.unsubAt
}

// checkHeader: a message keeps its header block, byte for byte, unless the receiver turned
// headers off (then it arrives as a plain MSG); echo off means never one's own.
func (c *natsChecker) checkHeader(k natsSubKey, mk natsMsgKey, pub *natsPub, m *natsclient.Msg) {
	to := natsConnKey{k.client, k.gen}
	opts := c.conns[to]
	env.Assertf(!opts.noEcho || natsConnKey{mk.client, mk.gen} != to, "nats: message %v came back to its publisher, which has echo off", mk)
	want := pub.header
	if opts.noHeaders {
		want = ""
	}
	env.Assertf(string(m.Header) == want, "nats: message %v reached %v with header %q, want %q", mk, k, m.Header, want)
}

// finalCounts (strict seeds): a subscription with an UNSUB max got exactly the max when
// enough messages it matches were published after the UNSUB was confirmed.
func (c *natsChecker) finalCounts() error {
	for _, sk := range c.subOrder {
		s := c.subs[sk]
		if !s.unsubDone || s.max == 0 || s.atDone >= s.bound {
			continue
		}
		after := 0
		for _, mk := range c.pubOrder {
			pub := c.pubs[mk]
			if pub.sentAt >= s.doneAt && c.propagated(s, pub.sentAt) && subject.Match(pub.subject, s.spec.pattern) &&
				!c.cannotReceiveOwn(s, mk) && c.reaches(mk.client, sk.client, pub.subject) {
				after++
			}
		}
		if want := min(s.bound, s.atDone+after); s.count < want {
			return fmt.Errorf("nats: %v (%q, UNSUB max %d) got %d messages, want %d (%d when the UNSUB was confirmed, %d published after)",
				sk, s.spec.pattern, s.max, s.count, want, s.atDone, after)
		}
	}
	return nil
}

func (c *natsChecker) cannotReceiveOwn(s *natsSub, mk natsMsgKey) bool {
	from := natsConnKey{mk.client, mk.gen}
	return from == (natsConnKey{s.key.client, s.key.gen}) && c.conns[from].noEcho
}
