package filestore

import (
	"strings"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/sim"
)

// harness runs stores on one simulated node, so tests can crash it (power loss or process
// crash) and reopen on the same simulated disk.
type harness struct {
	t    tb
	w    *sim.World
	n    *sim.Node
	e    *env.Env
	ex   env.Executor
	cfg  Config
	gate *syncGate // the current incarnation's
}

// tb is what the harness needs of *testing.T and *rapid.T.
type tb interface {
	Helper()
	Fatalf(format string, args ...any)
}

func newHarness(t tb, seed uint64, cfg Config) *harness {
	t.Helper()
	quiet := sim.Quiet()
	h := &harness{t: t, w: sim.NewWorld(seed, sim.Options{Profile: &quiet}), cfg: cfg}
	if h.cfg.Dir == "" {
		h.cfg.Dir = "data/stream"
	}
	h.n = h.w.AddNode("n1", sim.NodeConfig{Crashable: true}, func(e *env.Env) {
		h.gate = &syncGate{Executors: e.Exec}
		e.Exec = h.gate
		h.e, h.ex = e, e.Exec.New("store")
	})
	return h
}

func (h *harness) config() Config {
	cfg := h.cfg
	cfg.Executor = h.ex
	return cfg
}

// openFile opens the file store, failing the test on error.
func (h *harness) openFile() Store {
	h.t.Helper()
	st, err := OpenFile(h.e, h.config())
	if err != nil {
		h.t.Fatalf("open: %v", err)
	}
	return st
}

func (h *harness) openMem() Store {
	h.t.Helper()
	st, err := NewMemory(h.e, h.config())
	if err != nil {
		h.t.Fatalf("new memory store: %v", err)
	}
	return st
}

// settle runs the simulation long enough for posted commits and completions to run,
// including a commit's wait for the rest of its group (commitGatherWait).
func (h *harness) settle() { h.advance(time.Millisecond) }

func (h *harness) advance(d time.Duration) { h.w.RunUntil(h.w.Now() + d) }

// crash crashes the node and boots it again (a fresh Env, the same disk).
func (h *harness) crash(machine bool) {
	h.n.Crash(machine)
	h.n.Restart()
}

// store stores one message and waits for its completion.
func (h *harness) store(st Store, subject, data string, opts StoreOpts) (env.Seq, error) {
	h.t.Helper()
	var seq env.Seq
	var err error
	called := false
	st.Store(subject, nil, []byte(data), opts, func(s env.Seq, e error) { seq, err, called = s, e, true })
	if called {
		h.t.Fatalf("done ran inside Store")
	}
	h.settle()
	if !called {
		h.t.Fatalf("done never ran")
	}
	return seq, err
}

func (h *harness) mustStore(st Store, subject, data string) env.Seq {
	h.t.Helper()
	seq, err := h.store(st, subject, data, StoreOpts{})
	if err != nil {
		h.t.Fatalf("store %s: %v", subject, err)
	}
	return seq
}

// wait runs until done has been called and returns its error.
func (h *harness) waitDone(call func(done func(error)) error) error {
	h.t.Helper()
	var got error
	called := false
	if err := call(func(e error) { got, called = e, true }); err != nil {
		return err
	}
	h.settle()
	if !called {
		h.t.Fatalf("done never ran")
	}
	return got
}

func envSeq(i int) env.Seq { return env.Seq(i) }

// syncGate wraps a node's executors so a test can hold the stores' sync executors: while
// held, what is posted to them waits in the gate instead of running, so a sync stays in
// flight for as long as the test likes while the store keeps working. A crash drops the gate
// with the incarnation, and with it the held syncs, which never ran.
type syncGate struct {
	env.Executors
	held   bool
	queue  []func()
	posted int // functions posted to sync executors, held or not
}

func (g *syncGate) New(name string) env.Executor {
	ex := g.Executors.New(name)
	if !strings.HasSuffix(name, " sync") {
		return ex
	}
	return &gatedExecutor{g: g, ex: ex}
}

// release lets the oldest held function run (at the next scheduler turn) and reports
// whether there was one.
func (g *syncGate) release() bool {
	if len(g.queue) == 0 {
		return false
	}
	fn := g.queue[0]
	g.queue = g.queue[1:]
	fn()
	return true
}

// open stops holding and lets everything held run.
func (g *syncGate) open() {
	g.held = false
	for g.release() {
	}
}

type gatedExecutor struct {
	g  *syncGate
	ex env.Executor
}

func (x *gatedExecutor) Post(fn func()) {
	x.g.posted++
	if x.g.held {
		x.g.queue = append(x.g.queue, func() { x.ex.Post(fn) })
		return
	}
	x.ex.Post(fn)
}
