// Command petrel-jsgolden records nats-server's answers to STREAM.CREATE and
// CONSUMER.CREATE requests as golden files for core/jsapi's tests. It starts the peer
// binary on a fresh store directory and port, sends each case's request, and writes
// core/jsapi/testdata/jsapi/<case>.json: the subject, the request, and the raw answer.
//
//	go run ./cmd/petrel-jsgolden -server /work/peer/nats-server
//
// The cases are in cases.go; a consumer case names the stream it is created on, which is
// created first from its own case.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
)

// golden is one recorded exchange, as the unit test reads it.
type golden struct {
	Name     string          `json:"name"`
	Subject  string          `json:"subject"`
	Stream   string          `json:"stream,omitempty"` // a consumer case's stream case
	Request  json.RawMessage `json:"request"`
	Response json.RawMessage `json:"response"`
}

func main() {
	server := flag.String("server", "/work/peer/nats-server", "nats-server binary")
	out := flag.String("out", "core/jsapi/testdata/jsapi", "directory for the golden files")
	flag.Parse()
	if err := run(*server, *out); err != nil {
		fmt.Fprintln(os.Stderr, "petrel-jsgolden:", err)
		os.Exit(1)
	}
}

func run(server, out string) error {
	dir, err := os.MkdirTemp("", "jsgolden")
	if err != nil {
		return fmt.Errorf("store dir: %w", err)
	}
	defer os.RemoveAll(dir)
	port, err := freePort()
	if err != nil {
		return err
	}
	cmd := exec.Command(server, "-js", "-sd", dir, "-p", strconv.Itoa(port), "-a", "127.0.0.1")
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", server, err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }() // the peer's exit status is of no interest
	nc, err := connect(port)
	if err != nil {
		return err
	}
	defer nc.Close()
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("golden dir: %w", err)
	}
	for _, c := range cases() {
		if err := record(nc, out, c); err != nil {
			return fmt.Errorf("case %s: %w", c.Name, err)
		}
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// connect waits for the peer to accept clients (it takes a moment to start JetStream).
func connect(port int) (*nats.Conn, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		nc, err := nats.Connect("nats://127.0.0.1:" + strconv.Itoa(port))
		if err == nil {
			return nc, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("connect to peer: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func record(nc *nats.Conn, out string, c golden) error {
	if c.Stream != "" {
		// Each consumer case gets its stream afresh: delete, then create from its case.
		for _, s := range cases() {
			if s.Name == c.Stream {
				var cfg struct{ Name string }
				if err := json.Unmarshal(s.Request, &cfg); err != nil {
					return err
				}
				if _, err := nc.Request("$JS.API.STREAM.DELETE."+cfg.Name, nil, 2*time.Second); err != nil {
					return fmt.Errorf("delete stream: %w", err)
				}
				if _, err := nc.Request(s.Subject, s.Request, 2*time.Second); err != nil {
					return fmt.Errorf("create stream: %w", err)
				}
			}
		}
	}
	msg, err := nc.Request(c.Subject, c.Request, 2*time.Second)
	switch {
	case errors.Is(err, nats.ErrTimeout), errors.Is(err, nats.ErrNoResponders):
		c.Response = json.RawMessage("null") // no API subscription matches the subject
	case err != nil:
		return fmt.Errorf("request: %w", err)
	default:
		c.Response = msg.Data
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, c.Name+".json"), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	// Stream cases are deleted so that each starts from an empty account.
	if c.Stream == "" {
		var cfg struct{ Name string }
		if json.Unmarshal(c.Request, &cfg) == nil && cfg.Name != "" {
			_, _ = nc.Request("$JS.API.STREAM.DELETE."+cfg.Name, nil, 2*time.Second) // absent is fine
		}
	}
	return nil
}
