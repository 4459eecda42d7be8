package jetstream

import (
	"strconv"
	"time"

	"github.com/petrel-io/petrel/core/bus"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/core/proto"
	"github.com/petrel-io/petrel/filestore"
	fconsumer "github.com/petrel-io/petrel/fsm/consumer"
)

// consumerPhase names a consumer's life.
type consumerPhase uint8

const (
	consumerActive  consumerPhase = iota // delivering
	consumerDeleted                      // deleted or closed; its timers and acks do nothing
)

// consumer is one consumer of a stream; it lives on the stream's executor. It reads the
// stream's store, records deliveries and acks in its state machine (fsm/consumer), and
// hands messages to the pull requests waiting on it.
type consumer struct {
	st      *streamActor
	name    string
	cfg     jsapi.ConsumerConfig
	created time.Time
	phase   consumerPhase
	fsm     *fconsumer.Consumer
	filter  filestore.Filter
	ackSub  bus.Subscription
	waiting []*pullRequest
	timer   env.Timer // the next expiry, heartbeat or redelivery; nil when none is due
	timerAt time.Duration
	// file keeps a durable consumer's state (consumer_store.go); nil when it keeps none.
	file       *fconsumer.File
	saveQueued bool
	confirms   []func() // acks waiting for a durable save to be confirmed
	push       push     // a push consumer's flow control (consumer_push.go)
	pace       pace     // replay original and rate limit (consumer_pace.go)
	pin        pin      // a pinned_client consumer's pin (consumer_priority.go)
	// lastPer holds, for deliver_policy last_per_subject, the last message of each
	// subject as the consumer started (ascending), delivered before anything newer.
	lastPer []uint64
	// lastActive is when it last had interest (a pull request, an ack, a listener).
	lastActive time.Duration
	// moreQueued: a delivery turn is posted (continueLater).
	moreQueued bool
	// lastDelivery and lastAck are when it last delivered and took an ack (info's
	// last_active), zero until then.
	lastDelivery, lastAck time.Time
}

// pullRequest is a waiting CONSUMER.MSG.NEXT. Times are the stream node's monotonic clock.
type pullRequest struct {
	reply     string
	left      int // messages still wanted
	bytesLeft int // 0: no byte cap
	noWait    bool
	expires   time.Duration // 0: never
	heartbeat time.Duration
	lastSent  time.Duration // when it last got a message or a heartbeat
	sent      int
	group     jsapi.PriorityGroup // its priority-group fields (consumer_priority.go)
}

func (c *consumer) svc() *Service { return c.st.svc() }

func (c *consumer) now() int64 { return c.svc().now().UnixNano() }

func (c *consumer) mono() time.Duration { return c.svc().env.Clock.Mono() }

// start subscribes to the consumer's acks.
func (c *consumer) start() error {
	subj := jsapi.AckPrefix + c.st.name + "." + c.name + ".>"
	sub, err := c.svc().bus.SubscribeOn(c.st.acc.name, subj, "", c.st.ex, c.ack)
	if err != nil {
		return err
	}
	c.ackSub = sub
	c.lastActive = c.mono()
	return c.startPush()
}

func (c *consumer) close() {
	if c.phase == consumerDeleted {
		return
	}
	c.phase = consumerDeleted
	c.st.acc.consumers.Add(-1)
	if c.ackSub != nil {
		c.ackSub.Unsubscribe()
	}
	c.stopPush()
	if c.timer != nil {
		c.timer.Stop()
	}
	if c.file != nil {
		c.file.Save(c.fsm.Encode(), nil) // the last state, written before Close refuses more
		_ = c.file.Close()               // saves already handed over still complete
	}
	for _, r := range c.waiting {
		c.status(r.reply, 409, "Consumer Deleted")
	}
	c.waiting = nil
}

// pull queues a pull request and serves what it can at once.
func (c *consumer) pull(reply string, req jsapi.NextRequest) {
	if c.cfg.DeliverSubject != "" {
		c.status(reply, 409, "Consumer is push based")
		return
	}
	c.lastActive = c.mono()
	if c.cfg.MaxWaiting > 0 && len(c.waiting) >= c.cfg.MaxWaiting {
		c.status(reply, 409, "Exceeded MaxWaiting")
		return
	}
	if code, text := c.checkPull(req); code != 0 {
		c.status(reply, code, text)
		return
	}
	r := &pullRequest{reply: reply, left: max(req.Batch, 1), bytesLeft: req.MaxBytes, noWait: req.NoWait,
		heartbeat: req.Heartbeat, lastSent: c.mono(), group: req.PriorityGroup}
	if req.Expires > 0 {
		r.expires = c.mono() + req.Expires
	}
	c.waiting = append(c.waiting, r)
	c.deliver()
	if r.noWait && r.left > 0 {
		c.finishNoWait(r)
	}
	c.arm()
}

