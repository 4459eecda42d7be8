package server

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// The end-to-end tests start the real petrel binary on a free loopback port and drive it
// with nats.go, the way users will.

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// petrelBinary builds cmd/petrel once per test run.
func petrelBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the binary")
	}
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "petrel-e2e")
		if err != nil {
			binErr = err
			return
		}
		binPath = dir + "/petrel"
		args := []string{"build", "-o", binPath}
		if os.Getenv("PETREL_E2E_RACE") != "" {
			// make race: the server process runs under the race detector too.
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, "../cmd/petrel")...).CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// proc is a running petrel process.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	port   string
	mu     sync.Mutex
	output strings.Builder
	lines  chan string
	exited chan struct{}
}

// startPetrel runs the binary with args plus a free client port, and waits until it is
// ready. The process is killed at the end of the test if still running.
func startPetrel(t *testing.T, args ...string) *proc {
	t.Helper()
	return startPetrelOn(t, freePort(t), args...)
}

func startPetrelOn(t *testing.T, port string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, port: port, lines: make(chan string, 4096), exited: make(chan struct{})}
	p.cmd = exec.Command(petrelBinary(t), append([]string{"-a", "127.0.0.1", "-p", port}, args...)...)
	stderr, err := p.cmd.StderrPipe()
	must(t, err)
	must(t, p.cmd.Start())
	go func() {
		defer close(p.exited)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.output.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		_ = p.cmd.Wait() // the exit status is checked by stop when it matters
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill() // a no-op once it has exited
		<-p.exited
		if strings.Contains(p.log(), "WARNING: DATA RACE") {
			t.Errorf("the server process reported a data race")
		}
		if t.Failed() {
			t.Logf("petrel output:\n%s", p.log())
		}
	})
	p.waitLog("Server is ready")
	return p
}

func (p *proc) url() string { return "nats://127.0.0.1:" + p.port }

func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.output.String()
}

