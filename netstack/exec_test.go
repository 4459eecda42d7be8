package netstack

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// Concurrent posters each see their functions run in their posting order, and no two
// functions of the executor ever run at once (the race detector also checks the unlocked
// slice writes below).
func TestExecutorOrderAndNoOverlap(t *testing.T) {
	e, _ := newTestEnv(t)
	ex := e.Exec.New("serial")
	const posters, perPoster = 8, 2000
	seen := make([][]int, posters) // written only on ex
	var active atomic.Int32
	var overlaps atomic.Int32
	var wg sync.WaitGroup
	for g := range posters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perPoster {
				ex.Post(func() {
					if active.Add(1) != 1 {
						overlaps.Add(1)
					}
					seen[g] = append(seen[g], i)
					active.Add(-1)
				})
			}
		}()
	}
	wg.Wait()
	runOn(t, ex, func() {})
	if n := overlaps.Load(); n != 0 {
		t.Fatalf("%d functions overlapped", n)
	}
	for g, got := range seen {
		if len(got) != perPoster {
			t.Fatalf("poster %d: %d functions ran, want %d", g, len(got), perPoster)
		}
		for i, v := range got {
			if v != i {
				t.Fatalf("poster %d: function %d ran at position %d", g, v, i)
			}
		}
	}
}

// A Post from a function running on the same executor only queues: the posted function runs
// after the poster returns, never inside its Post call.
func TestExecutorSelfPostRunsLater(t *testing.T) {
	e, _ := newTestEnv(t)
	ex := e.Exec.New("self")
	var order []string // touched only on ex
	done := make(chan struct{})
	ex.Post(func() {
		ex.Post(func() {
			order = append(order, "inner")
			close(done)
		})
		order = append(order, "outer returned from Post")
	})
	waitFor(t, done, "the inner function")
	runOn(t, ex, func() {
		if strings.Join(order, ",") != "outer returned from Post,inner" {
			t.Errorf("order = %v", order)
		}
	})
}

// A halt is logged at error level and handed to the hook; the executor keeps working for a
// hook that returns.
func TestExecutorHaltCallsHook(t *testing.T) {
	logs := &lockedBuffer{}
	halted := make(chan error, 1)
	e := NewEnv("halt", Options{LogWriter: logs, LogLevel: env.LevelInfo, Halt: func(err error) { halted <- err }})
	ex := e.Exec.New("disk")
	cause := errors.New("fsync failed")
	ex.Post(func() { env.Halt(cause) })
	err := waitFor(t, halted, "the halt hook")
	if !errors.Is(err, cause) {
		t.Fatalf("halt hook got %v, want it to wrap %v", err, cause)
	}
	if got := logs.String(); !strings.Contains(got, "[ERR] executor disk: halt: fsync failed") {
		t.Fatalf("log = %q", got)
	}
	runOn(t, ex, func() {})
}

// Any other panic is not swallowed: it reaches the goroutine draining the executor (so a
// Post's drainer crashes the process, as an unrecovered panic should).
func TestExecutorRepanicsOtherPanics(t *testing.T) {
	e, logs := newTestEnv(t)
	ex := e.Exec.New("boom")
	var recovered any
	func() {
		defer func() { recovered = recover() }()
		postInline(ex, func() { panic("boom") }) // idle executor: this goroutine drains it
	}()
	if recovered != "boom" {
		t.Fatalf("recovered %v, want boom", recovered)
	}
	if !strings.Contains(logs.String(), "executor boom: panic: boom") {
		t.Fatalf("log = %q", logs.String())
	}
}

// Post must not run another executor's functions on the poster's goroutine: the poster may
// hold a lock those functions need.
func TestPostDoesNotRunInline(t *testing.T) {
	e, _ := newTestEnv(t)
	ex := e.Exec.New("other")
	var mu sync.Mutex
	done := make(chan struct{})
	mu.Lock()
	ex.Post(func() {
		mu.Lock() // would deadlock if run inline by the poster, which holds mu
		mu.Unlock()
		close(done)
	})
	mu.Unlock()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("posted function never ran")
	}
}
