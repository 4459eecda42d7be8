package websocket

import (
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"sort"
	"strconv"
	"time"
)

// ErrHandshake classifies a refused or failed handshake (errors.Is); the error is a
// *HandshakeError when the server answered with an HTTP status.
var ErrHandshake = errors.New("websocket: handshake failed")

// HandshakeError is a handshake the server refused: the HTTP status it answered with and
// the reason it logs (nats-server's texts: "request method must be GET", ...).
type HandshakeError struct {
	Status int
	Reason string
	// Malformed is true when the request was not well-formed HTTP: Go's HTTP server, which
	// nats-server uses, answers those before nats-server sees them, and nats-server logs
	// nothing.
	Malformed bool
}

func (e *HandshakeError) Error() string { return "websocket handshake error: " + e.Reason }

// Is makes errors.Is(err, ErrHandshake) hold.
func (e *HandshakeError) Is(target error) bool { return target == ErrHandshake }

// httpError is a refusal and how to write it. Two styles exist because nats-server has
// two sources of answers: Go's HTTP server for malformed requests ("400 Bad Request:
// detail" as both status line and body, Connection: close), and nats-server's upgrade
// checks through http.Error (the bare status text as body, with Date, Content-Length and
// nats-server's Sec-Websocket-Version). silent closes without answering, as nats-server
// does for a client that sent data before the 101.
type httpError struct {
	status int
	reason string // logged, and for malformed requests appended to the status text
	plain  bool
	silent bool
}

// serverError is Go's HTTP server refusing a malformed request.
func serverError(status int, detail string) *httpError {
	return &httpError{status: status, reason: detail, plain: true}
}

// upgradeError is one of nats-server's upgrade checks failing.
func upgradeError(status int, reason string) *httpError {
	return &httpError{status: status, reason: reason}
}

func (e *httpError) err() *HandshakeError {
	reason := e.reason
	if e.plain && reason == "" {
		reason = "malformed request"
	}
	return &HandshakeError{Status: e.status, Reason: reason, Malformed: e.plain}
}

var statusText = map[int]string{
	400: "Bad Request",
	403: "Forbidden",
	404: "Not Found",
	405: "Method Not Allowed",
	431: "Request Header Fields Too Large",
	505: "HTTP Version Not Supported",
}

// response renders the answer. Petrel closes the connection after any refusal, so the
// upgrade-check style also says Connection: close (Go's server would keep an HTTP/1.1
// connection open for another request, which no WebSocket client sends).
func (e *httpError) response(minor int, now time.Time) []byte {
	text := statusText[e.status]
	status := strconv.Itoa(e.status) + " " + text
	proto := "HTTP/1." + strconv.Itoa(minor)
	if e.plain {
		if e.reason != "" {
			status += ": " + e.reason
		}
		return []byte("HTTP/1.1 " + status + "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n" + status)
	}
	body := text + "\n"
	return []byte(proto + " " + status + "\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"Sec-Websocket-Version: 13\r\n" +
		"X-Content-Type-Options: nosniff\r\n" +
		"Date: " + now.UTC().Format(httpDate) + "\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n" +
		"Connection: close\r\n\r\n" + body)
}

// httpDate is HTTP's date format (RFC 9110 5.6.7), as Go's http.TimeFormat.
const httpDate = "Mon, 02 Jan 2006 15:04:05 GMT"

// acceptGUID is RFC 6455's fixed GUID for Sec-WebSocket-Accept (1.3).
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// AcceptKey is the Sec-WebSocket-Accept value for a client's Sec-WebSocket-Key.
func AcceptKey(key string) string {
	sum := sha1.Sum([]byte(key + acceptGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// deflateResponse is the only permessage-deflate answer nats-server gives: no context
// takeover either way, so each message deflates alone.
const deflateResponse = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"

// noMaskingHeader lets a peer that asks for it send unmasked frames (nats-server's
// extension, used by leaf nodes; browsers cannot set it).
const noMaskingHeader = "Nats-No-Masking"

// switchingProtocols renders the 101 answer, in nats-server's header order; extra
// headers (the configuration's) follow, sorted by name so the bytes are deterministic.
func switchingProtocols(key string, up *Upgrade, extra map[string]string) []byte {
	b := []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ")
	b = append(b, AcceptKey(key)...)
	b = append(b, "\r\n"...)
	if up.Compress {
		b = append(b, "Sec-WebSocket-Extensions: "+deflateResponse+"\r\n"...)
	}
	if up.NoMasking {
		b = append(b, noMaskingHeader+": true\r\n"...)
	}
	names := make([]string, 0, len(extra))
	for name := range extra {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		b = append(b, name+": "+extra[name]+"\r\n"...)
	}
	return append(b, "\r\n"...)
}
