package server

import (
	"fmt"
	"time"

	"github.com/petrel-io/petrel/core"
	"github.com/petrel-io/petrel/core/auth"
	"github.com/petrel-io/petrel/core/websocket"
	"github.com/petrel-io/petrel/server/conf"
)

// WebSocketConfig is the websocket block as read: the engine's options, plus what only
// the host handles (TLS files) or what is resolved once the whole file is read (the
// authorization override, which depends on the top-level users).
type WebSocketConfig struct {
	Core  core.WebSocketOptions
	NoTLS bool

	TLSCert, TLSKey, TLSCACert string
	TLSVerify                  bool

	// The block's authorization: it overrides the server's for WebSocket clients when any
	// of Username, Token or NoAuthUser is set (as in nats-server).
	Username, Password, Token, NoAuthUser string
	AuthTimeout                           time.Duration
}

// wsBlock remembers where the block's values were written, for errors found once the
// whole file is read.
type wsBlock struct {
	at, tlsAt, noAuthAt, userAt, tokenAt, jwtCookieAt *conf.Value
}

// websocket reads the websocket block. Unlike most blocks, an unknown key in it is an
// error, as nats-server makes it one.
func (a *applier) websocket(v *conf.Value) error {
	m, err := v.AsMap()
	if err != nil {
		return &conf.Error{Pos: v.Pos, Msg: fmt.Sprintf("Expected websocket to be a map, got %s", v.Kind), Err: conf.ErrType}
	}
	w := &a.opts.WebSocket
	o := &w.Core
	a.ws = &wsBlock{at: v}
	handlers := map[string]handler{
		"listen": func(v *conf.Value) error {
			host, port, err := splitHostPort(v)
			o.Host, o.Port = host, port
			return err
		},
		"port":              setPort(&o.Port),
		"host":              setString(&o.Host),
		"net":               setString(&o.Host),
		"advertise":         setString(&o.Advertise),
		"no_tls":            setBool(&w.NoTLS),
		"tls":               func(v *conf.Value) error { a.ws.tlsAt = v; return a.websocketTLS(v) },
		"same_origin":       setBool(&o.SameOrigin),
		"compress":          setBool(&o.Compression),
		"compression":       setBool(&o.Compression),
		"handshake_timeout": setDuration(&o.HandshakeTimeout),
		"ping_interval":     setDuration(&o.PingInterval),
		"jwt_cookie":        func(v *conf.Value) error { a.ws.jwtCookieAt = v; return setString(&o.JWTCookie)(v) },
		"user_cookie":       setString(&o.UserCookie),
		"pass_cookie":       setString(&o.PassCookie),
		"token_cookie":      setString(&o.TokenCookie),
		"no_auth_user":      func(v *conf.Value) error { a.ws.noAuthAt = v; return setString(&w.NoAuthUser)(v) },
		"authorization":     a.websocketAuth,
		"authentication":    a.websocketAuth,
		"headers":           a.websocketHeaders,
	}
	for _, key := range []string{"allowed_origins", "allowed_origin", "allow_origins", "allow_origin", "origins", "origin"} {
		handlers[key] = a.websocketOrigins
	}
	return a.entries(m, handlers, unknownField)
}

func (a *applier) websocketOrigins(v *conf.Value) error {
	list, err := v.AsStringList()
	if err != nil {
		return err
	}
	for _, ao := range list {
		if _, err := websocket.NewPolicy(websocket.ServerConfig{AllowedOrigins: []string{ao}}); err != nil {
			return v.Errorf("%v", err)
		}
	}
	a.opts.WebSocket.Core.AllowedOrigins = list
	return nil
}

func (a *applier) websocketHeaders(v *conf.Value) error {
	m, err := v.AsMap()
	if err != nil {
		return err
	}
	headers := map[string]string{}
	for _, e := range m.Entries() {
		s, err := e.Value.AsString()
		if err != nil {
			return err
		}
		if err := websocket.CheckHeaderName(e.Key); err != nil {
			return e.Value.Errorf("%v", err)
		}
		headers[e.Key] = s
	}
	a.opts.WebSocket.Core.Headers = headers
	return nil
}

func (a *applier) websocketTLS(v *conf.Value) error {
	w := &a.opts.WebSocket
	return a.block(v, map[string]handler{
		"cert_file":         setString(&w.TLSCert),
		"key_file":          setString(&w.TLSKey),
		"ca_file":           setString(&w.TLSCACert),
		"verify":            setBool(&w.TLSVerify),
		"timeout":           ignore, // the handshake timeout bounds TLS too
		"cipher_suites":     ignore,
		"curve_preferences": ignore,
		"insecure":          ignore,
		"handshake_first":   ignore, // a WebSocket listener always starts with TLS
		"verify_and_map":    func(v *conf.Value) error { a.warn(v, "verify_and_map is not supported yet; ignored"); return nil },
		"pinned_certs":      func(v *conf.Value) error { a.warn(v, "pinned_certs is not supported yet; ignored"); return nil },
	})
}

