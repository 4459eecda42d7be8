package filestore

import (
	"errors"
	"testing"
)

// TestStoreReopen: messages stored and acknowledged come back, byte for byte, after a clean
// close and after a power loss, across several blocks.
func TestStoreReopen(t *testing.T) {
	h := newHarness(t, 1, Config{BlockBytes: 1024})
	st := h.openFile()
	for i := 0; i < 50; i++ {
		seq := h.mustStore(st, "a.b", "hello "+itoa(uint64(i)))
		if seq != envSeq(i+1) {
			t.Fatalf("seq %d, want %d", seq, i+1)
		}
	}
	check := func(st Store) {
		t.Helper()
		state := st.State()
		if state.Msgs != 50 || state.FirstSeq != 1 || state.LastSeq != 50 {
			t.Fatalf("state %+v", state)
		}
		for i := 0; i < 50; i++ {
			m, err := st.LoadMsg(envSeq(i + 1))
			if err != nil {
				t.Fatalf("load %d: %v", i+1, err)
			}
			if m.Subject != "a.b" || string(m.Data) != "hello "+itoa(uint64(i)) {
				t.Fatalf("load %d: %+v", i+1, m)
			}
		}
	}
	check(st)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = h.openFile()
	check(st)
	h.crash(true)
	st = h.openFile()
	check(st)
	if d := st.Damage(); len(d) != 0 {
		t.Fatalf("damage after clean runs: %v", d)
	}
	if _, err := st.LoadMsg(51); !errors.Is(err, ErrNotFound) {
		t.Fatalf("load 51: %v", err)
	}
}
