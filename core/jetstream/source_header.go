package jetstream

import (
	"crypto/sha256"
	"strconv"
	"strings"

	"github.com/petrel-io/petrel/core/jsapi"
)

// A sourced message carries where it came from in its Nats-Stream-Source header, in
// nats-server's (2.10) form, so a restart finds how far each source got:
//
//	<origin> <sequence> <filters> <destinations> <original subject>
//
// origin is the source's stream name, ":"+hash(api prefix) for an external one and
// ":C="+hash(consumer) with a durable consumer; filters and destinations are its subject
// transforms' sides joined by form feeds ('>' for an empty side, and for a plain source its
// filter subject and '>'). origin, filters and destinations together are the source's
// index name: two sources with the same index name would copy the same messages.
const sourceHeader = "Nats-Stream-Source"

// sourceIndexName is nats-server's index name of a source.
func sourceIndexName(src *jsapi.StreamSource) string {
	origin := src.Name
	if src.External != nil {
		origin += ":" + serverHash(src.External.APIPrefix)
	}
	if src.Consumer != nil {
		origin += ":C=" + serverHash(src.Consumer.Name)
	}
	orAll := func(s string) string {
		if s == "" {
			return ">"
		}
		return s
	}
	if len(src.SubjectTransforms) == 0 {
		return origin + " " + orAll(src.FilterSubject) + " >"
	}
	from := make([]string, len(src.SubjectTransforms))
	to := make([]string, len(src.SubjectTransforms))
	for i, tr := range src.SubjectTransforms {
		from[i], to[i] = orAll(tr.Source), orAll(tr.Destination)
	}
	return origin + " " + strings.Join(from, "\f") + " " + strings.Join(to, "\f")
}

// serverHash is nats-server's 8-character hash of a name: the first bytes of its SHA-256,
// each mapped to one of 62 digits.
func serverHash(name string) string {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	sum := sha256.Sum256([]byte(name))
	out := make([]byte, serverHashLen)
	for i := range out {
		out[i] = digits[int(sum[i]%byte(len(digits)))]
	}
	return string(out)
}

const serverHashLen = 8

// sourceHeaderValue is the header of a message copied by the source iname from origin
// sequence seq, first published on subject.
func sourceHeaderValue(iname string, seq uint64, subject string) string {
	origin, rest, _ := strings.Cut(iname, " ")
	return origin + " " + strconv.FormatUint(seq, 10) + " " + rest + " " + subject
}

// parseSourceHeader reads a Nats-Stream-Source value back: the source's index name and the
// origin sequence. The older forms (an ack subject, or "<stream> <seq>") name no index, so
// ok is false for them: they cannot say which of today's sources copied the message.
func parseSourceHeader(v string) (iname string, seq uint64, ok bool) {
	fields := strings.Split(v, " ")
	if len(fields) < 4 {
		return "", 0, false
	}
	seq, err := strconv.ParseUint(fields[1], 10, 64)
	if err != nil {
		return "", 0, false
	}
	return fields[0] + " " + fields[2] + " " + fields[3], seq, true
}
