package jsapi

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// AckInfo is what a delivered message's reply subject says about it.
//
// v1 (what nats-server sends by default, and Petrel):
//
//	$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<timestamp ns>.<pending>
//
// v2 (behind a nats-server feature flag) puts <domain>.<account hash> after $JS.ACK and may
// carry further tokens after <pending>; "_" stands for no domain.
type AckInfo struct {
	Domain      string // v2 only
	AccountHash string // v2 only
	Stream      string
	Consumer    string
	Delivered   uint64 // how many times this message has been delivered, counting this one
	StreamSeq   uint64
	ConsumerSeq uint64
	Timestamp   int64 // when the message was stored, Unix nanoseconds
	Pending     uint64
}

// ackTokensV1 and ackTokensMinV2 are the reply subject's token counts (nats-server's
// expectedNumReplyTokensV1/V2): exactly 9 for v1, at least 11 for v2.
const (
	ackTokensV1    = 9
	ackTokensMinV2 = 11
)

// AckSubject is a delivery's v1 reply subject.
func AckSubject(stream, consumer string, delivered, sseq, dseq uint64, ts int64, pending uint64) string {
	b := make([]byte, 0, len(AckPrefix)+len(stream)+len(consumer)+64)
	return string(AppendAckSubject(b, stream, consumer, delivered, sseq, dseq, ts, pending))
}

// AppendAckSubject appends AckSubject's subject to b.
func AppendAckSubject(b []byte, stream, consumer string, delivered, sseq, dseq uint64, ts int64, pending uint64) []byte {
	b = append(b, AckPrefix...)
	b = append(b, stream...)
	b = append(b, '.')
	b = append(b, consumer...)
	for _, n := range [...]uint64{delivered, sseq, dseq} {
		b = append(b, '.')
		b = strconv.AppendUint(b, n, 10)
	}
	b = append(b, '.')
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, '.')
	return strconv.AppendUint(b, pending, 10)
}

// ParseAck reads an ack reply subject in the v1 or v2 form. A subject of another shape, or
// whose numbers are not plain decimal digits, is not an ack (nats-server reads such numbers
// as sequences no message has, so acking with it does nothing).
func ParseAck(subj string) (AckInfo, bool) {
	var arr [ackTokensMinV2]string
	tokens := arr[:0]
	for tok, rest, more := strings.Cut(subj, "."); ; tok, rest, more = strings.Cut(rest, ".") {
		tokens = append(tokens, tok)
		if !more {
			break
		}
	}
	if (len(tokens) != ackTokensV1 && len(tokens) < ackTokensMinV2) || tokens[0] != "$JS" || tokens[1] != "ACK" {
		return AckInfo{}, false
	}
	var info AckInfo
	at := 2
	if len(tokens) >= ackTokensMinV2 {
		info.Domain, info.AccountHash, at = tokens[2], tokens[3], 4
	}
	info.Stream, info.Consumer = tokens[at], tokens[at+1]
	var nums [5]uint64
	for i := range nums {
		n, ok := ackNumber(tokens[at+2+i])
		if !ok {
			return AckInfo{}, false
		}
		nums[i] = n
	}
	info.Delivered, info.StreamSeq, info.ConsumerSeq, info.Pending = nums[0], nums[1], nums[2], nums[4]
	info.Timestamp = int64(nums[3])
	return info, true
}

// ackNumber parses a non-empty run of decimal digits (no sign, no spaces) that fits in 64
// bits (nats-server wraps a longer one into a sequence no message has; refusing it does the
// same: the ack acks nothing).
func ackNumber(s string) (uint64, bool) {
	if s == "" || len(s) > 20 || len(s) == 20 && s > "18446744073709551615" {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + uint64(s[i]-'0')
	}
	return n, true
}

// AckKind is what an ack body asks for.
type AckKind uint8

const (
	AckUnknown  AckKind = iota // any other body: nats-server ignores it (but answers a reply)
	AckAck                     // "+ACK", "+OK" or empty
	AckNak                     // "-NAK", optionally with a delay
	AckProgress                // "+WPI": still working, restart the ack wait
	AckNext                    // "+NXT": ack, then a pull request (rest is its body)
	AckTerm                    // "+TERM": never redeliver (rest is the reason)
)

// Ack bodies, as clients send them.
var (
	ackBodyAck      = []byte("+ACK")
	ackBodyOK       = []byte("+OK")
	ackBodyNak      = []byte("-NAK")
	ackBodyProgress = []byte("+WPI")
	ackBodyNext     = []byte("+NXT")
	ackBodyTerm     = []byte("+TERM")
)

// nakOptions is the JSON a -NAK may carry.
type nakOptions struct {
	Delay time.Duration `json:"delay"`
}

// ParseAckBody reads an ack body the way nats-server does: +ACK, +OK, empty and +WPI only
// whole; -NAK, +NXT and +TERM as prefixes. For AckNak, delay is the redelivery delay when
// one was given and parsed (JSON {"delay":ns} or a Go duration such as "5s"); a delay that
// does not parse makes it a plain NAK, as there. A delay of zero or less redelivers at
// once. rest is the NAK's argument, the +NXT request body, or the +TERM reason (trimmed);
// it aliases body.
func ParseAckBody(body []byte) (kind AckKind, delay time.Duration, rest []byte) {
	switch {
	case len(body) == 0, bytes.Equal(body, ackBodyAck), bytes.Equal(body, ackBodyOK):
		return AckAck, 0, nil
	case bytes.HasPrefix(body, ackBodyNext):
		return AckNext, 0, body[len(ackBodyNext):]
	case bytes.HasPrefix(body, ackBodyNak):
		arg := bytes.TrimSpace(body[len(ackBodyNak):])
		return AckNak, nakDelay(arg), arg
	case bytes.Equal(body, ackBodyProgress):
		return AckProgress, 0, nil
	case bytes.HasPrefix(body, ackBodyTerm):
		return AckTerm, 0, bytes.TrimSpace(body[len(ackBodyTerm):])
	}
	return AckUnknown, 0, nil
}

// nakDelay parses a NAK's delay argument; zero when there is none or it does not parse.
func nakDelay(arg []byte) time.Duration {
	if len(arg) == 0 {
		return 0
	}
	if arg[0] == '{' {
		var opts nakOptions
		if json.Unmarshal(arg, &opts) != nil {
			return 0
		}
		return opts.Delay
	}
	d, err := time.ParseDuration(string(arg))
	if err != nil {
		return 0
	}
	return d
}
