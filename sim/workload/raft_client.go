package workload

import (
	"fmt"
	"strings"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// kvClient is one client program of the raft workload: one operation at a time, to the
// member it believes leads (following redirects), giving up on an operation after
// raftClientTimeout (its outcome is then unknown, and recorded so).
type kvClient struct {
	e      *env.Env
	wl     *Raft
	idx    int
	rd     *redialer
	conn   env.Conn
	line   lineBuffer
	seq    int
	op     *kvOp
	timer  env.Timer
	pacing env.Timer
	target string // member to dial next (a redirect's); "" picks one at random
}

// kvOp is an operation in flight.
type kvOp struct {
	id         string
	kind       byte // 'p' put, 'g' get, 'c' cas
	key        string
	value, old string
	call       time.Duration
}

const (
	raftClientTimeout = time.Second
	raftKeys          = 4
)

func startKVClient(e *env.Env, wl *Raft, idx int) {
	c := &kvClient{e: e, wl: wl, idx: idx}
	wl.clients = append(wl.clients, c)
	c.rd = newRedialer(e, c.pick, c)
	c.rd.start()
}

// pick chooses whom to dial: where the last redirect pointed, else anyone.
func (c *kvClient) pick() string {
	name := c.target
	c.target = ""
	for name == "" || c.idx != 0 && name == c.wl.cutReader {
		// While client 0 reads at a leader cut from its peers, the others write through the
		// rest of the group (a redirect to the cut leader would only hang).
		name = c.wl.names[c.e.Rand.Intn(len(c.wl.names))]
	}
	return fmt.Sprintf("%s:%d", name, raftClientPort)
}

func (c *kvClient) up(conn env.Conn) {
	c.conn, c.line = conn, lineBuffer{}
	c.next()
}

func (c *kvClient) down(error) {
	c.conn = nil
	c.giveUp()
	if c.pacing != nil {
		c.pacing.Stop()
	}
}

// giveUp ends the outstanding operation with an unknown outcome.
func (c *kvClient) giveUp() {
	if c.op == nil {
		return
	}
	c.timer.Stop()
	c.wl.hist.unknown(c.idx, c.op)
	c.op = nil
}

func (c *kvClient) next() {
	if c.conn == nil || c.op != nil {
		return
	}
	c.seq++
	r := c.e.Rand
	op := &kvOp{id: fmt.Sprintf("%s-%d", c.e.Name, c.seq), key: fmt.Sprintf("k%d", r.Intn(raftKeys)), call: c.wl.w.Now()}
	var line string
	k := r.Intn(10)
	if c.idx == 0 && c.wl.cutReader != "" {
		k = 5 // the pinned reader (see Raft.pinReader) only reads
	}
	switch {
	case k < 4:
		op.kind, op.value = 'p', op.id
		line = fmt.Sprintf("PUT %s %s %s", op.id, op.key, op.value)
	case k < 8:
		op.kind = 'g'
		line = fmt.Sprintf("GET %s %s", op.id, op.key)
	default:
		op.kind, op.value, op.old = 'c', op.id, c.wl.hist.guess(op.key, r)
		line = fmt.Sprintf("CAS %s %s %s %s", op.id, op.key, op.old, op.value)
	}
	if c.conn.Write([]byte(line+"\n")) != nil {
		return // the connection is ending; down follows
	}
	c.op = op
	c.timer = c.e.Clock.AfterFunc(raftClientTimeout, c.rd.ex, func() {
		c.giveUp()
		c.rd.drop()
	})
}

func (c *kvClient) data(p []byte) {
	c.line.feed(p, func(line string) {
		f := strings.Fields(line)
		env.Assertf(len(f) >= 2, "raft client %s: malformed reply %q", c.e.Name, line)
		if c.op == nil || f[1] != c.op.id {
			return // an answer to an operation we gave up on
		}
		op := c.op
		c.op = nil
		c.timer.Stop()
		now := c.wl.w.Now()
		switch f[0] {
		case "OK":
			c.wl.hist.done(c.idx, op, now, kvResult{ok: true})
		case "FAIL":
			c.wl.hist.done(c.idx, op, now, kvResult{value: f[2]})
		case "VAL":
			c.wl.hist.done(c.idx, op, now, kvResult{ok: true, value: f[2]})
		case "UNKNOWN":
			c.wl.hist.unknown(c.idx, op)
		case "REDIRECT":
			// Not applied. Go where the member points (or anywhere).
			if f[2] != "?" {
				c.target = f[2]
			}
			c.rd.drop()
			return
		case "ERR":
			// Definitely not applied: nothing to record.
		default:
			env.Assertf(false, "raft client %s: unexpected reply %q", c.e.Name, line)
		}
		gap := time.Duration(5+c.e.Rand.Intn(30)) * time.Millisecond
		c.pacing = c.e.Clock.AfterFunc(gap, c.rd.ex, c.next)
	})
}
