package sim

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// Network is the simulated TCP network between nodes. Each ordered pair of nodes is a link
// with its own base latency and a blocked flag (a partition, possibly one way). Bytes stalled
// by a block wait for the heal; a sender whose bytes wait longer than the profile's user
// timeout gets ErrTimeout, as with TCP's retransmission timeout.
type Network struct {
	w         *World
	links     [][]*link // [from][to]
	listeners map[string]*listener
	streams   []*stream // every open direction, in creation order, for heal and stall faults
	conns     int
	ports     []int // next ephemeral port per node
}

type link struct {
	latency time.Duration // base one-way latency
	blocked bool
	resets  []*connEnd // resets waiting for the link to heal, to be delivered to these ends
}

func newNetwork(w *World) *Network {
	return &Network{w: w, listeners: map[string]*listener{}}
}

func (nw *Network) addNode(n *Node) {
	for i := range nw.links {
		nw.links[i] = append(nw.links[i], nw.newLink())
	}
	row := make([]*link, len(nw.links)+1)
	for i := range row {
		row[i] = nw.newLink()
	}
	nw.links = append(nw.links, row)
	nw.ports = append(nw.ports, 40000)
}

func (nw *Network) newLink() *link {
	p := &nw.w.Profile
	return &link{latency: time.Duration(env.Between(nw.w.rng, int64(p.LatencyMin), int64(p.LatencyMax)))}
}

// latency draws one packet's one-way delay on from→to.
func (nw *Network) latency(from, to int) time.Duration {
	l := nw.links[from][to]
	j := nw.w.Profile.Jitter
	if j <= 0 {
		return l.latency
	}
	return l.latency + time.Duration(nw.w.rng.Intn(int(j)+1))
}

// Partition blocks traffic from→to (and back, unless oneWay).
func (nw *Network) Partition(from, to int, oneWay bool) {
	nw.links[from][to].blocked = true
	if !oneWay {
		nw.links[to][from].blocked = true
	}
	nw.w.trace.note(nw.w.sched.now, kindFault, int32(from), fmt.Sprintf("partition %s->%s oneway=%v",
		nw.w.nodes[from].Name, nw.w.nodes[to].Name, oneWay))
}

// PartitionFrom cuts node from each of others (and others from node, unless oneWay) and
// leaves its other links alone: a leader cut from its peers but not its clients, or the
// reverse. HealFrom undoes it.
func (nw *Network) PartitionFrom(node int, others []int, oneWay bool) {
	for _, o := range others {
		if o != node {
			nw.Partition(node, o, oneWay)
		}
	}
}

// HealFrom lifts the blocks between node and each of others, both ways.
func (nw *Network) HealFrom(node int, others []int) {
	for _, o := range others {
		nw.heal(node, o)
		nw.heal(o, node)
	}
}

// Isolate partitions node i from every other node, both ways.
func (nw *Network) Isolate(i int) {
	for j := range nw.links {
		if j != i {
			nw.Partition(i, j, false)
		}
	}
}

// HealAll lifts every partition and resumes stalled traffic.
func (nw *Network) HealAll() {
	for from := range nw.links {
		for to, l := range nw.links[from] {
			if l.blocked {
				nw.heal(from, to)
			}
		}
	}
}

// Heal lifts the block from→to.
func (nw *Network) Heal(from, to int) { nw.heal(from, to) }

func (nw *Network) heal(from, to int) {
	l := nw.links[from][to]
	if !l.blocked {
		return
	}
	l.blocked = false
	nw.w.trace.note(nw.w.sched.now, kindFault, int32(from), fmt.Sprintf("heal %s->%s", nw.w.nodes[from].Name, nw.w.nodes[to].Name))
	for _, end := range l.resets {
		nw.sendReset(from, end, env.ErrReset)
	}
	l.resets = nil
	nw.compactStreams()
	for _, s := range nw.streams {
		if s.from.node() == from && s.to.node() == to {
			s.pump()
		}
	}
}

func (nw *Network) compactStreams() {
	live := nw.streams[:0]
	for _, s := range nw.streams {
		if !s.dead {
			live = append(live, s)
		}
	}
	for i := len(live); i < len(nw.streams); i++ {
		nw.streams[i] = nil
	}
	nw.streams = live
}

// sendReset delivers a reset to end after one latency of from→end, or when the link heals.
func (nw *Network) sendReset(from int, end *connEnd, why error) {
	to := end.node()
	if l := nw.links[from][to]; l.blocked {
		l.resets = append(l.resets, end)
		return
	}
	nw.w.sched.schedule(nw.w.sched.now+nw.latency(from, to), kindReset, to, int64(end.c.id), func() {
		end.broken(why)
	})
}

// procDied breaks every connection of a crashed incarnation and drops its listeners. After
// a process crash the kernel still sends what the process wrote (so a peer can see a message
// sent before the state it promises was persisted), then a reset behind it; after a power
// loss nothing more leaves the machine and peers hear silence.
func (nw *Network) procDied(p *proc, machine bool) {
	for _, l := range p.listeners {
		l.closeNow()
	}
	for _, end := range p.conns {
		if end.closed {
			continue // closed before: its FIN follows its bytes already
		}
		end.closed = true
		if machine || end.done {
			end.out.kill()
			continue
		}
		out := end.out
		out.queued = out.queued[:out.flushed] // bytes never flushed died with the process
		out.rstWant = true
		out.pump()
	}
	p.conns, p.listeners = nil, nil
}

