package jsapi

import (
	"strconv"
	"strings"
	"time"

	"github.com/petrel-io/petrel/core/subject"
)

// ConsumerCheckOptions is what checking a consumer configuration needs from the server.
type ConsumerCheckOptions struct {
	// Pedantic refuses what nats-server would otherwise adjust.
	Pedantic bool
	// MaxAckPending and MaxRequestBatch are the server's JetStream limits (0: none).
	MaxAckPending   int
	MaxRequestBatch int
	// AccountMaxAckPending is the account tier's max_ack_pending (0 or -1: none).
	AccountMaxAckPending int
}

// Check validates c against its stream and fills in its defaults as nats-server v2.15.2
// does when a consumer is created or updated (its setConsumerConfigDefaults, its consumer
// checks, the work-queue rules of a new consumer and the ephemeral's inactive_threshold),
// with the same codes and texts. On success c holds the configuration as the server stores
// and echoes it; on error c is unchanged. Check is idempotent.
//
// What Check cannot see is left to the caller: the request subject (CheckConsumerCreate),
// existing consumers (10013, 10148, 10149, 10099, 10100: WorkQueueFilters), limits on the
// number of consumers (10026), and naming an ephemeral that has no name.
func (c *ConsumerConfig) Check(stream StreamConfig, opts ConsumerCheckOptions) *Error {
	cfg := *c
	if err := checkConsumerEnums(&cfg); err != nil {
		return err
	}
	if err := fillConsumerDefaults(&cfg, &stream, &opts); err != nil {
		return err
	}
	for _, step := range consumerChecks {
		if err := step(&cfg, &stream, &opts); err != nil {
			return err
		}
	}
	if cfg.Durable == "" && cfg.InactiveThreshold <= 0 {
		cfg.InactiveThreshold = EphemeralInactiveDefault
	}
	*c = cfg
	return nil
}

var consumerChecks = [...]func(*ConsumerConfig, *StreamConfig, *ConsumerCheckOptions) *Error{
	checkConsumerNames,
	checkConsumerAcks,
	checkPushOrPull,
	checkAckPendingLimits,
	checkConsumerDirect,
	checkConsumerFilters,
	checkDeliverPolicy,
	checkConsumerMisc,
	checkPriorityGroups,
	checkWorkQueueConsumer,
}

func invalidConsumer(text string) *Error { return NewError(ErrStreamInvalidConfig, text) }

// checkConsumerEnums refuses values nats-server's decoder refuses and fills the zero values
// its decoder leaves (deliver all, ack none, replay instant); priority policy "none" is its
// zero value, which it omits. The deliver policy "undefined" reads as all.
func checkConsumerEnums(cfg *ConsumerConfig) *Error {
	switch cfg.DeliverPolicy {
	case "", "undefined":
		cfg.DeliverPolicy = DeliverAll
	case DeliverAll, DeliverLast, DeliverNew, DeliverByStartSeq, DeliverByStartTime, DeliverLastPerSubject:
	default:
		return invalidEnum(string(cfg.DeliverPolicy))
	}
	switch cfg.AckPolicy {
	case "":
		cfg.AckPolicy = AckNone
	case AckNone, AckAll, AckExplicit, AckFlowControl:
	default:
		return invalidEnum(string(cfg.AckPolicy))
	}
	switch cfg.ReplayPolicy {
	case "":
		cfg.ReplayPolicy = ReplayInstant
	case ReplayInstant, ReplayOriginal:
	default:
		return invalidEnum(string(cfg.ReplayPolicy))
	}
	switch cfg.PriorityPolicy {
	case "", PriorityNone:
		cfg.PriorityPolicy = ""
	case PriorityOverflow, PriorityPinnedClient, PriorityPrioritized:
	default:
		return NewError(ErrInvalidJSON, "unknown priority policy: "+strconv.Quote(string(cfg.PriorityPolicy)))
	}
	return nil
}

