package workload

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/petrel-io/petrel/core"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/sim"
	"github.com/petrel-io/petrel/sim/natsclient"
)

// Nats runs the real engine on a server node and NATS clients (sim/natsclient) that
// subscribe with wildcards and queue groups, publish checksummed messages and make requests.
// Half the seeds are strict: no network or crash faults, and every message must reach every
// matching subscription exactly once (one member per queue group). The other half run the
// full fault profile; there the checker asserts that nothing reaches a subscription it does
// not match, nothing is corrupted, invented, duplicated or reordered on a live connection,
// and after faults stop every client hears messages again. Half the seeds (drawn apart,
// drawNatsWebSocket) also open the engine's WebSocket listener and connect some clients
// through it, with and without compression; the checker does not tell them apart.
type Nats struct {
	chk     *natsChecker
	clients []*natsClientState
}

const (
	natsPort         = 4222
	natsPublishEnd   = 2 * time.Second // publishing stops this long before the run ends
	natsLiveMessages = 10
	natsPingEvery    = 500 * time.Millisecond
	natsPingTimeout  = 3 * time.Second

	natsServiceSubject = "rq.svc"
	natsServiceQueue   = "svc"
	natsNobodySubject  = "rq.none"
	natsMaxClients     = 5
)

// natsWSPort is the WebSocket listener, opened in seeds that draw WebSocket clients.
const natsWSPort = 8080

// Subjects published to, and patterns subscribed with, chosen so that matches are common.
var (
	natsSubjects = []string{"a.b", "a.c", "b.b", "a.b.c", "a.b.d", "c"}
	natsPatterns = []string{"a.b", "a.*", "a.>", "*.b", "a.b.*", "c", "*"}
	natsQueues   = []string{"", "", "", "q1", "q2"}
)

type natsSubSpec struct {
	pattern, queue string
	max            int // UNSUB with this max right after the SUB; 0: none
}

// natsClientState outlives client incarnations and connections.
type natsClientState struct {
	idx        int
	name       string
	responder  bool // member of the "svc" queue group answering rq.svc
	specs      []natsSubSpec
	gen        uint32 // connection generation
	seq        uint64
	received   int
	receivedAt int // received when faults stopped
	// WebSocket: this client connects through the WebSocket listener, offering
	// permessage-deflate when compress is set.
	ws, compress bool
	feat         natsFeatures
	big          natsBigProbe
	// In a cluster: the server dialled first ("" is s1), the credentials, and failover to
	// the other members.
	server     string
	user, pass string
	failover   bool
}

func (n *Nats) Name() string { return "nats" }

// drawStrict decides, from the seed, whether a client-protocol run is strict: no network or
// crash faults, so every message must arrive.
func drawStrict(w *sim.World) bool {
	if w.Rand().Intn(2) != 0 {
		return false
	}
	p := &w.Profile
	p.PartitionRate, p.ResetRate, p.StallRate, p.CrashRate = 0, 0, 0, 0
	return true
}

func (n *Nats) Setup(w *sim.World) sim.Plan {
	r := w.Rand()
	strict := drawStrict(w)
	plan := sim.Plan{Faults: 10 * time.Second, Liveness: 8 * time.Second}
	n.chk = newNatsChecker(w, strict)
	ws := drawNatsWebSocket(w.Seed)
	feats := drawNatsFeatures(w.Seed, natsMaxClients)
	w.AddNode("s1", sim.NodeConfig{Crashable: !strict}, natsServer(ws.server))
	for i := range 3 + r.Intn(natsMaxClients-2) {
		st := &natsClientState{idx: i, name: fmt.Sprintf("c%d", i+1), responder: i%2 == 0, feat: feats[i]}
		for range 1 + r.Intn(3) {
			st.specs = append(st.specs, natsSubSpec{
				pattern: natsPatterns[r.Intn(len(natsPatterns))],
				queue:   natsQueues[r.Intn(len(natsQueues))],
			})
		}
		st.ws, st.compress = ws.client(i)
		n.clients = append(n.clients, st)
		if i == 0 && r.Intn(2) == 0 {
			// A catch-all subscriber in half the seeds: it sees everything, requests
			// included, so those seeds never answer requests with 503.
			st.specs = append(st.specs, natsSubSpec{pattern: ">"})
		}
		end := plan.Faults + plan.Liveness - natsPublishEnd
		w.AddNode(st.name, sim.NodeConfig{}, func(e *env.Env) { newNatsPeer(e, st, n.chk, end).start() })
	}
	w.At(plan.Faults, func() {
		for _, st := range n.clients {
			st.receivedAt = st.received
		}
	})
	return plan
}

func (n *Nats) Check(w *sim.World) error {
	if err := n.chk.final(); err != nil {
		return err
	}
	for _, st := range n.clients {
		if n.chk.strict {
			if err := st.big.check(st.name); err != nil {
				return err
			}
		}
		if got := st.received - st.receivedAt; got < natsLiveMessages {
			return fmt.Errorf("nats: client %s received %d messages after faults stopped, want >= %d", st.name, got, natsLiveMessages)
		}
	}
	return nil
}

