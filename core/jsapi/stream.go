package jsapi

import "time"

// Retention is a stream's retention policy.
type Retention string

const (
	LimitsRetention    Retention = "limits"
	InterestRetention  Retention = "interest"
	WorkQueueRetention Retention = "workqueue"
)

// Discard says what a full stream does with a new message.
type Discard string

const (
	DiscardOld Discard = "old"
	DiscardNew Discard = "new"
)

// Storage is where a stream keeps its messages.
type Storage string

const (
	FileStorage   Storage = "file"
	MemoryStorage Storage = "memory"
)

// Compression is a file stream's block compression.
type Compression string

const (
	NoCompression Compression = "none"
	S2Compression Compression = "s2"
)

// PersistMode is 2.12's persist_mode: "default" (sync as configured) or "async".
type PersistMode string

const (
	PersistDefault PersistMode = "default"
	PersistAsync   PersistMode = "async"
)

// StreamConfig is a stream's configuration (`config` in STREAM.CREATE and StreamInfo).
type StreamConfig struct {
	Name                   string               `json:"name"`
	Description            string               `json:"description,omitempty"`
	Subjects               []string             `json:"subjects,omitempty"`
	Retention              Retention            `json:"retention"`
	MaxConsumers           int                  `json:"max_consumers"`
	MaxMsgs                int64                `json:"max_msgs"`
	MaxBytes               int64                `json:"max_bytes"`
	MaxAge                 time.Duration        `json:"max_age"`
	MaxMsgsPerSubject      int64                `json:"max_msgs_per_subject"`
	MaxMsgSize             int32                `json:"max_msg_size,omitempty"`
	Discard                Discard              `json:"discard"`
	Storage                Storage              `json:"storage"`
	Replicas               int                  `json:"num_replicas"`
	NoAck                  bool                 `json:"no_ack,omitempty"`
	Duplicates             time.Duration        `json:"duplicate_window,omitempty"`
	Placement              *Placement           `json:"placement,omitempty"`
	Mirror                 *StreamSource        `json:"mirror,omitempty"`
	Sources                []*StreamSource      `json:"sources,omitempty"`
	Compression            Compression          `json:"compression"`
	FirstSeq               uint64               `json:"first_seq,omitempty"`
	SubjectTransform       *SubjectTransform    `json:"subject_transform,omitempty"`
	RePublish              *RePublish           `json:"republish,omitempty"`
	AllowDirect            bool                 `json:"allow_direct"`
	MirrorDirect           bool                 `json:"mirror_direct"`
	DiscardNewPerSubject   bool                 `json:"discard_new_per_subject,omitempty"`
	Sealed                 bool                 `json:"sealed"`
	DenyDelete             bool                 `json:"deny_delete"`
	DenyPurge              bool                 `json:"deny_purge"`
	AllowRollup            bool                 `json:"allow_rollup_hdrs"`
	ConsumerLimits         StreamConsumerLimits `json:"consumer_limits"`
	AllowMsgTTL            bool                 `json:"allow_msg_ttl"`
	SubjectDeleteMarkerTTL time.Duration        `json:"subject_delete_marker_ttl,omitempty"`
	AllowMsgCounter        bool                 `json:"allow_msg_counter,omitempty"`
	AllowAtomicPublish     bool                 `json:"allow_atomic,omitempty"`
	AllowMsgSchedules      bool                 `json:"allow_msg_schedules,omitempty"`
	PersistMode            PersistMode          `json:"persist_mode,omitempty"`
	AllowBatchPublish      bool                 `json:"allow_batched,omitempty"`
	Metadata               map[string]string    `json:"metadata,omitempty"`
}

// Placement asks for replicas in a cluster or on tagged servers.
type Placement struct {
	Cluster   string   `json:"cluster,omitempty"`
	Tags      []string `json:"tags,omitempty"`
	Preferred string   `json:"preferred,omitempty"`
}

// StreamSource is a mirror's or a source's origin.
type StreamSource struct {
	Name              string             `json:"name"`
	OptStartSeq       uint64             `json:"opt_start_seq,omitempty"`
	OptStartTime      *time.Time         `json:"opt_start_time,omitempty"`
	FilterSubject     string             `json:"filter_subject,omitempty"`
	SubjectTransforms []SubjectTransform `json:"subject_transforms,omitempty"`
	External          *ExternalStream    `json:"external,omitempty"`
	Consumer          *SourceConsumer    `json:"consumer,omitempty"`
}

