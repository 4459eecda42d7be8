package jsapi

import "time"

// Level is the JetStream API level this server implements (nats-server v2.15.2's level).
const Level = 3

// Subjects and their parts. Requests arrive on Prefix + a verb and its tokens.
const (
	Prefix        = "$JS.API."
	AckPrefix     = "$JS.ACK."
	FlowPrefix    = "$JS.FC."
	AdvisoryRoot  = "$JS.EVENT.ADVISORY."
	MetricRoot    = "$JS.EVENT.METRIC."
	SnapshotAck   = "$JS.SNAPSHOT.ACK."
	RestorePrefix = "$JS.SNAPSHOT.RESTORE."
	// RequiredLevelHeader makes a request fail when the server's level is lower.
	RequiredLevelHeader = "Nats-Required-Api-Level"
)

// Response types (the `type` field of each answer).
const (
	typePrefix             = "io.nats.jetstream.api.v1."
	AccountInfoType        = typePrefix + "account_info_response"
	StreamCreateType       = typePrefix + "stream_create_response"
	StreamUpdateType       = typePrefix + "stream_update_response"
	StreamDeleteType       = typePrefix + "stream_delete_response"
	StreamInfoType         = typePrefix + "stream_info_response"
	StreamNamesType        = typePrefix + "stream_names_response"
	StreamListType         = typePrefix + "stream_list_response"
	StreamPurgeType        = typePrefix + "stream_purge_response"
	MsgGetType             = typePrefix + "stream_msg_get_response"
	MsgDeleteType          = typePrefix + "stream_msg_delete_response"
	StreamSnapshotType     = typePrefix + "stream_snapshot_response"
	StreamRestoreType      = typePrefix + "stream_restore_response"
	ConsumerCreateType     = typePrefix + "consumer_create_response"
	ConsumerInfoType       = typePrefix + "consumer_info_response"
	ConsumerDeleteType     = typePrefix + "consumer_delete_response"
	ConsumerNamesType      = typePrefix + "consumer_names_response"
	ConsumerListType       = typePrefix + "consumer_list_response"
	ConsumerPauseType      = typePrefix + "consumer_pause_response"
	ConsumerUnpinType      = typePrefix + "consumer_unpin_response"
	StreamLeaderStepType   = typePrefix + "stream_leader_stepdown_response"
	ConsumerLeaderStepType = typePrefix + "consumer_leader_stepdown_response"
	SystemType             = typePrefix + "system_response"
)

// Page sizes of the paged lists.
const (
	NamesPageSize = 1024
	ListPageSize  = 256
)

// Response is the part every answer has.
type Response struct {
	Type  string `json:"type"`
	Error *Error `json:"error,omitempty"`
}

// Paged is a paged answer's position.
type Paged struct {
	Total  int `json:"total"`
	Offset int `json:"offset"`
	Limit  int `json:"limit"`
}

// PagedRequest asks for a page.
type PagedRequest struct {
	Offset int `json:"offset"`
}

// AccountLimits are an account's JetStream limits as INFO shows them (-1: unlimited).
type AccountLimits struct {
	MaxMemory            int64 `json:"max_memory"`
	MaxStore             int64 `json:"max_storage"`
	MaxStreams           int   `json:"max_streams"`
	MaxConsumers         int   `json:"max_consumers"`
	MaxAckPending        int   `json:"max_ack_pending"`
	MemoryMaxStreamBytes int64 `json:"memory_max_stream_bytes"`
	StoreMaxStreamBytes  int64 `json:"storage_max_stream_bytes"`
	MaxBytesRequired     bool  `json:"max_bytes_required"`
}

// Tier is an account's usage and limits (the whole account, or one replica tier).
type Tier struct {
	Memory         uint64        `json:"memory"`
	Store          uint64        `json:"storage"`
	ReservedMemory uint64        `json:"reserved_memory"`
	ReservedStore  uint64        `json:"reserved_storage"`
	Streams        int           `json:"streams"`
	Consumers      int           `json:"consumers"`
	Limits         AccountLimits `json:"limits"`
}

// APIStats counts an account's API requests.
type APIStats struct {
	Level  int    `json:"level"`
	Total  uint64 `json:"total"`
	Errors uint64 `json:"errors"`
}

// AccountInfo is $JS.API.INFO's answer.
type AccountInfo struct {
	Tier
	Domain string          `json:"domain,omitempty"`
	API    APIStats        `json:"api"`
	Tiers  map[string]Tier `json:"tiers,omitempty"`
}

// AccountInfoResponse is AccountInfo as sent.
type AccountInfoResponse struct {
	Response
	*AccountInfo
}

// StreamCreateResponse answers STREAM.CREATE and UPDATE.
type StreamCreateResponse struct {
	Response
	*StreamInfo
	DidCreate bool `json:"did_create,omitempty"`
}

