package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

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
			return benchPubSubAs(as(url, "a"), as(url, "a"), "bench", cfg)
		}},
		{name: "stream import", unit: "msgs/s", accounts: true, run: func(url string, cfg config) (float64, error) {
			return benchPubSubAs(as(url, "a"), as(url, "b"), "fromA.bench", cfg)
		}},
		{name: "service import", unit: "µs/req", lowerIsBetter: true, accounts: true, run: benchServiceImport},
	}
}

// benchPubSubAs: a publisher (pubURL) on "bench" and one subscriber (subURL) on subject.
func benchPubSubAs(pubURL, subURL, subject string, cfg config) (float64, error) {
	done := make(chan struct{})
	count := 0
	sc, err := subscriber(subURL, subject, func(*nats.Msg) {
		if count++; count == cfg.msgs {
			close(done)
		}
	})
	if err != nil {
		return 0, err
	}
	defer sc.Close()
	nc, err := dial(pubURL)
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	start := time.Now()
	if err := publishAll(nc, cfg); err != nil {
		return 0, err
	}
	select {
	case <-done:
	case <-time.After(120 * time.Second):
		return 0, fmt.Errorf("the subscriber got %d of %d messages", count, cfg.msgs)
	}
	return float64(cfg.msgs) / time.Since(start).Seconds(), nil
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
