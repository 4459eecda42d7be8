package server

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// noRespondersWire is the exchange of a request nobody subscribed to, and nats-server
// v2.15.2's answer to it byte for byte.
const (
	noRespondersAsk = "CONNECT {\"verbose\":false,\"headers\":true,\"no_responders\":true}\r\n" +
		"SUB _INBOX.x.* 7\r\nPUB nobody.here _INBOX.x.1 0\r\n\r\nPING\r\n"
	noRespondersAnswer = "HMSG _INBOX.x.1 7 43 43\r\nNATS/1.0 503\r\nNats-Subject: nobody.here\r\n\r\n\r\nPONG\r\n"
)

// rawExchange sends ask on a raw connection and returns what came back after INFO, up to
// and including the PONG that answers ask's final PING.
func rawExchange(t *testing.T, port, ask string) string {
	t.Helper()
	rc := dialRaw(t, port)
	rc.send(ask)
	must(t, rc.nc.SetReadDeadline(time.Now().Add(testTimeout)))
	var got strings.Builder
	for !strings.HasSuffix(got.String(), "PONG\r\n") {
		line, err := rc.r.ReadString('\n')
		if err != nil && err != io.EOF {
			t.Fatalf("after %q: %v", got.String(), err)
		}
		got.WriteString(line)
		if err == io.EOF {
			break
		}
	}
	return got.String()
}

// The 503 carries a Nats-Subject header naming the request subject, with the header and
// total sizes nats-server sends; nats.go turns it into ErrNoResponders and shows the
// header. With NATS_SERVER_BIN set, the expected bytes are checked against nats-server.
func TestE2ENoRespondersHeader(t *testing.T) {
	p := startPetrel(t)
	if got := rawExchange(t, p.port, noRespondersAsk); got != noRespondersAnswer {
		t.Fatalf("petrel answered %q, want %q", got, noRespondersAnswer)
	}
	if bin := os.Getenv("NATS_SERVER_BIN"); bin != "" {
		port := freePort(t)
		startNatsServer(t, bin, []string{"-a", "127.0.0.1", "-p", port})
		if got := rawExchange(t, port, noRespondersAsk); got != noRespondersAnswer {
			t.Fatalf("nats-server answered %q: the expected bytes are stale", got)
		}
	}
	nc := connect(t, p.url())
	if _, err := nc.Request("svc.nobody", nil, testTimeout); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("request: %v, want ErrNoResponders", err)
	}
	inbox := nats.NewInbox()
	msgs := make(chan *nats.Msg, 1)
	_, err := nc.ChanSubscribe(inbox, msgs)
	must(t, err)
	must(t, nc.PublishRequest("svc.nobody", inbox, nil))
	select {
	case m := <-msgs:
		if m.Header.Get("Status") != "503" || m.Header.Get("Nats-Subject") != "svc.nobody" || len(m.Data) != 0 {
			t.Fatalf("503 message: header %v, data %q", m.Header, m.Data)
		}
	case <-time.After(testTimeout):
		t.Fatal("no 503 for a request nobody subscribed to")
	}
}
