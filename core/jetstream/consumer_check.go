package jetstream

import (
	"github.com/petrel-io/petrel/core/jsapi"
)

// checkConsumer fills a consumer configuration's defaults and checks it against its stream
// with nats-server's rules (core/jsapi), and refuses what this server does not do yet.
func (st *streamActor) checkConsumer(cfg *jsapi.ConsumerConfig) *jsapi.Error {
	if e := cfg.Check(st.fsm.Config(), jsapi.ConsumerCheckOptions{AccountMaxAckPending: st.acc.shared.Load().MaxAckPending}); e != nil {
		return e
	}
	jsapi.SetStaticConsumerMetadata(cfg)
	return nil
}

// kick tells the stream's consumers that there may be something new to deliver.
func (st *streamActor) kick() {
	for _, c := range st.consumers {
		if len(c.waiting) > 0 || c.cfg.DeliverSubject != "" {
			c.deliver()
			c.arm()
		}
	}
}

// purged tells the consumers that messages went (purge, deletion).
func (st *streamActor) purged() {
	st.settle()
	first := uint64(st.fsm.Store().State().FirstSeq)
	for _, c := range st.consumers {
		c.fsm.SkipBelow(first)
	}
}
