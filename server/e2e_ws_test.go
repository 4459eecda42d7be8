package server

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// End-to-end WebSocket: the real binary with a websocket block, nats.go over ws:// and
// wss://.

// startWS starts petrel with a websocket block (its body given) on an ephemeral port
// (port -1) and returns the process and the ws URL scheme://127.0.0.1:port.
func startWS(t *testing.T, scheme, block string, args ...string) (*proc, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ws.conf")
	conf := "websocket {\n  listen: \"127.0.0.1:-1\"\n" + block + "\n}\n"
	must(t, os.WriteFile(path, []byte(conf), 0o600))
	p := startPetrel(t, append([]string{"-c", path}, args...)...)
	m := regexp.MustCompile(`Listening for websocket clients on wss?://127\.0\.0\.1:(\d+)`).FindStringSubmatch(p.log())
	if m == nil {
		t.Fatalf("no websocket listener in the log:\n%s", p.log())
	}
	return p, scheme + "://127.0.0.1:" + m[1]
}

func TestE2EWebSocketPubSubRequestHeaders(t *testing.T) {
	_, url := startWS(t, "ws", "  no_tls: true")
	nc := connect(t, url)
	sub, err := nc.SubscribeSync("ws.>")
	must(t, err)
	must(t, nc.Flush())
	must(t, nc.Publish("ws.one", []byte("hello")))
	if m := next(t, sub); string(m.Data) != "hello" || m.Subject != "ws.one" {
		t.Fatalf("got %q on %s", m.Data, m.Subject)
	}

	_, err = nc.Subscribe("svc", func(m *nats.Msg) { must(t, m.Respond(append([]byte("re:"), m.Data...))) })
	must(t, err)
	must(t, nc.Flush())
	for i := range 10 {
		resp, err := nc.Request("svc", []byte(fmt.Sprint(i)), testTimeout)
		if err != nil || string(resp.Data) != "re:"+fmt.Sprint(i) {
			t.Fatalf("request %d: %v %v", i, resp, err)
		}
	}
	if _, err := nc.Request("nobody", nil, testTimeout); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("no responders over WebSocket: %v", err)
	}

	hsub, err := nc.SubscribeSync("h")
	must(t, err)
	must(t, nc.Flush())
	msg := nats.NewMsg("h")
	msg.Header.Set("Trace-Id", "abc")
	msg.Data = []byte("body")
	must(t, nc.PublishMsg(msg))
	if got := next(t, hsub); got.Header.Get("Trace-Id") != "abc" || string(got.Data) != "body" {
		t.Fatalf("headers %v data %q", got.Header, got.Data)
	}
}

// A message close to max_payload spans many frames both ways, with and without
// compression; per-publisher order holds over many messages.
func TestE2EWebSocketLargeMessagesAndCompression(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprintf("compression=%v", compress), func(t *testing.T) {
			_, url := startWS(t, "ws", fmt.Sprintf("  no_tls: true\n  compression: %v", compress))
			pub := connect(t, url, nats.Compression(compress))
			subc := connect(t, url, nats.Compression(compress))
			sub, err := subc.SubscribeSync("big")
			must(t, err)
			must(t, subc.Flush())
			big := bytes.Repeat([]byte("0123456789abcdef"), 60000) // 960,000 bytes
			big[0], big[len(big)-1] = 'A', 'Z'
			must(t, pub.Publish("big", big))
			if m := next(t, sub); !bytes.Equal(m.Data, big) {
				t.Fatalf("large message: %d bytes arrived", len(m.Data))
			}
			const n = 2000
			for i := range n {
				must(t, pub.Publish("big", []byte(fmt.Sprint(i))))
			}
			for i := range n {
				if m := next(t, sub); string(m.Data) != fmt.Sprint(i) {
					t.Fatalf("message %d arrived as %q", i, m.Data)
				}
			}
		})
	}
}

func TestE2EWebSocketTLS(t *testing.T) {
	pki := newTestPKI(t)
	_, url := startWS(t, "wss", fmt.Sprintf("  tls {\n    cert_file: %q\n    key_file: %q\n  }", pki.serverCert, pki.serverKey))
	nc := connect(t, url, nats.RootCAs(pki.caFile))
	if !nc.TLSRequired() {
		t.Fatal("INFO over wss must say tls_required")
	}
	sub, err := nc.SubscribeSync("secure")
	must(t, err)
	must(t, nc.Publish("secure", []byte("hush")))
	if m := next(t, sub); string(m.Data) != "hush" {
		t.Fatalf("got %q", m.Data)
	}
	// A plain ws:// client cannot talk to the wss listener.
	if _, err := nats.Connect(strings.Replace(url, "wss:", "ws:", 1), nats.Timeout(2*time.Second)); err == nil {
		t.Fatal("a ws:// client connected to a wss listener")
	}
}