// fillConsumerDefaults is nats-server's setConsumerConfigDefaults.
func fillConsumerDefaults(cfg *ConsumerConfig, stream *StreamConfig, opts *ConsumerCheckOptions) *Error {
	if cfg.MaxDeliver == 0 || cfg.MaxDeliver < -1 {
		if opts.Pedantic && cfg.MaxDeliver < -1 {
			return pedantic("max_deliver must be set to -1")
		}
		cfg.MaxDeliver = -1
	}
	if err := clampNegatives(cfg, opts.Pedantic); err != nil {
		return err
	}
	if cfg.DeliverSubject == "" && cfg.MaxWaiting == 0 {
		cfg.MaxWaiting = MaxWaitingDefault
	}
	if cfg.AckWait == 0 && (cfg.AckPolicy == AckExplicit || cfg.AckPolicy == AckAll) {
		cfg.AckWait = AckWaitDefault
	}
	if len(cfg.BackOff) > 0 {
		if opts.Pedantic && cfg.AckWait != cfg.BackOff[0] {
			return pedantic("first backoff value has to equal batch AckWait")
		}
		cfg.AckWait = cfg.BackOff[0] // the first backoff is the first ack wait
	}
	if err := fillFromStreamLimits(cfg, stream, opts.Pedantic); err != nil {
		return err
	}
	if cfg.MaxAckPending == 0 && cfg.AckPolicy != AckNone {
		cfg.MaxAckPending = smallestPositive(MaxAckPendingDefault, opts.MaxAckPending, opts.AccountMaxAckPending)
	}
	if cfg.DeliverSubject == "" && cfg.MaxRequestBatch == 0 && opts.MaxRequestBatch > 0 {
		if opts.Pedantic {
			return pedantic("max_request_batch must be set if it's JetStream limits are set")
		}
		cfg.MaxRequestBatch = opts.MaxRequestBatch
	}
	if cfg.PriorityPolicy == PriorityPinnedClient && cfg.PinnedTTL == 0 {
		cfg.PinnedTTL = PinnedTTLDefault
	}
	if cfg.AckPolicy == AckFlowControl && !opts.Pedantic {
		cfg.FlowControl, cfg.Heartbeat = true, FlowControlHeartbeat
	}
	return nil
}

// clampNegatives turns meaningless negative values into their zero (or -1) defaults.
func clampNegatives(cfg *ConsumerConfig, isPedantic bool) *Error {
	ints := []struct {
		name  string
		value *int
		floor int
	}{
		{"max_waiting must not be negative", &cfg.MaxWaiting, 0},
		{"max_ack_pending must be set to -1", &cfg.MaxAckPending, -1},
		{"max_batch must not be negative", &cfg.MaxRequestBatch, 0},
	}
	for _, f := range ints {
		if *f.value < f.floor {
			if isPedantic {
				return pedantic(f.name)
			}
			*f.value = f.floor
		}
	}
	if err := clampDuration(&cfg.MaxRequestExpires, "max_expires", isPedantic); err != nil {
		return err
	}
	if cfg.MaxRequestMaxBytes < 0 {
		if isPedantic {
			return pedantic("max_bytes must not be negative")
		}
		cfg.MaxRequestMaxBytes = 0
	}
	durations := []struct {
		name  string
		value *time.Duration
	}{{"idle_heartbeat", &cfg.Heartbeat}, {"inactive_threshold", &cfg.InactiveThreshold}, {"priority_timeout", &cfg.PinnedTTL}}
	for _, d := range durations {
		if err := clampDuration(d.value, d.name, isPedantic); err != nil {
			return err
		}
	}
	return nil
}

func clampDuration(d *time.Duration, name string, isPedantic bool) *Error {
	if *d < 0 {
		if isPedantic {
			return pedantic(name + " must not be negative")
		}
		*d = 0
	}
	return nil
}

// fillFromStreamLimits takes the stream's consumer_limits as defaults.
func fillFromStreamLimits(cfg *ConsumerConfig, stream *StreamConfig, isPedantic bool) *Error {
	limits := stream.ConsumerLimits
	if cfg.MaxAckPending == 0 {
		if isPedantic && limits.MaxAckPending > 0 {
			return pedantic("max_ack_pending must be set if it's configured in stream limits")
		}
		cfg.MaxAckPending = limits.MaxAckPending
	}
	if cfg.InactiveThreshold == 0 {
		if isPedantic && limits.InactiveThreshold > 0 {
			return pedantic("inactive_threshold must be set if it's configured in stream limits")
		}
		cfg.InactiveThreshold = limits.InactiveThreshold
	}
	return nil
}

func smallestPositive(v int, limits ...int) int {
	for _, l := range limits {
		if l > 0 && l < v {
			v = l
		}
	}
	return v
}

