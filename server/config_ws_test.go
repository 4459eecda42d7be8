package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func resolveText(t *testing.T, text string) (Options, []string, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ws.conf")
	must(t, os.WriteFile(path, []byte(text), 0o600))
	return (&cli{opts: Options{ConfigFile: path}}).resolve()
}

// What nats-server v2.15.2 refuses in a websocket block, refused at load with the file,
// line and column and nats-server's message (nats-server itself refuses some of these only
// when starting, and without a position).
func TestWebSocketConfigRefusals(t *testing.T) {
	cases := []struct{ name, text, want string }{
		{"no tls and no no_tls", "websocket {\n  port: -1\n}\n", "ws.conf:1:11: websocket requires TLS configuration"},
		{"unknown field", "websocket {\n  port: -1\n  no_tls: true\n  bogus: 1\n}\n", `ws.conf:4:3: unknown field "bogus"`},
		{"not a map", "websocket: 5\n", "ws.conf:1:12: Expected websocket to be a map"},
		{"bad allowed origin", "websocket {\n  port: -1\n  no_tls: true\n  allowed_origins: [\"ftp://x\"]\n}\n",
			`ws.conf:4:20: websocket.allowed_origins: unable to parse allowed origin "ftp://x": allowed origins must be absolute URLs with http or https scheme`},
		{"bad handshake timeout", "websocket {\n  port: -1\n  no_tls: true\n  handshake_timeout: \"abc\"\n}\n", "ws.conf:4:22: websocket.handshake_timeout: expected a duration"},
		{"no_auth_user without users", "websocket {\n  port: -1\n  no_tls: true\n  no_auth_user: bob\n}\n",
			`ws.conf:4:17: no_auth_user: "bob" present, but users/nkeys are not defined`},
		{"no_auth_user not a user", "authorization { users: [{user: a, password: b}] }\nwebsocket {\n  port: -1\n  no_tls: true\n  no_auth_user: bob\n}\n",
			`no_auth_user: "bob" not present as user or nkey in authorization block or account configuration`},
		{"username with users", "authorization { users: [{user: a, password: b}] }\nwebsocket {\n  port: -1\n  no_tls: true\n  authorization { username: x, password: y }\n}\n",
			"websocket authentication username not compatible with presence of users/nkeys"},
		{"token with users", "authorization { users: [{user: a, password: b}] }\nwebsocket {\n  port: -1\n  no_tls: true\n  authorization { token: t }\n}\n",
			"websocket authentication token not compatible with presence of users/nkeys"},
		{"jwt_cookie without operators", "websocket {\n  port: -1\n  no_tls: true\n  jwt_cookie: jwt\n}\n",
			`trusted operators or trusted keys configuration is required for JWT authentication via cookie "jwt"`},
		{"reserved header", "websocket {\n  port: -1\n  no_tls: true\n  headers { Upgrade: x }\n}\n", `websocket: invalid header "Upgrade" not allowed`},
		{"tls without a certificate", "websocket {\n  port: -1\n  tls { key_file: k }\n}\n", "missing 'cert_file' in TLS configuration"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := resolveText(t, c.text)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestWebSocketConfigAccepted(t *testing.T) {
	opts, warnings, err := resolveText(t, `
authorization { user: top, password: secret }
websocket {
  listen: "127.0.0.1:-1"
  advertise: "ws.example:443"
  no_tls: true
  compression: true
  same_origin: true
  allowed_origins: "https://app.example"
  handshake_timeout: 5
  ping_interval: "30s"
  user_cookie: u
  authorization { user: web, pass: pw, timeout: 0.5 }
  headers { "Strict-Transport-Security": "max-age=1" }
}
`)
	must(t, err)
	ws := opts.Core.WebSocket
	switch {
	case ws == nil:
		t.Fatal("no WebSocket options")
	case ws.Host != "127.0.0.1" || ws.Port != 0 || ws.Advertise != "ws.example:443" || ws.TLS != nil:
		t.Fatalf("listener %+v", ws)
	case !ws.Compression || !ws.SameOrigin || len(ws.AllowedOrigins) != 1 || ws.HandshakeTimeout != 5*time.Second || ws.PingInterval != 30*time.Second:
		t.Fatalf("options %+v", ws)
	case ws.UserCookie != "u" || ws.Headers["Strict-Transport-Security"] != "max-age=1":
		t.Fatalf("cookies and headers %+v", ws)
	case ws.Auth == nil || len(ws.Auth.Users) != 1 || ws.Auth.Users[0].Name != "web" || ws.Auth.Timeout != 500*time.Millisecond:
		// The override replaces the top-level single user for WebSocket clients.
		t.Fatalf("auth override %+v", ws.Auth)
	case len(warnings) != 0:
		t.Fatalf("warnings %q", warnings)
	}
	// A block without a port does not listen, and is not checked further (nats-server).
	opts, _, err = resolveText(t, "websocket {\n  no_tls: true\n}\n")
	if err != nil || opts.Core.WebSocket != nil {
		t.Fatalf("portless block: %v %+v", err, opts.Core.WebSocket)
	}
	// no_auth_user of the block may name a listed user; the listed users stay.
	opts, _, err = resolveText(t, "authorization { users: [{user: a, password: b}, {user: bob, password: c}] }\nwebsocket {\n  port: 8080\n  no_tls: true\n  no_auth_user: bob\n}\n")
	if err != nil || opts.Core.WebSocket.Auth == nil || opts.Core.WebSocket.Auth.NoAuthUser != "bob" || len(opts.Core.WebSocket.Auth.Users) != 2 {
		t.Fatalf("no_auth_user override: %v %+v", err, opts.Core.WebSocket)
	}
}
