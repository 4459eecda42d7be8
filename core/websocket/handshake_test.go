package websocket

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var rewrite = flag.Bool("rewrite", false, "rewrite golden files in testdata")

// golden compares got with testdata/name, or rewrites it under -rewrite.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *rewrite {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -rewrite to create it)", err)
	}
	if string(got) != string(want) {
		t.Fatalf("%s differs:\ngot  %q\nwant %q", name, got, want)
	}
}

// The 101 and the refusals, byte for byte as nats-server v2.15.2 answers them (seen with
// raw requests against it), but for the Connection: close Petrel adds before closing.
func TestHandshakeAnswersGolden(t *testing.T) {
	r := newServerRig(ServerConfig{})
	r.send([]byte(goodRequest))
	golden(t, "switching_protocols.txt", r.inner.take())

	r = newServerRig(ServerConfig{Compression: true, Headers: map[string]string{"Strict-Transport-Security": "max-age=1", "X-A": "b"}})
	r.send([]byte(strings.Replace(goodRequest, "\r\n\r\n", "\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\nNats-No-Masking: true\r\n\r\n", 1)))
	golden(t, "switching_protocols_deflate.txt", r.inner.take())

	r = newServerRig(ServerConfig{})
	r.send([]byte(strings.Replace(goodRequest, "GET", "POST", 1)))
	golden(t, "method_not_allowed.txt", r.inner.take())

	r = newServerRig(ServerConfig{})
	r.send([]byte("hello\r\n\r\n"))
	golden(t, "malformed.txt", r.inner.take())
}

func withHeader(name, value string) string {
	return strings.Replace(goodRequest, "\r\n\r\n", "\r\n"+name+": "+value+"\r\n\r\n", 1)
}

