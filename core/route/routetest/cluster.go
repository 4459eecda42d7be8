// Package routetest runs route.Routers as a cluster in memory: each node's writes travel to
// the other end of its connection and are parsed there by the real codec, socket closes
// arrive after the bytes written before them, and a small engine on each node keeps local
// subscriptions and delivers. Tests drive it with subscribe, publish, route close and
// redial operations and check deliveries against a model; the simulator's cluster workload
// grows from it.
package routetest

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/route"
	"github.com/petrel-io/petrel/core/s2stream"
	"github.com/petrel-io/petrel/core/sublist"
)

// pumpStepsMax bounds one Pump: a cluster that has not gone quiet by then is looping.
const pumpStepsMax = 100000

// Cluster is N nodes and the connections between them.
type Cluster struct {
	Nodes []*Node
	Now   time.Duration
	// links maps each connection end to the other end.
	links   map[End]End
	packets []packet
	urls    map[string]int
	chunk   *env.PRNG // splits packets into reads of random size
	// Deliveries records every delivery to a local subscription, in order.
	Deliveries []Delivery
	// Redials are the routes the nodes asked to dial again (Close.Retry), by node.
	Redials map[int][]Redial
	// stalled ends get nothing: their packets are dropped, as a partition would.
	stalled map[End]bool
	// Closes logs every Close the nodes asked for, for failure messages.
	Closes  []string
	nextSub int
	// encoders compress what an end writes once its handshake chose compression, as the
	// engine does at each flush (here at each Ready).
	encoders map[End]*s2stream.Encoder
}

// Redial is one route a node asked to dial again: a pool connection to URL, or Account's
// dedicated one.
type Redial struct {
	URL, Account string
}

// End is one side of a connection: a node and its ConnID.
type End struct {
	Node int
	Conn route.ConnID
}

type packet struct {
	to   End
	data []byte
	fin  bool // the sender closed: the receiver sees the socket end
}

// Delivery is one message handed to one local subscription.
type Delivery struct {
	Node   int
	Sub    int
	MsgID  int
	Routed bool // came in over a route
}

// Node is one server: its router and its local subscriptions.
type Node struct {
	Index  int
	ID     string
	URL    string
	Router *route.Router
	subs   map[string]*sublist.List // by account
	Subs   map[int]*Sub
}

// Sub is a local subscription.
type Sub struct {
	ID                      int
	Node                    int
	Account, Subject, Queue string
	entry                   sublist.Sub
}

// New returns a cluster of n nodes, not yet connected, seeded by seed.
func New(n int, seed uint64, configure func(*route.Config)) *Cluster {
	c := &Cluster{links: map[End]End{}, urls: map[string]int{}, chunk: env.NewPRNG(seed), Redials: map[int][]Redial{}, stalled: map[End]bool{},
		encoders: map[End]*s2stream.Encoder{}}
	for i := range n {
		cfg := route.Config{
			ServerID: fmt.Sprintf("N%02dSERVER", i), ServerName: fmt.Sprintf("n%d", i), Cluster: "c1",
			RouteURL:   fmt.Sprintf("nats-route://n%d:6222/", i),
			ClientURLs: []string{fmt.Sprintf("n%d:4222", i)},
		}
		if configure != nil {
			configure(&cfg)
		}
		r, err := route.NewRouter(cfg, env.NewPRNG(seed+uint64(i)+1))
		env.Assertf(err == nil, "routetest: node %d: %v", i, err)
		c.Nodes = append(c.Nodes, &Node{Index: i, ID: cfg.ServerID, URL: cfg.RouteURL, Router: r,
			subs: map[string]*sublist.List{}, Subs: map[int]*Sub{}})
		c.urls[cfg.RouteURL] = i
	}
	return c
}

// Dial has node from dial url (a node's route URL) and completes the TCP connection at once.
func (c *Cluster) Dial(from int, url string) error {
	id, err := c.Nodes[from].Router.Dial(url)
	if err != nil {
		return err
	}
	return c.connect(from, id, url)
}

// Redial dials what a Close asked for: a pool connection, or an account's.
func (c *Cluster) Redial(from int, rd Redial) error {
	if rd.Account == "" {
		return c.Dial(from, rd.URL)
	}
	id, err := c.Nodes[from].Router.DialAccount(rd.URL, rd.Account)
	if err != nil {
		return err
	}
	return c.connect(from, id, rd.URL)
}