func checkConsumerNames(cfg *ConsumerConfig, stream *StreamConfig, _ *ConsumerCheckOptions) *Error {
	if cfg.Name != "" && !ValidName(cfg.Name) {
		return invalidConsumer(`consumer name can not contain '.', '*', '>', '\', '/'`)
	}
	if cfg.Durable != "" && !ValidName(cfg.Durable) {
		return invalidConsumer(`consumer durable name can not contain '.', '*', '>', '\', '/'`)
	}
	if cfg.Replicas > 0 && cfg.Replicas > stream.Replicas {
		return E(ErrConsumerReplicasExceedsStream)
	}
	if cfg.Replicas < 0 {
		return E(ErrReplicasCountCannotBeNegative)
	}
	// Interest and work-queue streams count acks of all consumers: they share the stream's
	// replica count.
	if stream.Retention != LimitsRetention && cfg.Replicas != 0 && cfg.Replicas != stream.Replicas {
		return E(ErrConsumerReplicasShouldMatchStream)
	}
	return nil
}

// checkConsumerAcks checks ack waits, backoff and the flow_control ack policy.
func checkConsumerAcks(cfg *ConsumerConfig, _ *StreamConfig, _ *ConsumerCheckOptions) *Error {
	for _, b := range cfg.BackOff {
		if b < 0 {
			return E(ErrConsumerBackOffNegative)
		}
	}
	if cfg.AckWait < 0 {
		return E(ErrConsumerAckWaitNegative)
	}
	if cfg.AckPolicy == AckFlowControl {
		switch {
		case cfg.DeliverSubject == "":
			return E(ErrConsumerAckFCRequiresPush)
		case !cfg.FlowControl:
			return E(ErrConsumerAckFCRequiresFC)
		case cfg.Heartbeat != FlowControlHeartbeat:
			return invalidConsumer("flow control ack policy heartbeat needs to be 1s")
		case cfg.MaxAckPending <= 0:
			return E(ErrConsumerAckFCRequiresMaxAckPending)
		case cfg.AckWait != 0 || len(cfg.BackOff) > 0:
			return E(ErrConsumerAckFCRequiresNoAckWait)
		case cfg.MaxDeliver > 0:
			return E(ErrConsumerAckFCRequiresNoMaxDeliver)
		}
	}
	if n := len(cfg.BackOff); n > 0 && cfg.MaxDeliver != -1 && n > cfg.MaxDeliver {
		return E(ErrConsumerMaxDeliverBackoff)
	}
	if len(cfg.Description) > DescriptionLenMax {
		return NewError(ErrConsumerDescriptionTooLong, strconv.Itoa(DescriptionLenMax))
	}
	return nil
}

// checkPushOrPull checks the fields of one delivery mode, and that the other's are unset.
func checkPushOrPull(cfg *ConsumerConfig, stream *StreamConfig, opts *ConsumerCheckOptions) *Error {
	if cfg.DeliverSubject != "" {
		switch {
		case !subject.IsLiteral(cfg.DeliverSubject):
			return E(ErrConsumerDeliverToWildcards)
		case !validSubject(cfg.DeliverSubject):
			return E(ErrConsumerInvalidDeliverSubject)
		case deliveryFormsCycle(stream, cfg.DeliverSubject):
			return E(ErrConsumerDeliverCycle)
		case cfg.MaxWaiting != 0:
			return E(ErrConsumerPushMaxWaiting)
		case cfg.MaxAckPending > 0 && cfg.AckPolicy == AckNone:
			return E(ErrConsumerMaxPendingAckPolicyRequired)
		case cfg.Heartbeat > 0 && cfg.Heartbeat < HeartbeatMin:
			return E(ErrConsumerSmallHeartbeat)
		}
		return nil
	}
	switch {
	case cfg.AckPolicy == AckNone && stream.Retention == WorkQueueRetention:
		return E(ErrConsumerPullRequiresAck)
	case cfg.RateLimit > 0:
		return E(ErrConsumerPullWithRateLimit)
	case cfg.MaxWaiting < 0:
		return E(ErrConsumerMaxWaitingNegative)
	case cfg.Heartbeat > 0:
		return E(ErrConsumerHBRequiresPush)
	case cfg.FlowControl:
		return E(ErrConsumerFCRequiresPush)
	case cfg.MaxRequestBatch < 0:
		return E(ErrConsumerMaxRequestBatchNegative)
	case cfg.MaxRequestExpires != 0 && cfg.MaxRequestExpires < MaxRequestExpiresMin:
		return E(ErrConsumerMaxRequestExpiresTooSmall)
	case opts.MaxRequestBatch > 0 && cfg.MaxRequestBatch > opts.MaxRequestBatch:
		return NewError(ErrConsumerMaxRequestBatchExceeded, strconv.Itoa(opts.MaxRequestBatch))
	}
	return nil
}

