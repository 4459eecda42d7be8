package jsapi

import "strconv"

// Metadata keys nats-server keeps in stream and consumer metadata (ADR-44). The required
// level is stored with the asset; the server's version and level are added to answers only.
const (
	MetadataRequiredLevel = "_nats.req.level"
	MetadataServerVersion = "_nats.ver"
	MetadataServerLevel   = "_nats.level"
)

// StreamRequiredLevel is the API level a stream configuration needs: 1 for TTLs, 2 for
// counters, atomic batches, schedules and async persistence, 4 for fast batches.
func StreamRequiredLevel(cfg *StreamConfig) int {
	level := 0
	need := func(on bool, l int) {
		if on && l > level {
			level = l
		}
	}
	need(cfg.AllowMsgTTL || cfg.SubjectDeleteMarkerTTL > 0, 1)
	need(cfg.AllowMsgCounter || cfg.AllowAtomicPublish || cfg.AllowMsgSchedules, 2)
	need(cfg.PersistMode == PersistAsync, 2)
	need(cfg.AllowBatchPublish, 4)
	return level
}

// ConsumerRequiredLevel is the API level a consumer configuration needs: 1 for pausing and
// priority groups, 4 for the flow_control ack policy.
func ConsumerRequiredLevel(cfg *ConsumerConfig) int {
	level := 0
	if (cfg.PauseUntil != nil && !cfg.PauseUntil.IsZero()) ||
		(cfg.PriorityPolicy != "" && cfg.PriorityPolicy != PriorityNone) ||
		cfg.PinnedTTL != 0 || len(cfg.PriorityGroups) > 0 {
		level = 1
	}
	if cfg.AckPolicy == AckFlowControl {
		level = 4
	}
	return level
}

// SetStaticStreamMetadata stamps what a stored stream configuration carries, as nats-server
// does on create and update before checking: the dynamic keys removed and
// _nats.req.level set to the level the configuration needs.
func SetStaticStreamMetadata(cfg *StreamConfig) {
	cfg.Metadata = staticMetadata(cfg.Metadata, StreamRequiredLevel(cfg))
}

// SetStaticConsumerMetadata is SetStaticStreamMetadata for a consumer.
func SetStaticConsumerMetadata(cfg *ConsumerConfig) {
	cfg.Metadata = staticMetadata(cfg.Metadata, ConsumerRequiredLevel(cfg))
}

func staticMetadata(m map[string]string, level int) map[string]string {
	if m == nil {
		m = make(map[string]string, 1)
	}
	delete(m, MetadataServerVersion)
	delete(m, MetadataServerLevel)
	m[MetadataRequiredLevel] = strconv.Itoa(level)
	return m
}

// DynamicMetadata returns a copy of m with the server's version and API level added, as
// every answer that carries a configuration shows them (the stored map is not touched).
func DynamicMetadata(m map[string]string, version string, level int) map[string]string {
	out := make(map[string]string, len(m)+2)
	for k, v := range m {
		out[k] = v
	}
	out[MetadataServerVersion] = version
	out[MetadataServerLevel] = strconv.Itoa(level)
	return out
}

// CopyStaticMetadata makes cfg's versioning metadata the same as prev's so that two
// configurations compare equal whatever the levels: the dynamic keys go, _nats.req.level is
// prev's (or absent), and an emptied map becomes nil. nats-server does this before deciding
// whether a repeated create is the same stream or consumer.
func CopyStaticMetadata(cfg, prev map[string]string) map[string]string {
	if cfg != nil {
		delete(cfg, MetadataServerVersion)
		delete(cfg, MetadataServerLevel)
	}
	if v, ok := prev[MetadataRequiredLevel]; ok {
		if cfg == nil {
			cfg = make(map[string]string, 1)
		}
		cfg[MetadataRequiredLevel] = v
		return cfg
	}
	delete(cfg, MetadataRequiredLevel)
	if len(cfg) == 0 {
		return nil
	}
	return cfg
}

// RequiredLevelRefused reports whether a request whose Nats-Required-Api-Level header holds
// value must be refused (10185) by a server at level: a value that is not a number, or a
// level above the server's. An empty value asks for nothing.
func RequiredLevelRefused(value string, level int) bool {
	if value == "" {
		return false
	}
	required, err := strconv.Atoi(value)
	return err != nil || required > level
}
