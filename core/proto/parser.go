package proto

import (
	"bytes"
	"errors"
	"fmt"
)

// ErrHandOff, returned by a handler for a control op, stops Parse after that op and keeps
// the bytes after it (Rest): what follows is no longer plain protocol (a route's input
// turns compressed after the INFO that settled it).
var ErrHandOff = errors.New("proto: the rest of the input is handed off")

// ControlHandler receives the ops every connection kind shares. A returned error stops
// parsing and is returned by Parse. Slices are valid only during the call.
type ControlHandler interface {
	Connect(json []byte) error
	Info(json []byte) error
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

// dialect is what one protocol (client or route) adds to the shared machinery: which ops it
// knows, how it reads their arguments, and which handler gets them. The Parser owns line
// assembly, limits, payload collection and the shared ops.
type dialect interface {
	ops() *opTable
	// control handles an op without a payload that is not one of the shared ones.
	control(o op, args []byte) error
	// payloadArgs reads a payload op's arguments into the dialect's pending op (slices of
	// args, which stay valid until deliver) and returns the payload size.
	payloadArgs(o op, args []byte) (size int, err error)
	// deliver hands the pending op, with its payload (CRLF removed), to the handler.
	deliver(o op, payload []byte) error
}

// Parser is a NATS protocol parser for one connection, client or route. Not safe for
// concurrent use.
type Parser struct {
	d      dialect
	common ControlHandler
	limits Limits

	line []byte // a control line split across buffers

	// A payload op waiting for the rest of its payload: args is a copy of its arguments (the
	// buffer they came from will be gone), which the dialect has read again; payload collects
	// the payload and its CRLF. Invariant: waitOp != opUnknown iff need > 0.
	waitOp  op
	need    int
	args    []byte
	payload []byte

	trace func(line []byte)
	gate  func(first byte) error

	rest []byte // after ErrHandOff: the unparsed rest of that Parse's input
}

func newParser(d dialect, common ControlHandler, limits Limits) Parser {
	return Parser{d: d, common: common, limits: limits}
}

// Rest returns, once, the input left after a handler's ErrHandOff (a slice of the buffer
// given to Parse: valid as long as that buffer is).
func (p *Parser) Rest() []byte {
	r := p.rest
	p.rest = nil
	return r
}

// SetTrace makes the parser pass every control line (without CRLF) to fn before handling
// it, for protocol tracing; nil turns it off.
func (p *Parser) SetTrace(fn func(line []byte)) { p.trace = fn }

// SetGate makes the parser pass the first byte of every op to fn before reading the rest,
// and stop with fn's error; nil turns it off. nats-server judges an op before CONNECT on a
// server that requires authentication by that byte alone.
func (p *Parser) SetGate(fn func(first byte) error) { p.gate = fn }

// SetLimits changes the limits, for CONNECT-time or reload changes.
func (p *Parser) SetLimits(l Limits) { p.limits = l }

// Parse consumes buf. After an error the parser must not be used again.
func (p *Parser) Parse(buf []byte) error {
	for len(buf) > 0 {
		if p.waitOp != opUnknown {
			rest, err := p.collect(buf)
			if err != nil || len(rest) == 0 {
				return err
			}
			buf = rest
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
			if errors.Is(err, ErrHandOff) {
				p.rest = rest
			}
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
	ops := p.d.ops()
	o, args := ops.classify(line)
	switch {
	case o == opUnknown && !ops.mayBecomeOp(line):
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
	o, args := p.d.ops().classify(line)
	switch {
	case o == opUnknown:
		return buf, ErrUnknownOp
	case p.overLimit(args):
		return buf, ErrMaxControlLine
	}
	args = trimBlank(args)
	switch o {
	case opPing:
		return buf, p.common.Ping()
	case opPong:
		return buf, p.common.Pong()
	case opOK:
		return buf, p.common.OK()
	case opErr:
		return buf, p.common.Err(unquote(args))
	case opConnect:
		return buf, p.common.Connect(args)
	case opInfo:
		return buf, p.common.Info(args)
	}
	if o.hasPayload() {
		return p.payloadOp(o, args, buf)
	}
	return buf, p.d.control(o, args)
}

func unquote(b []byte) []byte {
	if len(b) >= 2 && b[0] == '\'' && b[len(b)-1] == '\'' {
		return b[1 : len(b)-1]
	}
	return b
}

// fields splits arguments at blanks without allocating once warm: the slice is the parser's
// and is reused by every line. On a route a CR inside the line separates fields too, as
// nats-server splits routed arguments; the client protocol keeps it (Petrel refuses it in
// subjects later, with an -ERR).
type fields struct {
	f       [][]byte
	crBlank bool
}

// fieldsInitial covers every op nats-server sends but an RMSG naming many queue groups,
// which grows the slice once.
const fieldsInitial = 8

func newFields(crBlank bool) fields {
	return fields{f: make([][]byte, 0, fieldsInitial), crBlank: crBlank}
}

func (fs *fields) isSeparator(c byte) bool { return isBlank(c) || (fs.crBlank && c == '\r') }

// split cuts args at blanks; the result is valid until the next split.
func (fs *fields) split(args []byte) [][]byte {
	fs.f = fs.f[:0]
	for len(args) > 0 {
		i := 0
		for i < len(args) && !fs.isSeparator(args[i]) {
			i++
		}
		if i > 0 {
			fs.f = append(fs.f, args[:i])
		}
		for i < len(args) && fs.isSeparator(args[i]) {
			i++
		}
		args = args[i:]
	}
	return fs.f
}

// sizeDigitsMax bounds a size, max or weight: nats-server reads at most 9 digits (leading
// zeros count), so anything longer is malformed however small its value.
const sizeDigitsMax = 9

// sizeMax is the largest number of sizeDigitsMax digits; encoders assert they stay under it.
const sizeMax = 999_999_999

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

// badArgs is ErrBadArguments with the op and what was wrong.
func badArgs(opName, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrBadArguments, opName, fmt.Sprintf(format, args...))
}
