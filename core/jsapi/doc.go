// Package jsapi is JetStream's API as clients see it: the JSON documents of `$JS.API.>`
// (stream and consumer configurations, infos, requests and responses), the error envelope
// with nats-server's error codes, the subjects, and the rules that check and complete a
// configuration (defaults filled in, what an update may change).
//
// It is a leaf (layer 0): plain types and pure functions, no I/O. The state machines
// (fsm/...) and the JetStream subsystem (core/jetstream) share these types so that what
// is stored, replicated and answered is one definition.
//
// Checking follows nats-server v2.15.2: the same defaults, the same error codes and texts,
// and the same order of checks, so a configuration with several faults gets the same first
// error. The create path is: DecodeRequest (strict JSON), SetStaticStreamMetadata,
// CheckStreamCreate (the request's rules, then StreamConfig.Check), then what needs the
// account (overlap with other streams, resources); an update is StreamConfig.Check then
// CheckStreamUpdate against the stored configuration. Consumers: CheckConsumerCreate
// (against the request subject), SetStaticConsumerMetadata, ConsumerConfig.Check, then
// CheckConsumerUpdate for an existing consumer or WorkQueueFilters and CheckConsumerName for
// a new one. Checks never change a configuration they refuse, and are idempotent. The
// golden files in testdata/jsapi are nats-server's own answers (cmd/petrel-jsgolden).
//
// JSON follows nats-server byte for byte where clients compare: durations are integer
// nanoseconds, times RFC 3339 with nanoseconds, enums lower-case strings, and omitempty
// exactly where nats-server has it (a client that compares a created config with its own
// request, as KV does, depends on it).
package jsapi
