// Package jsapi is JetStream's API as clients see it: the JSON documents of `$JS.API.>`
// (stream and consumer configurations, infos, requests and responses), the error envelope
// with nats-server's error codes, the subjects, and the rules that check and complete a
// configuration (defaults filled in, what an update may change).
//
// It is a leaf (layer 0): plain types and pure functions, no I/O. The state machines
// (fsm/...) and the JetStream subsystem (core/jetstream) share these types so that what
// is stored, replicated and answered is one definition.
//
// JSON follows nats-server byte for byte where clients compare: durations are integer
// nanoseconds, times RFC 3339 with nanoseconds, enums lower-case strings, and omitempty
// exactly where nats-server has it (a client that compares a created config with its own
// request, as KV does, depends on it).
package jsapi
