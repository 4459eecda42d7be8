package core

import (
	"crypto/tls"
	"fmt"
	"time"

	"github.com/petrel-io/petrel/core/auth"
	"github.com/petrel-io/petrel/core/websocket"
)

// WebSocketOptions configure the WebSocket listener: nats-server's websocket block.
type WebSocketOptions struct {
	Host string // listen host; "" means all interfaces
	Port int    // listen port; 0 picks a free one (the server package maps -1 to 0)
	// Advertise is the host:port WebSocket clients are told to reconnect to; kept for
	// monitoring and clustering.
	Advertise string

	// TLS makes the listener wss: the TLS handshake comes before the HTTP upgrade. nil is
	// plain ws (the block's no_tls).
	TLS *tls.Config

	Compression    bool // negotiate permessage-deflate with clients that offer it
	SameOrigin     bool
	AllowedOrigins []string
	// Headers are added to every 101 answer.
	Headers map[string]string
	// HandshakeTimeout bounds TLS and the HTTP upgrade together; 0 takes
	// websocket.HandshakeTimeoutDefault.
	HandshakeTimeout time.Duration
	// PingInterval replaces the server's for WebSocket clients when set.
	PingInterval time.Duration

	// Cookies whose values stand in for CONNECT fields the client left empty. JWTCookie's
	// value becomes the CONNECT's JWT: the accounts work (operator mode) authenticates
	// with it; until then it is kept and not checked.
	JWTCookie, UserCookie, PassCookie, TokenCookie string

	// Auth, when set, replaces the server's authorization for WebSocket clients (the
	// block's username/password, token and no_auth_user, as nats-server overrides).
	Auth *auth.Config
}

// withDefaults fills zero values and checks what the listener needs.
func (w *WebSocketOptions) withDefaults(o Options) error {
	setDefault(&w.HandshakeTimeout, websocket.HandshakeTimeoutDefault)
	setDefault(&w.PingInterval, o.PingInterval)
	if w.Port < 0 || w.Port > 65535 {
		return fmt.Errorf("core: websocket port %d out of range", w.Port)
	}
	if w.Auth != nil {
		a := *w.Auth
		setDefault(&a.Timeout, o.Auth.Timeout)
		w.Auth = &a
	}
	return nil
}

// policy is the handshake policy the options describe.
func (w *WebSocketOptions) policy(maxPayload int) (*websocket.Policy, error) {
	p, err := websocket.NewPolicy(websocket.ServerConfig{
		TLS: w.TLS != nil, Compression: w.Compression, SameOrigin: w.SameOrigin,
		AllowedOrigins: w.AllowedOrigins, Headers: w.Headers,
		MessageBytesMax: websocket.MessageBytesFor(maxPayload),
	})
	if err != nil {
		return nil, fmt.Errorf("core: %w", err)
	}
	return p, nil
}
