package core_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core"
	"github.com/petrel-io/petrel/core/env"
)

// Publisher flow control on virtual time: a publisher far faster than its subscriber is
// paused instead of turning the subscriber into a slow consumer, and the pause is bounded,
// so a subscriber that does not read at all is still cut off.

// slowReader reads in bursts: after every burst bytes it pauses its reads for pause.
type slowReader struct {
	rawClient
	clock       env.Clock
	ex          env.Executor
	burst, left int
	pause       time.Duration
}

func (s *slowReader) OnData(p []byte) {
	s.rawClient.OnData(p)
	if s.left -= len(p); s.left <= 0 && s.pause > 0 {
		s.left = s.burst
		s.conn.PauseReads()
		s.clock.AfterFunc(s.pause, s.ex, s.conn.ResumeReads)
	}
}

func (r *rig) dialSlow(burst int, pause time.Duration) *slowReader {
	r.t.Helper()
	s := &slowReader{clock: r.cli.Clock, ex: r.cli.Exec.New("slow"), burst: burst, left: burst, pause: pause}
	r.cli.Net.Dial("s1:4222", time.Second, s.ex, func(conn env.Conn, err error) {
		if err != nil {
			r.t.Errorf("dial: %v", err)
			return
		}
		s.conn = conn
		conn.Start(s.ex, s)
	})
	r.run(50 * time.Millisecond)
	if s.conn == nil {
		r.t.Fatal("no connection")
	}
	return s
}

// publishBurst queues n numbered 1 KiB messages on subject at once.
func publishBurst(r *rig, pub *rawClient, subject string, n int) {
	var b strings.Builder
	body := strings.Repeat("x", 1024-8)
	for i := range n {
		fmt.Fprintf(&b, "PUB %s 1024\r\n%08d%s\r\n", subject, i, body)
	}
	if err := pub.conn.Write([]byte(b.String())); err != nil {
		r.t.Fatal(err)
	}
}

// delivered counts MSG lines and checks their numbers run in order from 0.
func delivered(t *testing.T, got string) int {
	t.Helper()
	n := 0
	for _, line := range strings.Split(got, "\r\n") {
		if strings.HasPrefix(line, "MSG ") || !strings.HasPrefix(line, "0") {
			continue
		}
		if want := fmt.Sprintf("%08d", n); line[:8] != want {
			t.Fatalf("message %d arrived as %q", n, line[:8])
		}
		n++
	}
	return n
}

func TestFastPublisherIsPausedNotCutOff(t *testing.T) {
	r := newRig(t, core.Options{MaxPending: 256 << 10, MaxPayload: 4 << 10})
	// ~8 MB/s: far below the link, above what bounded stalls let through (16 KB reads
	// per 5 ms at most).
	sub := r.dialSlow(16<<10, 2*time.Millisecond)
	r.send(&sub.rawClient, "CONNECT {\"verbose\":false}\r\nSUB flow 1\r\nPING\r\n")
	pub := r.dial()
	r.send(pub, "CONNECT {\"verbose\":false}\r\n")
	const n = 4000 // 4 MB: sixteen times max_pending
	publishBurst(r, pub, "flow", n)
	r.run(20 * time.Second)
	if got := delivered(t, sub.got.String()); got != n {
		t.Fatalf("subscriber got %d of %d messages", got, n)
	}
	v := r.srv.Varz(core.VarzHost{})
	if v.SlowConsumers != 0 || sub.closed || pub.closed {
		t.Fatalf("slow consumers %d, subscriber closed %v, publisher closed %v", v.SlowConsumers, sub.closed, pub.closed)
	}
	if r.srv.StalledClients() == 0 {
		t.Fatal("the publisher was never paused")
	}
}

func TestStallIsBoundedForASubscriberThatStopsReading(t *testing.T) {
	r := newRig(t, core.Options{MaxPending: 256 << 10, MaxPayload: 4 << 10})
	sub := r.dial()
	r.send(sub, "CONNECT {\"verbose\":false}\r\nSUB flow 1\r\nPING\r\n")
	sub.conn.PauseReads() // never reads again
	pub := r.dial()
	r.send(pub, "CONNECT {\"verbose\":false}\r\nSUB echo 2\r\n")
	publishBurst(r, pub, "flow", 2000)
	r.run(10 * time.Second)
	v := r.srv.Varz(core.VarzHost{})
	if v.SlowConsumers != 1 || v.Connections != 1 || pub.closed {
		t.Fatalf("slow consumers %d, connections %d, publisher closed %v; want 1, 1, false", v.SlowConsumers, v.Connections, pub.closed)
	}
	if r.srv.StalledClients() == 0 {
		t.Fatal("the publisher was never paused")
	}
	// The publisher is served again once the subscriber is gone.
	r.send(pub, "PUB echo 2\r\nok\r\nPING\r\n")
	if !strings.HasSuffix(pub.got.String(), "MSG echo 2 2\r\nok\r\nPONG\r\n") {
		t.Fatalf("publisher after the cut: %q", tail(pub.got.String()))
	}
}

func tail(s string) string { return s[max(0, len(s)-200):] }

// With no_fast_producer_stall, nobody is paused: a subscriber over the gate misses messages
// instead (and is not cut off while it keeps reading), as nats-server does.
func TestNoFastProducerStallDropsForTheLaggard(t *testing.T) {
	r := newRig(t, core.Options{MaxPending: 256 << 10, MaxPayload: 4 << 10, NoFastProducerStall: true})
	sub := r.dialSlow(16<<10, 2*time.Millisecond)
	r.send(&sub.rawClient, "CONNECT {\"verbose\":false}\r\nSUB flow 1\r\nPING\r\n")
	pub := r.dial()
	r.send(pub, "CONNECT {\"verbose\":false}\r\n")
	const n = 4000
	publishBurst(r, pub, "flow", n)
	r.run(20 * time.Second)
	got := strings.Count(sub.got.String(), "MSG flow 1 1024\r\n")
	if got == 0 || got >= n {
		t.Fatalf("subscriber got %d of %d messages; want some dropped, some delivered", got, n)
	}
	if r.srv.StalledClients() != 0 || sub.closed || pub.closed {
		t.Fatalf("stalls %d, subscriber closed %v, publisher closed %v", r.srv.StalledClients(), sub.closed, pub.closed)
	}
}
