package proto

import "fmt"

// payloadOp reads a payload op's arguments, then delivers the op at once if its payload is
// whole in buf (the zero-copy path) or starts collecting it.
func (p *Parser) payloadOp(o op, args, buf []byte) ([]byte, error) {
	size, err := p.d.payloadArgs(o, args)
	if err != nil {
		return buf, err
	}
	if p.limits.MaxPayload > 0 && size > p.limits.MaxPayload {
		return buf, ErrMaxPayload
	}
	if len(buf) >= size+2 {
		if err := p.deliver(o, buf[:size+2]); err != nil {
			return buf, err
		}
		return buf[size+2:], nil
	}
	if len(buf) == size+1 && buf[size] != '\r' {
		return buf, errNoCRLF
	}
	// The payload continues in later buffers: read the arguments again from a copy.
	p.args = append(p.args[:0], args...)
	again, err := p.d.payloadArgs(o, p.args)
	if err != nil || again != size {
		panic(fmt.Sprintf("proto: arguments %q read twice gave size %d then %d (%v)", args, size, again, err))
	}
	p.waitOp, p.need = o, size+2
	p.payload = append(p.payload[:0], buf...)
	p.need -= len(buf)
	return nil, nil
}

// collect adds buf to the payload being collected and delivers the op once it is whole,
// returning what follows it.
func (p *Parser) collect(buf []byte) ([]byte, error) {
	n := min(len(buf), p.need)
	p.payload = append(p.payload, buf[:n]...)
	p.need -= n
	buf = buf[n:]
	if p.need == 1 && p.payload[len(p.payload)-1] != '\r' {
		return nil, errNoCRLF // known a byte early, as nats-server knows it
	}
	if p.need > 0 {
		return nil, nil
	}
	if err := p.deliver(p.waitOp, p.payload); err != nil {
		return nil, err
	}
	p.waitOp, p.payload = opUnknown, p.payload[:0]
	return buf, nil
}

// deliver checks the payload's CRLF and hands the op to the dialect. body holds the payload
// followed by its CRLF.
func (p *Parser) deliver(o op, body []byte) error {
	n := len(body) - 2
	if body[n] != '\r' || body[n+1] != '\n' {
		return errNoCRLF
	}
	return p.d.deliver(o, body[:n])
}

// errNoCRLF: a payload must end with CRLF exactly where its size says.
var errNoCRLF = fmt.Errorf("%w: payload is not followed by CRLF", ErrUnknownOp)
