package core

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/petrel-io/petrel/core/auth"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/websocket"
)

// WebSocket clients arrive on a second listener. Each accepted connection gets its own
// executor at once: the upgrade (TLS first for wss, then the HTTP handshake, bounded
// together by the handshake timeout) runs there, and the client that the connection
// becomes keeps it, since a websocket.Conn delivers its events where its handshake ran.
// Only an upgraded connection counts as a client (as in nats-server, whose HTTP server
// refuses bad upgrades before any client exists); from then on the client flow is the
// TCP one over the websocket.Conn, with INFO as its first frame.

// configureWebSocket checks the WebSocket options and builds what the listener needs, as
// part of a settings generation.
func (cfg *config) configureWebSocket() error {
	o := cfg.WebSocket
	if o == nil {
		return nil
	}
	p, err := o.policy(cfg.MaxPayload)
	if err != nil {
		return err
	}
	cfg.wsPolicy = p
	if o.Auth != nil {
		if cfg.wsAuth, err = auth.New(*o.Auth); err != nil {
			return fmt.Errorf("core: websocket: %w", err)
		}
	}
	return nil
}

// startWebSocket opens the WebSocket listener when configured.
func (s *Server) startWebSocket(cfg *config) error {
	o := cfg.WebSocket
	if o == nil {
		return nil
	}
	addr := env.JoinHostPort(o.Host, o.Port)
	l, err := s.env.Net.Listen(addr, s.ex, s.acceptWebSocket)
	if err != nil {
		return fmt.Errorf("core: listen for websocket clients on %s: %w", addr, err)
	}
	s.mu.Lock()
	s.wsListener = l
	s.wsPort = addrPort(l.Addr())
	s.mu.Unlock()
	scheme := "wss"
	if o.TLS == nil {
		scheme = "ws"
	}
	host := o.Host
	if host == "" {
		host = "0.0.0.0"
	}
	s.log.Logf(env.LevelInfo, "Listening for websocket clients on %s://%s", scheme, env.JoinHostPort(host, s.wsPort))
	if o.TLS == nil {
		s.log.Logf(env.LevelWarn, "Websocket not configured with TLS. DO NOT USE IN PRODUCTION!")
	}
	return nil
}

// WebsocketAddr is the address the WebSocket listener listens on, with the port
// resolved, or "" when WebSocket is off.
func (s *Server) WebsocketAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.wsListener == nil {
		return ""
	}
	return s.wsListener.Addr()
}

// acceptWebSocket runs on the server's executor for each connection to the WebSocket
// listener.
func (s *Server) acceptWebSocket(conn env.Conn) {
	s.mu.Lock()
	refuse := s.shutdown || s.lameDuck
	s.mu.Unlock()
	if refuse {
		conn.Abort()
		return
	}
	ex := s.env.Exec.New("websocket " + conn.RemoteAddr())
	ws := websocket.NewServer(conn, s.cfg().wsPolicy)
	ex.Post(func() { s.upgradeWebSocket(conn, ws, ex) })
}

// upgradeWebSocket runs TLS (for wss) and the HTTP upgrade, on the connection's executor.
func (s *Server) upgradeWebSocket(conn env.Conn, ws *websocket.Conn, ex env.Executor) {
	o := s.cfg().WebSocket
	start := s.env.Clock.Mono()
	handshake := func() {
		left := o.HandshakeTimeout - (s.env.Clock.Mono() - start)
		ws.Handshake(ex, s.env.Clock, left, func(err error) { s.upgraded(ws, ex, err) })
	}
	if o.TLS == nil {
		handshake()
		return
	}
	tc, ok := conn.(env.TLSConn)
	if !ok {
		s.log.Logf(env.LevelError, "%s - websocket TLS is configured but this host's connections cannot do TLS", conn.RemoteAddr())
		conn.Abort()
		return
	}
	tc.StartTLS(o.TLS, o.HandshakeTimeout, ex, func(err error) {
		if err != nil {
			s.log.Logf(env.LevelDebug, "%s - websocket TLS handshake error: %v", conn.RemoteAddr(), err)
			conn.Abort()
			return
		}
		handshake()
	})
}

