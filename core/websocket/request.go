package websocket

import (
	"bytes"
	"strings"
)

// Request is an HTTP/1.x request head: what the upgrade handshake reads.
type Request struct {
	Method string
	Target string // the request-target as sent: "/", "/path?query" or an absolute URI
	Minor  int    // HTTP/1.<Minor>
	Host   string
	// header holds each field's values by lower-case name, in arrival order.
	header map[string][]string
}

// Header returns the first value of the named field (any case), or "".
func (r *Request) Header(name string) string {
	if v := r.header[strings.ToLower(name)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// headerHasToken reports whether any value of the field, as a comma-separated list,
// holds token (compared without regard to case), as nats-server checks Upgrade,
// Connection and Sec-WebSocket-Version.
func (r *Request) headerHasToken(name, token string) bool {
	for _, v := range r.header[name] {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.Trim(t, " \t"), token) {
				return true
			}
		}
	}
	return false
}

// Cookie returns the value of the named cookie from the Cookie fields, or "".
func (r *Request) Cookie(name string) string {
	for _, v := range r.header["cookie"] {
		for pair := range strings.SplitSeq(v, ";") {
			k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if ok && k == name {
				return strings.Trim(val, `"`)
			}
		}
	}
	return ""
}

// Path is the request-target's path without the query.
func (r *Request) Path() string {
	t := r.Target
	if i := strings.Index(t, "://"); i >= 0 {
		t = t[i+3:]
		if j := strings.IndexByte(t, '/'); j >= 0 {
			t = t[j:]
		} else {
			t = "/"
		}
	}
	if i := strings.IndexAny(t, "?#"); i >= 0 {
		t = t[:i]
	}
	return t
}

// headEnd returns the length of the request head in buf (through the empty line that ends
// it), or -1 while it is incomplete. Lines end in CRLF or, as Go's server also accepts, LF.
func headEnd(buf []byte) int {
	for i := 0; ; {
		j := bytes.IndexByte(buf[i:], '\n')
		if j < 0 {
			return -1
		}
		line := buf[i : i+j]
		i += j + 1
		if len(line) == 0 || len(line) == 1 && line[0] == '\r' {
			return i
		}
	}
}

// parseRequest parses a whole request head. Its failures are the answers Go's HTTP
// server (which nats-server uses) gives before the upgrade logic sees the request.
func parseRequest(head []byte) (*Request, *httpError) {
	lines := strings.Split(strings.TrimRight(string(head), "\r\n"), "\n")
	for i := range lines {
		lines[i] = strings.TrimSuffix(lines[i], "\r")
	}
	r, herr := parseRequestLine(lines[0])
	if herr != nil {
		return nil, herr
	}
	if herr := r.parseFields(lines[1:]); herr != nil {
		return nil, herr
	}
	hosts := r.header["host"]
	switch {
	case len(hosts) > 1:
		return nil, serverError(400, "too many Host headers")
	case len(hosts) == 1:
		r.Host = hosts[0]
	case r.Minor >= 1:
		return nil, serverError(400, "missing required Host header")
	}
	return r, nil
}

// parseRequestLine reads "METHOD SP target SP HTTP/1.x".
func parseRequestLine(line string) (*Request, *httpError) {
	method, rest, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || method == "" || target == "" || !isToken(method) {
		return nil, serverError(400, "")
	}
	var minor int
	switch proto {
	case "HTTP/1.0":
	case "HTTP/1.1":
		minor = 1
	default:
		if strings.HasPrefix(proto, "HTTP/") && len(proto) == len("HTTP/x.y") {
			return nil, serverError(505, "unsupported protocol version")
		}
		return nil, serverError(400, "")
	}
	return &Request{Method: method, Target: target, Minor: minor, header: map[string][]string{}}, nil
}

// parseFields reads "Name: value" lines; a line starting with a space or tab continues
// the previous value (obsolete folding, which Go's server still accepts).
func (r *Request) parseFields(lines []string) *httpError {
	last := ""
	for _, line := range lines {
		if line[0] == ' ' || line[0] == '\t' {
			vals := r.header[last]
			if last == "" {
				return serverError(400, "")
			}
			vals[len(vals)-1] += " " + strings.TrimSpace(line)
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return serverError(400, "")
		}
		if !isToken(name) {
			return serverError(400, "invalid header name")
		}
		last = strings.ToLower(name)
		r.header[last] = append(r.header[last], strings.Trim(value, " \t"))
	}
	return nil
}

// isToken reports whether s is an HTTP token (RFC 9110 5.6.2).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
