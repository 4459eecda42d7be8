package main

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

func dial(url string) (*nats.Conn, error) {
	return nats.Connect(url, nats.Timeout(10*time.Second), nats.ReconnectBufSize(-1))
}

// subscriber connects, subscribes with no client-side pending limits (so a fast publisher
// measures the server, not nats.go's slow-consumer guard) and waits until the server has the
// subscription.
func subscriber(url, subject string, handler nats.MsgHandler) (*nats.Conn, error) {
	nc, err := dial(url)
	if err != nil {
		return nil, err
	}
	sub, err := nc.Subscribe(subject, handler)
	if err == nil {
		err = sub.SetPendingLimits(-1, -1)
	}
	if err == nil {
		err = nc.Flush()
	}
	if err != nil {
		nc.Close()
		return nil, err
	}
	return nc, nil
}

// publishAll publishes cfg.msgs payloads of cfg.size bytes on "bench".
func publishAll(nc *nats.Conn, cfg config) error {
	payload := make([]byte, cfg.size)
	for i := 0; i < cfg.msgs; i++ {
		if err := nc.Publish("bench", payload); err != nil {
			return err
		}
	}
	return nil
}

// benchPublish: one connection publishes as fast as it can; the clock stops when the
// server has answered a PING after the last message, so everything was processed.
func benchPublish(url string, cfg config) (float64, error) { return fanOut(url, url, "bench", 0, cfg) }

// benchPubSub: one publisher, n subscribers on their own connections; the rate is messages
// received (all subscribers together) per second until every subscriber has every message.
func benchPubSub(n int) func(string, config) (float64, error) {
	return func(url string, cfg config) (float64, error) { return fanOut(url, url, "bench", n, cfg) }
}

// fanOut publishes cfg.msgs on "bench" from pubURL to n subscribers on subject at subURL;
// the rate counts messages received (with no subscribers: published, once the server
// answered a PING after the last one).
func fanOut(pubURL, subURL, subject string, n int, cfg config) (float64, error) {
	var received atomic.Int64
	var wg sync.WaitGroup
	var subs []*nats.Conn
	defer func() {
		for _, s := range subs {
			s.Close()
		}
	}()
	for i := 0; i < n; i++ {
		wg.Add(1)
		count := 0
		sc, err := subscriber(subURL, subject, func(*nats.Msg) {
			count++
			received.Add(1)
			if count == cfg.msgs {
				wg.Done()
			}
		})
		if err != nil {
			return 0, err
		}
		subs = append(subs, sc)
	}
	nc, err := dial(pubURL)
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	start := time.Now()
	if err := publishAll(nc, cfg); err != nil {
		return 0, err
	}
	if err := nc.FlushTimeout(60 * time.Second); err != nil {
		return 0, err
	}
	if n == 0 {
		return float64(cfg.msgs) / time.Since(start).Seconds(), nil
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(120 * time.Second):
		return 0, fmt.Errorf("subscribers got %d of %d messages", received.Load(), int64(n*cfg.msgs))
	}
	return float64(n*cfg.msgs) / time.Since(start).Seconds(), nil
}

// benchRequest: sequential requests to a responder on another connection; the result is
// the mean round trip in microseconds.
func benchRequest(url string, cfg config) (float64, error) {
	rc, err := subscriber(url, "bench.req", func(m *nats.Msg) { _ = m.Respond(m.Data) })
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	nc, err := dial(url)
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	return timedRequests(nc, "bench.req", cfg)
}

// timedRequests makes cfg.reqs sequential requests on subj after a warm-up, and returns
// the mean round trip in microseconds.
func timedRequests(nc *nats.Conn, subj string, cfg config) (float64, error) {
	payload := make([]byte, cfg.size)
	for i := 0; i < 100; i++ { // warm up the inbox subscription
		if _, err := nc.Request(subj, payload, 5*time.Second); err != nil {
			return 0, err
		}
	}
	start := time.Now()
	for i := 0; i < cfg.reqs; i++ {
		if _, err := nc.Request(subj, payload, 5*time.Second); err != nil {
			return 0, err
		}
	}
	return float64(time.Since(start).Microseconds()) / float64(cfg.reqs), nil
}
