package jsapi

import (
	"reflect"
	"testing"
	"time"

	"pgregory.net/rapid"
)

func checkedStream(t testing.TB, cfg StreamConfig) StreamConfig {
	t.Helper()
	if err := cfg.Check(StreamCheckOptions{Clustered: true}); err != nil {
		t.Fatalf("stream: %v", err)
	}
	return cfg
}

func TestConsumerCheckFillsDefaults(t *testing.T) {
	stream := checkedStream(t, StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	cases := []struct {
		name string
		in   ConsumerConfig
		want ConsumerConfig
	}{
		{"bench durable", ConsumerConfig{Durable: "nats-bench", DeliverPolicy: DeliverAll, AckPolicy: AckExplicit,
			ReplayPolicy: ReplayInstant, MaxAckPending: 500, InactiveThreshold: 10 * time.Second},
			ConsumerConfig{Durable: "nats-bench", DeliverPolicy: DeliverAll, AckPolicy: AckExplicit, AckWait: 30 * time.Second,
				MaxDeliver: -1, ReplayPolicy: ReplayInstant, MaxWaiting: 512, MaxAckPending: 500, InactiveThreshold: 10 * time.Second}},
		{"bench ordered", ConsumerConfig{Name: "x_1", DeliverPolicy: DeliverAll, AckPolicy: AckNone, ReplayPolicy: ReplayInstant,
			InactiveThreshold: 10 * time.Second, Replicas: 1, MemoryStorage: true},
			ConsumerConfig{Name: "x_1", DeliverPolicy: DeliverAll, AckPolicy: AckNone, MaxDeliver: -1, ReplayPolicy: ReplayInstant,
				MaxWaiting: 512, InactiveThreshold: 10 * time.Second, Replicas: 1, MemoryStorage: true}},
		{"empty ephemeral", ConsumerConfig{},
			ConsumerConfig{DeliverPolicy: DeliverAll, AckPolicy: AckNone, MaxDeliver: -1, ReplayPolicy: ReplayInstant,
				MaxWaiting: 512, InactiveThreshold: 5 * time.Second}},
		{"kv watch push", ConsumerConfig{DeliverSubject: "_INBOX.w", DeliverPolicy: DeliverLastPerSubject, AckPolicy: AckNone,
			FilterSubject: "s.b.>", FlowControl: true, Heartbeat: 5 * time.Second, MemoryStorage: true, Replicas: 1, HeadersOnly: true},
			ConsumerConfig{DeliverSubject: "_INBOX.w", DeliverPolicy: DeliverLastPerSubject, AckPolicy: AckNone, MaxDeliver: -1,
				FilterSubject: "s.b.>", ReplayPolicy: ReplayInstant, FlowControl: true, Heartbeat: 5 * time.Second,
				MemoryStorage: true, Replicas: 1, HeadersOnly: true, InactiveThreshold: 5 * time.Second}},
		{"backoff sets ack wait", ConsumerConfig{Durable: "d", AckPolicy: AckExplicit, BackOff: []time.Duration{time.Second, 2 * time.Second}},
			ConsumerConfig{Durable: "d", DeliverPolicy: DeliverAll, AckPolicy: AckExplicit, AckWait: time.Second, MaxDeliver: -1,
				BackOff: []time.Duration{time.Second, 2 * time.Second}, ReplayPolicy: ReplayInstant, MaxWaiting: 512, MaxAckPending: 1000}},
		{"pinned client gets a ttl", ConsumerConfig{Durable: "d", AckPolicy: AckExplicit, PriorityPolicy: PriorityPinnedClient, PriorityGroups: []string{"A"}},
			ConsumerConfig{Durable: "d", DeliverPolicy: DeliverAll, AckPolicy: AckExplicit, AckWait: 30 * time.Second, MaxDeliver: -1,
				ReplayPolicy: ReplayInstant, MaxWaiting: 512, MaxAckPending: 1000, PriorityPolicy: PriorityPinnedClient,
				PriorityGroups: []string{"A"}, PinnedTTL: 2 * time.Minute}},
		{"priority none is omitted", ConsumerConfig{Durable: "d", PriorityPolicy: PriorityNone},
			ConsumerConfig{Durable: "d", DeliverPolicy: DeliverAll, AckPolicy: AckNone, MaxDeliver: -1, ReplayPolicy: ReplayInstant, MaxWaiting: 512}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.in
			if err := got.Check(stream, ConsumerCheckOptions{}); err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestConsumerCheckLimitsFromStreamServerAccount(t *testing.T) {
	stream := checkedStream(t, StreamConfig{Name: "S", ConsumerLimits: StreamConsumerLimits{MaxAckPending: 50, InactiveThreshold: time.Minute}})
	cfg := ConsumerConfig{AckPolicy: AckExplicit}
	if err := cfg.Check(stream, ConsumerCheckOptions{}); err != nil || cfg.MaxAckPending != 50 || cfg.InactiveThreshold != time.Minute {
		t.Fatalf("stream limits: %+v %v", cfg, err)
	}
	plain := checkedStream(t, StreamConfig{Name: "S"})
	cfg = ConsumerConfig{AckPolicy: AckExplicit}
	if err := cfg.Check(plain, ConsumerCheckOptions{MaxAckPending: 700, AccountMaxAckPending: 300}); err != nil || cfg.MaxAckPending != 300 {
		t.Fatalf("account limit: %+v %v", cfg, err)
	}
}

func TestConsumerCheckErrors(t *testing.T) {
	limits := checkedStream(t, StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	wq := checkedStream(t, StreamConfig{Name: "W", Retention: WorkQueueRetention})
	start := time.Unix(1, 0)
	cases := []struct {
		name   string
		stream StreamConfig
		cfg    ConsumerConfig
		code   ErrCode
		text   string
	}{
		{"bad ack policy", limits, ConsumerConfig{AckPolicy: "maybe"}, ErrInvalidJSON, `invalid JSON: can not unmarshal "\"maybe\""`},
		{"bad name", limits, ConsumerConfig{Name: "a.b"}, ErrStreamInvalidConfig, `consumer name can not contain '.', '*', '>', '\', '/'`},
		{"bad durable", limits, ConsumerConfig{Durable: "a*"}, ErrStreamInvalidConfig, `consumer durable name can not contain '.', '*', '>', '\', '/'`},
		{"more replicas than stream", limits, ConsumerConfig{Replicas: 3}, ErrConsumerReplicasExceedsStream, "consumer config replica count exceeds parent stream"},
		{"negative ack wait", limits, ConsumerConfig{AckPolicy: AckExplicit, AckWait: -1}, ErrConsumerAckWaitNegative, "consumer ack wait needs to be positive"},
		{"backoff over max deliver", limits, ConsumerConfig{AckPolicy: AckExplicit, MaxDeliver: 1, BackOff: []time.Duration{1, 2}}, ErrConsumerMaxDeliverBackoff, "max deliver is required to be > length of backoff values"},
		{"wildcard deliver subject", limits, ConsumerConfig{DeliverSubject: "a.*"}, ErrConsumerDeliverToWildcards, "consumer deliver subject has wildcards"},
		{"deliver into the stream", limits, ConsumerConfig{DeliverSubject: "s.x"}, ErrConsumerDeliverCycle, "consumer deliver subject forms a cycle"},
		{"push max waiting", limits, ConsumerConfig{DeliverSubject: "d", MaxWaiting: 5}, ErrConsumerPushMaxWaiting, "consumer in push mode can not set max waiting"},
		{"small heartbeat", limits, ConsumerConfig{DeliverSubject: "d", Heartbeat: time.Millisecond}, ErrConsumerSmallHeartbeat, "consumer idle heartbeat needs to be >= 100ms"},
		{"pull on work queue without acks", wq, ConsumerConfig{AckPolicy: AckNone}, ErrConsumerPullRequiresAck, "consumer in pull mode requires explicit ack policy on workqueue stream"},
		{"pull heartbeat", limits, ConsumerConfig{Heartbeat: time.Second}, ErrConsumerHBRequiresPush, "consumer idle heartbeat requires a push based consumer"},
		{"pull flow control", limits, ConsumerConfig{FlowControl: true}, ErrConsumerFCRequiresPush, "consumer flow control requires a push based consumer"},
		{"pull rate limit", limits, ConsumerConfig{RateLimit: 5}, ErrConsumerPullWithRateLimit, "consumer in pull mode can not have rate limit set"},
		{"tiny max expires", limits, ConsumerConfig{MaxRequestExpires: 1}, ErrConsumerMaxRequestExpiresTooSmall, "consumer max request expires needs to be >= 1ms"},
		{"ack pending over stream limit", checkedStream(t, StreamConfig{Name: "L", ConsumerLimits: StreamConsumerLimits{MaxAckPending: 5}}),
			ConsumerConfig{AckPolicy: AckExplicit, MaxAckPending: 10}, ErrConsumerMaxPendingAckExcess, "consumer max ack pending exceeds system limit of 5"},
		{"both filters", limits, ConsumerConfig{FilterSubject: "s.a", FilterSubjects: []string{"s.b"}}, ErrConsumerBothFilters, "consumer cannot have both FilterSubject and FilterSubjects specified"},
		{"empty filter", limits, ConsumerConfig{FilterSubjects: []string{""}}, ErrConsumerEmptyFilter, "consumer filter in FilterSubjects cannot be empty"},
		{"overlapping filters", limits, ConsumerConfig{FilterSubjects: []string{"s.*", "s.a"}}, ErrConsumerOverlapFilters, "consumer subject filters cannot overlap"},
		{"invalid filter", limits, ConsumerConfig{FilterSubject: "s..a"}, ErrStreamInvalidConfig, "invalid subject"},
		{"all with start seq", limits, ConsumerConfig{OptStartSeq: 5}, ErrConsumerInvalidPolicy, "consumer delivery policy is deliver all, but optional start sequence is also set"},
		{"last per subject without filter", limits, ConsumerConfig{DeliverPolicy: DeliverLastPerSubject}, ErrConsumerInvalidPolicy, "consumer delivery policy is deliver last per subject, but optional filter subject is not set"},
		{"by start seq without seq", limits, ConsumerConfig{DeliverPolicy: DeliverByStartSeq}, ErrConsumerInvalidPolicy, "consumer delivery policy is deliver by start sequence, but optional start sequence is not set"},
		{"by start time with seq", limits, ConsumerConfig{DeliverPolicy: DeliverByStartTime, OptStartTime: &start, OptStartSeq: 1}, ErrConsumerInvalidPolicy, "consumer delivery policy is deliver by start time, but optional start start sequence is also set"},
		{"bad sampling", limits, ConsumerConfig{SampleFrequency: "x%"}, ErrConsumerInvalidSampling, `failed to parse consumer sampling configuration: strconv.Atoi: parsing "x": invalid syntax`},
		{"flow control without heartbeat", limits, ConsumerConfig{DeliverSubject: "d", FlowControl: true}, ErrConsumerWithFlowControlNeedsHeartbeats, "consumer with flow control also needs heartbeats"},
		{"durable and name differ", limits, ConsumerConfig{Durable: "a", Name: "b"}, ErrConsumerCreateDurableAndNameMismatch, "Consumer Durable and Name have to be equal if both are provided"},
		{"priority on push", limits, ConsumerConfig{DeliverSubject: "d", PriorityPolicy: PriorityOverflow}, ErrConsumerPushWithPriorityGroup, "priority groups can not be used with push consumers"},
		{"priority without group", limits, ConsumerConfig{PriorityPolicy: PriorityOverflow}, ErrConsumerPriorityPolicyWithoutGroup, "Setting PriorityPolicy requires at least one PriorityGroup to be set"},
		{"bad group name", limits, ConsumerConfig{PriorityPolicy: PriorityOverflow, PriorityGroups: []string{"a b"}}, ErrConsumerInvalidGroupName, "Valid priority group name must match A-Z, a-z, 0-9, -_/=)+ and may not exceed 16 characters"},
		{"group without policy", limits, ConsumerConfig{PriorityGroups: []string{"A"}}, ErrConsumerPriorityGroupWithPolicyNone, "consumer can not have priority groups when policy is none"},
		{"work queue needs explicit acks", wq, ConsumerConfig{AckPolicy: AckAll}, ErrConsumerWQRequiresExplicitAck, "workqueue stream requires explicit ack"},
		{"work queue delivers all", wq, ConsumerConfig{AckPolicy: AckExplicit, DeliverPolicy: DeliverNew}, ErrConsumerWQConsumerNotDeliverAll, "consumer must be deliver all on workqueue stream"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := c.cfg
			err := c.cfg.Check(c.stream, ConsumerCheckOptions{})
			if err == nil || err.ErrCode != c.code || err.Description != c.text {
				t.Fatalf("got %+v, want %d %q", err, c.code, c.text)
			}
			if !reflect.DeepEqual(before, c.cfg) {
				t.Fatal("a failed check changed the configuration")
			}
		})
	}
}

func TestCheckConsumerCreate(t *testing.T) {
	cases := []struct {
		name      string
		subj      string
		req       CreateConsumerRequest
		clustered bool
		code      ErrCode
		wantName  string
	}{
		{"named", "$JS.API.CONSUMER.CREATE.S.C", CreateConsumerRequest{Stream: "S"}, false, 0, "C"},
		{"durable matches", "$JS.API.CONSUMER.CREATE.S.C", CreateConsumerRequest{Stream: "S", Config: ConsumerConfig{Durable: "C"}}, false, 0, "C"},
		{"filter matches", "$JS.API.CONSUMER.CREATE.S.C.a.b", CreateConsumerRequest{Stream: "S", Config: ConsumerConfig{FilterSubject: "a.b"}}, false, 0, "C"},
		{"stream mismatch", "$JS.API.CONSUMER.CREATE.S.C", CreateConsumerRequest{Stream: "T"}, false, ErrStreamMismatch, ""},
		{"durable mismatch", "$JS.API.CONSUMER.CREATE.S.C", CreateConsumerRequest{Stream: "S", Config: ConsumerConfig{Durable: "D"}}, false, ErrConsumerDurableNameNotMatchSubject, ""},
		{"filter mismatch", "$JS.API.CONSUMER.CREATE.S.C.a", CreateConsumerRequest{Stream: "S", Config: ConsumerConfig{FilterSubject: "b"}}, false, ErrConsumerFilterMismatch, ""},
		{"filter and filters", "$JS.API.CONSUMER.CREATE.S.C.a", CreateConsumerRequest{Stream: "S", Config: ConsumerConfig{FilterSubjects: []string{"a"}}}, false, ErrConsumerMultipleFiltersNotAllowed, ""},
		{"legacy durable without durable", "$JS.API.CONSUMER.DURABLE.CREATE.S.D", CreateConsumerRequest{Stream: "S"}, false, ErrConsumerDurableNameNotSet, ""},
		{"legacy ephemeral with durable", "$JS.API.CONSUMER.CREATE.S", CreateConsumerRequest{Stream: "S", Config: ConsumerConfig{Durable: "D"}}, false, ErrConsumerEphemeralWithDurableName, ""},
		{"replicas alone", "$JS.API.CONSUMER.CREATE.S.C", CreateConsumerRequest{Stream: "S", Config: ConsumerConfig{Replicas: 3}}, false, ErrReplicasNotSupported, ""},
		{"replicas clustered", "$JS.API.CONSUMER.CREATE.S.C", CreateConsumerRequest{Stream: "S", Config: ConsumerConfig{Replicas: 3}}, true, 0, "C"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			verb, stream, consumer, rest, ok := ParseAPISubject(c.subj)
			if !ok {
				t.Fatal("subject")
			}
			err := CheckConsumerCreate(verb, stream, consumer, rest, &c.req, c.clustered)
			if c.code == 0 && (err != nil || c.req.Config.Name != c.wantName) || c.code != 0 && (err == nil || err.ErrCode != c.code) {
				t.Fatalf("got %v name %q, want %d %q", err, c.req.Config.Name, c.code, c.wantName)
			}
		})
	}
}

func TestCheckConsumerUpdate(t *testing.T) {
	stream := checkedStream(t, StreamConfig{Name: "S"})
	base := ConsumerConfig{Durable: "d", AckPolicy: AckExplicit}
	if err := base.Check(stream, ConsumerCheckOptions{}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		change func(*ConsumerConfig)
		text   string
	}{
		{"same", func(*ConsumerConfig) {}, ""},
		{"ack wait may change", func(c *ConsumerConfig) { c.AckWait = time.Minute }, ""},
		{"max ack pending may change", func(c *ConsumerConfig) { c.MaxAckPending = 5 }, ""},
		{"deliver policy", func(c *ConsumerConfig) { c.DeliverPolicy = DeliverNew }, "deliver policy can not be updated"},
		{"ack policy", func(c *ConsumerConfig) { c.AckPolicy = AckAll }, "ack policy can not be updated"},
		{"memory", func(c *ConsumerConfig) { c.MemoryStorage = true }, "storage type can not be updated"},
		{"pull to push", func(c *ConsumerConfig) { c.DeliverSubject = "x" }, "can not update pull consumer to push based"},
		{"max waiting", func(c *ConsumerConfig) { c.MaxWaiting = 1 }, "max waiting can not be updated"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			new := base
			c.change(&new)
			err := CheckConsumerUpdate(base, new)
			if c.text == "" && err != nil || c.text != "" && (err == nil || err.ErrCode != ErrConsumerCreate || err.Description != c.text) {
				t.Fatalf("got %v, want %q", err, c.text)
			}
		})
	}
}

func TestWorkQueueFilters(t *testing.T) {
	cases := []struct {
		name    string
		filters []string
		others  map[string][]string
		code    ErrCode
	}{
		{"first consumer", nil, nil, 0},
		{"second unfiltered", nil, map[string][]string{"a": {"x"}}, ErrConsumerWQMultipleUnfiltered},
		{"disjoint", []string{"y"}, map[string][]string{"a": {"x"}}, 0},
		{"overlap", []string{"x.*"}, map[string][]string{"a": {"x.b"}}, ErrConsumerWQConsumerNotUnique},
		{"other unfiltered", []string{"y"}, map[string][]string{"a": nil}, ErrConsumerWQConsumerNotUnique},
		{"itself skipped", []string{"x"}, map[string][]string{"me": {"x"}}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := WorkQueueFilters("me", c.filters, c.others)
			if c.code == 0 && err != nil || c.code != 0 && (err == nil || err.ErrCode != c.code) {
				t.Fatalf("got %v, want %d", err, c.code)
			}
		})
	}
}

func consumerConfigGen() *rapid.Generator[ConsumerConfig] {
	return rapid.Custom(func(t *rapid.T) ConsumerConfig {
		dur := func(label string, values ...int64) time.Duration {
			return time.Duration(rapid.SampledFrom(values).Draw(t, label))
		}
		return ConsumerConfig{
			Durable:           rapid.SampledFrom([]string{"", "d", "a.b"}).Draw(t, "durable"),
			Name:              rapid.SampledFrom([]string{"", "d", "n"}).Draw(t, "name"),
			DeliverPolicy:     rapid.SampledFrom([]DeliverPolicy{"", DeliverAll, DeliverNew, DeliverLastPerSubject, DeliverByStartSeq}).Draw(t, "deliver"),
			OptStartSeq:       rapid.Uint64Range(0, 2).Draw(t, "start"),
			AckPolicy:         rapid.SampledFrom([]AckPolicy{"", AckNone, AckAll, AckExplicit, AckFlowControl}).Draw(t, "ack"),
			AckWait:           dur("ack_wait", 0, -1, 1e9),
			MaxDeliver:        rapid.IntRange(-3, 3).Draw(t, "max_deliver"),
			BackOff:           rapid.SliceOfN(rapid.Just(time.Second), 0, 2).Draw(t, "backoff"),
			FilterSubject:     rapid.SampledFrom([]string{"", "s.a", "s.*"}).Draw(t, "filter"),
			FilterSubjects:    rapid.SliceOfN(rapid.SampledFrom([]string{"s.b", "s.>", ""}), 0, 2).Draw(t, "filters"),
			MaxWaiting:        rapid.IntRange(-1, 2).Draw(t, "max_waiting"),
			MaxAckPending:     rapid.IntRange(-2, 2).Draw(t, "max_ack_pending"),
			FlowControl:       rapid.Bool().Draw(t, "fc"),
			DeliverSubject:    rapid.SampledFrom([]string{"", "d", "s.x"}).Draw(t, "deliver_subject"),
			Heartbeat:         dur("hb", 0, -1, 1e9, 1e6),
			InactiveThreshold: dur("inactive", 0, -1, 1e9),
			Replicas:          rapid.IntRange(-1, 3).Draw(t, "replicas"),
			PriorityPolicy:    rapid.SampledFrom([]PriorityPolicy{"", PriorityNone, PriorityPinnedClient}).Draw(t, "pp"),
			PriorityGroups:    rapid.SliceOfN(rapid.SampledFrom([]string{"A", "bad group"}), 0, 1).Draw(t, "groups"),
		}
	})
}

func TestConsumerCheckIdempotent(t *testing.T) {
	streams := []StreamConfig{
		checkedStream(t, StreamConfig{Name: "S", Subjects: []string{"s.>"}}),
		checkedStream(t, StreamConfig{Name: "W", Retention: WorkQueueRetention, Replicas: 3}),
		checkedStream(t, StreamConfig{Name: "L", ConsumerLimits: StreamConsumerLimits{MaxAckPending: 2, InactiveThreshold: time.Second}}),
	}
	rapid.Check(t, func(t *rapid.T) {
		stream := rapid.SampledFrom(streams).Draw(t, "stream")
		cfg := consumerConfigGen().Draw(t, "cfg")
		before := cfg
		if err := cfg.Check(stream, ConsumerCheckOptions{}); err != nil {
			if !reflect.DeepEqual(before, cfg) {
				t.Fatal("failed check changed the configuration")
			}
			return
		}
		again := cfg
		if err := again.Check(stream, ConsumerCheckOptions{}); err != nil || !reflect.DeepEqual(again, cfg) {
			t.Fatalf("second check: %v\n%+v\n%+v", err, cfg, again)
		}
		if err := CheckConsumerUpdate(cfg, again); err != nil {
			t.Fatalf("an unchanged update is refused: %v", err)
		}
	})
}
