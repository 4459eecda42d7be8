package jsapi

import (
	"strconv"
	"strings"
	"time"
)

// StreamCheckOptions is what checking a stream configuration needs from the server.
type StreamCheckOptions struct {
	// Clustered: a replicated JetStream. Without it num_replicas > 1 is refused (10074).
	Clustered bool
	// Pedantic refuses what nats-server would otherwise adjust (the request's "pedantic").
	Pedantic bool
	// DuplicatesMax is the server's duplicate_window limit (0: none).
	DuplicatesMax time.Duration
	// MaxBytesRequired is the account's max_bytes_required for the stream's replica tier.
	MaxBytesRequired bool
	// MemoryMaxStreamBytes and StoreMaxStreamBytes bound max_bytes per storage (0: none).
	MemoryMaxStreamBytes int64
	StoreMaxStreamBytes  int64
	// ValidateMapping checks a subject transform (source, destination) and says why it is
	// invalid in nats-server's words; the layer that implements mappings provides it. Nil
	// checks only the destination's tokens.
	ValidateMapping func(source, destination string) error
	// Lookup finds another stream of the account by name (for mirrors and sources: their
	// subjects, max_msg_size, allow_direct, cycles). Nil: no other stream is known.
	Lookup func(name string) (StreamConfig, bool)
}

// Check validates c and fills in its defaults as nats-server v2.15.2 does when a stream is
// created or updated, answering with the same error codes and texts. On success c holds
// the configuration as the server stores and echoes it; on error c is unchanged. Check is
// idempotent: a configuration that passed passes again unchanged.
//
// What Check cannot see is left to the caller: the name in the request subject, other
// streams' subjects overlapping (10065), account resources (10023/10028/10047) and stream
// counts (10027).
func (c *StreamConfig) Check(opts StreamCheckOptions) *Error {
	cfg := *c
	for _, step := range streamChecks {
		if err := step(&cfg, &opts); err != nil {
			return err
		}
	}
	*c = cfg
	return nil
}

// streamChecks run in nats-server's order, so that a configuration with several faults
// gets the same (first) error.
var streamChecks = [...]func(*StreamConfig, *StreamCheckOptions) *Error{
	checkStreamEnums,
	checkStreamNames,
	fillStreamLimits,
	fillDuplicates,
	checkStreamFeatures,
	checkMirror,
	checkSources,
	checkExternalPrefixes,
	checkSourceCycles,
	checkStreamSubjects,
	checkStreamMaxBytes,
	checkStreamTransform,
	checkRePublish,
	checkPlacement,
	checkStreamReplicas,
}

func invalidStream(text string) *Error { return NewError(ErrStreamInvalidConfig, text) }

func pedantic(text string) *Error { return NewError(ErrPedantic, text) }

// invalidEnum is nats-server's answer to an enum value its JSON decoder does not know: the
// request is invalid JSON. The text quotes the JSON token, quotes included.
func invalidEnum(value string) *Error {
	return NewError(ErrInvalidJSON, "can not unmarshal "+strconv.Quote(strconv.Quote(value)))
}

// checkStreamEnums refuses values nats-server's decoder refuses and fills the zero values
// its decoder leaves (limits, old, file, none); persist_mode "default" is its zero value,
// which it omits.
func checkStreamEnums(cfg *StreamConfig, _ *StreamCheckOptions) *Error {
	switch cfg.Retention {
	case "":
		cfg.Retention = LimitsRetention
	case LimitsRetention, InterestRetention, WorkQueueRetention:
	default:
		return invalidEnum(string(cfg.Retention))
	}
	switch d := Discard(strings.ToLower(string(cfg.Discard))); d {
	case "":
		cfg.Discard = DiscardOld
	case DiscardOld, DiscardNew:
		cfg.Discard = d // nats-server reads the discard policy case-insensitively
	default:
		return invalidEnum(string(cfg.Discard))
	}
	switch cfg.Storage {
	case "":
		cfg.Storage = FileStorage
	case FileStorage, MemoryStorage:
	default:
		return invalidEnum(string(cfg.Storage))
	}
	switch cfg.Compression {
	case "":
		cfg.Compression = NoCompression
	case NoCompression, S2Compression:
	default:
		return NewError(ErrInvalidJSON, "unknown compression algorithm")
	}
	switch cfg.PersistMode {
	case "", PersistDefault:
		cfg.PersistMode = ""
	case PersistAsync:
	default:
		return invalidEnum(string(cfg.PersistMode))
	}
	return nil
}

