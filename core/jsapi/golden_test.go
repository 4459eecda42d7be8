package jsapi

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The golden files under testdata/jsapi are nats-server v2.15.2's answers to
// STREAM.CREATE and CONSUMER.CREATE requests, recorded by cmd/petrel-jsgolden. This test
// feeds each request through the same checks the server makes and compares the filled-in
// configuration (or the error) with the recorded answer. Only per-run fields are ignored:
// created, ts, state, and the metadata keys the server adds to every answer (_nats.ver,
// _nats.level, which name nats-server's version and level, not Petrel's).

type goldenCase struct {
	Name     string          `json:"name"`
	Subject  string          `json:"subject"`
	Stream   string          `json:"stream"`
	Request  json.RawMessage `json:"request"`
	Response json.RawMessage `json:"response"`
}

type goldenAnswer struct {
	Error  *Error          `json:"error"`
	Config json.RawMessage `json:"config"`
}

func loadGolden(t *testing.T) map[string]goldenCase {
	t.Helper()
	paths, err := filepath.Glob("testdata/jsapi/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	cases := map[string]goldenCase{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var c goldenCase
		if err := json.Unmarshal(data, &c); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		cases[c.Name] = c
	}
	return cases
}

func TestGoldenCreates(t *testing.T) {
	cases := loadGolden(t)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if string(c.Response) == "null" {
				if _, _, _, _, ok := ParseAPISubject(c.Subject); ok {
					t.Fatalf("nats-server did not answer %q, but it parses", c.Subject)
				}
				return
			}
			var want goldenAnswer
			if err := json.Unmarshal(c.Response, &want); err != nil {
				t.Fatal(err)
			}
			var config any
			var err *Error
			if c.Stream == "" {
				config, err = goldenStream(t, c)
			} else {
				config, err = goldenConsumer(t, c, cases[c.Stream])
			}
			compareGolden(t, want, config, err)
		})
	}
}

func goldenStream(t *testing.T, c goldenCase) (any, *Error) {
	verb, name, _, _, ok := ParseAPISubject(c.Subject)
	if !ok || verb != VerbStreamCreate {
		t.Fatalf("subject %q", c.Subject)
	}
	var cfg StreamConfig
	if err := DecodeRequest(c.Request, &cfg); err != nil {
		return nil, err
	}
	SetStaticStreamMetadata(&cfg)
	if err := CheckStreamCreate(name, &cfg, StreamCheckOptions{}); err != nil {
		return nil, err
	}
	return cfg, nil
}

// storedStream is the configuration a stream case's answer shows, as the server keeps it.
func storedStream(t *testing.T, c goldenCase) StreamConfig {
	var answer struct{ Config StreamConfig }
	if err := json.Unmarshal(c.Response, &answer); err != nil || answer.Config.Name == "" {
		t.Fatalf("stream case %s: %v", c.Name, err)
	}
	delete(answer.Config.Metadata, MetadataServerVersion)
	delete(answer.Config.Metadata, MetadataServerLevel)
	return answer.Config
}

func goldenConsumer(t *testing.T, c, streamCase goldenCase) (any, *Error) {
	stream := storedStream(t, streamCase)
	verb, streamName, consumer, filter, ok := ParseAPISubject(c.Subject)
	if !ok {
		t.Fatalf("subject %q", c.Subject)
	}
	var req CreateConsumerRequest
	if err := DecodeRequest(c.Request, &req); err != nil {
		return nil, err
	}
	if err := CheckConsumerCreate(verb, streamName, consumer, filter, &req, false); err != nil {
		return nil, err
	}
	if req.Stream != stream.Name {
		t.Fatalf("case %s uses stream %s, recorded on %s", c.Name, req.Stream, stream.Name)
	}
	SetStaticConsumerMetadata(&req.Config)
	if err := req.Config.Check(stream, ConsumerCheckOptions{}); err != nil {
		return nil, err
	}
	// A legacy ephemeral's generated name shows in its info, never in its configuration.
	return req.Config, nil
}

func compareGolden(t *testing.T, want goldenAnswer, config any, err *Error) {
	t.Helper()
	if want.Error != nil || err != nil {
		if want.Error == nil || err == nil || *want.Error != *err {
			t.Fatalf("error: got %+v, want %+v", err, want.Error)
		}
		return
	}
	got, marshalErr := json.Marshal(config)
	if marshalErr != nil {
		t.Fatal(marshalErr)
	}
	gotMap, wantMap := comparable(t, got), comparable(t, want.Config)
	if !reflect.DeepEqual(gotMap, wantMap) {
		t.Fatalf("config:\n got  %s\n want %s", got, want.Config)
	}
}

// comparable decodes a configuration and drops the answer-only metadata keys.
func comparable(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if meta, ok := m["metadata"].(map[string]any); ok {
		for k := range meta {
			if strings.HasPrefix(k, "_nats.") && k != MetadataRequiredLevel {
				delete(meta, k)
			}
		}
	}
	return m
}
