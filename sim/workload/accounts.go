package workload

import (
	"fmt"
	"time"

	"github.com/petrel-io/petrel/core"
	"github.com/petrel-io/petrel/core/auth"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/sim"
	"github.com/petrel-io/petrel/sim/natsclient"
)

// Accounts runs the real engine with 3-4 accounts drawn per seed (accounts_config.go):
// stream exports public and restricted, imported under the same subject, a prefix, a 'to'
// or chained through another account's export; singleton and stream services imported
// with and without 'to'; literal, wildcard and weighted mappings. Each client logs in as
// one account's user, subscribes to subjects of its own account, of others and of its
// imports, publishes on them, requests the services its account imports, and answers
// those its account exports (twice to each request, so a singleton's second response
// must go nowhere). The checker (accounts_check.go) decides from the configuration alone
// whether each delivery may happen; in strict seeds (no network or crash faults) it also
// asserts every allowed delivery happens exactly once and every served request is answered.
type Accounts struct {
	spec    *accSpec
	chk     *accChecker
	clients []*accClientState
}

const (
	accLiveMessages = 10
	accPublishEnd   = time.Second // publishing stops this long before the run ends
)

// accClientState outlives a client's connections.
type accClientState struct {
	idx        int
	name       string
	account    string
	patterns   []string
	subjects   []string    // published on
	requests   []string    // the local subjects of the account's service imports
	services   []accExport // answered
	gen        uint32
	seq        uint64
	received   int
	receivedAt int // received when faults stopped
}

func (a *Accounts) Name() string { return "accounts" }

func (a *Accounts) Setup(w *sim.World) sim.Plan {
	r := w.Rand()
	strict := drawStrict(w)
	// A liveness phase of 4 s failed seeds 35, 41 and 130: after a power loss, clients take
	// the keepalive's 3 s to notice their half-open connection before they dial again.
	plan := sim.Plan{Faults: 5 * time.Second, Liveness: 7 * time.Second}
	a.spec = drawAccSpec(r)
	a.chk = newAccChecker(w, strict, a.spec)
	w.AddNode("s1", sim.NodeConfig{Crashable: !strict}, accServer(a.spec))
	n := len(a.spec.accounts)
	for i := range n + 1 + r.Intn(2) {
		acc := a.spec.accounts[i%n]
		if i >= n {
			acc = a.spec.accounts[r.Intn(n)]
		}
		st := a.drawClient(r, i, acc, i < n)
		a.clients = append(a.clients, st)
		end := plan.Faults + plan.Liveness - accPublishEnd
		w.AddNode(st.name, sim.NodeConfig{}, func(e *env.Env) { newAccPeer(e, st, a.chk, end).start() })
	}
	w.At(plan.Faults, func() {
		for _, st := range a.clients {
			st.receivedAt = st.received
		}
	})
	return plan
}

// drawClient: every client hears its own account's loc.* (so it always hears something),
// a few patterns of this and other accounts' spaces, and some of its imports' subjects (the
// first client of an account all of its forbidden ones, where a server that let one in
// would deliver). The first client of an account answers its services, others maybe too.
func (a *Accounts) drawClient(r env.Rand, i int, acc *accAccount, first bool) *accClientState {
	st := &accClientState{idx: i, name: fmt.Sprintf("c%d", i+1), account: acc.name, patterns: []string{"loc.*"}}
	universe := []string{"loc.a", "ev.>", "ev." + acc.name + ".*", "ev." + acc.name + ".>", "ev.*.a", "m.>", "m.dst", "mwd.*.*", "mx.*", "mx", "rq.>"}
	other := a.spec.accounts[(acc.index+1+r.Intn(len(a.spec.accounts)-1))%len(a.spec.accounts)].name
	for _, o := range a.spec.accounts {
		if o != acc {
			universe = append(universe, "ev."+o.name+".a", "p"+o.name+".>", "t"+o.name+".>", "t"+o.name+".*")
		}
	}
	for range 2 + r.Intn(3) {
		st.addPattern(universe[r.Intn(len(universe))])
	}
	for _, im := range acc.imports {
		if !im.service && (r.Intn(2) == 0 || im.forbidden && first) {
			st.addPattern(im.local())
		}
	}
	st.subjects = []string{"loc.a", "loc.b", "ev." + acc.name + ".a", "ev." + acc.name + ".b", "ev." + acc.name + ".c.d",
		"m.lit", "mw.p.q", "mx", "m.ev", "ev." + other + ".a", "p" + other + ".ev." + other + ".a"}
	for _, im := range acc.imports {
		if im.service {
			st.requests = append(st.requests, im.local())
		}
	}
	if first || r.Intn(2) == 0 {
		for _, ex := range acc.exports {
			if ex.service {
				st.services = append(st.services, ex)
			}
		}
	}
	return st
}

func (st *accClientState) addPattern(p string) {
	for _, have := range st.patterns {
		if have == p {
			return
		}
	}
	st.patterns = append(st.patterns, p)
}

func (a *Accounts) Check(w *sim.World) error {
	if err := a.chk.final(); err != nil {
		return fmt.Errorf("%w\nconfiguration:\n%s", err, a.spec)
	}
	for _, st := range a.clients {
		if got := st.received - st.receivedAt; got < accLiveMessages {
			return fmt.Errorf("accounts: client %s received %d messages after faults stopped, want >= %d", st.name, got, accLiveMessages)
		}
	}
	return nil
}

