package workload

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/sim/natsclient"
)

// jsPeer is one client incarnation: a connection kept up by natsConn, a reply inbox, and
// one role (publisher, consumer, KV client) doing one operation at a time.
type jsPeer struct {
	e     *env.Env
	ex    env.Executor
	j     *JetStream
	st    *jsClientState
	end   time.Duration
	nc    *natsConn
	c     *natsclient.Client // nil while disconnected
	gen   int
	inbox string
	nreq  int
	waits map[string]*jsWait
	role  jsRole
	// ready: the role's streams (and consumer) exist as far as this connection knows.
	ready bool
	busy  bool // an operation is in flight
}

// jsRole is what a client does once connected.
type jsRole interface {
	// setup creates what the role needs (streams, the consumer) and calls done(true) once
	// they exist, done(false) to try again later.
	setup(p *jsPeer, done func(bool))
	// step starts one operation and calls done when it is over (answered or given up).
	step(p *jsPeer, done func())
}

// jsWait is a request waiting for its answer (or, with multi, a pull's deliveries).
type jsWait struct {
	boot    int // the server's boot when it was sent (0: down)
	sub     *natsclient.Sub
	handler func(m *natsclient.Msg, boot int) // m nil: no answer (timeout, connection lost)
	timer   env.Timer
	multi   bool
}

func newJSPeer(e *env.Env, j *JetStream, st *jsClientState, end time.Duration) *jsPeer {
	p := &jsPeer{e: e, j: j, st: st, end: end}
	p.nc = &natsConn{e: e, ex: e.Exec.New("client"), addr: fmt.Sprintf("s1:%d", jsPort),
		opts: natsclient.Options{Name: st.name}, up: p.up, down: p.down}
	p.ex = p.nc.ex
	switch st.role {
	case "pub":
		p.role = j.chk.publisher(st.idx)
	case "cons":
		p.role = j.chk.consumer(st.idx)
	case "batch":
		p.role = &jsBatcher{b: j.batches, idx: st.idx}
	default:
		p.role = newJSKVClient(j.kv, st.idx)
	}
	return p
}

func (p *jsPeer) start() { p.nc.start() }

func (p *jsPeer) up(c *natsclient.Client) {
	p.c, p.ready, p.busy = c, false, false
	p.gen++
	p.inbox = fmt.Sprintf("_INBOX.%s.%d.", p.st.name, p.gen)
	p.waits = map[string]*jsWait{}
	c.Subscribe(p.inbox+"*", "", p.answer)
	p.e.Clock.AfterFunc(time.Millisecond, p.ex, p.next)
}

// down fails every request of the lost connection.
func (p *jsPeer) down() {
	p.c = nil
	waits := p.waits
	p.waits = nil
	for _, k := range env.SortedKeys(waits) {
		w := waits[k]
		w.timer.Stop()
		w.handler(nil, 0)
	}
}

// next runs the role: setup until it succeeds, then one operation after another, with a
// short pause between.
func (p *jsPeer) next() {
	if p.c == nil || p.c.Closed() || p.busy || p.j.chk.now() >= p.end {
		return
	}
	c := p.c
	p.busy = true
	again := func() {
		if p.c != c {
			return
		}
		p.busy = false
		p.e.Clock.AfterFunc(time.Duration(2+p.e.Rand.Intn(20))*time.Millisecond, p.ex, p.next)
	}
	if !p.ready {
		p.role.setup(p, func(ok bool) {
			p.ready = ok
			if !ok && p.c == c {
				p.busy = false
				p.e.Clock.AfterFunc(time.Duration(100+p.e.Rand.Intn(200))*time.Millisecond, p.ex, p.next)
				return
			}
			again()
		})
		return
	}
	p.role.step(p, func() {
		p.st.done++
		again()
	})
}

// request publishes to subj with a reply inbox of its own and hands the answer (or nil after
// timeout or a lost connection) to handler, with the server's boot at the answer.
func (p *jsPeer) request(subj string, hdr, data []byte, timeout time.Duration, handler func(*natsclient.Msg, int)) {
	p.subscribeReply(timeout, false, handler, func(reply string) { p.c.Publish(subj, reply, hdr, data) })
}

