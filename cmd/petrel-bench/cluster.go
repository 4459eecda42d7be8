package main

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// natscli's core scenarios across a three-node cluster: the publisher (or requester) on the
// first node, subscribers (or the service) on the others, so every message crosses a route.
// Each server runs as three processes on loopback, routes listing one another, with its
// defaults otherwise.

const clusterNodes = 3

func clusterScenarios() []cliScenario {
	return []cliScenario{
		{name: "cluster pub/sub 128 B", nodes: clusterNodes, runCluster: clusterPubSub(1)},
		{name: "cluster fan-out 1:2 128 B", nodes: clusterNodes, runCluster: clusterPubSub(2)},
		{name: "cluster req/reply 128 B", nodes: clusterNodes, runCluster: clusterRequest},
	}
}

// startCluster starts n nodes of srv with routes to one another and waits until a message
// published on the first reaches a subscriber on each of the others.
func startCluster(srv server, n int) ([]*running, error) {
	ports := make([]int, n)
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	var nodes []*running
	for i := range n {
		var routes []string
		for j, p := range ports {
			if j != i {
				routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", p))
			}
		}
		r, err := srv.start("--cluster_name", "bench", "--cluster", fmt.Sprintf("nats://127.0.0.1:%d", ports[i]),
			"--routes", strings.Join(routes, ","))
		if err != nil {
			stopAll(nodes)
			return nil, err
		}
		nodes = append(nodes, r)
	}
	for _, r := range nodes[1:] {
		if err := probeRoute(nodes[0], r); err != nil {
			stopAll(nodes)
			return nil, err
		}
	}
	return nodes, nil
}

func stopAll(nodes []*running) {
	for _, r := range nodes {
		r.stop()
	}
}

// probeRoute publishes on from until a subscriber on to receives it: the route is up and
// carries interest. Interest the benchmark's clients register later travels the same route,
// after the probe's.
func probeRoute(from, to *running) error {
	sub, err := dial(to.url)
	if err != nil {
		return err
	}
	defer sub.Close()
	got, err := sub.SubscribeSync("bench.probe")
	if err != nil {
		return err
	}
	if err := sub.Flush(); err != nil {
		return err
	}
	pub, err := dial(from.url)
	if err != nil {
		return err
	}
	defer pub.Close()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if err := pub.Publish("bench.probe", nil); err != nil {
			return err
		}
		if _, err := got.NextMsg(20 * time.Millisecond); err == nil {
			return nil
		}
	}
	return fmt.Errorf("no message from %s reached %s in 10s", from.url, to.url)
}

// clusterPubSub runs one `bench sub` on each of nodes 2..subs+1 and `bench pub` on node 1;
// the rate is what the subscribers received per second, summed.
func clusterPubSub(subs int) func(string, []*running, int) (float64, error) {
	return func(cli string, nodes []*running, msgs int) (float64, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		outs := make([]*bytes.Buffer, subs)
		var waits []func() error
		for i := range subs {
			outs[i] = &bytes.Buffer{}
			sub := cliBench(ctx, cli, nodes[1+i], "sub", "bench.cli", "--msgs", strconv.Itoa(msgs), "--size", "128B")
			sub.Stdout, sub.Stderr = outs[i], outs[i]
			if err := sub.Start(); err != nil {
				return 0, err
			}
			waits = append(waits, sub.Wait)
			if err := waitSubscriptions(nodes[1+i], "bench.cli", 1); err != nil {
				return 0, err
			}
		}
		for _, r := range nodes[1 : 1+subs] {
			if err := probeRoute(nodes[0], r); err != nil { // their interest reached node 1
				return 0, err
			}
		}
		if out, err := cliBench(ctx, cli, nodes[0], "pub", "bench.cli", "--msgs", strconv.Itoa(msgs), "--size", "128B").CombinedOutput(); err != nil {
			return 0, fmt.Errorf("nats bench pub: %v\n%s", err, out)
		}
		total := 0.0
		for i, wait := range waits {
			if err := wait(); err != nil {
				return 0, fmt.Errorf("nats bench sub on node %d: %v\n%s", i+2, err, outs[i].String())
			}
			rate, err := statsRate(outs[i].Bytes(), "subscriber stats")
			if err != nil {
				return 0, err
			}
			total += rate
		}
		return total, nil
	}
}

// clusterRequest serves on node 2 and requests on node 1 (one request in flight).
func clusterRequest(cli string, nodes []*running, msgs int) (float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	serve := cliBench(ctx, cli, nodes[1], "service", "serve", "bench.svc")
	if err := serve.Start(); err != nil {
		return 0, err
	}
	defer func() { _ = serve.Process.Kill(); _ = serve.Wait() }()
	if err := waitSubscriptions(nodes[1], "bench.svc", 1); err != nil {
		return 0, err
	}
	if err := probeRoute(nodes[0], nodes[1]); err != nil {
		return 0, err
	}
	out, err := cliBench(ctx, cli, nodes[0], "service", "request", "bench.svc", "--msgs", strconv.Itoa(msgs/50), "--size", "128B").CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("nats bench service request: %v\n%s", err, out)
	}
	return statsRate(out, "requester stats")
}
