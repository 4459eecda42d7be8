package consumer

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/sim"
)

const fileDir = "data/consumers/c1"

// fileHarness runs state files on one crashable simulated node.
type fileHarness struct {
	t             *testing.T
	w             *sim.World
	n             *sim.Node
	e             *env.Env
	owner, syncEx env.Executor
	creates       int // state.tmp creations: one per write
}

func newFileHarness(t *testing.T, seed uint64) *fileHarness {
	quiet := sim.Quiet()
	h := &fileHarness{t: t, w: sim.NewWorld(seed, sim.Options{Profile: &quiet})}
	h.n = h.w.AddNode("n1", sim.NodeConfig{Crashable: true}, func(e *env.Env) {
		e.FS = &createCounter{FS: e.FS, n: &h.creates}
		h.e, h.owner, h.syncEx = e, e.Exec.New("consumer"), e.Exec.New("consumer sync")
	})
	return h
}

type createCounter struct {
	env.FS
	n *int
}

func (c *createCounter) Create(name string) (env.File, error) { *c.n++; return c.FS.Create(name) }

func (h *fileHarness) open() (*File, State, error) {
	return OpenFile(h.e.FS, fileDir, h.syncEx, h.owner)
}

func (h *fileHarness) mustOpen() (*File, State) {
	h.t.Helper()
	f, st, err := h.open()
	if err != nil {
		h.t.Fatalf("open: %v", err)
	}
	return f, st
}

func (h *fileHarness) advance(d time.Duration) { h.w.RunUntil(h.w.Now() + d) }
func (h *fileHarness) settle()                 { h.advance(100 * time.Millisecond) }

// fileState is the i-th state a test saves: its ack floor is i, and for i > 0 it spans
// more than one disk sector, so a torn write would show.
func fileState(i uint64) State {
	if i == 0 {
		return State{}
	}
	const n = 200
	st := State{Delivered: SeqPair{i + n, i + n}, AckFloor: SeqPair{i, i}, Pending: map[uint64]Pending{}}
	for s := i + 1; s <= i+n; s++ {
		st.Pending[s] = Pending{Consumer: s, Time: int64(i)}
	}
	return st
}

// durableIndex decodes what a power loss right now is sure to keep.
func (h *fileHarness) durableIndex() (uint64, error) {
	b, err := h.n.Disk.ReadDurable(fileDir + "/" + StateFile)
	if env.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	st, err := Decode(b)
	return st.AckFloor.Stream, err
}

// save posts a Save of state i to the owner; done checks, when it runs, that state i (or a
// newer one) is already durable, and records i in acked.
func (h *fileHarness) save(f *File, i uint64, acked *uint64) {
	b := fileState(i).Encode()
	h.owner.Post(func() {
		f.Save(b, func(err error) {
			if err != nil {
				h.t.Errorf("save %d: %v", i, err)
				return
			}
			if d, err := h.durableIndex(); err != nil || d < i {
				h.t.Errorf("save %d acknowledged with durable state %d (%v)", i, d, err)
			}
			*acked = max(*acked, i)
		})
	})
}

func TestFileMissingIsEmptyAndSaveSurvives(t *testing.T) {
	h := newFileHarness(t, 1)
	f, st := h.mustOpen()
	if !st.Equal(State{}) {
		t.Fatalf("fresh directory: %+v", st)
	}
	var acked uint64
	h.save(f, 3, &acked)
	h.settle()
	if acked != 3 {
		t.Fatalf("acked %d", acked)
	}
	h.n.Crash(true)
	h.n.Restart()
	if _, st = h.mustOpen(); !st.Equal(fileState(3)) {
		t.Fatalf("after power loss: %+v", st.AckFloor)
	}
}

// TestFileCoalesces: Saves during a write wait for one later write of the newest state.
func TestFileCoalesces(t *testing.T) {
	h := newFileHarness(t, 2)
	f, _ := h.mustOpen()
	var acked uint64
	for i := uint64(1); i <= 10; i++ {
		h.save(f, i, &acked)
	}
	h.settle()
	if acked != 10 || h.creates != 2 {
		t.Fatalf("acked %d with %d writes, want 10 with 2 (the first, then the newest)", acked, h.creates)
	}
	if _, st := h.mustOpen(); !st.Equal(fileState(10)) {
		t.Fatalf("reopened at %+v", st.AckFloor)
	}
}

