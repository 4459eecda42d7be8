package workload

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
	fconsumer "github.com/petrel-io/petrel/fsm/consumer"
	"github.com/petrel-io/petrel/sim/natsclient"
)

// jsConsState is what the consumer clients learned about C1. Two kinds of knowledge, kept
// apart because they survive a crash differently:
//   - deliveries, per server boot (an epoch): a delivery not yet saved when the server
//     crashed hands its consumer seq out again after the restart (at least once), so the
//     consumer seq → stream seq map and the gap checks built on it hold within one boot;
//   - confirmed double acks, across boots: the server confirms one only once a save that
//     holds it is durable (core/jetstream consumer_store.go), so what they promise (the
//     delivered position and ack floor never below them, the message never delivered
//     again) holds for every later answer, from any boot. A memory stream keeps nothing
//     (restarted forgets them).
type jsConsState struct {
	chk    *jsChecker
	epochs map[int]*jsEpoch
	// confirms: stream seq → its confirmed double ack; starts: the stream seqs that some
	// boot's consumer seq 1 delivered (the first message the consumer ever had).
	confirms  map[uint64]jsConfirm
	starts    map[uint64]bool
	delivered map[uint64]bool // stream seqs delivered at least once, in any boot
	top       uint64          // the highest stream seq delivered
	// liveFrom, liveTo: messages acknowledged to publishers in this window must have been
	// delivered by the end (the network is whole then, so first deliveries arrive).
	liveFrom, liveTo time.Duration
	// givenUp: stream seqs the server gave up at max_deliver (jsChecker.gaveUp): all their
	// deliveries may have been lost, so they are not owed to the consumer clients.
	givenUp map[uint64]bool
	// damaged: C1 was refused for a damaged state file (see refused).
	damaged bool
}

// jsEpoch is one server boot's view of the consumer: the deliveries seen (by consumer seq).
type jsEpoch struct {
	deliveries map[uint64]jsDelivery
}

// jsConfirm is a confirmed double ack: of which message, received when.
type jsConfirm struct {
	id   string
	at   time.Duration
	boot int // the server's boot when the confirmation came
}

type jsDelivery struct{ sseq, count uint64 }

func newJSConsState(c *jsChecker) *jsConsState {
	return &jsConsState{chk: c, epochs: map[int]*jsEpoch{}, delivered: map[uint64]bool{}, givenUp: map[uint64]bool{},
		confirms: map[uint64]jsConfirm{}, starts: map[uint64]bool{}}
}

func (s *jsConsState) epoch(boot int) *jsEpoch {
	e := s.epochs[boot]
	if e == nil {
		e = &jsEpoch{deliveries: map[uint64]jsDelivery{}}
		s.epochs[boot] = e
	}
	return e
}

// delivery judges one delivery of C1, to a pull request sent at sent. boot is the server
// boot that sent it, 0 if unsure. It returns the message delivered (nil: unsure).
func (s *jsConsState) delivery(m *natsclient.Msg, info jsapi.AckInfo, boot int, sent time.Duration) *jsMsg {
	if s.chk.unsure(boot) {
		return nil
	}
	msg := s.chk.served("delivery", info.StreamSeq, m.Subject, m.Data)
	// A pull sent after a double ack's confirmation came reaches the server after it
	// processed that ack, so it cannot get the message again, from any later boot (the
	// sequence may hold another message after a crash took the first one, never acknowledged
	// to its publisher: hence the id).
	if conf, ok := s.confirms[info.StreamSeq]; ok && conf.at < sent && conf.id == msg.id {
		env.Assertf(s.chk.rotted(), "jetstream: stream seq %d (msg id %s) delivered again (delivery %d, pull sent at %v) after its double ack was confirmed at %v",
			info.StreamSeq, msg.id, info.Delivered, sent, conf.at)
	}
	s.delivered[info.StreamSeq] = true
	s.top = max(s.top, info.StreamSeq)
	if info.Delivered > 1 {
		s.chk.w.Hit("jetstream.check.redelivered")
	}
	if md := s.chk.spec.maxDeliver; md > 0 {
		env.Assertf(info.Delivered <= uint64(md), "jetstream: stream seq %d delivered %d times, max_deliver %d", info.StreamSeq, info.Delivered, md)
		if info.Delivered == uint64(md) {
			s.chk.w.Hit("jetstream.check.max-deliver")
		}
	}
	if boot != 0 {
		s.record(s.epoch(boot), info, boot)
	}
	return msg
}

