package jetstream

import (
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
)

// checkConsumer fills a consumer configuration's defaults as nats-server does and refuses
// what this server does not do yet. (A first version: core/jsapi's full check replaces it.)
func (st *streamActor) checkConsumer(cfg *jsapi.ConsumerConfig) *jsapi.Error {
	setDefault(&cfg.DeliverPolicy, jsapi.DeliverAll)
	setDefault(&cfg.AckPolicy, jsapi.AckNone)
	setDefault(&cfg.ReplayPolicy, jsapi.ReplayInstant)
	if cfg.AckPolicy != jsapi.AckNone {
		setDefault(&cfg.AckWait, 30*time.Second)
		setDefault(&cfg.MaxAckPending, 1000)
	}
	setDefault(&cfg.MaxDeliver, -1)
	if cfg.DeliverSubject == "" {
		setDefault(&cfg.MaxWaiting, pullWaitingDefault)
	}
	if cfg.Durable == "" {
		setDefault(&cfg.InactiveThreshold, ephemeralInactiveDefault)
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	} else if cfg.Replicas > 1 {
		return jsapi.E(jsapi.ErrReplicasNotSupported)
	}
	if cfg.FilterSubject != "" && len(cfg.FilterSubjects) > 0 {
		return jsapi.E(jsapi.ErrConsumerBothFilters)
	}
	return nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

func env0(seq uint64) env.Seq { return env.Seq(seq) }

// kick tells the stream's consumers that there may be something new to deliver.
func (st *streamActor) kick() {
	for _, c := range st.consumers {
		if len(c.waiting) > 0 {
			c.deliver()
			c.arm()
		}
	}
}

// purged tells the consumers that messages went (purge, deletion).
func (st *streamActor) purged() {
	first := uint64(st.fsm.Store().State().FirstSeq)
	for _, c := range st.consumers {
		c.fsm.SkipBelow(first)
	}
}

// recoverConsumers opens the stream's durable consumers (their state is not kept yet).
func (st *streamActor) recoverConsumers() {}
