package core_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core"
	"github.com/petrel-io/petrel/core/auth"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/websocket"
)

// The engine over WebSocket, on virtual time: the same raw clients as engine_test.go, but
// through the client side of core/websocket over simulated TCP.

const wsPort = 8080

func newWSRig(t *testing.T, opts core.Options, ws core.WebSocketOptions) *rig {
	t.Helper()
	ws.Port = wsPort
	opts.WebSocket = &ws
	return newRig(t, opts)
}

// wsClient is a raw client behind a WebSocket client connection.
type wsClient struct {
	rawClient
	ws     *websocket.Conn
	hsErr  error
	hsDone bool
}

func (r *rig) dialWS(cfg websocket.ClientConfig) *wsClient {
	r.t.Helper()
	c := &wsClient{}
	ex := r.cli.Exec.New("ws")
	if cfg.Host == "" {
		cfg.Host = "s1:8080"
	}
	r.cli.Net.Dial("s1:8080", time.Second, ex, func(conn env.Conn, err error) {
		if err != nil {
			r.t.Errorf("dial: %v", err)
			return
		}
		c.ws = websocket.NewClient(conn, cfg, r.cli.Rand)
		c.conn = c.ws
		c.ws.Handshake(ex, r.cli.Clock, time.Second, func(err error) {
			c.hsDone, c.hsErr = true, err
			if err == nil {
				c.ws.Start(ex, &c.rawClient)
			}
		})
	})
	r.run(50 * time.Millisecond)
	if !c.hsDone {
		r.t.Fatal("no handshake")
	}
	return c
}

func wsInfo(t *testing.T, c *wsClient) map[string]any {
	t.Helper()
	line, _, _ := strings.Cut(c.got.String(), "\r\n")
	var info map[string]any
	if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "INFO ")), &info); err != nil {
		t.Fatalf("INFO %q: %v", line, err)
	}
	return info
}

func TestWebSocketClientSpeaksTheProtocol(t *testing.T) {
	r := newWSRig(t, core.Options{}, core.WebSocketOptions{})
	c := r.dialWS(websocket.ClientConfig{})
	if c.hsErr != nil {
		t.Fatal(c.hsErr)
	}
	if info := wsInfo(t, c); info["port"] != float64(wsPort) || info["tls_required"] != nil {
		t.Fatalf("INFO for a WebSocket client: %v", info)
	}
	if got := r.srv.WebsocketAddr(); !strings.HasSuffix(got, ":8080") {
		t.Fatalf("WebsocketAddr %q", got)
	}
	r.send(&c.rawClient, "CONNECT {\"verbose\":false}\r\nSUB foo 1\r\nPUB foo 2\r\nhi\r\nPING\r\n")
	expectLines(t, &c.rawClient, "MSG foo 1 2", "hi", "PONG")

	// A TCP client and the WebSocket client exchange messages both ways.
	tcp := r.dial()
	r.send(tcp, "CONNECT {\"verbose\":false}\r\nSUB bar 9\r\nPUB foo 3\r\nabc\r\nPING\r\n")
	r.send(&c.rawClient, "PUB bar 2\r\nok\r\nPING\r\n")
	expectLines(t, &c.rawClient, "MSG foo 1 2", "hi", "PONG", "MSG foo 1 3", "abc", "PONG")
	expectLines(t, tcp, "PONG", "MSG bar 9 2", "ok")
}

// A large message crosses many frames both ways, and compression, when negotiated, is
// transparent to the protocol.
func TestWebSocketLargeMessagesAndCompression(t *testing.T) {
	for _, compress := range []bool{false, true} {
		r := newWSRig(t, core.Options{}, core.WebSocketOptions{Compression: compress})
		c := r.dialWS(websocket.ClientConfig{Compression: compress})
		if c.hsErr != nil {
			t.Fatal(c.hsErr)
		}
		payload := strings.Repeat("0123456789abcdef", 40000) // 640,000 bytes: ten frames
		r.send(&c.rawClient, "CONNECT {\"verbose\":false}\r\nSUB big 1\r\nPUB big 640000\r\n"+payload+"\r\nPING\r\n")
		r.run(time.Second)
		expectLines(t, &c.rawClient, "MSG big 1 640000", payload, "PONG")
	}
}

