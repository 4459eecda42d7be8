package jetstream

import (
	"strconv"
	"time"

	"github.com/petrel-io/petrel/core/bus"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/core/proto"
)

// Push consumers (deliver_subject): the consumer sends to its deliver subject while someone
// listens there (push_bound), paced by flow control when asked for: after fcWindowBytes it
// sends a "100 FlowControl Request" whose reply the client echoes, and it stops after two
// windows without that echo. Idle heartbeats carry the last consumer and stream sequences
// (and the stalled flow-control subject) so ordered consumers can check for gaps.

// push holds a push consumer's pacing; it lives on the stream's executor.
type push struct {
	bound     bool   // someone listened on the deliver subject at the last look
	fcPending string // the flow-control request awaiting its echo ("" when none)
	fcBytes   int    // bytes sent since the last echoed request
	fcSeq     uint64 // numbers the requests, so a stale echo is told apart
	lastSent  time.Duration
	lastSeq   [2]uint64 // the last delivery's consumer and stream sequences
	fcSub     bus.Subscription
}

// startPush subscribes to the consumer's flow-control echoes.
func (c *consumer) startPush() error {
	if c.cfg.DeliverSubject == "" || !c.cfg.FlowControl {
		return nil
	}
	subj := jsapi.FlowPrefix + c.st.name + "." + c.name + ".>"
	sub, err := c.svc().bus.SubscribeOn(c.st.acc.name, subj, "", c.st.ex, c.flowEcho)
	if err != nil {
		return err
	}
	c.push.fcSub = sub
	return nil
}

// deliverPush sends what it may to the deliver subject.
func (c *consumer) deliverPush(now time.Time, mono time.Duration) int {
	sent := 0
	for n := 0; n < deliverBatchMax && c.phase == consumerActive && c.pushReady(); n++ {
		if !c.fsm.CanDeliver() {
			break
		}
		msg := c.nextMessage(now.UnixNano())
		if msg == nil || !c.gate(msg, mono) {
			break
		}
		dseq, count := c.record(msg, now.UnixNano())
		if count == 0 {
			continue
		}
		c.send(c.cfg.DeliverSubject, msg, dseq, count, "")
		c.lastDelivery = now
		sent++
		c.push.lastSent = mono
		c.push.lastSeq = [2]uint64{dseq, uint64(msg.Seq)}
		c.push.fcBytes += len(msg.Subject) + len(msg.Header) + len(msg.Data)
		c.paced(msg)
		if c.cfg.FlowControl && c.push.fcPending == "" && c.push.fcBytes >= fcWindowBytes {
			c.askFlow()
		}
	}
	return sent
}

// pushReady: someone listens, and flow control does not hold delivery back.
func (c *consumer) pushReady() bool {
	c.push.bound = c.svc().bus.HasInterest(c.st.acc.name, c.cfg.DeliverSubject)
	if c.push.bound {
		c.lastActive = c.mono()
	}
	return c.push.bound && !(c.push.fcPending != "" && c.push.fcBytes >= 2*fcWindowBytes)
}

// askFlow sends a flow-control request.
func (c *consumer) askFlow() {
	c.push.fcSeq++
	c.push.fcPending = jsapi.FlowPrefix + c.st.name + "." + c.name + "." + strconv.FormatUint(c.push.fcSeq, 10)
	c.svc().bus.Publish(c.st.acc.name, c.cfg.DeliverSubject, c.push.fcPending, proto.StatusHeader(100, "FlowControl Request"), nil)
}

// flowEcho takes a client's answer to a flow-control request.
func (c *consumer) flowEcho(m bus.Msg) {
	if c.phase != consumerActive || m.Subject != c.push.fcPending {
		return
	}
	c.push.fcPending = ""
	c.push.fcBytes = max(c.push.fcBytes-fcWindowBytes, 0)
	c.deliver()
	c.arm()
}

// pushHeartbeat sends an idle heartbeat to the deliver subject.
func (c *consumer) pushHeartbeat() {
	kv := []string{"Nats-Last-Consumer", strconv.FormatUint(c.push.lastSeq[0], 10),
		"Nats-Last-Stream", strconv.FormatUint(c.push.lastSeq[1], 10)}
	if c.push.fcPending != "" {
		kv = append(kv, "Nats-Consumer-Stalled", c.push.fcPending)
	}
	c.svc().bus.Publish(c.st.acc.name, c.cfg.DeliverSubject, "", proto.StatusHeader(100, "Idle Heartbeat", kv...), nil)
	c.push.lastSent = c.mono()
}

// pushDue is when a push consumer next needs a turn: its heartbeat, or another look for
// a listener while it has none.
func (c *consumer) pushDue(take func(time.Duration)) {
	if c.cfg.DeliverSubject == "" {
		return
	}
	if c.cfg.Heartbeat > 0 {
		take(c.push.lastSent + c.cfg.Heartbeat)
	}
	if !c.push.bound {
		take(c.mono() + pushInterestPoll)
	}
}

// pushTick sends a heartbeat when one is due and delivery was idle.
func (c *consumer) pushTick(now time.Duration) {
	if c.cfg.DeliverSubject != "" && c.cfg.Heartbeat > 0 && now >= c.push.lastSent+c.cfg.Heartbeat && c.push.bound {
		c.pushHeartbeat()
	}
}

func (c *consumer) stopPush() {
	if c.push.fcSub != nil {
		c.push.fcSub.Unsubscribe()
	}
}

// inactive reports whether the consumer has had no interest for its inactive threshold:
// no pull requests waiting, nobody on its deliver subject.
func (c *consumer) inactive(now time.Duration) bool {
	t := c.cfg.InactiveThreshold
	if t <= 0 || len(c.waiting) > 0 || (c.cfg.DeliverSubject != "" && c.push.bound) {
		return false
	}
	return now >= c.lastActive+t
}

// delete removes the consumer: its files, its subscriptions, the messages only it held
// (interest retention), and says so.
func (c *consumer) delete() {
	env.Assertf(c.phase == consumerActive, "jetstream: consumer %s deleted twice", c.name)
	delete(c.st.consumers, c.name)
	c.removeState()
	c.close()
	c.st.sweep(0)
	c.actionAdvisory("DELETED", "delete")
}
