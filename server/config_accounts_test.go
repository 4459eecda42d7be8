package server

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/petrel-io/petrel/core/account"
)

// The accounts block: users join their account; exports, imports, mappings, limits and the
// JetStream limits (nats-server's names and aliases) land in the account's configuration.
func TestConfigAccountsBlock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.conf")
	must(t, os.WriteFile(path, []byte(`accounts {
  A: {
    users: [ { user: a, password: a } ]
    exports: [ { service: "q.*", response_type: stream, latency: { sampling: "25%", subject: "lat" } } ]
    limits: { max_conn: 3, max_subs: 4, max_payload: 1KB }
    jetstream: { max_mem: 1G, max_file: 2G, streams: 5, consumers: 6, max_bytes_required: true, max_ack_pending: 7 }
    mappings: { "x": [ { destination: "y", weight: "40%" } ] }
  }
  B: { users: [ { user: b, password: b } ], imports: [ { service: { account: A, subject: "q.1" }, to: "one" } ] }
}
`), 0o600))
	opts, _, err := (&cli{opts: Options{ConfigFile: path}}).resolve()
	must(t, err)
	accs := opts.Core.Accounts
	if len(accs) != 2 || opts.Core.Auth.Users[0].Account != "A" || opts.Core.Auth.Users[1].Account != "B" {
		t.Fatalf("accounts %+v users %+v", accs, opts.Core.Auth.Users)
	}
	a := accs[0]
	want := account.JetStreamLimits{MaxMemory: 1e9, MaxStore: 2e9, // "G" is decimal, "GB" binary, as in nats-server
		MaxStreams: 5, MaxConsumers: 6, MaxAckPending: 7, MaxBytesRequired: true}
	switch {
	case !a.JetStream || a.JetStreamLimits != want:
		t.Errorf("jetstream %v %+v", a.JetStream, a.JetStreamLimits)
	case a.Limits != (account.Limits{MaxConnections: 3, MaxSubscriptions: 4, MaxPayload: 1024}):
		t.Errorf("limits %+v", a.Limits)
	case a.Exports[0].ResponseType != account.Streamed || a.Exports[0].Latency == nil || a.Exports[0].Latency.Sampling != 25:
		t.Errorf("export %+v", a.Exports[0])
	case len(a.Mappings) != 1 || a.Mappings[0].Destinations[0].Weight != 40:
		t.Errorf("mappings %+v", a.Mappings)
	case accs[1].Imports[0].To != "one" || accs[1].Imports[0].Kind != account.Service:
		t.Errorf("import %+v", accs[1].Imports[0])
	}
}
