package proto

// Handler receives the client protocol's operations. A returned error stops parsing and is
// returned by Parse. Slices are valid only during the call.
type Handler interface {
	ControlHandler
	// Pub is PUB (hdr < 0) or HPUB (hdr = length of the header block at the start of msg).
	Pub(subject, reply []byte, hdr int, msg []byte) error
	// Msg is MSG (hdr < 0) or HMSG.
	Msg(subject, sid, reply []byte, hdr int, msg []byte) error
	Sub(subject, queue, sid []byte) error
	// Unsub's max is 0 when absent.
	Unsub(sid []byte, max int) error
}

// NewParser returns a client protocol parser feeding h.
func NewParser(h Handler, limits Limits) *Parser {
	p := newParser(&clientDialect{h: h, fields: newFields(false)}, h, limits)
	return &p
}

// clientDialect reads PUB, HPUB, MSG, HMSG, SUB and UNSUB.
type clientDialect struct {
	h      Handler
	fields fields

	// The payload op being read: slices of its arguments.
	subject, sid, reply []byte
	hdr                 int
}

func (d *clientDialect) ops() *opTable { return clientOps }

func (d *clientDialect) control(o op, args []byte) error {
	if o == opSub {
		return d.sub(args)
	}
	if o != opUnsub {
		panic("proto: client dialect asked for a route op")
	}
	return d.unsub(args)
}

func (d *clientDialect) sub(args []byte) error {
	switch f := d.fields.split(args); len(f) {
	case 2:
		return d.h.Sub(f[0], nil, f[1])
	case 3:
		return d.h.Sub(f[0], f[1], f[2])
	}
	return badArgs("SUB", "takes a subject, an optional queue and a sid: %q", args)
}

// unsub reads UNSUB <sid> [max]. A max that is not a non-negative number reads as 0, which
// removes the subscription at once: nats-server reads it as -1 with the same effect.
func (d *clientDialect) unsub(args []byte) error {
	switch f := d.fields.split(args); len(f) {
	case 1:
		return d.h.Unsub(f[0], 0)
	case 2:
		return d.h.Unsub(f[0], max(parseSize(f[1]), 0))
	}
	return badArgs("UNSUB", "takes a sid and an optional max: %q", args)
}

// payloadArgs reads subject, sid (MSG only), reply, header length (-1 if none) and total
// size.
func (d *clientDialect) payloadArgs(o op, args []byte) (int, error) {
	f := d.fields.split(args)
	n := len(f)
	d.subject, d.sid, d.reply, d.hdr = nil, nil, nil, -1
	size := -1
	switch {
	case o == opPub && n == 2:
		d.subject, size = f[0], parseSize(f[1])
	case o == opPub && n == 3:
		d.subject, d.reply, size = f[0], f[1], parseSize(f[2])
	case o == opHPub && n == 3:
		d.subject, d.hdr, size = f[0], parseSize(f[1]), parseSize(f[2])
	case o == opHPub && n == 4:
		d.subject, d.reply, d.hdr, size = f[0], f[1], parseSize(f[2]), parseSize(f[3])
	case o == opMsg && n == 3:
		d.subject, d.sid, size = f[0], f[1], parseSize(f[2])
	case o == opMsg && n == 4:
		d.subject, d.sid, d.reply, size = f[0], f[1], f[2], parseSize(f[3])
	case o == opHMsg && n == 4:
		d.subject, d.sid, d.hdr, size = f[0], f[1], parseSize(f[2]), parseSize(f[3])
	case o == opHMsg && n == 5:
		d.subject, d.sid, d.reply, d.hdr, size = f[0], f[1], f[2], parseSize(f[3]), parseSize(f[4])
	default:
		return 0, badArgs(clientOpName(o), "wrong number of arguments in %q", args)
	}
	withHeaders := o == opHPub || o == opHMsg
	if size < 0 || (withHeaders && (d.hdr < 0 || d.hdr > size)) {
		return 0, badArgs(clientOpName(o), "bad size in %q", args)
	}
	return size, nil
}

func (d *clientDialect) deliver(o op, msg []byte) error {
	if o == opPub || o == opHPub {
		return d.h.Pub(d.subject, d.reply, d.hdr, msg)
	}
	return d.h.Msg(d.subject, d.sid, d.reply, d.hdr, msg)
}

func clientOpName(o op) string {
	switch o {
	case opPub:
		return "PUB"
	case opHPub:
		return "HPUB"
	case opMsg:
		return "MSG"
	}
	return "HMSG"
}