// deliveryFormsCycle: pushing into the stream's own subjects would store the deliveries.
func deliveryFormsCycle(stream *StreamConfig, deliver string) bool {
	for _, s := range stream.Subjects {
		if subject.SubsetOf(deliver, s) {
			return true
		}
	}
	return false
}

func checkAckPendingLimits(cfg *ConsumerConfig, stream *StreamConfig, opts *ConsumerCheckOptions) *Error {
	for _, limit := range [...]int{opts.MaxAckPending, opts.AccountMaxAckPending, stream.ConsumerLimits.MaxAckPending} {
		if limit > 0 && cfg.MaxAckPending > limit {
			return NewError(ErrConsumerMaxPendingAckExcess, strconv.Itoa(limit))
		}
	}
	if limit := stream.ConsumerLimits.InactiveThreshold; limit > 0 && cfg.InactiveThreshold > limit {
		return NewError(ErrConsumerInactiveThresholdExcess, limit.String())
	}
	return nil
}

func checkConsumerDirect(cfg *ConsumerConfig, _ *StreamConfig, _ *ConsumerCheckOptions) *Error {
	if !cfg.Direct {
		return nil
	}
	if cfg.DeliverSubject == "" {
		return E(ErrConsumerDirectRequiresPush)
	}
	if cfg.Durable != "" {
		return E(ErrConsumerDirectRequiresEphemeral)
	}
	return nil
}

// Filters returns a consumer's filter subjects, whichever field holds them.
func (c *ConsumerConfig) Filters() []string {
	if c.FilterSubject != "" {
		return append(append([]string(nil), c.FilterSubjects...), c.FilterSubject)
	}
	return c.FilterSubjects
}

func checkConsumerFilters(cfg *ConsumerConfig, _ *StreamConfig, _ *ConsumerCheckOptions) *Error {
	if cfg.FilterSubject != "" && len(cfg.FilterSubjects) > 0 {
		return E(ErrConsumerBothFilters)
	}
	if cfg.FilterSubject != "" && !validSubject(cfg.FilterSubject) {
		return invalidConsumer(errBadSubject)
	}
	for _, f := range cfg.FilterSubjects {
		if f == "" {
			return E(ErrConsumerEmptyFilter)
		}
	}
	filters := cfg.Filters()
	for i, f := range filters {
		if !validSubject(f) {
			return invalidConsumer(errBadSubject)
		}
		for j, other := range filters {
			if i != j && subject.SubsetOf(f, other) {
				return E(ErrConsumerOverlapFilters)
			}
		}
	}
	return nil
}

// deliverWords is how each deliver policy reads in nats-server's texts.
var deliverWords = map[DeliverPolicy]string{
	DeliverAll: "all", DeliverLast: "last", DeliverLastPerSubject: "last per subject", DeliverNew: "new",
	DeliverByStartSeq: "by start sequence", DeliverByStartTime: "by start time",
}

// checkDeliverPolicy: a start sequence or time goes with its own policy only.
func checkDeliverPolicy(cfg *ConsumerConfig, _ *StreamConfig, _ *ConsumerCheckOptions) *Error {
	words := deliverWords[cfg.DeliverPolicy]
	badStart := func(start string) *Error {
		return NewError(ErrConsumerInvalidPolicy, "consumer delivery policy is deliver "+words+", but optional start "+start+" is also set")
	}
	notSet := func(what string) *Error {
		return NewError(ErrConsumerInvalidPolicy, "consumer delivery policy is deliver "+words+", but optional "+what+" is not set")
	}
	switch cfg.DeliverPolicy {
	case DeliverByStartSeq:
		if cfg.OptStartSeq == 0 {
			return notSet("start sequence")
		}
		if cfg.OptStartTime != nil {
			return badStart("time")
		}
	case DeliverByStartTime:
		if cfg.OptStartTime == nil {
			return notSet("start time")
		}
		if cfg.OptStartSeq != 0 {
			return badStart("start sequence")
		}
	default:
		if cfg.OptStartSeq > 0 {
			return badStart("sequence")
		}
		if cfg.OptStartTime != nil {
			return badStart("time")
		}
		if cfg.DeliverPolicy == DeliverLastPerSubject && cfg.FilterSubject == "" && len(cfg.FilterSubjects) == 0 {
			return notSet("filter subject")
		}
	}
	return nil
}

