package jsapi

import (
	"reflect"
	"strings"
)

// CheckConsumerCreate is CONSUMER.CREATE's (and DURABLE.CREATE's) checking of the request
// against its subject, in nats-server's order, before the stream is looked up. verb,
// stream, consumer and filter are what ParseAPISubject found (filter is its rest). It sets
// req.Config.Name to the consumer named in the subject, as nats-server does. clustered
// false refuses num_replicas > 1 (10074).
func CheckConsumerCreate(verb Verb, stream, consumer, filter string, req *CreateConsumerRequest, clustered bool) *Error {
	if verb == VerbConsumerCreateEphemeral {
		consumer = req.Config.Name
	}
	if stream != req.Stream {
		return E(ErrStreamMismatch)
	}
	if consumer != "" && strings.ContainsAny(consumer, `\/`) {
		return E(ErrConsumerNameContainsPathSeparators)
	}
	switch verb {
	case VerbConsumerDurableCreate:
		if req.Config.Durable == "" {
			return E(ErrConsumerDurableNameNotSet)
		}
		if consumer != req.Config.Durable {
			return E(ErrConsumerDurableNameNotMatchSubject)
		}
		req.Config.Name = consumer
	case VerbConsumerCreate:
		if req.Config.Durable != "" && consumer != req.Config.Durable {
			return E(ErrConsumerDurableNameNotMatchSubject)
		}
		req.Config.Name = consumer
	case VerbConsumerCreateEphemeral:
		if req.Config.Durable != "" {
			return E(ErrConsumerEphemeralWithDurableName)
		}
	}
	if filter != "" && len(req.Config.FilterSubjects) != 0 {
		return E(ErrConsumerMultipleFiltersNotAllowed)
	}
	if filter != "" && req.Config.FilterSubject != filter {
		return E(ErrConsumerFilterMismatch)
	}
	if !clustered && req.Config.Replicas > 1 {
		return E(ErrReplicasNotSupported)
	}
	return nil
}

// CheckConsumerName is nats-server's last check of a new consumer's name (the durable
// name, or the name it was given or generated).
func CheckConsumerName(cfg *ConsumerConfig, name string) *Error {
	if cfg.Durable != "" && len(cfg.Durable) > NameLenMax {
		return NewError(ErrConsumerNameTooLong, "255")
	}
	if !ValidName(name) {
		return E(ErrConsumerBadDurableName)
	}
	return nil
}

// CheckConsumerUpdate checks that an existing consumer's configuration old may become new
// (both checked): only some fields may change. Its errors are consumer create errors
// (10012) with nats-server's texts. Changing a push consumer's deliver subject while the
// old one still has a subscriber is refused too (10013); the caller checks that interest.
func CheckConsumerUpdate(old, new ConsumerConfig) *Error {
	if reflect.DeepEqual(old, new) {
		return nil
	}
	if text := updateRefusal(&old, &new); text != "" {
		return NewError(ErrConsumerCreate, text)
	}
	if n := len(new.BackOff); n > 0 && new.MaxDeliver != -1 && n > new.MaxDeliver {
		return E(ErrConsumerMaxDeliverBackoff)
	}
	return nil
}

// updateRefusal says why old may not become new, in nats-server's order and words.
func updateRefusal(old, new *ConsumerConfig) string {
	switch {
	case old.DeliverPolicy != new.DeliverPolicy:
		return "deliver policy can not be updated"
	case old.MemoryStorage != new.MemoryStorage:
		return "storage type can not be updated"
	case old.Direct != new.Direct:
		return "direct can not be updated"
	case old.Sourcing != new.Sourcing:
		return "sourcing can not be updated"
	case old.OptStartSeq != new.OptStartSeq:
		return "start sequence can not be updated"
	case (old.OptStartTime == nil) != (new.OptStartTime == nil) ||
		old.OptStartTime != nil && !old.OptStartTime.Equal(*new.OptStartTime):
		return "start time can not be updated"
	case old.AckPolicy != new.AckPolicy:
		return "ack policy can not be updated"
	case old.ReplayPolicy != new.ReplayPolicy:
		return "replay policy can not be updated"
	case old.Heartbeat != new.Heartbeat:
		return "heart beats can not be updated"
	case old.FlowControl != new.FlowControl:
		return "flow control can not be updated"
	case old.DeliverSubject != new.DeliverSubject && old.DeliverSubject == "":
		return "can not update pull consumer to push based"
	case old.DeliverSubject != new.DeliverSubject && new.DeliverSubject == "":
		return "can not update push consumer to pull based"
	case old.MaxWaiting != new.MaxWaiting:
		return "max waiting can not be updated"
	}
	return ""
}
