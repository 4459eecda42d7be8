package proto

import (
	"bytes"
	"fmt"
	"strconv"
)

// The route encoders write what nats-server writes, byte for byte (testdata/route holds the
// captures they are checked against). Their inputs are the engine's, already validated:
// a violated precondition (an empty field, a blank in a name, another account on a pinned
// route) is a programmer error and panics with what broke.

// AppendSub appends RS+, or LS+ when sub.Leaf.
func (m RouteMode) AppendSub(dst []byte, sub *RemoteSub) []byte {
	if sub.Leaf {
		dst = append(dst, "LS+ "...)
		dst = appendField(dst, "LS+ origin", sub.Origin)
	} else {
		dst = append(dst, "RS+ "...)
	}
	dst = m.appendAccount(dst, sub.Account)
	dst = appendLastField(dst, "RS+ subject", sub.Subject)
	if sub.Queue != nil {
		if sub.Weight < 0 || sub.Weight > sizeMax {
			panic(fmt.Sprintf("proto: RS+ queue weight %d out of range", sub.Weight))
		}
		dst = append(dst, ' ')
		dst = appendField(dst, "RS+ queue", sub.Queue)
		dst = strconv.AppendInt(dst, int64(sub.Weight), 10)
	}
	return append(dst, "\r\n"...)
}

// AppendUnsub appends RS-, or LS- when sub.Leaf. An LS- names its origin unless the mode
// says the peer reads it without one.
func (m RouteMode) AppendUnsub(dst []byte, sub *RemoteSub) []byte {
	if sub.Leaf {
		dst = append(dst, "LS- "...)
		if !m.LeafUnsubWithoutOrigin {
			dst = appendField(dst, "LS- origin", sub.Origin)
		}
	} else {
		dst = append(dst, "RS- "...)
	}
	dst = m.appendAccount(dst, sub.Account)
	dst = appendLastField(dst, "RS- subject", sub.Subject)
	if sub.Queue != nil {
		dst = append(dst, ' ')
		dst = appendLastField(dst, "RS- queue", sub.Queue)
	}
	return append(dst, "\r\n"...)
}

// AppendMsg appends LMSG when msg.Origin is set, else HMSG when msg.Hdr >= 0, else RMSG,
// with the payload and its CRLF. The marker form (+ reply queues, | queues) is written only
// when there are queues, as nats-server does.
func (m RouteMode) AppendMsg(dst []byte, msg *RoutedMsg) []byte {
	switch {
	case msg.Origin != nil:
		if msg.Hdr < 0 {
			panic("proto: LMSG without a header length")
		}
		dst = append(dst, "LMSG "...)
		dst = appendField(dst, "LMSG origin", msg.Origin)
	case msg.Hdr >= 0:
		dst = append(dst, "HMSG "...)
	default:
		dst = append(dst, "RMSG "...)
	}
	dst = m.appendAccount(dst, msg.Account)
	dst = appendField(dst, "RMSG subject", msg.Subject)
	dst = appendReplyAndQueues(dst, msg.Reply, msg.Queues)
	if len(msg.Payload) > sizeMax || msg.Hdr > len(msg.Payload) {
		panic(fmt.Sprintf("proto: routed message of %d bytes with a %d-byte header", len(msg.Payload), msg.Hdr))
	}
	if msg.Hdr >= 0 {
		dst = strconv.AppendInt(dst, int64(msg.Hdr), 10)
		dst = append(dst, ' ')
	}
	dst = strconv.AppendInt(dst, int64(len(msg.Payload)), 10)
	dst = append(dst, "\r\n"...)
	dst = append(dst, msg.Payload...)
	return append(dst, "\r\n"...)
}

func appendReplyAndQueues(dst, reply []byte, queues [][]byte) []byte {
	if len(queues) == 0 {
		if reply != nil {
			dst = appendField(dst, "RMSG reply", reply)
		}
		return dst
	}
	if reply != nil {
		dst = append(dst, "+ "...)
		dst = appendField(dst, "RMSG reply", reply)
	} else {
		dst = append(dst, "| "...)
	}
	for _, q := range queues {
		dst = appendField(dst, "RMSG queue", q)
	}
	return dst
}

// appendAccount writes the account and a blank, or nothing on a pinned route, which must be
// the account's own.
func (m RouteMode) appendAccount(dst, account []byte) []byte {
	if m.Account == "" {
		return appendField(dst, "route account", account)
	}
	if string(account) != m.Account {
		panic(fmt.Sprintf("proto: an op for account %q on the route pinned to %q", account, m.Account))
	}
	return dst
}

// appendField writes a field and the blank after it.
func appendField(dst []byte, what string, f []byte) []byte {
	return append(appendLastField(dst, what, f), ' ')
}

// appendLastField writes a field with no blank after it. A field must be non-empty and hold
// no blank or line end, or the line would read back as other fields.
func appendLastField(dst []byte, what string, f []byte) []byte {
	if len(f) == 0 || bytes.ContainsAny(f, " \t\r\n") {
		panic(fmt.Sprintf("proto: %s %q is empty or holds a blank or line end", what, f))
	}
	return append(dst, f...)
}
