package proto

// RouteHandler receives the route protocol's operations. A returned error stops parsing and
// is returned by Parse. The structs and the slices in them are the parser's, valid only
// during the call.
type RouteHandler interface {
	ControlHandler
	// RemoteSub is RS+ or LS+ (sub.Leaf): the peer has interest, or a queue group's weight
	// changed.
	RemoteSub(sub *RemoteSub) error
	// RemoteUnsub is RS- or LS-.
	RemoteUnsub(sub *RemoteSub) error
	// RoutedMsg is RMSG, HMSG or LMSG.
	RoutedMsg(msg *RoutedMsg) error
}

// RouteMode is what a route connection's handshake settles about its wire form. Nothing in
// the bytes tells the forms apart, so both ends must agree on it.
type RouteMode struct {
	// Account is the account a pinned route carries (cluster `accounts: [...]`, and always
	// the system account): the INFO of such a route names it in route_account, and every
	// RS+, RS-, LS+, LS-, RMSG, HMSG and LMSG on it leaves the account out. Empty on a pooled
	// route, whose ops name their account.
	Account string
	// LeafUnsubWithoutOrigin: the peer's INFO did not announce lnocu, so its LS- carries no
	// origin cluster (nats-server before 2.10; 2.10 and later send lnocu:true).
	LeafUnsubWithoutOrigin bool
}

// RemoteSub is one RS+, RS-, LS+ or LS-.
type RemoteSub struct {
	// Leaf: LS+/LS-, interest that came in from a leaf node. Origin is the leaf node's
	// cluster; it is nil only on an LS- in LeafUnsubWithoutOrigin mode.
	Leaf   bool
	Origin []byte
	// Account is always set: from the op, or from the mode on a pinned route.
	Account []byte
	Subject []byte
	// Queue is nil for a plain subscription. Weight (RS+/LS+ with a queue only) is how many
	// members of the group the peer has: nats-server sends RS+ again when it changes.
	Queue  []byte
	Weight int
}

// RoutedMsg is one RMSG, HMSG or LMSG.
type RoutedMsg struct {
	// Origin is set on an LMSG only: the leaf node cluster the message came from.
	Origin []byte
	// Account is always set: from the op, or from the mode on a pinned route.
	Account []byte
	Subject []byte
	Reply   []byte
	// Queues names the queue groups on the receiving server that should get the message;
	// nil when it goes to plain subscriptions only.
	Queues [][]byte
	// Hdr is the length of the header block at the start of Payload; -1 for an RMSG. An
	// HMSG has one; an LMSG always states one (0 without headers).
	Hdr     int
	Payload []byte
}

// RouteParser parses the route protocol. It is a Parser (Parse, SetTrace, SetGate,
// SetLimits) whose mode can change once the peer's INFO has been read.
type RouteParser struct {
	Parser
	route *routeDialect
}

// NewRouteParser returns a route protocol parser feeding h.
func NewRouteParser(h RouteHandler, limits Limits, mode RouteMode) *RouteParser {
	d := &routeDialect{h: h, fields: newFields(true)}
	d.setMode(mode)
	return &RouteParser{Parser: newParser(d, h, limits), route: d}
}

// SetMode changes the route's mode, when the INFO that settles it has been read.
func (p *RouteParser) SetMode(mode RouteMode) { p.route.setMode(mode) }

func (d *routeDialect) setMode(mode RouteMode) {
	d.mode, d.pinned = mode, nil
	if mode.Account != "" {
		d.pinned = []byte(mode.Account)
	}
}

// routeDialect reads RS+, RS-, LS+, LS-, RMSG, HMSG and LMSG.
type routeDialect struct {
	h      RouteHandler
	mode   RouteMode
	pinned []byte // mode.Account as bytes, so a pinned op's Account costs no conversion
	fields fields
	queues [][]byte // backs msg.Queues, reused
	sub    RemoteSub
	msg    RoutedMsg
}

func (d *routeDialect) ops() *opTable { return routeOps }