// ValidName reports whether name may name a stream or consumer: non-empty, without
// whitespace, '.', '*', '>' or path separators.
func ValidName(name string) bool {
	return name != "" && !strings.ContainsAny(name, " \t\r\n\f.*>\\/")
}

func checkStreamNames(cfg *StreamConfig, _ *StreamCheckOptions) *Error {
	switch {
	case !ValidName(cfg.Name):
		return invalidStream(`stream name is required and can not contain '.', '*', '>', '\', '/'`)
	case len(cfg.Name) > NameLenMax:
		return invalidStream("stream name is too long, maximum allowed is " + strconv.Itoa(NameLenMax))
	case len(cfg.Description) > DescriptionLenMax:
		return invalidStream("stream description is too long, maximum allowed is " + strconv.Itoa(DescriptionLenMax))
	case metadataLen(cfg.Metadata) > MetadataLenMax:
		return invalidStream("stream metadata exceeds maximum size of " + strconv.Itoa(MetadataLenMax) + " bytes")
	}
	return nil
}

func metadataLen(m map[string]string) int {
	n := 0
	for k, v := range m {
		n += len(k) + len(v)
	}
	return n
}

// fillStreamLimits: replicas 0 means 1; a limit of 0 or below -1 means unlimited (-1).
func fillStreamLimits(cfg *StreamConfig, opts *StreamCheckOptions) *Error {
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if cfg.Replicas > StreamReplicasMax {
		return invalidStream("maximum replicas is " + strconv.Itoa(StreamReplicasMax))
	}
	if cfg.Replicas < 0 {
		return E(ErrReplicasCountCannotBeNegative)
	}
	limits := []struct {
		name  string
		value *int64
	}{{"max_msgs", &cfg.MaxMsgs}, {"max_msgs_per_subject", &cfg.MaxMsgsPerSubject}, {"max_bytes", &cfg.MaxBytes}}
	for _, l := range limits {
		if err := unlimited(l.value, l.name, opts.Pedantic); err != nil {
			return err
		}
	}
	size, consumers := int64(cfg.MaxMsgSize), int64(cfg.MaxConsumers)
	if err := unlimited(&size, "max_msg_size", opts.Pedantic); err != nil {
		return err
	}
	if err := unlimited(&consumers, "max_consumers", opts.Pedantic); err != nil {
		return err
	}
	cfg.MaxMsgSize, cfg.MaxConsumers = int32(size), int(consumers)
	if cfg.MaxAge < 0 {
		return invalidStream("max age can not be negative")
	}
	if cfg.MaxAge != 0 && cfg.MaxAge < DurationMin {
		return invalidStream("max age needs to be >= 100ms")
	}
	return nil
}

func unlimited(v *int64, name string, isPedantic bool) *Error {
	if *v == 0 || *v < -1 {
		if isPedantic && *v < -1 {
			return pedantic(name + " must be set to -1")
		}
		*v = -1
	}
	return nil
}

// fillDuplicates: a stream that copies from others sets no window of its own; the others
// get the default, capped by the server's limit and by max_age.
func fillDuplicates(cfg *StreamConfig, opts *StreamCheckOptions) *Error {
	if cfg.Duplicates == 0 && cfg.Mirror == nil && len(cfg.Sources) == 0 {
		window := DuplicatesDefault
		if opts.DuplicatesMax > 0 && window > opts.DuplicatesMax {
			if opts.Pedantic {
				return pedantic("duplicate window limits are higher than current limits")
			}
			window = opts.DuplicatesMax
		}
		if cfg.MaxAge != 0 && cfg.MaxAge < window {
			if opts.Pedantic {
				return pedantic("duplicate window cannot be bigger than max age")
			}
			window = cfg.MaxAge
		}
		cfg.Duplicates = window
	}
	switch {
	case cfg.Duplicates < 0:
		return invalidStream("duplicates window can not be negative")
	case cfg.MaxAge != 0 && cfg.Duplicates > cfg.MaxAge:
		return invalidStream("duplicates window can not be larger then max age")
	case opts.DuplicatesMax > 0 && cfg.Duplicates > opts.DuplicatesMax:
		return invalidStream("duplicates window can not be larger then server limit of " + opts.DuplicatesMax.String())
	case cfg.Duplicates > 0 && cfg.Duplicates < DurationMin:
		return invalidStream("duplicates window needs to be >= 100ms")
	}
	return nil
}

