package proto

import "strconv"

// AppendMsg appends a MSG (hdr < 0) or HMSG operation with its payload and CRLF.
func AppendMsg(dst []byte, subject []byte, sid string, reply []byte, hdr int, msg []byte) []byte {
	if hdr < 0 {
		dst = append(dst, "MSG "...)
	} else {
		dst = append(dst, "HMSG "...)
	}
	dst = append(dst, subject...)
	dst = append(dst, ' ')
	dst = append(dst, sid...)
	dst = append(dst, ' ')
	return appendTail(dst, reply, hdr, msg)
}

// AppendPub appends a PUB (hdr < 0) or HPUB operation with its payload and CRLF.
func AppendPub(dst []byte, subject, reply string, hdr int, msg []byte) []byte {
	if hdr < 0 {
		dst = append(dst, "PUB "...)
	} else {
		dst = append(dst, "HPUB "...)
	}
	dst = append(dst, subject...)
	dst = append(dst, ' ')
	return appendTail(dst, []byte(reply), hdr, msg)
}

// appendTail appends what MSG, HMSG, PUB and HPUB share after their first arguments:
// [reply] [#hdr] #total CRLF payload CRLF.
func appendTail(dst, reply []byte, hdr int, msg []byte) []byte {
	if len(reply) > 0 {
		dst = append(dst, reply...)
		dst = append(dst, ' ')
	}
	if hdr >= 0 {
		dst = strconv.AppendInt(dst, int64(hdr), 10)
		dst = append(dst, ' ')
	}
	dst = strconv.AppendInt(dst, int64(len(msg)), 10)
	dst = append(dst, "\r\n"...)
	dst = append(dst, msg...)
	return append(dst, "\r\n"...)
}

// AppendSub appends a SUB operation.
func AppendSub(dst []byte, subject, queue, sid string) []byte {
	dst = append(dst, "SUB "...)
	dst = append(dst, subject...)
	dst = append(dst, ' ')
	if queue != "" {
		dst = append(dst, queue...)
		dst = append(dst, ' ')
	}
	dst = append(dst, sid...)
	return append(dst, "\r\n"...)
}

// AppendUnsub appends an UNSUB operation; max 0 means none.
func AppendUnsub(dst []byte, sid string, max int) []byte {
	dst = append(dst, "UNSUB "...)
	dst = append(dst, sid...)
	if max > 0 {
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, int64(max), 10)
	}
	return append(dst, "\r\n"...)
}

// AppendErr appends -ERR '<text>'.
func AppendErr(dst []byte, text string) []byte {
	dst = append(dst, "-ERR '"...)
	dst = append(dst, text...)
	return append(dst, "'\r\n"...)
}

// Fixed operations.
var (
	Ping = []byte("PING\r\n")
	Pong = []byte("PONG\r\n")
	OK   = []byte("+OK\r\n")
)

// AppendInfo appends INFO with its JSON document. A space precedes CRLF, as nats-server
// sends it to clients and routes alike.
func AppendInfo(dst, json []byte) []byte {
	dst = append(dst, "INFO "...)
	dst = append(dst, json...)
	return append(dst, " \r\n"...)
}

// AppendConnect appends CONNECT with its JSON document.
func AppendConnect(dst, json []byte) []byte {
	dst = append(dst, "CONNECT "...)
	dst = append(dst, json...)
	return append(dst, "\r\n"...)
}
