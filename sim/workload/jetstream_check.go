package workload

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/sim"
)

// jsChecker holds what the clients learned about the stream ORD: every publish attempted,
// every sequence acknowledged, every consumer ack sent, and judges each answer against it.
type jsChecker struct {
	w      *sim.World
	server *sim.Node
	spec   jsSpec
	oracle *jsOracle
	// acked: sequence → msg id acknowledged for it (first acks and duplicates alike);
	// seqOf: msg id → the sequence its first acknowledgement named.
	acked   map[uint64]string
	ackedAt map[uint64]time.Duration // when the first acknowledgement of a seq came
	seqOf   map[string]uint64
	msgs    map[string]*jsMsg // every msg id published
	// attempts counts publishes sent (first sends, repeats and retries alike), in all and
	// per subject, for limits: a resend stores its id again once the duplicate window was
	// rebuilt from a store that no longer holds it (a restart or a store reopen after the
	// limits removed it; seed 2206), so distinct ids undercount the stores.
	attempts     int
	subjAttempts map[string]int
	// expects are publishes accepted under Nats-Expected-Last-Subject-Sequence, per
	// subject: no acknowledged message on it may lie between expected and stored.
	expects map[string][]jsExpect
	// lost: acknowledged sequences found missing with no explanation but a flipped bit.
	lost map[uint64]bool
	// consumerAcks: stream seq → when the consumer may first have been done with it: an ack
	// or term sent, or a delivery at max_deliver seen (the server gives such a message up at
	// its next due time, and a work queue then drops it).
	consumerAcks map[uint64]time.Duration
	cons         *jsConsState
	reopens      int // stream stores reopened after a failed write (jsProbe)
	pubs         map[int]*jsPublisher
}

// jsMsg is one published message (all attempts of one msg id).
type jsMsg struct {
	id       string
	subject  string
	payload  []byte
	order    int // attempts before its first send, in all
	subjSeen int // attempts before its first send, on its subject
}

type jsExpect struct{ expected, stored uint64 }

func newJSChecker(w *sim.World, server *sim.Node, spec jsSpec) *jsChecker {
	c := &jsChecker{w: w, server: server, spec: spec, acked: map[uint64]string{}, ackedAt: map[uint64]time.Duration{}, seqOf: map[string]uint64{},
		msgs: map[string]*jsMsg{}, subjAttempts: map[string]int{}, expects: map[string][]jsExpect{},
		lost: map[uint64]bool{}, consumerAcks: map[uint64]time.Duration{}, pubs: map[int]*jsPublisher{}}
	c.cons = newJSConsState(c)
	if !spec.memory {
		c.oracle = &jsOracle{w: w, node: server}
	}
	return c
}

func (c *jsChecker) now() time.Duration { return c.w.Now() }

// boot is the server's boot count while it is up, 0 while it is down.
func (c *jsChecker) boot() int {
	if !c.server.Up() {
		return 0
	}
	return c.server.Boots()
}

// newMsg records a message about to be published for the first time.
func (c *jsChecker) newMsg(id, subject string, r env.Rand) *jsMsg {
	env.Assertf(c.msgs[id] == nil, "jetstream workload: msg id %s published as new twice", id)
	m := &jsMsg{id: id, subject: subject, payload: encodeJSPayload(id, r), order: c.attempts, subjSeen: c.subjAttempts[subject]}
	c.msgs[id] = m
	return m
}

// sending counts one send of m, for limits (attempts).
func (c *jsChecker) sending(m *jsMsg) {
	c.attempts++
	c.subjAttempts[m.subject]++
}

// evictable reports whether ORD's limits may have removed m: enough distinct messages were
// published after it, in all or on its subject.
func (c *jsChecker) evictable(m *jsMsg) bool {
	return c.spec.maxPerSubj > 0 && int64(c.subjAttempts[m.subject]-m.subjSeen-1) >= c.spec.maxPerSubj ||
		c.spec.maxMsgs > 0 && int64(c.attempts-m.order-1) >= c.spec.maxMsgs
}

// pubAck judges an answer to a publish of m: the sequence it names, duplicates, and the
// expected-sequence header it was sent with (expLast, expSubj: -1 when not sent).
func (c *jsChecker) pubAck(m *jsMsg, ack *jsapi.PubAck, expLast, expSubj int64) {
	seq := ack.Sequence
	env.Assertf(ack.Stream == jsStream && seq > 0, "jetstream: publish of %s answered %+v", m.id, ack)
	if first, ok := c.seqOf[m.id]; ok && !c.removed(first, m) {
		env.Assertf(first == seq || c.rotted(), "jetstream: msg id %s acknowledged at seq %d, earlier at %d (duplicate %v): stored twice, or a duplicate ack names another sequence",
			m.id, seq, first, ack.Duplicate)
	}
	if id, ok := c.acked[seq]; ok && id != m.id {
		env.Assertf(c.rotted(), "jetstream: seq %d acknowledged for msg id %s and for %s", seq, id, m.id)
	}
	if _, ok := c.seqOf[m.id]; !ok {
		c.seqOf[m.id] = seq
	}
	c.acked[seq] = m.id
	if _, ok := c.ackedAt[seq]; !ok {
		c.ackedAt[seq] = c.now()
	}
	if !ack.Duplicate {
		if expLast >= 0 {
			env.Assertf(seq == uint64(expLast)+1, "jetstream: publish of %s with Nats-Expected-Last-Sequence %d stored at seq %d", m.id, expLast, seq)
		}
		if expSubj >= 0 {
			c.expects[m.subject] = append(c.expects[m.subject], jsExpect{uint64(expSubj), seq})
		}
		if c.oracle != nil {
			c.oracle.acked(c, seq, m)
		}
	}
	c.checkExpects(m.subject)
}