func withoutHeader(name string) string {
	lines := strings.Split(goodRequest, "\r\n")
	var keep []string
	for _, l := range lines {
		if !strings.HasPrefix(strings.ToLower(l), strings.ToLower(name)+":") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\r\n")
}

// Every refusal: the status line nats-server answers with and the reason it logs.
func TestHandshakeRefusals(t *testing.T) {
	cases := []struct {
		name, request, status, reason string
		cfg                           ServerConfig
	}{
		{"method", strings.Replace(goodRequest, "GET", "POST", 1), "HTTP/1.1 405 Method Not Allowed", "request method must be GET", ServerConfig{}},
		{"method is case-sensitive", strings.Replace(goodRequest, "GET", "get", 1), "HTTP/1.1 405 Method Not Allowed", "request method must be GET", ServerConfig{}},
		{"no upgrade", withoutHeader("Upgrade"), "HTTP/1.1 400 Bad Request", "invalid value for header 'Upgrade'", ServerConfig{}},
		{"upgrade to something else", strings.Replace(goodRequest, "Upgrade: websocket", "Upgrade: h2c", 1), "HTTP/1.1 400 Bad Request", "invalid value for header 'Upgrade'", ServerConfig{}},
		{"no connection", withoutHeader("Connection"), "HTTP/1.1 400 Bad Request", "invalid value for header 'Connection'", ServerConfig{}},
		{"no key", withoutHeader("Sec-WebSocket-Key"), "HTTP/1.1 400 Bad Request", "key missing", ServerConfig{}},
		{"short key", strings.Replace(goodRequest, "dGhlIHNhbXBsZSBub25jZQ==", "abc", 1), "HTTP/1.1 400 Bad Request", "invalid websocket key", ServerConfig{}},
		{"no version", withoutHeader("Sec-WebSocket-Version"), "HTTP/1.1 400 Bad Request", "invalid version", ServerConfig{}},
		{"version 8", strings.Replace(goodRequest, "Version: 13", "Version: 8", 1), "HTTP/1.1 400 Bad Request", "invalid version", ServerConfig{}},
		{"HTTP/1.0 without Host", strings.Replace(withoutHeader("Host"), "HTTP/1.1", "HTTP/1.0", 1), "HTTP/1.0 400 Bad Request", "'Host' missing in request", ServerConfig{}},
		{"mqtt path", strings.Replace(goodRequest, "GET /", "GET /mqtt", 1), "HTTP/1.1 404 Not Found", "mqtt websocket endpoint not enabled", ServerConfig{}},
		{"origin not same", withHeader("Origin", "http://evil.example"), "HTTP/1.1 403 Forbidden", "origin not allowed: not same origin", ServerConfig{SameOrigin: true}},
		{"origin scheme not same", withHeader("Origin", "https://127.0.0.1:8080"), "HTTP/1.1 403 Forbidden", "origin not allowed: not same origin", ServerConfig{SameOrigin: true}},
		{"origin not listed", withHeader("Origin", "http://evil.example"), "HTTP/1.1 403 Forbidden", "origin not allowed: not in the allowed list", ServerConfig{AllowedOrigins: []string{"http://good.example"}}},
		{"origin port not listed", withHeader("Origin", "http://good.example:81"), "HTTP/1.1 403 Forbidden", "origin not allowed: not in the allowed list", ServerConfig{AllowedOrigins: []string{"http://good.example"}}},
		// Malformed HTTP, answered as Go's HTTP server answers it for nats-server.
		{"garbage", "hello\r\n\r\n", "HTTP/1.1 400 Bad Request", "malformed request", ServerConfig{}},
		{"HTTP/1.1 without Host", withoutHeader("Host"), "HTTP/1.1 400 Bad Request: missing required Host header", "missing required Host header", ServerConfig{}},
		{"two Hosts", withHeader("Host", "x"), "HTTP/1.1 400 Bad Request: too many Host headers", "too many Host headers", ServerConfig{}},
		{"HTTP/2.0", strings.Replace(goodRequest, "HTTP/1.1", "HTTP/2.0", 1), "HTTP/1.1 505 HTTP Version Not Supported: unsupported protocol version", "unsupported protocol version", ServerConfig{}},
		{"field without colon", withHeader("Broken", "x")[:0] + strings.Replace(goodRequest, "Upgrade: websocket\r\n", "Upgrade: websocket\r\nBroken\r\n", 1), "HTTP/1.1 400 Bad Request", "malformed request", ServerConfig{}},
		{"bad field name", strings.Replace(goodRequest, "Upgrade: websocket\r\n", "Upgrade: websocket\r\nBad Name: x\r\n", 1), "HTTP/1.1 400 Bad Request: invalid header name", "invalid header name", ServerConfig{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newServerRig(c.cfg)
			r.send([]byte(c.request))
			answer := string(r.inner.take())
			var he *HandshakeError
			if !r.done || !errors.As(r.err, &he) || !errors.Is(r.err, ErrHandshake) {
				t.Fatalf("done %v err %v", r.done, r.err)
			}
			if !strings.HasPrefix(answer, c.status+"\r\n") || he.Reason != c.reason {
				t.Fatalf("answer %q reason %q; want %q, %q", answer, he.Reason, c.status, c.reason)
			}
			if !r.inner.closed || r.conn.Phase() != PhaseClosed {
				t.Fatal("a refused connection must be closed")
			}
		})
	}
}

// Requests nats-server accepts, with what was negotiated.
func TestHandshakeAccepts(t *testing.T) {
	cases := []struct {
		name, request string
		cfg           ServerConfig
		check         func(*Upgrade) bool
	}{
		{"plain", goodRequest, ServerConfig{}, func(u *Upgrade) bool { return !u.Compress && !u.Browser && u.Kind == KindClient }},
		{"header tokens in any case and lists", "GET /x?y=1 HTTP/1.1\r\nhost: h\r\nupgrade: WebSocket\r\nconnection: keep-alive, Upgrade\r\n" +
			"sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 8, 13\r\n\r\n", ServerConfig{}, func(u *Upgrade) bool { return u.Request.Path() == "/x" }},
		{"LF line ends", strings.ReplaceAll(goodRequest, "\r\n", "\n"), ServerConfig{}, func(*Upgrade) bool { return true }},
		{"deflate offered but off", withHeader("Sec-WebSocket-Extensions", "permessage-deflate"), ServerConfig{}, func(u *Upgrade) bool { return !u.Compress }},
		{"deflate on", withHeader("Sec-WebSocket-Extensions", "x-foo, permessage-deflate; client_max_window_bits"), ServerConfig{Compression: true}, func(u *Upgrade) bool { return u.Compress }},
		{"deflate on but not offered", goodRequest, ServerConfig{Compression: true}, func(u *Upgrade) bool { return !u.Compress }},
		{"same origin", withHeader("Origin", "http://127.0.0.1:8080"), ServerConfig{SameOrigin: true}, func(*Upgrade) bool { return true }},
		{"same origin default port", strings.Replace(withHeader("Origin", "http://Example.COM"), "Host: 127.0.0.1:8080", "Host: example.com:80", 1), ServerConfig{SameOrigin: true}, func(*Upgrade) bool { return true }},
		{"no origin passes any policy", goodRequest, ServerConfig{SameOrigin: true, AllowedOrigins: []string{"http://a"}}, func(*Upgrade) bool { return true }},
		{"listed origin", withHeader("Origin", "https://good.example"), ServerConfig{AllowedOrigins: []string{"http://other", "https://good.example:443"}}, func(*Upgrade) bool { return true }},
		{"browser", withHeader("User-Agent", "Mozilla/5.0 (Macintosh) Version/17 Safari/605"), ServerConfig{}, func(u *Upgrade) bool { return u.Browser && !u.WholeCompressed }},
		{"forwarded client", withHeader("X-Forwarded-For", "10.1.2.3"), ServerConfig{}, func(u *Upgrade) bool { return u.ClientIP == "10.1.2.3" }},
		{"forwarded garbage", withHeader("X-Forwarded-For", "nope"), ServerConfig{}, func(u *Upgrade) bool { return u.ClientIP == "" }},
		{"leaf path", strings.Replace(goodRequest, "GET /", "GET /leafnode", 1), ServerConfig{}, func(u *Upgrade) bool { return u.Kind == KindLeaf }},
		{"cookies", withHeader("Cookie", "a=1; jwt=\"eyJ\"; b=2"), ServerConfig{}, func(u *Upgrade) bool { return u.Request.Cookie("jwt") == "eyJ" && u.Request.Cookie("b") == "2" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newServerRig(c.cfg)
			r.send([]byte(c.request))
			answer := string(r.inner.take())
			if r.err != nil || !strings.HasPrefix(answer, "HTTP/1.1 101 Switching Protocols\r\n") {
				t.Fatalf("err %v answer %q", r.err, answer)
			}
			if up := r.conn.Upgrade(); !c.check(up) {
				t.Fatalf("negotiated %+v", up)
			}
		})
	}
}

// The request may arrive a byte at a time; bytes sent before the 101 close the connection
// without an answer; a request that never ends is refused at the bound; the handshake
// times out on the clock.
func TestHandshakeEdges(t *testing.T) {
	r := newServerRig(ServerConfig{})
	for i := range len(goodRequest) {
		if r.done {
			t.Fatalf("done after %d bytes", i)
		}
		r.send([]byte{goodRequest[i]})
	}
	if !r.done || r.err != nil {
		t.Fatalf("byte-by-byte request: done %v err %v", r.done, r.err)
	}

	r = newServerRig(ServerConfig{})
	r.send([]byte(goodRequest + "\x82"))
	if !errors.Is(r.err, ErrHandshake) || len(r.inner.take()) != 0 || !r.inner.closed {
		t.Fatalf("early data: err %v", r.err)
	}

	r = newServerRig(ServerConfig{})
	r.send([]byte("GET / HTTP/1.1\r\nX: " + strings.Repeat("a", HandshakeBytesMax)))
	if answer := string(r.inner.take()); !strings.HasPrefix(answer, "HTTP/1.1 431 Request Header Fields Too Large") {
		t.Fatalf("oversized request answered %q", answer)
	}

	r = newServerRig(ServerConfig{})
	r.send([]byte("GET / HTTP/1.1\r\n"))
	r.clock.fire()
	r.ex.drain()
	if !errors.Is(r.err, ErrHandshakeTimeout) || !r.inner.aborted {
		t.Fatalf("timeout: err %v aborted %v", r.err, r.inner.aborted)
	}

	r = newServerRig(ServerConfig{})
	r.inner.h.OnClose(nil)
	if !errors.Is(r.err, ErrHandshake) {
		t.Fatalf("peer left during the handshake: err %v", r.err)
	}
}

func TestPolicyChecksConfiguration(t *testing.T) {
	cases := []struct {
		cfg  ServerConfig
		want string
	}{
		{ServerConfig{AllowedOrigins: []string{"ftp://x"}}, `unable to parse allowed origin "ftp://x": allowed origins must be absolute URLs with http or https scheme`},
		{ServerConfig{AllowedOrigins: []string{"http://"}}, `unable to parse allowed origin "http://": host is required`},
		{ServerConfig{AllowedOrigins: []string{"nope"}}, `unable to parse allowed origin: parse "nope": invalid URI for request`},
		{ServerConfig{Headers: map[string]string{"Upgrade": "x"}}, `websocket: invalid header "Upgrade" not allowed`},
		{ServerConfig{Headers: map[string]string{"Sec-WebSocket-Foo": "x"}}, `websocket: invalid header "Sec-WebSocket-Foo", "Sec-WebSocket-" prefix not allowed`},
	}
	for _, c := range cases {
		if _, err := NewPolicy(c.cfg); err == nil || err.Error() != c.want {
			t.Errorf("%+v: err %v, want %q", c.cfg, err, c.want)
		}
	}
}