// connect completes the TCP connection of a conn the router created.
func (c *Cluster) connect(from int, id route.ConnID, url string) error {
	a := c.Nodes[from]
	to, ok := c.urls[url]
	if !ok {
		a.Router.Closed(id) // nothing listens there
		return nil
	}
	peer, err := c.Nodes[to].Router.Accept(c.Now)
	if err != nil {
		a.Router.Closed(id)
		return err
	}
	ea, eb := End{from, id}, End{to, peer}
	c.links[ea], c.links[eb] = eb, ea
	a.Router.Connected(id, c.Now)
	return nil
}

// Reset breaks the connection at end e as a network reset would: bytes in flight are lost
// and both sides see the socket end.
func (c *Cluster) Reset(e End) {
	other, ok := c.links[e]
	env.Assertf(ok, "routetest: reset of unknown end %v", e)
	c.drop(e, other)
	c.Nodes[e.Node].Router.Closed(e.Conn)
	c.Nodes[other.Node].Router.Closed(other.Conn)
}

func (c *Cluster) drop(a, b End) {
	delete(c.links, a)
	delete(c.links, b)
	kept := c.packets[:0]
	for _, p := range c.packets {
		if p.to != a && p.to != b {
			kept = append(kept, p)
		}
	}
	c.packets = kept
}

// Stall partitions the connection at e: from now on, bytes either way are lost and neither
// side hears of it (no close), until the ping timers find out.
func (c *Cluster) Stall(e End) {
	other, ok := c.links[e]
	env.Assertf(ok, "routetest: stall of unknown end %v", e)
	c.stalled[e], c.stalled[other] = true, true
}

// Pump carries out every node's Ready and delivers packets until the cluster is quiet.
func (c *Cluster) Pump() {
	for step := 0; ; step++ {
		env.Assertf(step < pumpStepsMax, "routetest: the cluster did not go quiet in %d steps", pumpStepsMax)
		busy := false
		for _, n := range c.Nodes {
			if rd := n.Router.Ready(); !rd.Empty() {
				busy = true
				c.carryOut(n, &rd)
			}
		}
		if len(c.packets) > 0 {
			busy = true
			c.receive(c.takePacket())
		}
		if !busy {
			return
		}
	}
}

func (c *Cluster) carryOut(n *Node, rd *route.Ready) {
	for _, w := range rd.Writes {
		from := End{n.Index, w.Conn}
		data := bytes.Clone(w.Bytes) // Ready reuses its buffers
		if enc := c.encoders[from]; enc != nil && len(data) > 0 {
			data = enc.Append(nil, data)
		}
		if w.CompressAfter != "" {
			c.encoders[from] = s2stream.NewEncoder(route.EncoderLevel(w.CompressAfter))
		}
		if to, ok := c.links[from]; ok && !c.stalled[to] && len(data) > 0 {
			c.packets = append(c.packets, packet{to: to, data: data})
		}
	}
	for i := range rd.Deliveries {
		c.deliverRouted(n, &rd.Deliveries[i])
	}
	for _, cl := range rd.Closes {
		c.Closes = append(c.Closes, fmt.Sprintf("node %d conn %d (peer %q url %s account %q): %v retry %v", n.Index, cl.Conn, cl.Peer, cl.URL, cl.Account, cl.Reason, cl.Retry))
		c.closeEnd(End{n.Index, cl.Conn})
		if cl.Retry {
			c.Redials[n.Index] = append(c.Redials[n.Index], Redial{URL: cl.URL, Account: cl.Account})
		}
	}
	for _, o := range rd.Opens {
		c.Closes = append(c.Closes, fmt.Sprintf("node %d opens conn %d to %s account %q", n.Index, o.Conn, o.URL, o.Account))
		env.Assertf(c.connect(n.Index, o.Conn, o.URL) == nil, "routetest: node %d: open %s failed", n.Index, o.URL)
	}
	for _, url := range rd.Dials {
		c.Closes = append(c.Closes, fmt.Sprintf("node %d gossip dial %s", n.Index, url))
		env.Assertf(c.Dial(n.Index, url) == nil, "routetest: node %d: gossip dial %s failed", n.Index, url)
	}
}

// closeEnd closes the socket at e: the peer reads what was sent before, then the end.
func (c *Cluster) closeEnd(e End) {
	if n := c.Nodes[e.Node].Router.Conn(e.Conn); n != nil {
		c.Nodes[e.Node].Router.Closed(e.Conn)
	}
	other, ok := c.links[e]
	if !ok {
		return
	}
	delete(c.links, e)
	c.packets = append(c.packets, packet{to: other, fin: true})
}

// takePacket removes and returns the first packet of a connection picked at random: bytes on
// one connection keep their order, as TCP keeps them, while connections race each other.
func (c *Cluster) takePacket() packet {
	pick := c.packets[c.chunk.Intn(len(c.packets))].to
	for i, p := range c.packets {
		if p.to == pick {
			c.packets = append(c.packets[:i], c.packets[i+1:]...)
			return p
		}
	}
	panic("routetest: picked packet vanished")
}