// The server closes a WebSocket client with a close frame whose status and text say why.
func TestWebSocketCloseStatus(t *testing.T) {
	r := newWSRig(t, core.Options{Auth: auth.Config{Token: "s3cret", Timeout: 100 * time.Millisecond}}, core.WebSocketOptions{})
	c := r.dialWS(websocket.ClientConfig{})
	r.run(time.Second)
	if !c.closed || c.err != nil {
		t.Fatalf("closed %v err %v", c.closed, c.err)
	}
	if code, reason := c.ws.PeerClose(); code != websocket.ClosePolicyViolation || reason != "Authentication Timeout" {
		t.Fatalf("close frame %d %q", code, reason)
	}
	expectLines(t, &c.rawClient, "-ERR 'Authentication Timeout'")

	c = r.dialWS(websocket.ClientConfig{})
	r.send(&c.rawClient, "CONNECT {\"auth_token\":\"s3cret\",\"verbose\":false}\r\nFOO\r\n")
	if code, reason := c.ws.PeerClose(); code != websocket.CloseProtocolError || reason != "Parse Error" {
		t.Fatalf("close frame %d %q", code, reason)
	}
}

// A connection that never completes the upgrade is dropped after the handshake timeout;
// a refused upgrade gets nats-server's answer and never becomes a client.
func TestWebSocketHandshakeTimeoutAndRefusal(t *testing.T) {
	r := newWSRig(t, core.Options{}, core.WebSocketOptions{HandshakeTimeout: 300 * time.Millisecond, SameOrigin: true})
	raw := &rawClient{}
	ex := r.cli.Exec.New("raw")
	r.cli.Net.Dial("s1:8080", time.Second, ex, func(conn env.Conn, err error) {
		if err == nil {
			raw.conn = conn
			conn.Start(ex, raw)
			_ = conn.Write([]byte("GET / HTTP/1.1\r\n"))
		}
	})
	r.run(200 * time.Millisecond)
	if raw.closed {
		t.Fatal("closed before the handshake timeout")
	}
	r.run(200 * time.Millisecond)
	if !raw.closed || raw.got.Len() != 0 {
		t.Fatalf("after the timeout: closed %v, got %q", raw.closed, raw.got.String())
	}
	c := r.dialWS(websocket.ClientConfig{Header: map[string]string{"Origin": "http://evil.example"}})
	var he *websocket.HandshakeError
	if c.hsErr == nil || !asHandshakeError(c.hsErr, &he) || he.Status != 403 {
		t.Fatalf("cross-origin handshake: %v", c.hsErr)
	}
	if n := r.srv.NumClients(); n != 0 {
		t.Fatalf("%d clients after refused upgrades", n)
	}
}

func asHandshakeError(err error, he **websocket.HandshakeError) bool {
	e, ok := err.(*websocket.HandshakeError)
	*he = e
	return ok
}

// The block's authorization replaces the server's for WebSocket clients only; cookies
// stand in for CONNECT fields the client left empty.
func TestWebSocketAuthOverrideAndCookies(t *testing.T) {
	wsAuth := &auth.Config{Users: []auth.User{{Name: "web", Password: "pw"}}}
	r := newWSRig(t, core.Options{}, core.WebSocketOptions{Auth: wsAuth, UserCookie: "u", PassCookie: "p"})
	tcp := r.dial()
	r.send(tcp, "CONNECT {\"verbose\":false}\r\nPING\r\n")
	expectLines(t, tcp, "PONG")

	c := r.dialWS(websocket.ClientConfig{})
	if wsInfo(t, c)["auth_required"] != true {
		t.Fatal("INFO for WebSocket clients must require auth")
	}
	r.send(&c.rawClient, "CONNECT {\"verbose\":false}\r\nPING\r\n")
	expectLines(t, &c.rawClient, "-ERR 'Authorization Violation'")

	c = r.dialWS(websocket.ClientConfig{Header: map[string]string{"Cookie": "u=web; p=pw"}})
	r.send(&c.rawClient, "CONNECT {\"verbose\":false}\r\nPING\r\n")
	expectLines(t, &c.rawClient, "PONG")
}

// A WebSocket client over max_connections is refused as a TCP one is: its listener's INFO
// (with the client id it would have had), the -ERR, then a policy-violation close frame.
func TestWebSocketMaxConnections(t *testing.T) {
	r := newWSRig(t, core.Options{MaxConnections: 1}, core.WebSocketOptions{})
	r.dial()
	c := r.dialWS(websocket.ClientConfig{})
	r.run(100 * time.Millisecond)
	got := c.got.String()
	if !c.closed || !strings.HasPrefix(got, "INFO {") || !strings.Contains(got, `"port":8080`) ||
		!strings.HasSuffix(got, "} \r\n-ERR 'maximum connections exceeded'\r\n") {
		t.Fatalf("closed %v got %q", c.closed, got)
	}
	if code, _ := c.ws.PeerClose(); code != websocket.ClosePolicyViolation {
		t.Fatalf("close frame %d", code)
	}
}