// natsServer is the server program: the real engine, with fast pings so the simulator's
// half-open connections are found in seconds, and a WebSocket listener when ws is set.
func natsServer(ws *core.WebSocketOptions) func(*env.Env) {
	return func(e *env.Env) {
		opts := core.Options{Port: natsPort, ServerName: e.Name, PingInterval: time.Second, MaxPingsOut: 2, MaxPayload: natsMaxPayload}
		if ws != nil {
			copied := *ws
			opts.WebSocket = &copied
		}
		s, err := core.New(opts, e)
		env.Assertf(err == nil, "nats server: %v", err)
		env.Assertf(s.Start() == nil, "nats server: start failed")
	}
}

// natsWebSocket is a seed's WebSocket draw: half the seeds run some clients through the
// server's WebSocket listener (with or without compression on either side). It comes
// from a random stream of its own, so the seed's other draws, and the fault schedule,
// are what they were before WebSocket existed; seeds without WebSocket clients open no
// listener and run exactly as before.
type natsWebSocket struct {
	server  *core.WebSocketOptions // nil: no WebSocket in this seed
	clients map[int][2]bool        // client index: (ws, compress)
}

func drawNatsWebSocket(seed uint64) natsWebSocket {
	r := env.NewPRNG(seed ^ 0x776562736f636b) // "websock"
	if r.Intn(2) == 0 {
		return natsWebSocket{}
	}
	ws := natsWebSocket{
		server:  &core.WebSocketOptions{Port: natsWSPort, Compression: r.Intn(2) == 0},
		clients: map[int][2]bool{},
	}
	const maxClients = 5
	for i := range maxClients {
		ws.clients[i] = [2]bool{r.Intn(2) == 0, r.Intn(2) == 0}
	}
	if first := r.Intn(3); !ws.clients[first][0] {
		ws.clients[first] = [2]bool{true, ws.clients[first][1]} // at least one of the first three
	}
	return ws
}

func (n natsWebSocket) client(i int) (ws, compress bool) {
	c := n.clients[i]
	return c[0], c[1]
}

// natsPeer is one client incarnation: it keeps a connection up, subscribes, publishes.
type natsPeer struct {
	inbox string // this connection's reply prefix
	ready bool   // own subscriptions confirmed: requests may go out
	nreq  int
	e     *env.Env
	ex    env.Executor
	st    *natsClientState
	chk   *natsChecker
	end   time.Duration // virtual time at which publishing stops (via the checker's clock)
	nc    *natsConn
	subs  natsPeerSubs // this connection's
}

func newNatsPeer(e *env.Env, st *natsClientState, chk *natsChecker, end time.Duration) *natsPeer {
	p := &natsPeer{e: e, st: st, chk: chk, end: end}
	port, opts := natsPort, natsclient.Options{Name: st.name, User: st.user, Pass: st.pass}
	if st.ws {
		port, opts.WebSocket, opts.Compression = natsWSPort, true, st.compress
	}
	addr := fmt.Sprintf("%s:%d", cmp.Or(st.server, "s1"), port)
	p.nc = &natsConn{e: e, ex: e.Exec.New("client"), addr: addr, opts: st.feat.clientOptions(opts), failover: st.failover,
		up: p.up, down: func() { chk.connLost(st.idx, st.gen) }}
	p.ex = p.nc.ex
	return p
}

func (p *natsPeer) start() {
	p.nc.start()
	if at := p.st.feat.bigAt; at > 0 {
		p.e.Clock.AfterFunc(at, p.ex, func() { p.probeMaxPayload(p.nc.addr, p.nc.opts) })
	}
}

// up starts a connection's work: subscriptions, then publishing.
func (p *natsPeer) up(c *natsclient.Client) {
	p.st.gen++
	p.chk.connected(natsConnKey{p.st.idx, p.st.gen}, p.st.feat.opts)
	p.subs = natsPeerSubs{gone: map[string]natsSubKey{}}
	c.OnError, c.OnUnknown = p.onError, p.unknown
	p.subscribe(c)
	p.unsubLater(c)
	p.e.Clock.AfterFunc(time.Millisecond, p.ex, func() { p.publish(c) })
}

func (p *natsPeer) subscribe(c *natsclient.Client) {
	gen := p.st.gen
	var keys []natsSubKey
	for _, spec := range p.st.specs {
		var key natsSubKey
		sub := c.Subscribe(spec.pattern, spec.queue, p.receive(&key))
		key = natsSubKey{client: p.st.idx, gen: gen, sid: sub.Sid}
		p.chk.subscribed(key, spec)
		keys = append(keys, key)
		if spec.queue == "" && spec.pattern != ">" {
			p.subs.plain, p.subs.keys = append(p.subs.plain, sub), append(p.subs.keys, key)
		}
	}
	if p.st.responder {
		keys = append(keys, p.subscribeResponder(c, gen))
	}
	keys = append(keys, p.subscribeInbox(c, gen))
	maxKey, withMax := p.subscribeMax(c, gen)
	p.flush(c, func() {
		p.chk.confirmed(keys)
		if withMax {
			p.chk.confirmed([]natsSubKey{maxKey})
			p.chk.unsubscribed(maxKey)
		}
		p.ready = true
	})
}