// finishNoWait ends a no_wait request that found nothing more to take: "404 No Messages"
// if it got none, else "408 Request Timeout" with what is pending, as nats-server ends it.
func (c *consumer) finishNoWait(r *pullRequest) {
	c.drop(r)
	if r.sent == 0 {
		c.status(r.reply, 404, "No Messages")
		return
	}
	c.endRequest(r, 408, "Request Timeout")
}

// endRequest tells a request's client it is over and what it still wanted.
func (c *consumer) endRequest(r *pullRequest, code int, text string) {
	c.status(r.reply, code, text, "Nats-Pending-Messages", strconv.Itoa(r.left),
		"Nats-Pending-Bytes", strconv.Itoa(max(r.bytesLeft, 0)))
}

func (c *consumer) drop(r *pullRequest) {
	for i, w := range c.waiting {
		if w == r {
			c.waiting = append(c.waiting[:i], c.waiting[i+1:]...)
			return
		}
	}
}

// deliver hands messages to the waiting requests, oldest request first, while the consumer
// may have more unacknowledged, up to deliverBatchMax per call.
func (c *consumer) deliver() {
	sent := 0
	defer func() {
		c.st.deliveries().Flush() // the turn's deliveries go out together
		if sent > 0 {
			c.save(nil)
		}
		if sent >= deliverBatchMax {
			c.continueLater() // the turn's bound ended it, not a lack of messages or requests
		}
	}()
	if c.paused() {
		return
	}
	if c.cfg.DeliverSubject == "" && (len(c.waiting) == 0 || !c.fsm.CanDeliver()) {
		return // nothing to do (every ack ends with this call), and no clock to read
	}
	// One reading of the clocks serves the turn: it takes microseconds, and three readings
	// per message cost a twentieth of a delivery.
	now, mono := c.svc().now(), c.mono()
	if c.cfg.DeliverSubject != "" {
		sent = c.deliverPush(now, mono)
		return
	}
	for n := 0; n < deliverBatchMax && c.phase == consumerActive && c.fsm.CanDeliver(); n++ {
		r := c.nextRequest()
		if r == nil {
			return
		}
		msg := c.nextMessage(now.UnixNano())
		if msg == nil {
			return
		}
		size := len(msg.Subject) + len(msg.Header) + len(msg.Data)
		if r.bytesLeft > 0 && size > r.bytesLeft {
			c.drop(r)
			c.endRequest(r, 409, "Message Size Exceeds MaxBytes")
			continue
		}
		if !c.gate(msg, mono) {
			return
		}
		dseq, count := c.record(msg, now.UnixNano())
		if count == 0 {
			continue // acknowledged meanwhile: nothing to send
		}
		c.send(r.reply, msg, dseq, count, r.group.ID)
		c.lastDelivery = now
		sent++
		r.left--
		r.sent++
		r.lastSent = mono
		if r.bytesLeft > 0 {
			r.bytesLeft -= size
		}
		if r.left == 0 {
			c.drop(r)
		}
	}
}

// continueLater posts another delivery turn, once, so a large pull or a push consumer with a
// backlog goes on without waiting for the next publish or ack.
func (c *consumer) continueLater() {
	if c.moreQueued {
		return
	}
	c.moreQueued = true
	c.st.ex.Post(func() {
		c.moreQueued = false
		if c.phase == consumerActive {
			c.deliver()
			c.arm()
		}
	})
}

// nextMessage is the next message to deliver: one due for redelivery first, then the
// next matching message after the last delivered. It may be the store's (LoadNextShared):
// the caller uses it before the next load.
func (c *consumer) nextMessage(now int64) *filestore.Msg {
	store := c.st.fsm.Store()
	for {
		seq, due := c.fsm.Due(now)
		if !due {
			break
		}
		if c.fsm.MaxDelivered(seq) {
			c.giveUp(seq)
			continue
		}
		if m, err := store.LoadMsg(env.Seq(seq)); err == nil {
			return m
		}
		c.fsm.Skip(seq) // gone from the stream
	}
	// New deliveries stop at the last durable message: one a failed write or a crash could
	// still take back (and its sequence go to another message) is never handed out.
	durable := c.st.fsm.Durable()
	for len(c.lastPer) > 0 {
		seq := c.lastPer[0]
		if env.Seq(seq) > durable {
			return nil
		}
		if m, err := store.LoadMsg(env.Seq(seq)); err == nil && seq > c.fsm.Delivered().Stream {
			return m // taken off the list once delivered (record)
		}
		c.lastPer = c.lastPer[1:]
	}
	// Shared: valid until the store's next load, and send copies it out before that.
	m, err := store.LoadNextShared(c.filter, env.Seq(c.fsm.Delivered().Stream+1))
	if err != nil || m.Seq > durable {
		return nil
	}
	return m
}

