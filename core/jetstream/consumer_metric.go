package jetstream

import (
	"strconv"
	"strings"
)

// Ack metrics: a consumer with sample_freq ("30%", or "30") publishes that share of its acks
// on $JS.EVENT.METRIC.CONSUMER.ACK.<stream>.<consumer>, with the time from delivery to ack.

const metricPrefix = "$JS.EVENT.METRIC.CONSUMER.ACK."

type ackMetric struct {
	typedEvent
	Stream      string `json:"stream"`
	Consumer    string `json:"consumer"`
	ConsumerSeq uint64 `json:"consumer_seq"`
	StreamSeq   uint64 `json:"stream_seq"`
	Delay       int64  `json:"ack_time"`
	Deliveries  uint64 `json:"deliveries"`
	Domain      string `json:"domain,omitempty"`
}

// sampleRate is sample_freq as a percentage (0: no sampling).
func sampleRate(freq string) int {
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(freq), "%"))
	if err != nil || n <= 0 {
		return 0
	}
	return min(n, 100)
}

// ackSampled publishes an ack metric for this ack, when the sample draws it. It must run
// before the ack is applied (the delivery time goes with it).
func (c *consumer) ackSampled(sseq, dseq, deliveries uint64) {
	if c.cfg.SampleFrequency == "" {
		return // the usual case, without parsing the setting at every ack
	}
	rate := sampleRate(c.cfg.SampleFrequency)
	if rate == 0 || int(c.svc().env.Rand.Uint64()%100) >= rate {
		return
	}
	since, ok := c.fsm.PendingSince(sseq)
	if !ok {
		return
	}
	a := c.st.acc
	delay := c.now() - since
	a.advise(metricPrefix+c.st.name+"."+c.name, "", func(ev typedEvent) any {
		ev.Type = "io.nats.jetstream.metric.v1.consumer_ack"
		return ackMetric{typedEvent: ev, Stream: c.st.name, Consumer: c.name, ConsumerSeq: dseq, StreamSeq: sseq,
			Delay: delay, Deliveries: deliveries, Domain: a.svc.cfg.Domain}
	})
}
