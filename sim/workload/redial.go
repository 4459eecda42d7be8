package workload

import (
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// redialer keeps one connection to a server open for a client program: it dials, hands the
// connection to the client, and dials again (after a backoff) whenever the connection ends.
// It runs entirely on one executor.
type redialer struct {
	e       *env.Env
	ex      env.Executor
	pick    func() string // the address to dial next
	backoff time.Duration
	client  session
	conn    env.Conn
	gen     int // bumped per connection so stale events are ignored
}

// session is what a client does with a connection.
type session interface {
	// up is called with a fresh connection.
	up(c env.Conn)
	// data delivers bytes of the current connection.
	data(p []byte)
	// down is called when the current connection ends.
	down(err error)
}

const dialTimeout = 2 * time.Second

func newRedialer(e *env.Env, pick func() string, s session) *redialer {
	return &redialer{e: e, ex: e.Exec.New("client"), pick: pick, backoff: 50 * time.Millisecond, client: s}
}

func (r *redialer) start() { r.ex.Post(r.dial) }

func (r *redialer) dial() {
	r.e.Net.Dial(r.pick(), dialTimeout, r.ex, func(c env.Conn, err error) {
		if err != nil {
			r.retry()
			return
		}
		r.gen++
		r.conn = c
		c.Start(r.ex, &redialHandler{r: r, gen: r.gen})
		r.client.up(c)
	})
}

func (r *redialer) retry() {
	r.e.Clock.AfterFunc(r.backoff+time.Duration(r.e.Rand.Intn(int(r.backoff))), r.ex, r.dial)
}

// drop abandons the current connection (a client-side timeout) and reconnects.
func (r *redialer) drop() {
	if r.conn == nil {
		return
	}
	r.conn.Abort()
	r.conn = nil
	r.gen++
	r.client.down(env.ErrTimeout)
	r.retry()
}

type redialHandler struct {
	r   *redialer
	gen int
}

func (h *redialHandler) OnData(p []byte) {
	if h.gen == h.r.gen {
		h.r.client.data(p)
	}
}

func (h *redialHandler) OnClose(err error) {
	if h.gen != h.r.gen {
		return
	}
	h.r.conn = nil
	h.r.gen++
	h.r.client.down(err)
	h.r.retry()
}
