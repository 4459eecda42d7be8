package proto

import (
	"bytes"
	"strconv"
)

// Header blocks (ADR-4): "NATS/1.0[ <status>[ <description>]]\r\n", then "Key: value\r\n"
// lines, then "\r\n". Keys compare case-sensitively, as nats-server's lookups do for the
// JetStream headers (clients send them in their canonical form).

// HeaderPrefix starts every header block.
const HeaderPrefix = "NATS/1.0"

// HeaderValue returns the value of the first line with key in hdr ("" if none). Leading
// and trailing blanks of the value are dropped.
func HeaderValue(hdr []byte, key string) string {
	v, _ := headerValue(hdr, key)
	return v
}

// HasHeader reports whether hdr has a line with key.
func HasHeader(hdr []byte, key string) bool {
	_, ok := headerValue(hdr, key)
	return ok
}

func headerValue(hdr []byte, key string) (string, bool) {
	for line := range headerLines(hdr) {
		if len(line) > len(key) && line[len(key)] == ':' && string(line[:len(key)]) == key {
			return string(bytes.TrimSpace(line[len(key)+1:])), true
		}
	}
	return "", false
}

// headerLines yields the key lines of hdr (the status line and the terminator skipped).
func headerLines(hdr []byte) func(func([]byte) bool) {
	return func(yield func([]byte) bool) {
		i := bytes.Index(hdr, []byte("\r\n"))
		if i < 0 {
			return
		}
		rest := hdr[i+2:]
		for len(rest) > 0 {
			j := bytes.Index(rest, []byte("\r\n"))
			if j < 0 {
				j = len(rest)
			}
			if j > 0 && !yield(rest[:j]) {
				return
			}
			rest = rest[min(j+2, len(rest)):]
		}
	}
}

// RemoveHeaders returns hdr without the lines whose key starts with prefix. With no such
// line it returns hdr itself; when nothing but the status line would remain it returns nil
// (a message with an empty header block is stored without one, as nats-server does).
func RemoveHeaders(hdr []byte, prefix string) []byte {
	found, kept := false, 0
	for line := range headerLines(hdr) {
		if bytes.HasPrefix(line, []byte(prefix)) {
			found = true
		} else {
			kept++
		}
	}
	if !found {
		return hdr
	}
	if kept == 0 {
		return nil
	}
	i := bytes.Index(hdr, []byte("\r\n"))
	out := append([]byte(nil), hdr[:i+2]...)
	for line := range headerLines(hdr) {
		if !bytes.HasPrefix(line, []byte(prefix)) {
			out = append(append(out, line...), "\r\n"...)
		}
	}
	return append(out, "\r\n"...)
}

// AppendHeader returns hdr with "key: value" added (a new block when hdr is empty).
func AppendHeader(hdr []byte, key, value string) []byte {
	if len(hdr) < len(HeaderPrefix)+4 {
		hdr = []byte(HeaderPrefix + "\r\n\r\n")
	}
	out := make([]byte, 0, len(hdr)+len(key)+len(value)+4)
	out = append(out, hdr[:len(hdr)-2]...)
	out = append(append(append(append(out, key...), ": "...), value...), "\r\n"...)
	return append(out, "\r\n"...)
}

// StatusHeader builds a status-only block: "NATS/1.0 <code> <description>\r\n" plus the
// given key/value pairs (kv alternates keys and values).
func StatusHeader(code int, description string, kv ...string) []byte {
	b := append([]byte(HeaderPrefix+" "), strconv.Itoa(code)...)
	if description != "" {
		b = append(append(b, ' '), description...)
	}
	b = append(b, "\r\n"...)
	for i := 0; i+1 < len(kv); i += 2 {
		b = append(append(append(append(b, kv[i]...), ": "...), kv[i+1]...), "\r\n"...)
	}
	return append(b, "\r\n"...)
}
