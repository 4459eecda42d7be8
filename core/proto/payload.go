package proto

import "fmt"

// payloadOp parses the arguments of PUB, HPUB, MSG or HMSG, then delivers the op at once if
// its payload is whole in buf (the zero-copy path) or starts collecting it.
func (p *Parser) payloadOp(o op, args, buf []byte) ([]byte, error) {
	subject, sid, reply, hdr, size, err := p.payloadArgs(o, args)
	if err != nil {
		return buf, err
	}
	if p.limits.MaxPayload > 0 && size > p.limits.MaxPayload {
		return buf, ErrMaxPayload
	}
	if len(buf) >= size+2 {
		if err := p.deliver(o, subject, sid, reply, hdr, buf[:size+2]); err != nil {
			return buf, err
		}
		return buf[size+2:], nil
	}
	if len(buf) == size+1 && buf[size] != '\r' {
		return buf, errNoCRLF
	}
	// The payload continues in later buffers: keep copies of the arguments.
	p.args = append(p.args[:0], subject...)
	p.args = append(p.args, sid...)
	p.args = append(p.args, reply...)
	p.subject = p.args[:len(subject)]
	p.sid = p.args[len(subject) : len(subject)+len(sid)]
	p.reply = p.args[len(subject)+len(sid):]
	p.waitOp, p.hdr, p.need = o, hdr, size+2
	p.payload = append(p.payload[:0], buf...)
	p.need -= len(buf)
	return nil, nil
}

// payloadArgs splits the arguments: subject, sid (MSG only), reply, header length (-1 if
// none) and total size.
func (p *Parser) payloadArgs(o op, args []byte) (subject, sid, reply []byte, hdr, size int, err error) {
	n := p.split(args)
	f := p.fields
	hdr = -1
	switch {
	case o == opPub && n == 2:
		subject, size = f[0], parseSize(f[1])
	case o == opPub && n == 3:
		subject, reply, size = f[0], f[1], parseSize(f[2])
	case o == opHPub && n == 3:
		subject, hdr, size = f[0], parseSize(f[1]), parseSize(f[2])
	case o == opHPub && n == 4:
		subject, reply, hdr, size = f[0], f[1], parseSize(f[2]), parseSize(f[3])
	case o == opMsg && n == 3:
		subject, sid, size = f[0], f[1], parseSize(f[2])
	case o == opMsg && n == 4:
		subject, sid, reply, size = f[0], f[1], f[2], parseSize(f[3])
	case o == opHMsg && n == 4:
		subject, sid, hdr, size = f[0], f[1], parseSize(f[2]), parseSize(f[3])
	case o == opHMsg && n == 5:
		subject, sid, reply, hdr, size = f[0], f[1], f[2], parseSize(f[3]), parseSize(f[4])
	default:
		return nil, nil, nil, 0, 0, fmt.Errorf("%w: wrong number of arguments", ErrBadArguments)
	}
	withHeaders := o == opHPub || o == opHMsg
	if size < 0 || (withHeaders && (hdr < 0 || hdr > size)) {
		return nil, nil, nil, 0, 0, fmt.Errorf("%w: bad size in %q", ErrBadArguments, args)
	}
	return subject, sid, reply, hdr, size, nil
}

// deliver checks the payload's CRLF and hands the op to the handler. body holds the payload
// followed by its CRLF.
func (p *Parser) deliver(o op, subject, sid, reply []byte, hdr int, body []byte) error {
	n := len(body) - 2
	if body[n] != '\r' || body[n+1] != '\n' {
		return errNoCRLF
	}
	msg := body[:n]
	if o == opPub || o == opHPub {
		return p.h.Pub(subject, reply, hdr, msg)
	}
	return p.h.Msg(subject, sid, reply, hdr, msg)
}

// errNoCRLF: a payload must end with CRLF exactly where its size says.
var errNoCRLF = fmt.Errorf("%w: payload is not followed by CRLF", ErrUnknownOp)
