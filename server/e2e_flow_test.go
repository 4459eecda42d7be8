package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Publisher flow control as users meet it: natscli's `nats bench` pub/sub and fan-out, and a
// subscriber that reads steadily but a little slower than its publisher. In each, every
// subscriber must get every message and the server must cut nobody off.

// benchMsgs is how many messages each scenario sends: the million, fewer when the
// server runs under the race detector (ten times slower, and there to find races, not to
// measure).
func benchMsgs() int {
	if os.Getenv("PETREL_E2E_RACE") != "" {
		return 200_000
	}
	return 1_000_000
}

// natsCLI is natscli's binary. The Makefile installs natscli v0.5.0 and names it in
// NATS_CLI_BIN; a plain `go test` without it skips these tests.
func natsCLI(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("NATS_CLI_BIN")
	if bin == "" {
		t.Skip("NATS_CLI_BIN is not set (make test installs natscli v0.5.0 and sets it)")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("NATS_CLI_BIN: %v", err)
	}
	return bin
}

func TestE2ENatsBenchPubSub(t *testing.T)  { runNatsBench(t, 1) }
func TestE2ENatsBenchFanOut4(t *testing.T) { runNatsBench(t, 4) }

// runNatsBench runs `nats bench sub` with subs clients, then `nats bench pub`, and checks
// that every subscriber finished with every message and nobody was a slow consumer.
func runNatsBench(t *testing.T, subs int) {
	cli := natsCLI(t)
	mport := freePort(t)
	p := startPetrel(t, "-m", mport)
	n := strconv.Itoa(benchMsgs())
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	sub := exec.CommandContext(ctx, cli, "-s", p.url(), "bench", "sub", "bench.flow",
		"--clients", strconv.Itoa(subs), "--msgs", n, "--size", "128", "--no-progress")
	var subOut bytes.Buffer
	sub.Stdout, sub.Stderr = &subOut, &subOut
	must(t, sub.Start())
	waitSubscribers(t, mport, "bench.flow", subs)
	pub := exec.CommandContext(ctx, cli, "-s", p.url(), "bench", "pub", "bench.flow",
		"--msgs", n, "--size", "128", "--no-progress")
	if out, err := pub.CombinedOutput(); err != nil {
		t.Fatalf("nats bench pub: %v\n%s", err, out)
	}
	if err := waitUnlessCutOff(t, p, sub); err != nil {
		t.Fatalf("nats bench sub: %v\n%s", err, subOut.String())
	}
	want := "subscriber stats"
	if subs > 1 {
		want = "subscriber aggregated stats"
	}
	if !strings.Contains(subOut.String(), want) || strings.Contains(subOut.String(), "Disconnected") {
		t.Fatalf("nats bench sub did not receive every message:\n%s", subOut.String())
	}
	noSlowConsumers(t, p)
}

// waitSubscribers polls /subsz until want subscriptions match subject, so nothing is
// published before every subscriber listens.
func waitSubscribers(t *testing.T, mport, subject string, want int) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		var subsz struct {
			Total int `json:"total"`
		}
		_, body := httpGet(t, "http://127.0.0.1:"+mport+"/subsz?subs=1&test="+subject)
		must(t, json.Unmarshal([]byte(body), &subsz))
		if subsz.Total >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d subscriptions to %s after %v, want %d", subsz.Total, subject, testTimeout, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitUnlessCutOff waits for cmd to exit, failing at once if the server cut a subscriber off
// (natscli would reconnect and wait for the rest forever).
func waitUnlessCutOff(t *testing.T, p *proc, cmd *exec.Cmd) error {
	t.Helper()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			return err
		case <-tick.C:
			noSlowConsumers(t, p)
		}
	}
}

func noSlowConsumers(t *testing.T, p *proc) {
	t.Helper()
	if strings.Contains(p.log(), "Slow Consumer") {
		t.Fatalf("the server cut off a subscriber:\n%s", p.log())
	}
}

// A raw TCP subscriber that pauses 1 ms after every 1,000 messages, slower than a nats.go
// publisher writing as fast as it can: the server must slow the publisher, and the
// subscriber must get every message, in order.
func TestE2ESteadySlowerReaderGetsEverything(t *testing.T) {
	p := startPetrel(t)
	total := benchMsgs()
	conn, err := net.Dial("tcp", "127.0.0.1:"+p.port)
	must(t, err)
	defer conn.Close()
	r := bufio.NewReaderSize(conn, 32<<10)
	if _, err := r.ReadString('\n'); err != nil { // INFO
		t.Fatal(err)
	}
	_, err = conn.Write([]byte("CONNECT {\"verbose\":false}\r\nSUB flow.slow 1\r\nPING\r\n"))
	must(t, err)
	if line, err := r.ReadString('\n'); err != nil || line != "PONG\r\n" {
		t.Fatalf("handshake: %q %v", line, err)
	}
	done := make(chan error, 1)
	go func() { done <- readSlowly(r, conn, total) }()

	pub := connect(t, p.url())
	payload := make([]byte, 128)
	for i := range total {
		copy(payload, strconv.Itoa(i)+" ")
		must(t, pub.Publish("flow.slow", payload))
	}
	must(t, pub.Flush())
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Minute):
		t.Fatal("the slow reader did not get every message in time")
	}
	noSlowConsumers(t, p)
}

// readSlowly reads total MSGs from r, checking their order, pausing 1 ms per 1,000; the
// server's PINGs (the first comes about 2 s after CONNECT) are answered on w.
func readSlowly(r *bufio.Reader, w io.Writer, total int) error {
	for i := 0; i < total; {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return fmt.Errorf("after %d messages: %w", i, err)
		}
		if string(line) == "PING\r\n" {
			if _, err := w.Write([]byte("PONG\r\n")); err != nil {
				return err
			}
			continue
		}
		f := strings.Fields(string(line))
		if len(f) != 4 || f[0] != "MSG" {
			return fmt.Errorf("message %d: unexpected line %q", i, line)
		}
		size, _ := strconv.Atoi(f[3])
		body := make([]byte, size+2)
		if _, err := io.ReadFull(r, body); err != nil {
			return fmt.Errorf("message %d body: %w", i, err)
		}
		if want := strconv.Itoa(i) + " "; !bytes.HasPrefix(body, []byte(want)) {
			return fmt.Errorf("message %d arrived as %q", i, body[:16])
		}
		if i%1000 == 999 {
			time.Sleep(time.Millisecond)
		}
		i++
	}
	return nil
}
