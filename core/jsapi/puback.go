package jsapi

import (
	"encoding/json"
	"strconv"

	"github.com/petrel-io/petrel/core/env"
)

// AppendPubAck appends r as encoding/json would encode it, byte for byte, without its
// reflection: a PubAck is built per stored message (an async publisher's acks spent 15% of
// the server's time in json.Marshal). Errors and strings that need escaping take
// encoding/json itself.
func AppendPubAck(dst []byte, r *PubAckResponse) []byte {
	a := r.PubAck
	if r.Error != nil || a == nil || !plain(a.Stream) || !plain(a.Domain) || !plain(a.Value) || !plain(a.BatchID) {
		data, err := json.Marshal(r)
		env.Assertf(err == nil, "jsapi: marshal PubAck: %v", err) // strings and numbers cannot fail
		return append(dst, data...)
	}
	dst = append(dst, `{"stream":"`...)
	dst = append(dst, a.Stream...)
	dst = append(dst, `","seq":`...)
	dst = strconv.AppendUint(dst, a.Sequence, 10)
	dst = appendField(dst, "domain", a.Domain)
	if a.Duplicate {
		dst = append(dst, `,"duplicate":true`...)
	}
	dst = appendField(dst, "val", a.Value)
	dst = appendField(dst, "batch", a.BatchID)
	if a.BatchSize != 0 {
		dst = append(dst, `,"count":`...)
		dst = strconv.AppendUint(dst, a.BatchSize, 10)
	}
	return append(dst, '}')
}

// appendField appends ,"name":"v" unless v is empty (omitempty).
func appendField(dst []byte, name, v string) []byte {
	if v == "" {
		return dst
	}
	dst = append(dst, `,"`...)
	dst = append(dst, name...)
	dst = append(dst, `":"`...)
	dst = append(dst, v...)
	return append(dst, '"')
}

// plain reports a string encoding/json writes as it is: printable ASCII, without the
// characters it escapes (quote, backslash, and <, >, & for HTML).
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}
