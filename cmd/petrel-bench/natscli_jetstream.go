package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"
)

// natscli's `nats bench js` and `kv` scenarios: each on a fresh server with JetStream on
// and a fresh store directory, Petrel with its fsync-before-ack default against
// nats-server's default (which acknowledges before the data reaches the disk).

// jsCLIScenarios are the JetStream rows; msgs scales the natscli message count: a sync
// publisher pays a round trip (and on Petrel an fsync) per message, so it gets a hundredth.
func jsCLIScenarios() []cliScenario {
	return []cliScenario{
		{name: "js pub sync 128 B", js: true, run: jsPub("sync", 100)},
		{name: "js pub async 128 B", js: true, run: jsPub("async", 5)},
		{name: "js ordered", js: true, run: jsRead("ordered", "ordered ephemeral consumer stats")},
		{name: "js consume", js: true, run: jsRead("consume", "durable consumer (callback) stats")},
		{name: "js fetch", js: true, run: jsRead("fetch", "durable consumer (fetch) stats")},
		{name: "kv put 128 B", js: true, run: kvPut},
		{name: "kv get 128 B", js: true, run: kvGet},
	}
}

// selectedCLIScenarios are natscli's core and JetStream rows that -only selects.
func selectedCLIScenarios() []cliScenario {
	var out []cliScenario
	for _, sc := range append(append(cliScenarios(), jsCLIScenarios()...), clusterScenarios()...) {
		if selected(sc.name) {
			out = append(out, sc)
		}
	}
	return out
}

// jsStoreArgs makes a fresh store directory for one server run; cleanup removes it.
func jsStoreArgs() (args []string, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "petrel-bench-js")
	if err != nil {
		return nil, nil, err
	}
	return []string{"-js", "-sd", dir}, func() { _ = os.RemoveAll(dir) }, nil
}

// runBench runs one natscli bench command and returns the rate on its want line.
func runBench(cli string, r *running, want string, args ...string) (float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := cliBench(ctx, cli, r, args...).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("nats bench %v: %v\n%s", args, err, out)
	}
	return statsRate(out, want)
}

// jsPub publishes msgs/div messages to a file stream it creates.
func jsPub(mode string, div int) func(string, *running, int) (float64, error) {
	return func(cli string, r *running, msgs int) (float64, error) {
		return runBench(cli, r, "publisher stats", "js", "pub", mode, "bench.js", "--create",
			"--storage", "file", "--msgs", strconv.Itoa(msgs/div), "--size", "128B")
	}
}

// jsRead fills a file stream with msgs/5 messages (unmeasured), then reads them back with
// natscli's consumer kind (ordered, consume or fetch; the durable ones ack explicitly).
func jsRead(kind, want string) func(string, *running, int) (float64, error) {
	return func(cli string, r *running, msgs int) (float64, error) {
		n := strconv.Itoa(msgs / 5)
		if _, err := runBench(cli, r, "publisher stats", "js", "pub", "async", "bench.js", "--create",
			"--storage", "file", "--msgs", n, "--size", "128B"); err != nil {
			return 0, err
		}
		return runBench(cli, r, want, "js", kind, "--msgs", n)
	}
}

// kvPut puts msgs/10 values (natscli puts them one at a time, each awaiting its ack).
func kvPut(cli string, r *running, msgs int) (float64, error) {
	return runBench(cli, r, "stats", "kv", "put", "--msgs", strconv.Itoa(msgs/10), "--size", "128B")
}

// kvGet puts msgs/10 values (unmeasured), then gets them in order.
func kvGet(cli string, r *running, msgs int) (float64, error) {
	n := strconv.Itoa(msgs / 10)
	if _, err := runBench(cli, r, "stats", "kv", "put", "--msgs", n, "--size", "128B"); err != nil {
		return 0, err
	}
	return runBench(cli, r, "stats", "kv", "get", "--msgs", n)
}
