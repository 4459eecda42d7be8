package filestore

import (
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/sim"
)

// harness runs stores on one simulated node, so tests can crash it (power loss or process
// crash) and reopen on the same simulated disk.
type harness struct {
	t   tb
	w   *sim.World
	n   *sim.Node
	e   *env.Env
	ex  env.Executor
	cfg Config
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