// checkExpects: a publish accepted with expected last subject sequence E and stored at S
// means no message on that subject was stored between E and S.
func (c *jsChecker) checkExpects(subject string) {
	for _, x := range c.expects[subject] {
		for seq := x.expected + 1; seq < x.stored; seq++ {
			id, ok := c.acked[seq]
			if _, wq := c.consumerAcks[seq]; wq && c.spec.workQueue || ok && c.evictable(c.msgs[id]) {
				continue // removed since, perhaps before the publish was checked
			}
			if ok && c.msgs[id].subject == subject {
				env.Assertf(false, "jetstream: publish on %s accepted with expected last subject seq %d at seq %d, but %s was acknowledged at %d on that subject",
					subject, x.expected, x.stored, id, seq)
			}
		}
	}
}

// served judges a message the server handed out as ORD's message at seq (a get or a
// delivery): intact, published, and the one acknowledged for seq if any.
func (c *jsChecker) served(how string, seq uint64, subject string, data []byte) *jsMsg {
	id, ok := decodeJSPayload(data)
	env.Assertf(ok, "jetstream: %s of seq %d served a corrupt payload (%d bytes)", how, seq, len(data))
	m := c.msgs[id]
	env.Assertf(m != nil, "jetstream: %s of seq %d served msg id %s, never published", how, seq, id)
	env.Assertf(subject == m.subject, "jetstream: %s of seq %d served %s on %s, published on %s", how, seq, id, subject, m.subject)
	if want, ok := c.acked[seq]; ok && want != id {
		env.Assertf(c.rotted(), "jetstream: %s of seq %d served msg id %s; %s was acknowledged there", how, seq, id, want)
	}
	if first, ok := c.seqOf[id]; ok && first != seq && !c.removed(first, m) {
		env.Assertf(c.rotted(), "jetstream: %s served msg id %s at seq %d; it was acknowledged at %d", how, id, seq, first)
	}
	return m
}

// missing judges a read that found no message at seq, sent at sent: an acknowledged one may
// be gone only by the limits, a work-queue ack sent before the read, or a flipped bit.
func (c *jsChecker) missing(how string, seq uint64) {
	id, ok := c.acked[seq]
	if !ok {
		return
	}
	switch _, acked := c.consumerAcks[seq]; {
	case c.evictable(c.msgs[id]):
		c.w.Hit("jetstream.check.evicted")
	case acked && c.spec.workQueue: // the ack may reach the server before the read, from another connection
		c.w.Hit("jetstream.check.workqueue-removed")
	case c.lost[seq]:
	case len(c.lost) < c.server.Disk.Stats.BitFlips:
		c.lost[seq] = true
		c.w.Hit("jetstream.check.lost-to-rot")
	default:
		env.Assertf(false, "jetstream: %s: acknowledged seq %d (msg id %s) is missing (work-queue ack sent: %v, bits flipped: %d, lost already: %d)",
			how, seq, id, acked, c.server.Disk.Stats.BitFlips, len(c.lost))
	}
}

// removed reports whether m, acknowledged at seq, may be gone from the stream (a consumer
// acked it off a work queue, or the limits took it). A restart rebuilds the duplicate window
// from the stored messages, as nats-server does, so a repeat of its id after that is new.
func (c *jsChecker) removed(seq uint64, m *jsMsg) bool {
	_, acked := c.consumerAcks[seq]
	return acked && c.spec.workQueue || c.evictable(m)
}

// restarted: a memory stream starts empty at each server boot (a halt after a failed fsync
// restarts even a server that never crashes), so what was learned of it is forgotten.
func (c *jsChecker) restarted() {
	if !c.spec.memory {
		return
	}
	c.acked, c.ackedAt, c.seqOf = map[uint64]string{}, map[uint64]time.Duration{}, map[string]uint64{}
	c.expects, c.lost, c.consumerAcks = map[string][]jsExpect{}, map[uint64]bool{}, map[uint64]time.Duration{}
	c.cons.delivered, c.cons.top = map[uint64]bool{}, 0
	c.cons.confirms, c.cons.starts, c.cons.givenUp = map[uint64]jsConfirm{}, map[uint64]bool{}, map[uint64]bool{}
	for _, pb := range c.pubs {
		pb.lastSeq, pb.subjLast = 0, map[string]uint64{}
	}
}

// unsure reports whether an answer about a memory stream may come from an earlier boot
// (boot 0: the server restarted between the request and its answer).
func (c *jsChecker) unsure(boot int) bool { return c.spec.memory && boot == 0 }

// rotted: a flipped bit may have cost a record, after which a sequence may be given out
// again (the last record lost) or a msg id stored again (its record lost).
func (c *jsChecker) rotted() bool { return c.server.Disk.Stats.BitFlips > 0 }

// final runs at the end of the run.
func (c *jsChecker) final() error {
	return c.cons.final()
}

// encodeJSPayload: the msg id, random filler, and a checksum of both.
func encodeJSPayload(id string, r env.Rand) []byte {
	b := append([]byte{byte(len(id))}, id...)
	filler := make([]byte, r.Intn(64))
	r.Fill(filler)
	b = append(b, filler...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
}

func decodeJSPayload(p []byte) (string, bool) {
	if len(p) < 5 || crc32.Checksum(p[:len(p)-4], crcTable) != binary.BigEndian.Uint32(p[len(p)-4:]) {
		return "", false
	}
	n := int(p[0])
	if 1+n > len(p)-4 {
		return "", false
	}
	return string(p[1 : 1+n]), true
}

func jsMsgID(pub, n int) string { return fmt.Sprintf("p%d-%d", pub, n) }
