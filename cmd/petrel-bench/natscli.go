package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// natscli's `nats bench` core scenarios, as users run them: each on a fresh server, the
// servers alternating, with the server's resident memory read when the scenario is done.

// cliScenario runs natscli against a server and returns its msgs/s.
type cliScenario struct {
	name string
	run  func(cli string, r *running, msgs int) (float64, error)
	js   bool // the server runs with JetStream in a fresh store directory (natscli_jetstream.go)
	// nodes > 1: the server runs as a cluster of that many processes and runCluster, not
	// run, drives it (cluster.go); RSS is the nodes' sum.
	nodes      int
	runCluster func(cli string, nodes []*running, msgs int) (float64, error)
}

func cliScenarios() []cliScenario {
	return []cliScenario{
		{name: "pub 16 B", run: cliPub("16B")},
		{name: "pub 1 KiB", run: cliPub("1KiB")},
		{name: "pub/sub 128 B", run: cliPubSub(1)},
		{name: "fan-out 1:4 128 B", run: cliPubSub(4)},
		{name: "req/reply 128 B", run: cliRequest},
	}
}

// runCLI runs the natscli table: median msgs/s and RSS per server, and the ratios.
func runCLI(cli string, servers []server, rounds, msgs int) int {
	fmt.Printf("\nnats bench (natscli), %d msgs per run (requests: %d), median of %d alternating rounds; RSS after the run\n\n",
		msgs, msgs/50, rounds)
	fmt.Printf("%-20s %14s %9s %14s %9s %7s %7s\n", "scenario", servers[0].name, "RSS", peerName(servers), "RSS", "ratio", "RSS")
	status := 0
	for _, sc := range selectedCLIScenarios() {
		rates := make([][]float64, len(servers))
		rss := make([][]float64, len(servers))
		for range rounds {
			for i, srv := range servers {
				v, mem, err := measureCLI(cli, srv, sc, msgs)
				if err != nil {
					fmt.Fprintf(os.Stderr, "%s on %s: %v\n", sc.name, srv.name, err)
					status = 1
					continue
				}
				rates[i], rss[i] = append(rates[i], v), append(rss[i], mem)
			}
		}
		printCLIRow(sc.name, rates, rss)
	}
	return status
}

func measureCLI(cli string, srv server, sc cliScenario, msgs int) (rate, rss float64, err error) {
	var args []string
	if sc.js {
		var cleanup func()
		if args, cleanup, err = jsStoreArgs(); err != nil {
			return 0, 0, err
		}
		defer cleanup()
	}
	if sc.nodes > 1 {
		nodes, err := startCluster(srv, sc.nodes)
		if err != nil {
			return 0, 0, err
		}
		defer stopAll(nodes)
		rate, err = sc.runCluster(cli, nodes, msgs)
		for _, r := range nodes {
			rss += r.rssMiB()
		}
		return rate, rss, err
	}
	r, err := srv.start(args...)
	if err != nil {
		return 0, 0, err
	}
	defer r.stop()
	rate, err = sc.run(cli, r, msgs)
	return rate, r.rssMiB(), err
}

func printCLIRow(name string, rates, rss [][]float64) {
	line := fmt.Sprintf("%-20s %14.0f %6.1f MB", name, median(rates[0]), median(rss[0]))
	if len(rates) > 1 && len(rates[1]) > 0 && len(rates[0]) > 0 {
		line += fmt.Sprintf(" %14.0f %6.1f MB %6.2fx %6.2fx", median(rates[1]), median(rss[1]),
			median(rates[0])/median(rates[1]), median(rss[0])/median(rss[1]))
	}
	fmt.Println(line)
}

// cliBench is one natscli bench command against r.
func cliBench(ctx context.Context, cli string, r *running, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, cli, append([]string{"-s", r.url, "bench"}, append(args, "--no-progress")...)...)
	return cmd
}

func cliPub(size string) func(string, *running, int) (float64, error) {
	return func(cli string, r *running, msgs int) (float64, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, err := cliBench(ctx, cli, r, "pub", "bench.cli", "--msgs", strconv.Itoa(msgs), "--size", size).CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("nats bench pub: %v\n%s", err, out)
		}
		return statsRate(out, "publisher stats")
	}
}

// cliPubSub runs `bench sub` with n clients, waits until the server holds their
// subscriptions, runs `bench pub`, and reports what the subscribers received per second.
func cliPubSub(n int) func(string, *running, int) (float64, error) {
	return func(cli string, r *running, msgs int) (float64, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		var subOut bytes.Buffer
		sub := cliBench(ctx, cli, r, "sub", "bench.cli", "--clients", strconv.Itoa(n), "--msgs", strconv.Itoa(msgs), "--size", "128B")
		sub.Stdout, sub.Stderr = &subOut, &subOut
		if err := sub.Start(); err != nil {
			return 0, err
		}
		if err := waitSubscriptions(r, "bench.cli", n); err != nil {
			return 0, err
		}
		if out, err := cliBench(ctx, cli, r, "pub", "bench.cli", "--msgs", strconv.Itoa(msgs), "--size", "128B").CombinedOutput(); err != nil {
			return 0, fmt.Errorf("nats bench pub: %v\n%s", err, out)
		}
		if err := sub.Wait(); err != nil {
			return 0, fmt.Errorf("nats bench sub: %v\n%s", err, subOut.String())
		}
		want := "subscriber stats"
		if n > 1 {
			want = "subscriber aggregated stats"
		}
		return statsRate(subOut.Bytes(), want)
	}
}

// cliRequest runs `bench service serve` and `bench service request` (one requester, one
// request in flight): the rate is round trips per second.
func cliRequest(cli string, r *running, msgs int) (float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	serve := cliBench(ctx, cli, r, "service", "serve", "bench.svc")
	if err := serve.Start(); err != nil {
		return 0, err
	}
	defer func() { _ = serve.Process.Kill(); _ = serve.Wait() }()
	if err := waitSubscriptions(r, "bench.svc", 1); err != nil {
		return 0, err
	}
	out, err := cliBench(ctx, cli, r, "service", "request", "bench.svc", "--msgs", strconv.Itoa(msgs/50), "--size", "128B").CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("nats bench service request: %v\n%s", err, out)
	}
	return statsRate(out, "requester stats")
}

// waitSubscriptions polls /subsz until at least n subscriptions match subject (the
// server's own subscriptions, which nats-server has many of, do not count).
func waitSubscriptions(r *running, subject string, n int) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var subsz struct {
			Total int `json:"total"`
		}
		if resp, err := http.Get(r.monitor + "/subsz?subs=1&test=" + subject); err == nil {
			err = json.NewDecoder(resp.Body).Decode(&subsz)
			resp.Body.Close()
			if err == nil && subsz.Total >= n {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("fewer than %d subscriptions to %s after 10s", n, subject)
}

var statsLine = regexp.MustCompile(`stats: ([0-9,]+) msgs/sec`)

// statsRate finds natscli's "<what>: N msgs/sec" line.
func statsRate(out []byte, what string) (float64, error) {
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.Contains(line, what) {
			continue
		}
		if m := statsLine.FindStringSubmatch(line); m != nil {
			return strconv.ParseFloat(strings.ReplaceAll(m[1], ",", ""), 64)
		}
	}
	return 0, fmt.Errorf("no %q line in natscli's output:\n%s", what, out)
}