func (c *Cluster) receive(p packet) {
	r := c.Nodes[p.to.Node].Router
	if r.Conn(p.to.Conn) == nil {
		return // closed meanwhile
	}
	if p.fin {
		delete(c.links, p.to)
		r.Closed(p.to.Conn)
		return
	}
	data := p.data
	for len(data) > 0 { // reads of random size, so ops arrive split
		n := 1 + c.chunk.Intn(len(data))
		r.Receive(p.to.Conn, c.Now, data[:n])
		data = data[n:]
		if r.Conn(p.to.Conn) == nil || !r.Conn(p.to.Conn).Live() {
			return
		}
	}
}

// Tick advances the clock by d on every node.
func (c *Cluster) Tick(d time.Duration) {
	c.Now += d
	for _, n := range c.Nodes {
		n.Router.Tick(c.Now)
	}
}

// Subscribe adds a local subscription on node and returns its id.
func (c *Cluster) Subscribe(node int, account, subject, queue string) int {
	n := c.Nodes[node]
	c.nextSub++
	s := &Sub{ID: c.nextSub, Node: node, Account: account, Subject: subject, Queue: queue}
	s.entry = sublist.Sub{Subject: subject, Queue: queue, Owner: s}
	n.list(account).Insert(&s.entry)
	n.Subs[s.ID] = s
	n.Router.Subscribe(account, subject, queue, 1)
	return s.ID
}

// Unsubscribe removes a local subscription.
func (c *Cluster) Unsubscribe(node, id int) {
	n := c.Nodes[node]
	s := n.Subs[id]
	env.Assertf(s != nil && n.list(s.Account).Remove(&s.entry), "routetest: unsubscribe of unknown sub %d on node %d", id, node)
	delete(n.Subs, id)
	n.Router.Subscribe(s.Account, s.Subject, s.Queue, -1)
}

func (n *Node) list(account string) *sublist.List {
	l := n.subs[account]
	if l == nil {
		l = sublist.New()
		n.subs[account] = l
	}
	return l
}

// Publish publishes message msgID on node: local plain subscriptions and the queue groups
// the router keeps here get it at once, the routes get it through Pump.
func (c *Cluster) Publish(node int, account, subject string, msgID int) {
	n := c.Nodes[node]
	res := n.list(account).Match(subject)
	for _, s := range res.Plain {
		c.record(node, s, msgID, false)
	}
	var local []route.LocalGroup
	for _, g := range res.Groups {
		local = append(local, route.LocalGroup{Name: g.Name, Members: len(g.Subs)})
	}
	msg := route.Message{Account: account, Subject: []byte(subject), Hdr: -1, Payload: []byte(strconv.Itoa(msgID))}
	for _, q := range n.Router.Publish(&msg, local) {
		c.deliverQueue(node, res, q, msgID, false)
	}
}

// deliverRouted is the engine's side of a Delivery: every local plain subscription, and one
// member of each group the message names.
func (c *Cluster) deliverRouted(n *Node, d *route.Delivery) {
	msgID, err := strconv.Atoi(string(d.Payload))
	env.Assertf(err == nil, "routetest: payload %q is not a message id", d.Payload)
	// Every node pools alike, so a message came over the connection carrying its account.
	from := n.Router.Conn(d.From)
	want, ok := n.Router.ConnFor(from.Peer(), d.Account)
	env.Assertf(ok && want == d.From, "routetest: node %d: account %s message on conn %d, its conn is %d", n.Index, d.Account, d.From, want)
	res := n.list(d.Account).Match(string(d.Subject))
	for _, s := range res.Plain {
		c.record(n.Index, s, msgID, true)
	}
	for _, q := range d.Queues {
		c.deliverQueue(n.Index, res, q, msgID, true)
	}
}

func (c *Cluster) deliverQueue(node int, res *sublist.Result, queue string, msgID int, routed bool) {
	for _, g := range res.Groups {
		if g.Name == queue && len(g.Subs) > 0 {
			c.record(node, g.Subs[c.chunk.Intn(len(g.Subs))], msgID, routed)
			return
		}
	}
}

func (c *Cluster) record(node int, s *sublist.Sub, msgID int, routed bool) {
	c.Deliveries = append(c.Deliveries, Delivery{Node: node, Sub: s.Owner.(*Sub).ID, MsgID: msgID, Routed: routed})
}

// Links returns the number of open connection ends.
func (c *Cluster) Links() int { return len(c.links) }

// Peer returns the other end of e.
func (c *Cluster) Peer(e End) (End, bool) {
	o, ok := c.links[e]
	return o, ok
}