// checkStreamFeatures checks the feature flags that exclude each other, and turns on what
// delete markers and schedules need (unless pedantic).
func checkStreamFeatures(cfg *StreamConfig, opts *StreamCheckOptions) *Error {
	if cfg.DenyPurge && cfg.AllowRollup {
		return invalidStream("roll-ups require the purge permission")
	}
	if err := checkCounter(cfg); err != nil {
		return err
	}
	if cfg.DiscardNewPerSubject {
		if err := checkDiscardNewPer(cfg); err != nil {
			return err
		}
	}
	if err := checkDeleteMarkers(cfg, opts.Pedantic); err != nil {
		return err
	}
	if cfg.AllowMsgSchedules {
		if cfg.Discard == DiscardNew {
			return invalidStream("message scheduling cannot use discard new")
		}
		if !cfg.AllowRollup {
			if opts.Pedantic {
				return invalidStream("message scheduling cannot be set if roll-ups are disabled")
			}
			cfg.AllowRollup, cfg.DenyPurge = true, false
		}
	}
	if cfg.PersistMode == PersistAsync {
		switch {
		case cfg.Storage != FileStorage:
			return invalidStream("async persist mode is only supported on file storage")
		case cfg.Replicas > 1:
			return invalidStream("async persist mode is not supported on replicated streams")
		case cfg.AllowAtomicPublish:
			return invalidStream("async persist mode is not supported with atomic batch publish")
		}
	}
	return nil
}

func checkCounter(cfg *StreamConfig) *Error {
	if !cfg.AllowMsgCounter {
		return nil
	}
	switch {
	case cfg.Discard == DiscardNew:
		return invalidStream("counter stream cannot use discard new")
	case cfg.AllowMsgTTL:
		return invalidStream("counter stream cannot use message TTLs")
	case cfg.AllowMsgSchedules:
		return invalidStream("counter stream cannot use message schedules")
	case cfg.Retention != LimitsRetention:
		return invalidStream("counter stream can only use limits retention")
	}
	return nil
}

func checkDiscardNewPer(cfg *StreamConfig) *Error {
	if cfg.Discard != DiscardNew {
		return invalidStream("discard new per subject requires discard new policy to be set")
	}
	if cfg.MaxMsgsPerSubject <= 0 {
		return invalidStream("discard new per subject requires max msgs per subject > 0")
	}
	return nil
}

func checkDeleteMarkers(cfg *StreamConfig, isPedantic bool) *Error {
	if cfg.SubjectDeleteMarkerTTL < 0 {
		return invalidStream("subject delete marker TTL must not be negative")
	}
	if cfg.SubjectDeleteMarkerTTL == 0 {
		return nil
	}
	if cfg.SubjectDeleteMarkerTTL < SubjectDeleteMarkerTTLMin {
		return invalidStream("subject delete marker TTL must be at least 1 second")
	}
	if !cfg.AllowMsgTTL {
		if isPedantic {
			return invalidStream("subject delete marker cannot be set if message TTLs are disabled")
		}
		cfg.AllowMsgTTL = true
	}
	if !cfg.AllowRollup {
		if isPedantic {
			return invalidStream("subject delete marker cannot be set if roll-ups are disabled")
		}
		cfg.AllowRollup, cfg.DenyPurge = true, false
	}
	return nil
}

func checkPlacement(cfg *StreamConfig, _ *StreamCheckOptions) *Error {
	if p := cfg.Placement; p != nil && p.Cluster == "" && p.Tags == nil && p.Preferred == "" {
		cfg.Placement = nil // an empty placement is none
	}
	if cfg.Placement != nil && cfg.Placement.Preferred != "" {
		return invalidStream("preferred server not permitted in placement")
	}
	return nil
}

// checkStreamReplicas is nats-server's check after the configuration's: a single server
// holds one replica.
func checkStreamReplicas(cfg *StreamConfig, opts *StreamCheckOptions) *Error {
	if !opts.Clustered && cfg.Replicas > 1 {
		return E(ErrReplicasNotSupported)
	}
	return nil
}