// same_origin and allowed_origins refuse a browser's foreign Origin with 403; a client
// without an Origin, or with an allowed one, connects.
func TestE2EWebSocketOrigins(t *testing.T) {
	origin := func(o string) nats.Option {
		return nats.WebSocketConnectionHeaders(http.Header{"Origin": []string{o}})
	}
	p, url := startWS(t, "ws", "  no_tls: true\n  same_origin: true")
	host := strings.TrimPrefix(url, "ws://")
	connect(t, url)
	connect(t, url, origin("http://"+host))
	if _, err := nats.Connect(url, origin("http://evil.example"), nats.Timeout(2*time.Second)); err == nil {
		t.Fatal("a foreign origin connected under same_origin")
	}
	p.waitLog("websocket handshake error: origin not allowed: not same origin")

	p, url = startWS(t, "ws", "  no_tls: true\n  allowed_origins: [\"https://app.example\", \"http://other.example:8080\"]")
	connect(t, url, origin("https://app.example"))
	connect(t, url, origin("http://other.example:8080"))
	if _, err := nats.Connect(url, origin("http://app.example"), nats.Timeout(2*time.Second)); err == nil {
		t.Fatal("an origin with the wrong scheme connected")
	}
	p.waitLog("websocket handshake error: origin not allowed: not in the allowed list")
}

// TCP and WebSocket clients of one server exchange messages both ways, queue groups
// spanning both.
func TestE2EWebSocketAndTCPClientsMix(t *testing.T) {
	p, url := startWS(t, "ws", "  no_tls: true")
	tcp := connect(t, p.url())
	ws := connect(t, url)
	fromWS, err := tcp.SubscribeSync("to.tcp")
	must(t, err)
	fromTCP, err := ws.SubscribeSync("to.ws")
	must(t, err)
	counts := map[string]int{}
	done := make(chan string, 100)
	for name, nc := range map[string]*nats.Conn{"tcp": tcp, "ws": ws} {
		_, err := nc.QueueSubscribe("work", "q", func(*nats.Msg) { done <- name })
		must(t, err)
	}
	must(t, tcp.Flush())
	must(t, ws.Flush())
	must(t, ws.Publish("to.tcp", []byte("from ws")))
	must(t, tcp.Publish("to.ws", []byte("from tcp")))
	if m := next(t, fromWS); string(m.Data) != "from ws" {
		t.Fatalf("tcp got %q", m.Data)
	}
	if m := next(t, fromTCP); string(m.Data) != "from tcp" {
		t.Fatalf("ws got %q", m.Data)
	}
	resp, err := tcp.Request("to.ws.svc", nil, 200*time.Millisecond)
	if !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("request: %v %v", resp, err)
	}
	for i := range 100 {
		must(t, []*nats.Conn{tcp, ws}[i%2].Publish("work", nil))
	}
	for range 100 {
		select {
		case name := <-done:
			counts[name]++
		case <-time.After(testTimeout):
			t.Fatalf("queue group got %v of 100", counts)
		}
	}
	if counts["tcp"]+counts["ws"] != 100 || counts["tcp"] == 0 || counts["ws"] == 0 {
		t.Fatalf("queue deliveries %v", counts)
	}
}

// TLS on the client port does not apply to the WebSocket listener: its clients do TLS (or
// not) below the upgrade, and INFO tells them so.
func TestE2EWebSocketPlainBesideTLSClients(t *testing.T) {
	pki := newTestPKI(t)
	p, url := startWS(t, "ws", "  no_tls: true", "--tls", "--tlscert", pki.serverCert, "--tlskey", pki.serverKey)
	ws := connect(t, url)
	if ws.TLSRequired() {
		t.Fatal("INFO to a ws:// client says tls_required")
	}
	tcp := connect(t, "tls://127.0.0.1:"+p.port, nats.RootCAs(pki.caFile))
	sub, err := tcp.SubscribeSync("x")
	must(t, err)
	must(t, tcp.Flush())
	must(t, ws.Publish("x", []byte("across")))
	if m := next(t, sub); string(m.Data) != "across" {
		t.Fatalf("got %q", m.Data)
	}
}