// websocketAuth reads the block's authorization {user, password, token, timeout}.
func (a *applier) websocketAuth(v *conf.Value) error {
	w := &a.opts.WebSocket
	return a.block(v, map[string]handler{
		"user":     func(v *conf.Value) error { a.ws.userAt = v; return setString(&w.Username)(v) },
		"username": func(v *conf.Value) error { a.ws.userAt = v; return setString(&w.Username)(v) },
		"pass":     setString(&w.Password),
		"password": setString(&w.Password),
		"token":    func(v *conf.Value) error { a.ws.tokenAt = v; return setString(&w.Token)(v) },
		"timeout":  setSeconds(&w.AuthTimeout),
	})
}

// finishWebSocket checks the block against the rest of the configuration (nats-server's
// validation, with the block's position) and builds the engine's options. singleUser is
// the name of the top-level single user (authorization {user, password} or --user),
// which a WebSocket override replaces; operator tells whether the file trusts operators.
func (a *applier) finishWebSocket(o *Options, singleUser string, operator bool) error {
	b, w := a.ws, &o.WebSocket
	if b == nil || w.Core.Port == 0 {
		o.Core.WebSocket = nil // no port: nats-server does not listen, nor check the rest
		return nil
	}
	fail := func(v *conf.Value, format string, args ...any) error {
		return &conf.Error{Pos: v.Pos, Msg: fmt.Sprintf(format, args...), Err: conf.ErrInvalid}
	}
	switch {
	case b.tlsAt == nil && !w.NoTLS:
		return fail(b.at, "websocket requires TLS configuration")
	case b.tlsAt != nil && w.TLSCert == "":
		return fail(b.tlsAt, "missing 'cert_file' in TLS configuration")
	case b.tlsAt != nil && w.TLSKey == "":
		return fail(b.tlsAt, "missing 'key_file' in TLS configuration")
	}
	listed := listedUsers(o.Core.Auth.Users, singleUser)
	if w.NoAuthUser != "" {
		if err := checkNoAuthUser(w.NoAuthUser, listed); err != nil {
			return fail(b.noAuthAt, "%v", err)
		}
	}
	if len(listed) > 0 && w.Username != "" {
		return fail(b.userAt, "websocket authentication username not compatible with presence of users/nkeys")
	}
	if len(listed) > 0 && w.Token != "" {
		return fail(b.tokenAt, "websocket authentication token not compatible with presence of users/nkeys")
	}
	if w.Core.JWTCookie != "" && !operator {
		return fail(b.jwtCookieAt, "trusted operators or trusted keys configuration is required for JWT authentication via cookie %q", w.Core.JWTCookie)
	}
	if w.Core.Port == -1 {
		w.Core.Port = 0 // nats-server's "any free port"
	}
	if w.Core.Host == "" {
		w.Core.Host = DefaultHost
	}
	w.Core.Auth = webSocketAuth(w, listed)
	ws := w.Core
	o.Core.WebSocket = &ws
	return nil
}

// listedUsers are the users of a users list (and nkeys), without the single user.
func listedUsers(users []auth.User, single string) []auth.User {
	var out []auth.User
	for _, u := range users {
		if single == "" || u.Name != single || u.Nkey != "" {
			out = append(out, u)
		}
	}
	return out
}

func checkNoAuthUser(name string, listed []auth.User) error {
	if len(listed) == 0 {
		return fmt.Errorf("no_auth_user: %q present, but users/nkeys are not defined", name)
	}
	for _, u := range listed {
		if u.Name == name || u.Nkey == name {
			return nil
		}
	}
	return fmt.Errorf("no_auth_user: %q not present as user or nkey in authorization block or account configuration", name)
}

// webSocketAuth is the override's authorization, or nil when the block has none: the
// listed users still apply, the block's user or token replaces the server's single user
// or token, and its no_auth_user the server's.
func webSocketAuth(w *WebSocketConfig, listed []auth.User) *auth.Config {
	if w.Username == "" && w.Token == "" && w.NoAuthUser == "" {
		return nil
	}
	cfg := &auth.Config{Users: listed, Token: w.Token, NoAuthUser: w.NoAuthUser, Timeout: w.AuthTimeout}
	if w.Username != "" {
		cfg.Users = append([]auth.User{{Name: w.Username, Password: w.Password}}, cfg.Users...)
	}
	return cfg
}

// trustsOperators reports whether the file configures operator mode, which jwt_cookie
// needs; Petrel does not implement it yet (it warns), but nats-server's check holds.
func trustsOperators(tree *conf.Map) bool {
	for _, key := range []string{"operator", "operators", "trusted", "trusted_keys"} {
		if _, ok := tree.GetFold(key); ok {
			return true
		}
	}
	return false
}

// loadWebSocketTLS builds the WebSocket listener's tls.Config from the block's files.
func loadWebSocketTLS(o *Options) error {
	w := &o.WebSocket
	if o.Core.WebSocket == nil || w.TLSCert == "" && w.TLSKey == "" {
		return nil
	}
	files := Options{TLSCert: w.TLSCert, TLSKey: w.TLSKey, TLSCACert: w.TLSCACert, TLSVerify: w.TLSVerify}
	if err := loadTLS(&files); err != nil {
		return fmt.Errorf("websocket: %w", err)
	}
	o.Core.WebSocket.TLS = files.Core.TLS
	return nil
}
