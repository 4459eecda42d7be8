package jetstream

import (
	"encoding/json"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// Advisories: JSON events on $JS.EVENT.ADVISORY.> in the account concerned, with
// nats-server's subjects, types and fields. They are built only when someone listens.

const (
	advisoryPrefix  = "$JS.EVENT.ADVISORY."
	advisoryTypePre = "io.nats.jetstream.advisory.v1."
	advisoryIDLen   = 22 // a nuid's length
)

// typedEvent is the part every advisory has.
type typedEvent struct {
	Type string    `json:"type"`
	ID   string    `json:"id"`
	Time time.Time `json:"timestamp"`
}

type streamAction struct {
	typedEvent
	Stream string `json:"stream"`
	Action string `json:"action"`
	Domain string `json:"domain,omitempty"`
}

type consumerAction struct {
	typedEvent
	Stream   string `json:"stream"`
	Consumer string `json:"consumer"`
	Action   string `json:"action"`
	Domain   string `json:"domain,omitempty"`
}

// deliveryEvent is max_deliver, nak and terminated.
type deliveryEvent struct {
	typedEvent
	Stream      string `json:"stream"`
	Consumer    string `json:"consumer"`
	ConsumerSeq uint64 `json:"consumer_seq,omitempty"`
	StreamSeq   uint64 `json:"stream_seq"`
	Deliveries  uint64 `json:"deliveries"`
	Reason      string `json:"reason,omitempty"`
	Domain      string `json:"domain,omitempty"`
}

// advise publishes an advisory built by make if someone listens on subject.
func (a *account) advise(subject, kind string, build func(typedEvent) any) {
	s := a.svc
	if !s.bus.HasInterest(a.name, subject) {
		return
	}
	ev := typedEvent{Type: advisoryTypePre + kind, ID: env.Token(s.env.Rand, advisoryIDLen), Time: s.now().UTC()}
	data, err := json.Marshal(build(ev))
	env.Assertf(err == nil, "jetstream: marshal advisory %s: %v", kind, err)
	s.bus.Publish(a.name, subject, "", nil, data)
}

// streamAdvisory: STREAM.CREATED / UPDATED / DELETED.
func (a *account) streamAdvisory(what, action, stream string) {
	a.advise(advisoryPrefix+"STREAM."+what+"."+stream, "stream_action", func(ev typedEvent) any {
		return streamAction{typedEvent: ev, Stream: stream, Action: action, Domain: a.svc.cfg.Domain}
	})
}

// consumerAdvisory: CONSUMER.CREATED / DELETED.
func (c *consumer) actionAdvisory(what, action string) {
	a := c.st.acc
	a.advise(advisoryPrefix+"CONSUMER."+what+"."+c.st.name+"."+c.name, "consumer_action", func(ev typedEvent) any {
		return consumerAction{typedEvent: ev, Stream: c.st.name, Consumer: c.name, Action: action, Domain: a.svc.cfg.Domain}
	})
}

// deliveryAdvisory: CONSUMER.MAX_DELIVERIES / MSG_NAKED / MSG_TERMINATED.
func (c *consumer) deliveryAdvisory(what, kind string, sseq, dseq, deliveries uint64, reason string) {
	a := c.st.acc
	a.advise(advisoryPrefix+"CONSUMER."+what+"."+c.st.name+"."+c.name, kind, func(ev typedEvent) any {
		return deliveryEvent{typedEvent: ev, Stream: c.st.name, Consumer: c.name, ConsumerSeq: dseq, StreamSeq: sseq,
			Deliveries: deliveries, Reason: reason, Domain: a.svc.cfg.Domain}
	})
}