// record adds a delivery to its boot's map and checks the gaps it closes.
func (s *jsConsState) record(e *jsEpoch, info jsapi.AckInfo, boot int) {
	d := jsDelivery{sseq: info.StreamSeq, count: info.Delivered}
	if old, ok := e.deliveries[info.ConsumerSeq]; ok {
		env.Assertf(old.sseq == d.sseq, "jetstream: consumer seq %d delivered stream seq %d and %d in boot %d", info.ConsumerSeq, old.sseq, d.sseq, boot)
		return
	}
	e.deliveries[info.ConsumerSeq] = d
	if info.ConsumerSeq == 1 {
		s.starts[d.sseq] = true
	}
	if d.count == 1 {
		s.checkGaps(e, info.ConsumerSeq)
	}
}

// checkGaps: two first deliveries with only redeliveries between them (all seen) must not
// have passed over a stored message. The first delivery of all (consumer seq 1) starts at
// the stream's first message, so nothing below it may be stored either.
func (s *jsConsState) checkGaps(e *jsEpoch, dseq uint64) {
	this := e.deliveries[dseq]
	if lo, ok := e.neighbour(dseq, -1); ok {
		s.checkGap(lo, this.sseq, dseq)
	}
	if hi, ok := e.neighbour(dseq, +1); ok {
		s.checkGap(this.sseq, hi, dseq)
	}
}

// neighbour walks from dseq over seen redeliveries to the next first delivery in dir and
// returns its stream seq (0 for the start, below consumer seq 1).
func (e *jsEpoch) neighbour(dseq uint64, dir int) (uint64, bool) {
	for d := int64(dseq) + int64(dir); ; d += int64(dir) {
		if d == 0 {
			return 0, true
		}
		got, ok := e.deliveries[uint64(d)]
		switch {
		case !ok:
			return 0, false
		case got.count == 1:
			return got.sseq, true
		}
	}
}

func (s *jsConsState) checkGap(lo, hi, dseq uint64) {
	c := s.chk
	env.Assertf(lo < hi, "jetstream: consumer delivered stream seq %d first after %d (consumer seq %d)", hi, lo, dseq)
	for seq := lo + 1; seq < hi; seq++ {
		id, ok := c.acked[seq]
		if !ok {
			continue
		}
		_, acked := c.consumerAcks[seq]
		switch {
		case c.evictable(c.msgs[id]), acked && c.spec.workQueue, c.lost[seq]:
		case len(c.lost) < c.server.Disk.Stats.BitFlips:
			c.lost[seq] = true
		default:
			env.Assertf(false, "jetstream: consumer skipped acknowledged seq %d (msg id %s): first deliveries of %d and %d are adjacent (consumer seq %d)",
				seq, id, lo, hi, dseq)
		}
	}
}

// confirmed records a double ack of m at sseq the server confirmed (boot: the server's boot,
// 0 if it restarted since the ack was sent, which only a memory stream cares about).
func (s *jsConsState) confirmed(sseq uint64, m *jsMsg, boot int) {
	if !s.chk.unsure(boot) {
		if _, ok := s.confirms[sseq]; !ok {
			s.confirms[sseq] = jsConfirm{id: m.id, at: s.chk.now(), boot: s.chk.boot()}
		}
	}
}

// jsInfoBound is what CONSUMER.INFO must show at least, from the confirmations received
// before it was asked (an answer may be made before later confirmations, on another
// connection, arrive).
type jsInfoBound struct {
	boot            int    // the server's boot when asked: a memory stream's bound holds in it only
	delivered       uint64 // the highest confirmed ack
	deliveredBoot   int    // the boot its confirmation came in
	floor, floorLow uint64 // every seq from floorLow to floor had its double ack confirmed
	hasFloor        bool
}

// bound is the current bound: the highest confirmed ack, and the longest run of confirmed
// acks from a first delivery of the consumer (nothing below one was ever pending).
func (s *jsConsState) bound() jsInfoBound {
	b := jsInfoBound{boot: s.chk.boot()}
	for sseq, conf := range s.confirms {
		if sseq > b.delivered {
			b.delivered, b.deliveredBoot = sseq, conf.boot
		}
	}
	for start := range s.starts {
		if _, ok := s.confirms[start]; !ok {
			continue
		}
		end := start
		for _, ok := s.confirms[end+1]; ok; _, ok = s.confirms[end+1] {
			end++
		}
		if !b.hasFloor || end > b.floor {
			b.floorLow, b.floor, b.hasFloor = start, end, true
		}
	}
	return b
}