// subscribeResponder joins the "svc" queue group on rq.svc and answers each request with
// a message of its own on the request's reply subject.
func (p *natsPeer) subscribeResponder(c *natsclient.Client, gen uint32) natsSubKey {
	var key natsSubKey
	sub := c.Subscribe(natsServiceSubject, natsServiceQueue, func(m *natsclient.Msg) {
		p.st.received++
		p.chk.delivered(key, m)
		if m.Reply != "" {
			p.send(c, m.Reply, "")
		}
	})
	key = natsSubKey{client: p.st.idx, gen: gen, sid: sub.Sid}
	p.chk.subscribed(key, natsSubSpec{pattern: natsServiceSubject, queue: natsServiceQueue})
	return key
}

// receive is a subscription's handler: a 503 status answers one of this connection's
// requests (it comes on the first of the connection's subscriptions that matches the
// reply subject: the inbox, or a catch-all), anything else is a delivery to check.
func (p *natsPeer) receive(key *natsSubKey) func(*natsclient.Msg) {
	return func(m *natsclient.Msg) {
		p.st.received++
		if m.Status() == "503" {
			p.chk.noResponders(m.Subject)
			return
		}
		p.chk.delivered(*key, m)
	}
}

// subscribeInbox is the muxed reply subscription: replies and 503 statuses arrive here.
func (p *natsPeer) subscribeInbox(c *natsclient.Client, gen uint32) natsSubKey {
	var key natsSubKey
	p.inbox = fmt.Sprintf("_INBOX.%s.%d.", p.st.name, gen)
	sub := c.Subscribe(p.inbox+"*", "", p.receive(&key))
	key = natsSubKey{client: p.st.idx, gen: gen, sid: sub.Sid}
	p.chk.subscribed(key, natsSubSpec{pattern: p.inbox + "*"})
	return key
}

// publish sends a few messages, then schedules itself again.
func (p *natsPeer) publish(c *natsclient.Client) {
	if c.Closed() || p.chk.now() >= p.end {
		return
	}
	if p.subs.round++; p.subs.round%natsCheckEvery == 0 {
		p.flush(c, nil)
	}
	for range 1 + p.e.Rand.Intn(2) {
		if p.sendInvalid(c) {
			continue
		}
		if p.ready && p.e.Rand.Intn(4) == 0 {
			p.request(c)
			continue
		}
		p.send(c, natsSubjects[p.e.Rand.Intn(len(natsSubjects))], "")
	}
	p.e.Clock.AfterFunc(time.Duration(5+p.e.Rand.Intn(40))*time.Millisecond, p.ex, func() { p.publish(c) })
}

// request sends to the service, or to a subject nobody serves (which must come back as a
// 503 when no subscription matches it).
func (p *natsPeer) request(c *natsclient.Client) {
	subj := natsServiceSubject
	if p.e.Rand.Intn(2) == 0 {
		subj = natsNobodySubject
	}
	p.nreq++
	reply := p.inbox + fmt.Sprint(p.nreq)
	p.chk.requested(reply, subj, natsConnKey{p.st.idx, p.st.gen})
	p.send(c, subj, reply)
}

// The message payload: who published it, on which subject, and a checksum over all of it,
// so the checker can tell corruption, invention and misrouting apart.
//
//	client u16 | gen u32 | seq u64 | len(subject) u8 | subject | filler | crc32c u32  (15-byte head)
func encodeNatsMsg(k natsMsgKey, subject string, r env.Rand) []byte {
	filler := make([]byte, r.Intn(64))
	r.Fill(filler)
	return encodeNatsMsgWith(k, subject, filler)
}

// encodeNatsMsgWith encodes a message with the given filler.
func encodeNatsMsgWith(k natsMsgKey, subject string, filler []byte) []byte {
	b := make([]byte, 0, 15+len(subject)+len(filler)+4)
	b = binary.BigEndian.AppendUint16(b, uint16(k.client))
	b = binary.BigEndian.AppendUint32(b, k.gen)
	b = binary.BigEndian.AppendUint64(b, k.seq)
	b = append(b, byte(len(subject)))
	b = append(b, subject...)
	b = append(b, filler...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
}

func decodeNatsMsg(b []byte) (natsMsgKey, string, bool) {
	if len(b) < 15+4 {
		return natsMsgKey{}, "", false
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, crcTable) != sum {
		return natsMsgKey{}, "", false
	}
	k := natsMsgKey{client: int(binary.BigEndian.Uint16(body)), gen: binary.BigEndian.Uint32(body[2:]), seq: binary.BigEndian.Uint64(body[6:])}
	n := int(body[14])
	if 15+n > len(body) {
		return natsMsgKey{}, "", false
	}
	return k, string(body[15 : 15+n]), true
}