// upgraded takes the handshake's outcome: a refused upgrade is logged as nats-server logs
// it (malformed HTTP, which its HTTP server answers alone, only at debug level).
func (s *Server) upgraded(ws *websocket.Conn, ex env.Executor, err error) {
	if err != nil {
		level := env.LevelDebug
		var he *websocket.HandshakeError
		if errors.As(err, &he) && he.Status != 0 && !he.Malformed {
			level = env.LevelError
		}
		s.log.Logf(level, "%s - %v", ws.RemoteAddr(), err)
		return
	}
	if ws.Upgrade().Kind == websocket.KindLeaf {
		s.log.Logf(env.LevelError, "Not configured to accept leaf node connections")
		_ = ws.Inner().Close() // as nats-server: the socket closes, without a close frame
		return
	}
	if c := s.admit(ws, ex, ws); c != nil {
		c.begin() // already on the executor the connection delivers to
	}
}

// webSocketInfo adapts INFO for a WebSocket client: the WebSocket listener's host, port
// and TLS, and its authorization, as nats-server tells its WebSocket clients.
func (s *Server) webSocketInfo(cfg *config, info *serverInfo) {
	o := cfg.WebSocket
	info.Host = o.Host
	if info.Host == "" {
		info.Host = "0.0.0.0"
	}
	s.mu.Lock()
	info.Port = s.wsPort
	s.mu.Unlock()
	info.TLSRequired, info.TLSVerify = o.TLS != nil, false
	info.AuthRequired = cfg.webSocketAuth().Required()
	info.ConnectURLs = nil
}

// authenticator checks this client's credentials: the WebSocket block's override for
// WebSocket clients when it has one, the server's otherwise.
func (c *client) authenticator(cfg *config) *auth.Authenticator {
	if c.ws != nil {
		return cfg.webSocketAuth()
	}
	return cfg.auth
}

// webSocketAuth is the authenticator of WebSocket clients: the block's override when it has
// one, the server's otherwise.
func (cfg *config) webSocketAuth() *auth.Authenticator {
	if cfg.wsAuth != nil {
		return cfg.wsAuth
	}
	return cfg.auth
}

// pingInterval is this client's: the WebSocket block's for WebSocket clients when it sets
// one, the server's otherwise.
func (c *client) pingInterval(cfg *config) time.Duration {
	if c.ws != nil && cfg.WebSocket != nil && cfg.WebSocket.PingInterval > 0 {
		return cfg.WebSocket.PingInterval
	}
	return cfg.PingInterval
}

// applyCookies fills the CONNECT fields a WebSocket client left empty from the cookies
// configured for them, as nats-server does. The JWT is kept for the accounts work, which
// will authenticate with it; nothing checks it yet.
func (c *client) applyCookies(ci *connectInfo) {
	o, r := c.srv.cfg().WebSocket, c.ws.Upgrade().Request
	fill := func(field *string, cookie string) {
		if *field == "" && cookie != "" {
			*field = r.Cookie(cookie)
		}
	}
	fill(&ci.JWT, o.JWTCookie)
	fill(&ci.User, o.UserCookie)
	fill(&ci.Pass, o.PassCookie)
	fill(&ci.Token, o.TokenCookie)
}

// webSocketCloseStatus maps a close reason to the close frame's status, as nats-server
// maps its closed states.
func webSocketCloseStatus(reason string) uint16 {
	switch reason {
	case reasonClientClosed:
		return websocket.CloseNormal
	case reasonAuthTimeout, reasonAuthFailure, reasonSlowPending, reasonSlowDeadline:
		return websocket.ClosePolicyViolation
	case reasonTLS:
		return websocket.CloseTLSHandshake
	case reasonParseError, reasonProtocol:
		return websocket.CloseProtocolError
	case reasonMaxPayload:
		return websocket.CloseMessageTooBig
	case reasonReadError, reasonStale, reasonServerShutdown, reasonLameDuck:
		return websocket.CloseGoingAway
	}
	if strings.HasPrefix(reason, "Maximum") {
		return websocket.ClosePolicyViolation // maximum control line, connections, subscriptions
	}
	return websocket.CloseInternalError
}