// info judges CONSUMER.INFO answered in boot against the bound taken when it was asked: the
// delivered position is at or above every confirmed ack, and the ack floor at or above the
// run of confirmed acks from a first delivery. Confirmations are durable, so the bound holds
// across boots, except for a memory stream.
func (s *jsConsState) info(ci *jsapi.ConsumerInfo, boot int, b jsInfoBound) {
	if s.chk.spec.memory && (boot == 0 || boot != b.boot) {
		return
	}
	if boot != 0 && b.deliveredBoot != 0 && b.deliveredBoot < boot {
		s.chk.w.Hit("jetstream.check.bound-across-boots") // a confirmation from an earlier boot
	}
	env.Assertf(ci.Delivered.Stream >= b.delivered, "jetstream: CONSUMER.INFO delivered stream seq %d below confirmed ack of %d (boot %d)",
		ci.Delivered.Stream, b.delivered, boot)
	if b.hasFloor {
		env.Assertf(ci.AckFloor.Stream >= b.floor, "jetstream: CONSUMER.INFO ack floor %d below %d: every seq from %d to %d had its double ack confirmed (boot %d)",
			ci.AckFloor.Stream, b.floor, b.floorLow, b.floor, boot)
		s.chk.w.Hit("jetstream.check.floor-bound")
	}
	if boot != 0 && s.chk.reopens == 0 {
		s.floorCeiling(ci.AckFloor.Stream)
	}
}

// floorCeiling: the ack floor passes only messages the consumer is done with. An
// acknowledged publish at or below it, still in the stream, had an ack or term sent for it or
// was given up (consumerAcks), before this answer came. Not judged once a stream store was
// reopened after a failed write: seeds 193 and 336 then show a floor past a message
// acknowledged to its publisher and never acked by a consumer, not yet explained (a server
// bug around the reopen, or what the reopen may rightly take back).
func (s *jsConsState) floorCeiling(floor uint64) {
	c := s.chk
	for seq, id := range c.acked {
		if seq > floor {
			continue
		}
		if _, done := c.consumerAcks[seq]; done || c.evictable(c.msgs[id]) || c.lost[seq] || c.rotted() {
			continue
		}
		env.Assertf(false, "jetstream: CONSUMER.INFO ack floor %d passes seq %d (msg id %s): no ack or term was sent for it, and it was not given up",
			floor, seq, id)
	}
}

// final: every message acknowledged to a publisher in the live window, below the highest
// delivered, was delivered (consumers may lag behind publishers: what they did not reach
// yet is not owed).
func (s *jsConsState) final() error {
	c := s.chk
	for _, seq := range env.SortedKeys(c.ackedAt) {
		at := c.ackedAt[seq]
		id := c.acked[seq]
		if at < s.liveFrom || at > s.liveTo || seq > s.top || s.delivered[seq] || s.givenUp[seq] || c.evictable(c.msgs[id]) || c.lost[seq] {
			continue
		}
		return fmt.Errorf("jetstream: seq %d (msg id %s), acknowledged at %v after faults stopped, was never delivered to a consumer", seq, id, at)
	}
	return nil
}

// refused notes a refused CONSUMER.CREATE. The server keeps a durable consumer whose state
// file fails its checksum offline, files kept, for an operator (never a silent reset), so a
// bit flipped in C1's state file ends the consumer for the rest of the run: only then (a
// flip on the server's disk, and the server naming the damage) are consumer clients excused
// from making progress.
func (s *jsConsState) refused(e *jsapi.Error) {
	if e.ErrCode == jsapi.ErrConsumerCreate && strings.Contains(e.Description, fconsumer.ErrDamaged.Error()) && s.chk.server.Disk.Stats.BitFlips > 0 {
		if !s.damaged {
			s.chk.w.Hit("jetstream.check.consumer-state-damaged")
		}
		s.damaged = true
	}
}

// jsConsumerClient is a consumer client's state across connections.
type jsConsumerClient struct {
	s   *jsConsState
	idx int
	// confirmed: this connection's confirmed double acks. A message whose double ack was
	// confirmed is never delivered again on the same connection (the confirmation and any
	// redelivery come in order on it, and a server boot ends its connections).
	confirmed map[uint64]bool
	gen       int
}

func (c *jsChecker) consumer(idx int) *jsConsumerClient {
	return &jsConsumerClient{s: c.cons, idx: idx}
}

func (cc *jsConsumerClient) setup(p *jsPeer, done func(bool)) {
	cc.confirmed, cc.gen = map[uint64]bool{}, p.gen
	p.createStream(jsStream, cc.s.chk.spec.streamConfig(), func(ok bool) {
		if !ok {
			done(false)
			return
		}
		subj := jsapi.Prefix + "CONSUMER.CREATE." + jsStream + "." + jsConsumer
		p.apiRequest(subj, cc.s.chk.spec.consumerConfig(), nil, func(ok bool, e *jsapi.Error, _ int) {
			if ok && e != nil {
				p.e.Log.Logf(env.LevelInfo, "jetstream workload: consumer create refused: %d %s", e.ErrCode, e.Description)
				cc.s.refused(e)
			}
			done(ok && e == nil)
		})
	})
}

