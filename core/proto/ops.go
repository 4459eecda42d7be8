package proto

// op identifies a control line's operation.
type op int

const (
	opUnknown op = iota
	// Client protocol.
	opPub
	opHPub
	opMsg
	opHMsg
	opSub
	opUnsub
	// Both protocols.
	opPing
	opPong
	opOK
	opErr
	opConnect
	opInfo
	// Route protocol.
	opRSub   // RS+
	opRUnsub // RS-
	opLSub   // LS+
	opLUnsub // LS-
	opRMsg   // RMSG
	opRHMsg  // HMSG on a route: RMSG with a header block
	opLMsg   // LMSG
)

// hasPayload reports whether the op's control line is followed by a payload and CRLF.
func (o op) hasPayload() bool {
	switch o {
	case opPub, opHPub, opMsg, opHMsg, opRMsg, opRHMsg, opLMsg:
		return true
	}
	return false
}

type opName struct {
	name string
	op   op
}

// opTable lists the ops one protocol knows. argOps take arguments after a blank; their
// name must be followed by one. prefixOps are recognised by their first letters, as
// nats-server does: PING, PONG and +OK ignore the rest of the line; CONNECT and INFO take it
// (blank or not) as their argument.
type opTable struct {
	argOps    []opName
	prefixOps []opName
}

// commonPrefixOps are the same on every connection kind.
var commonPrefixOps = []opName{{"PING", opPing}, {"PONG", opPong}, {"+OK", opOK}, {"CONNECT", opConnect}, {"INFO", opInfo}}

// clientOps is what a client connection (either end) reads.
var clientOps = &opTable{
	argOps: []opName{{"PUB", opPub}, {"HPUB", opHPub}, {"MSG", opMsg}, {"HMSG", opHMsg},
		{"SUB", opSub}, {"UNSUB", opUnsub}, {"-ERR", opErr}},
	prefixOps: commonPrefixOps,
}

// routeOps is what a route reads. The client's PUB, SUB, UNSUB and MSG are unknown here:
// nats-server never sends them on a route. HMSG is the routed message with headers.
var routeOps = &opTable{
	argOps: []opName{{"RS+", opRSub}, {"RS-", opRUnsub}, {"LS+", opLSub}, {"LS-", opLUnsub},
		{"RMSG", opRMsg}, {"HMSG", opRHMsg}, {"LMSG", opLMsg}, {"-ERR", opErr}},
	prefixOps: commonPrefixOps,
}

// opNameMax is the longest op name in any table; a partial line this long without a known op
// cannot become one.
const opNameMax = len("CONNECT")

// classify reads the op of a control line and where its arguments start (after the name and
// any blanks). A line must start with the op: an empty line or a leading blank is unknown.
func (t *opTable) classify(line []byte) (op, []byte) {
	name := line
	for i, c := range line {
		if isBlank(c) {
			name = line[:i]
			break
		}
	}
	if len(name) < len(line) {
		for _, a := range t.argOps {
			if opIs(name, a.name) {
				return a.op, trimLeadingBlanks(line[len(name):])
			}
		}
	}
	for _, p := range t.prefixOps {
		if len(line) >= len(p.name) && opIs(line[:len(p.name)], p.name) {
			return p.op, trimLeadingBlanks(line[len(p.name):])
		}
	}
	return opUnknown, nil
}

// mayBecomeOp reports whether a partial line (no line end seen yet) could still start a
// known op: it is a prefix of an op name, or of an argument op's name and a blank.
func (t *opTable) mayBecomeOp(partial []byte) bool {
	if len(partial) > opNameMax {
		return false
	}
	for _, a := range t.argOps {
		if len(partial) <= len(a.name) && opIs(partial, a.name[:len(partial)]) {
			return true
		}
	}
	for _, p := range t.prefixOps {
		if len(partial) < len(p.name) && opIs(partial, p.name[:len(partial)]) {
			return true
		}
	}
	return false
}

func isBlank(b byte) bool { return b == ' ' || b == '\t' }

func trimLeadingBlanks(b []byte) []byte {
	for len(b) > 0 && isBlank(b[0]) {
		b = b[1:]
	}
	return b
}

func trimBlank(b []byte) []byte {
	b = trimLeadingBlanks(b)
	for len(b) > 0 && isBlank(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// opIs compares an op name case-insensitively with want (upper case; '+' and '-' compare as
// themselves).
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