// subscribeReply registers a reply subject and sends the request through send. A multi
// wait (a pull) gets a subscription of its own: deliveries show the stored message's
// subject, not the reply subject, so only the subscription tells them apart.
func (p *jsPeer) subscribeReply(timeout time.Duration, multi bool, handler func(*natsclient.Msg, int), send func(reply string)) string {
	if p.c == nil || p.c.Closed() {
		handler(nil, 0)
		return ""
	}
	p.nreq++
	reply := p.inbox + fmt.Sprint(p.nreq)
	w := &jsWait{boot: p.j.chk.boot(), handler: handler, multi: multi}
	if multi {
		reply = fmt.Sprintf("_PULL.%s.%d.%d", p.st.name, p.gen, p.nreq)
		w.sub = p.c.Subscribe(reply, "", func(m *natsclient.Msg) { p.deliver(reply, m) })
	}
	waits, c := p.waits, p.c
	w.timer = p.e.Clock.AfterFunc(timeout, p.ex, func() {
		if waits[reply] == w {
			delete(waits, reply)
			if w.sub != nil && !c.Closed() {
				c.Unsubscribe(w.sub, 0)
			}
			handler(nil, 0)
		}
	})
	waits[reply] = w
	send(reply)
	return reply
}

// finish ends a multi-answer wait (a pull) early.
func (p *jsPeer) finish(reply string) {
	if w := p.waits[reply]; w != nil {
		delete(p.waits, reply)
		w.timer.Stop()
		if w.sub != nil && p.c != nil && !p.c.Closed() {
			p.c.Unsubscribe(w.sub, 0)
		}
	}
}

func (p *jsPeer) answer(m *natsclient.Msg) { p.deliver(m.Subject, m) }

// deliver hands an answer on reply to its wait.
func (p *jsPeer) deliver(reply string, m *natsclient.Msg) {
	w := p.waits[reply]
	if w == nil {
		return // answered after its timeout
	}
	if !w.multi {
		delete(p.waits, reply)
		w.timer.Stop()
	}
	// The answer came from the boot that was up when it was sent only if the server has
	// not restarted since: then (and only then) the answer and the send share a boot.
	boot := 0
	if now := p.j.chk.boot(); now == w.boot {
		boot = now
	}
	w.handler(m, boot)
}

// apiRequest sends a $JS.API request and decodes its JSON answer into out; handler gets
// whether an answer came, and its error if it carried one.
func (p *jsPeer) apiRequest(subj string, body []byte, out any, handler func(ok bool, e *jsapi.Error, boot int)) {
	p.request(subj, nil, body, jsReqTimeout, func(m *natsclient.Msg, boot int) {
		if m == nil || m.Status() != "" {
			handler(false, nil, 0)
			return
		}
		var r jsapi.Response
		err := json.Unmarshal(m.Data, &r)
		env.Assertf(err == nil, "jetstream: answer to %s is not JSON: %v: %q", subj, err, m.Data)
		if out != nil {
			err = json.Unmarshal(m.Data, out)
			env.Assertf(err == nil, "jetstream: answer to %s does not decode as %T: %v: %q", subj, out, err, m.Data)
		}
		handler(true, r.Error, boot)
	})
}

// createStream asks for a stream; done(true) when it exists with that configuration.
func (p *jsPeer) createStream(name string, cfg []byte, done func(bool)) {
	p.apiRequest(jsapi.Prefix+"STREAM.CREATE."+name, cfg, nil, func(ok bool, e *jsapi.Error, _ int) {
		if ok && e != nil {
			p.e.Probe.Hit("jetstream.workload.create-refused")
			p.e.Log.Logf(env.LevelInfo, "jetstream workload: create %s refused: %d %s", name, e.ErrCode, e.Description)
		}
		done(ok && e == nil)
	})
}
