package proto

import (
	"bytes"
	"fmt"
)

// Handler receives parsed operations. A returned error stops parsing and is returned by
// Parse. Slices are valid only during the call.
type Handler interface {
	Connect(json []byte) error
	Info(json []byte) error
	// Pub is PUB (hdr < 0) or HPUB (hdr = length of the header block at the start of msg).
	Pub(subject, reply []byte, hdr int, msg []byte) error
	// Msg is MSG (hdr < 0) or HMSG.
	Msg(subject, sid, reply []byte, hdr int, msg []byte) error
	Sub(subject, queue, sid []byte) error
	// Unsub's max is 0 when absent.
	Unsub(sid []byte, max int) error
	Ping() error
	Pong() error
	OK() error
	Err(text []byte) error
}

// Limits bound what the parser accepts. Zero means no limit.
type Limits struct {
	MaxControlLine int
	MaxPayload     int
}

// Parser is a NATS protocol parser for one connection. Not safe for concurrent use.
type Parser struct {
	h      Handler
	limits Limits

	line []byte // a control line split across buffers

	// An op waiting for its payload. args holds copies of its arguments (the buffer they came
	// from will be gone); payload collects the payload and its CRLF.
	waitOp  op
	need    int
	args    []byte
	subject []byte
	sid     []byte
	reply   []byte
	hdr     int
	payload []byte
	fields  [6][]byte
	trace   func(line []byte)
	gate    func(first byte) error
}

// SetTrace makes the parser pass every control line (without CRLF) to fn before handling
// it, for protocol tracing; nil turns it off.
func (p *Parser) SetTrace(fn func(line []byte)) { p.trace = fn }

// SetGate makes the parser pass the first byte of every op to fn before reading the rest,
// and stop with fn's error; nil turns it off. nats-server judges an op before CONNECT on a
// server that requires authentication by that byte alone.
func (p *Parser) SetGate(fn func(first byte) error) { p.gate = fn }

// NewParser returns a parser feeding h.
func NewParser(h Handler, limits Limits) *Parser { return &Parser{h: h, limits: limits} }

// SetLimits changes the limits, for CONNECT-time or reload changes.
func (p *Parser) SetLimits(l Limits) { p.limits = l }

// Parse consumes buf. After an error the parser must not be used again.
func (p *Parser) Parse(buf []byte) error {
	for len(buf) > 0 {
		if p.waitOp != opUnknown {
			n := min(len(buf), p.need)
			p.payload = append(p.payload, buf[:n]...)
			p.need -= n
			buf = buf[n:]
			if p.need == 1 && p.payload[len(p.payload)-1] != '\r' {
				return errNoCRLF // known a byte early, as nats-server knows it
			}
			if p.need > 0 {
				return nil
			}
			if err := p.deliver(p.waitOp, p.subject, p.sid, p.reply, p.hdr, p.payload); err != nil {
				return err
			}
			p.waitOp, p.payload = opUnknown, p.payload[:0]
			continue
		}
		if len(p.line) == 0 && p.gate != nil {
			if err := p.gate(buf[0]); err != nil {
				return err
			}
		}
		nl := bytes.IndexByte(buf, '\n')
		if nl < 0 {
			p.line = append(p.line, buf...)
			return p.checkPartial(p.line)
		}
		line := buf[:nl]
		if len(p.line) > 0 {
			p.line = append(p.line, line...)
			line = p.line
		}
		buf = buf[nl+1:]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		if p.trace != nil {
			p.trace(line)
		}
		rest, err := p.control(line, buf)
		p.line = p.line[:0]
		if err != nil {
			return err
		}
		buf = rest
	}
	return nil
}

// checkPartial judges a control line still waiting for its end: an op it cannot become is
// unknown at once, and arguments already past the limit need not be buffered further.
func (p *Parser) checkPartial(line []byte) error {
	line = bytes.TrimSuffix(line, []byte{'\r'})
	o, args := classify(line)
	switch {
	case o == opUnknown && !mayBecomeOp(line):
		return ErrUnknownOp
	case p.overLimit(args):
		return ErrMaxControlLine
	}
	return nil
}

// overLimit applies max_control_line to an op's arguments: nats-server counts the bytes
// after the op name and its blanks, not the whole line. Petrel applies it to every op (nats-
// server lets a PING line run on unbounded), so that a partial line never grows unbounded.
func (p *Parser) overLimit(args []byte) bool {
	return p.limits.MaxControlLine > 0 && len(args) > p.limits.MaxControlLine
}

// control handles one control line; buf is what follows it. It returns what is left of buf
// after any payload it consumed.
func (p *Parser) control(line, buf []byte) ([]byte, error) {
	o, args := classify(line)
	switch {
	case o == opUnknown:
		return buf, ErrUnknownOp
	case p.overLimit(args):
		return buf, ErrMaxControlLine
	}
	switch o {
	case opPub, opHPub, opMsg, opHMsg:
		return p.payloadOp(o, trimBlank(args), buf)
	case opSub:
		return buf, p.sub(trimBlank(args))
	case opUnsub:
		return buf, p.unsub(trimBlank(args))
	case opPing:
		return buf, p.h.Ping()
	case opPong:
		return buf, p.h.Pong()
	case opOK:
		return buf, p.h.OK()
	case opErr:
		return buf, p.h.Err(unquote(trimBlank(args)))
	case opConnect:
		return buf, p.h.Connect(trimBlank(args))
	}
	return buf, p.h.Info(trimBlank(args))
}

func unquote(b []byte) []byte {
	if len(b) >= 2 && b[0] == '\'' && b[len(b)-1] == '\'' {
		return b[1 : len(b)-1]
	}
	return b
}

// split cuts args at blanks into p.fields, returning how many there were (up to 6; more
// count as 7 so callers reject them).
func (p *Parser) split(args []byte) int {
	n := 0
	for len(args) > 0 {
		i := 0
		for i < len(args) && !isBlank(args[i]) {
			i++
		}
		if n == len(p.fields) {
			return n + 1
		}
		p.fields[n] = args[:i]
		n++
		for i < len(args) && isBlank(args[i]) {
			i++
		}
		args = args[i:]
	}
	return n
}

// sizeDigitsMax bounds a size or max: nats-server reads at most 9 digits (leading zeros
// count), so anything longer is malformed however small its value.
const sizeDigitsMax = 9

// parseSize reads a non-negative decimal of at most sizeDigitsMax digits; -1 on anything
// else.
func parseSize(b []byte) int {
	if len(b) == 0 || len(b) > sizeDigitsMax {
		return -1
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func (p *Parser) sub(args []byte) error {
	switch p.split(args) {
	case 2:
		return p.h.Sub(p.fields[0], nil, p.fields[1])
	case 3:
		return p.h.Sub(p.fields[0], p.fields[1], p.fields[2])
	}
	return fmt.Errorf("%w: SUB takes a subject, an optional queue and a sid", ErrBadArguments)
}

// unsub reads UNSUB <sid> [max]. A max that is not a non-negative number reads as 0, which
// removes the subscription at once: nats-server reads it as -1 with the same effect.
func (p *Parser) unsub(args []byte) error {
	switch p.split(args) {
	case 1:
		return p.h.Unsub(p.fields[0], 0)
	case 2:
		return p.h.Unsub(p.fields[0], max(parseSize(p.fields[1]), 0))
	}
	return fmt.Errorf("%w: UNSUB takes a sid and an optional max", ErrBadArguments)
}
