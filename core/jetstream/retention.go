package jetstream

import (
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/filestore"
)

// Retention by interest and work queue: a message goes once every consumer interested in
// it (its filter matches the subject) is done with it (fsm/consumer.Acked). A work queue is
// interest with at most one consumer per subject (the create checks it), so the same rule
// removes a job on its ack. A message of an interest stream that no consumer wants when it
// is stored goes at once (it is still acknowledged with its sequence, as nats-server does).

// retains reports whether the stream removes messages by interest.
func (st *streamActor) retainsByInterest() bool {
	return st.fsm.Config().Retention != jsapi.LimitsRetention
}

// doneWith reports whether every interested consumer is done with the message.
func (st *streamActor) doneWith(seq uint64, subject string) bool {
	for _, c := range st.consumers {
		if c.filter.Matches(subject) && !c.fsm.Acked(seq) {
			return false
		}
	}
	return true
}

// release removes seq if nobody interested still needs it.
func (st *streamActor) release(seq uint64) {
	if !st.retainsByInterest() {
		return
	}
	m, err := st.fsm.Store().LoadMsg(env.Seq(seq))
	if err != nil {
		return // gone already (or damaged: the store reports it)
	}
	if st.doneWith(seq, m.Subject) {
		_ = st.fsm.Store().RemoveMsg(env.Seq(seq), nil) // not found meanwhile is fine
	}
}

// releaseNew removes a just-stored message of an interest stream that no consumer wants.
func (st *streamActor) releaseNew(seq uint64, subject string) {
	if st.fsm.Config().Retention != jsapi.InterestRetention {
		return
	}
	for _, c := range st.consumers {
		if c.filter.Matches(subject) {
			return
		}
	}
	_ = st.fsm.Store().RemoveMsg(env.Seq(seq), nil) // stored a moment ago: it is there
}

// sweep removes every message nobody needs any more (after a consumer went away), up to
// sweepBatchMax per turn, continuing on the next turn.
func (st *streamActor) sweep(from uint64) {
	if !st.retainsByInterest() || st.phase != streamRunning {
		return
	}
	store := st.fsm.Store()
	seq := max(from, uint64(store.State().FirstSeq))
	for n := 0; n < sweepBatchMax; n++ {
		m, err := store.LoadNext(filestore.AllSubjects, env.Seq(seq))
		if err != nil {
			return
		}
		if st.doneWith(uint64(m.Seq), m.Subject) {
			_ = store.RemoveMsg(m.Seq, nil) // just loaded: it is there
		}
		seq = uint64(m.Seq) + 1
	}
	st.ex.Post(func() { st.sweep(seq) })
}

// checkWorkQueue holds a new consumer of a work queue to the one-consumer-per-subject rule.
func (st *streamActor) checkWorkQueue(cfg jsapi.ConsumerConfig) *jsapi.Error {
	if st.fsm.Config().Retention != jsapi.WorkQueueRetention {
		return nil
	}
	others := map[string][]string{}
	for name, c := range st.consumers {
		others[name] = c.cfg.Filters()
	}
	return jsapi.WorkQueueFilters(cfg.Name, cfg.Filters(), others)
}
