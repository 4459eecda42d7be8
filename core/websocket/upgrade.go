package websocket

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// ServerConfig shapes the server side of every handshake on one listener. Build the
// checked form with NewPolicy once, and share it: a Policy is immutable.
type ServerConfig struct {
	TLS         bool // the listener is wss: same-origin checks expect https and port 443
	Compression bool // offer permessage-deflate to clients that ask
	SameOrigin  bool // the Origin must be the request's own host, port and scheme
	// AllowedOrigins are "scheme://host[:port]" URLs; when set, the Origin must be one.
	AllowedOrigins []string
	// Headers are added to every 101 answer.
	Headers map[string]string
	// MessageBytesMax bounds an inbound message (MessageBytesFor); 0 means the default.
	MessageBytesMax int
}

// Policy is a checked ServerConfig.
type Policy struct {
	cfg     ServerConfig
	origins map[string][]origin // allowed origins by lower-case host
	flate   *flatePool          // lent to the connections for compressed messages
}

type origin struct{ scheme, port string }

// NewPolicy checks cfg with nats-server's rules and messages.
func NewPolicy(cfg ServerConfig) (*Policy, error) {
	if cfg.MessageBytesMax == 0 {
		cfg.MessageBytesMax = MessageBytesMaxDefault
	}
	p := &Policy{cfg: cfg, flate: &flatePool{}}
	for _, ao := range cfg.AllowedOrigins {
		o, host, err := parseAllowedOrigin(ao)
		if err != nil {
			return nil, err
		}
		if p.origins == nil {
			p.origins = map[string][]origin{}
		}
		p.origins[host] = append(p.origins[host], o)
	}
	for name := range cfg.Headers {
		if err := CheckHeaderName(name); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// parseAllowedOrigin checks one allowed origin as nats-server does.
func parseAllowedOrigin(ao string) (origin, string, error) {
	u, err := url.ParseRequestURI(ao)
	if err != nil {
		return origin{}, "", fmt.Errorf("unable to parse allowed origin: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return origin{}, "", fmt.Errorf("unable to parse allowed origin %q: allowed origins must be absolute URLs with http or https scheme", ao)
	}
	if u.Host == "" {
		return origin{}, "", fmt.Errorf("unable to parse allowed origin %q: host is required", ao)
	}
	host, port, err := hostAndPort(u.Scheme == "https", u.Host)
	if err != nil {
		return origin{}, "", fmt.Errorf("unable to parse allowed origin: %v", err)
	}
	return origin{scheme: u.Scheme, port: port}, host, nil
}

// CheckHeaderName refuses configured response headers that would break the handshake, as
// nats-server does.
func CheckHeaderName(name string) error {
	switch k := strings.ToLower(name); {
	case k == "host" || k == "content-length" || k == "connection" || k == "upgrade" || k == "nats-no-masking":
		return fmt.Errorf("websocket: invalid header %q not allowed", name)
	case strings.HasPrefix(k, "sec-websocket-"):
		return fmt.Errorf("websocket: invalid header %q, \"Sec-WebSocket-\" prefix not allowed", name)
	}
	return nil
}

// Kind is what the request path asks the connection to be.
type Kind uint8

const (
	KindClient Kind = iota // a NATS client
	KindLeaf               // a leaf node (path ends in /leafnode)
)

// Upgrade is an accepted handshake: what was negotiated and what the engine may want from
// the request.
type Upgrade struct {
	Kind      Kind
	Compress  bool // permessage-deflate is on
	NoMasking bool // the client asked to send unmasked frames
	// Browser: the User-Agent starts "Mozilla/"; frames written to it stay small.
	Browser bool
	// WholeCompressed: do not fragment compressed messages (Safari cannot read them).
	WholeCompressed bool
	// ClientIP is the first X-Forwarded-For value when it is an IP address.
	ClientIP string
	Request  *Request
}

// upgrade applies nats-server's checks, in its order, to a parsed request.
func (p *Policy) upgrade(r *Request) (*Upgrade, string, *httpError) {
	up := &Upgrade{Request: r}
	path := r.Path()
	switch {
	case strings.HasSuffix(path, "/mqtt"):
		return nil, "", upgradeError(404, "mqtt websocket endpoint not enabled")
	case strings.HasSuffix(path, "/leafnode"):
		up.Kind = KindLeaf
	}
	key := r.Header("Sec-WebSocket-Key")
	switch {
	case r.Method != "GET":
		return nil, "", upgradeError(405, "request method must be GET")
	case r.Host == "":
		return nil, "", upgradeError(400, "'Host' missing in request")
	case !r.headerHasToken("upgrade", "websocket"):
		return nil, "", upgradeError(400, "invalid value for header 'Upgrade'")
	case !r.headerHasToken("connection", "upgrade"):
		return nil, "", upgradeError(400, "invalid value for header 'Connection'")
	case key == "":
		return nil, "", upgradeError(400, "key missing")
	case !validKey(key):
		return nil, "", upgradeError(400, "invalid websocket key")
	case !r.headerHasToken("sec-websocket-version", "13"):
		return nil, "", upgradeError(400, "invalid version")
	}
	if err := p.checkOrigin(r); err != nil {
		return nil, "", upgradeError(403, "origin not allowed: "+err.Error())
	}
	up.Compress = p.cfg.Compression && offersDeflate(r)
	up.NoMasking = r.Header(noMaskingHeader) == "true"
	if ua := r.Header("User-Agent"); strings.HasPrefix(ua, "Mozilla/") {
		up.Browser = true
		up.WholeCompressed = up.Compress && strings.Contains(ua, "Version/") && strings.Contains(ua, "Safari/")
	}
	if ip, err := netip.ParseAddr(r.Header("X-Forwarded-For")); err == nil {
		up.ClientIP = ip.String()
	}
	return up, key, nil
}

// validKey: a Sec-WebSocket-Key is 16 bytes in base64 (RFC 6455 4.1).
func validKey(key string) bool {
	raw, err := base64.StdEncoding.DecodeString(key)
	return err == nil && len(raw) == 16
}

// offersDeflate reports whether any Sec-WebSocket-Extensions offer names
// permessage-deflate; its parameters do not matter, since the answer is always the same.
func offersDeflate(r *Request) bool {
	for _, list := range r.header["sec-websocket-extensions"] {
		for ext := range strings.SplitSeq(list, ",") {
			for param := range strings.SplitSeq(ext, ";") {
				if strings.EqualFold(strings.Trim(param, " \t"), "permessage-deflate") {
					return true
				}
			}
		}
	}
	return false
}

// checkOrigin applies same_origin and allowed_origins. A request without an Origin passes:
// only browsers send one, and a non-browser client could claim any (RFC 6455 10.2).
func (p *Policy) checkOrigin(r *Request) error {
	if !p.cfg.SameOrigin && len(p.origins) == 0 {
		return nil
	}
	o := r.Header("Origin")
	if o == "" {
		o = r.Header("Sec-WebSocket-Origin")
	}
	if o == "" {
		return nil
	}
	u, err := url.ParseRequestURI(o)
	if err != nil {
		return err
	}
	host, port, err := hostAndPort(u.Scheme == "https", u.Host)
	if err != nil {
		return err
	}
	if p.cfg.SameOrigin {
		rhost, rport, err := hostAndPort(p.cfg.TLS, r.Host)
		if err != nil {
			return err
		}
		scheme := "http"
		if p.cfg.TLS {
			scheme = "https"
		}
		if host != rhost || port != rport || !strings.EqualFold(u.Scheme, scheme) {
			return fmt.Errorf("not same origin")
		}
	}
	if len(p.origins) > 0 && !p.allowed(u.Scheme, host, port) {
		return fmt.Errorf("not in the allowed list")
	}
	return nil
}

func (p *Policy) allowed(scheme, host, port string) bool {
	for _, o := range p.origins[host] {
		if o.scheme == scheme && o.port == port {
			return true
		}
	}
	return false
}

// hostAndPort splits "host[:port]" (IPv6 in brackets), lower-casing the host and taking
// the scheme's default port when none is given.
func hostAndPort(tls bool, hostport string) (string, string, error) {
	host, port := hostport, ""
	switch {
	case strings.HasPrefix(hostport, "["):
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return "", "", fmt.Errorf("address %s: missing ']' in address", hostport)
		}
		host, port = hostport[1:end], hostport[end+1:]
		if port != "" {
			if port[0] != ':' {
				return "", "", fmt.Errorf("address %s: unexpected text after ']'", hostport)
			}
			port = port[1:]
		}
	case strings.Count(hostport, ":") > 1:
		return "", "", fmt.Errorf("address %s: too many colons in address", hostport)
	case strings.Contains(hostport, ":"):
		host, port, _ = strings.Cut(hostport, ":")
	}
	if port == "" {
		port = "80"
		if tls {
			port = "443"
		}
	}
	return strings.ToLower(host), port, nil
}
