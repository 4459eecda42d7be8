package websocket

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/petrel-io/petrel/core/env"
)

// handshakeData gathers the handshake's bytes, on ex, until the request (server) or the
// response (client) is whole.
func (c *Conn) handshakeData(p []byte) {
	limit := HandshakeBytesMax
	if c.role == RoleClient {
		limit = responseBytesMax
	}
	c.hsBuf = append(c.hsBuf, p...)
	end := headEnd(c.hsBuf)
	switch {
	case end < 0 && len(c.hsBuf) > limit:
		c.tooLarge()
	case end < 0:
	case c.role == RoleServer:
		c.serveRequest(c.hsBuf[:end], c.hsBuf[end:])
	default:
		c.readResponse(c.hsBuf[:end], c.hsBuf[end:])
	}
}

func (c *Conn) tooLarge() {
	if c.role == RoleClient {
		c.fail(nil, &HandshakeError{Reason: "response headers too large"})
		return
	}
	herr := serverError(431, "")
	c.fail(herr.response(1, c.clock.Now()), herr.err())
}

// serveRequest answers a whole request: 101 and frames from now on, or a refusal.
func (c *Conn) serveRequest(head, rest []byte) {
	r, herr := parseRequest(head)
	minor := 1
	var up *Upgrade
	var key string
	if herr == nil {
		minor = r.Minor
		up, key, herr = c.policy.upgrade(r)
	}
	if herr == nil && len(rest) > 0 {
		// nats-server's HTTP server hands over the socket only when nothing follows the
		// request; a client that did not wait for the 101 is closed without an answer.
		herr = &httpError{status: 400, reason: "client sent data before handshake is complete", silent: true}
	}
	if herr != nil {
		var answer []byte
		if !herr.silent {
			answer = herr.response(minor, c.clock.Now())
		}
		c.fail(answer, herr.err())
		return
	}
	c.up = up
	if err := c.inner.Write(switchingProtocols(key, up, c.policy.cfg.Headers)); err != nil {
		c.fail(nil, fmt.Errorf("%w: %v", ErrHandshake, err))
		return
	}
	frameMax := FramePayloadMax
	if up.Browser {
		frameMax = BrowserFramePayloadMax
	}
	c.open(nil, up.Compress, !up.NoMasking, frameMax, up.WholeCompressed)
}

// ClientConfig shapes the client side of a handshake.
type ClientConfig struct {
	Host        string // the Host header: "host:port"
	Path        string // the request path; "/" when empty
	Compression bool   // offer permessage-deflate
	// Header holds extra request fields (Origin, Cookie, User-Agent, ...).
	Header map[string]string
}

// NewClient wraps a dialed connection; Handshake then sends the upgrade request and
// checks the answer. rand draws the key and every frame's masking key.
func NewClient(inner env.Conn, cfg ClientConfig, rand env.Rand) *Conn {
	c := &Conn{inner: inner, role: RoleClient, client: cfg, rand: rand}
	c.emitFn = c.emit
	return c
}

// sendRequest writes the upgrade request with a fresh key.
func (c *Conn) sendRequest() {
	var raw [16]byte
	c.rand.Fill(raw[:])
	c.key = base64.StdEncoding.EncodeToString(raw[:])
	path := c.client.Path
	if path == "" {
		path = "/"
	}
	var b strings.Builder
	b.WriteString("GET " + path + " HTTP/1.1\r\nHost: " + c.client.Host + "\r\n")
	b.WriteString("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + c.key + "\r\nSec-WebSocket-Version: 13\r\n")
	if c.client.Compression {
		b.WriteString("Sec-WebSocket-Extensions: " + deflateResponse + "\r\n")
	}
	names := make([]string, 0, len(c.client.Header))
	for name := range c.client.Header {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		b.WriteString(name + ": " + c.client.Header[name] + "\r\n")
	}
	b.WriteString("\r\n")
	_ = c.inner.Write([]byte(b.String())) // a failure ends the connection; OnClose reports it
}

// readResponse checks the server's answer as nats.go does: 101, Upgrade and Connection,
// the accept key, and compression only with no context takeover both ways.
func (c *Conn) readResponse(head, rest []byte) {
	status, fields, err := parseResponse(head)
	if err != nil {
		c.fail(nil, err)
		return
	}
	switch {
	case status != 101:
		c.fail(nil, &HandshakeError{Status: status, Reason: "server answered " + strconv.Itoa(status)})
		return
	case !strings.EqualFold(fields["upgrade"], "websocket") || !strings.EqualFold(fields["connection"], "upgrade"),
		fields["sec-websocket-accept"] != AcceptKey(c.key):
		c.fail(nil, &HandshakeError{Status: status, Reason: "invalid websocket connection"})
		return
	}
	compress := false
	if ext := strings.ToLower(fields["sec-websocket-extensions"]); c.client.Compression && strings.Contains(ext, "permessage-deflate") {
		if !strings.Contains(ext, "server_no_context_takeover") || !strings.Contains(ext, "client_no_context_takeover") {
			c.fail(nil, &HandshakeError{Status: status, Reason: "compression negotiation error"})
			return
		}
		compress = true
	}
	c.open(rest, compress, false, FramePayloadMax, false)
}

// parseResponse reads a response head: the status code and the fields by lower-case name
// (the last of repeated ones).
func parseResponse(head []byte) (int, map[string]string, error) {
	lines := strings.Split(strings.TrimRight(string(head), "\r\n"), "\n")
	first := strings.TrimSuffix(lines[0], "\r")
	proto, rest, _ := strings.Cut(first, " ")
	code, _, _ := strings.Cut(rest, " ")
	status, err := strconv.Atoi(code)
	if !strings.HasPrefix(proto, "HTTP/1.") || err != nil {
		return 0, nil, &HandshakeError{Reason: fmt.Sprintf("malformed response %q", first)}
	}
	fields := map[string]string{}
	for _, line := range lines[1:] {
		name, value, ok := strings.Cut(strings.TrimSuffix(line, "\r"), ":")
		if ok {
			fields[strings.ToLower(strings.TrimSpace(name))] = strings.TrimSpace(value)
		}
	}
	return status, fields, nil
}