// ResetRandom resets one open connection chosen by the world's generator; it reports whether
// there was one.
func (nw *Network) ResetRandom() bool {
	s := nw.pickStream()
	if s == nil {
		return false
	}
	nw.w.trace.note(nw.w.sched.now, kindFault, int32(s.from.node()), fmt.Sprintf("reset conn %d", s.from.c.id))
	// A reset from the path (a middlebox, a rebooted NAT) breaks both ends.
	s.from.broken(fmt.Errorf("sim: conn %d: %w", s.from.c.id, env.ErrReset))
	nw.sendReset(s.from.node(), s.to, env.ErrReset)
	return true
}

// StallRandom makes one direction of one open connection silently drop everything from now
// on (a half-open path): the sender learns only by the user timeout, the receiver never.
func (nw *Network) StallRandom() bool {
	s := nw.pickStream()
	if s == nil {
		return false
	}
	nw.w.trace.note(nw.w.sched.now, kindFault, int32(s.from.node()), fmt.Sprintf("stall conn %d side %d", s.from.c.id, s.from.side))
	s.stalled = true
	s.pump()
	return true
}

func (nw *Network) pickStream() *stream {
	nw.compactStreams()
	if len(nw.streams) == 0 {
		return nil
	}
	return nw.streams[nw.w.rng.Intn(len(nw.streams))]
}

// resolve turns "host:port" into a node index and port.
func (nw *Network) resolve(addr string) (node, port int, err error) {
	host, portText, ok := strings.Cut(addr, ":")
	if !ok {
		return 0, 0, fmt.Errorf("sim: address %q has no port", addr)
	}
	port, err = strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		return 0, 0, fmt.Errorf("sim: address %q has a bad port", addr)
	}
	for _, n := range nw.w.nodes {
		if n.Name == host {
			return n.Index, port, nil
		}
	}
	return 0, 0, fmt.Errorf("sim: dial %s: no such host", addr)
}

// netAPI is one incarnation's env.Net.
type netAPI struct{ p *proc }

type listener struct {
	nw     *Network
	p      *proc
	addr   string
	ex     env.Executor
	accept func(env.Conn)
	closed bool
}

func (l *listener) Addr() string { return l.addr }

func (l *listener) Close() error {
	l.closeNow()
	return nil
}

func (l *listener) closeNow() {
	if !l.closed {
		l.closed = true
		delete(l.nw.listeners, l.addr)
	}
}

func (a *netAPI) Listen(addr string, ex env.Executor, accept func(env.Conn)) (env.Listener, error) {
	nw := a.p.node.w.net
	if !a.p.alive {
		return nil, fmt.Errorf("sim: listen %q: %w", addr, errDeadProcess)
	}
	_, portText, ok := strings.Cut(addr, ":")
	port, err := strconv.Atoi(portText)
	if !ok || err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("sim: listen %q: bad address", addr)
	}
	if port == 0 {
		port = nw.nextPort(a.p.node.Index)
	}
	full := fmt.Sprintf("%s:%d", a.p.node.Name, port)
	if _, taken := nw.listeners[full]; taken {
		return nil, fmt.Errorf("sim: listen %s: address already in use", full)
	}
	l := &listener{nw: nw, p: a.p, addr: full, ex: ex, accept: accept}
	nw.listeners[full] = l
	a.p.listeners = append(a.p.listeners, l)
	return l, nil
}

func (nw *Network) nextPort(node int) int {
	nw.ports[node]++
	if nw.ports[node] > 65000 {
		nw.ports[node] = 40001
	}
	return nw.ports[node]
}

func (a *netAPI) Dial(addr string, timeout time.Duration, ex env.Executor, done func(env.Conn, error)) {
	p := a.p
	nw := p.node.w.net
	from := p.node.Index
	finish := func(c env.Conn, err error) {
		if p.alive {
			ex.Post(func() { done(c, err) })
		}
	}
	to, _, err := nw.resolve(addr)
	if err != nil {
		nw.w.sched.schedule(nw.w.sched.now, kindDialDone, from, -1, func() { finish(nil, err) })
		return
	}
	deadline := nw.w.sched.now + p.node.virtualFor(timeout)
	target := nw.w.nodes[to]
	if nw.links[from][to].blocked || nw.links[to][from].blocked || !target.Up() {
		nw.w.sched.schedule(deadline, kindDialDone, from, -1, func() {
			finish(nil, fmt.Errorf("sim: dial %s: %w", addr, env.ErrTimeout))
		})
		return
	}
	synAt := nw.w.sched.now + nw.latency(from, to)
	nw.w.sched.schedule(synAt, kindSyn, to, 0, func() {
		if !p.alive {
			return // the dialer crashed; its SYN leads nowhere
		}
		l := nw.listeners[addr]
		back := nw.w.sched.now + nw.latency(to, from)
		if l == nil || l.closed {
			nw.w.sched.schedule(back, kindDialDone, from, -1, func() {
				finish(nil, fmt.Errorf("sim: dial %s: %w", addr, env.ErrRefused))
			})
			return
		}
		dialer, acceptor := nw.connect(p, l)
		l.ex.Post(func() { l.accept(acceptor) })
		nw.w.sched.schedule(back, kindDialDone, from, int64(dialer.c.id), func() { finish(dialer, nil) })
	})
}
