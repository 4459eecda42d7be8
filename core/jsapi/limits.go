package jsapi

import "time"

// Limits and defaults of configurations, nats-server v2.15.2's values: clients compare what
// they sent with what comes back, so a default that differs breaks idempotent creates.
const (
	// NameLenMax bounds stream and consumer names (they become directory names).
	NameLenMax = 255
	// DescriptionLenMax bounds a stream's or consumer's description.
	DescriptionLenMax = 4 * 1024
	// MetadataLenMax bounds the sum of a metadata map's key and value lengths.
	MetadataLenMax = 128 * 1024
	// StreamReplicasMax is the most replicas a stream may ask for.
	StreamReplicasMax = 5

	// DuplicatesDefault is the Nats-Msg-Id window of a stream that sets none (capped by
	// max_age and the server's limit).
	DuplicatesDefault = 2 * time.Minute
	// DurationMin is the smallest non-zero max_age and duplicate_window.
	DurationMin = 100 * time.Millisecond
	// SubjectDeleteMarkerTTLMin is the smallest non-zero subject_delete_marker_ttl.
	SubjectDeleteMarkerTTLMin = time.Second

	// AckWaitDefault is an acking consumer's redelivery timeout when it sets none.
	AckWaitDefault = 30 * time.Second
	// EphemeralInactiveDefault removes an ephemeral consumer that sets no inactive_threshold
	// after this long without interest (nats-server adds up to 1s of jitter to the timer
	// only, never to the configuration).
	EphemeralInactiveDefault = 5 * time.Second
	// MaxAckPendingDefault bounds an acking consumer's unacknowledged messages when neither
	// it, its stream, the server nor the account says otherwise.
	MaxAckPendingDefault = 1000
	// MaxWaitingDefault bounds a pull consumer's waiting requests.
	MaxWaitingDefault = 512
	// PinnedTTLDefault is a pinned_client priority group's pin timeout.
	PinnedTTLDefault = 2 * time.Minute
	// HeartbeatMin is the smallest push consumer idle_heartbeat.
	HeartbeatMin = 100 * time.Millisecond
	// MaxRequestExpiresMin is the smallest non-zero max_expires of a pull consumer.
	MaxRequestExpiresMin = time.Millisecond
	// FlowControlHeartbeat is the heartbeat a flow_control ack policy consumer must use.
	FlowControlHeartbeat = time.Second
	// PriorityMax is the highest priority a pull request may carry.
	PriorityMax = 9
	// PriorityGroupLenMax bounds a priority group's name.
	PriorityGroupLenMax = 16
)
