package filestore

import (
	"testing"

	"github.com/petrel-io/petrel/core/env"
)

// TestRecoveryReport: with a rotten message record and a torn tail, the report lists every
// intact record as kept, the rotten one and the tail as dropped; kept and dropped regions
// tile the block; the tail is cut; each verdict's probe point fires once.
func TestRecoveryReport(t *testing.T) {
	h := newHarness(t, 21, Config{})
	fillAndClose(t, h, 5)
	original := mustRead(t, h, blockFile)
	before, err := CheckBlock(original)
	if err != nil {
		t.Fatal(err)
	}
	var second, lastOff int64 = -1, -1
	for off := int64(blockDataStart); off < int64(len(original)); {
		hdr, ok := parseHeader(original[off:], seedOf(mustHeader(t, original).salt))
		if !ok {
			break
		}
		if hdr.kind == kindMsg && hdr.seq == 2 {
			second = off
		}
		lastOff = off
		off += int64(hdr.length)
	}
	if second < 0 || lastOff < 0 {
		t.Fatalf("records not found: %+v", before)
	}
	damaged := append([]byte(nil), original[:lastOff+10]...) // torn inside the last record
	damaged[second+recordHeaderBytes+2] ^= 0x10              // rotten body of seq 2
	restoreFile(t, h, blockFile, damaged)

	var rep Recovery
	cfg := h.config()
	cfg.Recovered = func(r Recovery) { rep = r }
	st, err := OpenFile(h.e, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	dropped := map[int64]Damage{}
	for _, d := range rep.Dropped {
		dropped[d.Offset] = d
	}
	if d := dropped[second]; d.Kind != DamageCorrupt || d.Seq != 2 {
		t.Fatalf("rotten seq 2 at %d not reported: %v", second, rep.Dropped)
	}
	if d := dropped[lastOff]; d.Kind != DamageTornTail {
		t.Fatalf("torn tail at %d not reported: %v", lastOff, rep.Dropped)
	}
	p := int64(blockDataStart)
	for _, k := range rep.Kept {
		if k.Kind == "msg" && k.Seq == 2 {
			t.Fatalf("kept the rotten record: %+v", k)
		}
		if d, ok := dropped[p]; ok && d.Kind == DamageCorrupt {
			p += d.Length
		}
		if k.Offset != p {
			t.Fatalf("kept record at %d, want the next one at %d: %+v", k.Offset, p, rep)
		}
		p += k.Length
	}
	if p != lastOff {
		t.Fatalf("kept and dropped records end at %d, torn tail at %d", p, lastOff)
	}
	if after := mustRead(t, h, blockFile); int64(len(after)) != lastOff {
		t.Fatalf("block is %d bytes after recovery, want the tail cut at %d", len(after), lastOff)
	}
	cov := h.w.Coverage()
	for _, point := range []string{probeTornTail, probeRotten} {
		if cov[point] != 1 {
			t.Fatalf("probe %s hit %d times, want 1 (%v)", point, cov[point], cov)
		}
	}
	if _, err := st.LoadMsg(env.Seq(2)); err == nil {
		t.Fatal("rotten seq 2 served")
	}
}

func mustHeader(t *testing.T, data []byte) blockHeader {
	t.Helper()
	h, copies, err := parseBlockHeader(data)
	if copies == 0 {
		t.Fatal(err)
	}
	return h
}
