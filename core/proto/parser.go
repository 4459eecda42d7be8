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

// op codes for operations that carry a payload.
const (
	opPub = iota + 1
	opHPub
	opMsg
	opHMsg
)

// Parser is a NATS protocol parser for one connection. Not safe for concurrent use.
type Parser struct {
	h      Handler
	limits Limits

	line []byte // a control line split across buffers

	// An op waiting for its payload. args holds copies of its arguments (the buffer they came
	// from will be gone); payload collects the payload and its CRLF.
	waitOp  int
	need    int
	args    []byte
	subject []byte
	sid     []byte
	reply   []byte
	hdr     int
	payload []byte
	fields  [6][]byte
	trace   func(line []byte)
}

// SetTrace makes the parser pass every control line (without CRLF) to fn before handling
// it, for protocol tracing; nil turns it off.
func (p *Parser) SetTrace(fn func(line []byte)) { p.trace = fn }

// NewParser returns a parser feeding h.
func NewParser(h Handler, limits Limits) *Parser { return &Parser{h: h, limits: limits} }

// SetLimits changes the limits, for CONNECT-time or reload changes.
func (p *Parser) SetLimits(l Limits) { p.limits = l }

// Parse consumes buf. After an error the parser must not be used again.
func (p *Parser) Parse(buf []byte) error {
	for len(buf) > 0 {
		if p.waitOp != 0 {
			n := min(len(buf), p.need)
			p.payload = append(p.payload, buf[:n]...)
			p.need -= n
			buf = buf[n:]
			if p.need > 0 {
				return nil
			}
			if err := p.deliver(p.waitOp, p.subject, p.sid, p.reply, p.hdr, p.payload); err != nil {
				return err
			}
			p.waitOp, p.payload = 0, p.payload[:0]
			continue
		}
		nl := bytes.IndexByte(buf, '\n')
		if nl < 0 {
			if p.limits.MaxControlLine > 0 && len(p.line)+len(buf) > p.limits.MaxControlLine {
				return ErrMaxControlLine
			}
			p.line = append(p.line, buf...)
			return nil
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
		if p.limits.MaxControlLine > 0 && len(line) > p.limits.MaxControlLine {
			return ErrMaxControlLine
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

// control handles one control line; buf is what follows it. It returns what is left of buf
// after any payload it consumed.
func (p *Parser) control(line, buf []byte) ([]byte, error) {
	name, args := splitOp(line)
	switch {
	case opIs(name, "PUB"):
		return p.payloadOp(opPub, args, buf)
	case opIs(name, "HPUB"):
		return p.payloadOp(opHPub, args, buf)
	case opIs(name, "MSG"):
		return p.payloadOp(opMsg, args, buf)
	case opIs(name, "HMSG"):
		return p.payloadOp(opHMsg, args, buf)
	case opIs(name, "SUB"):
		return buf, p.sub(args)
	case opIs(name, "UNSUB"):
		return buf, p.unsub(args)
	case opIs(name, "PING"):
		return buf, p.h.Ping()
	case opIs(name, "PONG"):
		return buf, p.h.Pong()
	case opIs(name, "CONNECT"):
		return buf, p.h.Connect(args)
	case opIs(name, "INFO"):
		return buf, p.h.Info(args)
	case opIs(name, "+OK"):
		return buf, p.h.OK()
	case opIs(name, "-ERR"):
		return buf, p.h.Err(unquote(args))
	case len(name) == 0 && len(args) == 0:
		return buf, nil // an empty line between ops is harmless
	}
	return buf, ErrUnknownOp
}

// splitOp separates the op name from its arguments (leading and trailing blanks removed).
func splitOp(line []byte) (name, args []byte) {
	line = trimBlank(line)
	i := 0
	for i < len(line) && !isBlank(line[i]) {
		i++
	}
	return line[:i], trimBlank(line[i:])
}

func isBlank(b byte) bool { return b == ' ' || b == '\t' }

func trimBlank(b []byte) []byte {
	for len(b) > 0 && isBlank(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isBlank(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// opIs compares an op name case-insensitively with want (upper case).
func opIs(name []byte, want string) bool {
	if len(name) != len(want) {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != want[i] {
			return false
		}
	}
	return true
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

// parseSize reads a non-negative decimal; -1 on anything else or overflow.
func parseSize(b []byte) int {
	if len(b) == 0 || len(b) > 12 {
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
	return fmt.Errorf("%w: SUB takes a subject, an optional queue and a sid", ErrUnknownOp)
}

func (p *Parser) unsub(args []byte) error {
	switch p.split(args) {
	case 1:
		return p.h.Unsub(p.fields[0], 0)
	case 2:
		max := parseSize(p.fields[1])
		if max < 0 {
			return fmt.Errorf("%w: UNSUB max %q is not a number", ErrUnknownOp, p.fields[1])
		}
		return p.h.Unsub(p.fields[0], max)
	}
	return fmt.Errorf("%w: UNSUB takes a sid and an optional max", ErrUnknownOp)
}
