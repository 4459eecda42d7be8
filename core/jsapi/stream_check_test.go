package jsapi

import (
	"reflect"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// filled is the configuration nats-server echoes for a stream named name with nothing set.
func filled(name string) StreamConfig {
	return StreamConfig{Name: name, Subjects: []string{name}, Retention: LimitsRetention, MaxConsumers: -1,
		MaxMsgs: -1, MaxBytes: -1, MaxMsgsPerSubject: -1, MaxMsgSize: -1, Discard: DiscardOld,
		Storage: FileStorage, Replicas: 1, Duplicates: 2 * time.Minute, Compression: NoCompression}
}

func TestStreamCheckFillsDefaults(t *testing.T) {
	cases := []struct {
		name string
		in   StreamConfig
		want func(*StreamConfig)
	}{
		{"minimal", StreamConfig{Name: "S"}, func(*StreamConfig) {}},
		{"negative limits mean unlimited", StreamConfig{Name: "S", MaxMsgs: -5, MaxBytes: -2, MaxMsgSize: -9},
			func(*StreamConfig) {}},
		{"max age caps the window", StreamConfig{Name: "S", MaxAge: time.Minute},
			func(c *StreamConfig) { c.MaxAge, c.Duplicates = time.Minute, time.Minute }},
		{"discard is case-insensitive", StreamConfig{Name: "S", Discard: "NEW"},
			func(c *StreamConfig) { c.Discard = DiscardNew }},
		{"persist default is omitted", StreamConfig{Name: "S", PersistMode: PersistDefault}, func(*StreamConfig) {}},
		{"empty placement is none", StreamConfig{Name: "S", Placement: &Placement{}}, func(*StreamConfig) {}},
		{"delete markers turn on TTLs and rollups", StreamConfig{Name: "S", SubjectDeleteMarkerTTL: time.Second, DenyPurge: false},
			func(c *StreamConfig) {
				c.SubjectDeleteMarkerTTL, c.AllowMsgTTL, c.AllowRollup = time.Second, true, true
			}},
		{"schedules turn on rollups", StreamConfig{Name: "S", AllowMsgSchedules: true},
			func(c *StreamConfig) { c.AllowMsgSchedules, c.AllowRollup = true, true }},
		{"republish source defaults to all", StreamConfig{Name: "S", RePublish: &RePublish{Destination: "out.>"}},
			func(c *StreamConfig) { c.RePublish = &RePublish{Source: ">", Destination: "out.>"} }},
		{"mirror has no subjects and no window", StreamConfig{Name: "M", Mirror: &StreamSource{Name: "S"}},
			func(c *StreamConfig) { c.Subjects, c.Duplicates, c.Mirror = nil, 0, &StreamSource{Name: "S"} }},
		{"kv bucket", StreamConfig{Name: "KV_b", Subjects: []string{"$KV.b.>"}, MaxMsgsPerSubject: 1, MaxBytes: -1,
			MaxMsgs: -1, MaxConsumers: -1, Discard: DiscardNew, AllowRollup: true, DenyDelete: true, AllowDirect: true,
			Storage: FileStorage, Replicas: 1, Duplicates: 2 * time.Minute, MaxMsgSize: -1},
			func(c *StreamConfig) {
				c.Subjects, c.MaxMsgsPerSubject, c.Discard = []string{"$KV.b.>"}, 1, DiscardNew
				c.AllowRollup, c.DenyDelete, c.AllowDirect = true, true, true
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.in
			if err := got.Check(StreamCheckOptions{}); err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			want := filled(c.in.Name)
			c.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestStreamCheckErrors(t *testing.T) {
	origin := StreamConfig{Name: "O", Subjects: []string{"o.>"}, MaxMsgSize: 100, AllowDirect: true}
	opts := StreamCheckOptions{Lookup: func(name string) (StreamConfig, bool) { return origin, name == "O" }}
	cases := []struct {
		name string
		cfg  StreamConfig
		opts StreamCheckOptions
		code ErrCode
		text string
	}{
		{"bad retention", StreamConfig{Name: "S", Retention: "forever"}, opts, ErrInvalidJSON, `invalid JSON: can not unmarshal "\"forever\""`},
		{"bad compression", StreamConfig{Name: "S", Compression: "zip"}, opts, ErrInvalidJSON, "invalid JSON: unknown compression algorithm"},
		{"no name", StreamConfig{}, opts, ErrStreamInvalidConfig, `stream name is required and can not contain '.', '*', '>', '\', '/'`},
		{"dotted name", StreamConfig{Name: "a.b"}, opts, ErrStreamInvalidConfig, `stream name is required and can not contain '.', '*', '>', '\', '/'`},
		{"long name", StreamConfig{Name: string(make([]byte, 256))}, opts, ErrStreamInvalidConfig, "stream name is too long, maximum allowed is 255"},
		{"six replicas", StreamConfig{Name: "S", Replicas: 6}, opts, ErrStreamInvalidConfig, "maximum replicas is 5"},
		{"negative replicas", StreamConfig{Name: "S", Replicas: -1}, opts, ErrReplicasCountCannotBeNegative, "replicas count cannot be negative"},
		{"three replicas alone", StreamConfig{Name: "S", Replicas: 3}, opts, ErrReplicasNotSupported, "replicas > 1 not supported in non-clustered mode"},
		{"pedantic limit", StreamConfig{Name: "S", MaxMsgs: -2}, StreamCheckOptions{Pedantic: true}, ErrPedantic, "pedantic mode: max_msgs must be set to -1"},
		{"negative age", StreamConfig{Name: "S", MaxAge: -1}, opts, ErrStreamInvalidConfig, "max age can not be negative"},
		{"tiny age", StreamConfig{Name: "S", MaxAge: time.Millisecond}, opts, ErrStreamInvalidConfig, "max age needs to be >= 100ms"},
		{"window over age", StreamConfig{Name: "S", MaxAge: time.Second, Duplicates: time.Minute}, opts, ErrStreamInvalidConfig, "duplicates window can not be larger then max age"},
		{"window over server", StreamConfig{Name: "S", Duplicates: time.Hour}, StreamCheckOptions{DuplicatesMax: time.Minute}, ErrStreamInvalidConfig, "duplicates window can not be larger then server limit of 1m0s"},
		{"tiny window", StreamConfig{Name: "S", Duplicates: time.Millisecond}, opts, ErrStreamInvalidConfig, "duplicates window needs to be >= 100ms"},
		{"rollup without purge", StreamConfig{Name: "S", DenyPurge: true, AllowRollup: true}, opts, ErrStreamInvalidConfig, "roll-ups require the purge permission"},
		{"counter discard new", StreamConfig{Name: "S", AllowMsgCounter: true, Discard: DiscardNew}, opts, ErrStreamInvalidConfig, "counter stream cannot use discard new"},
		{"per subject without new", StreamConfig{Name: "S", DiscardNewPerSubject: true}, opts, ErrStreamInvalidConfig, "discard new per subject requires discard new policy to be set"},
		{"per subject without limit", StreamConfig{Name: "S", DiscardNewPerSubject: true, Discard: DiscardNew}, opts, ErrStreamInvalidConfig, "discard new per subject requires max msgs per subject > 0"},
		{"short marker ttl", StreamConfig{Name: "S", SubjectDeleteMarkerTTL: time.Millisecond}, opts, ErrStreamInvalidConfig, "subject delete marker TTL must be at least 1 second"},
		{"async memory", StreamConfig{Name: "S", PersistMode: PersistAsync, Storage: MemoryStorage}, opts, ErrStreamInvalidConfig, "async persist mode is only supported on file storage"},
		{"mirror with subjects", StreamConfig{Name: "M", Subjects: []string{"x"}, Mirror: &StreamSource{Name: "O"}}, opts, ErrMirrorWithSubjects, "stream mirrors can not contain subjects"},
		{"mirror with sources", StreamConfig{Name: "M", Mirror: &StreamSource{Name: "O"}, Sources: []*StreamSource{{Name: "O"}}}, opts, ErrMirrorWithSources, "stream mirrors can not also contain other sources"},
		{"mirror with first seq", StreamConfig{Name: "M", FirstSeq: 5, Mirror: &StreamSource{Name: "O"}}, opts, ErrMirrorWithFirstSeq, "stream mirrors can not have first sequence configured"},
		{"mirror bad name", StreamConfig{Name: "M", Mirror: &StreamSource{Name: "a.b"}}, opts, ErrMirrorInvalidStreamName, "mirrored stream name is invalid"},
		{"mirror smaller messages", StreamConfig{Name: "M", MaxMsgSize: 10, Mirror: &StreamSource{Name: "O"}}, opts, ErrMirrorMaxMessageSizeTooBig, "stream mirror must have max message size >= source"},
		{"duplicate source", StreamConfig{Name: "S", Sources: []*StreamSource{{Name: "O"}, {Name: "O", FilterSubject: ">"}}}, opts, ErrSourceDuplicateDetected, "duplicate source configuration detected"},
		{"source both filters", StreamConfig{Name: "S", Sources: []*StreamSource{{Name: "O", FilterSubject: "a", SubjectTransforms: []SubjectTransform{{Source: "b"}}}}}, opts, ErrSourceMultipleFiltersNotAllowed, "source with multiple subject transforms cannot also have a single subject filter"},
		{"external api overlap", StreamConfig{Name: "S", Sources: []*StreamSource{{Name: "O", External: &ExternalStream{APIPrefix: "$JS.API"}}}}, opts, ErrStreamExternalApiOverlap, "stream external api prefix $JS.API must not overlap with $JS.API"},
		{"source cycle", StreamConfig{Name: "O", Subjects: []string{"o.>"}, Sources: []*StreamSource{{Name: "X"}}},
			StreamCheckOptions{Lookup: func(name string) (StreamConfig, bool) {
				return StreamConfig{Name: "X", Subjects: []string{"x"}, Sources: []*StreamSource{{Name: "O"}}}, name == "X"
			}}, ErrStreamInvalidConfig, "detected cycle"},
		{"invalid subject", StreamConfig{Name: "S", Subjects: []string{"a..b"}}, opts, ErrStreamInvalidConfig, "invalid subject"},
		// The overlap check with later subjects comes before the duplicate check sees the second.
		{"duplicate subject", StreamConfig{Name: "S", Subjects: []string{"a", "a"}}, opts, ErrStreamInvalidConfig, `subject "a" overlaps with "a"`},
		{"overlapping subjects", StreamConfig{Name: "S", Subjects: []string{"a.*", "a.b"}}, opts, ErrStreamInvalidConfig, `subject "a.*" overlaps with "a.b"`},
		{"capture all", StreamConfig{Name: "S", Subjects: []string{">"}}, opts, ErrStreamInvalidConfig, "capturing all subjects requires no-ack to be true"},
		{"api space", StreamConfig{Name: "S", Subjects: []string{"$JS.API.>"}}, opts, ErrStreamInvalidConfig, "subjects that overlap with jetstream api require no-ack to be true"},
		{"system space", StreamConfig{Name: "S", Subjects: []string{"$SYS.>"}}, opts, ErrStreamInvalidConfig, "subjects that overlap with system api require no-ack to be true"},
		{"max bytes required", StreamConfig{Name: "S"}, StreamCheckOptions{MaxBytesRequired: true}, ErrStreamMaxBytesRequired, "account requires a stream config to have max bytes set"},
		{"max bytes over account", StreamConfig{Name: "S", MaxBytes: 10}, StreamCheckOptions{StoreMaxStreamBytes: 5}, ErrStreamMaxStreamBytesExceeded, "stream max bytes exceeds account limit max stream bytes"},
		{"transform bad source", StreamConfig{Name: "S", SubjectTransform: &SubjectTransform{Source: "a..b", Destination: "x"}}, opts, ErrStreamTransformInvalidSource, "stream transform source: invalid subject a..b"},
		{"republish cycle", StreamConfig{Name: "S", Subjects: []string{"a.>"}, RePublish: &RePublish{Source: ">", Destination: "a.b"}}, opts, ErrStreamInvalidConfig, "stream configuration for republish destination forms a cycle"},
		{"preferred placement", StreamConfig{Name: "S", Placement: &Placement{Preferred: "n1"}}, opts, ErrStreamInvalidConfig, "preferred server not permitted in placement"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := c.cfg
			err := c.cfg.Check(c.opts)
			if err == nil || err.ErrCode != c.code || err.Description != c.text {
				t.Fatalf("got %+v, want %d %q", err, c.code, c.text)
			}
			if !reflect.DeepEqual(before, c.cfg) {
				t.Fatalf("a failed check changed the configuration")
			}
		})
	}
}

func TestCheckStreamCreateRequestRules(t *testing.T) {
	cases := []struct {
		name    string
		subject string
		cfg     StreamConfig
		code    ErrCode
	}{
		{"name mismatch", "T", StreamConfig{Name: "S"}, ErrStreamMismatch},
		{"path separator", `a\b`, StreamConfig{Name: `a\b`}, ErrStreamNameContainsPathSeparators},
		{"sealed", "S", StreamConfig{Name: "S", Sealed: true}, ErrStreamInvalidConfig},
		{"mirror direct alone", "S", StreamConfig{Name: "S", MirrorDirect: true}, ErrStreamInvalidConfig},
		{"bad source filter", "S", StreamConfig{Name: "S", Sources: []*StreamSource{{Name: "O", FilterSubject: "a..b"}}}, ErrStreamCreate},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := CheckStreamCreate(c.subject, &c.cfg, StreamCheckOptions{}); err == nil || err.ErrCode != c.code {
				t.Fatalf("got %+v, want %d", err, c.code)
			}
		})
	}
}

func TestCheckStreamUpdate(t *testing.T) {
	base := filled("S")
	cases := []struct {
		name   string
		change func(old, new *StreamConfig)
		text   string
	}{
		{"limits may change", func(_, n *StreamConfig) { n.MaxMsgs = 5 }, ""},
		{"storage", func(_, n *StreamConfig) { n.Storage = MemoryStorage }, "stream configuration update can not change storage type"},
		{"limits to interest", func(_, n *StreamConfig) { n.Retention = InterestRetention }, ""},
		{"to workqueue", func(_, n *StreamConfig) { n.Retention = WorkQueueRetention }, "stream configuration update can not change retention policy to/from workqueue"},
		{"unseal", func(o, _ *StreamConfig) { o.Sealed = true }, "stream configuration update can not unseal a sealed stream"},
		{"allow deletes again", func(o, _ *StreamConfig) { o.DenyDelete = true }, "stream configuration update can not cancel deny message deletes"},
		{"allow purges again", func(o, _ *StreamConfig) { o.DenyPurge = true }, "stream configuration update can not cancel deny purge"},
		{"ttl off", func(o, _ *StreamConfig) { o.AllowMsgTTL = true }, "message TTL status can not be disabled"},
		{"counter on", func(_, n *StreamConfig) { n.AllowMsgCounter = true }, "stream configuration update can not change message counter setting"},
		{"schedules off", func(o, _ *StreamConfig) { o.AllowMsgSchedules = true }, "message schedules can not be disabled"},
		{"persist mode", func(_, n *StreamConfig) { n.PersistMode = PersistAsync }, "stream configuration update can not change persist mode"},
		{"mirror changed", func(o, n *StreamConfig) {
			o.Mirror, n.Mirror = &StreamSource{Name: "A"}, &StreamSource{Name: "B"}
		}, "stream mirror configuration can not be updated"},
		{"mirror removed", func(o, _ *StreamConfig) { o.Mirror = &StreamSource{Name: "A"} }, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			old, new := base, base
			c.change(&old, &new)
			_, err := CheckStreamUpdate(old, new)
			if c.text == "" && err != nil || c.text != "" && (err == nil || err.Description != c.text) {
				t.Fatalf("got %v, want %q", err, c.text)
			}
		})
	}
	sealed := base
	sealed.Sealed, sealed.MaxAge, sealed.AllowRollup = true, time.Hour, true
	got, err := CheckStreamUpdate(base, sealed)
	if err != nil || got.MaxAge != 0 || got.Discard != DiscardNew || !got.DenyDelete || !got.DenyPurge || got.AllowRollup {
		t.Fatalf("sealing: got %+v %v", got, err)
	}
}

// streamConfigGen draws configurations, most of them valid, some not.
func streamConfigGen() *rapid.Generator[StreamConfig] {
	return rapid.Custom(func(t *rapid.T) StreamConfig {
		subj := rapid.SampledFrom([]string{"a", "a.*", "a.>", "b.c", ">", "$JS.API.>", "$KV.b.>", "a..b"})
		return StreamConfig{
			Name:                   rapid.SampledFrom([]string{"S", "KV_b", "", "a.b"}).Draw(t, "name"),
			Subjects:               rapid.SliceOfN(subj, 0, 3).Draw(t, "subjects"),
			Retention:              rapid.SampledFrom([]Retention{"", LimitsRetention, InterestRetention, WorkQueueRetention}).Draw(t, "retention"),
			MaxMsgs:                rapid.Int64Range(-3, 5).Draw(t, "max_msgs"),
			MaxBytes:               rapid.Int64Range(-3, 5).Draw(t, "max_bytes"),
			MaxAge:                 time.Duration(rapid.SampledFrom([]int64{0, -1, 1e6, 1e9, 3e11}).Draw(t, "max_age")),
			MaxMsgsPerSubject:      rapid.Int64Range(-3, 5).Draw(t, "per_subject"),
			Discard:                rapid.SampledFrom([]Discard{"", DiscardOld, DiscardNew, "NEW"}).Draw(t, "discard"),
			Storage:                rapid.SampledFrom([]Storage{"", FileStorage, MemoryStorage}).Draw(t, "storage"),
			Replicas:               rapid.IntRange(-1, 6).Draw(t, "replicas"),
			NoAck:                  rapid.Bool().Draw(t, "no_ack"),
			Duplicates:             time.Duration(rapid.SampledFrom([]int64{0, 1e6, 1e9, 2e11}).Draw(t, "dup")),
			DenyPurge:              rapid.Bool().Draw(t, "deny_purge"),
			AllowRollup:            rapid.Bool().Draw(t, "rollup"),
			SubjectDeleteMarkerTTL: time.Duration(rapid.SampledFrom([]int64{0, 1e9}).Draw(t, "sdm")),
			AllowMsgSchedules:      rapid.Bool().Draw(t, "schedules"),
			PersistMode:            rapid.SampledFrom([]PersistMode{"", PersistDefault, PersistAsync}).Draw(t, "persist"),
		}
	})
}

// Check is idempotent: what passed passes again unchanged; and a failed check leaves the
// configuration as it was.
func TestStreamCheckIdempotent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := streamConfigGen().Draw(t, "cfg")
		before := cfg
		opts := StreamCheckOptions{Clustered: rapid.Bool().Draw(t, "clustered")}
		if err := cfg.Check(opts); err != nil {
			if !reflect.DeepEqual(before, cfg) {
				t.Fatalf("failed check changed the configuration")
			}
			return
		}
		again := cfg
		if err := again.Check(opts); err != nil || !reflect.DeepEqual(again, cfg) {
			t.Fatalf("second check: %v\n%+v\n%+v", err, cfg, again)
		}
		if cfg.MaxMsgs == 0 || cfg.Replicas == 0 || len(cfg.Subjects) == 0 || cfg.Storage == "" {
			t.Fatalf("defaults not filled: %+v", cfg)
		}
	})
}
