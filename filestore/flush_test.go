package filestore

import (
	"errors"
	"slices"
	"testing"

	"github.com/petrel-io/petrel/core/env"
)

// Flush completes at once on a quiescent store, behind every earlier mutation's completion
// otherwise, and with the error when the write it waited behind failed.
func TestFlush(t *testing.T) {
	for _, kind := range []string{"file", "memory"} {
		t.Run(kind, func(t *testing.T) {
			h := newHarness(t, 1, Config{})
			st := h.openFile()
			if kind == "memory" {
				st = h.openMem()
			}
			h.mustStore(st, "a", "1")
			quiet := false
			st.Flush(func(err error) { quiet = err == nil })
			if !quiet {
				t.Fatal("Flush on a quiescent store did not complete at once")
			}
			var order []string
			st.Store("a", nil, []byte("2"), StoreOpts{}, func(_ env.Seq, err error) { order = append(order, "store") })
			st.Flush(func(err error) { order = append(order, "flush") })
			if len(order) != 0 {
				t.Fatalf("completions ran inside the calls: %v", order)
			}
			h.settle()
			if !slices.Equal(order, []string{"store", "flush"}) {
				t.Fatalf("completion order %v, want the store's first", order)
			}
			if kind == "memory" {
				return
			}
			h.n.Disk.FailNext("write", errors.New("injected EIO"))
			st.Store("a", nil, []byte("3"), StoreOpts{}, func(env.Seq, error) {})
			var flushed error
			st.Flush(func(err error) { flushed = err })
			h.settle()
			if !errors.Is(flushed, ErrFailed) {
				t.Fatalf("Flush behind a failed write: %v, want ErrFailed", flushed)
			}
		})
	}
}