// StreamInfoRequest is STREAM.INFO's optional body.
type StreamInfoRequest struct {
	PagedRequest
	DeletedDetails bool   `json:"deleted_details,omitempty"`
	SubjectsFilter string `json:"subjects_filter,omitempty"`
}

// StreamInfoResponse answers STREAM.INFO (Paged only when subjects are listed).
type StreamInfoResponse struct {
	Response
	Paged
	*StreamInfo
}

// SuccessResponse answers STREAM.DELETE, MSG.DELETE and CONSUMER.DELETE.
type SuccessResponse struct {
	Response
	Success bool `json:"success,omitempty"`
}

// NamesRequest is STREAM.NAMES's and STREAM.LIST's body.
type NamesRequest struct {
	PagedRequest
	Subject string `json:"subject,omitempty"`
}

// StreamNamesResponse answers STREAM.NAMES.
type StreamNamesResponse struct {
	Response
	Paged
	Streams []string `json:"streams"`
}

// StreamListResponse answers STREAM.LIST.
type StreamListResponse struct {
	Response
	Paged
	Streams []*StreamInfo     `json:"streams"`
	Missing []string          `json:"missing,omitempty"`
	Offline map[string]string `json:"offline,omitempty"`
}

// PurgeRequest is STREAM.PURGE's body.
type PurgeRequest struct {
	Sequence uint64 `json:"seq,omitempty"`
	Subject  string `json:"filter,omitempty"`
	Keep     uint64 `json:"keep,omitempty"`
}

// PurgeResponse answers STREAM.PURGE.
type PurgeResponse struct {
	Response
	Success bool   `json:"success,omitempty"`
	Purged  uint64 `json:"purged"`
}

// MsgGetRequest is MSG.GET's and DIRECT.GET's body.
type MsgGetRequest struct {
	Seq          uint64     `json:"seq,omitempty"`
	LastFor      string     `json:"last_by_subj,omitempty"`
	NextFor      string     `json:"next_by_subj,omitempty"`
	Batch        int        `json:"batch,omitempty"`
	MaxBytes     int        `json:"max_bytes,omitempty"`
	StartTime    *time.Time `json:"start_time,omitempty"`
	MultiLastFor []string   `json:"multi_last,omitempty"`
	UpToSeq      uint64     `json:"up_to_seq,omitempty"`
	UpToTime     *time.Time `json:"up_to_time,omitempty"`
	NoHeaders    bool       `json:"no_hdr,omitempty"`
}

// MsgGetResponse answers MSG.GET.
type MsgGetResponse struct {
	Response
	Message *StoredMsg `json:"message,omitempty"`
}

// MsgDeleteRequest is MSG.DELETE's body.
type MsgDeleteRequest struct {
	Seq     uint64 `json:"seq"`
	NoErase bool   `json:"no_erase,omitempty"`
}

// SnapshotRequest is STREAM.SNAPSHOT's body.
type SnapshotRequest struct {
	DeliverSubject string `json:"deliver_subject"`
	NoConsumers    bool   `json:"no_consumers,omitempty"`
	ChunkSize      int    `json:"chunk_size,omitempty"`
	WindowSize     int    `json:"window_size,omitempty"`
	CheckMsgs      bool   `json:"jsck,omitempty"`
}

// SnapshotResponse answers STREAM.SNAPSHOT before the chunks flow.
type SnapshotResponse struct {
	Response
	Config *StreamConfig `json:"config,omitempty"`
	State  *StreamState  `json:"state,omitempty"`
}

// RestoreRequest is STREAM.RESTORE's body.
type RestoreRequest struct {
	Config StreamConfig `json:"config"`
	State  StreamState  `json:"state"`
}

// RestoreResponse answers STREAM.RESTORE with the subject to push chunks to.
type RestoreResponse struct {
	Response
	DeliverSubject string `json:"deliver_subject"`
}

// ConsumerResponse answers CONSUMER.CREATE and CONSUMER.INFO.
type ConsumerResponse struct {
	Response
	*ConsumerInfo
}

// ConsumerNamesResponse answers CONSUMER.NAMES.
type ConsumerNamesResponse struct {
	Response
	Paged
	Consumers []string `json:"consumers"`
}

// ConsumerListResponse answers CONSUMER.LIST.
type ConsumerListResponse struct {
	Response
	Paged
	Consumers []*ConsumerInfo   `json:"consumers"`
	Missing   []string          `json:"missing,omitempty"`
	Offline   map[string]string `json:"offline,omitempty"`
}

// PauseResponse answers CONSUMER.PAUSE.
type PauseResponse struct {
	Response
	Paused         bool          `json:"paused"`
	PauseUntil     time.Time     `json:"pause_until"`
	PauseRemaining time.Duration `json:"pause_remaining,omitempty"`
}