// SourceConsumer names a durable consumer a mirror or source reads through (2.14).
type SourceConsumer struct {
	Name           string `json:"name,omitempty"`
	DeliverSubject string `json:"deliver_subject,omitempty"`
}

// ExternalStream names another domain's or account's API prefix for a source.
type ExternalStream struct {
	APIPrefix     string `json:"api"`
	DeliverPrefix string `json:"deliver"`
}

// SubjectTransform rewrites subjects matching Source into Destination.
type SubjectTransform struct {
	Source      string `json:"src"`
	Destination string `json:"dest"`
}

// RePublish republishes stored messages matching Source to Destination.
type RePublish struct {
	Source      string `json:"src,omitempty"`
	Destination string `json:"dest"`
	HeadersOnly bool   `json:"headers_only,omitempty"`
}

// StreamConsumerLimits are the defaults and caps a stream sets for its consumers.
type StreamConsumerLimits struct {
	InactiveThreshold time.Duration `json:"inactive_threshold,omitempty"`
	MaxAckPending     int           `json:"max_ack_pending,omitempty"`
}

// StreamInfo is STREAM.INFO's answer (and each entry of STREAM.LIST).
type StreamInfo struct {
	Config    StreamConfig        `json:"config"`
	Created   time.Time           `json:"created"`
	State     StreamState         `json:"state"`
	Domain    string              `json:"domain,omitempty"`
	Cluster   *ClusterInfo        `json:"cluster,omitempty"`
	Mirror    *StreamSourceInfo   `json:"mirror,omitempty"`
	Sources   []*StreamSourceInfo `json:"sources,omitempty"`
	TimeStamp time.Time           `json:"ts"`
}

// ClusterInfo says where a stream or consumer runs.
type ClusterInfo struct {
	Name     string      `json:"name,omitempty"`
	Leader   string      `json:"leader,omitempty"`
	Replicas []*PeerInfo `json:"replicas,omitempty"`
}

// PeerInfo is one replica's standing.
type PeerInfo struct {
	Name    string        `json:"name"`
	Current bool          `json:"current"`
	Offline bool          `json:"offline,omitempty"`
	Active  time.Duration `json:"active"`
	Lag     uint64        `json:"lag,omitempty"`
}

// StreamSourceInfo is a mirror's or source's progress.
type StreamSourceInfo struct {
	Name              string             `json:"name"`
	External          *ExternalStream    `json:"external,omitempty"`
	Lag               uint64             `json:"lag"`
	Active            time.Duration      `json:"active"`
	Error             *Error             `json:"error,omitempty"`
	FilterSubject     string             `json:"filter_subject,omitempty"`
	SubjectTransforms []SubjectTransform `json:"subject_transforms,omitempty"`
}

// StreamState is a stream's content summary.
type StreamState struct {
	Msgs        uint64            `json:"messages"`
	Bytes       uint64            `json:"bytes"`
	FirstSeq    uint64            `json:"first_seq"`
	FirstTime   time.Time         `json:"first_ts"`
	LastSeq     uint64            `json:"last_seq"`
	LastTime    time.Time         `json:"last_ts"`
	NumSubjects int               `json:"num_subjects,omitempty"`
	Subjects    map[string]uint64 `json:"subjects,omitempty"`
	NumDeleted  int               `json:"num_deleted,omitempty"`
	Deleted     []uint64          `json:"deleted,omitempty"`
	Lost        *LostStreamData   `json:"lost,omitempty"`
	Consumers   int               `json:"consumer_count"`
}

// LostStreamData lists messages the store found damaged and no longer serves.
type LostStreamData struct {
	Msgs  []uint64 `json:"msgs"`
	Bytes uint64   `json:"bytes"`
}

// StoredMsg is MSG.GET's message.
type StoredMsg struct {
	Subject  string    `json:"subject"`
	Sequence uint64    `json:"seq"`
	Header   []byte    `json:"hdrs,omitempty"`
	Data     []byte    `json:"data,omitempty"`
	Time     time.Time `json:"time"`
}

// PubAck answers a publish to a stream subject.
type PubAck struct {
	Stream    string `json:"stream"`
	Sequence  uint64 `json:"seq"`
	Domain    string `json:"domain,omitempty"`
	Duplicate bool   `json:"duplicate,omitempty"`
	Value     string `json:"val,omitempty"`
	BatchID   string `json:"batch,omitempty"`
	BatchSize uint64 `json:"count,omitempty"`
}

// PubAckResponse is a PubAck or its error, as sent.
type PubAckResponse struct {
	Error *Error `json:"error,omitempty"`
	*PubAck
}
