package workload

import (
	"fmt"
	"strings"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/sim/natsclient"
)

// natsFeatures are a client's protocol options and habits beyond plain SUB and PUB, drawn
// per client from a random stream of their own (drawNatsFeatures), so the seed's other
// draws and its fault schedule stay what they were.
type natsFeatures struct {
	opts natsConnOpts
	// maxSub is an extra plain subscription sent with UNSUB <max> right after its SUB.
	maxSub *natsSubSpec
	// unsubAfter: this long into each connection, UNSUB the first plain subscription (with a
	// max of its count so far plus 0-2 when unsubMax) and subscribe its pattern again.
	unsubAfter time.Duration
	unsubMax   bool
	// headerEvery: every n-th message goes out as HPUB with a header block (0: never).
	headerEvery int
	// invalidEvery: every n-th publish goes to an invalid subject, which reaches nobody and
	// earns a pedantic client an -ERR (0: never).
	invalidEvery int
	// bigAt: this long after the start, the client opens a second connection and publishes
	// exactly max_payload bytes, then one byte more (0: never).
	bigAt time.Duration
}

// natsMaxPayload is the nats workload server's max_payload: small, so a payload at the
// limit is cheap to send.
const natsMaxPayload = 4096

// natsBigProbe is what the max_payload connection saw: its message at the limit accepted
// (the PONG after it came back without an -ERR), the one past it refused with -ERR
// 'Maximum Payload Violation', and the connection closed.
type natsBigProbe struct {
	dialed, accepted, refused, closed bool
	errs                              []string
}

// natsInvalidSubject has an empty token: not routable, so it reaches nobody; a pedantic
// client hears -ERR 'Invalid Publish Subject' and stays connected.
const natsInvalidSubject = "a..b"

// natsCheckEvery: every n-th publish round ends with a PING whose PONG checks the +OK and
// -ERR counts.
const natsCheckEvery = 8

func drawNatsFeatures(seed uint64, clients int) []natsFeatures {
	r := env.NewPRNG(seed ^ 0x6665617475726573) // "features"
	out := make([]natsFeatures, clients)
	for i := range out {
		f := &out[i]
		f.opts = natsConnOpts{noEcho: r.Intn(4) == 0, verbose: r.Intn(4) == 0, pedantic: r.Intn(4) == 0, noHeaders: r.Intn(5) == 0}
		if r.Intn(2) == 0 {
			f.maxSub = &natsSubSpec{pattern: natsPatterns[r.Intn(len(natsPatterns))], max: 1 + r.Intn(5)}
		}
		if r.Intn(2) == 0 {
			f.unsubAfter = time.Duration(env.Between(r, 200, 6000)) * time.Millisecond
			f.unsubMax = r.Intn(2) == 0
		}
		if !f.opts.noHeaders && r.Intn(2) == 0 {
			f.headerEvery = 1 + r.Intn(3)
		}
		if r.Intn(3) == 0 {
			f.invalidEvery = 5 + r.Intn(10)
		}
		if i == 0 && r.Intn(2) == 0 {
			f.bigAt = time.Duration(env.Between(r, 100, 5000)) * time.Millisecond
		}
	}
	return out
}

func (f natsFeatures) clientOptions(o natsclient.Options) natsclient.Options {
	o.NoEcho, o.Verbose, o.Pedantic, o.NoHeaders = f.opts.noEcho, f.opts.verbose, f.opts.pedantic, f.opts.noHeaders
	return o
}

// natsPeerSubs is what a connection's peer knows of its subscriptions.
type natsPeerSubs struct {
	plain []*natsclient.Sub // the subscriptions of plain specs, in spec order
	keys  []natsSubKey      // their checker keys
	gone  map[string]natsSubKey
	errs  int // -ERR 'Invalid Publish Subject' heard
	bad   int // invalid publishes sent
	round int
}

// subscribeMax sends the extra subscription and its UNSUB <max> at once.
func (p *natsPeer) subscribeMax(c *natsclient.Client, gen uint32) (natsSubKey, bool) {
	spec := p.st.feat.maxSub
	if spec == nil {
		return natsSubKey{}, false
	}
	var key natsSubKey
	sub := c.Subscribe(spec.pattern, "", p.receive(&key))
	key = natsSubKey{client: p.st.idx, gen: gen, sid: sub.Sid}
	p.chk.subscribed(key, natsSubSpec{pattern: spec.pattern})
	c.Unsubscribe(sub, spec.max)
	p.chk.unsubscribing(key, spec.max)
	return key, true
}

// unsubLater schedules the connection's UNSUB of its first plain subscription.
func (p *natsPeer) unsubLater(c *natsclient.Client) {
	if p.st.feat.unsubAfter == 0 || len(p.subs.plain) == 0 {
		return
	}
	gen := p.st.gen
	p.e.Clock.AfterFunc(p.st.feat.unsubAfter, p.ex, func() {
		if c.Closed() || gen != p.st.gen || p.chk.now() >= p.end {
			return
		}
		p.unsubAndResubscribe(c, gen)
	})
}

// unsubAndResubscribe unsubscribes the first plain subscription (plain, or with a max near
// what it has had) and subscribes its pattern again under a new sid, so the client keeps
// hearing messages; the PONG after both confirms them.
func (p *natsPeer) unsubAndResubscribe(c *natsclient.Client, gen uint32) {
	sub, key := p.subs.plain[0], p.subs.keys[0]
	limit := 0 // a plain UNSUB
	if p.st.feat.unsubMax {
		limit = max(1, p.chk.subs[key].count+p.e.Rand.Intn(3))
	} else {
		p.subs.gone[sub.Sid] = key
	}
	c.Unsubscribe(sub, limit)
	p.chk.unsubscribing(key, limit)
	spec := p.chk.subs[key].spec
	var again natsSubKey
	resub := c.Subscribe(spec.pattern, spec.queue, p.receive(&again))
	again = natsSubKey{client: p.st.idx, gen: gen, sid: resub.Sid}
	p.chk.subscribed(again, spec)
	p.subs.plain[0], p.subs.keys[0] = resub, again
	p.flush(c, func() {
		p.chk.unsubscribed(key)
		p.chk.confirmed([]natsSubKey{again})
	})
}

