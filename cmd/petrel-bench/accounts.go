package main

import (
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"
)

// The account scenarios run both servers with the same accounts file: A exports a stream
// ("bench") and a service ("bench.req"); B imports both. Publishing inside A measures the
// publish path with accounts configured; the imports measure a message crossing them.
const accountsConf = `
accounts {
  A: {
    users: [ { user: a, password: a } ]
    exports: [ { stream: "bench" }, { service: "bench.req" } ]
  }
  B: {
    users: [ { user: b, password: b } ]
    imports: [
      { stream: { account: A, subject: "bench" }, prefix: "fromA" }
      { service: { account: A, subject: "bench.req" }, to: "svc" }
    ]
  }
}
`

// writeAccountsConf writes the accounts file once per run.
var writeAccountsConf = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "petrel-bench")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "accounts.conf")
	return path, os.WriteFile(path, []byte(accountsConf), 0o600)
})

// as is url with a user's credentials.
func as(url, user string) string {
	return strings.Replace(url, "nats://", "nats://"+user+":"+user+"@", 1)
}

func accountScenarios() []scenario {
	return []scenario{
		{name: "acct publish", unit: "msgs/s", accounts: true, run: func(url string, cfg config) (float64, error) {
			return benchPublish(as(url, "a"), cfg)
		}},
		{name: "acct pub/sub", unit: "msgs/s", accounts: true, run: func(url string, cfg config) (float64, error) {
			return fanOut(as(url, "a"), as(url, "a"), "bench", 1, cfg)
		}},
		{name: "stream import", unit: "msgs/s", accounts: true, run: func(url string, cfg config) (float64, error) {
			return fanOut(as(url, "a"), as(url, "b"), "fromA.bench", 1, cfg)
		}},
		{name: "service import", unit: "µs/req", lowerIsBetter: true, accounts: true, run: benchServiceImport},
	}
}

// benchServiceImport: B requests "svc", imported from A's "bench.req"; mean round trip.
func benchServiceImport(url string, cfg config) (float64, error) {
	rc, err := subscriber(as(url, "a"), "bench.req", func(m *nats.Msg) { _ = m.Respond(m.Data) })
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	nc, err := dial(as(url, "b"))
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	return timedRequests(nc, "svc", cfg)
}