func (p *proc) waitLog(want string) {
	p.t.Helper()
	deadline := time.After(testTimeout)
	for {
		select {
		case line := <-p.lines:
			if strings.Contains(line, want) {
				return
			}
		case <-p.exited:
			p.t.Fatalf("petrel exited before logging %q", want)
		case <-deadline:
			p.t.Fatalf("timed out waiting for petrel to log %q", want)
		}
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop() {
	p.t.Helper()
	must(p.t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-p.exited:
	case <-time.After(testTimeout):
		p.t.Fatal("petrel did not exit after SIGTERM")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		p.t.Fatalf("petrel exited with code %d", code)
	}
}

func connect(t *testing.T, url string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, append([]nats.Option{nats.Timeout(testTimeout)}, opts...)...)
	if err != nil {
		t.Fatalf("connect to %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// next waits for one message on a synchronous subscription.
func next(t *testing.T, sub *nats.Subscription) *nats.Msg {
	t.Helper()
	m, err := sub.NextMsg(testTimeout)
	if err != nil {
		t.Fatalf("waiting on %s: %v", sub.Subject, err)
	}
	return m
}

// none asserts that nothing more arrives on sub within a short while (after a flush round
// trip, anything the server had to deliver would already be queued).
func none(t *testing.T, nc *nats.Conn, sub *nats.Subscription) {
	t.Helper()
	must(t, nc.Flush())
	if m, err := sub.NextMsg(50 * time.Millisecond); !errors.Is(err, nats.ErrTimeout) {
		t.Fatalf("unexpected message on %s: %v (err %v)", sub.Subject, m, err)
	}
}

func TestE2EPubSubAndWildcards(t *testing.T) {
	p := startPetrel(t)
	nc := connect(t, p.url())
	exact, err := nc.SubscribeSync("orders.eu.new")
	must(t, err)
	star, err := nc.SubscribeSync("orders.*.new")
	must(t, err)
	tail, err := nc.SubscribeSync("orders.>")
	must(t, err)
	other, err := nc.SubscribeSync("invoices.>")
	must(t, err)
	must(t, nc.Flush())

	must(t, nc.Publish("orders.eu.new", []byte("one")))
	must(t, nc.Publish("orders.us.paid", []byte("two")))
	for _, s := range []*nats.Subscription{exact, star, tail} {
		if m := next(t, s); string(m.Data) != "one" || m.Subject != "orders.eu.new" {
			t.Fatalf("%s got %q on %s", s.Subject, m.Data, m.Subject)
		}
	}
	if m := next(t, tail); string(m.Data) != "two" {
		t.Fatalf("orders.> got %q", m.Data)
	}
	none(t, nc, exact)
	none(t, nc, star)
	none(t, nc, other)
}

// Per-publisher order and exactly-once delivery, across two connections.
func TestE2EOrderAcrossConnections(t *testing.T) {
	p := startPetrel(t)
	pub := connect(t, p.url())
	subc := connect(t, p.url())
	sub, err := subc.SubscribeSync("seq")
	must(t, err)
	must(t, subc.Flush())
	const n = 5000
	for i := 0; i < n; i++ {
		must(t, pub.Publish("seq", []byte(fmt.Sprint(i))))
	}
	must(t, pub.Flush())
	for i := 0; i < n; i++ {
		if m := next(t, sub); string(m.Data) != fmt.Sprint(i) {
			t.Fatalf("message %d arrived as %q", i, m.Data)
		}
	}
	none(t, subc, sub)
}

func TestE2EQueueGroups(t *testing.T) {
	p := startPetrel(t)
	nc := connect(t, p.url())
	counts := make([]int, 3)
	var mu sync.Mutex
	total := make(chan struct{}, 1000)
	for i := range counts {
		_, err := nc.QueueSubscribe("work", "workers", func(*nats.Msg) {
			mu.Lock()
			counts[i]++
			mu.Unlock()
			total <- struct{}{}
		})
		must(t, err)
	}
	plain, err := nc.SubscribeSync("work")
	must(t, err)
	must(t, nc.Flush())
	const n = 300
	for i := 0; i < n; i++ {
		must(t, nc.Publish("work", []byte("job")))
	}
	for i := 0; i < n; i++ {
		select {
		case <-total:
		case <-time.After(testTimeout):
			t.Fatalf("only %d of %d jobs were taken", i, n)
		}
		next(t, plain) // every plain subscriber sees every message
	}
	must(t, nc.Flush())
	mu.Lock()
	defer mu.Unlock()
	sum := 0
	for i, c := range counts {
		if c == 0 {
			t.Errorf("queue member %d got nothing of %d: %v", i, n, counts)
		}
		sum += c
	}
	if sum != n {
		t.Fatalf("queue members got %d messages in all, want exactly %d", sum, n)
	}
}

func TestE2ERequestReplyAndNoResponders(t *testing.T) {
	p := startPetrel(t)
	nc := connect(t, p.url())
	_, err := nc.Subscribe("svc.echo", func(m *nats.Msg) { must(t, m.Respond(append([]byte("re:"), m.Data...))) })
	must(t, err)
	must(t, nc.Flush())
	for i := 0; i < 20; i++ {
		resp, err := nc.Request("svc.echo", []byte(fmt.Sprint(i)), testTimeout)
		must(t, err)
		if string(resp.Data) != "re:"+fmt.Sprint(i) {
			t.Fatalf("reply %q", resp.Data)
		}
	}
	start := time.Now()
	if _, err := nc.Request("svc.nobody", nil, testTimeout); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("request with no responders: %v, want ErrNoResponders", err)
	}
	if time.Since(start) > testTimeout/2 {
		t.Fatal("no-responders answer came only by timeout")
	}
	// Old-style request: a one-shot inbox with UNSUB max 1.
	old := connect(t, p.url(), nats.UseOldRequestStyle())
	resp, err := old.Request("svc.echo", []byte("x"), testTimeout)
	must(t, err)
	if string(resp.Data) != "re:x" {
		t.Fatalf("old-style reply %q", resp.Data)
	}
}

func TestE2EHeaders(t *testing.T) {
	p := startPetrel(t)
	nc := connect(t, p.url())
	sub, err := nc.SubscribeSync("h")
	must(t, err)
	must(t, nc.Flush())
	m := nats.NewMsg("h")
	m.Header.Set("Trace-Id", "abc")
	m.Header.Add("Multi", "1")
	m.Header.Add("Multi", "2")
	m.Data = []byte("body")
	must(t, nc.PublishMsg(m))
	got := next(t, sub)
	if got.Header.Get("Trace-Id") != "abc" || len(got.Header.Values("Multi")) != 2 || string(got.Data) != "body" {
		t.Fatalf("headers %v, data %q", got.Header, got.Data)
	}
}

func TestE2EAutoUnsubscribeAndDrain(t *testing.T) {
	p := startPetrel(t)
	nc := connect(t, p.url())
	sub, err := nc.SubscribeSync("auto")
	must(t, err)
	must(t, sub.AutoUnsubscribe(2))
	must(t, nc.Flush())
	for i := 0; i < 5; i++ {
		must(t, nc.Publish("auto", []byte(fmt.Sprint(i))))
	}
	next(t, sub)
	next(t, sub)
	if _, err := sub.NextMsg(100 * time.Millisecond); err == nil {
		t.Fatal("a third message arrived after AutoUnsubscribe(2)")
	}

	// Drain: messages already published are delivered before the subscription goes.
	got := make(chan string, 100)
	dsub, err := nc.Subscribe("drain", func(m *nats.Msg) { got <- string(m.Data) })
	must(t, err)
	must(t, nc.Flush())
	for i := 0; i < 50; i++ {
		must(t, nc.Publish("drain", []byte(fmt.Sprint(i))))
	}
	must(t, dsub.Drain())
	for i := 0; i < 50; i++ {
		select {
		case d := <-got:
			if d != fmt.Sprint(i) {
				t.Fatalf("drained message %d is %q", i, d)
			}
		case <-time.After(testTimeout):
			t.Fatalf("drain delivered only %d of 50", i)
		}
	}
	closed := make(chan struct{})
	nc2 := connect(t, p.url(), nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	must(t, nc2.Drain())
	select {
	case <-closed:
	case <-time.After(testTimeout):
		t.Fatal("connection drain did not close the connection")
	}
}

func TestE2EReconnectAfterRestart(t *testing.T) {
	p := startPetrel(t)
	reconnected := make(chan struct{}, 1)
	nc := connect(t, p.url(), nats.ReconnectWait(50*time.Millisecond), nats.MaxReconnects(-1),
		nats.ReconnectHandler(func(*nats.Conn) { reconnected <- struct{}{} }))
	sub, err := nc.SubscribeSync("after")
	must(t, err)
	must(t, nc.Flush())
	p.stop()
	p2 := startPetrelOn(t, p.port)
	select {
	case <-reconnected:
	case <-time.After(testTimeout):
		t.Fatal("client did not reconnect to the restarted server")
	}
	must(t, nc.Publish("after", []byte("again")))
	if m := next(t, sub); string(m.Data) != "again" {
		t.Fatalf("after reconnect got %q", m.Data)
	}
	p2.stop()
}

func TestE2EMaxPayload(t *testing.T) {
	p := startPetrel(t)
	nc := connect(t, p.url())
	if mp := nc.MaxPayload(); mp != 1<<20 {
		t.Fatalf("INFO max_payload %d, want 1 MiB", mp)
	}
	if err := nc.Publish("big", make([]byte, 2<<20)); !errors.Is(err, nats.ErrMaxPayload) {
		t.Fatalf("oversized publish: %v, want ErrMaxPayload", err)
	}
	// A client that ignores the limit is cut off with the error clients match on.
	raw := dialRaw(t, p.port)
	raw.send("CONNECT {\"verbose\":false}\r\nPUB big 2000000\r\n")
	raw.expect("-ERR 'Maximum Payload Violation'")
	raw.expectEOF()
}

func TestE2EAuthUserPass(t *testing.T) {
	p := startPetrel(t, "--user", "alice", "--pass", "s3cret")
	connect(t, p.url(), nats.UserInfo("alice", "s3cret"))
	_, err := nats.Connect(p.url(), nats.UserInfo("alice", "wrong"), nats.Timeout(testTimeout))
	if !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("wrong password: %v, want ErrAuthorization", err)
	}
	_, err = nats.Connect(p.url(), nats.Timeout(testTimeout))
	if !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("no credentials: %v, want ErrAuthorization", err)
	}
}

func TestE2EAuthToken(t *testing.T) {
	p := startPetrel(t, "--auth", "tok3n")
	connect(t, p.url(), nats.Token("tok3n"))
	if _, err := nats.Connect(p.url(), nats.Token("nope"), nats.Timeout(testTimeout)); !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("wrong token: %v", err)
	}
}