func TestFileDamageIsReported(t *testing.T) {
	cases := []struct {
		name   string
		damage func(h *fileHarness)
	}{
		{"bit flip", func(h *fileHarness) { h.n.Disk.FlipBitAt(fileDir+"/"+StateFile, 100, 3) }},
		{"truncated", func(h *fileHarness) {
			f, err := h.e.FS.OpenRW(fileDir + "/" + StateFile)
			if err == nil {
				err = f.Truncate(50)
			}
			if err != nil {
				h.t.Fatal(err)
			}
		}},
		{"empty", func(h *fileHarness) {
			if _, err := h.e.FS.Create(fileDir + "/" + StateFile); err != nil {
				h.t.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newFileHarness(t, 3)
			f, _ := h.mustOpen()
			var acked uint64
			h.save(f, 5, &acked)
			h.settle()
			tc.damage(h)
			if _, _, err := h.open(); !errors.Is(err, ErrDamaged) {
				t.Fatalf("open of a damaged state: %v", err)
			}
		})
	}
}

// flipOnce flips one bit of the first read through it: rot in transit, not at rest.
type flipOnce struct {
	env.FS
	done *bool
}

func (f flipOnce) Open(name string) (env.File, error) {
	file, err := f.FS.Open(name)
	return flipOnceFile{File: file, done: f.done}, err
}

type flipOnceFile struct {
	env.File
	done *bool
}

func (f flipOnceFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.File.ReadAt(p, off)
	if !*f.done && n > 0 {
		*f.done = true
		p[n/2] ^= 4
	}
	return n, err
}

// A state read with a bit flipped in transit is read again and opens whole.
func TestFileFlipInTransitReadAgain(t *testing.T) {
	h := newFileHarness(t, 3)
	f, _ := h.mustOpen()
	var acked uint64
	h.save(f, 5, &acked)
	h.settle()
	flipped := false
	_, st, err := OpenFile(flipOnce{FS: h.e.FS, done: &flipped}, fileDir, h.syncEx, h.owner)
	if err != nil || !flipped || !reflect.DeepEqual(st, fileState(5)) {
		t.Fatalf("open after a flip in transit: flipped=%v err=%v state=%+v", flipped, err, st)
	}
}

func TestFileWriteFailure(t *testing.T) {
	h := newFileHarness(t, 4)
	f, _ := h.mustOpen()
	var acked uint64
	h.save(f, 1, &acked)
	h.settle()
	h.n.Disk.FailNext("write", env.ErrNoSpace)
	var got error
	h.owner.Post(func() { f.Save(fileState(2).Encode(), func(err error) { got = err }) })
	h.settle()
	if !errors.Is(got, env.ErrNoSpace) {
		t.Fatalf("save during ENOSPC: %v", got)
	}
	if _, st := h.mustOpen(); !st.Equal(fileState(1)) {
		t.Fatalf("a failed write replaced the state: %+v", st.AckFloor)
	}
	h.save(f, 3, &acked)
	h.settle()
	if _, st := h.mustOpen(); acked != 3 || !st.Equal(fileState(3)) {
		t.Fatalf("after the failure: acked %d, state %+v", acked, st.AckFloor)
	}
}

func TestFileSyncFailureHalts(t *testing.T) {
	for _, op := range []string{"sync", "syncdir"} {
		t.Run(op, func(t *testing.T) {
			h := newFileHarness(t, 5)
			f, _ := h.mustOpen()
			h.n.Disk.FailNext(op, env.ErrIO)
			called := false
			h.owner.Post(func() { f.Save(fileState(1).Encode(), func(error) { called = true }) })
			h.settle()
			if called || h.n.Up() {
				t.Fatalf("after a failed %s: done ran %v, node up %v", op, called, h.n.Up())
			}
		})
	}
}

func TestFileSaveAfterClose(t *testing.T) {
	h := newFileHarness(t, 6)
	f, _ := h.mustOpen()
	var acked uint64
	var got error
	h.save(f, 1, &acked) // accepted before Close: still written
	h.owner.Post(func() {
		if err := f.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		f.Save(fileState(2).Encode(), func(err error) { got = err })
	})
	h.settle()
	if acked != 1 || !errors.Is(got, ErrClosed) {
		t.Fatalf("acked %d, save after close: %v", acked, got)
	}
}

// TestFileCrash saves a stream of states and crashes the node (power loss or process crash)
// at drawn moments: after every restart the state read back is one that was saved (never
// torn: Decode would fail), never older than the newest Save whose done ran.
func TestFileCrash(t *testing.T) {
	for seed := uint64(1); seed <= 40; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { crashRun(t, seed) })
	}
}

func crashRun(t *testing.T, seed uint64) {
	h := newFileHarness(t, seed)
	r := env.NewPRNG(seed)
	var next, acked uint64
	for round := 0; round < 8; round++ {
		f, st, err := h.open()
		if err != nil {
			t.Fatalf("round %d: open: %v", round, err)
		}
		got := st.AckFloor.Stream
		if !st.Equal(fileState(got)) || got < acked || got > next {
			t.Fatalf("round %d: read state %d (saved up to %d, acknowledged %d)", round, got, next, acked)
		}
		// States are numbered in the order their Saves run; a Save scheduled for a round
		// that a crash ended never runs.
		for i := r.Intn(20); i > 0; i-- {
			at := time.Duration(r.Intn(int(20 * time.Millisecond)))
			h.w.After(at, func() {
				if h.n.Boots() == round+1 {
					next++
					h.save(f, next, &acked)
				}
			})
		}
		h.advance(time.Duration(r.Intn(int(25 * time.Millisecond))))
		h.n.Crash(r.Intn(2) == 0)
		h.n.Restart()
	}
}