func checkConsumerMisc(cfg *ConsumerConfig, _ *StreamConfig, _ *ConsumerCheckOptions) *Error {
	if cfg.SampleFrequency != "" {
		n, err := strconv.Atoi(strings.TrimSuffix(cfg.SampleFrequency, "%"))
		if err != nil {
			return NewError(ErrConsumerInvalidSampling, err.Error())
		}
		if n < 0 {
			return NewError(ErrConsumerInvalidSampling, "<nil>")
		}
	}
	if cfg.FlowControl && cfg.Heartbeat == 0 {
		return E(ErrConsumerWithFlowControlNeedsHeartbeats)
	}
	if cfg.Durable != "" && cfg.Name != "" && cfg.Name != cfg.Durable {
		return E(ErrConsumerCreateDurableAndNameMismatch)
	}
	if metadataLen(cfg.Metadata) > MetadataLenMax {
		return NewError(ErrConsumerMetadataLength, strconv.Itoa(MetadataLenMax/1024)+"KB")
	}
	return nil
}

func checkPriorityGroups(cfg *ConsumerConfig, stream *StreamConfig, _ *ConsumerCheckOptions) *Error {
	if cfg.PriorityPolicy != "" {
		switch {
		case cfg.DeliverSubject != "":
			return E(ErrConsumerPushWithPriorityGroup)
		case len(cfg.PriorityGroups) == 0:
			return E(ErrConsumerPriorityPolicyWithoutGroup)
		}
		for _, g := range cfg.PriorityGroups {
			if g == "" {
				return E(ErrConsumerEmptyGroupName)
			}
			if !validGroupName(g) {
				return E(ErrConsumerInvalidGroupName)
			}
		}
	} else {
		if len(cfg.PriorityGroups) > 0 {
			return E(ErrConsumerPriorityGroupWithPolicyNone)
		}
		if cfg.PinnedTTL > 0 {
			return E(ErrConsumerPinnedTTLWithoutPriorityPolicyNone)
		}
	}
	if stream.Placement != nil && stream.Placement.Preferred != "" {
		return invalidConsumer("preferred server not permitted in placement")
	}
	return nil
}

// validGroupName: 1 to 16 of letters, digits, '/', '_', '=', '-'.
func validGroupName(g string) bool {
	if len(g) == 0 || len(g) > PriorityGroupLenMax {
		return false
	}
	for i := 0; i < len(g); i++ {
		c := g[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '/' || c == '_' || c == '=' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

// checkWorkQueueConsumer: a work queue removes a message once acked, so its consumers ack
// explicitly and start at the beginning (sourcing and direct consumers excepted).
func checkWorkQueueConsumer(cfg *ConsumerConfig, stream *StreamConfig, _ *ConsumerCheckOptions) *Error {
	if stream.Retention != WorkQueueRetention || cfg.Direct || cfg.Sourcing {
		return nil
	}
	if cfg.AckPolicy != AckExplicit && cfg.AckPolicy != AckFlowControl {
		return E(ErrConsumerWQRequiresExplicitAck)
	}
	if cfg.DeliverPolicy != DeliverAll {
		return E(ErrConsumerWQConsumerNotDeliverAll)
	}
	return nil
}

// WorkQueueFilters checks a new consumer's filters against the other consumers of a
// work-queue stream (others maps their names to their filters; the consumer's own name
// is skipped; direct and sourcing consumers are left out): only one may be unfiltered,
// and filters may not overlap.
func WorkQueueFilters(name string, filters []string, others map[string][]string) *Error {
	if len(others) == 0 {
		return nil
	}
	if len(filters) == 0 {
		return E(ErrConsumerWQMultipleUnfiltered)
	}
	for other, theirs := range others {
		if other == name {
			continue
		}
		if len(theirs) == 0 {
			return E(ErrConsumerWQConsumerNotUnique)
		}
		for _, f := range filters {
			for _, g := range theirs {
				if collide(f, g) {
					return E(ErrConsumerWQConsumerNotUnique)
				}
			}
		}
	}
	return nil
}