// unknown receives messages for sids the client no longer holds: a plain UNSUB's, which
// the checker accepts only until the UNSUB's PONG.
func (p *natsPeer) unknown(m *natsclient.Msg) {
	key, ok := p.subs.gone[m.Sid]
	env.Assertf(ok, "nats: client %s got a message on %s for sid %s, which it never had", p.st.name, m.Subject, m.Sid)
	p.chk.delivered(key, m)
}

// onError accepts only the -ERR a pedantic client earns with an invalid subject (in
// strict seeds; faults bring others, such as a stale connection's).
func (p *natsPeer) onError(text string) {
	if p.st.feat.opts.pedantic && strings.Contains(text, "Invalid Publish Subject") {
		p.subs.errs++
		return
	}
	env.Assertf(!p.chk.strict, "nats: client %s got an unexpected -ERR %s", p.st.name, text)
}

// flush sends PING; at its PONG, a verbose connection has had one +OK per operation
// before it (none otherwise), and a pedantic one an -ERR per invalid publish (none
// otherwise); then done runs.
func (p *natsPeer) flush(c *natsclient.Client, done func()) {
	sent, bad := c.Sent(), p.subs.bad
	c.Flush(func() {
		o := p.st.feat.opts
		wantOK, wantErr := 0, 0
		if o.verbose {
			wantOK = sent
		}
		if o.pedantic {
			wantErr = bad
		}
		env.Assertf(c.OKs() == wantOK, "nats: client %s (verbose %v) got %d +OK for %d operations", p.st.name, o.verbose, c.OKs(), sent)
		if p.chk.strict {
			env.Assertf(p.subs.errs == wantErr, "nats: client %s (pedantic %v) got %d -ERR for %d invalid publishes", p.st.name, o.pedantic, p.subs.errs, bad)
		}
		if done != nil {
			done()
		}
	})
}

// sendInvalid publishes now and then (one in invalidEvery calls) to an invalid subject.
func (p *natsPeer) sendInvalid(c *natsclient.Client) bool {
	if f := p.st.feat; f.invalidEvery == 0 || p.e.Rand.Intn(f.invalidEvery) != 0 {
		return false
	}
	p.subs.bad++
	c.Publish(natsInvalidSubject, "", nil, []byte("nobody"))
	return true
}

// send publishes one checksummed message, with a header block every headerEvery-th time,
// and tells the checker.
func (p *natsPeer) send(c *natsclient.Client, subj, reply string) {
	f := p.st.feat
	p.st.seq++
	key := natsMsgKey{client: p.st.idx, gen: p.st.gen, seq: p.st.seq}
	var hdr []byte
	if f.headerEvery > 0 && p.st.seq%uint64(f.headerEvery) == 0 {
		hdr = fmt.Appendf(nil, "NATS/1.0\r\nPetrel-Msg: %d.%d.%d\r\n\r\n", key.client, key.gen, key.seq)
	}
	p.chk.publishedWith(key, subj, string(hdr))
	c.Publish(subj, reply, hdr, encodeNatsMsg(key, subj, p.e.Rand))
}

// probeMaxPayload runs the max_payload probe on a connection of its own, so the refusal
// (which closes the connection) costs the client nothing else. The message at the limit is
// an ordinary checksummed one of a connection generation no other uses.
func (p *natsPeer) probeMaxPayload(addr string, opts natsclient.Options) {
	probe := &p.st.big
	opts.Name += "-big"
	natsclient.Dial(p.e, p.ex, addr, opts, func(c *natsclient.Client, err error) {
		if err != nil {
			return // a fault got in the way; only strict seeds require the probe
		}
		probe.dialed = true
		c.OnError = func(text string) { probe.errs = append(probe.errs, text) }
		c.OnClose = func(error) { probe.closed = true }
		key := natsMsgKey{client: p.st.idx, gen: natsBigGen, seq: 1}
		msg := encodeNatsMsgWith(key, natsSubjects[0], make([]byte, natsMaxPayload-19-len(natsSubjects[0])))
		env.Assertf(len(msg) == natsMaxPayload, "nats: the max_payload probe's message is %d bytes", len(msg))
		p.chk.publishedWith(key, natsSubjects[0], "")
		c.Publish(natsSubjects[0], "", nil, msg)
		c.Flush(func() {
			probe.accepted = len(probe.errs) == 0
			c.WriteRaw(fmt.Appendf(nil, "PUB %s %d\r\n", natsSubjects[0], natsMaxPayload+1))
		})
	})
}

// natsBigGen is the connection generation of max_payload probes: apart from every real one.
const natsBigGen = 1 << 30

// checkBig (strict seeds): a probe that connected saw its limit honoured both ways.
func (b *natsBigProbe) check(name string) error {
	if !b.dialed {
		return nil
	}
	refused := len(b.errs) == 1 && strings.Contains(b.errs[0], "Maximum Payload Violation")
	if !b.accepted || !refused || !b.closed {
		return fmt.Errorf("nats: %s's max_payload probe: message at the limit accepted %v; past it: errors %q, closed %v (want one Maximum Payload Violation, then the close)",
			name, b.accepted, b.errs, b.closed)
	}
	return nil
}