// accServer is the server program. A configuration with a forbidden import must be refused
// (the export does not admit the importer); the server then starts without it. The checker
// never models a forbidden import, so a server that took one is caught by what it delivers.
func accServer(spec *accSpec) func(*env.Env) {
	return func(e *env.Env) {
		opts := core.Options{Port: natsPort, ServerName: e.Name, PingInterval: time.Second, MaxPingsOut: 2,
			Auth: auth.Config{Users: spec.users()}, Accounts: spec.engineConfigs(true)}
		s, err := core.New(opts, e)
		if err != nil && spec.hasForbidden() {
			e.Probe.Hit("accounts.workload.import-refused")
			opts.Accounts = spec.engineConfigs(false)
			s, err = core.New(opts, e)
		}
		env.Assertf(err == nil, "accounts server: %v\n%s", err, spec)
		env.Assertf(s.Start() == nil, "accounts server: start failed")
	}
}

// accPeer is one client incarnation.
type accPeer struct {
	e     *env.Env
	ex    env.Executor
	st    *accClientState
	chk   *accChecker
	end   time.Duration
	nc    *natsConn
	inbox string // this connection's reply prefix
	inKey natsSubKey
	ready bool // subscriptions confirmed: requests may go out
	nreq  int
}

func newAccPeer(e *env.Env, st *accClientState, chk *accChecker, end time.Duration) *accPeer {
	p := &accPeer{e: e, st: st, chk: chk, end: end}
	opts := natsclient.Options{Name: st.name, User: accUser(st.account), Pass: "p" + st.account}
	p.nc = &natsConn{e: e, ex: e.Exec.New("client"), addr: fmt.Sprintf("s1:%d", natsPort), opts: opts,
		up: p.up, down: func() { chk.connLost(st.idx, st.gen) }}
	p.ex = p.nc.ex
	return p
}

func (p *accPeer) start() { p.nc.start() }

func (p *accPeer) up(c *natsclient.Client) {
	p.st.gen++
	p.ready = false
	c.OnUnknown = func(m *natsclient.Msg) {
		env.Assertf(false, "accounts: message on %s for unknown sid %s", m.Subject, m.Sid)
	}
	gen := p.st.gen
	var keys []natsSubKey
	sub := func(pattern string, handler func(natsSubKey, *natsclient.Msg)) natsSubKey {
		var key natsSubKey
		s := c.Subscribe(pattern, "", func(m *natsclient.Msg) { p.st.received++; handler(key, m) })
		key = natsSubKey{client: p.st.idx, gen: gen, sid: s.Sid}
		p.chk.subscribed(key, p.st.account, pattern)
		keys = append(keys, key)
		return key
	}
	for _, pattern := range p.st.patterns {
		sub(pattern, func(k natsSubKey, m *natsclient.Msg) { p.chk.delivered(k, m) })
	}
	for _, svc := range p.st.services {
		sub(svc.subject, func(k natsSubKey, m *natsclient.Msg) { p.respond(c, svc, p.chk.delivered(k, m), m) })
	}
	p.inbox = fmt.Sprintf("_INBOX.%s.%d.", p.st.name, gen)
	p.inKey = sub(p.inbox+"*", func(k natsSubKey, m *natsclient.Msg) {
		if m.Status() == "503" {
			p.chk.noResponders(k, m.Subject)
			return
		}
		p.chk.delivered(k, m)
	})
	c.Flush(func() {
		p.chk.confirmed(keys)
		p.ready = true
	})
	p.e.Clock.AfterFunc(time.Millisecond, p.ex, func() { p.publish(c) })
}

// respond answers a request twice (a singleton service) or two or three times (a stream).
func (p *accPeer) respond(c *natsclient.Client, svc accExport, pub *accPub, m *natsclient.Msg) {
	req := p.chk.served(p.st.account, m, pub)
	if req == nil || c.Closed() {
		return
	}
	n := 2
	if !svc.singleton {
		n += p.e.Rand.Intn(2)
	}
	for range n {
		p.send(c, &accPub{subject: m.Reply, response: true, req: req.key}, "")
	}
}

// publish sends a message or two (now and then a request), then schedules itself again.
func (p *accPeer) publish(c *natsclient.Client) {
	if c.Closed() || p.chk.now() >= p.end {
		return
	}
	for range 1 + p.e.Rand.Intn(2) {
		if p.ready && p.e.Rand.Intn(4) == 0 && p.request(c) {
			continue
		}
		p.send(c, &accPub{subject: p.st.subjects[p.e.Rand.Intn(len(p.st.subjects))]}, "")
	}
	p.e.Clock.AfterFunc(time.Duration(10+p.e.Rand.Intn(40))*time.Millisecond, p.ex, func() { p.publish(c) })
}

// request asks one of the services the account imports, on the import's local subject.
func (p *accPeer) request(c *natsclient.Client) bool {
	if len(p.st.requests) == 0 {
		return false
	}
	p.nreq++
	reply := p.inbox + fmt.Sprint(p.nreq)
	p.send(c, &accPub{subject: p.st.requests[p.e.Rand.Intn(len(p.st.requests))], reply: reply, inbox: p.inKey}, reply)
	return true
}

func (p *accPeer) send(c *natsclient.Client, pub *accPub, reply string) {
	p.st.seq++
	pub.key = natsMsgKey{client: p.st.idx, gen: p.st.gen, seq: p.st.seq}
	pub.account = p.st.account
	p.chk.published(pub)
	c.Publish(pub.subject, reply, nil, encodeAccMsg(pub.key, pub.account, pub.subject, p.e.Rand))
}