// record records a delivery of msg in the state machine.
func (c *consumer) record(msg *filestore.Msg, now int64) (dseq, count uint64) {
	seq := uint64(msg.Seq)
	// Durable reads: a failed write or a crash could still take a later one back.
	env.Assertf(msg.Seq <= c.st.fsm.Durable(), "jetstream: consumer %s delivers seq %d past the durable %d", c.name, seq, c.st.fsm.Durable())
	dseq, count = c.fsm.Deliver(seq, now)
	if len(c.lastPer) > 0 && c.lastPer[0] == seq {
		c.lastPer = c.lastPer[1:]
	}
	return dseq, count
}

// pending is how many messages the consumer has yet to deliver after seq.
func (c *consumer) pending(seq env.Seq) uint64 {
	store := c.st.fsm.Store()
	if len(c.lastPer) > 0 {
		end := c.lastPer[len(c.lastPer)-1]
		return uint64(len(c.lastPer)) + store.NumPending(env.Seq(end+1), c.filter, false)
	}
	return store.NumPending(seq+1, c.filter, false)
}

// send delivers one message with its ack subject.
func (c *consumer) send(reply string, msg *filestore.Msg, dseq, count uint64, pinID string) {
	st := c.st
	st.ackScratch = jsapi.AppendAckSubject(st.ackScratch[:0], st.name, c.name, count, uint64(msg.Seq), dseq, msg.Time, c.pending(msg.Seq))
	hdr, data := msg.Header, msg.Data
	if c.cfg.HeadersOnly {
		hdr = proto.AppendHeader(hdr, "Nats-Msg-Size", strconv.Itoa(len(data)))
		data = nil
	}
	if pinID != "" {
		hdr = proto.AppendHeader(hdr, "Nats-Pin-Id", pinID)
	}
	st.deliveries().Deliver(st.acc.name, reply, msg.Subject, st.ackScratch, hdr, data) // deliver flushes
}

// status sends a status message (404, 408, 409, 100) to a request's inbox.
func (c *consumer) status(reply string, code int, text string, kv ...string) {
	c.svc().bus.Publish(c.st.acc.name, reply, "", proto.StatusHeader(code, text, kv...), nil)
}

// ack takes an ack published on the consumer's ack subject.
func (c *consumer) ack(m bus.Msg) {
	if c.phase != consumerActive {
		return
	}
	info, ok := jsapi.ParseAck(m.Subject)
	if !ok {
		return
	}
	kind, delay, rest := jsapi.ParseAckBody(m.Data)
	wall := c.svc().now()
	now := wall.UnixNano()
	c.lastActive = c.mono()
	c.lastAck = wall
	switch kind {
	case jsapi.AckAck, jsapi.AckNext:
		c.ackSampled(info.StreamSeq, info.ConsumerSeq, info.Delivered)
		c.fsm.Ack(info.StreamSeq, info.ConsumerSeq)
		c.acked(info.StreamSeq)
	case jsapi.AckNak:
		if c.fsm.Nak(info.StreamSeq, now, delay) {
			c.deliveryAdvisory("MSG_NAKED", "nak", info.StreamSeq, info.ConsumerSeq, info.Delivered, "")
		}
	case jsapi.AckProgress:
		c.fsm.Progress(info.StreamSeq, now)
	case jsapi.AckTerm:
		if c.fsm.Term(info.StreamSeq) {
			c.deliveryAdvisory("MSG_TERMINATED", "terminated", info.StreamSeq, info.ConsumerSeq, info.Delivered, string(rest))
		}
		c.acked(info.StreamSeq)
	}
	var confirm func()
	if reply := m.Reply; reply != "" {
		confirm = func() { c.svc().bus.Publish(c.st.acc.name, reply, "", nil, nil) }
	}
	c.save(confirm)
	c.deliver()
	c.arm()
}

// giveUp stops redelivering a message delivered max_deliver times, and says so.
func (c *consumer) giveUp(seq uint64) {
	if c.fsm.GiveUp(seq) {
		c.deliveryAdvisory("MAX_DELIVERIES", "max_deliver", seq, 0, uint64(c.cfg.MaxDeliver), "")
		c.acked(seq)
	}
}

// acked lets the stream drop a message its consumers are done with (retention.go).
func (c *consumer) acked(sseq uint64) {
	if c.cfg.AckPolicy == jsapi.AckAll {
		c.st.sweep(0) // one ack covered everything below it
		return
	}
	c.st.release(sseq)
}
