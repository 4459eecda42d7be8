package filestore

import (
	"testing"

	"github.com/petrel-io/petrel/core/env"
)

// TestDeletionDoesNotOutliveItsCause: a power loss keeps the commit record of an unsynced
// batch but loses the message before it whose arrival evicted an acknowledged one. The
// eviction must not be applied: the acknowledged message stays.
func TestDeletionDoesNotOutliveItsCause(t *testing.T) {
	h := newHarness(t, 33, Config{Limits: Limits{MaxMsgsPerSubject: 1}})
	st := h.openFile()
	h.mustStore(st, "a", "first")
	h.gate.held = true
	st.Store("a", nil, []byte("second"), StoreOpts{}, func(env.Seq, error) {})
	h.settle()
	data, err := h.n.Disk.ReadFile(blockFile)
	if err != nil {
		t.Fatal(err)
	}
	h.crash(true)
	hdr, _, _ := parseBlockHeader(data)
	lost := false
	for _, rec := range scanRecords(data, seedOf(hdr.salt), hdr.id).records {
		if rec.hdr.kind == kindMsg && rec.hdr.seq == 2 {
			clear(data[rec.off : rec.off+int64(rec.hdr.length)])
			lost = true
		}
	}
	if !lost {
		t.Fatal("the second message was not on disk")
	}
	restoreFile(t, h, blockFile, data)
	st = h.openFile()
	if m, err := st.LoadMsg(1); err != nil || string(m.Data) != "first" {
		t.Fatalf("acknowledged seq 1 after its evictor was lost: %v", err)
	}
	if _, err := st.LoadMsg(2); err == nil {
		t.Fatal("seq 2 served although its record was lost")
	}
	// The next open starts a new chain: deletions logged after it apply again.
	h.mustStore(st, "a", "third")
	h.crash(false)
	st = h.openFile()
	if _, err := st.LoadMsg(1); err == nil {
		t.Fatal("seq 1 still there after a durable eviction")
	}
}

// TestChainStartCountsMessagesReadAtOpen: a batch's commit records were lost but its message
// survived; the first commit after the reopen counts that message among its own, so a later
// recovery finds the chain whole and applies the deletions logged since.
func TestChainStartCountsMessagesReadAtOpen(t *testing.T) {
	h := newHarness(t, 34, Config{})
	st := h.openFile()
	h.mustStore(st, "a", "first")
	h.gate.held = true
	st.Store("a", nil, []byte("second"), StoreOpts{}, func(env.Seq, error) {})
	h.settle()
	data, err := h.n.Disk.ReadFile(blockFile)
	if err != nil {
		t.Fatal(err)
	}
	h.crash(true)
	hdr, _, _ := parseBlockHeader(data)
	commits := 0
	for _, rec := range scanRecords(data, seedOf(hdr.salt), hdr.id).records {
		if rec.hdr.kind == kindCommit {
			if commits++; commits > 2 { // the second batch's two copies
				clear(data[rec.off : rec.off+int64(rec.hdr.length)])
			}
		}
	}
	restoreFile(t, h, blockFile, data)
	st = h.openFile()
	third := h.mustStore(st, "b", "third")
	if err := h.waitDone(func(done func(error)) error { return st.RemoveMsg(third, done) }); err != nil {
		t.Fatal(err)
	}
	h.mustStore(st, "b", "fourth")
	h.crash(false)
	st = h.openFile()
	if _, err := st.LoadMsg(third); err == nil {
		t.Fatal("a removal acknowledged after the reopen was undone")
	}
	if m, err := st.LoadMsg(2); err != nil || string(m.Data) != "second" {
		t.Fatalf("seq 2, read at the first reopen: %v", err)
	}
}

// TestCommitChainFollow: the reading rules, link by link.
func TestCommitChainFollow(t *testing.T) {
	type step struct {
		msgs  int
		link  commitLink
		apply bool
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"whole", []step{{1, commitLink{1, true, 1}, true}, {0, commitLink{1, true, 1}, true}, {2, commitLink{2, false, 2}, true}}},
		{"message lost", []step{{1, commitLink{1, true, 1}, true}, {1, commitLink{2, false, 2}, false}, {0, commitLink{3, false, 0}, false}}},
		{"commit lost", []step{{1, commitLink{1, true, 1}, true}, {1, commitLink{3, false, 1}, false}}},
		{"start heals", []step{{0, commitLink{4, false, 0}, true}, {3, commitLink{6, false, 1}, false}, {2, commitLink{7, true, 2}, true}, {0, commitLink{8, false, 0}, true}}},
		{"start missing a message", []step{{1, commitLink{4, false, 1}, true}, {1, commitLink{5, true, 2}, false}, {0, commitLink{6, false, 0}, false}}},
		{"first read unchecked", []step{{7, commitLink{9, false, 2}, true}}},
	} {
		var c commitChain
		for i, s := range tc.steps {
			for range s.msgs {
				c.logged()
			}
			if got := c.follow(s.link); got != s.apply {
				t.Fatalf("%s: step %d: apply=%v, want %v", tc.name, i, got, s.apply)
			}
		}
	}
}

// TestCommitBodyRoundTrip: links and ranges survive encoding.
func TestCommitBodyRoundTrip(t *testing.T) {
	for _, l := range []commitLink{{1, true, 0}, {77, false, 12345}} {
		body, rest := encodeCommitBody(l, []uint64{3, 4, 5, 9})
		got, ranges, err := decodeCommitBody(body)
		if err != nil || got != l || len(rest) != 0 {
			t.Fatalf("link %+v: got %+v, %v", l, got, err)
		}
		var seqs []uint64
		if err := decodeDeleteBody(ranges, func(first, last uint64) {
			for s := first; s <= last; s++ {
				seqs = append(seqs, s)
			}
		}); err != nil || len(seqs) != 4 {
			t.Fatalf("ranges: %v %v", seqs, err)
		}
	}
	if _, _, err := decodeCommitBody([]byte{0, 0}); err == nil {
		t.Fatal("index 0 accepted")
	}
}