func (cc *jsConsumerClient) step(p *jsPeer, done func()) {
	if p.e.Rand.Intn(10) == 0 {
		var r jsapi.ConsumerResponse
		b := cc.s.bound()
		p.apiRequest(jsapi.Prefix+"CONSUMER.INFO."+jsStream+"."+jsConsumer, nil, &r, func(ok bool, e *jsapi.Error, boot int) {
			if ok && e == nil && r.ConsumerInfo != nil {
				cc.s.info(r.ConsumerInfo, boot, b)
			}
			done()
		})
		return
	}
	cc.pull(p, done)
}

// pull asks for a few messages and handles each as it comes.
func (cc *jsConsumerClient) pull(p *jsPeer, done func()) {
	batch := 1 + p.e.Rand.Intn(10)
	body := mustJSON(map[string]any{"batch": batch, "expires": 300 * time.Millisecond})
	got, sent := 0, cc.s.chk.now()
	var reply string
	ended := false
	end := func() {
		if !ended {
			ended = true
			p.finish(reply)
			done()
		}
	}
	reply = p.subscribeReply(jsReqTimeout, true, func(m *natsclient.Msg, boot int) {
		if ended {
			return
		}
		if m == nil || m.Status() != "" {
			end()
			return
		}
		info, ok := jsapi.ParseAck(m.Reply)
		env.Assertf(ok, "jetstream: delivery with reply %q", m.Reply)
		msg := cc.s.delivery(m, info, boot, sent)
		env.Assertf(info.Delivered == 1 || !cc.confirmed[info.StreamSeq] || cc.gen != p.gen,
			"jetstream: stream seq %d redelivered (delivery %d) after its double ack was confirmed on this connection", info.StreamSeq, info.Delivered)
		cc.answer(p, m.Reply, info, msg)
		if got++; got == batch {
			end()
		}
	}, func(reply string) {
		p.c.Publish(jsapi.Prefix+"CONSUMER.MSG.NEXT."+jsStream+"."+jsConsumer, reply, nil, body)
	})
}

// answer acks (some with a confirmed double ack), naks, terminates, or leaves the message
// to its ack wait. msg is the message delivered, nil if unsure (see delivery).
func (cc *jsConsumerClient) answer(p *jsPeer, ackSubj string, info jsapi.AckInfo, msg *jsMsg) {
	c := cc.s.chk
	switch k := p.e.Rand.Intn(20); {
	case k < 7:
		c.ackSent(info.StreamSeq)
		p.c.Publish(ackSubj, "", nil, []byte("+ACK"))
	case k < 13:
		c.ackSent(info.StreamSeq)
		gen := p.gen
		p.request(ackSubj, nil, []byte("+ACK"), jsReqTimeout, func(m *natsclient.Msg, boot int) {
			if m != nil && m.Status() == "" { // not a 503: no consumer (yet) after a restart
				if msg != nil {
					cc.s.confirmed(info.StreamSeq, msg, boot)
				}
				if gen == cc.gen {
					cc.confirmed[info.StreamSeq] = true
				}
				p.e.Probe.Hit("jetstream.workload.double-ack")
			}
		})
	case k < 15:
		p.c.Publish(ackSubj, "", nil, []byte("-NAK"))
	case k < 16:
		c.ackSent(info.StreamSeq)
		p.c.Publish(ackSubj, "", nil, []byte("+TERM"))
	default:
		p.e.Probe.Hit("jetstream.workload.left-to-time-out")
	}
}

// gaveUp takes the server's MAX_DELIVERIES advisory for sseq (jetstream.go watches for it
// inside the server, where no fault loses it): the consumer is done with the message, and a
// work queue drops it. The clients cannot tell: the deliveries that reached max_deliver are
// often lost to the faults.
func (c *jsChecker) gaveUp(data []byte) {
	var ev struct {
		Stream   string `json:"stream"`
		Consumer string `json:"consumer"`
		Seq      uint64 `json:"stream_seq"`
	}
	err := json.Unmarshal(data, &ev)
	env.Assertf(err == nil && ev.Stream == jsStream && ev.Consumer == jsConsumer && ev.Seq > 0, "jetstream: MAX_DELIVERIES advisory %q: %v", data, err)
	c.w.Hit("jetstream.check.gave-up")
	c.ackSent(ev.Seq)
	c.cons.givenUp[ev.Seq] = true
}

// ackSent records the first ack or term sent for a stream seq.
func (c *jsChecker) ackSent(sseq uint64) {
	if _, ok := c.consumerAcks[sseq]; !ok {
		c.consumerAcks[sseq] = c.now()
	}
}