// control reads RS+ / LS+ <origin> [account] <subject> [<queue> <weight>] and
// RS- / LS- [origin] [account] <subject> [queue].
func (d *routeDialect) control(o op, args []byte) error {
	f := d.fields.split(args)
	name := routeOpName(o)
	s := &d.sub
	*s = RemoteSub{Leaf: o == opLSub || o == opLUnsub, Account: d.pinned}
	i := 0
	if o == opLSub || (o == opLUnsub && !d.mode.LeafUnsubWithoutOrigin) {
		if len(f) == 0 {
			return badArgs(name, "missing origin cluster")
		}
		s.Origin, i = f[0], 1
	}
	if d.mode.Account == "" {
		if len(f) <= i {
			return badArgs(name, "missing account in %q", args)
		}
		s.Account, i = f[i], i+1
	}
	rest := f[min(i, len(f)):]
	if o == opRSub || o == opLSub {
		return d.remoteSub(name, rest, args)
	}
	switch len(rest) {
	case 1:
		s.Subject = rest[0]
	case 2:
		s.Subject, s.Queue = rest[0], rest[1]
	default:
		return badArgs(name, "takes a subject and an optional queue after the account: %q", args)
	}
	return d.h.RemoteUnsub(s)
}

// remoteSub finishes RS+ or LS+ from what follows the account: <subject> [<queue> <weight>].
func (d *routeDialect) remoteSub(name string, rest [][]byte, args []byte) error {
	s := &d.sub
	switch len(rest) {
	case 1:
		s.Subject = rest[0]
	case 3:
		s.Subject, s.Queue, s.Weight = rest[0], rest[1], parseSize(rest[2])
		if s.Weight < 0 {
			return badArgs(name, "queue weight %q is not a number", rest[2])
		}
	default:
		return badArgs(name, "takes a subject and an optional queue with its weight after the account: %q", args)
	}
	return d.h.RemoteSub(s)
}

// payloadArgs reads RMSG, HMSG or LMSG:
//
//	RMSG [account] <subject> [reply | + <reply> <queue>... | | <queue>...] <size>
//	HMSG [account] <subject> [reply | + <reply> <queue>... | | <queue>...] <hdr> <size>
//	LMSG <origin> [account] <subject> [same as HMSG]
func (d *routeDialect) payloadArgs(o op, args []byte) (int, error) {
	f := d.fields.split(args)
	name := routeOpName(o)
	m := &d.msg
	*m = RoutedMsg{Account: d.pinned, Hdr: -1}
	i := 0
	if o == opLMsg {
		if len(f) == 0 {
			return 0, badArgs(name, "missing origin cluster")
		}
		m.Origin, i = f[0], 1
	}
	if d.mode.Account == "" {
		if len(f) <= i {
			return 0, badArgs(name, "missing account in %q", args)
		}
		m.Account, i = f[i], i+1
	}
	sizes := 1
	if o != opRMsg {
		sizes = 2
	}
	if len(f) < i+1+sizes {
		return 0, badArgs(name, "missing subject or size in %q", args)
	}
	m.Subject = f[i]
	if err := d.replyAndQueues(name, f[i+1:len(f)-sizes]); err != nil {
		return 0, err
	}
	size := parseSize(f[len(f)-1])
	if sizes == 2 {
		m.Hdr = parseSize(f[len(f)-2])
	}
	if size < 0 || (sizes == 2 && (m.Hdr < 0 || m.Hdr > size)) {
		return 0, badArgs(name, "bad size in %q", args)
	}
	return size, nil
}

// replyAndQueues reads what lies between the subject and the sizes: nothing, a reply, or a
// marker (+ with a reply, | without) followed by queue names.
func (d *routeDialect) replyAndQueues(name string, mid [][]byte) error {
	m := &d.msg
	switch {
	case len(mid) == 0:
		return nil
	case len(mid) == 1:
		m.Reply = mid[0]
		return nil
	case len(mid[0]) == 1 && mid[0][0] == '+':
		m.Reply, mid = mid[1], mid[2:]
	case len(mid[0]) == 1 && mid[0][0] == '|':
		mid = mid[1:]
	default:
		return badArgs(name, "queue marker %q is neither + nor |", mid[0])
	}
	if len(mid) > 0 {
		d.queues = append(d.queues[:0], mid...)
		m.Queues = d.queues
	}
	return nil
}

func (d *routeDialect) deliver(_ op, payload []byte) error {
	d.msg.Payload = payload
	return d.h.RoutedMsg(&d.msg)
}

func routeOpName(o op) string {
	switch o {
	case opRSub:
		return "RS+"
	case opRUnsub:
		return "RS-"
	case opLSub:
		return "LS+"
	case opLUnsub:
		return "LS-"
	case opRMsg:
		return "RMSG"
	case opRHMsg:
		return "HMSG"
	case opLMsg:
		return "LMSG"
	}
	panic("proto: route dialect asked for a client op")
}
