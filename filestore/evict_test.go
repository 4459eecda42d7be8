package filestore

import (
	"testing"

	"github.com/petrel-io/petrel/core/env"
)

// TestDeletionDoesNotOutliveItsCause: a power loss keeps part of an unsynced batch: the
// record of the message whose arrival evicted an acknowledged one is lost, or torn (framed,
// failing its checksum), while what follows it survives. The eviction must not survive its
// cause: the acknowledged message stays.
func TestDeletionDoesNotOutliveItsCause(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(rec []byte)
	}{
		{"lost", func(rec []byte) { clear(rec) }},
		{"torn", func(rec []byte) { clear(rec[len(rec)/2:]) }},
	} {
		h := newHarness(t, 33, Config{Limits: Limits{MaxMsgsPerSubject: 1}})
		st := h.openFile()
		h.mustStore(st, "a", "first")
		h.gate.held = true
		st.Store("a", nil, []byte("second, long enough to tear"), StoreOpts{}, func(env.Seq, error) {})
		st.Store("b", nil, []byte("other"), StoreOpts{}, func(env.Seq, error) {}) // more log after the cause
		h.settle()
		data, err := h.n.Disk.ReadFile(blockFile)
		if err != nil {
			t.Fatal(err)
		}
		h.crash(true)
		hdr, _, _ := parseBlockHeader(data)
		damaged := false
		for _, rec := range scanRecords(data, seedOf(hdr.salt), hdr.id).records {
			if rec.hdr.kind == kindMsg && rec.hdr.seq == 2 {
				tc.damage(data[rec.off : rec.off+int64(rec.hdr.length)])
				damaged = true
			}
		}
		if !damaged {
			t.Fatalf("%s: the second message was not on disk", tc.name)
		}
		restoreFile(t, h, blockFile, data)
		st = h.openFile()
		if m, err := st.LoadMsg(1); err != nil || string(m.Data) != "first" {
			t.Fatalf("%s: acknowledged seq 1 after its evictor was lost: %v", tc.name, err)
		}
		if _, err := st.LoadMsg(2); err == nil {
			t.Fatalf("%s: seq 2 served although its record was damaged", tc.name)
		}
		// An eviction made after the reopen takes effect, and a close right after it logs it
		// (once its cause is durable), so raised limits do not bring the message back.
		st.Store("a", nil, []byte("fourth"), StoreOpts{}, func(env.Seq, error) {})
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		h.cfg.Limits = Limits{}
		st = h.openFile()
		if _, err := st.LoadMsg(1); err == nil {
			t.Fatalf("%s: seq 1 back after its eviction, a clean close and raised limits", tc.name)
		}
	}
}
